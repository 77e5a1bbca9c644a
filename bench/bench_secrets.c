/*
 * Secret-scanner throughput: MB/s of `vg_sec_scan_dir` over a generated
 * corpus of mixed text and source with planted secrets, side by side in one
 * run with (a) a plain read of the same files, the floor any scanner pays,
 * and (b) ripgrep (when installed) searching the same rule expressions with
 * one thread, since the engine uses one core.
 *
 *   bench_secrets [MB [DIR]]  (DIR: scan an existing tree instead of a
 *                            generated one; VG_BENCH_KEEP=1 keeps the corpus, VG_BENCH_NO_RG=1
 *                            skips ripgrep, which is slow with many expressions)
 *   bench_secrets --noise [DIR...]
 *
 * Prints the three rates, the ratios, the planted secrets found (recall on
 * the corpus), and the peak RSS.
 *
 * --noise: the false alarms of the keyword rules on library code, which
 * holds no secrets: over each DIR (default: /usr/include, the system's
 * /usr/lib/python3*, and every pyenv Python library present), the findings
 * of generic-password, generic-api-key, netrc-password and
 * authorization-basic, in all and outside test paths, with the first of
 * them. Exit status 1 when a tree has more than 5 outside test paths.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "secrets.h"

#define FILE_BYTES (512 * 1024)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void rnd_str(char *out, size_t n, const char *alpha)
{
    size_t al = strlen(alpha);
    for (size_t i = 0; i < n; i++)
        out[i] = alpha[rnd((unsigned)al)];
    out[n] = 0;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Ordinary lines: code, config, logs, hashes; the things a scanner must
 * wade through without reporting. */
static int filler_line(char *out, size_t cap)
{
    char a[48], b[48];
    rnd_str(a, 12, "abcdefghijklmnopqrstuvwxyz");
    rnd_str(b, 40, "0123456789abcdef");
    switch (rnd(10)) {
    case 0:
        return snprintf(out, cap,
                        "static int %s(struct ctx *c, size_t len) { return c->n + len; }\n", a);
    case 1:
        return snprintf(out, cap,
                        "    if (%s == NULL || %s->len == 0) goto out; /* key lookup */\n", a, a);
    case 2:
        return snprintf(out, cap, "  %s_timeout: 30s\n  password_file: /run/secrets/%s\n", a, a);
    case 3:
        return snprintf(out, cap,
                        "2024-05-01T12:00:00Z INFO request id=%s user=%s token=redacted\n", b, a);
    case 4:
        return snprintf(out, cap, "commit %s\nAuthor: dev <%s@corp.io>\n", b, a);
    case 5:
        return snprintf(
            out, cap, "def %s(self, api_key=None):\n    return self.client.get(url, key=api_key)\n",
            a);
    case 6:
        rnd_str(b, 44, ALNUM "+/");
        return snprintf(out, cap, "  integrity: sha512-%s==\n", b);
    case 7:
        return snprintf(out, cap, "export PATH=/usr/local/bin:$PATH  # %s\n", a);
    case 8:
        return snprintf(out, cap,
                        "<div class=\"%s\">Lorem ipsum dolor sit amet, consectetur.</div>\n", a);
    default:
        return snprintf(out, cap,
                        "SELECT id, name FROM %s WHERE created > now() - interval '1 day';\n", a);
    }
}

static int planted_line(char *out, size_t cap)
{
    char t[128];
    switch (rnd(5)) {
    case 0:
        rnd_str(t, 36, ALNUM);
        return snprintf(out, cap, "GITHUB_TOKEN=ghp_%s\n", t);
    case 1:
        rnd_str(t, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
        return snprintf(out, cap, "aws_access_key_id = AKIA%s\n", t);
    case 2:
        rnd_str(t, 24, ALNUM);
        return snprintf(out, cap, "stripe.api_key = \"sk_live_%s\"\n", t);
    case 3:
        rnd_str(t, 18, ALNUM);
        return snprintf(out, cap, "DATABASE_URL=postgres://app:%s@db:5432/shop\n", t);
    default:
        rnd_str(t, 35, ALNUM "_-");
        return snprintf(out, cap, "maps_key: AIza%s\n", t);
    }
}

/* Writes MB of files into dir; returns the number of planted secrets. */
static long generate(const char *dir, size_t mb)
{
    char *buf = malloc(FILE_BYTES + 512);
    long planted = 0;
    size_t files = mb * 1024 * 1024 / FILE_BYTES;
    for (size_t f = 0; f < files; f++) {
        size_t n = 0;
        while (n < FILE_BYTES) {
            bool plant = rnd(4000) == 0;
            n += (size_t)(plant ? planted_line(buf + n, 512) : filler_line(buf + n, 512));
            planted += plant;
        }
        char path[512];
        snprintf(path, sizeof(path), "%s/d%02zu", dir, f % 16);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/d%02zu/f%05zu.txt", dir, f % 16, f);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, buf, n) != (ssize_t)n) {
            perror(path);
            exit(1);
        }
        close(fd);
    }
    free(buf);
    return planted;
}

