/*
 * Fuzzes `vigil-policy test` with the bytes as a JSON-lines fixture: the
 * real test runner (tools/vigil-policy/vigil-policy-test.c) runs a test
 * file that reads the fixture with test.fixture() and feeds every event
 * with test.feed() into a policy harness (real bus, rules, Lua policy),
 * in learn and then in protect mode. Lines that are not JSON objects, wrong
 * field types, unknown event types, deep nesting, huge numbers: an error
 * reported by the runner, never a crash, a hang or a leak.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/wl_fixture.h"
#include "log.h"
#include "vigil-policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* A policy that reads the fields a fixture's events carry, and a test
 * that feeds the fixture. pcall: a bad event must not end the case. */
static const char policy[] =
    "vigil.on('proc.exec', function(ev)\n"
    "  if ev.name == 'nc' or (ev.path or ''):find('^/tmp') then return vigil.DENY end\n"
    "  if ev.uid == 0 and ev.parent_uid ~= 0 then return vigil.ALERT end\n"
    "end)\n"
    "vigil.on('net.connect', function(ev)\n"
    "  if ev.port == 4444 then return vigil.DENY end\n"
    "end)\n";
static const char test[] =
    "test.case('fixture', function()\n"
    "  local ok, events = pcall(test.fixture, 'in.jsonl')\n"
    "  if not ok then return end\n"
    "  for _, ev in ipairs(events) do pcall(test.feed, ev) end\n"
    "  for _, ev in ipairs(events) do\n"
    "    if type(ev.group) == 'string' then pcall(test.mode, ev.group, 'protect') end\n"
    "  end\n"
    "  for _, ev in ipairs(events) do pcall(test.feed, ev) end\n"
    "end)\n";

static void cleanup(void)
{
    fx_rmtree(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vg-fuzz-fixture-XXXXXX");
    if (!mkdtemp(dir) || fx_write(dir, policy, "/10-fuzz.lua") < 0 ||
        fx_write(dir, test, "/fuzz_test.lua") < 0)
        abort();
    atexit(cleanup);
    /* Warnings and worse, as vigil-policy sets it (the harness logs every
     * load at info: the log would be most of the run). */
    vg_log_set_level(VG_LOG_WARN);
    /* The runner reports on stdout; libFuzzer's own output is stderr. */
    if (!freopen("/dev/null", "w", stdout))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0])
        setup();
    char path[128];
    snprintf(path, sizeof(path), "%s/in.jsonl", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char *dirs[] = {dir, NULL};
    vg_policy_test_main(dirs, NULL, 0); /* no plugin declarations */
    return 0;
}
