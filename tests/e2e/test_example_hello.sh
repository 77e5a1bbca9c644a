#!/usr/bin/env bash
# examples/plugins/hello builds outside the tree against the installed
# header alone, as a third party's plugin would: install vigil into a
# prefix, copy the example out of the tree, configure it with only that
# prefix, build it with warnings as errors, then load the .so into the
# installed vigild and see its events, its command and its setting through
# vigilctl (a reload included).
. "$(dirname "$0")/lib.sh"

command -v cmake >/dev/null || fail "cmake is needed to build the example"
INST="$T/inst"
cmake --install "$VIGIL_BUILD" --prefix "$INST" >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; fail "cmake --install"; }
[ -f "$INST/include/vigil/plugin.h" ] || fail "the plugin header is not installed"

cp -r "$VIGIL_SRC/examples/plugins/hello" "$T/hello-src"
# Any sanitizer flags of the tree's build stay out: this is a user's build.
env -u CFLAGS -u CPPFLAGS cmake -S "$T/hello-src" -B "$T/hello-build" \
    -DCMAKE_PREFIX_PATH="$INST" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes" \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$T/hello-cmake.log" 2>&1 ||
    { cat "$T/hello-cmake.log"; fail "configuring the example"; }
cmake --build "$T/hello-build" >"$T/hello-build.log" 2>&1 ||
    { cat "$T/hello-build.log"; fail "building the example"; }
# Its compile command names the installed prefix and nothing of the tree.
grep -q -- "-I$INST/include" "$T/hello-build/compile_commands.json" ||
    fail "the example does not use the installed header"
if grep -q "$VIGIL_SRC\|$VIGIL_BUILD" "$T/hello-build/compile_commands.json"; then
    fail "the example's build reaches into vigil's tree"
fi
nm -D --defined-only "$T/hello-build/hello.so" | has " vigil_plugin$" ||
    fail "hello.so does not export vigil_plugin"

# The installed daemon and client, with only this plugin (and the test one).
VIGILD="$INST/sbin/vigild"
VIGILCTL="$INST/sbin/vigilctl"
cp "$T/hello-build/hello.so" "$PLUGINS"/
CONFIG="$T/vigil.lua"
config() {
    cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
    printf 'plugins = { hello = { greeting = "%s", interval_ms = 50 } }\n' "$1" >>"$CONFIG"
}
config "hi from $$"
start_daemon

vctl plugins --json >"$T/plugins.json"
abi="1.$(sed -n 's/^#define VG_ABI_MINOR //p' "$VIGIL_SRC/include/vigil/plugin.h")"
json --arg abi "$abi" '.[] | select(.name == "hello") | .state == "running" and .abi == $abi' "$T/plugins.json" \
    >/dev/null || { cat "$T/plugins.json"; fail "hello is not running"; }
wait_for has_event hello.tick ".greeting == \"hi from $$\" and .count >= 2"
vctl events --type hello.tick --limit 100 | has "hi from $$" || fail "no tick in the human listing"
vctl call hello >"$T/call.json" || fail "vigilctl call hello"
json ".greeting == \"hi from $$\" and .ticks >= 2" "$T/call.json" >/dev/null ||
    fail "command answered $(cat "$T/call.json")"

# A reload reaches the plugin: later ticks carry the new greeting.
config "bye from $$"
vctl reload >/dev/null || fail "reload refused"
wait_for has_event hello.tick ".greeting == \"bye from $$\""
# A setting of the wrong type, a misspelt one or one out of range: the
# plugin declares what it reads (ABI 1.4), so the daemon refuses the reload
# with the file and line and the plugin goes on with the settings it has.
cp "$VIGIL_SRC/etc/vigil/vigil.lua" "$CONFIG"
echo 'plugins = { hello = { greeting = 42, intervl_ms = 5 } }' >>"$CONFIG"
out=$(vctl reload 2>&1) && fail "a reload with bad plugin settings was accepted"
line=$(wc -l <"$CONFIG")
echo "$out" | has "$CONFIG:$line: plugins.hello.greeting must be a string, got number" ||
    fail "reload refusal does not name the bad type: $out"
echo "$out" | has "unknown setting 'intervl_ms'; did you mean interval_ms?" ||
    fail "reload refusal does not name the misspelt key: $out"
"$VIGILD" --check --config "$CONFIG" --plugin-dir "$PLUGINS" --policy-dir "$POLICIES" >/dev/null 2>&1 &&
    fail "--check accepted the same settings"
sleep 0.2
wait_for has_event hello.tick ".greeting == \"bye from $$\" and .count >= 8"
stop_daemon
grep -q "hello" "$LOG" || fail "the daemon's log never names the plugin"
pass
