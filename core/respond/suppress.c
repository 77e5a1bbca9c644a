/* Silencing matching events for a while; see suppress.h. */
#include "suppress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mp.h"
#include "timeparse.h"

#define WEEK_S (7 * 24 * 3600.0)

typedef struct supp {
    msgpack_unpacked pat; /* the pattern map, unpacked from buf */
    char *buf;            /* its bytes: the strings of pat point into them */
    const msgpack_object_kv *keys;
    uint32_t nkeys;
    bool needs_body;   /* a key other than the header's */
    uint64_t until_ms; /* uv_now */
} supp;

struct vg_suppress {
    uv_loop_t *loop;
    supp *v[VG_SUPPRESS_MAX];
    size_t n;
    uint64_t last_id; /* the event last checked, and its answer */
    bool last_answer, checked_any;
    vg_suppress_stats stats;
};

static const char *const header_keys[] = {"type", "group", "workload", "severity", NULL};

static bool is_header_key(const msgpack_object *k)
{
    for (size_t i = 0; header_keys[i]; i++)
        if (vg_mp_streq(k, header_keys[i]))
            return true;
    return false;
}

int vg_suppress_new(uv_loop_t *loop, vg_suppress **out)
{
    vg_suppress *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->loop = loop;
    *out = s;
    return 0;
}

static void supp_free(supp *p)
{
    msgpack_unpacked_destroy(&p->pat);
    free(p->buf);
    free(p);
}

void vg_suppress_free(vg_suppress *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        supp_free(s->v[i]);
    free(s);
}

static int run_action(void *priv, const void *args, size_t len)
{
    return vg_suppress_add(priv, args, len);
}

int vg_suppress_register(vg_suppress *s, vg_actions *actions)
{
    vg_action_desc d = {.name = "suppress", .run = run_action, .priv = s};
    return vg_actions_register(actions, "core", &d);
}

/* ---- adding ------------------------------------------------------------- */

