/*
 * The CIS check engine against fixture roots built here: a host with a badly
 * and a well configured Docker, OCI bundles of a privileged and a hardened
 * container, Kubernetes manifests good and bad, image tarballs in the
 * `docker save` layout, and a directory of custom checks. Each test asserts
 * the exact result of named checks, as `vigil-scan bench` would show them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "cis.h"
#include "log_capture.h"

#define LUA_DIR TEST_SOURCE_DIR "/lua/cis"

static char tmp[64]; /* short, so that every path built from it fits */

/* ---- fixture helpers ------------------------------------------------------ */

static void mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

/* Writes root/rel with the given mode (dirs made as needed). */
static void put(const char *root, const char *rel, int mode, const char *fmt, ...)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdirs(path);
    *slash = '/';
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* A /proc/<pid> entry: cmdline with NUL-separated args, and comm. */
static void put_proc(const char *root, int pid, const char *comm, const char *const *args)
{
    char rel[64], path[PATH_MAX];
    snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
    put(root, rel, 0644, "%s\n", comm);
    snprintf(path, sizeof(path), "%s/proc/%d/cmdline", root, pid);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; args[i]; i++)
        fwrite(args[i], 1, strlen(args[i]) + 1, f);
    fclose(f);
}

/* out: 256 bytes. */
static void sub(char *out, const char *name)
{
    snprintf(out, 256, "%s/%s", tmp, name);
    mkdirs(out);
}

static cis_report *run(const char *root, unsigned targets, const char *extra_key, const char *extra)
{
    cis_opts o = {.root = root, .lua_dir = LUA_DIR, .targets = targets};
    if (extra_key && !strcmp(extra_key, "container"))
        o.container = extra;
    else if (extra_key && !strcmp(extra_key, "manifests"))
        o.manifests = extra;
    else if (extra_key && !strcmp(extra_key, "image"))
        o.image = extra;
    else if (extra_key && !strcmp(extra_key, "checks"))
        o.checks_dir = extra;
    else if (extra_key && !strcmp(extra_key, "tag"))
        o.tag = extra;
    cis_report *rep = NULL;
    char err[512];
    int rc = cis_run(&o, &rep, err, sizeof(err));
    if (rc < 0)
        fail_msg("cis_run: %s", err);
    return rep;
}

static const cis_result *find(const cis_report *r, const char *target, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->results[i].target && !strcmp(r->results[i].target, target) &&
            !strcmp(r->results[i].id, id))
            return &r->results[i];
    return NULL;
}

/* Asserts the status of one check, printing its evidence when it differs. */
#define expect(rep, target, id, want)                                                              \
    do {                                                                                           \
        const cis_result *x_ = find(rep, target, id);                                              \
        if (!x_)                                                                                   \
            fail_msg("no result for %s %s", target, id);                                           \
        if (x_->status != (want))                                                                  \
            fail_msg("%s %s: %s (%s), want %s", target, id, cis_status_name(x_->status),           \
                     x_->evidence, cis_status_name(want));                                         \
    } while (0)

static void expect_evidence(const cis_report *r, const char *target, const char *id,
                            const char *needle)
{
    const cis_result *x = find(r, target, id);
    assert_non_null(x);
    if (!strstr(x->evidence, needle))
        fail_msg("%s %s evidence '%s' lacks '%s'", target, id, x->evidence, needle);
}

/* ---- the host ------------------------------------------------------------- */

static void make_host(const char *root, bool good)
{
    const char *dockerd[] = {"/usr/bin/dockerd", "-H", good ? "fd://" : "tcp://0.0.0.0:2375",
                             "--containerd=/run/containerd/containerd.sock", NULL};
    put_proc(root, 100, "dockerd", dockerd);
    put(root, "etc/docker/daemon.json", good ? 0644 : 0666,
        good ? "{\"icc\": false, \"log-driver\": \"journald\", \"live-restore\": true,"
               " \"userland-proxy\": false, \"no-new-privileges\": true, \"userns-remap\": "
               "\"default\"}"
             : "{\"icc\": true, \"insecure-registries\": [\"registry.local:5000\"],"
               " \"experimental\": true, \"storage-driver\": \"aufs\"}");
    put(root, "lib/systemd/system/docker.service", good ? 0644 : 0666, "[Service]\n");
    put(root, "lib/systemd/system/docker.socket", 0644, "[Socket]\n");
    put(root, "usr/bin/dockerd", 0755, "");
    put(root, "usr/bin/docker", 0755, "");
    put(root, "usr/bin/runc", 0755, "");
    put(root, "etc/audit/rules.d/docker.rules", 0640,
        "# docker\n-w /usr/bin/dockerd -k docker\n-w /usr/bin/docker -k docker\n%s",
        good ? "-a always,exit -F path=/usr/bin/runc -F perm=x -k docker\n" : "");
    put(root, "proc/sys/net/ipv4/tcp_syncookies", 0644, "%d\n", good ? 1 : 0);
    put(root, "proc/sys/kernel/randomize_va_space", 0644, "2\n");
    put(root, "proc/sys/net/ipv4/conf/all/send_redirects", 0644, "%d\n", good ? 0 : 1);
    put(root, "proc/sys/net/ipv4/conf/default/send_redirects", 0644, "0\n");
    put(root, "etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n%s",
        good ? "app:x:1000:1000::/home/app:/bin/sh\n" : "toor:x:0:0::/root:/bin/sh\n");
    put(root, "etc/shadow", good ? 0640 : 0644, "root:!:19000::::::\n%s",
        good ? "app:$6$x:19000::::::\n" : "toor::19000::::::\n");
    put(root, "etc/group", 0644, "root:x:0:\ndocker:x:999:\n");
}

