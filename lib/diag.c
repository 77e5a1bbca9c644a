/* Collected problem messages; see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>

void vg_diag_add(vg_diag *d, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char **msgs = realloc(d->msgs, (d->n + 1) * sizeof(*msgs));
    if (!msgs) {
        free(msg);
        return;
    }
    msgs[d->n++] = msg;
    d->msgs = msgs;
}

void vg_diag_print(const vg_diag *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(out, "%s\n", d->msgs[i]);
}

void vg_diag_free(vg_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->n = 0;
}
