/*
 * What a keyword rule (`password = ...`, `api_key: ...`) captured must look
 * like a literal secret before it is reported, as gitleaks and
 * detect-secrets decide: in library code the text after `password =` is
 * far more often a name, a call, a type or a template than a credential.
 *
 * Rules ask for this with `value = "literal"`. The checks, in order:
 *  - file type: a type stub (.pyi, .d.ts) holds no values at all; in source
 *    code (.py, .js, .go, .c, ...) a literal is quoted, so an unquoted value
 *    there is an expression (`password = getpass.getpass()`);
 *  - a quoted value ends with its quote (else it is the start of prose);
 *  - shape: not a call, an index, an attribute access, a template or format
 *    field, a variable or an environment lookup; an unquoted identifier
 *    without a digit is a name (`password: ReadableBuffer`);
 *  - stop-words: values naming what they stand for ("password", "token",
 *    "example", "your_...").
 * Also the path's context: test paths (test/, tests/, testdata/,
 * fixtures/, __tests__/, examples/, a file named *example*).
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "secrets_int.h"

/* The extension of the path's last component, "" when none. */
static const char *extension(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? dot + 1 : "";
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

static bool in_list(const char *ext, const char *const *list)
{
    for (; *list; list++)
        if (!strcasecmp(ext, *list))
            return true;
    return false;
}

/* Type stubs: declarations only. */
static bool is_stub(const char *path)
{
    return ends_with(path, ".pyi") || ends_with(path, ".d.ts");
}

bool vg__sec_path_is_code(const char *path)
{
    static const char *const code[] = {
        "py",  "pyw",   "js",     "mjs", "cjs",   "jsx", "ts",  "tsx", "go", "java", "kt",
        "kts", "scala", "groovy", "c",   "h",     "cc",  "cpp", "cxx", "hh", "hpp",  "hxx",
        "cs",  "rb",    "php",    "rs",  "swift", "m",   "mm",  "pl",  "pm", "lua",  "dart",
        "ex",  "exs",   "erl",    "hs",  "ml",    "jl",  "vb",  "fs",  "r",  NULL,
    };
    return in_list(extension(path), code);
}

/* A path component (or the file name) names test material. */
int vg__sec_path_context(const char *path)
{
    static const char *const dirs[] = {"test",      "tests",    "testdata", "fixtures",
                                       "__tests__", "examples", NULL};
    const char *p = path;
    while (*p) {
        const char *slash = strchr(p, '/');
        if (!slash) /* the file name */
            break;
        size_t n = (size_t)(slash - p);
        for (const char *const *d = dirs; *d; d++)
            if (strlen(*d) == n && !strncasecmp(p, *d, n))
                return VG_SEC_CTX_TEST;
        p = slash + 1;
    }
    return strcasestr(p, "example") ? VG_SEC_CTX_TEST : VG_SEC_CTX_NONE;
}

static bool has_any(const char *v, size_t n, const char *chars)
{
    for (size_t i = 0; i < n; i++)
        if (strchr(chars, v[i]))
            return true;
    return false;
}

static bool has_digit(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isdigit((unsigned char)v[i]))
            return true;
    return false;
}

/* [A-Za-z_][A-Za-z0-9_]*, optionally dotted (a.b.c). */
static bool identifier(const char *v, size_t n, bool dots)
{
    bool start = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (start && !(isalpha(c) || c == '_'))
            return false;
        if (dots && c == '.' && !start && i + 1 < n) {
            start = true;
            continue;
        }
        if (!(isalnum(c) || c == '_'))
            return false;
        start = false;
    }
    return n > 0;
}

static bool contains(const char *v, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncasecmp(v + i, needle, k))
            return true;
    return false;
}

/* Words that a value holds when it describes a secret instead of being
 * one, and markers of code, templates and environment lookups. */
static bool has_stop_word(const char *v, size_t n)
{
    static const char *const words[] = {
        "password", "passwd",  "passphrase", "secret",      "token",    "credential", "example",
        "sample",   "dummy",   "fake",       "placeholder", "changeme", "change_me",  "redacted",
        "your",     "xxxx",    "****",       "...",         "insert",   "replace",    "notreal",
        "getpass",  "environ", "getenv",     "process.env", "config",   "settings",   "kwargs",
        "request",  "self.",   "this.",      "->",          "::",       "${",         "{{",
        "$(",       "%(",      "%s",         "%d",          "#{",       "<%",         "ENC[",
        NULL,
    };
    for (const char *const *w = words; *w; w++)
        if (contains(v, n, *w))
            return true;
    return false;
}

bool vg__sec_value_is_literal(const char *data, size_t len, size_t off, size_t n, const char *path)
{
    const char *v = data + off;
    if (is_stub(path))
        return false;
    char q = off > 0 ? data[off - 1] : 0;
    bool quoted = q == '"' || q == '\'' || q == '`';
    if (!quoted && vg__sec_path_is_code(path))
        return false;
    /* The whole string, not the first word of a sentence. */
    if (quoted && (off + n >= len || data[off + n] != q))
        return false;
    if (v[0] == '$' || v[0] == '%' || v[0] == '@' || v[0] == '&' || v[0] == '*')
        return false;
    if (has_any(v, n, "()[]{}<>"))
        return false;
    if (!quoted && identifier(v, n, true) && (!has_digit(v, n) || memchr(v, '.', n)))
        return false;
    if (quoted && identifier(v, n, true) && memchr(v, '.', n) && !has_digit(v, n))
        return false;
    bool digits_only = true;
    for (size_t i = 0; i < n && digits_only; i++)
        digits_only = isdigit((unsigned char)v[i]);
    if (digits_only)
        return false;
    return !has_stop_word(v, n);
}

/* Hex of 20 characters or more, with letters and digits: a random hex
 * string has at most 4 bits per character, so the floor for it is lower
 * (3.0, as detect-secrets' hex limit) than for base64. */
bool vg__sec_is_hex(const char *v, size_t n)
{
    if (n < 20)
        return false;
    bool letter = false, digit = false;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)v[i]))
            return false;
        letter |= isalpha((unsigned char)v[i]) != 0;
        digit |= isdigit((unsigned char)v[i]) != 0;
    }
    return letter && digit;
}