/* duration_s (a number of seconds), else the target of "suppress:10m". */
static int read_duration(const msgpack_object *args, double *secs)
{
    const msgpack_object *d = vg_mp_get(args, "duration_s");
    char target[32];
    int64_t ns;
    if (!d && vg_mp_get_cstr(args, "target", target, sizeof(target)) == 0 &&
        vg_duration_parse(target, &ns) == 0)
        *secs = (double)ns / 1e9;
    else if (d && d->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *secs = (double)d->via.u64;
    else if (d && (d->type == MSGPACK_OBJECT_FLOAT32 || d->type == MSGPACK_OBJECT_FLOAT64))
        *secs = d->via.f64;
    else
        return -EINVAL;
    return *secs > 0 && *secs <= WEEK_S ? 0 : -EINVAL;
}

/* Keys of the action's arguments that are not pattern keys (the policy
 * engine's convention: {action, target, rule, group, workload, event}). */
static bool is_arg_key(const msgpack_object *k)
{
    static const char *const keys[] = {"duration_s", "action", "target", "rule",
                                       "event",      "match",  NULL};
    for (size_t i = 0; keys[i]; i++)
        if (vg_mp_streq(k, keys[i]))
            return true;
    return false;
}

typedef struct kvs {
    const msgpack_object *k[VG_SUPPRESS_KEYS_MAX + 1], *v[VG_SUPPRESS_KEYS_MAX + 1];
    size_t n;
} kvs;

/* Adds or replaces key k; beyond the maximum the pattern is refused. */
static int kvs_set(kvs *p, const msgpack_object *k, const msgpack_object *v)
{
    for (size_t i = 0; i < p->n; i++) {
        if (msgpack_object_equal(*p->k[i], *k)) {
            p->v[i] = v;
            return 0;
        }
    }
    if (p->n > VG_SUPPRESS_KEYS_MAX)
        return -EINVAL;
    p->k[p->n] = k;
    p->v[p->n++] = v;
    return 0;
}

static bool nonempty_str(const msgpack_object *v)
{
    return v && v->type == MSGPACK_OBJECT_STR && v->via.str.size > 0;
}

/* Without `match`, events like the one that triggered the response: its
 * type, group, workload and (process) name, then any other argument. */
static int derive_pattern(const msgpack_object *args, kvs *out)
{
    static const msgpack_object k_type = {.type = MSGPACK_OBJECT_STR,
                                          .via.str = {.size = 4, .ptr = "type"}};
    static const msgpack_object k_name = {.type = MSGPACK_OBJECT_STR,
                                          .via.str = {.size = 4, .ptr = "name"}};
    const msgpack_object *ev = vg_mp_get(args, "event");
    int rc = 0;
    if (ev && nonempty_str(vg_mp_get(ev, "type")))
        rc |= kvs_set(out, &k_type, vg_mp_get(ev, "type"));
    if (ev && nonempty_str(vg_mp_get(ev, "name")))
        rc |= kvs_set(out, &k_name, vg_mp_get(ev, "name"));
    for (uint32_t i = 0; i < args->via.map.size; i++) {
        const msgpack_object_kv *kv = &args->via.map.ptr[i];
        if (kv->key.type != MSGPACK_OBJECT_STR || is_arg_key(&kv->key))
            continue;
        /* The engine passes group and workload always, "" when unknown. */
        if (kv->val.type == MSGPACK_OBJECT_STR && kv->val.via.str.size == 0)
            continue;
        rc |= kvs_set(out, &kv->key, &kv->val);
    }
    return rc ? -EINVAL : 0;
}

/* Packs the pattern map and keeps it in p. Only scalar values are
 * patterns; a map or an array would never be equal to what a user means,
 * and an empty pattern would silence everything, the daemon's own errors
 * included. */
static int read_pattern(supp *p, const msgpack_object *args)
{
    kvs pat = {0};
    const msgpack_object *m = vg_mp_get(args, "match");
    if (m && m->type != MSGPACK_OBJECT_MAP)
        return -EINVAL;
    for (uint32_t i = 0; m && i < m->via.map.size; i++)
        if (kvs_set(&pat, &m->via.map.ptr[i].key, &m->via.map.ptr[i].val) < 0)
            return -EINVAL;
    if (!m && derive_pattern(args, &pat) < 0)
        return -EINVAL;
    if (pat.n == 0 || pat.n > VG_SUPPRESS_KEYS_MAX)
        return -EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, pat.n);
    int rc = 0;
    for (size_t i = 0; i < pat.n; i++) {
        int t = pat.v[i]->type;
        if (pat.k[i]->type != MSGPACK_OBJECT_STR || t == MSGPACK_OBJECT_ARRAY ||
            t == MSGPACK_OBJECT_MAP || t == MSGPACK_OBJECT_NIL ||
            (is_header_key(pat.k[i]) && t != MSGPACK_OBJECT_STR))
            rc = -EINVAL;
        p->needs_body |= !is_header_key(pat.k[i]);
        msgpack_pack_object(&pk, *pat.k[i]);
        msgpack_pack_object(&pk, *pat.v[i]);
    }
    if (rc == 0 && msgpack_unpack_next(&p->pat, sb.data, sb.size, NULL) != MSGPACK_UNPACK_SUCCESS)
        rc = -ENOMEM;
    p->buf = msgpack_sbuffer_release(&sb);
    if (rc == 0) {
        p->keys = p->pat.data.via.map.ptr;
        p->nkeys = p->pat.data.via.map.size;
    }
    return rc;
}

static bool same_pattern(const supp *a, const supp *b)
{
    if (a->nkeys != b->nkeys)
        return false;
    for (uint32_t i = 0; i < a->nkeys; i++)
        if (!msgpack_object_equal(a->keys[i].key, b->keys[i].key) ||
            !msgpack_object_equal(a->keys[i].val, b->keys[i].val))
            return false;
    return true;
}

static void prune(vg_suppress *s, uint64_t now)
{
    for (size_t i = 0; i < s->n;) {
        if (s->v[i]->until_ms > now) {
            i++;
            continue;
        }
        supp_free(s->v[i]);
        s->v[i] = s->v[--s->n];
        s->stats.expired++;
    }
}