/* The floor: open and read every regular file, as the scanner does. */
static char *rd_buf;
static size_t rd_total;

static int read_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    int fd = open(path, O_RDONLY);
    ssize_t r;
    while (fd >= 0 && (r = read(fd, rd_buf, 1 << 20)) > 0)
        rd_total += (size_t)r;
    if (fd >= 0)
        close(fd);
    return 0;
}

static size_t read_all(const char *dir)
{
    rd_total = 0;
    nftw(dir, read_one, 64, FTW_PHYS);
    return rd_total;
}

static double ripgrep(const char *dir, const vg_sec_rules *rs)
{
    if (getenv("VG_BENCH_NO_RG") || system("command -v rg >/dev/null 2>&1") != 0)
        return -1;
    char pats[] = "/tmp/vg-bench-pats-XXXXXX";
    int fd = mkstemp(pats);
    FILE *f = fdopen(fd, "w");
    /* The expressions whose meaning does not depend on multi-line mode
     * (rg -f takes one pattern per line). */
    size_t n = 0;
    for (size_t i = 0; i < vg_sec_rules_count(rs); i++) {
        const char *re = vg_sec_rules_regex(rs, i);
        if (!strchr(re, '\n') && !strstr(re, "\\n") && !strstr(re, "(?m)")) {
            fprintf(f, "%s\n", re);
            n++;
        }
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "rg -P -j1 -c --no-ignore --hidden -f %s %s > /dev/null", pats, dir);
    double t0 = now();
    int rc = system(cmd);
    double t = now() - t0;
    unlink(pats);
    printf("ripgrep: %zu expressions, exit %d\n", n, WEXITSTATUS(rc));
    return t;
}

struct tally {
    long hits, others;
    char other_rule[64];
};

/* The rules of the planted formats; any other finding is a false
 * positive, since the filler holds no secret. */
static void on_finding(void *arg, const vg_sec_finding *f)
{
    static const char *const planted[] = {"github-pat", "aws-access-key-id", "stripe-secret-key",
                                          "database-url-password", "google-api-key"};
    struct tally *t = arg;
    for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
        if (!strcmp(f->rule->id, planted[i])) {
            t->hits++;
            return;
        }
    }
    t->others++;
    snprintf(t->other_rule, sizeof(t->other_rule), "%s", f->rule->id);
}

#define NOISE_MAX 5

struct noise {
    long all, outside;
    char first[8][256];
    int nfirst;
};

/* The rules issue 17 counted: keyword = value, not token formats. */
static void on_noise(void *arg, const vg_sec_finding *f)
{
    static const char *const keyword[] = {"generic-password", "generic-api-key",
                                          "netrc-password", "authorization-basic"};
    struct noise *n = arg;
    for (size_t i = 0; i < sizeof(keyword) / sizeof(keyword[0]); i++) {
        if (strcmp(f->rule->id, keyword[i]))
            continue;
        n->all++;
        if (f->context == VG_SEC_CTX_TEST)
            return;
        n->outside++;
        if (n->nfirst < 8) {
            char masked[32];
            vg_sec_mask(f->secret, f->secret_len, masked, sizeof(masked));
            snprintf(n->first[n->nfirst++], sizeof(n->first[0]), "%s:%u %s %s", f->path, f->line,
                     f->rule->id, masked);
        }
        return;
    }
}

static int noise_tree(const vg_sec_rules *rs, const char *dir)
{
    struct noise n = {0};
    vg_sec_scanner *s = NULL;
    vg_sec_limits lim = {.max_total_bytes = (uint64_t)1 << 40};
    if (vg_sec_scanner_new(rs, &lim, on_noise, &n, &s) < 0)
        return 2;
    double t0 = now();
    int rc = vg_sec_scan_dir(s, dir);
    double t = now() - t0;
    const vg_sec_stats *st = vg_sec_scanner_stats(s);
    printf("%s: %llu files, %.1f MB in %.2f s; keyword-rule findings: %ld, outside test paths: "
           "%ld (at most %d)%s\n",
           dir, (unsigned long long)st->files, (double)st->bytes / 1048576.0, t, n.all, n.outside,
           NOISE_MAX, rc < 0 ? " (scan error)" : "");
    for (int i = 0; i < n.nfirst; i++)
        printf("    %s\n", n.first[i]);
    vg_sec_scanner_free(s);
    return rc < 0 ? 2 : n.outside > NOISE_MAX;
}

