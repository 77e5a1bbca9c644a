/*
 * What a plugin's question costs through the host table: decide() on a
 * named subject (ABI 1.3) against decide_fields(), the positional form
 * plugins built against ABI 1.2 call, measured in the same run on the same
 * real policy engine and rules (10000 learned proc rules, a file rule and
 * a net rule in one group). Each answer after the first comes from the
 * decision cache, as on a busy host: the figures are the calls' own cost,
 * and the ratio is what the named subject adds (for net, formatting the
 * port).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "plugins.h"
#include "policy_harness.h"
#include "rules.h"
#include "bench_median.h"

#define RULES 10000
#define N 20000
#define ROUNDS 201

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put(vg_harness *h, int plane, const char *const *f)
{
    vg_rule r = {.group = "web", .plane = plane, .action = VG_RULE_ALLOW};
    for (int i = 0; f[i]; i++)
        snprintf(r.fields[i], sizeof(r.fields[i]), "%s", f[i]);
    vg_rules_put(vg_harness_rules(h), &r, false);
}

static double rate_subject(struct vg_host *host, const vg_subject *s, int *allowed)
{
    double t0 = now();
    for (int i = 0; i < N; i++)
        *allowed += vg__host_api.decide(host, s) == VG_DECIDE_ALLOW;
    return N / (now() - t0);
}

static double rate_fields(struct vg_host *host, int plane, const char *const *f, int *allowed)
{
    double t0 = now();
    for (int i = 0; i < N; i++)
        *allowed += vg__host_api.decide_fields(host, "web", plane, f) == VG_DECIDE_ALLOW;
    return N / (now() - t0);
}

/* Many short rounds, the two calls side by side in each, and medians: the
 * machine is shared, and a neighbour's burst then falls on both sides of
 * a round rather than on one call's whole figure. */
static void row(const char *label, struct vg_host *host, const vg_subject *s, const char *const *f)
{
    static double old_ns[ROUNDS], new_ns[ROUNDS], ratio[ROUNDS];
    int a = 0, b = 0;
    for (int r = 0; r < ROUNDS; r++) {
        old_ns[r] = 1e9 / rate_fields(host, s->plane, f, &a);
        new_ns[r] = 1e9 / rate_subject(host, s, &b);
        ratio[r] = new_ns[r] / old_ns[r];
    }
    printf("%-14s decide_fields %6.1f ns   decide %6.1f ns   (median ratio %.2fx; %s)\n", label,
           bench_median(old_ns, ROUNDS), bench_median(new_ns, ROUNDS), bench_median(ratio, ROUNDS),
           a == b && a == ROUNDS * N ? "all allowed by both" : "ANSWERS DIFFER");
}

int main(void)
{
    char dir[] = "/tmp/vg-bench-decide-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char *dirs[] = {dir, NULL};
    vg_diag diag = {0};
    vg_harness *h;
    if (vg_harness_new(dirs, VG_MODE_PROTECT, &diag, &h) < 0)
        return 1;
    char name[32], path[64];
    for (int i = 0; i < RULES; i++) {
        snprintf(name, sizeof(name), "prog%d", i);
        snprintf(path, sizeof(path), "/usr/bin/prog%d", i);
        put(h, VG_PLANE_PROC, (const char *[]){name, path, "0", NULL});
    }
    put(h, VG_PLANE_FILE, (const char *[]){"/etc/app.conf", "/usr/bin/app", "write", NULL});
    put(h, VG_PLANE_NET, (const char *[]){"out", "127.0.0.1", "443", "tcp", "https", NULL});
    vg_plugin_env env = {.policy = vg_harness_policy(h)};
    struct vg_host host = {.env = &env, .name = "bench"};

    printf("%d proc rules; %d rounds of %d calls of each, cached answers\n", RULES, ROUNDS, N);
    vg_subject exec = {.plane = VG_PLANE_PROC,
                       .group = "web",
                       .proc = {.name = "prog77", .path = "/usr/bin/prog77", .user = "0"}};
    row("proc exec", &host, &exec, (const char *[]){"prog77", "/usr/bin/prog77", "0"});
    vg_subject pre = {.plane = VG_PLANE_PROC, .group = "web", .proc = {.path = "/usr/bin/prog77"}};
    row("proc pre-exec", &host, &pre, (const char *[]){"", "/usr/bin/prog77", ""});
    vg_subject file = {
        .plane = VG_PLANE_FILE,
        .group = "web",
        .file = {.path = "/etc/app.conf", .program = "/usr/bin/app", .access = "write"}};
    row("file write", &host, &file, (const char *[]){"/etc/app.conf", "/usr/bin/app", "write"});
    vg_subject net = {
        .plane = VG_PLANE_NET,
        .group = "web",
        .net = {
            .direction = "out", .peer = "127.0.0.1", .port = 443, .proto = "tcp", .app = "https"}};
    row("net connect", &host, &net, (const char *[]){"out", "127.0.0.1", "443", "tcp", "https"});
    vg_harness_free(h);
    vg_diag_free(&diag);
    rmdir(dir);
    return 0;
}
