/* Reading a whole file; see readfile.h. */
#include "readfile.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNKNOWN_SIZE_START 4096

/* What to allocate first: the file's size and one byte (the byte tells a
 * file that grew since fstat, or one larger than max), or, when the size
 * is not known (a pipe), a page that doubles as needed. */
static size_t first_capacity(int fd, size_t max)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        return (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
    return UNKNOWN_SIZE_START < max ? UNKNOWN_SIZE_START : max + 1;
}

int vg_read_fd(int fd, size_t max, char **buf, size_t *len)
{
    size_t cap = first_capacity(fd, max), n = 0;
    char *b = malloc(cap + 1); /* and the NUL */
    if (!b)
        return -ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(b);
                return -EFBIG;
            }
            size_t ncap = cap > max / 2 ? max + 1 : cap * 2;
            char *nb = realloc(b, ncap + 1);
            if (!nb) {
                free(b);
                return -ENOMEM;
            }
            b = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = -errno;
            free(b);
            return rc;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}
