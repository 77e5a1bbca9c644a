/* Which events are not stored (the store_skip setting); see store_skip.h. */
#include "store_skip.h"

#include "evtype.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum decision { UNDECIDED = 0, STORE, SKIP };

struct vg_store_skip {
    char **patterns; /* NULL-terminated copy of the list */
    size_t n;
    uint8_t decision[VG_EVENT_TYPES_MAX]; /* enum decision per type id */
    uint64_t skipped[VG_EVENT_TYPES_MAX];
    uint64_t total;
    uint64_t lost[VG_EVENT_TYPES_MAX]; /* meant to be stored, but could not be */
    uint64_t lost_total;
};

/* True when every type the pattern matches is always stored: the pattern
 * names one exactly, or the text after its last '*' ends in a protected
 * suffix ("*.violation", "net.*.incident"). */
static bool only_protected(const char *pattern)
{
    const char *star = strrchr(pattern, '*');
    if (!star)
        return vg_type_always_stored(pattern);
    return vg_type_has_stored_suffix(star + 1);
}

int vg_store_skip_check_pattern(const char *pattern, char *err, size_t errlen)
{
    size_t len = pattern ? strlen(pattern) : 0;
    const char *msg = NULL;
    if (len == 0)
        msg = "must not be empty";
    else if (len >= VG_EVENT_TYPE_NAME_MAX)
        msg = "is longer than an event type can be";
    else if (strspn(pattern, "*.") == len)
        msg = "would skip every event type; name the types, or use a narrower glob such as "
              "\"*.stats\"";
    else if (only_protected(pattern))
        msg = "can only match events that are always stored (violations, incidents, "
              "policy.error, response.done)";
    for (size_t i = 0; !msg && i < len; i++)
        if ((unsigned char)pattern[i] <= ' ' || pattern[i] == 0x7f)
            msg = "contains a blank or a control character, which event types do not have";
    if (!msg)
        return 0;
    if (len >= VG_EVENT_TYPE_NAME_MAX)
        snprintf(err, errlen, "%s (%d bytes)", msg, VG_EVENT_TYPE_NAME_MAX - 1);
    else
        snprintf(err, errlen, "%s", msg);
    return -EINVAL;
}

int vg_store_skip_new(vg_store_skip **out)
{
    if (!out)
        return -EINVAL;
    vg_store_skip *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    *out = s;
    return 0;
}

static void free_patterns(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

void vg_store_skip_free(vg_store_skip *s)
{
    if (!s)
        return;
    free_patterns(s->patterns);
    free(s);
}

int vg_store_skip_set(vg_store_skip *s, const char *const *patterns)
{
    if (!s)
        return -EINVAL;
    size_t n = 0;
    char err[160];
    for (; patterns && patterns[n]; n++)
        if (n >= VG_STORE_SKIP_MAX || vg_store_skip_check_pattern(patterns[n], err, sizeof(err)))
            return -EINVAL;
    char **copy = calloc(n + 1, sizeof(*copy));
    for (size_t i = 0; copy && i < n; i++) {
        if (!(copy[i] = strdup(patterns[i]))) {
            free_patterns(copy);
            copy = NULL;
        }
    }
    if (!copy)
        return -ENOMEM;
    free_patterns(s->patterns);
    s->patterns = copy;
    s->n = n;
    /* Every type is judged again against the new list. */
    memset(s->decision, UNDECIDED, sizeof(s->decision));
    return 0;
}

static enum decision decide(const vg_store_skip *s, int type)
{
    const char *name = vg_event_type_name(type);
    if (!name || vg_type_always_stored(name))
        return STORE;
    for (size_t i = 0; i < s->n; i++)
        if (vg_type_glob_match(s->patterns[i], name))
            return SKIP;
    return STORE;
}

bool vg_store_skip_important(const vg_event *ev)
{
    /* A warning or worse is a finding, whatever its type. */
    const char *name = vg_event_type_name(ev->type);
    return ev->severity >= VG_SEV_WARNING || !name || vg_type_always_stored(name);
}

bool vg_store_skip_event(vg_store_skip *s, const vg_event *ev)
{
    if (!s || s->n == 0 || ev->type >= VG_EVENT_TYPES_MAX || ev->severity >= VG_SEV_WARNING)
        return false;
    if (s->decision[ev->type] == UNDECIDED)
        s->decision[ev->type] = (uint8_t)decide(s, ev->type);
    if (s->decision[ev->type] != SKIP)
        return false;
    s->skipped[ev->type]++;
    s->total++;
    return true;
}

uint64_t vg_store_skip_count(const vg_store_skip *s, int type)
{
    return s && type >= 0 && type < VG_EVENT_TYPES_MAX ? s->skipped[type] : 0;
}

uint64_t vg_store_skip_total(const vg_store_skip *s)
{
    return s ? s->total : 0;
}

void vg_store_skip_lost(vg_store_skip *s, const vg_event *ev)
{
    if (!s || ev->type >= VG_EVENT_TYPES_MAX)
        return;
    s->lost[ev->type]++;
    s->lost_total++;
}

uint64_t vg_store_skip_lost_count(const vg_store_skip *s, int type)
{
    return s && type >= 0 && type < VG_EVENT_TYPES_MAX ? s->lost[type] : 0;
}

uint64_t vg_store_skip_lost_total(const vg_store_skip *s)
{
    return s ? s->lost_total : 0;
}
