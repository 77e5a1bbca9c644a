/*
 * The "rules" control command: {op = list|add|delete|export|import, ...}.
 *
 *   list    {group?, plane?, offset?}        -> [rule...] (vg_rule_pack form)
 *   add     {group, plane, <fields>?, action?, comment?} -> the rule
 *   delete  {group, plane, <fields>?}        -> the rule deleted
 *   export  {group?, offset?}                -> {text, rules}
 *   import  {text, name}                     -> {imported}
 *
 * list and export answer in pages of about PAGE_BYTES, so that any number
 * of rules fits the control socket's frames: a client asks again with
 * `offset` (the number of rules it has) until a page comes back empty (a
 * change between two pages may shift a rule across them).
 *
 * A field left out is "*". Changes are committed durably (with an fsync)
 * before the reply, so that a rule a user was told is added survives a
 * crash or a power cut right after.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_int.h"
#include "evcat.h"
#include "log.h"
#include "mp.h"
#include "rules_io.h"

#define PAGE_BYTES (256u << 10) /* well inside VG_CTL_MAX_FRAME (1 MiB) */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads a string argument; absent leaves buf alone. */
static int arg_str(vg_ctl_call *call, const char *key, char *buf, size_t size)
{
    int rc = vg_mp_get_cstr(call->args, key, buf, size);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        snprintf(call->error, sizeof(call->error), "'%s' must be a string of at most %zu bytes",
                 key, size - 1);
    return rc < 0 ? -EINVAL : 0;
}

static bool is_one_of(const msgpack_object *k, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (vg_mp_streq(k, names[i]))
            return true;
    return false;
}

/* Rejects keys that the op does not take: a misspelt selector must not
 * widen a delete to "*". */
static int check_keys(vg_ctl_call *call, int plane, const char *const *allowed)
{
    const msgpack_object *a = call->args;
    if (a->type != MSGPACK_OBJECT_MAP)
        return 0;
    const char *const *fields = plane >= 0 ? vg_rule_field_names(plane) : NULL;
    for (uint32_t i = 0; i < a->via.map.size; i++) {
        const msgpack_object *k = &a->via.map.ptr[i].key;
        if (is_one_of(k, allowed) || (fields && is_one_of(k, fields)))
            continue;
        snprintf(call->error, sizeof(call->error), "unknown argument '%.*s'",
                 k->type == MSGPACK_OBJECT_STR ? (int)k->via.str.size : 1,
                 k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "?");
        return -EINVAL;
    }
    return 0;
}

static int arg_plane(vg_ctl_call *call, bool required, int *plane)
{
    char name[16] = "";
    if (arg_str(call, "plane", name, sizeof(name)) < 0)
        return -EINVAL;
    *plane = -1;
    if (!name[0] && !required)
        return 0;
    if ((*plane = vg_plane_parse(name)) < 0) {
        snprintf(call->error, sizeof(call->error), "plane must be proc, file or net%s%s%s",
                 name[0] ? " (not '" : "", name, name[0] ? "')" : "");
        return -EINVAL;
    }
    return 0;
}

/* The rule an add or a delete names. */
static int arg_rule(vg_ctl_call *call, vg_rule *rule, bool add)
{
    static const char *const add_keys[] = {"op", "group", "plane", "action", "comment", NULL};
    static const char *const del_keys[] = {"op", "group", "plane", NULL};
    memset(rule, 0, sizeof(*rule));
    if (arg_plane(call, true, &rule->plane) < 0 ||
        check_keys(call, rule->plane, add ? add_keys : del_keys) < 0 ||
        arg_str(call, "group", rule->group, sizeof(rule->group)) < 0)
        return -EINVAL;
    if (!rule->group[0]) {
        snprintf(call->error, sizeof(call->error), "a rule needs a group");
        return -EINVAL;
    }
    const char *const *names = vg_rule_field_names(rule->plane);
    for (int i = 0; names[i]; i++)
        if (arg_str(call, names[i], rule->fields[i], VG_RULE_FIELD_MAX) < 0)
            return -EINVAL;
    char action[16] = "allow";
    if (arg_str(call, "action", action, sizeof(action)) < 0 ||
        arg_str(call, "comment", rule->comment, sizeof(rule->comment)) < 0)
        return -EINVAL;
    if (strcmp(action, "allow") != 0 && strcmp(action, "deny") != 0) {
        snprintf(call->error, sizeof(call->error), "action must be allow or deny");
        return -EINVAL;
    }
    rule->action = strcmp(action, "deny") == 0 ? VG_RULE_DENY : VG_RULE_ALLOW;
    rule->origin = VG_RULE_WRITTEN;
    rule->created_ns = now_ns();
    return 0;
}

