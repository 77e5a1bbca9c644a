/* Shared between rules.c (the index) and rules_pack.c (names, checks and
 * the msgpack form); not for other files. */
#ifndef VG_RULES_INT_H
#define VG_RULES_INT_H

/* Private to core/rules/: the build defines VG_CORE_MODULE_RULES for that
 * folder's files only, so that any other file including this is an error. */
#ifndef VG_CORE_MODULE_RULES
#error "rules_int.h is private to core/rules/; use its public header"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"

/* Fields of a valid plane. */
int vg__rule_nfields(int plane);
/* "" and "*" match anything. */
bool vg__rule_is_wild(const char *f);
/* 0, or -EINVAL with why in err: a bad plane, action or origin, no group,
 * a field too long or containing \x1f. */
int vg__rule_check(const vg_rule *r, char *err, size_t errlen);

#endif
