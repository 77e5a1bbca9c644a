/*
 * Rules: what is allowed (or denied) per group and plane, learned, written in
 * policy files, or imported. The one source of truth is the "rules" table of
 * the store; an in-memory index answers lookups without touching LMDB, and is
 * what the hot paths (a fanotify permission event) ask.
 *
 * A rule is a group, a plane and a subject: the fields that say what it
 * matches, in a fixed order per plane, joined into one canonical key
 *   proc: name, path, user           e.g. "curl\x1f/usr/bin/curl\x1f*"
 *   file: path, program, access       e.g. "/etc/passwd\x1f/usr/sbin/useradd\x1fwrite"
 *   net:  direction, peer, port, proto, app
 * ("\x1f", the ASCII unit separator, never appears in these fields). "*" in a
 * field matches anything; other wildcards are for Lua policies, not for this
 * index. A rule also records its action (allow or deny), how it came to be
 * (learned, written, imported), when, and an optional comment.
 *
 * Threads: vg_rules_match() may be called from any thread (a read lock);
 * everything else belongs to the loop thread. Every change bumps a
 * generation counter, so that caches built on top (the policy engine's
 * decision cache) know exactly when to drop what they hold.
 */
#ifndef VG_RULES_H
#define VG_RULES_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <vigil/plugin.h>

#include "store.h"

/* enum vg_plane is in vigil/plugin.h: plugins name planes too. */
enum vg_rule_action { VG_RULE_ALLOW = 0, VG_RULE_DENY = 1 };
enum vg_rule_origin { VG_RULE_LEARNED = 0, VG_RULE_WRITTEN = 1, VG_RULE_IMPORTED = 2 };

#define VG_RULE_FIELDS_MAX 5
#define VG_RULE_FIELD_MAX 256

typedef struct vg_rule {
    char group[VG_GROUP_MAX];
    int plane;  /* enum vg_plane */
    int action; /* enum vg_rule_action */
    int origin; /* enum vg_rule_origin */
    int64_t created_ns;
    /* The subject's fields in the plane's order (see vg_rule_field_names);
     * "" or "*" match anything. */
    char fields[VG_RULE_FIELDS_MAX][VG_RULE_FIELD_MAX];
    char comment[256];
} vg_rule;

typedef struct vg_rules vg_rules;

const char *vg_plane_name(int plane);
int vg_plane_parse(const char *name); /* -EINVAL */
const char *vg_rule_origin_name(int origin);
const char *vg_rule_action_name(int action);
/* The field names of a plane, NULL-terminated: {"name","path","user",NULL}. */
const char *const *vg_rule_field_names(int plane);

/* Loads every stored rule into the index. st may be NULL (an index only,
 * for `vigil-policy test`). */
int vg_rules_open(vg_store *st, vg_rules **out);
void vg_rules_free(vg_rules *r);

/* Adds or replaces the rule with the same group, plane and subject, and
 * queues it for the store (written rules from policy files are kept in
 * memory only: `persist` false). 0 or a negative errno. */
int vg_rules_put(vg_rules *r, const vg_rule *rule, bool persist);
/* -ENOENT if there is no such rule. */
int vg_rules_del(vg_rules *r, const vg_rule *rule);
/* Removes the learned rules of a group (from the index and the store,
 * batched), for a group that aged out. Rules written or imported stay; *kept
 * (when not NULL) gets how many of the group's rules were left. Returns the
 * number removed, or a negative errno from the store (the index is changed
 * all the same). */
int vg_rules_del_learned(vg_rules *r, const char *group, size_t *kept);
/* Drops every in-memory (non-persisted) rule: before a policy reload. */
void vg_rules_clear_written(vg_rules *r);

/* Any thread. Looks up the rule for a concrete subject (fields without
 * wildcards): an exact rule first, then rules with "*" fields. Returns 1
 * and fills *action when a rule matches, 0 when none does. */
int vg_rules_match(vg_rules *r, const char *group, int plane, const char *const *fields,
                   int *action);

/* Any thread. Like vg_rules_match, but a "" field of the query stands for
 * "some value" (a multi-call binary's exec is seen before its name is):
 * ALLOW when some allow rule names the other fields (its "*" names
 * nothing: a rule without a path allows no file), unless a deny rule
 * matching them has "*" wherever the query has ""; DENY when only deny
 * rules match. Returns 1 and fills *action, or 0 when no rule matches.
 * O(rules); cache the answer. */
int vg_rules_match_any(vg_rules *r, const char *group, int plane, const char *const *fields,
                       int *action);

/* Calls cb for each rule, optionally only of a group and/or plane (NULL /
 * -1 for all), in group, plane, subject order. cb returns non-zero to stop. */
int vg_rules_each(vg_rules *r, const char *group, int plane,
                  int (*cb)(const vg_rule *rule, void *arg), void *arg);

uint64_t vg_rules_generation(const vg_rules *r);
size_t vg_rules_count(const vg_rules *r);

/* The msgpack form of a rule, as stored and as `vigilctl rules --json`
 * shows it: {group, plane, action, origin, created, <field>: value...,
 * comment}. */
int vg_rule_pack(const vg_rule *rule, msgpack_packer *pk);
/* Reads a rule from that form; -EINVAL with a message in err. */
int vg_rule_unpack(const msgpack_object *o, vg_rule *rule, char *err, size_t errlen);

#endif