static int noise(int ndirs, char **dirs)
{
    const char *files[] = {vg_sec_default_rules_path()};
    char err[512];
    vg_sec_rules *rs = NULL;
    if (vg_sec_rules_load(files, 1, &rs, err, sizeof(err)) < 0) {
        fprintf(stderr, "rules: %s\n", err);
        return 2;
    }
    int worst = 0;
    if (ndirs) {
        for (int i = 0; i < ndirs; i++) {
            int rc = noise_tree(rs, dirs[i]);
            worst = rc > worst ? rc : worst;
        }
    } else {
        glob_t g = {0};
        glob("/usr/include", 0, NULL, &g);
        glob("/usr/lib/python3*", GLOB_APPEND, NULL, &g);
        glob("/root/.pyenv/versions/*/lib/python3*", GLOB_APPEND, NULL, &g);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            int rc = noise_tree(rs, g.gl_pathv[i]);
            worst = rc > worst ? rc : worst;
        }
        globfree(&g);
    }
    vg_sec_rules_free(rs);
    return worst;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--noise"))
        return noise(argc - 2, argv + 2);
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 512;
    char tmp[] = "/tmp/vg-bench-secrets-XXXXXX";
    const char *dir = argc > 2 ? argv[2] : tmp;
    long planted = 0;
    if (argc > 2) {
        printf("scanning the existing tree %s (nothing planted)\n", dir);
    } else {
        if (!mb || !mkdtemp(tmp))
            return 2;
        printf("generating %zu MB in %s...\n", mb, dir);
        planted = generate(dir, mb);
    }

    const char *files[] = {vg_sec_default_rules_path()};
    char err[512];
    vg_sec_rules *rs = NULL;
    double t0 = now();
    if (vg_sec_rules_load(files, 1, &rs, err, sizeof(err)) < 0) {
        fprintf(stderr, "rules: %s\n", err);
        return 2;
    }
    printf("rules: %zu loaded in %.2f s\n", vg_sec_rules_count(rs), now() - t0);

    rd_buf = malloc(1 << 20);
    read_all(dir); /* warm the page cache for all three */
    t0 = now();
    size_t bytes = read_all(dir);
    double t_read = now() - t0;
    free(rd_buf);

    struct tally found = {0};
    vg_sec_scanner *s = NULL;
    vg_sec_limits lim = {.max_total_bytes = (uint64_t)1 << 40};
    vg_sec_scanner_new(rs, &lim, on_finding, &found, &s);
    t0 = now();
    vg_sec_scan_dir(s, dir);
    double t_scan = now() - t0;
    const vg_sec_stats *st = vg_sec_scanner_stats(s);

    double mbs = (double)bytes / 1048576.0;
    printf("plain read: %8.1f MB/s (%.1f MB in %.2f s)\n", mbs / t_read, mbs, t_read);
    printf("vigil scan: %8.1f MB/s (%.2f s, %llu files), %.2fx the plain read time\n", mbs / t_scan,
           t_scan, (unsigned long long)st->files, t_scan / t_read);
    printf("planted secrets: %ld, found: %ld (recall %.1f%%), other findings: %ld%s%s\n", planted,
           found.hits, planted ? 100.0 * (double)found.hits / (double)planted : 100.0, found.others,
           found.others ? ", e.g. " : "", found.other_rule);
    double t_rg = ripgrep(dir, rs);
    if (t_rg > 0)
        printf("ripgrep -j1: %7.1f MB/s; vigil is %.2fx ripgrep's speed\n", mbs / t_rg,
               t_rg / t_scan);
    else
        printf("ripgrep: not installed, no comparison\n");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld MB\n", ru.ru_maxrss / 1024);
    vg_sec_scanner_free(s);
    vg_sec_rules_free(rs);
    if (argc > 2)
        return 0;
    if (getenv("VG_BENCH_KEEP")) {
        printf("corpus kept in %s\n", dir);
        return 0;
    }
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