static void test_host_bad(void **state)
{
    char root[256];
    sub(root, "host-bad");
    make_host(root, false);
    char unit[512];
    snprintf(unit, sizeof(unit), "%s/lib/systemd/system/docker.socket", root);
    assert_int_equal(chown(unit, 1000, 1000), 0);
    cis_report *r = run(root, CIS_HOST, NULL, NULL);
    expect(r, "host", "1.1.3", CIS_PASS);  /* -w /usr/bin/docker(d) -k docker */
    expect(r, "host", "1.1.18", CIS_WARN); /* runc not audited */
    expect(r, "host", "1.1.12", CIS_INFO); /* no containerd config: nothing to audit */
    expect(r, "host", "2.2", CIS_WARN);
    expect_evidence(r, "host", "2.2", "daemon.json icc = true");
    expect(r, "host", "2.5", CIS_WARN);
    expect(r, "host", "2.6", CIS_WARN);
    expect(r, "host", "2.7", CIS_WARN); /* tcp without TLS */
    expect(r, "host", "2.18", CIS_WARN);
    expect(r, "host", "3.2", CIS_WARN); /* docker.service 0666 */
    expect(r, "host", "3.3", CIS_WARN); /* docker.socket owned by 1000 */
    expect(r, "host", "3.4", CIS_PASS);
    expect(r, "host", "3.18", CIS_WARN);
    expect_evidence(r, "host", "3.18", "0666");
    expect(r, "host", "3.2.8", CIS_WARN);
    expect(r, "host", "3.1.2", CIS_WARN);
    expect(r, "host", "1.5.3", CIS_PASS);
    expect(r, "host", "6.1.3", CIS_WARN);
    expect(r, "host", "6.2.1", CIS_WARN);
    expect(r, "host", "6.2.5", CIS_WARN);
    expect_evidence(r, "host", "6.2.5", "toor");
    assert_int_equal(r->counts[CIS_ERROR], 0);
    cis_report_free(r);
}

static void test_host_good(void **state)
{
    char root[256];
    sub(root, "host-good");
    make_host(root, true);
    cis_report *r = run(root, CIS_HOST, NULL, NULL);
    static const char *const pass[] = {"1.1.3", "1.1.18", "2.2",   "2.5",  "2.6",   "2.7",
                                       "2.9",   "2.13",   "2.14",  "2.15", "2.16",  "2.18",
                                       "3.1",   "3.2",    "3.17",  "3.18", "3.2.8", "3.1.2",
                                       "6.1.3", "6.2.1",  "6.2.5", NULL};
    for (int i = 0; pass[i]; i++)
        expect(r, "host", pass[i], CIS_PASS);
    assert_int_equal(r->counts[CIS_ERROR], 0);
    cis_report_free(r);
}

/* A check that cannot see its input is not a pass: a root without
 * /etc/passwd gets INFO with the reason from the checks that read it. */
static void test_missing_input_is_not_a_pass(void **state)
{
    char root[256];
    sub(root, "host-no-passwd");
    make_host(root, true);
    char path[512];
    snprintf(path, sizeof(path), "%s/etc/passwd", root);
    assert_int_equal(unlink(path), 0);
    cis_report *r = run(root, CIS_HOST, NULL, NULL);
    expect(r, "host", "6.2.5", CIS_INFO);
    expect(r, "host", "6.2.2", CIS_INFO);
    expect_evidence(r, "host", "6.2.5", "/etc/passwd is not readable");
    cis_report_free(r);
}

/* A symlink may not lead out of the root: daemon.json pointing above the
 * root must not read the file that is there on the real filesystem. */
static void test_root_confinement(void **state)
{
    char root[256], outside[128], link[512];
    sub(root, "confined");
    make_host(root, false);
    snprintf(outside, sizeof(outside), "%s/outside.json", tmp);
    FILE *f = fopen(outside, "w");
    assert_non_null(f);
    fputs("{\"icc\": false}", f);
    fclose(f);
    snprintf(link, sizeof(link), "%s/etc/docker/daemon.json", root);
    unlink(link);
    assert_int_equal(symlink("../../../outside.json", link), 0);
    cis_report *r = run(root, CIS_HOST, NULL, NULL);
    expect(r, "host", "2.2", CIS_WARN); /* icc not set: the outside file was not read */
    expect_evidence(r, "host", "2.2", "not set");
    cis_report_free(r);
    unlink(link);
    assert_int_equal(symlink(outside, link), 0); /* absolute: resolved under the root too */
    r = run(root, CIS_HOST, NULL, NULL);
    expect(r, "host", "2.2", CIS_WARN);
    cis_report_free(r);
}

/* ---- containers (OCI bundles) ----------------------------------------------- */

#define ALL_CAPS                                                                                   \
    "\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_SYS_ADMIN\",\"CAP_SYS_MODULE\",\"CAP_SYS_RAWIO\","   \
    "\"CAP_MAC_ADMIN\",\"CAP_NET_ADMIN\",\"CAP_SYS_PTRACE\",\"CAP_NET_RAW\""

static void make_containers(const char *root)
{
    /* A privileged container as `docker run --privileged --net=host -v
     * /var/run/docker.sock:...` leaves it: runc state plus bundle. */
    put(root, "run/runc/priv/state.json", 0600,
        "{\"id\":\"priv\",\"init_process_pid\":4242,"
        "\"config\":{\"labels\":[\"bundle=/var/lib/bundles/priv\"]}}");
    put(root, "var/lib/bundles/priv/config.json", 0600,
        "{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
        "\"args\":[\"/usr/sbin/sshd\",\"-D\"],\"capabilities\":{\"bounding\":[" ALL_CAPS "]}},"
        "\"root\":{\"path\":\"rootfs\"},"
        "\"mounts\":[{\"destination\":\"/var/run/docker.sock\",\"type\":\"bind\","
        "\"source\":\"/var/run/docker.sock\",\"options\":[\"rbind\",\"rw\"]},"
        "{\"destination\":\"/host\",\"type\":\"bind\",\"source\":\"/"
        "etc\",\"options\":[\"rbind\"]}],"
        "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"uts\"}],"
        "\"devices\":[{\"path\":\"/dev/sda\",\"type\":\"b\"}]}}");
    /* A hardened one, as containerd keeps its bundle. */
    put(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/hard/config.json", 0600,
        "{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":1000,\"gid\":1000},"
        "\"args\":[\"/"
        "app\"],\"noNewPrivileges\":true,\"apparmorProfile\":\"cri-containerd.apparmor.d\","
        "\"selinuxLabel\":\"system_u:system_r:container_t:s0:c1,c2\","
        "\"capabilities\":{\"bounding\":[\"CAP_NET_BIND_SERVICE\"]}},"
        "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
        "\"annotations\":{\"io.kubernetes.cri.container-name\":\"web\"},"
        "\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\","
        "\"options\":[\"rbind\",\"ro\"]}],"
        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
        "\"resources\":{\"memory\":{\"limit\":268435456},\"cpu\":{\"shares\":512},"
        "\"pids\":{\"limit\":100}},"
        "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],"
        "\"action\":\"SCMP_ACT_ALLOW\"}]}}}");
}

/* A container whose main process is not sshd, with an sshd started inside
 * later: found through the processes in its init's cgroup. */
