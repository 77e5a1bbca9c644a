#!/usr/bin/env bash
# Every C file of the tree is formatted as .clang-format says (clang-format
# --dry-run -Werror). Prints the files that are not, and how to mend them.
# Usage: clang_format.sh SRC
set -u
SRC=$1
cd "$SRC" || exit 1
command -v clang-format >/dev/null || { echo "clang-format not found (scripts/deps.sh installs it)"; exit 1; }
# A frozen copy of an old public header is kept byte for byte.
mapfile -t files < <(find core lib include plugins tools tests bench examples \
    \( -name '*.c' -o -name '*.h' \) -not -path 'tests/plugins/abi-1.2/*' | sort)
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
    printf 'not formatted: %s\n' "${bad[@]}"
    echo "mend with: clang-format -i ${bad[*]}"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "${#files[@]} files formatted"
echo "1 passed, 0 failed"
