/*
 * execfile on real files of this host: a dynamically linked program names
 * its loader, busybox-static names none, the loader itself is a loader, a
 * script names its interpreter, and a cut "#!" line names nothing.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "execfile.h"

static execfile of_file(const char *path)
{
    execfile ef;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(execfile_read(fd, &ef), 0);
    close(fd);
    return ef;
}

static void test_real_programs(void **state)
{
    execfile ef = of_file("/bin/ls");
    assert_int_equal(ef.kind, EXECFILE_ELF_INTERP);
    assert_string_equal(ef.interp, "/lib64/ld-linux-x86-64.so.2");
    assert_true(execfile_wants_interp(&ef));
    assert_false(execfile_is_loader(&ef, "/usr/bin/ls"));

    ef = of_file("/bin/busybox");
    assert_int_equal(ef.kind, EXECFILE_ELF);
    assert_string_equal(ef.interp, "");
    assert_false(execfile_wants_interp(&ef));
    assert_false(execfile_is_loader(&ef, "/bin/busybox"));

    char loader[4096];
    ssize_t n = readlink("/lib64/ld-linux-x86-64.so.2", loader, sizeof(loader) - 1);
    assert_true(n > 0);
    loader[n] = '\0';
    ef = of_file("/lib64/ld-linux-x86-64.so.2");
    assert_int_equal(ef.kind, EXECFILE_ELF);
    assert_true(ef.shared);
    assert_true(execfile_is_loader(&ef, loader));
    assert_true(execfile_is_loader(&ef, "/lib/libc.musl-x86_64.so.1"));
}

static void test_scripts(void **state)
{
    execfile ef;
    const char *sh = "#!/bin/sh -e\necho hi\n";
    execfile_parse((const uint8_t *)sh, strlen(sh), &ef);
    assert_int_equal(ef.kind, EXECFILE_SCRIPT);
    assert_string_equal(ef.interp, "/bin/sh");
    const char *spaced = "#! \t/usr/bin/env python3\n";
    execfile_parse((const uint8_t *)spaced, strlen(spaced), &ef);
    assert_string_equal(ef.interp, "/usr/bin/env");
    /* The line goes on past what was read: the name may be cut. */
    const char *cut = "#!/usr/bin/pyth";
    execfile_parse((const uint8_t *)cut, strlen(cut), &ef);
    assert_int_equal(ef.kind, EXECFILE_SCRIPT);
    assert_string_equal(ef.interp, "");
    const char *text = "echo hi\n";
    execfile_parse((const uint8_t *)text, strlen(text), &ef);
    assert_int_equal(ef.kind, EXECFILE_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_programs),
        cmocka_unit_test(test_scripts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
