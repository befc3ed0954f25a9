#!/usr/bin/env bash
# Forwarding by frame size (issue 17): nved and dpdk-testpmd (io) on the same
# ports and pcaps (pcap replay -> null, one forwarding core, 1000 host routes
# of moved VMs), with 64-, 1500- and 9000-byte frames (for the last, ports and
# tunnel mtu 9216 and 9 KiB+ mbufs on both sides; the others with mtu 1600,
# which keeps 2 KiB mbufs). Mpps and Gbit/s of frames received, nved
# tunnelling each packet (so it sends 20 bytes more per frame than it got).
# 9000-byte frames run twice for nved: in one large mbuf each, and with
# workers.rx_scatter (2 KiB mbufs: net_pcap chains each frame into 5, as a
# NIC's RX scatter does), side by side.
# Called by scripts/bench.sh (section 3b); alone:
#   scripts/bench_frame_sizes.sh [seconds per run, default 5]
# Ends with RESULT lines; stops every process it starts, by PID.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD MEAS=${1:-5} WARM=${WARM:-2}
NVED=$ROOT/build/control/nved/nved NVECTL=$ROOT/build/control/nvectl/nvectl
W=${WORK:-/tmp/nvbench}/frame_sizes; mkdir -p "$W"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; }
trap cleanup EXIT; trap 'exit 130' INT TERM

/usr/bin/python3 - "$W" <<'PY'
import random, struct, sys
w = sys.argv[1]
random.seed(7)
with open(f"{w}/routes", "w") as f:
    for i in range(1000):
        a = 0x0a000000 + i
        f.write(f"0 {a>>24}.{(a>>16)&255}.{(a>>8)&255}.{a&255} tunnel 198.51.100.{10 + i % 8}\n")
def csum(h):
    s = sum(struct.unpack("!10H", h)); s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
for size in (64, 1500, 9000):  # frame bytes without the FCS (64: the minimum Ethernet frame - 4)
    frame_len = 60 if size == 64 else size + 14
    ip_len = frame_len - 14
    with open(f"{w}/f{size}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for _ in range(2000):
            dst = 0x0a000000 + random.randrange(1000)
            ip = struct.pack("!BBHHHBBH4sI", 0x45, 0, ip_len, 0, 0, 64, 17, 0, bytes([203, 0, 113, 7]), dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            udp = struct.pack("!HHHH", 1234, 80, ip_len - 20, 0) + bytes(ip_len - 28)
            frame = bytes.fromhex("027063617000" "0200000000fe" "0800") + ip + udp
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
PY

testpmd_rx() {  # $1 = frame size; prints "Mpps"
  local log=$W/testpmd_$1.log
  ( echo "set fwd io"; echo start; sleep "$WARM"; echo "show port stats all"; sleep "$MEAS"
    echo "show port stats all"; echo stop; sleep 0.5; echo quit ) |
  timeout -k 5 $((WARM + MEAS + 60)) dpdk-testpmd --no-huge -m 2048 --no-pci --no-shconf --file-prefix=nvbfs$$ \
    --vdev=net_pcap0,rx_pcap="$W/f$1.pcap",infinite_rx=1 --vdev=net_null1,no-rx=1 -l 0-1 --log-level=lib.eal:error \
    -- -i --total-num-mbufs=32768 $([ "$1" = 9000 ] && echo --mbuf-size=10240 --max-pkt-len=9018) > "$log" 2>&1 &
  PIDS+=($!); wait $!; PIDS=()
  grep -E '^ +Rx-pps:' "$log" | tail -2 | awk '{s+=$2} END{printf "%.3f\n", s/1e6}'
}

nved_rx() {  # $1 = frame size, $2 = rx_scatter (true/false); prints "Mpps"
  local cfg=$W/nved.yaml prefix=nvbfn$$ log=$W/nved_$1_$2.log mtu
  mtu=$([ "$1" = 9000 ] && echo 9216 || echo 1600)
  cat > "$cfg" <<EOF2
ports:
  - {name: vms, role: access, port_id: 0, mtu: $mtu}
  - {name: fabric, role: fabric, port_id: 1, mtu: $mtu}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
tunnel: {mtu: $mtu}  # every frame tunnelled whole: 1486 + 20 <= 1600, 8986 + 20 <= 9216
route_table: {capacity: 4096, max_nves: 64}
workers: {mbufs: 32767, rx_scatter: $2}
route_file: $W/routes
EOF2
  "$NVED" -l 0,1 --no-huge -m 2048 --no-pci --file-prefix=$prefix \
    --vdev=net_pcap0,rx_pcap="$W/f$1.pcap",infinite_rx=1 --vdev=net_null1,no-rx=1 \
    -- -c "$cfg" --log-level warn > "$log" 2>&1 &
  local pid=$!; PIDS+=($pid) up=0
  for _ in $(seq 1 300); do "$NVECTL" -p $prefix show version >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  if [ "$up" = 0 ]; then
    echo "# nved did not start: $(grep -v '^EAL' "$log" | tail -1)" >&2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; PIDS=(); echo 0; return
  fi
  sleep "$WARM"
  "$NVECTL" -p $prefix show port stats 0 >/dev/null
  sleep "$MEAS"
  "$NVECTL" -p $prefix --json show port stats 0 | /usr/bin/python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)[0]["rx_pps"] / 1e6))'
  kill "$pid"; wait "$pid" 2>/dev/null; PIDS=()
}

for size in 64 1500 9000; do
  wire=$([ "$size" = 64 ] && echo 64 || echo $((size + 18)))  # frame + FCS on a wire
  tp=$(testpmd_rx "$size"); nv=$(nved_rx "$size" false)
  gb() { awk -v m="$1" -v b="$wire" 'BEGIN{printf "%.2f", m * b * 8 / 1000}'; }
  echo "# ${size}-byte frames: testpmd io $tp Mpps ($(gb "$tp") Gbit/s), nved $nv Mpps ($(gb "$nv") Gbit/s)"
  echo "RESULT frames_${size}_testpmd_mpps $tp Mpps"
  echo "RESULT frames_${size}_nved_mpps $nv Mpps"
  echo "RESULT frames_${size}_nved_gbps $(gb "$nv") Gbit/s"
  if [ "$size" = 9000 ]; then
    sc=$(nved_rx 9000 true)
    echo "# 9000-byte frames, nved with workers.rx_scatter (2 KiB mbufs, 5 segments a frame): $sc Mpps ($(gb "$sc") Gbit/s)"
    echo "RESULT frames_9000_nved_scatter_mpps $sc Mpps"
  fi
done
