/*
 * Rules as text people keep in git: a Lua policy file made of calls
 *
 *   vigil.rule{ group = "web", plane = "proc", name = "curl",
 *               path = "/usr/bin/curl", user = "*", action = "allow",
 *               comment = "..." }
 *
 * with exactly the keys group, plane, action (allow or deny, default
 * allow), comment (optional) and the plane's field names from
 * vg_rule_field_names() (each optional, default "*"). The policy engine's
 * vigil.rule{} takes the same keys, so an exported file is also a policy
 * file.
 */
#ifndef VG_RULES_IO_H
#define VG_RULES_IO_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

/* Appends the rules of `group` (NULL: all) as a Lua policy file to out,
 * with a header comment naming the time (now_ns) and the selection. In
 * pages, so that a large set fits the control socket's frames: the rules
 * from `offset` (in listing order) on, until at least max_bytes were
 * appended (0: no limit), the header only with offset 0; *written says how
 * many rules were. 0 or -ENOMEM. Loop thread (it lists the index). */
int vg_rules_export(vg_rules *r, const char *group, int64_t now_ns, size_t offset, size_t max_bytes,
                    msgpack_sbuffer *out, size_t *written);
/* The same for the rules that filter takes (e.g. the learned set, to
 * review and commit); offsets count those rules only. */
int vg_rules_export_filtered(vg_rules *r, const char *group, const vg_rule_filter *filter,
                             int64_t now_ns, size_t offset, size_t max_bytes, msgpack_sbuffer *out,
                             size_t *written);

/*
 * Runs `text` (named `name` in messages, e.g. the file's path) in a
 * sandboxed Lua state (no io/os/require, text only, an instruction budget
 * and a memory cap) where vigil.rule{} collects rules. Nothing else of
 * `vigil` exists there. Every rule gets `origin` and `created_ns`.
 * Returns 0 with *rules (malloc()ed, the caller frees) and *n, or -EINVAL
 * with "name:line: message" in err (-ENOMEM without a line). Nothing is
 * returned on an error: an import is all or nothing.
 */
int vg_rules_parse_lua(const char *text, size_t len, const char *name, int origin,
                       int64_t created_ns, vg_rule **rules, size_t *n, char *err, size_t errlen);

#endif
