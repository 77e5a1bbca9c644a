/*
 * Fuzzes the secret scanner's input paths: the bytes as a file named
 * *.yaml (the scan, then the Kubernetes Secret reader and its base64
 * decoder), as *.json (the JSON manifest reader), and as an image tarball
 * (libarchive, nested layers, the held-back findings of a layer). A small
 * rule set, written to a memfd, keeps start-up short; it has a multi-line
 * rule, a keyword rule and an expression-prefiltered rule, so that every
 * path of the matcher runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_secrets.h"

static const char rules_lua[] =
    "return { allow = { [[example]] }, rules = {\n"
    "  { id = 'pw', regex = [[(?i)\\bpassword\\b\\s*[:=]\\s*([^\\s]{4,64})]],\n"
    "    keywords = { 'password' }, entropy = 1.0 },\n"
    "  { id = 'ghp', regex = [[\\b(ghp_[A-Za-z0-9]{36})\\b]], keywords = { 'ghp_' } },\n"
    "  { id = 'sk', regex = [[\\b(SK[0-9a-f]{32})\\b]], keywords = { 'SK' } },\n"
    "  { id = 'pem', regex = [[-----BEGIN ([A-Z ]*PRIVATE "
    "KEY)-----\\s*([A-Za-z0-9+/=\\r\\n]{16,})]],\n"
    "    keywords = { 'PRIVATE KEY' }, secret_group = 2, window = 4096 },\n"
    "} }\n";

static vg_sec_rules *rules;

static void sink(void *arg, const vg_sec_finding *f)
{
    char m[32];
    vg_sec_mask(f->secret, f->secret_len, m, sizeof(m));
    *(size_t *)arg += strlen(m) + f->line + f->column;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rules)
        rules = fuzz_sec_rules(rules_lua, sizeof(rules_lua) - 1, "fuzz_secrets_scan");
    size_t acc = 0;
    vg_sec_limits lim = {.max_file_bytes = 1 << 20, .max_total_bytes = 8 << 20};
    vg_sec_scanner *s = NULL;
    if (vg_sec_scanner_new(rules, &lim, sink, &acc, &s) < 0)
        abort();
    vg_sec_scan_buffer(s, "deploy/secret.yaml", (const char *)data, size);
    vg_sec_scan_buffer(s, "deploy/secret.json", (const char *)data, size);
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof(path));
    if (fd >= 0) {
        vg_sec_scan_image(s, path);
        close(fd);
    }
    vg_sec_scanner_free(s);
    return 0;
}
