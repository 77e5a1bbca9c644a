/*
 * Rule lookups per second (vg_rules_match) on an index of 10000 learned
 * proc rules plus 20 wildcard rules in the same group: an exact hit, a
 * wildcard hit, and a miss (which tries every wildcard rule of the group).
 * The baseline, run in the same process, is building the lookup key alone
 * (an snprintf of the three fields), so the ratio shows what the index
 * costs on this machine. Also the memory of the index per rule (mallinfo2).
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define RULES 10000
#define WILD 20
#define N 2000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static vg_rule proc_rule(const char *name, const char *path, const char *user)
{
    vg_rule r = {.plane = VG_PLANE_PROC, .origin = VG_RULE_LEARNED};
    strcpy(r.group, "web");
    snprintf(r.fields[0], VG_RULE_FIELD_MAX, "%s", name);
    snprintf(r.fields[1], VG_RULE_FIELD_MAX, "%s", path);
    snprintf(r.fields[2], VG_RULE_FIELD_MAX, "%s", user);
    return r;
}

static double run(vg_rules *r, const char *label, const char *const *f, double base)
{
    int action, hits = 0;
    double t0 = now();
    for (int i = 0; i < N; i++)
        hits += vg_rules_match(r, "web", VG_PLANE_PROC, f, &action);
    double rate = N / (now() - t0);
    printf("%-14s %10.0f lookups/s  (%.2fx the baseline; %d hits)\n", label, rate, base / rate,
           hits);
    return rate;
}

int main(void)
{
    size_t before = mallinfo2().uordblks;
    vg_rules *r;
    if (vg_rules_open(NULL, &r) < 0)
        return 1;
    char name[32], path[64];
    for (int i = 0; i < RULES; i++) {
        snprintf(name, sizeof(name), "prog%d", i);
        snprintf(path, sizeof(path), "/usr/bin/prog%d", i);
        vg_rule x = proc_rule(name, path, "root");
        vg_rules_put(r, &x, false);
    }
    for (int i = 0; i < WILD; i++) {
        snprintf(path, sizeof(path), "/opt/tool%d", i);
        vg_rule x = proc_rule("*", path, "*");
        vg_rules_put(r, &x, false);
    }
    size_t after = mallinfo2().uordblks;
    printf("index: %zu rules, %.0f bytes per rule\n", vg_rules_count(r),
           (double)(after - before) / (RULES + WILD));

    /* Baseline: composing a key of the same three fields. */
    char key[1024];
    volatile size_t sink = 0;
    double t0 = now();
    for (int i = 0; i < N; i++)
        sink += (size_t)snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", "prog77", "/usr/bin/prog77",
                                 "root");
    double base = N / (now() - t0);
    printf("%-14s %10.0f keys/s\n", "baseline", base);

    const char *exact[] = {"prog77", "/usr/bin/prog77", "root"};
    const char *wild[] = {"tool", "/opt/tool19", "nobody"};
    const char *miss[] = {"nope", "/tmp/nope", "root"};
    run(r, "exact hit", exact, base);
    run(r, "wildcard hit", wild, base);
    run(r, "miss", miss, base);
    vg_rules_free(r);
    return 0;
}