static void make_sshd_container(const char *root)
{
    put(root, "run/runc/bg/state.json", 0600,
        "{\"init_process_pid\":5000,\"config\":{\"labels\":[\"bundle=/b/bg\"]}}");
    put(root, "b/bg/config.json", 0600, "{\"process\":{\"args\":[\"/app\"]},\"root\":{}}");
    const char *app[] = {"/app", NULL}, *sshd[] = {"/usr/sbin/sshd", "-D", NULL};
    put_proc(root, 5000, "app", app);
    put_proc(root, 5001, "sshd", sshd);
    put_proc(root, 6000, "sshd", sshd); /* the host's own sshd */
    put(root, "proc/5000/cgroup", 0644, "0::/system.slice/runc-bg.scope\n");
    put(root, "proc/5001/cgroup", 0644, "0::/system.slice/runc-bg.scope\n");
    put(root, "proc/6000/cgroup", 0644, "0::/system.slice/ssh.service\n");
    /* And one without: the host's sshd is not its own. */
    put(root, "run/runc/quiet/state.json", 0600,
        "{\"init_process_pid\":7000,\"config\":{\"labels\":[\"bundle=/b/bg\"]}}");
    put_proc(root, 7000, "app", app);
    put(root, "proc/7000/cgroup", 0644, "0::/system.slice/runc-quiet.scope\n");
}

/* "If applicable" as CIS means it: AppArmor (5.2) and SELinux (5.3) do not
 * apply on a host whose kernel has neither, so a container without a
 * profile is not a finding there; on a host with them it is. And what only
 * Docker records (restart policy, cgroup parent, user namespace mode,
 * health check, swarm state) is read under dockerd's own --data-root. */
static void test_if_applicable(void **state)
{
    (void)state;
    char root[256];
    sub(root, "applicable");
    const char *dockerd[] = {"/usr/bin/dockerd", "--data-root", "/srv/dk", "--exec-root",
                             "/srv/dkx", NULL};
    put_proc(root, 300, "dockerd", dockerd);
    put(root, "srv/dkx/runtime-runc/moby/c1/state.json", 0600,
        "{\"init_process_pid\":0,\"config\":{\"labels\":[\"bundle=/srv/b/c1\"]}}");
    put(root, "srv/b/c1/config.json", 0600,
        "{\"process\":{\"user\":{\"uid\":0}},\"root\":{},\"linux\":{\"namespaces\":"
        "[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"mount\"}]}}");
    put(root, "srv/dk/containers/c1/hostconfig.json", 0600,
        "{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":10},"
        "\"CgroupParent\":\"/custom\",\"UsernsMode\":\"host\",\"NetworkMode\":\"bridge\"}");
    put(root, "srv/dk/containers/c1/config.v2.json", 0600, "{\"Config\":{}}");

    cis_report *r = run(root, CIS_CONTAINERS, NULL, NULL);
    expect(r, "containers", "5.2", CIS_PASS);
    expect_evidence(r, "containers", "5.2", "not applicable: AppArmor is not enabled");
    expect(r, "containers", "5.3", CIS_PASS);
    expect_evidence(r, "containers", "5.3", "not applicable: SELinux is not enabled");
    expect(r, "containers", "5.1", CIS_PASS);
    expect_evidence(r, "containers", "5.15", "on-failure:10");
    expect_evidence(r, "containers", "5.25", "cgroup parent /custom");
    expect_evidence(r, "containers", "5.31", "--userns=host");
    expect_evidence(r, "containers", "5.27", "no health check");
    expect(r, "containers", "5.30", CIS_INFO); /* manual in v1.6.0: docker-bench says INFO */
    const cis_result *x = find(r, "containers", "5.3");
    assert_non_null(x->description); /* where vigil and docker-bench differ, it says why */
    assert_string_equal(x->version, "CIS Docker Benchmark v1.6.0");
    cis_report_free(r);

    put(root, "sys/module/apparmor/parameters/enabled", 0644, "Y\n");
    put(root, "sys/fs/selinux/enforce", 0644, "1\n");
    put(root, "srv/dk/swarm/docker-state.json", 0600, "{\"LocalAddr\":\"10.0.0.1\"}");
    r = run(root, CIS_CONTAINERS, NULL, NULL);
    expect(r, "containers", "5.2", CIS_WARN);
    expect(r, "containers", "5.3", CIS_WARN);
    expect(r, "containers", "5.1", CIS_WARN);
    cis_report_free(r);
}

static void test_containers(void **state)
{
    char root[256];
    sub(root, "containers");
    make_containers(root);
    /* AppArmor enabled in the kernel: 5.2 applies (see test_if_applicable). */
    put(root, "sys/module/apparmor/parameters/enabled", 0644, "Y\n");
    cis_report *r = run(root, CIS_CONTAINERS, "container", "priv");
    static const char *const warn[] = {"5.2",  "5.4",  "5.5",  "5.6",  "5.7",  "5.10",
                                       "5.11", "5.13", "5.16", "5.17", "5.18", "5.22",
                                       "5.26", "5.29", "5.32", "4.1",  NULL};
    for (int i = 0; warn[i]; i++)
        expect(r, "containers", warn[i], CIS_WARN);
    expect(r, "containers", "5.21", CIS_PASS); /* it has its own UTS namespace */
    expect_evidence(r, "containers", "5.5", "priv: privileged");
    expect_evidence(r, "containers", "5.32", "/var/run/docker.sock");
    expect_evidence(r, "containers", "5.6", "/etc");
    cis_report_free(r);

    r = run(root, CIS_CONTAINERS, "container", "hard");
    static const char *const pass[] = {"5.2",  "5.3",  "5.4",  "5.5",  "5.6",  "5.7",  "5.10",
                                       "5.11", "5.12", "5.13", "5.16", "5.17", "5.18", "5.20",
                                       "5.21", "5.22", "5.26", "5.29", "5.32", "4.1",  NULL};
    for (int i = 0; pass[i]; i++)
        expect(r, "containers", pass[i], CIS_PASS);
    cis_report_free(r);

    make_sshd_container(root);
    r = run(root, CIS_CONTAINERS, "container", "bg");
    expect(r, "containers", "5.7", CIS_WARN);
    expect_evidence(r, "containers", "5.7", "sshd running (pid 5001)");
    cis_report_free(r);
    r = run(root, CIS_CONTAINERS, "container", "quiet");
    expect(r, "containers", "5.7", CIS_PASS);
    cis_report_free(r);

    /* All at once: one WARN naming the privileged one, not the hardened one. */
    r = run(root, CIS_CONTAINERS, NULL, NULL);
    expect(r, "containers", "5.5", CIS_WARN);
    const cis_result *x = find(r, "containers", "5.5");
    assert_null(strstr(x->evidence, "web"));
    cis_report_free(r);

    /* No containers at all is said, not passed. */
    char empty[256];
    sub(empty, "no-containers");
    r = run(empty, CIS_CONTAINERS, NULL, NULL);
    expect(r, "containers", "5.5", CIS_INFO);
    cis_report_free(r);
}

