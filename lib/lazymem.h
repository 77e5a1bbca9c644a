/*
 * Large zeroed tables whose pages cost memory only once they are written.
 *
 * Why not calloc: glibc serves a large calloc with a fresh mmap (untouched
 * zero pages) only while the request is above its dynamic mmap threshold,
 * and the threshold rises to the size of any mmapped block that is freed
 * (up to 32 MiB). After that, the same calloc comes from the heap and is
 * zeroed there, so every page of the table is touched at once: a table
 * sized for the worst case costs its whole size from the start.
 *
 * Here each table is its own anonymous private mapping (MAP_NORESERVE,
 * transparent huge pages refused, so that the first write to a slot costs
 * one page and not 2 MiB), ended by an inaccessible guard page right after
 * its last byte, so that a write past the end faults at once.
 */
#ifndef VG_LAZYMEM_H
#define VG_LAZYMEM_H

#include <stddef.h>

/* n zeroed elements of size bytes, or NULL (errno set). The table belongs
 * to the caller, who gives it back with vg_lazy_free(p, n, size). */
void *vg_lazy_calloc(size_t n, size_t size);
void vg_lazy_free(void *p, size_t n, size_t size);
/* Gives the pages of the whole table back: it reads as zeroes again and
 * costs no memory until written. */
void vg_lazy_zero(void *p, size_t n, size_t size);

#endif