/* The user is told "done" only once the change is on disk. */
static int commit(const vg_ctl_env *env, vg_ctl_call *call)
{
    int rc = vg_store_commit(env->store, true);
    if (rc < 0)
        snprintf(call->error, sizeof(call->error),
                 "the rules changed in memory but could not be stored: %s (retried later)",
                 strerror(-rc));
    return rc;
}

/* The review filter: "origin" (learned, written, imported) and "since"
 * (ns since the epoch); both optional. */
static int arg_filter(vg_ctl_call *call, vg_rule_filter *f)
{
    static const char *const origins[] = {"learned", "written", "imported", NULL};
    char origin[16] = "";
    f->origin = -1;
    f->since_ns = 0;
    if (arg_str(call, "origin", origin, sizeof(origin)) < 0)
        return -EINVAL;
    for (int i = 0; origin[0] && origins[i]; i++)
        if (strcmp(origin, origins[i]) == 0)
            f->origin = i;
    if (origin[0] && f->origin < 0) {
        snprintf(call->error, sizeof(call->error),
                 "origin must be learned, written or imported (not '%s')", origin);
        return -EINVAL;
    }
    int rc = vg_mp_get_int(call->args, "since", &f->since_ns);
    if ((rc < 0 && rc != -ENOENT) || f->since_ns < 0) {
        snprintf(call->error, sizeof(call->error), "'since' must be a time in ns since the epoch");
        return -EINVAL;
    }
    return 0;
}

/* ---- ops ---------------------------------------------------------------- */

typedef struct list_ctx {
    msgpack_sbuffer sb; /* the packed rules of the page */
    msgpack_packer pk;
    size_t skip, n;
    vg_rule_filter filter;
} list_ctx;

static int pack_rule(const vg_rule *rule, void *arg)
{
    list_ctx *lc = arg;
    if (!vg_rule_filter_match(&lc->filter, rule))
        return 0;
    if (lc->skip) {
        lc->skip--;
        return 0;
    }
    if (lc->sb.size >= PAGE_BYTES)
        return 1;
    vg_rule_pack(rule, &lc->pk);
    lc->n++;
    return 0;
}

static int arg_offset(vg_ctl_call *call, size_t *offset)
{
    int64_t v = 0;
    int rc = vg_mp_get_int(call->args, "offset", &v);
    if ((rc < 0 && rc != -ENOENT) || v < 0) {
        snprintf(call->error, sizeof(call->error), "'offset' must be a number of rules, >= 0");
        return -EINVAL;
    }
    *offset = (size_t)v;
    return 0;
}

static int op_list(const vg_ctl_env *env, vg_ctl_call *call)
{
    static const char *const keys[] = {"op", "group", "plane", "offset", "origin", "since", NULL};
    char group[VG_GROUP_MAX] = "";
    int plane;
    list_ctx lc = {0};
    if (check_keys(call, -1, keys) < 0 || arg_str(call, "group", group, sizeof(group)) < 0 ||
        arg_plane(call, false, &plane) < 0 || arg_offset(call, &lc.skip) < 0 ||
        arg_filter(call, &lc.filter) < 0)
        return -EINVAL;
    msgpack_sbuffer_init(&lc.sb);
    msgpack_packer_init(&lc.pk, &lc.sb, msgpack_sbuffer_write);
    int rc = vg_rules_each(env->rules, group[0] ? group : NULL, plane, pack_rule, &lc);
    if (rc == 0) {
        /* An array's header comes first, so the page is packed aside. */
        msgpack_pack_array(call->pk, lc.n);
        if (lc.sb.size)
            call->pk->callback(call->pk->data, lc.sb.data, lc.sb.size);
    }
    msgpack_sbuffer_destroy(&lc.sb);
    return rc;
}

