#!/usr/bin/env bash
# Builds nvmove and runs the whole test suite: unit tests, traffic tests
# (byte-for-byte pcap comparison + tshark), end-to-end namespace test, a short
# fuzz run, and the route-table concurrency test under ThreadSanitizer and
# AddressSanitizer. Needs root (DPDK, network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release
fi
ninja -C build -j "$JOBS"
meson test -C build --print-errorlogs --num-processes 1 "$@"
