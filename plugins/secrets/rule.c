/*
 * One rule's fields and their lifetime, and the string lists they hold;
 * shared by the reader of rule files (rules_lua.c) and the compiled set
 * (rules.c), which both depend on this file and on nothing of each other's
 * but the reader's entry point.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secrets_int.h"

int vg__sec_strv_push(vg__sec_strv *sv, const char *s)
{
    char **v = realloc(sv->v, (sv->n + 2) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    sv->v = v;
    if (!(v[sv->n] = strdup(s)))
        return -ENOMEM;
    v[++sv->n] = NULL;
    return 0;
}

void vg__sec_strv_free(vg__sec_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

void vg__sec_rule_clear(vg__sec_rule *r)
{
    free(r->id);
    free(r->description);
    free(r->tags);
    free(r->hit);
    free(r->miss);
    free(r->expath);
    free(r->regex);
    free(r->pre_regex);
    vg__sec_strv_free(&r->keywords);
    vg__sec_strv_free(&r->paths);
    vg__sec_strv_free(&r->exclude_paths);
    if (r->allow_re)
        for (size_t i = 0; i < r->allow.n; i++)
            pcre2_code_free(r->allow_re[i]);
    free(r->allow_re);
    vg__sec_strv_free(&r->allow);
    pcre2_code_free(r->re);
    memset(r, 0, sizeof(*r));
}
