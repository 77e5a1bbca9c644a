/*
 * Workload discovery against fixture trees in each runtime's real on-disk
 * format (Docker's config.v2.json, containerd's runc state with a bundle
 * carrying CRI annotations, CRI-O, podman, plain runc; cgroup v1, v2 and
 * hybrid lines), with the real registry, groups, store and bus: what a
 * user would see in `vigilctl workloads`, the lookups plugins make, and
 * the workload.start / workload.stop events.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bus.h"
#include "cgroup_path.h"
#include "discovery.h"
#include "groups.h"
#include "mp.h"
#include "store.h"
#include "wl_fixture.h"
#include "workloads.h"

#define DOCKER_ID_SEED 1
#define CTRD_ID_SEED 2
#define CTRD2_ID_SEED 3
#define CRIO_ID_SEED 4
#define PODMAN_ID_SEED 5
#define NEW_ID_SEED 6

struct fx {
    char root[64], state[128];
    char docker[65], ctrd[65], ctrd2[65], crio[65], podman[65], newid[65];
    uv_loop_t loop;
    vg_store *st;
    vg_bus *bus;
    vg_groups *groups;
    vg_workloads *reg;
    vg_discovery *disc;
    /* events seen: "start:<id>" / "stop:<id>" */
    char seen[32][96];
    int nseen;
};

static void on_event(const vg_event *ev, void *arg)
{
    struct fx *f = arg;
    const char *t = vg_event_type_name(ev->type);
    if (f->nseen < 32 && strncmp(t, "workload.", 9) == 0)
        snprintf(f->seen[f->nseen++], sizeof(f->seen[0]), "%s:%s", t + 9, ev->workload);
}

static bool saw(const struct fx *f, const char *what, const char *id)
{
    char want[96];
    snprintf(want, sizeof(want), "%s:%s", what, id);
    for (int i = 0; i < f->nseen; i++)
        if (strcmp(f->seen[i], want) == 0)
            return true;
    return false;
}

