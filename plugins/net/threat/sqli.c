/*
 * SQL injection, by tokens (libinjection's idea, compact): the text is cut
 * into SQL tokens (strings, numbers, words, operators, comments, ...), and
 * a few shapes that only injected SQL takes are looked for:
 * - a tautology after a connector: OR 1=1, ' OR 'a'='a, AND 2>1 (literals
 *   on both sides), or OR with a lone literal before a comment or the end;
 * - UNION [ALL|DISTINCT] SELECT after a literal or a parenthesis;
 * - a stacked statement: ; then a statement with the word its keyword
 *   needs next (DROP TABLE, DELETE FROM, UPDATE t SET, ...);
 * - a comment right after a closed string: admin'-- ;
 * - a time or file function after a connector: AND SLEEP(5), OR
 *   BENCHMARK(...), ; WAITFOR DELAY, LOAD_FILE(...).
 * A parameter value is tried as it stands and as if it followed an opening
 * quote (' or "), which is where a value lands in a vulnerable query. A
 * whole query (MySQL, PostgreSQL, TDS) is judged by stricter shapes, since
 * benign statements use comments, UNION and several statements: a
 * tautology of identical literals after OR, UNION SELECT of literals only
 * or from information_schema, a literal then ; then a destructive
 * statement, a comment after a string that hides more quoted text, and
 * time functions after AND/OR.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "threat.h"

#define TOK_MAX 96
#define WORD_MAX 24

enum { T_STR, T_NUM, T_WORD, T_OP, T_LP, T_RP, T_COMMA, T_SEMI, T_COMMENT, T_VAR, T_OTHER };

typedef struct tok {
    int type;
    uint32_t at, len; /* in the text */
    char w[WORD_MAX]; /* words and operators, upper case */
} tok;

typedef struct lexer {
    const char *s;
    size_t n, i;
    tok t[TOK_MAX];
    int nt;
} lexer;

static void push(lexer *x, int type, size_t at, size_t len)
{
    if (x->nt >= TOK_MAX)
        return;
    tok *t = &x->t[x->nt++];
    t->type = type;
    t->at = (uint32_t)at;
    t->len = (uint32_t)len;
    size_t k = 0;
    if (type == T_WORD || type == T_OP || type == T_VAR)
        for (; k < len && k < WORD_MAX - 1; k++)
            t->w[k] = (char)toupper((unsigned char)x->s[at + k]);
    t->w[k] = 0;
}

