/*
 * Reading whole files (lib/readfile.c), as the config and policy loaders
 * do: the bytes come back whole and NUL-terminated from a regular file and
 * from a pipe (whose size is not known ahead), up to the limit and not a
 * byte past it, and a directory is an error, not an empty file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "readfile.h"

#define MAX 100000

/* n bytes that differ from one offset to the next, so that a misplaced
 * chunk shows. */
static char *pattern(size_t n)
{
    char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + i / 251) % 26);
    return p;
}

static int temp_file(const char *data, size_t n)
{
    char path[] = "/tmp/vg-readfile-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* After a successful read: the n bytes of data, and a NUL after them. */
static void expect_bytes(const char *buf, size_t len, const char *data, size_t n)
{
    assert_int_equal(len, n);
    assert_memory_equal(buf, data, n);
    assert_int_equal(buf[n], '\0');
}

/* Reads a regular file of n bytes; returns vg_read_fd's result. */
static int read_regular(size_t n)
{
    char *data = pattern(n);
    int fd = temp_file(data, n);
    char *buf = NULL;
    size_t len = 12345;
    int rc = vg_read_fd(fd, MAX, &buf, &len);
    if (rc == 0) {
        expect_bytes(buf, len, data, n);
    } else {
        assert_null(buf); /* untouched */
        assert_int_equal(len, 12345);
    }
    free(buf);
    free(data);
    close(fd);
    return rc;
}

static void test_regular_files_up_to_the_limit(void **state)
{
    assert_int_equal(read_regular(0), 0);
    assert_int_equal(read_regular(1), 0);
    assert_int_equal(read_regular(4097), 0);
    assert_int_equal(read_regular(MAX), 0);
    assert_int_equal(read_regular(MAX + 1), -EFBIG);
    assert_int_equal(read_regular(3 * MAX), -EFBIG);
}

struct feeder {
    int fd;
    const char *data;
    size_t n;
};

static void *feed(void *arg)
{
    struct feeder *f = arg;
    /* A write into a pipe whose reader has gone fails; that ends it. */
    for (size_t off = 0; off < f->n;) {
        ssize_t w = write(f->fd, f->data + off, f->n - off < 1000 ? f->n - off : 1000);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* Reads n bytes written into a pipe in small pieces by another thread. */
static int read_pipe(size_t n)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char *data = pattern(n);
    struct feeder f = {p[1], data, n};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed, &f), 0);
    char *buf = NULL;
    size_t len = 0;
    int rc = vg_read_fd(p[0], MAX, &buf, &len);
    close(p[0]);
    pthread_join(t, NULL);
    if (rc == 0)
        expect_bytes(buf, len, data, n);
    free(buf);
    free(data);
    return rc;
}

static void test_pipes_grow_the_buffer(void **state)
{
    assert_int_equal(read_pipe(0), 0);
    assert_int_equal(read_pipe(10), 0);
    assert_int_equal(read_pipe(70000), 0);
    assert_int_equal(read_pipe(MAX), 0);
    assert_int_equal(read_pipe(MAX + 1), -EFBIG);
}

static void test_a_directory_is_an_error(void **state)
{
    int fd = open("/", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(vg_read_fd(fd, MAX, &buf, &len), -EISDIR);
    assert_null(buf);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_files_up_to_the_limit),
        cmocka_unit_test(test_pipes_grow_the_buffer),
        cmocka_unit_test(test_a_directory_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