/* ---- Kubernetes ------------------------------------------------------------ */

static const char bad_manifest[] =
    "apiVersion: v1\n"
    "kind: Pod\n"
    "metadata: {name: debug, namespace: prod}\n"
    "spec:\n"
    "  hostPID: true\n"
    "  hostIPC: true\n"
    "  hostNetwork: true\n"
    "  volumes: [{name: root, hostPath: {path: /}}]\n"
    "  containers:\n"
    "  - name: shell\n"
    "    image: busybox\n"
    "    ports: [{containerPort: 80, hostPort: 80}]\n"
    "    env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: t, key: k}}}]\n"
    "    securityContext:\n"
    "      privileged: true\n"
    "      runAsUser: 0\n"
    "      capabilities: {add: [SYS_ADMIN, NET_RAW]}\n"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: api}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers: [{name: api, image: api:1}]\n";

static const char good_manifest[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: web, namespace: web}\n"
    "spec:\n"
    "  template:\n"
    "    metadata:\n"
    "      annotations: {container.apparmor.security.beta.kubernetes.io/web: runtime/default}\n"
    "    spec:\n"
    "      automountServiceAccountToken: false\n"
    "      securityContext:\n"
    "        runAsNonRoot: true\n"
    "        runAsUser: 1000\n"
    "        seccompProfile: {type: RuntimeDefault}\n"
    "      containers:\n"
    "      - name: web\n"
    "        image: web:1\n"
    "        securityContext:\n"
    "          allowPrivilegeEscalation: false\n"
    "          readOnlyRootFilesystem: true\n"
    "          capabilities: {drop: [ALL]}\n"
    "---\n"
    "apiVersion: networking.k8s.io/v1\n"
    "kind: NetworkPolicy\n"
    "metadata: {name: default-deny, namespace: web}\n"
    "spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";

static void test_manifests(void **state)
{
    char dir[256];
    sub(dir, "manifests");
    put(dir, "bad/pod.yaml", 0644, "%s", bad_manifest);
    put(dir, "good/web.yaml", 0644, "%s", good_manifest);
    char bad[512], good[512], empty[256];
    snprintf(bad, sizeof(bad), "%s/bad", dir);
    snprintf(good, sizeof(good), "%s/good/web.yaml", dir);
    sub(empty, "k8s-empty-root");

    cis_report *r = run(empty, CIS_KUBERNETES, "manifests", bad);
    static const char *const warn[] = {
        "5.1.6",  "5.2.2",  "5.2.3", "5.2.4", "5.2.5", "5.2.6", "5.2.7", "5.2.8", "5.2.9", "5.2.10",
        "5.2.12", "5.2.13", "5.3.2", "5.4.1", "5.7.2", "5.7.3", "5.7.4", "VK-1",  "VK-2",  NULL};
    for (int i = 0; warn[i]; i++)
        expect(r, "kubernetes", warn[i], CIS_WARN);
    expect_evidence(r, "kubernetes", "5.2.2", "Pod/prod/debug: shell is privileged");
    expect_evidence(r, "kubernetes", "5.2.9", "SYS_ADMIN");
    expect_evidence(r, "kubernetes", "5.3.2", "namespace prod");
    expect(r, "kubernetes", "4.2.1", CIS_INFO); /* no kubelet under this root */
    cis_report_free(r);

    r = run(empty, CIS_KUBERNETES, "manifests", good);
    for (int i = 0; warn[i]; i++)
        expect(r, "kubernetes", warn[i], CIS_PASS);
    cis_report_free(r);

    /* A manifest that does not parse is an ERROR, not a PASS. */
    put(dir, "broken/x.yaml", 0644, "kind: Pod\nspec: [unclosed\n");
    char broken[512];
    snprintf(broken, sizeof(broken), "%s/broken", dir);
    r = run(empty, CIS_KUBERNETES, "manifests", broken);
    expect(r, "kubernetes", "5.2.2", CIS_ERROR);
    expect_evidence(r, "kubernetes", "5.2.2", "x.yaml");
    cis_report_free(r);
}

static void make_kubelet(const char *root, bool good)
{
    const char *args[] = {"/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml",
                          "--kubeconfig=/etc/kubernetes/kubelet.conf", NULL};
    put_proc(root, 300, "kubelet", args);
    put(root, "var/lib/kubelet/config.yaml", good ? 0600 : 0644,
        "apiVersion: kubelet.config.k8s.io/v1beta1\n"
        "kind: KubeletConfiguration\n"
        "authentication:\n"
        "  anonymous: {enabled: %s}\n"
        "  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}\n"
        "authorization: {mode: %s}\n"
        "readOnlyPort: %d\n"
        "protectKernelDefaults: true\n",
        good ? "false" : "true", good ? "Webhook" : "AlwaysAllow", good ? 0 : 10255);
    put(root, "etc/kubernetes/kubelet.conf", good ? 0600 : 0644, "apiVersion: v1\n");
    put(root, "etc/kubernetes/pki/ca.crt", 0600, "cert\n");
}

/* kube-bench's node section (cfg/cis-1.8/node.yaml), every check: a
 * kubelet whose every setting fails, and one whose every setting passes.
 * Flags override the config file as in kube-bench (and the kubelet): the
 * bad node's config disables anonymous auth but its command line enables
 * it; the good node's config opens the read-only port but its flag closes
 * it. */