/* A string from i (just after its opening quote q) to its closing quote. */
static size_t string_end(const char *s, size_t n, size_t i, char q)
{
    while (i < n) {
        if (s[i] == '\\' && q != '`') {
            i += 2;
            continue;
        }
        if (s[i] == q) {
            if (i + 1 < n && s[i + 1] == q) { /* doubled: an escaped quote */
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return n;
}

static int is_word(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

static void lex(lexer *x, const char *s, size_t n, char open_quote)
{
    x->s = s;
    x->n = n;
    x->nt = 0;
    size_t i = 0;
    if (open_quote) { /* the value continues a string the query opened */
        size_t e = string_end(s, n, 0, open_quote);
        push(x, T_STR, 0, e);
        i = e;
    }
    while (i < n && x->nt < TOK_MAX) {
        char c = s[i];
        size_t st = i;
        if (isspace((unsigned char)c)) {
            i++;
        } else if ((c == '-' && i + 1 < n && s[i + 1] == '-') || c == '#') {
            while (i < n && s[i] != '\n')
                i++;
            push(x, T_COMMENT, st, i - st);
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *e = memmem(s + i + 2, n - i - 2, "*/", 2);
            i = e ? (size_t)(e - s) + 2 : n;
            push(x, T_COMMENT, st, i - st);
        } else if (c == '\'' || c == '"' || c == '`') {
            i = string_end(s, n, i + 1, c);
            push(x, c == '`' ? T_WORD : T_STR, st, i - st);
        } else if (isdigit((unsigned char)c) ||
                   (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '.'))
                i++;
            push(x, T_NUM, st, i - st);
        } else if (is_word(c)) {
            while (i < n && is_word(s[i]))
                i++;
            push(x, T_WORD, st, i - st);
        } else if (c == '@') {
            while (i < n && (s[i] == '@' || is_word(s[i])))
                i++;
            push(x, T_VAR, st, i - st);
        } else if (c == '(' || c == ')' || c == ',' || c == ';') {
            i++;
            push(x, c == '(' ? T_LP : c == ')' ? T_RP : c == ',' ? T_COMMA : T_SEMI, st, 1);
        } else if (strchr("=<>!|&+-*/%^~:", c)) {
            while (i < n && i - st < 3 && strchr("=<>!|&+*/%^~:", s[i]) &&
                   !(s[i] == '/' && i + 1 < n && s[i + 1] == '*'))
                i++;
            if (i == st)
                i++;
            push(x, T_OP, st, i - st);
        } else {
            i++;
            push(x, T_OTHER, st, 1);
        }
    }
}

static int word_is(const tok *t, const char *w)
{
    return t->type == T_WORD && !strcmp(t->w, w);
}

static int one_of(const tok *t, const char *const *list)
{
    for (; *list; list++)
        if (word_is(t, *list))
            return 1;
    return 0;
}

static int connector(const tok *t)
{
    return word_is(t, "OR") || word_is(t, "AND") || word_is(t, "XOR") ||
           (t->type == T_OP && (!strcmp(t->w, "||") || !strcmp(t->w, "&&")));
}

static int literal(const tok *t)
{
    return t->type == T_STR || t->type == T_NUM || word_is(t, "NULL") || word_is(t, "TRUE") ||
           word_is(t, "FALSE");
}

static int compare(const tok *t)
{
    static const char *const ops[] = {"=", "<", ">", "<=", ">=", "<>", "!=", "==", "<=>", NULL};
    if (t->type == T_OP) {
        for (int i = 0; ops[i]; i++)
            if (!strcmp(t->w, ops[i]))
                return 1;
        return 0;
    }
    return word_is(t, "LIKE") || word_is(t, "IS");
}

/* The text of a literal without its quotes. */
static int same_literal(const lexer *x, const tok *a, const tok *b)
{
    const char *p = x->s + a->at, *q = x->s + b->at;
    uint32_t al = a->len, bl = b->len;
    if (a->type == T_STR && al >= 1) {
        p++;
        al -= al >= 2 && p[al - 2] == p[-1] ? 2 : 1;
    }
    if (b->type == T_STR && bl >= 1) {
        q++;
        bl -= bl >= 2 && q[bl - 2] == q[-1] ? 2 : 1;
    }
    return al == bl && !memcmp(p, q, al);
}

static const char *const statements[] = {
    "SELECT",  "INSERT",  "UPDATE",   "DELETE",   "DROP",    "CREATE", "ALTER",   "EXEC",
    "EXECUTE", "DECLARE", "SHUTDOWN", "TRUNCATE", "WAITFOR", "GRANT",  "REPLACE", NULL,
};
/* A statement starts at k, with the word its keyword needs next (DROP
 * TABLE, DELETE FROM, INSERT INTO, UPDATE t SET, ...): "; update pending"
 * in prose is not one. */
static int statement_at(const lexer *x, int k)
{
    if (k >= x->nt || !one_of(&x->t[k], statements))
        return 0;
    const tok *n = k + 1 < x->nt ? &x->t[k + 1] : NULL;
    const tok *n2 = k + 2 < x->nt ? &x->t[k + 2] : NULL;
    static const char *const objects[] = {"TABLE", "DATABASE",  "SCHEMA",   "USER",  "VIEW",
                                          "INDEX", "PROCEDURE", "FUNCTION", "LOGIN", NULL};
    const char *w = x->t[k].w;
    if (!strcmp(w, "SELECT"))
        return n && n->type != T_COMMENT;
    if (!strcmp(w, "SHUTDOWN"))
        return !n || n->type == T_COMMENT || n->type == T_SEMI;
    if (!strcmp(w, "INSERT") || !strcmp(w, "REPLACE"))
        return n && word_is(n, "INTO");
    if (!strcmp(w, "DELETE"))
        return n && word_is(n, "FROM");
    if (!strcmp(w, "UPDATE"))
        return n2 && word_is(n2, "SET");
    if (!strcmp(w, "DROP") || !strcmp(w, "CREATE") || !strcmp(w, "ALTER") || !strcmp(w, "TRUNCATE"))
        return n && one_of(n, objects);
    if (!strcmp(w, "WAITFOR"))
        return n && (word_is(n, "DELAY") || word_is(n, "TIME"));
    if (!strcmp(w, "DECLARE"))
        return n && n->type == T_VAR;
    return n && (n->type == T_WORD || n->type == T_LP); /* EXEC xp_..., GRANT ALL */
}

static const char *const destructive[] = {
    "DROP",   "DELETE", "INSERT",   "UPDATE",  "SHUTDOWN", "EXEC",  "EXECUTE",
    "CREATE", "ALTER",  "TRUNCATE", "DECLARE", "WAITFOR",  "GRANT", NULL,
};
static const char *const functions[] = {
    "SLEEP",     "BENCHMARK",   "PG_SLEEP",  "LOAD_FILE",  "EXTRACTVALUE",
    "UPDATEXML", "XP_CMDSHELL", "DBMS_PIPE", "UTL_INADDR", NULL,
};

/* UNION [ALL|DISTINCT] SELECT at i; returns the index after SELECT or 0. */
static int union_select(const lexer *x, int i)
{
    if (!word_is(&x->t[i], "UNION"))
        return 0;
    int j = i + 1;
    if (j < x->nt && (word_is(&x->t[j], "ALL") || word_is(&x->t[j], "DISTINCT")))
        j++;
    return j < x->nt && word_is(&x->t[j], "SELECT") ? j + 1 : 0;
}

/* A UNION SELECT of literals only, or from information_schema. */
static int union_probe(const lexer *x, int j)
{
    int only_literals = 1;
    for (; j < x->nt; j++) {
        const tok *t = &x->t[j];
        if (word_is(t, "FROM"))
            return only_literals ||
                   (j + 1 < x->nt &&
                    (!strncmp(x->t[j + 1].w, "INFORMATION_SCHEMA", 18) ||
                     !strncmp(x->t[j + 1].w, "PG_", 3) || !strcmp(x->t[j + 1].w, "MYSQL")));
        if (t->type == T_COMMENT || t->type == T_SEMI)
            break;
        if (!literal(t) && t->type != T_COMMA && t->type != T_VAR)
            only_literals = 0;
    }
    return only_literals;
}

static int tautology(const lexer *x, int i, int strict)
{
    int j = i + 1;
    while (!strict && j < x->nt && x->t[j].type == T_LP) /* OR (1=1 */
        j++;
    if (j + 2 < x->nt && literal(&x->t[j]) && compare(&x->t[j + 1]) && literal(&x->t[j + 2])) {
        if (!strict)
            return 1;
        return x->t[j + 1].type == T_OP && !strcmp(x->t[j + 1].w, "=") &&
               same_literal(x, &x->t[j], &x->t[j + 2]);
    }
    /* OR 1 -- , or x' OR true at the end, right after the string the value
     * closed ("red or 5" alone is prose) */
    if (!strict && word_is(&x->t[i], "OR") && j < x->nt && literal(&x->t[j])) {
        if (j + 1 < x->nt && x->t[j + 1].type == T_COMMENT)
            return 1;
        return j + 1 == x->nt && i == 1 && x->t[0].type == T_STR && x->t[0].at == 0;
    }
    return 0;
}

static int function_call(const lexer *x, int i)
{
    if (i + 1 >= x->nt)
        return 0;
    if (word_is(&x->t[i + 1], "WAITFOR"))
        return i + 2 < x->nt && word_is(&x->t[i + 2], "DELAY");
    return i + 2 < x->nt && one_of(&x->t[i + 1], functions) && x->t[i + 2].type == T_LP;
}

static int value_shapes(const lexer *x, int quoted)
{
    for (int i = 0; i < x->nt; i++) {
        const tok *t = &x->t[i];
        if (connector(t) && tautology(x, i, 0))
            return 1;
        /* after the literal the value closes: 1 UNION SELECT, ') UNION SELECT */
        if (union_select(x, i) && i > 0 && (literal(&x->t[i - 1]) || x->t[i - 1].type == T_RP))
            return 1;
        if (t->type == T_SEMI && statement_at(x, i + 1))
            return 1;
        if ((connector(t) || t->type == T_SEMI || t->type == T_OP) && function_call(x, i))
            return 1;
    }
    /* admin'-- , x') -- : a comment right after the string the value closed */
    if (quoted && x->nt >= 2 && x->t[0].type == T_STR) {
        int j = 1;
        while (j < x->nt && x->t[j].type == T_RP)
            j++;
        if (j < x->nt && x->t[j].type == T_COMMENT)
            return 1;
    }
    return 0;
}

static int has_quote(const char *s, size_t n)
{
    return memchr(s, '\'', n) || memchr(s, '"', n);
}

static int query_shapes(const lexer *x)
{
    int where = 0,
        first_dml = x->nt && (word_is(&x->t[0], "SELECT") || word_is(&x->t[0], "UPDATE") ||
                              word_is(&x->t[0], "DELETE"));
    for (int i = 0; i < x->nt; i++) {
        const tok *t = &x->t[i];
        where |= word_is(t, "WHERE");
        if (word_is(t, "OR") && tautology(x, i, 1))
            return 1;
        int j = union_select(x, i);
        if (j && union_probe(x, j))
            return 1;
        if (t->type == T_SEMI && first_dml && where && i > 0 && literal(&x->t[i - 1]) &&
            i + 1 < x->nt && one_of(&x->t[i + 1], destructive))
            return 1;
        if (t->type == T_COMMENT && i > 0 && x->t[i - 1].type == T_STR && x->s[t->at] != '/' &&
            has_quote(x->s + t->at, t->len))
            return 1;
        if (connector(t) && function_call(x, i))
            return 1;
    }
    return 0;
}

int vg_sqli(const char *s, size_t n, int query)
{
    lexer x;
    if (query) {
        lex(&x, s, n, 0);
        return query_shapes(&x);
    }
    lex(&x, s, n, 0);
    if (value_shapes(&x, 0))
        return 1;
    static const char quotes[] = {'\'', '"'};
    for (int q = 0; q < 2; q++) {
        if (!memchr(s, quotes[q], n))
            continue;
        lex(&x, s, n, quotes[q]);
        if (value_shapes(&x, 1))
            return 1;
    }
    return 0;
}

size_t vg_url_decode(const uint8_t *src, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        uint8_t c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < n && isxdigit(src[i + 1]) && isxdigit(src[i + 2])) {
            char h[3] = {(char)src[i + 1], (char)src[i + 2], 0};
            c = (uint8_t)strtol(h, NULL, 16);
            i += 2;
        }
        dst[o++] = c ? (char)c : ' ';
    }
    dst[o] = 0;
    return o;
}
