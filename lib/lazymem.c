/* Large zeroed tables that cost memory page by page (lazymem.h). */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lazymem.h"

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

/* The mapping of a table of bytes: whole pages, the guard page last. The
 * table ends where the guard begins, so it starts bytes before that (an
 * element's alignment divides the page size and the table's size). */
static size_t mapping_len(size_t bytes, size_t page)
{
    return (bytes + page - 1) / page * page + page;
}

void *vg_lazy_calloc(size_t n, size_t size)
{
    if (n && size > SIZE_MAX / 2 / n) {
        errno = ENOMEM;
        return NULL;
    }
    size_t page = page_size(), bytes = n * size, len = mapping_len(bytes, page);
    uint8_t *m =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    (void)madvise(m, len, MADV_NOHUGEPAGE); /* best effort: THP may be off */
    if (mprotect(m + len - page, page, PROT_NONE) < 0) {
        int e = errno;
        munmap(m, len);
        errno = e;
        return NULL;
    }
    return m + len - page - bytes;
}

static uint8_t *mapping_of(void *p, size_t bytes, size_t page, size_t *len)
{
    *len = mapping_len(bytes, page);
    return (uint8_t *)p + bytes + page - *len;
}

void vg_lazy_free(void *p, size_t n, size_t size)
{
    if (!p)
        return;
    size_t len;
    uint8_t *m = mapping_of(p, n * size, page_size(), &len);
    munmap(m, len);
}

void vg_lazy_zero(void *p, size_t n, size_t size)
{
    if (!p)
        return;
    size_t page = page_size(), len;
    uint8_t *m = mapping_of(p, n * size, page, &len);
    /* Private anonymous pages read as zeroes after MADV_DONTNEED. */
    (void)madvise(m, len - page, MADV_DONTNEED);
}
