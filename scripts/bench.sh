#!/usr/bin/env bash
# nvmove's benchmark: the fast path without I/O, then nved against dpdk-testpmd
# (io and macswap) on exactly the same ports and pcaps, and optionally against
# OVS-DPDK. Ends with `RESULT name value unit` lines. See docs/PERFORMANCE.md.
#   scripts/bench.sh [--quick] [--ovs] [--huge] [--routes "1000 1000000"]
# --huge: 2 MiB hugepages for everything measured (reserved and mounted here,
# restored afterwards); default: 4 KiB pages (--no-huge), as in the tests.
# Stops every process it starts, by PID. Work files in $WORK (/tmp/nvbench).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0 OVS=0 HUGE=0 ROUTES="1000 1000000"
while [ $# -gt 0 ]; do
  case $1 in
    --quick) QUICK=1 ;;
    --ovs) OVS=1 ;;
    --huge) HUGE=1 ;;
    --routes) ROUTES=$2; shift ;;
    *) echo "usage: $0 [--quick] [--ovs] [--huge] [--routes \"N N\"]" >&2; exit 2 ;;
  esac
  shift
done
WARM=${WARM:-2} MEAS=${MEAS:-5} ROUNDS=${ROUNDS:-3}
if [ "$QUICK" = 1 ]; then WARM=1 MEAS=2 ROUNDS=1; [ "$ROUTES" = "1000 1000000" ] && ROUTES="1000"; fi
W=${WORK:-/tmp/nvbench}; mkdir -p "$W"
NVED=$ROOT/build/control/nved/nved NVECTL=$ROOT/build/control/nvectl/nvectl
[ -x "$NVED" ] || { echo "build first: bash scripts/test.sh (or ninja -C build)" >&2; exit 1; }
PIDS=()
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages OLDHP=
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.5
            for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
            if [ "$HUGE" = 1 ]; then umount "$W/huge" 2>/dev/null; [ -n "$OLDHP" ] && echo "$OLDHP" > $HP; fi; }
trap cleanup EXIT; trap 'exit 130' INT TERM
MEM_NVED="--no-huge -m 3072" MEM_TESTPMD="--no-huge -m 2048"
if [ "$HUGE" = 1 ]; then
  OLDHP=$(cat $HP); [ "$OLDHP" -lt 2600 ] && echo 2600 > $HP
  mkdir -p "$W/huge"; mountpoint -q "$W/huge" || mount -t hugetlbfs -o pagesize=2M nodev "$W/huge"
  export NVBENCH_HUGE_DIR=$W/huge
  MEM_NVED="--huge-dir=$W/huge -m 2048" MEM_TESTPMD="--huge-dir=$W/huge -m 2048"
  echo "# 2 MiB hugepages: $(cat $HP) reserved, $(awk '/HugePages_Free/{print $2}' /proc/meminfo) free"
  # Files a killed DPDK process left in another hugetlbfs mount keep their
  # pages until a DPDK process starts in that mount or they are deleted.
  [ "$(awk '/HugePages_Free/{print $2}' /proc/meminfo)" -lt 2100 ] &&
    echo "# WARNING: fewer than 2100 free hugepages: runs may fail for memory (stale rtemap files in another hugetlbfs mount?)"
fi
RESULTS=()
result() { RESULTS+=("RESULT $1 $2 $3"); echo "RESULT $1 $2 $3"; }
name() { if [ "$1" -ge 1000000 ]; then echo "$(( $1 / 1000000 ))m"; elif [ "$1" -ge 1000 ]; then echo "$(( $1 / 1000 ))k"; else echo "$1"; fi; }

# After a part: say so if it produced no figure, with its last error line.
part_done() {  # $1 = name, $2 = number of results before the part
  [ "${#RESULTS[@]}" -gt "$2" ] || echo "# $1 produced no figures: $(grep -v '^EAL: Detected\|^EAL: Selected' "$W/part.err" | tail -1)"
}

