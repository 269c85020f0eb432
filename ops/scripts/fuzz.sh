#!/usr/bin/env bash
# Builds the libFuzzer targets (Tests/Fuzz, -sanitize=fuzzer,address) and runs each for FUZZ_SECONDS (default 60),
# seeded from Tests/Fuzz/corpus/<target> (read only: new inputs go to a scratch directory). A crash fails the run
# and leaves its input in $FUZZ_ARTIFACTS (default .build-fuzz-artifacts/): turn it into a regression test.
# Usage: fuzz.sh [TARGET...]   (default: every target)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-60}
artifacts=${FUZZ_ARTIFACTS:-$root/.build-fuzz-artifacts}
cd "$root/Tests/Fuzz" || exit 1
swift build -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: unre|Compiling fuzz|Build" || true
bin=$(swift build -Xswiftc -sanitize=fuzzer,address --show-bin-path)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls "$root/Tests/Fuzz/Sources" | grep -v FuzzSupport))
mkdir -p "$artifacts"
cd "$root"  # the classifier target reads config/smshook.yaml from here
failures=0
passes=0
for t in "${targets[@]}"; do
    [ -x "$bin/fuzz-$t" ] || { echo "  FAIL fuzz-$t was not built"; failures=$((failures + 1)); continue; }
    scratch=$(mktemp -d -t "smshook-fuzz-$t.XXXXXX")
    log="$scratch/log"
    "$bin/fuzz-$t" -max_total_time="$seconds" -max_len=16384 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$scratch" "$root/Tests/Fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
    if [ $rc -eq 0 ]; then
        passes=$((passes + 1))
        echo "  ok   fuzz-$t: ${runs:-?} executions in ${seconds} s, no crash"
    else
        failures=$((failures + 1))
        echo "  FAIL fuzz-$t (exit $rc) after ${runs:-?} executions; input kept in $artifacts/$t-*"
        grep -E "ERROR|Fatal error|precondition|SUMMARY|Test unit written" "$log" | head -20
    fi
    rm -rf "$scratch"
done
echo "fuzz: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
