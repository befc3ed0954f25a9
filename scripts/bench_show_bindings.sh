#!/usr/bin/env bash
# How long nvad's protocol loop is held while an operator lists a large
# binding cache: nvad with N bindings (registered by tests' nve_register, as
# NVEs would), then `nvectl -d nvad show bindings` (paged: 1,000 bindings per
# answer) and the same cache as one answer (`show bindings first N`, the form
# before paging), each while a probe asks `show version` back to back; the
# probe's slowest answer is how long nvad's loop (registrations, moves,
# notifications) could not run. Called by scripts/bench.sh (section 2c);
# alone:  scripts/bench_show_bindings.sh [N] (default 100000).
# Ends with RESULT lines; stops nvad by PID on every path.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD N=${1:-100000}
NVAD=$ROOT/build/control/nvad/nvad NVECTL=$ROOT/build/control/nvectl/nvectl REG=$ROOT/build/tests/nve_register
W=${WORK:-/tmp/nvbench}/show_bindings; rm -rf "$W"; mkdir -p "$W"
NVAD_PID=
cleanup() { [ -n "$NVAD_PID" ] && { kill "$NVAD_PID" 2>/dev/null; sleep 0.5; kill -9 "$NVAD_PID" 2>/dev/null; }; }
trap cleanup EXIT; trap 'exit 130' INT TERM
source "$ROOT/scripts/lib/listing_probe.sh"
KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "127.0.0.11 1 $KEY" > "$W/nvad.keys"; echo "127.0.0.1 1 $KEY" > "$W/nve.keys"; chmod 600 "$W"/*.keys
cat > "$W/nvad.yaml" <<YAML
listen: {addresses: [127.0.0.1], port: 61499}
key_file: $W/nvad.keys
db_path: $W/nvad.db
max_bindings: $(( N + 1000 ))
log: {level: warn}
YAML
"$NVAD" -c "$W/nvad.yaml" --ctl-socket "$W/nvad.sock" >"$W/nvad.log" 2>&1 &
NVAD_PID=$!
for _ in $(seq 1 50); do "$NVECTL" -d nvad -s "$W/nvad.sock" show version >/dev/null 2>&1 && break; sleep 0.1; done
echo "# $("$REG" --nvad 127.0.0.1 --port 61499 --from 127.0.0.11 --keys "$W/nve.keys" --vm vm --mac 02:01:00:00:00:00 \
  --addr 10.0.0.1 --endpoint 127.0.0.11 --count "$N" --window 128 2>&1)"

CTL=("$NVECTL" -d nvad -s "$W/nvad.sock")
measure_listing show_bindings bindings "nvad's loop" loop_held paged show bindings
measure_listing show_bindings bindings "nvad's loop" loop_held one_answer show bindings first "$N"