echo "# machine: $(nproc) cores, $(awk -F: '/model name/{print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Fast path alone.
fp_args=(); [ "$QUICK" = 1 ] && fp_args=(--quick)
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <("$ROOT/build/tests/nve_bench_fastpath" "${fp_args[@]}" 2>"$W/part.err")
part_done "fast path benchmark" "$n0"

# 1b. The same, IPv4, as received from a port with RX IPv4 checksum offload
# (the SR-IOV NICs nved targets): the header checksum is not recomputed.
off_args=(--routes 1000,1000000 --moved 100 --family 4 --rx-cksum-offload)
[ "$QUICK" = 1 ] && off_args=(--quick --routes 1000 --moved 100 --family 4 --rx-cksum-offload)
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT\ memory*) ;; RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*IPv*) echo "$line (RX checksum offload)" ;; esac
done < <("$ROOT/build/tests/nve_bench_fastpath" "${off_args[@]}" 2>"$W/part.err")
part_done "fast path benchmark (RX checksum offload)" "$n0"

# 1c. Scaling with worker cores: one worker alone, then one per core, all
# reading the one table (three alternating rounds, median ratio).
if [ "$(nproc)" -ge 2 ]; then
  sc_args=(--routes 1000,1000000 --moved 100 --family both --workers "$(nproc)")
  [ "$QUICK" = 1 ] && sc_args=(--quick --routes 1000 --moved 100 --family 4 --workers "$(nproc)")
  n0=${#RESULTS[@]}
  while read -r line; do
    case $line in RESULT\ memory*) ;; RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*round*) echo "$line" ;; esac
  done < <("$ROOT/build/tests/nve_bench_fastpath" "${sc_args[@]}" 2>"$W/part.err")
  part_done "scaling benchmark" "$n0"
else
  echo "# one core: no scaling figure"
fi

# 1c'. The unit tests' golden packets (tests/support/golden_packets.cc), each
# row timed alone on the unit tests' test bed: encapsulation, decapsulation,
# the tenant endpoint, the drops and an ARP reply, one flow each.
gd_args=(--golden); [ "$QUICK" = 1 ] && gd_args=(--golden --packets 500000)
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#\ golden*) echo "$line" ;; esac
done < <("$ROOT/build/tests/nve_bench_fastpath" "${gd_args[@]}" 2>"$W/part.err")
part_done "golden packet benchmark" "$n0"

# 1d. Instructions per packet (callgrind), which do not drift with machine
# load: the fast path's instructions over every packet it processed.
cg_result() {  # $1 family, $2 routes, $3 packets
  local out=$W/callgrind.$1.$2 log=$W/callgrind.$1.$2.log
  valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='nvmove::dp::process_burst*' \
    "$ROOT/build/tests/nve_bench_fastpath" --routes "$2" --moved 100 --family "$1" --packets "$3" > "$log" 2>&1
  local ir pk
  ir=$(awk '/^summary:/{print $2}' "$out" 2>/dev/null)
  pk=$(awk '/^# process_burst packets:/{print $4}' "$log")
  if [ -n "$ir" ] && [ -n "$pk" ] && [ "$pk" -gt 0 ]; then
    result "instructions_ipv$1_$(name "$2")_100pct" "$(awk -v a="$ir" -v b="$pk" 'BEGIN{printf "%.0f", a / b}')" instr/pkt
  else
    echo "# callgrind run failed ($log): $(grep -v "^==" "$log" | grep -i "error\|fail\|cannot\|not enough" | head -1)"
  fi
}
if command -v valgrind >/dev/null; then
  cg_result 4 1000 320000
  if [ "$QUICK" = 0 ]; then cg_result 6 1000 320000; cg_result 4 1000000 64000; fi
else
  echo "# valgrind not installed: no instruction counts (scripts/setup.sh installs it)"
