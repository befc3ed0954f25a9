#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a scratch copy of its seed
# corpus (new inputs stay out of the repository). Usage: run_fuzz.sh EXE CORPUS SECONDS
set -euo pipefail
exe=$1 corpus=$2 seconds=${3:-20}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/ 2>/dev/null || true
# libFuzzer exits 77 on a finding by default, which meson reports as a
# skipped test: a crash must fail the suite.
"$exe" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 -error_exitcode=1 \
  -artifact_prefix="$work/" "$work" || {
  rc=$?
  for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
    [ -e "$crash" ] && echo "finding: $crash ($(od -An -tx1 -v "$crash" | tr -d ' \n' | head -c 512))"
  done
  exit "$rc"
}
