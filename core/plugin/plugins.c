/* The plugin loader; see plugins.h. */
#include "plugins.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"
#include "log.h"
#include "mp.h"

struct vg_plugins {
    struct vg_host **v;
    size_t n;
};

static const char *const state_names[] = {
    [VG_PLUGIN_LOADED] = "loaded",     [VG_PLUGIN_RUNNING] = "running",
    [VG_PLUGIN_DEGRADED] = "degraded", [VG_PLUGIN_FAILED] = "failed",
    [VG_PLUGIN_REFUSED] = "refused",   [VG_PLUGIN_STOPPED] = "stopped",
};

const char *vg_plugin_state_name(int state)
{
    if (state < 0 || state > VG_PLUGIN_STOPPED)
        return "unknown";
    return state_names[state];
}

static void set_why(struct vg_host *h, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(struct vg_host *h, int state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->why, sizeof(h->why), fmt, ap);
    va_end(ap);
    h->state = state;
}

/* Checks the descriptor before anything in it is called. Returns 0 when the
 * plugin may be initialised; otherwise marks it REFUSED and logs why. */
static int check_desc(struct vg_host *h)
{
    const vg_plugin_desc *d = h->desc;
    if (d->abi_major != VG_ABI_MAJOR) {
        set_why(h, VG_PLUGIN_REFUSED, "plugin ABI %u.%u, daemon ABI %u.%u", d->abi_major,
                d->abi_minor, VG_ABI_MAJOR, VG_ABI_MINOR);
        vg_err("plugin %s refused: built for ABI %u.%u, this daemon speaks ABI %u.%u", h->file,
               d->abi_major, d->abi_minor, VG_ABI_MAJOR, VG_ABI_MINOR);
        return -EPROTO;
    }
    if (!d->name || !*d->name || strlen(d->name) >= sizeof(h->name) || !d->init) {
        set_why(h, VG_PLUGIN_REFUSED, "descriptor without name or init");
        vg_err("plugin %s refused: its descriptor has no name or no init", h->file);
        return -EINVAL;
    }
    snprintf(h->name, sizeof(h->name), "%s", d->name);
    return 0;
}

static int name_taken(const vg_plugins *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i]->desc && ps->v[i]->state != VG_PLUGIN_REFUSED &&
            strcmp(ps->v[i]->name, name) == 0)
            return 1;
    return 0;
}

/* dlopen + descriptor + init. The record is kept whatever happens, so that
 * `vigilctl plugins` can show what was refused and why. */
static void load_one(vg_plugins *ps, struct vg_host *h)
{
    /* Code loaded into a root daemon: a file anyone else could have written
     * (or replaced, through its directory) is not loaded. */
    char why[300];
    if (vg_path_trusted(h->file, why, sizeof(why)) < 0) {
        set_why(h, VG_PLUGIN_REFUSED, "untrusted: %s", why);
        vg_err("plugin %s refused: %s", h->file, why);
        return;
    }
    h->dl = dlopen(h->file, RTLD_NOW | RTLD_LOCAL);
    if (!h->dl) {
        set_why(h, VG_PLUGIN_REFUSED, "dlopen: %s", dlerror());
        vg_err("plugin %s refused: %s", h->file, h->why);
        return;
    }
    vg_plugin_entry_fn entry;
    *(void **)&entry = dlsym(h->dl, VG_PLUGIN_SYMBOL);
    if (!entry || !(h->desc = entry())) {
        set_why(h, VG_PLUGIN_REFUSED, "no %s() symbol", VG_PLUGIN_SYMBOL);
        vg_err("plugin %s refused: it exports no %s()", h->file, VG_PLUGIN_SYMBOL);
        return;
    }
    if (check_desc(h) < 0)
        return;
    if (name_taken(ps, h->name)) {
        set_why(h, VG_PLUGIN_REFUSED, "another plugin is named %s", h->name);
        vg_err("plugin %s refused: a plugin named '%s' is already loaded", h->file, h->name);
        return;
    }
    if (!vg_config_plugin_enabled(*h->env->cfg, h->name)) {
        set_why(h, VG_PLUGIN_STOPPED, "disabled in the config");
        vg_notice("plugin %s: disabled in the config", h->name);
        return;
    }
    h->state = VG_PLUGIN_LOADED;
    int rc = h->desc->init(&vg__host_api, h, &h->priv);
    if (rc != 0) {
        set_why(h, VG_PLUGIN_FAILED, "init failed: %s", strerror(rc < 0 ? -rc : rc));
        vg_err("plugin %s: init failed (%s); running without it", h->name,
               strerror(rc < 0 ? -rc : rc));
        return;
    }
    h->inited = 1;
    vg_info("plugin %s %s loaded from %s", h->name, h->desc->version ? h->desc->version : "?",
            h->file);
}

static int is_plugin_file(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && strcmp(name + n - 3, ".so") == 0;
}