fi

# 1e. The software fallback for control traffic (issue 17: no rte_flow rule
# steers ARP and pings to a queue of their own, so workers answer them):
# 1000 routes, every VM moved, 0 %, 10 % and 30 % of the frames control traffic.
n0=${#RESULTS[@]}
for pct in 0 10 30; do
  while read -r line; do
    case $line in
      RESULT*fastpath_ipv4_1k_100pct*_mpps*) set -- $line; result "control_traffic_${pct}pct_mpps" "$3" "$4" ;;
      RESULT*fastpath_ipv4_1k_100pct*) set -- $line; result "control_traffic_${pct}pct" "$3" "$4" ;;
      \#*control*) echo "$line" ;;
    esac
  done < <("$ROOT/build/tests/nve_bench_fastpath" --routes 1000 --moved 100 --family 4 --control "$pct" \
             --packets "$([ "$QUICK" = 1 ] && echo 1000000 || echo 4000000)" 2>"$W/part.err")
done
part_done "control traffic benchmark" "$n0"

# 1e'. Jumbo frames (issue 17): a 9000-byte IP packet in one large mbuf
# (the default) against a chain of 2 KiB mbufs as RX scatter gives it
# (workers.rx_scatter), 1000 routes, every VM moved (encapsulated) and none
# (delivered). Each mode run alternately, the median of the runs reported:
# the two differ by less than this machine's run-to-run noise otherwise.
n0=${#RESULTS[@]}
jumbo_runs=$([ "$QUICK" = 1 ] && echo 3 || echo 7)
: > "$W/jumbo.txt"
for _ in $(seq 1 "$jumbo_runs"); do
  for mode in one chain; do
    "$ROOT/build/tests/nve_bench_fastpath" --routes 1000 --moved 100,0 --family both --frames 1024 --jumbo "$mode" \
      --packets "$([ "$QUICK" = 1 ] && echo 500000 || echo 2000000)" 2>"$W/part.err" | grep '^RESULT.*jumbo.*cycles' >> "$W/jumbo.txt"
  done
done
while read -r name value unit; do result "$name" "$value" "$unit"; done < <(
  /usr/bin/python3 -c 'import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, name, value, _unit = line.split()
    runs[name].append(float(value))
for name in sorted(runs):
    print(name, "%.1f" % statistics.median(runs[name]), "cycles/pkt")' "$W/jumbo.txt")
part_done "jumbo frames: one mbuf against a chain" "$n0"

# 1f. The XDP program (issue 16): ns per packet as the kernel measures each
# bpf_prog_test_run (IPv4-in-IPv4 to a moved VM, local delivery), at 1k and
# 1M routes, and route-map updates per second, beside the DPDK figures above
# (cycles per packet; the machine line gives the clock).
xdp_args=(--object "$ROOT/build/drivers/xdp/nve_xdp.bpf.o" --routes 1000,1000000 --runs 200000)
[ "$QUICK" = 1 ] && xdp_args=(--object "$ROOT/build/drivers/xdp/nve_xdp.bpf.o" --routes 1000 --runs 20000)
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <("$ROOT/build/tests/nve_bench_xdp" "${xdp_args[@]}" 2>"$W/part.err")
part_done "XDP benchmark" "$n0"

# 1g. The same program on a real receive path: attached natively to one end
# of a veth pair (in a network namespace the benchmark makes for itself),
# the packets written to the other end; the kernel's run-time statistics
# give ns per packet, warm, as traffic runs (a driver's NAPI poll), beside
# the test-run figures above.
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <("$ROOT/build/tests/nve_bench_xdp" "${xdp_args[@]}" --veth 2>"$W/part.err")
part_done "XDP receive-path benchmark" "$n0"

# 2. Route updates under a forwarding reader, RCU grace periods, convergence.
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <("$ROOT/build/tests/nve_bench_updates" "${fp_args[@]}" 2>"$W/part.err")
part_done "route update benchmark" "$n0"

# 2b. The control thread while an operator lists the route table: paged
# show routes against the same table in one answer (1M routes; --quick 100k).
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <(WORK=$W "$ROOT/scripts/bench_show_routes.sh" "$([ "$QUICK" = 1 ] && echo 100000 || echo 1000000)" 2>"$W/part.err")
part_done "show routes benchmark" "$n0"

# 2c. nvad's protocol loop while an operator lists the binding cache, and
# nvad's registration rate on the way (100k bindings; --quick 10k).
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <(WORK=$W "$ROOT/scripts/bench_show_bindings.sh" "$([ "$QUICK" = 1 ] && echo 10000 || echo 100000)" 2>"$W/part.err")
part_done "show bindings benchmark" "$n0"

# 2d. nvad at scale: registrations/s and a mass evacuation, SQLite beside
# etcd (10k and 100k bindings; --quick 10k).
n0=${#RESULTS[@]}
while read -r line; do
  case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
done < <(WORK=$W "$ROOT/scripts/bench_nvad.sh" --sizes "$([ "$QUICK" = 1 ] && echo 10000 || echo "10000 100000")" 2>"$W/part.err")
part_done "nvad benchmark" "$n0"

# 3. With port I/O: pcap replay -> null, one forwarding core, no hugepages.
make_inputs() {  # $1 = routes: pcap of min(routes, 100000) frames to random routes, route file
  /usr/bin/python3 - "$1" "$W" <<'PY'
import random, struct, sys
n, w = int(sys.argv[1]), sys.argv[2]
pk = min(n, 100000)
random.seed(7)
with open(f"{w}/r{n}.routes", "w") as f:
    for i in range(n):
        a = 0x0a000000 + i
        f.write(f"0 {a>>24}.{(a>>16)&255}.{(a>>8)&255}.{a&255} tunnel 198.51.100.{10 + i % 8}\n")
def csum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xffff) + (s >> 16); s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
with open(f"{w}/r{n}.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for _ in range(pk):
        dst = 0x0a000000 + random.randrange(n)
        ip = struct.pack("!BBHHHBBH4sI", 0x45, 0, 46, 0, 0, 64, 17, 0, bytes([203, 0, 113, 7]), dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        udp = struct.pack("!HHHH", 1234, 80, 26, 0) + bytes(18)
        frame = bytes.fromhex("027063617000" "0200000000fe" "0800") + ip + udp
        f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)
PY
}

testpmd_mpps() {  # $1 = pcap, $2 = mode
  local log=$W/testpmd_$2_$$.log
  ( echo "set fwd $2"; echo start; sleep "$WARM"; echo "show port stats all"; sleep "$MEAS"
    echo "show port stats all"; echo stop; sleep 0.5; echo quit ) |
  timeout -k 5 $((WARM + MEAS + 60)) dpdk-testpmd $MEM_TESTPMD --no-pci --no-shconf --file-prefix=nvbtp$$ \
    --vdev=net_pcap0,rx_pcap="$1",infinite_rx=1 --vdev=net_null1,no-rx=1 -l 0-1 --log-level=lib.eal:error \
    -- -i --total-num-mbufs=163840 > "$log" 2>&1 &
  PIDS+=($!); wait $!; PIDS=()
  grep -qE '^ +Rx-pps:' "$log" || echo "# testpmd $2 measured nothing: $(grep -i 'error\|fail\|cannot' "$log" | tail -1)" >&2
  grep -E '^ +Rx-pps:' "$log" | tail -2 | awk '{s+=$2} END{printf "%.2f\n", s/1e6}'
}

nved_mpps() {  # $1 = routes
  local n=$1 cfg=$W/nved_$1.yaml prefix=nvbn$$ log=$W/nved_$1.log
  cat > "$cfg" <<EOF2
ports:
  - {name: vms, role: access, port_id: 0}
  - {name: fabric, role: fabric, port_id: 1}
nve: {ipv4: 192.0.2.1}
fabric_gateway: {mac: "02:00:00:00:00:fe"}
route_table: {capacity: $(( n + n / 4 + 1024 )), max_nves: 64}
workers: {mbufs: 163839}
route_file: $W/r$n.routes
EOF2
  "$NVED" -l 0,1 $MEM_NVED --no-pci --file-prefix=$prefix \
    --vdev=net_pcap0,rx_pcap="$W/r$n.pcap",infinite_rx=1 --vdev=net_null1,no-rx=1 \
    -- -c "$cfg" --log-level warn > "$log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  local up=0
  for _ in $(seq 1 300); do "$NVECTL" -p $prefix show version >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  if [ "$up" = 0 ]; then
    echo "# nved did not start: $(grep -v '^EAL: Selected\|^EAL: Detected' "$log" | tail -1)" >&2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; PIDS=()
    echo 0.00; return
  fi
  sleep "$WARM"
  "$NVECTL" -p $prefix show port stats 0 >/dev/null
  sleep "$MEAS"
  local pps; pps=$("$NVECTL" -p $prefix --json show port stats 0 | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["rx_pps"])')
  "$NVECTL" -p $prefix show counters > "$W/nved_$1.counters" 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null; PIDS=()
  awk -v p="$pps" 'BEGIN{printf "%.2f\n", p/1e6}'
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%.2f", (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", (b > 0 ? a / b : 0)}'; }

# The machine's speed drifts by tens of percent over minutes (shared host):
# testpmd and nved alternate, ROUNDS times, and the ratios are the medians of
# each round's ratio, so both sides of a ratio ran under the same conditions.
for n in $ROUTES; do
  nm=$(name "$n")
  [ -f "$W/r$n.pcap" ] || make_inputs "$n"
  IOS=() MSS=() NVS=() RIO=() RMS=()
  for r in $(seq 1 "$ROUNDS"); do
    io=$(testpmd_mpps "$W/r$n.pcap" io)
    ms=$(testpmd_mpps "$W/r$n.pcap" macswap)
    nv=$(nved_mpps "$n")
    echo "# $nm routes, round $r: testpmd io $io, testpmd macswap $ms, nved $nv Mpps"
    IOS+=("$io") MSS+=("$ms") NVS+=("$nv") RIO+=("$(ratio "$nv" "$io")") RMS+=("$(ratio "$nv" "$ms")")
  done
  nv=$(median "${NVS[@]}")
  result "testpmd_io_$nm" "$(median "${IOS[@]}")" Mpps
  result "testpmd_macswap_$nm" "$(median "${MSS[@]}")" Mpps
  result "nved_encap_$nm" "$nv" Mpps
  result "io_ratio_vs_testpmd_$nm" "$(median "${RIO[@]}")" x
  result "io_ratio_vs_macswap_$nm" "$(median "${RMS[@]}")" x
  if [ "$OVS" = 1 ]; then
    if ! [ -f "$ROOT/../shared/bench/ovs_peer_bench.sh" ]; then
      echo "# --ovs: ../shared/bench/ovs_peer_bench.sh not found beside the repository"
    elif command -v ovs-vswitchd >/dev/null; then
      # The reference OVS-DPDK run (exact host routes + tunnel push toward 8
      # NVEs): shared/bench/ovs_peer_bench.sh beside the repository.
      ovs=$(RUNS=${OVS_RUNS:-$ROUNDS} ROUTES=$n HUGE=$HUGE bash "$ROOT/../shared/bench/ovs_peer_bench.sh" 2>/dev/null |
            sed -n 's/.*median Mpps=\([0-9.]*\).*/\1/p' | tail -1)
      result "ovs_dpdk_$nm" "${ovs:-0}" Mpps
      result "ratio_vs_ovs_$nm" "$(ratio "$nv" "${ovs:-0}")" x
    else
      echo "# --ovs: openvswitch-switch-dpdk not installed (apt-get install --no-install-recommends openvswitch-switch-dpdk)"
    fi
  fi
done

# 3b. By frame size: 64, 1500 and 9000 bytes (jumbo frames), nved beside
# testpmd io, Mpps and Gbit/s (skipped with --quick).
if [ "$QUICK" = 0 ]; then
  n0=${#RESULTS[@]}
  while read -r line; do
    case $line in RESULT*) set -- $line; result "$2" "$3" "$4" ;; \#*) echo "$line" ;; esac
  done < <(WORK=$W WARM=$WARM "$ROOT/scripts/bench_frame_sizes.sh" "$MEAS" 2>"$W/part.err")
  part_done "frame size benchmark" "$n0"
fi

# The figures against the project's targets (docs/PERFORMANCE.md), as a
# table for people; the RESULT lines below it are for scripts.
printf '%s\n' "${RESULTS[@]}" | awk -v w="$(nproc)" '
  { v[$2] = $3; u[$2] = $4 }
  function row(name, what, op, target,   x, met) {
    if (!(name in v)) return
    x = v[name] + 0
    met = (op == "<=" ? x <= target : x >= target) ? "yes" : "no"
    printf "%-48s %12s %-10s %s %-8s %s\n", what, v[name], u[name], op, target, met
  }
  END {
    printf "\n%-48s %12s %-10s %s %-8s %s\n", "figure", "measured", "unit", "  ", "target", "met"
    row("fastpath_ipv4_1k_100pct", "fast path, IPv4, 1k routes, all encapsulated", "<=", 60)
    row("fastpath_ipv4_1k_100pct_rxoffload", "  the same with RX checksum offload", "<=", 60)
    row("fastpath_ipv6_1k_100pct", "fast path, IPv6, 1k routes, all encapsulated", "<=", 60)
    row("fastpath_ipv4_1m_100pct", "fast path, IPv4, 1M routes, all encapsulated", "<=", 110)
    row("fastpath_ipv4_1m_100pct_rxoffload", "  the same with RX checksum offload", "<=", 110)
    row("fastpath_ipv6_1m_100pct", "fast path, IPv6, 1M routes, all encapsulated", "<=", 110)
    # Linear read as: each added worker brings at least 90% of the first one.
    row("scaling_ipv4_1k_" w "w", "fast path, " w " workers / 1, IPv4, 1k routes", ">=", 0.9 * w)
    row("scaling_ipv6_1k_" w "w", "fast path, " w " workers / 1, IPv6, 1k routes", ">=", 0.9 * w)
    row("scaling_ipv4_1m_" w "w", "fast path, " w " workers / 1, IPv4, 1M routes", ">=", 0.9 * w)
    row("scaling_ipv6_1m_" w "w", "fast path, " w " workers / 1, IPv6, 1M routes", ">=", 0.9 * w)
    row("io_ratio_vs_testpmd_1k", "with I/O, nved / testpmd io, 1k routes", ">=", 0.65)
    row("io_ratio_vs_testpmd_1m", "with I/O, nved / testpmd io, 1M routes", ">=", 0.5)
    row("ratio_vs_ovs_1k", "with I/O, nved / OVS-DPDK, 1k routes", ">=", 3)
    row("ratio_vs_ovs_100k", "with I/O, nved / OVS-DPDK, 100k routes", ">=", 10)
    row("route_updates_batched", "route changes per second, batched", ">=", 2000000)
    row("reader_rate_dip_batched", "worker dip during route changes", "<=", 5)
    row("convergence_p99", "move notification -> route used, p99", "<=", 100)
    row("memory_per_route_1m", "memory per route at 1M routes", "<=", 128)
    print ""
  }'
echo "# summary"
printf '%s\n' "${RESULTS[@]}"