static int op_add(const vg_ctl_env *env, vg_ctl_call *call)
{
    vg_rule rule;
    if (arg_rule(call, &rule, true) < 0)
        return -EINVAL;
    int rc = vg_rules_put(env->rules, &rule, true);
    if (rc < 0)
        return rc;
    if ((rc = commit(env, call)) < 0)
        return rc;
    vg_info("rule added: group %s, plane %s, %s", rule.group, vg_plane_name(rule.plane),
            vg_rule_action_name(rule.action));
    /* Kept, since a plugin may come later, but said: it decides nothing yet. */
    const char *warning = NULL;
    if (rule.plane == VG_PLANE_NET && !vg_evcat_plane_produced("net")) {
        warning = "no plugin producing net events is loaded: this rule has no effect until one is";
        vg_warn("rule of group %s: %s", rule.group, warning);
    }
    return vg_rule_pack_warning(&rule, warning, call->pk);
}

static int op_delete(const vg_ctl_env *env, vg_ctl_call *call)
{
    vg_rule rule;
    if (arg_rule(call, &rule, false) < 0)
        return -EINVAL;
    int rc = vg_rules_del(env->rules, &rule);
    if (rc == -ENOENT) {
        snprintf(call->error, sizeof(call->error), "no such rule in group '%s' (plane %s)",
                 rule.group, vg_plane_name(rule.plane));
        return rc;
    }
    if (rc < 0 || (rc = commit(env, call)) < 0)
        return rc;
    msgpack_pack_map(call->pk, 1);
    vg_mp_pack_kv_str(call->pk, "message", "rule deleted");
    return 0;
}

