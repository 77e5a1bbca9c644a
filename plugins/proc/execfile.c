/* Classifying an executable by its first bytes; see execfile.h. */
#include "execfile.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The "#!" line: the interpreter is its first word (the kernel's
 * binfmt_script reads the same way: blanks, then up to a blank or the end
 * of the line). */
static void parse_script(const uint8_t *buf, size_t len, execfile *out)
{
    size_t i = 2;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t start = i;
    while (i < len && buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\0')
        i++;
    out->kind = EXECFILE_SCRIPT;
    /* A line longer than what was read is cut: the interpreter is then not
     * known for sure, so it is not named. */
    if (i == len || i - start >= sizeof(out->interp))
        return;
    memcpy(out->interp, buf + start, i - start);
    out->interp[i - start] = '\0';
}

/* An offset and size that lie within len bytes, without overflow. */
static bool within(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= len - off;
}

static void parse_elf64(const uint8_t *buf, size_t len, execfile *out)
{
    Elf64_Ehdr eh;
    if (len < sizeof(eh))
        return;
    memcpy(&eh, buf, sizeof(eh));
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        return;
    out->kind = EXECFILE_ELF;
    out->shared = eh.e_type == ET_DYN;
    if (eh.e_phentsize != sizeof(Elf64_Phdr))
        return;
    for (uint64_t i = 0; i < eh.e_phnum; i++) {
        uint64_t off = eh.e_phoff + i * sizeof(Elf64_Phdr);
        if (off < eh.e_phoff || !within(off, sizeof(Elf64_Phdr), len))
            return; /* program headers beyond the head: as far as known */
        Elf64_Phdr ph;
        memcpy(&ph, buf + off, sizeof(ph));
        if (ph.p_type != PT_INTERP)
            continue;
        out->kind = EXECFILE_ELF_INTERP;
        /* The name ends with its NUL within the segment. */
        if (!within(ph.p_offset, ph.p_filesz, len) || ph.p_filesz < 2 ||
            ph.p_filesz > sizeof(out->interp))
            return;
        const char *s = (const char *)buf + ph.p_offset;
        if (s[ph.p_filesz - 1] != '\0' || strlen(s) != ph.p_filesz - 1)
            return;
        memcpy(out->interp, s, ph.p_filesz);
        return;
    }
}

void execfile_parse(const uint8_t *buf, size_t len, execfile *out)
{
    memset(out, 0, sizeof(*out));
    if (len >= 2 && buf[0] == '#' && buf[1] == '!') {
        parse_script(buf, len, out);
        return;
    }
    /* Only 64-bit little-endian ELF is understood (x86-64, arm64); other
     * ELF is OTHER: never a loader, never wanting one. */
    if (len >= EI_NIDENT && memcmp(buf, ELFMAG, SELFMAG) == 0 && buf[EI_CLASS] == ELFCLASS64 &&
        buf[EI_DATA] == ELFDATA2LSB)
        parse_elf64(buf, len, out);
}

int execfile_read(int fd, execfile *out)
{
    uint8_t buf[EXECFILE_HEAD];
    ssize_t n = pread(fd, buf, sizeof(buf), 0);
    if (n < 0) {
        memset(out, 0, sizeof(*out));
        return -errno;
    }
    execfile_parse(buf, (size_t)n, out);
    return 0;
}

bool execfile_is_loader(const execfile *ef, const char *path)
{
    if (ef->kind != EXECFILE_ELF || !ef->shared)
        return false;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    return strncmp(base, "ld-", 3) == 0 || strncmp(base, "ld.so", 5) == 0 ||
           strncmp(base, "libc.musl-", 10) == 0;
}
