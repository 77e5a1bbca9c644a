/*
 * Large files in segments: a file above VG__SEC_SEGMENT is never held
 * whole (a 2 GiB member of an image once took 2.3 GB of memory). It is
 * read into one buffer of a segment plus its overlap, scanned, and the
 * buffer's tail is kept as the start of the next one:
 *
 *   buffer k:    [ ... OVERLAP | OVERLAP ]      owns [own_from, len - OVERLAP)
 *   buffer k+1:  [ OVERLAP | OVERLAP | new bytes ... ]  owns from OVERLAP
 *
 * so every finding belongs to exactly one buffer (the one where it starts
 * in the owned range) and that buffer holds at least OVERLAP bytes on both
 * sides of its start: the context a keyword rule looks back for, and a
 * multi-line secret (a private key) whole. OVERLAP is larger than any
 * rule's window and the line limit of the precise check.
 *
 * The time limit is checked between segments (and inside each one, by the
 * scan itself), so --timeout holds however large the file is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_int.h"

#define OVERLAP ((size_t)64 << 10)
#define CAP (VG__SEC_SEGMENT + 2 * OVERLAP)

/* Fills buf[*n, want) from rd; *eof when rd said the end. */
static int fill(vg__sec_read_fn rd, void *arg, char *buf, size_t *n, size_t want, bool *eof)
{
    while (*n < want) {
        long r = rd(arg, buf + *n, want - *n);
        if (r < 0)
            return (int)r;
        if (r == 0) {
            *eof = true;
            return 0;
        }
        *n += (size_t)r;
    }
    return 0;
}

int vg__sec_scan_stream(vg_sec_scanner *s, const vg__sec_ctx *ctx, vg__sec_read_fn rd, void *arg,
                        const char *head, size_t nhead)
{
    if (s->bufcap < CAP) {
        char *nb = realloc(s->buf, CAP);
        if (!nb)
            return -ENOMEM;
        s->buf = nb;
        s->bufcap = CAP;
    }
    if (nhead > CAP)
        return -EINVAL;
    if (nhead)
        memmove(s->buf, head, nhead);
    size_t n = nhead, own_from = 0;
    uint64_t total = nhead, max = s->lim.max_file_bytes;
    unsigned line_base = 1;
    bool eof = false, first = true;
    int rc = 0;
    for (;;) {
        size_t want = CAP;
        if (total + (want - n) > max) /* the limit holds as the file grows */
            want = n + (size_t)(max - total);
        size_t before = n;
        rc = fill(rd, arg, s->buf, &n, want, &eof);
        total += n - before;
        if (rc < 0)
            break;
        eof = eof || n < CAP;
        size_t own_to = eof ? n : n - OVERLAP;
        rc = vg__sec_scan_segment(s, ctx, s->buf, n, own_from, own_to, line_base, first);
        if (rc != 0 || eof)
            break;
        /* Keep two overlaps: the context before the next owned byte, and
         * the bytes this buffer left to the next one. */
        size_t keep = 2 * OVERLAP, drop = n - keep;
        line_base += vg__sec_count_newlines(s->buf, drop);
        memmove(s->buf, s->buf + drop, keep);
        n = keep;
        own_from = OVERLAP;
        first = false;
        if (vg__sec_over_limit(s)) {
            rc = -ECANCELED;
            break;
        }
    }
    return rc > 0 ? 0 : rc;
}
