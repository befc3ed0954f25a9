#!/usr/bin/env bash
# How long nved's control thread is held while an operator lists a large
# route table: nved with N routes from a route_file (net_pcap ports, no
# traffic), then `nvectl show routes` (paged: 10,000 table entries per
# answer) and the same table as one answer (`show routes vn 0 page 0 N`, the
# form before paging), each while a probe asks `show version` back to back;
# the probe's slowest answer is how long the control thread (the agent,
# route changes, ARP) could not run. Called by scripts/bench.sh (section 2b);
# alone:  scripts/bench_show_routes.sh [N] (default 1000000).
# Ends with RESULT lines; stops nved by PID on every path.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD N=${1:-1000000}
NVED=$ROOT/build/control/nved/nved NVECTL=$ROOT/build/control/nvectl/nvectl
W=${WORK:-/tmp/nvbench}/show_routes; mkdir -p "$W"
PREFIX=nvbenchsr$$ NVED_PID=
cleanup() { [ -n "$NVED_PID" ] && { kill "$NVED_PID" 2>/dev/null; sleep 0.5; kill -9 "$NVED_PID" 2>/dev/null; }; }
trap cleanup EXIT; trap 'exit 130' INT TERM
source "$ROOT/scripts/lib/listing_probe.sh"

/usr/bin/python3 - "$N" "$W" <<'PY'
import sys
n, w = int(sys.argv[1]), sys.argv[2]
with open(w + "/routes.txt", "w") as f:
    for i in range(n):
        f.write("0 10.%d.%d.%d tunnel 198.51.100.2\n" % (1 + i // 65536, (i // 256) % 256, i % 256))
open(w + "/empty.pcap", "wb").write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
open(w + "/nved.yaml", "w").write("""ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
route_table: {capacity: %d}
workers: {mbufs: 2047, idle_sleep_us: 100}
route_file: %s/routes.txt
""" % (max(2 * n, 1024), w))
PY
"$NVED" -l 0,1 --no-huge -m $(( 512 + N / 1000 )) --no-pci --file-prefix "$PREFIX" \
  --vdev "net_pcap0,rx_pcap=$W/empty.pcap,tx_pcap=$W/out0.pcap" \
  --vdev "net_pcap1,rx_pcap=$W/empty.pcap,tx_pcap=$W/out1.pcap" -- -c "$W/nved.yaml" >"$W/nved.log" 2>&1 &
NVED_PID=$!
for _ in $(seq 1 180); do "$NVECTL" -p "$PREFIX" show version >/dev/null 2>&1 && break; sleep 1; done
"$NVECTL" -p "$PREFIX" show version >/dev/null 2>&1 || { echo "# nved did not start: $(tail -1 "$W/nved.log")"; exit 1; }

CTL=("$NVECTL" -p "$PREFIX")
measure_listing show_routes routes "control thread" control_held paged show routes
measure_listing show_routes routes "control thread" control_held one_answer show routes vn 0 page 0 "$N"
