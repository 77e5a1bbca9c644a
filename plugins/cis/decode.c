/*
 * JSON (jansson) and YAML (libyaml) documents as Lua values, for daemon.json,
 * OCI config.json, kubelet config and Kubernetes manifests. JSON null and
 * YAML null become nil, so `x.y == nil` means "not set" in both.
 *
 * Both walks are bounded in depth and (YAML) in the number of nodes pushed,
 * since YAML aliases can make a small file expand exponentially ("billion
 * laughs"); the sandbox's memory cap is the last line behind them.
 */
#include <errno.h>
#include <jansson.h>
#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "cis_int.h"
#include "sandbox.h"

#define DEPTH_MAX 200
#define YAML_NODES_MAX 1000000

static void push_json(lua_State *L, const json_t *v, int depth)
{
    luaL_checkstack(L, 3, "JSON nesting");
    if (depth > DEPTH_MAX)
        luaL_error(L, "JSON nested deeper than %d", DEPTH_MAX);
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        lua_createtable(L, 0, (int)json_object_size(v));
        json_object_foreach((json_t *)v, k, e)
        {
            push_json(L, e, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY:
        lua_createtable(L, (int)json_array_size(v), 0);
        for (size_t i = 0; i < json_array_size(v); i++) {
            push_json(L, json_array_get(v, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    default:
        lua_pushnil(L);
    }
}

void cis_push_jvalue(lua_State *L, const json_t *v)
{
    push_json(L, v, 0);
}

/* Pushes the jansson value under a pcall, so that a Lua memory error does
 * not leak it. */
static int l_push_json(lua_State *L)
{
    push_json(L, lua_touserdata(L, 1), 0);
    return 1;
}

int cis_push_json(lua_State *L, const char *buf, size_t len)
{
    json_error_t je;
    json_t *v = json_loadb(buf, len, JSON_DECODE_ANY, &je);
    if (!v) {
        lua_pushnil(L);
        lua_pushfstring(L, "JSON line %d: %s", je.line, je.text);
        return 2;
    }
    lua_pushcfunction(L, l_push_json);
    lua_pushlightuserdata(L, v);
    int rc = lua_pcall(L, 1, 1, 0);
    json_decref(v);
    if (rc != LUA_OK)
        lua_error(L);
    return 1;
}

/* ---- YAML --------------------------------------------------------------- */

typedef struct ywalk {
    yaml_document_t *doc;
    long nodes;
} ywalk;

/* libyaml's loader gives every untagged scalar the default str tag, so the
 * style is what tells `true` from "true" (an explicit !!str on a plain
 * scalar is read as if it were absent). */
static bool is_plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* YAML 1.1 core schema as Kubernetes' decoder reads it: booleans, null,
 * integers and floats for plain scalars; everything else a string. */
static void push_scalar(lua_State *L, const yaml_node_t *n)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (is_plain(n)) {
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
            lua_pushboolean(L, 1);
            return;
        }
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            lua_pushboolean(L, 0);
            return;
        }
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null")) {
            lua_pushnil(L);
            return;
        }
        if (lua_stringtonumber(L, s) == len + 1)
            return;
    }
    lua_pushlstring(L, s, len);
}

static void push_node(lua_State *L, ywalk *w, yaml_node_t *n, int depth)
{
    luaL_checkstack(L, 3, "YAML nesting");
    if (depth > DEPTH_MAX || ++w->nodes > YAML_NODES_MAX)
        luaL_error(L, "YAML document too deep or too large (aliases?)");
    if (!n) {
        lua_pushnil(L);
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        push_scalar(L, n);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        lua_newtable(L);
        lua_Integer i = 1;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            push_node(L, w, yaml_document_get_node(w->doc, *it), depth + 1);
            lua_rawseti(L, -2, i++);
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        lua_newtable(L);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE)
                continue; /* complex keys mean nothing in a manifest */
            lua_pushlstring(L, (const char *)k->data.scalar.value, k->data.scalar.length);
            push_node(L, w, yaml_document_get_node(w->doc, p->value), depth + 1);
            lua_rawset(L, -3);
        }
    } else {
        lua_pushnil(L);
    }
}

typedef struct yload {
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc;
    ywalk w;
} yload;

/* Runs under pcall with the parser as light userdata: pushes the array. */
static int l_push_yaml(lua_State *L)
{
    yload *y = lua_touserdata(L, 1);
    lua_newtable(L);
    for (lua_Integer i = 1;; i++) {
        if (!yaml_parser_load(&y->parser, &y->doc))
            return luaL_error(L, "YAML line %d: %s", (int)y->parser.problem_mark.line + 1,
                              y->parser.problem ? y->parser.problem : "parse error");
        y->have_doc = true;
        yaml_node_t *root = yaml_document_get_root_node(&y->doc);
        if (!root)
            break; /* the end of the stream */
        y->w.doc = &y->doc;
        push_node(L, &y->w, root, 0);
        lua_rawseti(L, -2, i);
        yaml_document_delete(&y->doc);
        y->have_doc = false;
    }
    return 1;
}

int cis_push_yaml(lua_State *L, const char *buf, size_t len)
{
    yload *y = calloc(1, sizeof(*y));
    if (!y || !yaml_parser_initialize(&y->parser)) {
        free(y);
        return luaL_error(L, "not enough memory");
    }
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)buf, len);
    lua_pushcfunction(L, l_push_yaml);
    lua_pushlightuserdata(L, y);
    int rc = lua_pcall(L, 1, 1, 0);
    if (y->have_doc)
        yaml_document_delete(&y->doc);
    yaml_parser_delete(&y->parser);
    free(y);
    if (rc == LUA_OK)
        return 1;
    /* A parse error is the document's fault and goes back to the check;
     * running out of memory or budget must stop the check. */
    if (rc != LUA_ERRRUN || vg_sandbox_of(L)->over_budget || vg_sandbox_of(L)->over_memory)
        lua_error(L);
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}
