/* Parsing user-typed times and durations; see timeparse.h. */
#include "timeparse.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define NS_PER_S INT64_C(1000000000)
#define DIGITS "0123456789"

static int64_t unit_ns(char u)
{
    switch (u) {
    case 's':
        return NS_PER_S;
    case 'm':
        return 60 * NS_PER_S;
    case 'h':
        return 3600 * NS_PER_S;
    case 'd':
        return 86400 * NS_PER_S;
    case 'w':
        return 7 * 86400 * NS_PER_S;
    default:
        return 0;
    }
}

/* Reads one or more decimal digits at *s and advances *s past them. */
static int read_uint(const char **s, int64_t *out)
{
    const char *p = *s;
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (p == *s)
        return -EINVAL;
    *s = p;
    *out = v;
    return 0;
}

int vg_duration_parse(const char *s, int64_t *out_ns)
{
    int64_t total = 0;
    if (!s || !*s)
        return -EINVAL;
    while (*s) {
        int64_t n, u;
        int rc = read_uint(&s, &n);
        if (rc < 0)
            return rc;
        u = unit_ns(*s++);
        if (!u)
            return -EINVAL;
        if (n > (INT64_MAX - total) / u)
            return -ERANGE;
        total += n * u;
    }
    *out_ns = total;
    return 0;
}

static int secs_to_ns(int64_t secs, int64_t *out_ns)
{
    if (secs > INT64_MAX / NS_PER_S || secs < INT64_MIN / NS_PER_S)
        return -ERANGE;
    *out_ns = secs * NS_PER_S;
    return 0;
}

/* Exactly n digits: "2024" but not "24" or "2O24". */
static bool fixed(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

static bool lit(const char **s, const char *set)
{
    if (!**s || !strchr(set, **s))
        return false;
    (*s)++;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* "YYYY-MM-DD[(T| )HH:MM[:SS][Z]]". The fields are checked here because
 * timegm() and mktime() would quietly turn February 30th into March 1st. */
static int parse_datetime(const char *s, int64_t *out_ns)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    bool utc = false;

    if (!fixed(&s, 4, &y) || !lit(&s, "-") || !fixed(&s, 2, &mo) || !lit(&s, "-") ||
        !fixed(&s, 2, &d))
        return -EINVAL;
    if (lit(&s, "Tt ")) {
        if (!fixed(&s, 2, &h) || !lit(&s, ":") || !fixed(&s, 2, &mi))
            return -EINVAL;
        if (lit(&s, ":") && !fixed(&s, 2, &sec))
            return -EINVAL;
        utc = lit(&s, "Zz");
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return -EINVAL;

    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec,
                    .tm_isdst = -1};
    /* (time_t)-1 is also a valid second (1969-12-31T23:59:59Z): only errno
     * tells a failure apart. */
    errno = 0;
    time_t t = utc ? timegm(&tm) : mktime(&tm);
    if (t == (time_t)-1 && errno)
        return -ERANGE;
    return secs_to_ns((int64_t)t, out_ns);
}

int vg_time_parse(const char *s, int64_t now_ns, int64_t *out_ns)
{
    if (!s || !*s)
        return -EINVAL;
    size_t n = strlen(s);

    if (strspn(s, DIGITS) == n) {
        int64_t secs;
        int rc = read_uint(&s, &secs);
        return rc < 0 ? rc : secs_to_ns(secs, out_ns);
    }
    if (strspn(s, DIGITS "smhdw") == n) {
        int64_t ago;
        int rc = vg_duration_parse(s, &ago);
        if (rc < 0)
            return rc;
        if (now_ns < INT64_MIN + ago)
            return -ERANGE;
        *out_ns = now_ns - ago;
        return 0;
    }
    return parse_datetime(s, out_ns);
}