static void make_kubelet18(const char *root, bool good)
{
    const char *bad_args[] = {"/usr/bin/kubelet",
                              "--config=/var/lib/kubelet/config.yaml",
                              "--kubeconfig=/etc/kubernetes/kubelet.conf",
                              "--anonymous-auth=true",
                              "--hostname-override=node-1",
                              "--feature-gates=Other=true,RotateKubeletServerCertificate=false",
                              NULL};
    const char *good_args[] = {"/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml",
                               "--kubeconfig=/etc/kubernetes/kubelet.conf", "--read-only-port=0",
                               NULL};
    put_proc(root, 300, "kubelet", good ? good_args : bad_args);
    int mode = good ? 0600 : 0644;
    if (good)
        put(root, "var/lib/kubelet/config.yaml", mode,
            "kind: KubeletConfiguration\n"
            "authentication:\n"
            "  anonymous: {enabled: false}\n"
            "  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}\n"
            "authorization: {mode: Webhook}\n"
            "readOnlyPort: 10255\n"
            "streamingConnectionIdleTimeout: 5m\n"
            "makeIPTablesUtilChains: true\n"
            "eventRecordQPS: 5\n"
            "tlsCertFile: /var/lib/kubelet/pki/kubelet.crt\n"
            "tlsPrivateKeyFile: /var/lib/kubelet/pki/kubelet.key\n"
            "rotateCertificates: true\n"
            "featureGates: {RotateKubeletServerCertificate: true}\n"
            "tlsCipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n"
            "podPidsLimit: 4096\n");
    else
        put(root, "var/lib/kubelet/config.yaml", mode,
            "kind: KubeletConfiguration\n"
            "authentication:\n"
            "  anonymous: {enabled: false}\n"
            "authorization: {mode: AlwaysAllow}\n"
            "readOnlyPort: 10255\n"
            "streamingConnectionIdleTimeout: 0\n"
            "makeIPTablesUtilChains: false\n"
            "eventRecordQPS: -1\n"
            "tlsCertFile: /var/lib/kubelet/pki/kubelet.crt\n"
            "rotateCertificates: false\n"
            "tlsCipherSuites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA]\n");
    put(root, "etc/systemd/system/kubelet.service.d/10-kubeadm.conf", mode, "[Service]\n");
    put(root, "etc/kubernetes/kubelet.conf", mode, "apiVersion: v1\n");
    put(root, "etc/kubernetes/proxy.conf", mode, "apiVersion: v1\n");
    if (good) {
        put(root, "etc/kubernetes/pki/ca.crt", 0600, "cert\n");
        return;
    }
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", root);
    assert_int_equal(chown(p, 1000, 1000), 0);
    snprintf(p, sizeof(p), "%s/etc/kubernetes/kubelet.conf", root);
    assert_int_equal(chown(p, 0, 1000), 0);
}

static void test_kubelet_node_section(void **state)
{
    (void)state;
    static const char *const ids[] = {
        "4.1.1", "4.1.2", "4.1.3", "4.1.5", "4.1.6", "4.1.9", "4.2.1",  "4.2.2",  "4.2.3",
        "4.2.4", "4.2.5", "4.2.6", "4.2.7", "4.2.8", "4.2.9", "4.2.10", "4.2.11", "4.2.12",
        "4.2.13", NULL};
    char bad[256], good[256];
    sub(bad, "kubelet18-bad");
    sub(good, "kubelet18-good");
    make_kubelet18(bad, false);
    make_kubelet18(good, true);

    cis_report *r = run(bad, CIS_KUBERNETES, NULL, NULL);
    for (int i = 0; ids[i]; i++)
        expect(r, "kubernetes", ids[i], CIS_WARN);
    expect(r, "kubernetes", "4.1.7", CIS_INFO); /* no CA file: not a finding, not a pass */
    expect(r, "kubernetes", "4.1.8", CIS_INFO);
    expect_evidence(r, "kubernetes", "4.2.1", "--anonymous-auth = true"); /* the flag wins */
    expect_evidence(r, "kubernetes", "4.2.11", "--feature-gates RotateKubeletServerCertificate = false");
    expect_evidence(r, "kubernetes", "4.2.12", "TLS_RSA_WITH_AES_128_CBC_SHA");
    expect_evidence(r, "kubernetes", "4.1.2", "owned by 1000:1000");
    const cis_result *x = find(r, "kubernetes", "4.2.1");
    assert_string_equal(x->version, "CIS Kubernetes Benchmark v1.8.0");
    assert_string_equal(x->title, "Ensure that the --anonymous-auth argument is set to false");
    cis_report_free(r);

    r = run(good, CIS_KUBERNETES, NULL, NULL);
    for (int i = 0; ids[i]; i++)
        expect(r, "kubernetes", ids[i], CIS_PASS);
    expect(r, "kubernetes", "4.1.7", CIS_PASS);
    expect_evidence(r, "kubernetes", "4.2.4", "--read-only-port = 0"); /* over readOnlyPort: 10255 */
    cis_report_free(r);
}

static void test_kubelet(void **state)
{
    char bad[256], good[256];
    sub(bad, "kubelet-bad");
    sub(good, "kubelet-good");
    make_kubelet(bad, false);
    make_kubelet(good, true);
    static const char *const ids[] = {"4.1.5", "4.1.9", "4.2.1", "4.2.2", "4.2.4", NULL};
    cis_report *r = run(bad, CIS_KUBERNETES, NULL, NULL);
    for (int i = 0; ids[i]; i++)
        expect(r, "kubernetes", ids[i], CIS_WARN);
    expect(r, "kubernetes", "4.2.3", CIS_PASS);
    expect(r, "kubernetes", "4.1.7", CIS_PASS);
    expect(r, "kubernetes", "4.2.6", CIS_PASS); /* makeIPTablesUtilChains unset: the default, true */
    cis_report_free(r);
    r = run(good, CIS_KUBERNETES, NULL, NULL);
    for (int i = 0; ids[i]; i++)
        expect(r, "kubernetes", ids[i], CIS_PASS);
    cis_report_free(r);
}

/* ---- images (docker save tarballs) ------------------------------------------- */

typedef struct membuf {
    char *data;
    size_t len;
} membuf;