static void build_tree(struct fx *f)
{
    const char *r = f->root;
    char cg[1024], bundle[512], ann[2048];

    /* host processes */
    assert_int_equal(fx_proc(r, 1, "0::/init.scope\n", 0), 0);
    assert_int_equal(fx_proc(r, 77, "0::/user.slice/user-0.slice/session-1.scope\n", 0), 0);

    /* Docker, systemd cgroup driver on cgroup v2, two processes; plus a
     * stopped container that must not show. */
    assert_int_equal(fx_docker(r, f->docker, "shop-web-1", "nginx:1.25",
                               "{\"com.docker.compose.service\":\"web\",\"app\":\"shop\"}", 1001,
                               1),
                     0);
    snprintf(cg, sizeof(cg), "0::/system.slice/docker-%s.scope\n", f->docker);
    assert_int_equal(fx_proc(r, 1001, cg, 0), 0);
    assert_int_equal(fx_proc(r, 1002, cg, 1001), 0);
    char stopped[65];
    fx_id(stopped, 99);
    assert_int_equal(fx_docker(r, stopped, "old", "busybox", "{}", 0, 0), 0);

    /* containerd for Kubernetes, cgroupfs driver on cgroup v1 (hybrid:
     * the v2 line is "/"), runc state plus a bundle with CRI annotations. */
    snprintf(bundle, sizeof(bundle), "/run/containerd/io.containerd.runtime.v2.task/k8s.io/%s",
             f->ctrd);
    assert_int_equal(fx_runc_state(r, "/run/containerd/runc/k8s.io", f->ctrd, 2001, bundle), 0);
    assert_int_equal(fx_bundle(r, bundle,
                               "{\"io.kubernetes.cri.container-type\":\"container\","
                               "\"io.kubernetes.cri.container-name\":\"api\","
                               "\"io.kubernetes.cri.sandbox-name\":\"api-7d9f8b6c5d-x2k4q\","
                               "\"io.kubernetes.cri.sandbox-namespace\":\"prod\","
                               "\"io.kubernetes.cri.image-name\":\"registry.local/api:2.1\"}"),
                     0);
    snprintf(cg, sizeof(cg),
             "12:pids:/kubepods/besteffort/pod6f1d/%s\n11:memory:/kubepods/besteffort/pod6f1d/%s\n"
             "1:name=systemd:/kubepods/besteffort/pod6f1d/%s\n0::/\n",
             f->ctrd, f->ctrd, f->ctrd);
    assert_int_equal(fx_proc(r, 2001, cg, 0), 0);

    /* containerd with the systemd driver, found from its cgroup alone. */
    snprintf(cg, sizeof(cg),
             "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod77.slice/"
             "cri-containerd-%s.scope\n",
             f->ctrd2);
    assert_int_equal(fx_proc(r, 2101, cg, 0), 0);

    /* CRI-O: runc's default root, the bundle in containers/storage, and
     * conmon in its own cgroup (a host process). */
    snprintf(bundle, sizeof(bundle), "/var/lib/containers/storage/overlay-containers/%s/userdata",
             f->crio);
    assert_int_equal(fx_runc_state(r, "/run/runc", f->crio, 3001, bundle), 0);
    snprintf(ann, sizeof(ann),
             "{\"io.kubernetes.cri-o.ContainerID\":\"%s\",\"io.kubernetes.cri-o.Name\":"
             "\"k8s_postgres_db-0_data_1\",\"io.kubernetes.pod.name\":\"db-0\","
             "\"io.kubernetes.pod.namespace\":\"data\",\"io.kubernetes.container.name\":"
             "\"postgres\",\"io.kubernetes.cri-o.ImageName\":\"docker.io/library/postgres:16\"}",
             f->crio);
    assert_int_equal(fx_bundle(r, bundle, ann), 0);
    snprintf(cg, sizeof(cg), "0::/kubepods.slice/kubepods-pod88.slice/crio-%s.scope\n", f->crio);
    assert_int_equal(fx_proc(r, 3001, cg, 0), 0);
    snprintf(cg, sizeof(cg), "0::/kubepods.slice/kubepods-pod88.slice/crio-conmon-%s.scope\n",
             f->crio);
    assert_int_equal(fx_proc(r, 3000, cg, 0), 0);

    /* podman: libpod-<id>.scope; its name from containers/storage. */
    snprintf(cg, sizeof(cg), "0::/machine.slice/libpod-%s.scope\n", f->podman);
    assert_int_equal(fx_proc(r, 4001, cg, 0), 0);
    snprintf(ann, sizeof(ann),
             "[{\"id\":\"%s\",\"names\":[\"cache_1\"],\"image\":\"4d2b\",\"layer\":\"9f1e\","
             "\"metadata\":\"{\\\"image-name\\\":\\\"docker.io/library/redis:7\\\","
             "\\\"image-id\\\":\\\"4d2b\\\",\\\"name\\\":\\\"cache_1\\\"}\","
             "\"created\":\"2024-05-01T12:00:00Z\"}]",
             f->podman);
    assert_int_equal(
        fx_write(r, ann, "/var/lib/containers/storage/overlay-containers/containers.json"), 0);
    snprintf(bundle, sizeof(bundle), "/var/lib/containers/storage/overlay-containers/%s/userdata",
             f->podman);
    assert_int_equal(fx_bundle(r, bundle, "{\"io.podman.annotations.autoremove\":\"FALSE\"}"), 0);

    /* Plain runc in a cgroup of its own choosing, hybrid host, two
     * processes; and the state of a container whose init is gone. */
    assert_int_equal(fx_runc_state(r, "/run/runc", "batch-7", 5001, "/srv/batch"), 0);
    assert_int_equal(fx_bundle(r, "/srv/batch", "{}"), 0);
    assert_int_equal(fx_proc(r, 5001, "0::/batch-7\n4:memory:/ci/batch-7\n", 0), 0);
    assert_int_equal(fx_proc(r, 5002, "0::/batch-7\n4:memory:/ci/batch-7\n", 5001), 0);
    assert_int_equal(fx_runc_state(r, "/run/runc", "gone", 5999, "/srv/gone"), 0);
    /* ... and of one whose pid now belongs to a host process (a reused
     * pid: another start time). */
    assert_int_equal(fx_runc_state(r, "/run/runc", "stale", 77, "/srv/stale"), 0);
    assert_int_equal(
        fx_write(r, "77 (bash) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 999 1 1\n",
                 "/proc/77/stat"),
        0);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->root, sizeof(f->root), "/tmp/vg-wl-XXXXXX");
    if (!f || !mkdtemp(f->root))
        return -1;
    snprintf(f->state, sizeof(f->state), "%s/state", f->root);
    mkdir(f->state, 0700);
    fx_id(f->docker, DOCKER_ID_SEED);
    fx_id(f->ctrd, CTRD_ID_SEED);
    fx_id(f->ctrd2, CTRD2_ID_SEED);
    fx_id(f->crio, CRIO_ID_SEED);
    fx_id(f->podman, PODMAN_ID_SEED);
    fx_id(f->newid, NEW_ID_SEED);
    build_tree(f);
    char proc[128];
    snprintf(proc, sizeof(proc), "%s/proc", f->root);
    uv_loop_init(&f->loop);
    if (vg_store_open(f->state, NULL, &f->st) || vg_bus_new(&f->loop, 1024, &f->bus) ||
        vg_groups_new(f->st, VG_MODE_LEARN, &f->groups) || vg_workloads_new(proc, &f->reg))
        return -1;
    vg_bus_subscribe(f->bus, -1, on_event, f);
    vg_discovery_opts o = {.root = f->root, .bus = f->bus, .reg = f->reg, .groups = f->groups};
    if (vg_discovery_new(&o, &f->disc))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    vg_discovery_close(f->disc);
    vg_bus_close(f->bus);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    uv_loop_close(&f->loop);
    vg_workloads_free(f->reg);
    vg_groups_free(f->groups);
    vg_store_close(f->st);
    fx_rmtree(f->root);
    free(f);
    return 0;
}

