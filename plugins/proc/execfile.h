/*
 * What kind of executable a file is, from its first bytes: what the kernel
 * will open next in the same execve. An ELF program with a PT_INTERP
 * segment (dynamically linked) makes the kernel open that interpreter (the
 * loader, ld-linux-x86-64.so.2); a script starting with "#!" makes it open
 * the interpreter named there. Both opens are exec opens of their own
 * (FAN_OPEN_EXEC, FAN_OPEN_EXEC_PERM), which the proc plugin ties to the
 * exec that caused them.
 *
 * The bytes come from files of containers: untrusted. Parsing never reads
 * past the buffer it is given (tests/fuzz/fuzz_execfile.c).
 */
#ifndef PROC_EXECFILE_H
#define PROC_EXECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How much of a file execfile_read looks at: the ELF header, its program
 * headers and PT_INTERP lie within it in every linker's output seen. */
#define EXECFILE_HEAD 4096

enum execfile_kind {
    EXECFILE_OTHER = 0,  /* not ELF, not a script (binfmt_misc, or garbage) */
    EXECFILE_ELF,        /* an ELF program without PT_INTERP: static, or a loader */
    EXECFILE_ELF_INTERP, /* an ELF program with PT_INTERP: interp names its loader */
    EXECFILE_SCRIPT,     /* "#!": interp names its interpreter */
};

typedef struct execfile {
    int kind;         /* enum execfile_kind */
    bool shared;      /* ELF of type ET_DYN (a PIE, a library or a loader) */
    char interp[256]; /* PT_INTERP or the "#!" interpreter; "" when none or
                         not within the bytes given */
} execfile;

/* Classifies the first `len` bytes of a file. Never fails: what is not
 * understood is EXECFILE_OTHER. */
void execfile_parse(const uint8_t *buf, size_t len, execfile *out);

/* Reads the head of the open file fd (pread, the offset is not moved) and
 * classifies it. 0, or a negative errno from pread. */
int execfile_read(int fd, execfile *out);

/* Whether an ELF file that is not itself dynamically linked is a dynamic
 * loader, by its name: "ld-*.so*", "ld.so*", or musl's "libc.musl-*" and
 * "ld-musl-*" (musl's loader is its libc). path is the file's, resolved. */
bool execfile_is_loader(const execfile *ef, const char *path);

/* Whether the kernel must open another file after this one in the same
 * execve: a script's interpreter or a dynamic program's loader. */
static inline bool execfile_wants_interp(const execfile *ef)
{
    return ef->kind == EXECFILE_SCRIPT || ef->kind == EXECFILE_ELF_INTERP;
}

#endif