static void mb_add(membuf *b, const void *p, size_t n)
{
    b->data = realloc(b->data, b->len + n);
    assert_non_null(b->data);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* One ustar entry (type '0' file or '5' directory) with its data. */
static void tar_add(membuf *b, const char *name, int mode, const void *data, size_t len)
{
    char h[512] = {0};
    snprintf(h, 100, "%s", name);
    snprintf(h + 100, 8, "%07o", mode);
    snprintf(h + 108, 8, "%07o", 0);
    snprintf(h + 116, 8, "%07o", 0);
    snprintf(h + 124, 12, "%011o", (unsigned)len);
    snprintf(h + 136, 12, "%011o", 0);
    h[156] = name[strlen(name) - 1] == '/' ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    mb_add(b, h, 512);
    mb_add(b, data, len);
    static const char zero[512];
    if (len % 512)
        mb_add(b, zero, 512 - len % 512);
}

static void tar_end(membuf *b)
{
    static const char zero[1024];
    mb_add(b, zero, sizeof(zero));
}

static void make_image(const char *path, bool good)
{
    membuf l1 = {0}, l2 = {0}, out = {0};
    tar_add(&l1, "bin/", 0755, "", 0);
    tar_add(&l1, "bin/sh", 0755, "x", 1);
    tar_add(&l1, "bin/su", good ? 0755 : 04755, "x", 1);
    if (!good)
        tar_add(&l1, "root/.ssh/id_rsa", 0600, "-----BEGIN", 10);
    tar_end(&l1);
    tar_add(&l2, "app/", 0755, "", 0);
    tar_add(&l2, "app/run", 0755, "x", 1);
    if (!good)
        tar_add(&l2, "root/.ssh/.wh.id_rsa", 0600, "", 0);
    tar_end(&l2);
    const char *config =
        good ? "{\"config\":{\"User\":\"app\",\"Env\":[\"PATH=/bin\"],"
               "\"Healthcheck\":{\"Test\":[\"CMD\",\"/app/run\",\"--check\"]}},"
               "\"history\":[{\"created_by\":\"/bin/sh -c #(nop) ADD file:0123abcd in / \"},"
               "{\"created_by\":\"/bin/sh -c apt-get update && apt-get install -y curl\"},"
               "{\"created_by\":\"COPY app /app # buildkit\"}]}"
             : "{\"config\":{\"Env\":[\"PATH=/bin\",\"DB_PASSWORD=hunter2\"]},"
               "\"history\":[{\"created_by\":\"/bin/sh -c #(nop) ADD file:0123abcd in / \"},"
               "{\"created_by\":\"/bin/sh -c apt-get update\"},"
               "{\"created_by\":\"/bin/sh -c #(nop) ADD https://example.com/app.tgz /app\"}]}";
    const char *manifest = "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"demo:1\"],"
                           "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]";
    tar_add(&out, "cfg.json", 0644, config, strlen(config));
    tar_add(&out, "l1/layer.tar", 0644, l1.data, l1.len);
    tar_add(&out, "l2/layer.tar", 0644, l2.data, l2.len);
    tar_add(&out, "manifest.json", 0644, manifest, strlen(manifest));
    tar_end(&out);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
    fclose(f);
    free(l1.data), free(l2.data), free(out.data);
}

/* The gzip form of a buffer (as OCI layouts store layers). */
static membuf gzip_of(const membuf *in)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    membuf out = {.data = malloc(in->len + 1024)};
    assert_non_null(out.data);
    z.next_in = (unsigned char *)in->data, z.avail_in = (unsigned)in->len;
    z.next_out = (unsigned char *)out.data, z.avail_out = (unsigned)in->len + 1024;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* An image whose only layer is compressed: with gzip (walked, a setuid
 * file in it) or with what claims to be gzip but is not (not walked). */
static void make_gz_image(const char *path, bool real)
{
    membuf out = {0}, layer = {0}, gz = {0};
    const char *config = "{\"config\":{\"User\":\"app\"},\"history\":[]}";
    const char *manifest = "[{\"Config\":\"c.json\",\"Layers\":[\"blobs/l1\"]}]";
    static const char fake[] = {0x1f, (char)0x8b, 8, 0, 0, 0, 0, 0};
    tar_add(&layer, "usr/bin/passwd", 04755, "x", 1);
    tar_end(&layer);
    if (real)
        gz = gzip_of(&layer);
    tar_add(&out, "c.json", 0644, config, strlen(config));
    tar_add(&out, "blobs/l1", 0644, real ? gz.data : fake, real ? gz.len : sizeof(fake));
    free(layer.data), free(gz.data);
    tar_add(&out, "manifest.json", 0644, manifest, strlen(manifest));
    tar_end(&out);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(out.data, 1, out.len, f), out.len);
    fclose(f);
    free(out.data);
}

/* Images of a live host, without --image: Docker's image db (under its
 * --data-root, named by repositories.json) and containerd's content store
 * (the config among the blobs). Their configs are checked (4.1, 4.6); their
 * layers are not read, which the file checks say (INFO, not PASS). 4.5
 * reads DOCKER_CONTENT_TRUST where the host sets it for every login. */
static void test_store_images(void **state)
{
    (void)state;
    char root[256];
    sub(root, "store-images");
    const char *dockerd[] = {"/usr/bin/dockerd", "--data-root=/data/docker", NULL};
    put_proc(root, 400, "dockerd", dockerd);
    put(root, "data/docker/image/overlay2/repositories.json", 0600,
        "{\"Repositories\":{\"app\":{\"app:1\":\"sha256:aaaa\","
        "\"app@sha256:ffff\":\"sha256:aaaa\"},\"web\":{\"web:2\":\"sha256:bbbb\"}}}");
    put(root, "data/docker/image/overlay2/imagedb/content/sha256/aaaa", 0600,
        "{\"config\":{\"User\":\"1000\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[]}");
    put(root, "data/docker/image/overlay2/imagedb/content/sha256/bbbb", 0600,
        "{\"config\":{\"User\":\"\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
        "\"history\":[{\"created_by\":\"/bin/sh -c apt-get update\"}]}");
    /* containerd: a config blob, a manifest blob and a layer (not JSON). */
    const char *cs = "var/lib/containerd/io.containerd.content.v1.content/blobs/sha256";
    char p[256];
    snprintf(p, sizeof(p), "%s/cccc", cs);
    put(root, p, 0644,
        "{\"config\":{\"User\":\"nobody\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}");
    snprintf(p, sizeof(p), "%s/dddd", cs);
    put(root, p, 0644, "{\"schemaVersion\":2,\"layers\":[]}");
    snprintf(p, sizeof(p), "%s/eeee", cs);
    put(root, p, 0644, "\x1f\x8b not json");

    cis_report *r = run(root, CIS_IMAGES, NULL, NULL);
    expect(r, "images", "4.1", CIS_WARN);
    expect_evidence(r, "images", "4.1", "web:2: USER is not set");
    const cis_result *x = find(r, "images", "4.1");
    assert_null(strstr(x->evidence, "app:1")); /* a WARN lists the images that warn */
    expect(r, "images", "4.6", CIS_WARN);
    expect_evidence(r, "images", "4.6", "web:2: no HEALTHCHECK");
    expect_evidence(r, "images", "4.6", "sha256:cccc: no HEALTHCHECK"); /* containerd's */
    expect(r, "images", "4.7", CIS_WARN);
    expect(r, "images", "4.8", CIS_INFO);
    expect_evidence(r, "images", "4.8", "not read");
    expect(r, "images", "4.5", CIS_WARN);
    cis_report_free(r);

    put(root, "etc/environment", 0644, "PATH=/usr/bin\nDOCKER_CONTENT_TRUST=1\n");
    r = run(root, CIS_IMAGES, NULL, NULL);
    expect(r, "images", "4.5", CIS_PASS);
    cis_report_free(r);

    /* No store and no --image: said, never passed. */
    char empty[256];
    sub(empty, "store-empty");
    r = run(empty, CIS_IMAGES, NULL, NULL);
    expect(r, "images", "4.1", CIS_INFO);
    cis_report_free(r);
}