static void scan(struct fx *f)
{
    assert_int_equal(vg_discovery_scan(f->disc), 0);
    vg_bus_drain(f->bus);
}

static void expect(struct fx *f, const char *id, int runtime, int pid, const char *name,
                   const char *group, const char *image)
{
    vg_workload *w = vg_workloads_get(f->reg, id);
    if (!w)
        fail_msg("workload %s not found", id);
    assert_string_equal(vg_runtime_name(w->runtime), vg_runtime_name(runtime));
    assert_int_equal(w->pid, pid);
    if (name)
        assert_string_equal(w->name, name);
    else
        assert_null(w->name);
    assert_string_equal(w->group, group);
    if (image)
        assert_string_equal(w->image, image);
    else
        assert_null(w->image);
    char root[64];
    snprintf(root, sizeof(root), "/proc/%d/root", pid);
    assert_string_equal(w->root, root);
    vg_workload_unref(w);
}

static void test_discovers_each_runtime(void **state)
{
    struct fx *f = *state;
    scan(f);
    assert_int_equal(vg_workloads_count(f->reg), 6);
    expect(f, f->docker, VG_RT_DOCKER, 1001, "shop-web-1", "shop-web", "nginx:1.25");
    expect(f, f->ctrd, VG_RT_CONTAINERD, 2001, "api", "api.prod", "registry.local/api:2.1");
    char shortid[16];
    snprintf(shortid, sizeof(shortid), "%.12s", f->ctrd2);
    expect(f, f->ctrd2, VG_RT_CONTAINERD, 2101, NULL, shortid, NULL);
    expect(f, f->crio, VG_RT_CRIO, 3001, "postgres", "db.data", "docker.io/library/postgres:16");
    expect(f, f->podman, VG_RT_PODMAN, 4001, "cache_1", "cache", "docker.io/library/redis:7");
    expect(f, "batch-7", VG_RT_RUNC, 5001, "batch-7", "batch", NULL);

    vg_workload *w = vg_workloads_get(f->reg, f->ctrd);
    assert_string_equal(w->pod, "api-7d9f8b6c5d-x2k4q");
    assert_string_equal(w->k8s_namespace, "prod");
    assert_string_equal(w->k8s_container, "api");
    /* 2024-05-01T12:00:00.123456789Z from runc's state */
    assert_int_equal(w->started_ns, 1714564800123456789LL);
    vg_workload_unref(w);
    w = vg_workloads_get(f->reg, f->docker);
    assert_string_equal(vg_workload_kv(w, "app"), "shop");
    assert_int_equal(w->npids, 2);
    assert_int_equal(w->started_ns, 1714564800500000000LL);
    vg_workload_unref(w);

    /* Every one was announced, and nothing else. */
    assert_int_equal(f->nseen, 6);
    assert_true(saw(f, "start", f->docker) && saw(f, "start", "batch-7"));
    assert_null(vg_workloads_get(f->reg, "gone"));
    assert_null(vg_workloads_get(f->reg, "stale"));
}

