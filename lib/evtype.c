/* Event type names: globs and the types that are always stored; see evtype.h. */
#include "evtype.h"

#include <stdbool.h>
#include <string.h>

/* What a user searches the history for after an incident. The suffixes
 * cover the violations of every plane (proc, file, net, policy) and the
 * incidents the shipped policy raises, also those of planes added later. */
static const char *const protected_types[] = {"policy.error", "response.done", NULL};
static const char *const stored_suffixes[] = {".violation", ".incident", NULL};

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t sl = strlen(suffix);
    return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

bool vg_type_always_stored(const char *type)
{
    for (size_t i = 0; protected_types[i]; i++)
        if (strcmp(type, protected_types[i]) == 0)
            return true;
    return vg_type_has_stored_suffix(type);
}

bool vg_type_has_stored_suffix(const char *s)
{
    for (size_t i = 0; stored_suffixes[i]; i++)
        if (ends_with(s, strlen(s), stored_suffixes[i]))
            return true;
    return false;
}

/* Iterative, with one backtracking point (the last '*' seen): a later star
 * can always take over what an earlier one would have matched, so the
 * match costs at most len(pattern) * len(type) steps and never recurses. */
bool vg_type_glob_match(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