static int op_export(const vg_ctl_env *env, vg_ctl_call *call)
{
    static const char *const keys[] = {"op", "group", "offset", "origin", "since", NULL};
    char group[VG_GROUP_MAX] = "";
    size_t offset, n = 0;
    vg_rule_filter filter;
    if (check_keys(call, -1, keys) < 0 || arg_str(call, "group", group, sizeof(group)) < 0 ||
        arg_offset(call, &offset) < 0 || arg_filter(call, &filter) < 0)
        return -EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = vg_rules_export_filtered(env->rules, group[0] ? group : NULL, &filter, now_ns(),
                                      offset, PAGE_BYTES, &sb, &n);
    if (rc == 0) {
        msgpack_pack_map(call->pk, 2);
        msgpack_pack_str_with_body(call->pk, "text", 4);
        msgpack_pack_str_with_body(call->pk, sb.data ? sb.data : "", sb.size);
        vg_mp_pack_kv_uint(call->pk, "rules", n);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int op_import(const vg_ctl_env *env, vg_ctl_call *call)
{
    static const char *const keys[] = {"op", "text", "name", NULL};
    const char *text;
    size_t len;
    char name[256] = "import";
    if (check_keys(call, -1, keys) < 0 || arg_str(call, "name", name, sizeof(name)) < 0)
        return -EINVAL;
    if (vg_mp_get_str(call->args, "text", &text, &len) < 0) {
        snprintf(call->error, sizeof(call->error), "'text' (the file's content) is missing");
        return -EINVAL;
    }
    vg_rule *rules = NULL;
    size_t n = 0;
    int rc = vg_rules_parse_lua(text, len, name, VG_RULE_IMPORTED, now_ns(), &rules, &n,
                                call->error, sizeof(call->error));
    if (rc < 0)
        return rc;
    size_t done = 0;
    for (; done < n && rc == 0; done++)
        rc = vg_rules_put(env->rules, &rules[done], true);
    free(rules);
    if (rc < 0) {
        snprintf(call->error, sizeof(call->error), "%s: storing rule %zu failed: %s", name, done,
                 strerror(-rc));
        return rc;
    }
    if ((rc = commit(env, call)) < 0)
        return rc;
    vg_info("imported %zu rules from %s", n, name);
    msgpack_pack_map(call->pk, 1);
    vg_mp_pack_kv_uint(call->pk, "imported", n);
    return 0;
}

/* The rules a review takes, copied out of the index (which a change must
 * not see while it is listed). */
typedef struct review_ctx {
    vg_rule_filter filter;
    vg_rule *v;
    size_t n, cap;
} review_ctx;

static int take_rule(const vg_rule *rule, void *arg)
{
    review_ctx *rc = arg;
    if (!vg_rule_filter_match(&rc->filter, rule))
        return 0;
    if (rc->n == rc->cap) {
        size_t cap = rc->cap ? rc->cap * 2 : 64;
        vg_rule *v = realloc(rc->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        rc->v = v;
        rc->cap = cap;
    }
    rc->v[rc->n++] = *rule;
    return 0;
}

/* accept or reject, in bulk, the learned rules a filter takes: rejected
 * ones are deleted; accepted ones become "imported" rules, which group
 * aging keeps (docs/rules.md). Only learned rules are reviewed. */
static int op_review(const vg_ctl_env *env, vg_ctl_call *call)
{
    static const char *const keys[] = {"op", "group", "plane", "origin", "since", "decision", NULL};
    char group[VG_GROUP_MAX] = "", decision[16] = "";
    int plane;
    review_ctx rv = {0};
    if (check_keys(call, -1, keys) < 0 || arg_str(call, "group", group, sizeof(group)) < 0 ||
        arg_plane(call, false, &plane) < 0 || arg_filter(call, &rv.filter) < 0 ||
        arg_str(call, "decision", decision, sizeof(decision)) < 0)
        return -EINVAL;
    bool accept = strcmp(decision, "accept") == 0;
    if (!accept && strcmp(decision, "reject") != 0) {
        snprintf(call->error, sizeof(call->error), "decision must be accept or reject");
        return -EINVAL;
    }
    rv.filter.origin = VG_RULE_LEARNED;
    int rc = vg_rules_each(env->rules, group[0] ? group : NULL, plane, take_rule, &rv);
    for (size_t i = 0; rc == 0 && i < rv.n; i++) {
        if (accept) {
            rv.v[i].origin = VG_RULE_IMPORTED;
            rc = vg_rules_put(env->rules, &rv.v[i], true);
        } else {
            rc = vg_rules_del(env->rules, &rv.v[i]);
        }
    }
    free(rv.v);
    if (rc < 0 || (rc = commit(env, call)) < 0)
        return rc;
    vg_info("rules review: %s %zu learned rules%s%s", accept ? "accepted" : "rejected", rv.n,
            group[0] ? " of group " : "", group);
    msgpack_pack_map(call->pk, 1);
    vg_mp_pack_kv_uint(call->pk, accept ? "accepted" : "rejected", rv.n);
    return 0;
}

static int cmd_rules(vg_ctl_call *call)
{
    const vg_ctl_env *env = call->arg;
    static const struct {
        const char *name;
        int (*fn)(const vg_ctl_env *env, vg_ctl_call *call);
    } ops[] = {{"list", op_list},     {"add", op_add},       {"delete", op_delete},
               {"export", op_export}, {"review", op_review}, {"import", op_import}};
    const msgpack_object *op = vg_mp_get(call->args, "op");
    for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
        if (vg_mp_streq(op, ops[i].name))
            return ops[i].fn(env, call);
    snprintf(call->error, sizeof(call->error),
             "'op' must be one of list, add, delete, export, import");
    return -EINVAL;
}

int vg__ctl_rules_register(const vg_ctl_env *env)
{
    vg_ctl_cmd cmd = {.name = "rules", .fn = cmd_rules, .arg = (void *)env};
    return vg_ctl_register(env->ctl, &cmd);
}