static void test_lookups(void **state)
{
    struct fx *f = *state;
    scan(f);
    vg_workload_info info;
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 1002, &info), 0);
    assert_string_equal(info.id, f->docker);
    assert_string_equal(info.group, "shop-web");
    assert_int_equal(info.pid, 1001);
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 5002, &info), 0);
    assert_string_equal(info.id, "batch-7");
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 1, &info), 0);
    assert_string_equal(info.id, "");
    assert_string_equal(info.group, "nodes");
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 77, &info), 0); /* not "stale" */
    assert_string_equal(info.group, "nodes");
    /* conmon runs beside the container, not in it */
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 3000, &info), 0);
    assert_string_equal(info.group, "nodes");
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 424242, &info), -ESRCH);

    char cg[512];
    snprintf(cg, sizeof(cg), "/machine.slice/libpod-%s.scope", f->podman);
    assert_int_equal(vg_workloads_lookup_cgroup(f->reg, cg, &info), 0);
    assert_string_equal(info.id, f->podman);
    assert_int_equal(vg_workloads_lookup_cgroup(f->reg, "/user.slice", &info), -ENOENT);

    struct stat st;
    snprintf(cg, sizeof(cg), "%s/proc/2001/ns/net", f->root);
    assert_int_equal(stat(cg, &st), 0);
    assert_int_equal(vg_workloads_lookup_netns(f->reg, st.st_ino, &info), 0);
    assert_string_equal(info.id, f->ctrd);
    assert_int_equal(vg_workloads_lookup_id(f->reg, f->crio, &info), 0);
    assert_string_equal(info.group, "db.data");
    assert_int_equal(vg_workloads_lookup_id(f->reg, "nope", &info), -ENOENT);
}

/* A process of a container that appeared after the last scan is not
 * mistaken for the host; the next scan adds the container, announces it,
 * and drops the ones that went. */
static void count_unknown(void *arg)
{
    (*(int *)arg)++;
}

static void test_appear_and_go(void **state)
{
    struct fx *f = *state;
    int unknown = 0;
    vg_workloads_set_unknown_hook(f->reg, count_unknown, &unknown);
    scan(f);
    char cg[512];
    snprintf(cg, sizeof(cg), "0::/system.slice/docker-%s.scope\n", f->newid);
    assert_int_equal(fx_proc(f->root, 6001, cg, 0), 0);
    vg_workload_info info;
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 6001, &info), -EAGAIN);
    assert_int_equal(unknown, 1); /* discovery is asked to rescan now */

    char path[256];
    snprintf(path, sizeof(path), "%s/proc/4001", f->root);
    fx_rmtree(path);
    f->nseen = 0;
    scan(f);
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 6001, &info), 0);
    assert_string_equal(info.id, f->newid);
    assert_int_equal(info.runtime, VG_RT_DOCKER);
    assert_int_equal(f->nseen, 2);
    assert_true(saw(f, "start", f->newid));
    assert_true(saw(f, "stop", f->podman));
    assert_null(vg_workloads_get(f->reg, f->podman));

    /* An unchanged container keeps its record (and announces nothing);
     * its process count follows. */
    vg_workload *before = vg_workloads_get(f->reg, f->docker);
    snprintf(cg, sizeof(cg), "0::/system.slice/docker-%s.scope\n", f->docker);
    assert_int_equal(fx_proc(f->root, 1003, cg, 1001), 0);
    f->nseen = 0;
    scan(f);
    assert_int_equal(atomic_load(&before->npids), 3);
    vg_workload *after = vg_workloads_get(f->reg, f->docker);
    assert_ptr_equal(before, after);
    assert_int_equal(f->nseen, 0);
    vg_workload_unref(before);
    vg_workload_unref(after);
}

/* A reference taken before a rescan stays valid after the record left. */
static void test_reference_outlives_rescan(void **state)
{
    struct fx *f = *state;
    scan(f);
    vg_workload *w = vg_workloads_get(f->reg, "batch-7");
    char path[256];
    snprintf(path, sizeof(path), "%s/proc/5001", f->root);
    fx_rmtree(path);
    snprintf(path, sizeof(path), "%s/proc/5002", f->root);
    fx_rmtree(path);
    scan(f);
    assert_null(vg_workloads_get(f->reg, "batch-7"));
    assert_string_equal(w->name, "batch-7");
    vg_workload_unref(w);
}

static void test_mode_follows_group(void **state)
{
    struct fx *f = *state;
    scan(f);
    vg_workload_info info;
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 2001, &info), 0);
    assert_int_equal(info.mode, VG_MODE_LEARN);
    assert_int_equal(vg_groups_set_mode(f->groups, "api.prod", VG_MODE_PROTECT, NULL), 0);
    assert_int_equal(vg_groups_set_mode(f->groups, "nodes", VG_MODE_MONITOR, NULL), 0);
    vg_discovery_modes_changed(f->disc);
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 2001, &info), 0);
    assert_int_equal(info.mode, VG_MODE_PROTECT);
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 1, &info), 0);
    assert_int_equal(info.mode, VG_MODE_MONITOR);
    assert_int_equal(vg_workloads_lookup_pid(f->reg, 1001, &info), 0);
    assert_int_equal(info.mode, VG_MODE_LEARN);
}

