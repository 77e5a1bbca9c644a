/*
 * Fuzzes the two readers of image tarballs with the bytes as a `docker
 * save` file: the CIS image reader (plugins/cis/image.c: its own tar
 * walker over the outer tar and each layer in place, GNU base-256 sizes,
 * long names, pax paths, gzip layers through zlib, manifest.json and the
 * config through jansson) and the secret scanner's (plugins/secrets/
 * image.c: libarchive, nested layers, held-back findings, members streamed
 * in segments). Seeds are small real `docker save` layouts (tests/fuzz/
 * corpus/fuzz_image_tar/, written by gen_image_seeds.py).
 */
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cis_int.h"
#include "sandbox.h"
#include "fuzz_secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vg_sec_rules *rules;

static const char rules_lua[] =
    "return { rules = {\n"
    "  { id = 'ghp', regex = [[\\b(ghp_[A-Za-z0-9]{36})\\b]], keywords = { 'ghp_' } },\n"
    "  { id = 'pw', regex = [[(?i)\\bpassword\\b\\s*[:=]\\s*([^\\s]{4,64})]],\n"
    "    keywords = { 'password' }, entropy = 1.0 },\n"
    "} }\n";

static void sink(void *arg, const vg_sec_finding *f)
{
    *(size_t *)arg += f->secret_len + f->line + (f->layer ? strlen(f->layer) : 0);
}

/* Reads what the CIS image checks read of the table. */
static int cis_image(lua_State *L)
{
    if (cis_push_image(L, lua_tostring(L, 1)) != 1)
        return 0;
    lua_getfield(L, -1, "files");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2))
            lua_pop(L, 1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules)
        rules = fuzz_sec_rules(rules_lua, sizeof(rules_lua) - 1, "fuzz_image_tar");
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof(path));
    if (fd < 0)
        return 0;

    lua_State *L = NULL;
    if (vg_sandbox_new("fuzz", 96u << 20, 20000000, &L) < 0)
        abort();
    lua_pushcfunction(L, cis_image);
    lua_pushstring(L, path);
    lua_pcall(L, 1, 0, 0);
    vg_sandbox_close(L);

    size_t acc = 0;
    vg_sec_limits lim = {.max_file_bytes = 64 << 20, .max_total_bytes = 256 << 20};
    vg_sec_scanner *s = NULL;
    if (vg_sec_scanner_new(rules, &lim, sink, &acc, &s) < 0)
        abort();
    vg_sec_scan_image(s, path);
    vg_sec_scanner_free(s);
    close(fd);
    return 0;
}