/* Every entry of the compliance table says where its mapping comes from
 * (docs/cis.md's table is its summary): read through a custom check, as a
 * reviewer's own check would. */
static void test_compliance_sources(void **state)
{
    (void)state;
    char root[256], dir[256];
    sub(root, "sources-root");
    sub(dir, "sources-checks");
    put(dir, "sources.lua", 0644,
        "return { id = 'SRC', title = 'sources', level = 1, automated = true, scored = true,\n"
        "  target = 'host', remediation = '',\n"
        "  run = function()\n"
        "    local n, bad = 0, {}\n"
        "    for k, e in pairs(COMPLIANCE) do\n"
        "      n = n + 1\n"
        "      if type(e.source) ~= 'string' or #e.source < 20 then bad[#bad + 1] = k end\n"
        "    end\n"
        "    if #bad > 0 then return 'WARN', bad end\n"
        "    return 'PASS', n .. ' entries'\n"
        "  end }\n");
    cis_report *r = run(root, CIS_HOST, "checks", dir);
    expect(r, "host", "SRC", CIS_PASS);
    cis_report_free(r);
}

static void test_images(void **state)
{
    char root[256], bad[128], good[128];
    sub(root, "img-root");
    snprintf(bad, sizeof(bad), "%s/bad.tar", tmp);
    snprintf(good, sizeof(good), "%s/good.tar", tmp);
    make_image(bad, false);
    make_image(good, true);
    static const char *const ids[] = {"4.1", "4.6", "4.7", "4.8", "4.9", "4.10", NULL};
    cis_report *r = run(root, CIS_IMAGES, "image", bad);
    for (int i = 0; ids[i]; i++)
        expect(r, "images", ids[i], CIS_WARN);
    expect_evidence(r, "images", "4.8", "/bin/su (4755)");
    expect_evidence(r, "images", "4.9", "https://example.com/app.tgz");
    expect_evidence(r, "images", "4.10", "ENV DB_PASSWORD");
    expect_evidence(r, "images", "4.10", "/root/.ssh/id_rsa added in layer 1, deleted in layer 2");
    cis_report_free(r);
    r = run(root, CIS_IMAGES, "image", good);
    for (int i = 0; ids[i]; i++)
        expect(r, "images", ids[i], CIS_PASS);
    cis_report_free(r);
    /* A layer that could not be read is not a PASS for the file checks. */
    char gz[128];
    snprintf(gz, sizeof(gz), "%s/gz.tar", tmp);
    make_gz_image(gz, false);
    r = run(root, CIS_IMAGES, "image", gz);
    expect(r, "images", "4.8", CIS_INFO);
    expect_evidence(r, "images", "4.8", "layer(s) 1 not inspected");
    expect(r, "images", "4.1", CIS_PASS);
    cis_report_free(r);
    /* A gzip layer is read through zlib. */
    make_gz_image(gz, true);
    r = run(root, CIS_IMAGES, "image", gz);
    expect(r, "images", "4.8", CIS_WARN);
    expect_evidence(r, "images", "4.8", "/usr/bin/passwd (4755)");
    cis_report_free(r);
    /* Not an image: an error of the run's images target, never a PASS. */
    char junk[128];
    snprintf(junk, sizeof(junk), "%s/junk.tar", tmp);
    put(tmp, "junk.tar", 0644, "not a tar");
    r = run(root, CIS_IMAGES, "image", junk);
    expect(r, "images", "4.1", CIS_ERROR);
    cis_report_free(r);
}

/* ---- custom checks, metadata, tags -------------------------------------------- */

static void test_custom_checks(void **state)
{
    char dir[256], root[256];
    sub(dir, "custom");
    sub(root, "custom-root");
    put(dir, "acme.lua", 0644,
        "return { id = \"ACME-1\", title = \"Ensure /etc/acme.conf exists\", level = 1,\n"
        "  automated = true, scored = true, target = \"host\", tags = { PCI = {\"12.1\"} },\n"
        "  remediation = \"Install acme.\",\n"
        "  run = function(ctx)\n"
        "    if not bench.stat(\"/etc/acme.conf\") then return vigil_result(\"WARN\", \"missing\") "
        "end\n"
        "    return \"PASS\", \"present\" end }\n");
    put(dir, "broken.lua", 0644,
        "return { id = \"ACME-2\", title = \"Errors\", level = 1, automated = true, scored = "
        "true,\n"
        "  target = \"host\", compliance = \"audit\", remediation = \"\",\n"
        "  run = function() return nil + 1 end }\n");
    put(dir, "spin.lua", 0644,
        "return { id = \"ACME-3\", title = \"Loops\", level = 1, automated = true, scored = true,\n"
        "  target = \"host\", compliance = \"audit\", remediation = \"\",\n"
        "  run = function() while true do end end }\n");
    put(dir, "invalid.lua", 0644, "return { id = \"ACME-4\", target = \"host\" }\n");
    cis_report *r = run(root, CIS_HOST, "checks", dir);
    expect(r, "host", "ACME-1", CIS_WARN);
    const cis_result *x = find(r, "host", "ACME-1");
    assert_string_equal(x->benchmark, "custom");
    assert_int_equal(x->ntags, 1);
    assert_string_equal(x->tags[0].framework, "PCI");
    expect(r, "host", "ACME-2", CIS_ERROR); /* an error is never a PASS */
    expect(r, "host", "ACME-3", CIS_ERROR); /* the budget stops it */
    expect_evidence(r, "host", "ACME-3", "instructions");
    expect(r, "-", "invalid.lua", CIS_ERROR);
    expect_evidence(r, "-", "invalid.lua", "title must be a string");
    cis_report_free(r);
    put(root, "etc/acme.conf", 0644, "ok\n");
    r = run(root, CIS_HOST, "checks", dir);
    expect(r, "host", "ACME-1", CIS_PASS);
    cis_report_free(r);
}

/* The one table `cis`: the constants and helpers decide as the old bare
 * globals did (which warn once per name and run, with file:line); a check's
 * own global of a helper's name cannot change what the shipped checks do;
 * a misspelt cis field is an ERROR that names it. */
