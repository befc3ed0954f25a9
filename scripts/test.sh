#!/usr/bin/env bash
# Builds nvmove and runs the whole test suite. Needs root (DPDK, namespaces).
#   1. release build: unit tests, traffic tests (pcap in/out byte for byte,
#      then tshark), end-to-end namespace test
#   2. ThreadSanitizer build: the route table under concurrent reads/writes
#   3. clang AddressSanitizer+UBSan build: all unit tests, then each libFuzzer
#      target for FUZZ_SECONDS (default 20)
# SKIP_SANITIZERS=1 runs step 1 only (quick local iterations).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

step() { printf '\n=== %s ===\n' "$*"; }

step "release build and tests"
[ -f build/build.ninja ] || meson setup build --buildtype=release
ninja -C build -j "$JOBS"
meson test -C build --print-errorlogs --num-processes 1 --no-suite fuzz

if [ "${SKIP_SANITIZERS:-0}" = 1 ]; then
  echo "sanitizer and fuzz steps skipped (SKIP_SANITIZERS=1)"
  exit 0
fi

step "ThreadSanitizer: route table concurrency"
[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread --buildtype=debugoptimized
ninja -C build-tsan -j "$JOBS" tests/route_table_tests
TSAN_OPTIONS="halt_on_error=1 abort_on_error=1" \
  build-tsan/tests/route_table_tests

step "AddressSanitizer+UBSan (clang): unit tests and fuzz targets"
[ -f build-fuzz/build.ninja ] || CXX=clang++ meson setup build-fuzz -Dfuzz=true \
  -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized \
  -Dfuzz_seconds="$FUZZ_SECONDS"
ninja -C build-fuzz -j "$JOBS" tests/unit_tests tests/fuzz_packet tests/fuzz_config tests/fuzz_protocol
ASAN_OPTIONS="detect_leaks=0" UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1" \
  build-fuzz/tests/unit_tests
meson test -C build-fuzz --print-errorlogs --num-processes 1 --suite fuzz