/* Plugin threads look up while the loop rescans and containers come and
 * go: every answer is either the right workload or a documented error,
 * and (under ASan) no record is used after it was freed. */
struct hammer {
    struct fx *f;
    atomic_int stop;
    atomic_uint wrong, found;
};

static void *hammer_thread(void *arg)
{
    struct hammer *h = arg;
    static const int pids[] = {1001, 1002, 2001, 5001, 5002, 1, 7001};
    unsigned found = 0, wrong = 0;
    while (!atomic_load(&h->stop)) {
        for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
            vg_workload_info info;
            int rc = vg_workloads_lookup_pid(h->f->reg, pids[i], &info);
            if (rc == 0 && pids[i] == 2001)
                wrong += strcmp(info.id, h->f->ctrd) != 0;
            if (rc == 0 && pids[i] == 7001)
                wrong += info.id[0] && strncmp(info.id, "flip-", 5) != 0;
            found += rc == 0;
            vg_workload *w = vg_workloads_get(h->f->reg, "batch-7");
            if (w)
                wrong += strcmp(w->name, "batch-7") != 0;
            vg_workload_unref(w);
        }
    }
    atomic_fetch_add(&h->found, found);
    atomic_fetch_add(&h->wrong, wrong);
    return NULL;
}

static void test_lookups_during_rescans(void **state)
{
    struct fx *f = *state;
    scan(f);
    struct hammer h = {.f = f};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer_thread, &h);
    char id[32], cg[64];
    for (int round = 0; round < 60; round++) {
        /* a container that comes and goes, under a new id each time */
        snprintf(id, sizeof(id), "flip-%d", round);
        if (round % 2 == 0) {
            fx_runc_state(f->root, "/run/runc", id, 7001, "/srv/flip");
            snprintf(cg, sizeof(cg), "0::/%s\n", id);
            fx_write(f->root, cg, "/proc/7001/cgroup");
        } else {
            char dir[256];
            snprintf(dir, sizeof(dir), "%s/run/runc/flip-%d", f->root, round - 1);
            fx_rmtree(dir);
            fx_write(f->root, "0::/user.slice\n", "/proc/7001/cgroup");
        }
        scan(f);
    }
    atomic_store(&h.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&h.wrong), 0);
    assert_true(atomic_load(&h.found) > 0);
}

static void test_cgroup_lines(void **state)
{
    char key[256], id[80];
    assert_int_equal(vg_cgroup_key("0::/a/b\n", key, sizeof(key)), 0);
    assert_string_equal(key, "/a/b");
    /* hybrid with an empty v2 line: the v1 systemd line */
    assert_int_equal(vg_cgroup_key("5:pids:/p\n1:name=systemd:/s\n0::/\n", key, sizeof(key)), 0);
    assert_string_equal(key, "/s");
    /* pure v1 without systemd: pids, then memory */
    assert_int_equal(vg_cgroup_key("3:cpu,cpuacct:/c\n2:memory:/m\n", key, sizeof(key)), 0);
    assert_string_equal(key, "/m");
    assert_int_equal(vg_cgroup_key("garbage", key, sizeof(key)), -EINVAL);
    char cid[65], path[256];
    fx_id(cid, 7);
    snprintf(path, sizeof(path), "/docker/%s", cid);
    assert_int_equal(vg_cgroup_classify(path, id, sizeof(id)), VG_RT_DOCKER);
    assert_string_equal(id, cid);
    snprintf(path, sizeof(path), "/kubepods/burstable/pod1/%s", cid);
    assert_int_equal(vg_cgroup_classify(path, id, sizeof(id)), VG_RT_CONTAINERD);
    snprintf(path, sizeof(path), "/libpod_parent/libpod-%s", cid);
    assert_int_equal(vg_cgroup_classify(path, id, sizeof(id)), VG_RT_PODMAN);
    snprintf(path, sizeof(path), "/machine.slice/libpod-conmon-%s.scope", cid);
    assert_int_equal(vg_cgroup_classify(path, id, sizeof(id)), VG_RT_HOST);
    snprintf(path, sizeof(path), "/x/docker-%.63s.scope", cid); /* 63 digits */
    assert_int_equal(vg_cgroup_classify(path, id, sizeof(id)), VG_RT_HOST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovers_each_runtime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_appear_and_go, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_outlives_rescan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_follows_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookups_during_rescans, setup, teardown),
        cmocka_unit_test(test_cgroup_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