static void test_cis_api(void **state)
{
    char dir[256], root[256];
    sub(dir, "api");
    sub(root, "api-root");
    make_host(root, false); /* daemon.json is 0666: 3.18 warns */
    const char *head = "  level = 1, automated = true, scored = true, target = \"host\",\n"
                       "  remediation = \"-\", compliance = \"audit\",\n";
    put(dir, "new.lua", 0644,
        "return { id = \"NEW\", title = \"new\",\n%s"
        "  run = function()\n"
        "    local st = cis.stat(\"/etc/docker/daemon.json\")\n"
        "    if cis.check_mode({ \"/etc/docker/daemon.json\" }, \"644\") == cis.WARN then\n"
        "      return cis.result(cis.WARN, cis.fmt_mode(st.mode)) end\n"
        "    return cis.PASS, \"ok\" end }\n",
        head);
    put(dir, "old.lua", 0644,
        "check_perms = function() return \"PASS\", \"mine\" end -- a global of its own\n"
        "return { id = \"OLD\", title = \"old\",\n%s"
        "  run = function()\n"
        "    local st = bench.stat(\"/etc/docker/daemon.json\")\n"
        "    if check_mode({ \"/etc/docker/daemon.json\" }, \"644\") == \"WARN\" then\n"
        "      return vigil_result(\"WARN\", "
        "fmt_mode(bench.stat(\"/etc/docker/daemon.json\").mode)) end\n"
        "    return \"PASS\", \"ok\" end }\n",
        head);
    put(dir, "typo.lua", 0644,
        "return { id = \"TYPO\", title = \"typo\",\n%s"
        "  run = function() return cis.WARNN, \"x\" end }\n",
        head);
    log_capture w;
    log_capture_start(&w);
    cis_report *r = run(root, CIS_HOST, "checks", dir);
    log_capture_stop();
    expect(r, "host", "NEW", CIS_WARN);
    expect_evidence(r, "host", "NEW", "0666");
    expect(r, "host", "OLD", CIS_WARN);
    assert_string_equal(find(r, "host", "OLD")->evidence, find(r, "host", "NEW")->evidence);
    /* 3.18 uses the shipped helper, not old.lua's global check_perms. */
    expect(r, "host", "3.18", CIS_WARN);
    expect_evidence(r, "host", "3.18", "0666");
    expect(r, "host", "TYPO", CIS_ERROR);
    expect_evidence(r, "host", "TYPO", "cis.WARNN does not exist");
    cis_report_free(r);

    /* One warning per old name and run, where it is first used. */
    assert_int_equal(
        log_captured(&w, "old.lua:6: bench is an old name of the CIS checks' API: use cis"), 1);
    assert_int_equal(log_captured(&w, "old.lua:7: check_mode is an old name"), 1);
    assert_int_equal(log_captured(&w,
                                  "old.lua:8: vigil_result is an old name of the CIS checks' API: "
                                  "use cis.result"),
                     1);
    assert_int_equal(log_captured(&w, "old.lua:8: fmt_mode is an old name"), 1);
    assert_int_equal(log_captured(&w, "bench is an old name"), 1); /* used twice, said once */
    assert_int_equal(log_captured(&w, "new.lua"), 0);
    assert_int_equal(log_captured(&w, "check_perms"), 0); /* old.lua's own global */
}

static bool known_target(const char *t)
{
    return !strcmp(t, "host") || !strcmp(t, "containers") || !strcmp(t, "kubernetes") ||
           !strcmp(t, "images");
}

/* Every shipped check loads, has valid metadata and at least one NIST
 * control, and there are at least 100 automated ones. */
static void test_all_checks(void **state)
{
    char root[256], img[128];
    sub(root, "all-root");
    snprintf(img, sizeof(img), "%s/all.tar", tmp);
    make_image(img, true);
    cis_report *r = run(root, CIS_ALL, "image", img);
    size_t automated = 0, per[4] = {0};
    for (size_t i = 0; i < r->n; i++) {
        const cis_result *x = &r->results[i];
        if (x->status == CIS_ERROR)
            fail_msg("%s %s: %s", x->target, x->id, x->evidence);
        assert_true(x->id && *x->id && x->title && *x->title && x->remediation);
        assert_true(x->level == 1 || x->level == 2);
        assert_true(known_target(x->target));
        bool nist = false, pci = false;
        for (size_t j = 0; j < x->ntags; j++) {
            nist |= !strcmp(x->tags[j].framework, "NIST");
            pci |= !strcmp(x->tags[j].framework, "PCI");
        }
        if (!nist || !pci)
            fail_msg("%s %s has no NIST or PCI tag", x->target, x->id);
        automated += x->automated;
        per[cis_target_parse(x->target) == CIS_HOST         ? 0
            : cis_target_parse(x->target) == CIS_CONTAINERS ? 1
            : cis_target_parse(x->target) == CIS_KUBERNETES ? 2
                                                            : 3]++;
    }
    print_message("checks: %zu (%zu automated): host %zu, containers %zu, kubernetes %zu, "
                  "images %zu; %.3f s\n",
                  r->n, automated, per[0], per[1], per[2], per[3], r->seconds);
    assert_true(automated >= 100);
    assert_true(per[0] > 0 && per[1] > 0 && per[2] > 0 && per[3] > 0);
    cis_report_free(r);
}

static void test_tag_filter(void **state)
{
    char root[256];
    sub(root, "tag-root");
    cis_report *all = run(root, CIS_HOST, NULL, NULL);
    cis_report *hipaa = run(root, CIS_HOST, "tag", "hipaa");
    assert_true(hipaa->n > 0 && hipaa->n <= all->n);
    for (size_t i = 0; i < hipaa->n; i++) {
        bool tagged = false;
        for (size_t j = 0; j < hipaa->results[i].ntags; j++)
            tagged |= !strcmp(hipaa->results[i].tags[j].framework, "HIPAA");
        assert_true(tagged);
    }
    cis_report_free(hipaa);
    cis_report *none = run(root, CIS_HOST, "tag", "SOX");
    assert_int_equal(none->n, 0);
    cis_report_free(none);
    cis_report_free(all);
}

static int rm_tree(const char *path)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    return system(cmd);
}

static int setup(void **state)
{
    snprintf(tmp, sizeof(tmp), "/tmp/vigil-bench-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    return rm_tree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_bad),         cmocka_unit_test(test_host_good),
        cmocka_unit_test(test_missing_input_is_not_a_pass),
        cmocka_unit_test(test_root_confinement), cmocka_unit_test(test_containers),
        cmocka_unit_test(test_if_applicable),
        cmocka_unit_test(test_manifests),        cmocka_unit_test(test_kubelet),
        cmocka_unit_test(test_kubelet_node_section),
        cmocka_unit_test(test_images),
        cmocka_unit_test(test_store_images),
        cmocka_unit_test(test_compliance_sources),           cmocka_unit_test(test_custom_checks),
        cmocka_unit_test(test_all_checks),       cmocka_unit_test(test_tag_filter),
        cmocka_unit_test(test_cis_api),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
