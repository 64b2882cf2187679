#!/usr/bin/env bash
# Runs one libFuzzer target of tests/fuzz from the fuzz build (cmake -DTINVESTD_FUZZ=ON).
#
#   scripts/fuzz.sh check BUILD_DIR TARGET SECONDS   the test fuzz.TARGET (make test): new inputs go
#                                                    to a scratch directory emptied first
#   scripts/fuzz.sh run   BUILD_DIR TARGET SECONDS   make fuzz: new inputs are kept in
#                                                    BUILD_DIR/fuzz/TARGET/corpus for the next run
#
# Both read the committed seed corpus tests/fuzz/corpus/TARGET and never write into it. A crash,
# leak, timeout or sanitizer report fails the run; the input that caused it is saved under
# BUILD_DIR/fuzz/TARGET/ and the command that reproduces it is printed.
set -euo pipefail

if [ $# -ne 4 ] || { [ "$1" != check ] && [ "$1" != run ]; }; then
    echo "usage: scripts/fuzz.sh check|run BUILD_DIR TARGET SECONDS" >&2
    exit 2
fi
mode=$1
build_dir=$(cd "$2" && pwd)
target=$3
seconds=$4
source_dir=$(cd "$(dirname "$0")/.." && pwd)
binary=$build_dir/fuzz_$target
seeds=$source_dir/tests/fuzz/corpus/$target
work=$build_dir/fuzz/$target

if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing (configure with -DTINVESTD_FUZZ=ON and build)" >&2
    exit 2
fi
if [ "$mode" = check ]; then
    corpus=$work/check-corpus
    artifacts=$work/check-crashes
    rm -rf "$corpus" "$artifacts"
else
    corpus=$work/corpus
    artifacts=$work/crashes
fi
mkdir -p "$corpus" "$artifacts" "$work/tmp"

options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
         -artifact_prefix="$artifacts/")
[ -f "$source_dir/tests/fuzz/$target.dict" ] && options+=(-dict="$source_dir/tests/fuzz/$target.dict")
[ "$mode" = check ] && options+=(-print_pcs=0 -verbosity=0)

before=$(ls "$artifacts" | wc -l)
echo "fuzz: $target for ${seconds}s (seeds: tests/fuzz/corpus/$target, new inputs: ${corpus#$build_dir/})"
status=0
# The targets' scratch files go under the build directory, where a crash leaves them.
TMPDIR=$work/tmp "$binary" "${options[@]}" "$corpus" "$seeds" 2>"$work/last.log" || status=$?
if [ "$status" -eq 0 ] && [ "$(ls "$artifacts" | wc -l)" -eq "$before" ]; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$work/last.log" |
        sed "s/^/fuzz: $target /" || true
    exit 0
fi
grep -v '^#\|^INFO:\|^stat::' "$work/last.log" | tail -n 60 >&2
found=$(ls -t "$artifacts" | head -n 1)
echo "fuzz: FAILED $target (exit status $status); the full log is ${work#$source_dir/}/last.log" >&2
if [ -n "$found" ]; then
    input=$artifacts/$found
    echo "fuzz: the input: $input" >&2
    echo "fuzz: reproduce with: $binary $input" >&2
    echo "fuzz: minimise with:  $binary -minimize_crash=1 -max_total_time=60 $input" >&2
fi
exit 1
