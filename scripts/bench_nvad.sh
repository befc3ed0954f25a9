#!/usr/bin/env bash
# nvad at data-centre scale (issue 18): registrations per second with p50/p99
# latency, and a mass evacuation (M VMs moved off one NVE at once: time until
# the previous NVE holds every redirect, p50/p99/max, notifications per
# second), for the SQLite store and the etcd store (a three-member etcd on
# loopback, as the tests run it), at each size given; memory per binding
# from nvad's RSS before and after. The load is tests/tools/nvad_load: 8
# simulated NVEs on 127.0.1.x, real protocol, real UDP, 256 requests in
# flight. Called by scripts/bench.sh (section 2d); alone:
#   scripts/bench_nvad.sh [--sizes "10000 100000"] [--evacuate 1000] [--backends "sqlite etcd"]
# Ends with RESULT lines; stops every process it starts, by PID, on every path.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD SIZES="10000 100000" EVACUATE=1000 BACKENDS="sqlite etcd"
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) SIZES=$2; shift ;;
    --evacuate) EVACUATE=$2; shift ;;
    --backends) BACKENDS=$2; shift ;;
    *) echo "usage: $0 [--sizes \"N ...\"] [--evacuate M] [--backends \"sqlite etcd\"]" >&2; exit 2 ;;
  esac
  shift
done
NVAD=$ROOT/build/control/nvad/nvad NVECTL=$ROOT/build/control/nvectl/nvectl LOAD=$ROOT/build/tests/nvad_load
for b in "$NVAD" "$LOAD"; do [ -x "$b" ] || { echo "build first: ninja -C build ($b missing)" >&2; exit 1; }; done
W=${WORK:-/tmp/nvbench}/nvad; rm -rf "$W"; mkdir -p "$W"
NVES=8 PORT=61498
PIDS=()
cleanup() {  # SIGTERM, up to 5 s to exit, then SIGKILL; reaped quietly
  local p _
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break; sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=()
}
trap cleanup EXIT; trap 'exit 130' INT TERM
name() { if [ "$1" -ge 1000 ]; then echo "$(( $1 / 1000 ))k"; else echo "$1"; fi; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
: > "$W/nvad.keys"
for i in $(seq 1 $NVES); do echo "127.0.1.$i 1 $KEY" >> "$W/nvad.keys"; done
echo "127.0.0.1 1 $KEY" > "$W/nve.keys"; chmod 600 "$W"/*.keys

start_etcd() {  # three members on loopback; sets ENDPOINTS
  local names=(e0 e1 e2) client=() peer=() cluster="" i
  for i in 0 1 2; do client[$i]=$(free_port); peer[$i]=$(free_port); cluster+="${cluster:+,}${names[$i]}=http://127.0.0.1:${peer[$i]}"; done
  ENDPOINTS=""
  for i in 0 1 2; do
    etcd --name "${names[$i]}" --data-dir "$W/etcd-${names[$i]}" \
      --listen-client-urls "http://127.0.0.1:${client[$i]}" --advertise-client-urls "http://127.0.0.1:${client[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${peer[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-token "nvbench-$$" --initial-cluster-state new \
      --log-level error > "$W/etcd-${names[$i]}.log" 2>&1 &
    PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+, }http://127.0.0.1:${client[$i]}"
  done
  for _ in $(seq 1 100); do
    ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:${client[0]}" endpoint health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "# etcd did not become healthy: $(tail -1 "$W/etcd-e0.log")" >&2; return 1
}

run() {  # $1 = backend, $2 = bindings
  local backend=$1 n=$2 store
  rm -rf "$W"/etcd-* "$W/nvad.db"*
  if [ "$backend" = etcd ]; then
    start_etcd || return
    store="store: {backend: etcd, etcd: {endpoints: [$ENDPOINTS], timeout: 2s}}
cluster: {name: bench, lease_ttl: 10s}"
  else
    store="db_path: $W/nvad.db"
  fi
  cat > "$W/nvad.yaml" <<YAML
listen: {addresses: [127.0.0.1], port: $PORT}
key_file: $W/nvad.keys
$store
max_bindings: $(( n + 1000 ))
notifications: {initial_timeout: 200ms}
log: {level: warn}
YAML
  "$NVAD" -c "$W/nvad.yaml" --ctl-socket "$W/nvad.sock" > "$W/nvad-$backend-$n.log" 2>&1 &
  local pid=$!; PIDS+=($pid)
  local up=0
  for _ in $(seq 1 100); do
    if [ "$backend" = etcd ]; then
      "$NVECTL" -d nvad -s "$W/nvad.sock" --json show cluster 2>/dev/null | grep -q '"serving": *true' && { up=1; break; }
    else
      "$NVECTL" -d nvad -s "$W/nvad.sock" show version >/dev/null 2>&1 && { up=1; break; }
    fi
    sleep 0.1
  done
  [ "$up" = 1 ] || { echo "# nvad ($backend) did not start serving: $(tail -1 "$W/nvad-$backend-$n.log")" >&2; cleanup; return; }
  local rss0; rss0=$(rss_kib "$pid")
  local tag; tag="${backend}_$(name "$n")"
  "$LOAD" --nvad 127.0.0.1 --port $PORT --keys "$W/nve.keys" --nve-base 127.0.1.1 --nves $NVES \
    --vms "$n" --window 256 --evacuate "$EVACUATE" > "$W/load-$tag.txt" 2>&1
  local rc=$? rss1; rss1=$(rss_kib "$pid")
  sed -n 's/^# /# '"$tag"': /p' "$W/load-$tag.txt"
  [ "$rc" = 0 ] || echo "# $tag: nvad_load exit $rc (losses or refusals above): $(grep -v '^RESULT' "$W/load-$tag.txt" | tail -1)"
  awk -v t="$tag" '/^RESULT/{print "RESULT nvad_" t "_" $2, $3, $4}' "$W/load-$tag.txt"
  echo "# $tag: nvad RSS $rss0 KiB before, $rss1 KiB after $n bindings"
  echo "RESULT nvad_${tag}_bytes_per_binding $(( (rss1 - rss0) * 1024 / n )) bytes"
  cleanup
}

echo "# nvad: $NVES simulated NVEs, window 256, evacuation of $EVACUATE VMs; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
  for backend in $BACKENDS; do run "$backend" "$n"; done
done
