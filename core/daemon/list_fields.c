/* `vigild --list-fields [TYPE]`: the catalogue of event types and their
 * fields (lib/evcat.h), as `falco --list` prints Falco's. */
#include <stdio.h>

#include "daemon.h"
#include "evcat.h"
#include "evtype.h"

struct listing {
    FILE *out;
    const char *pattern;
    int shown;
};

static void show(void *arg, const vg_evcat_type *t)
{
    struct listing *l = arg;
    if (l->pattern && !vg_type_glob_match(l->pattern, t->name))
        return;
    fprintf(l->out, "%s%s (%s): %s\n  fields: %s\n", l->shown ? "\n" : "", t->name, t->source,
            t->what, t->fields ? t->fields : "(not declared: events of this type are not strict)");
    l->shown++;
}

int vg_daemon_list_fields(const char *pattern, FILE *out)
{
    struct listing l = {.out = out, .pattern = pattern};
    if (!pattern)
        fprintf(out, "Every event has the header fields: " VG_EVCAT_HEADER "\n\n");
    vg_evcat_each(show, &l);
    if (l.shown)
        return 0;
    char near[160];
    vg_evcat_nearest_type(pattern, near, sizeof(near));
    fprintf(stderr, "vigild: no event type '%s'%s%s%s\n", pattern, *near ? " (nearest: " : "", near,
            *near ? ")" : "");
    return -1;
}