int vg_suppress_add(vg_suppress *s, const void *args_buf, size_t len)
{
    if (!s || !args_buf)
        return -EINVAL;
    supp *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    msgpack_unpacked_init(&p->pat);
    msgpack_unpacked args;
    msgpack_unpacked_init(&args);
    double secs = 0;
    int rc = -EINVAL;
    if (msgpack_unpack_next(&args, args_buf, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        args.data.type == MSGPACK_OBJECT_MAP && read_duration(&args.data, &secs) == 0)
        rc = read_pattern(p, &args.data);
    msgpack_unpacked_destroy(&args);
    if (rc < 0) {
        supp_free(p);
        return rc;
    }
    uv_update_time(s->loop);
    uint64_t now = uv_now(s->loop);
    p->until_ms = now + (uint64_t)(secs * 1000.0 + 0.5);
    prune(s, now);
    /* The answer for the last event may change now. */
    s->checked_any = false;
    for (size_t i = 0; i < s->n; i++) {
        if (same_pattern(s->v[i], p)) {
            if (p->until_ms > s->v[i]->until_ms)
                s->v[i]->until_ms = p->until_ms;
            supp_free(p);
            s->stats.added++;
            return 0;
        }
    }
    if (s->n == VG_SUPPRESS_MAX) {
        supp_free(p);
        return -ENOSPC;
    }
    s->v[s->n++] = p;
    s->stats.added++;
    return 0;
}

/* ---- checking ----------------------------------------------------------- */

static bool header_matches(const msgpack_object_kv *kv, const vg_event *ev)
{
    const char *val;
    if (vg_mp_streq(&kv->key, "type"))
        val = vg_event_type_name(ev->type);
    else if (vg_mp_streq(&kv->key, "group"))
        val = ev->group;
    else if (vg_mp_streq(&kv->key, "workload"))
        val = ev->workload;
    else
        val = vg_severity_name(ev->severity);
    return val && vg_mp_streq(&kv->val, val);
}

static bool matches(const supp *p, const vg_event *ev, const msgpack_object *body)
{
    for (uint32_t i = 0; i < p->nkeys; i++) {
        const msgpack_object_kv *kv = &p->keys[i];
        if (is_header_key(&kv->key)) {
            if (!header_matches(kv, ev))
                return false;
            continue;
        }
        char key[64];
        snprintf(key, sizeof(key), "%.*s", (int)kv->key.via.str.size, kv->key.via.str.ptr);
        const msgpack_object *v = body ? vg_mp_get(body, key) : NULL;
        if (!v || !msgpack_object_equal(*v, kv->val))
            return false;
    }
    return true;
}

static bool check(vg_suppress *s, const vg_event *ev)
{
    prune(s, uv_now(s->loop));
    if (!s->n)
        return false;
    msgpack_unpacked body;
    msgpack_unpacked_init(&body);
    bool have_body = false;
    bool hit = false;
    for (size_t i = 0; i < s->n && !hit; i++) {
        supp *p = s->v[i];
        if (p->needs_body && !have_body && ev->body_len)
            have_body = msgpack_unpack_next(&body, (const char *)ev->body, ev->body_len, NULL) ==
                        MSGPACK_UNPACK_SUCCESS;
        hit = matches(p, ev, have_body ? &body.data : NULL);
    }
    msgpack_unpacked_destroy(&body);
    return hit;
}

bool vg_suppress_check(vg_suppress *s, const vg_event *ev)
{
    if (!s || !ev)
        return false;
    if (s->checked_any && ev->id == s->last_id)
        return s->last_answer;
    bool hit = check(s, ev);
    s->last_id = ev->id;
    s->last_answer = hit;
    s->checked_any = true;
    if (hit)
        s->stats.suppressed++;
    return hit;
}

void vg_suppress_stats_get(vg_suppress *s, vg_suppress_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return;
    prune(s, uv_now(s->loop));
    *out = s->stats;
    out->active = s->n;
}