static int add_record(vg_plugins *ps, const vg_plugin_env *env, const char *dir, const char *fname)
{
    struct vg_host **v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    ps->v = v;
    struct vg_host *h = calloc(1, sizeof(*h));
    if (!h || asprintf(&h->file, "%s/%s", dir, fname) < 0) {
        free(h);
        return -ENOMEM;
    }
    h->env = env;
    h->state = VG_PLUGIN_REFUSED;
    /* Until the descriptor is read (it may never be, for a foreign ABI), the
     * plugin is known by its file name. */
    snprintf(h->name, sizeof(h->name), "%.*s", (int)(strlen(fname) - 3), fname);
    ps->v[ps->n++] = h;
    load_one(ps, h);
    return 0;
}

int vg_plugins_load(const vg_plugin_env *env, const char *dir, vg_plugins **out)
{
    vg_plugins *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return -ENOMEM;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        vg_warn("plugin directory %s: %s; running without plugins", dir, strerror(errno));
        *out = ps;
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0 && is_plugin_file(names[i]->d_name))
            rc = add_record(ps, env, dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    if (rc < 0) {
        vg_plugins_stop(ps);
        return rc;
    }
    *out = ps;
    return 0;
}

void vg_plugins_start(vg_plugins *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        struct vg_host *h = ps->v[i];
        if (h->state != VG_PLUGIN_LOADED)
            continue;
        int rc = h->desc->start ? h->desc->start(h->priv) : 0;
        if (rc != 0) {
            set_why(h, VG_PLUGIN_FAILED, "start failed: %s", strerror(rc < 0 ? -rc : rc));
            vg_err("plugin %s: start failed (%s); running without it", h->name,
                   strerror(rc < 0 ? -rc : rc));
            continue;
        }
        /* A plugin may have reported itself degraded from start(). */
        if (h->state == VG_PLUGIN_LOADED)
            h->state = VG_PLUGIN_RUNNING;
    }
}

int vg_plugins_reload(vg_plugins *ps)
{
    int failed = 0;
    for (size_t i = 0; i < ps->n; i++) {
        struct vg_host *h = ps->v[i];
        if ((h->state != VG_PLUGIN_RUNNING && h->state != VG_PLUGIN_DEGRADED) || !h->desc->reload)
            continue;
        int rc = h->desc->reload(h->priv);
        if (rc != 0) {
            vg_err("plugin %s: reload failed (%s); it keeps its previous settings", h->name,
                   strerror(rc < 0 ? -rc : rc));
            failed++;
        }
    }
    return failed;
}

void vg_plugins_stop(vg_plugins *ps)
{
    if (!ps)
        return;
    for (size_t i = ps->n; i-- > 0;) {
        struct vg_host *h = ps->v[i];
        /* stop() is owed to every plugin whose init succeeded, even if start
         * failed, since init may have allocated. */
        vg__host_unsubscribe(h);
        if (h->inited && h->desc->stop)
            h->desc->stop(h->priv);
        vg__host_free_subs(h);
        vg__host_free_cmds(h);
        if (h->desc && h->env->actions)
            vg_actions_unregister_owner(h->env->actions, h->name);
        /* The shared object stays mapped until the process exits: libuv may
         * still call into the plugin after its stop() (a thread-pool job
         * finishing, a handle's close callback), and unloading gains
         * nothing in a daemon that never reloads plugin code. */
        free(h->file);
        free(h);
    }
    free(ps->v);
    free(ps);
}

static int pack_one(const struct vg_host *h, msgpack_packer *pk)
{
    const vg_plugin_desc *d = h->desc;
    char abi[32] = "";
    if (d)
        snprintf(abi, sizeof(abi), "%u.%u", d->abi_major, d->abi_minor);
    int rc = msgpack_pack_map(pk, 7);
    rc |= vg_mp_pack_kv_str(pk, "name", h->name);
    rc |= vg_mp_pack_kv_str(pk, "version", d && d->abi_major == VG_ABI_MAJOR ? d->version : NULL);
    rc |= vg_mp_pack_kv_str(pk, "description",
                            d && d->abi_major == VG_ABI_MAJOR ? d->description : NULL);
    rc |= vg_mp_pack_kv_str(pk, "state", vg_plugin_state_name(h->state));
    rc |= vg_mp_pack_kv_str(pk, "why", h->why[0] ? h->why : NULL);
    rc |= vg_mp_pack_kv_str(pk, "file", h->file);
    rc |= vg_mp_pack_kv_str(pk, "abi", abi);
    return rc;
}

int vg_plugins_pack(const vg_plugins *ps, msgpack_packer *pk)
{
    int rc = msgpack_pack_array(pk, ps->n);
    for (size_t i = 0; i < ps->n; i++)
        rc |= pack_one(ps->v[i], pk);
    return rc ? -ENOMEM : 0;
}

size_t vg_plugins_count(const vg_plugins *ps)
{
    return ps->n;
}

const struct vg_host *vg_plugins_at(const vg_plugins *ps, size_t i)
{
    return i < ps->n ? ps->v[i] : NULL;
}
