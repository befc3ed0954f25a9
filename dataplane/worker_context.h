// One worker's private state (DPDK l3fwd's per-lcore context): its queues,
// its per-port output stage, counters, ICMP rate limiter and table view.
#pragma once

#include <rte_mbuf.h>

#include <atomic>
#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/packet_trace.h"
#include "dataplane/route_table.h"
#include "dataplane/settings.h"

struct rte_ring;
struct rte_rcu_qsbr;

namespace nvmove::dp {

inline constexpr uint16_t kBurst = 32;
inline constexpr uint16_t kMaxFragments = 16;
// A port's output stage: room for a burst in which every packet became 8
// fragments, the most a 9216-byte packet makes at the smallest mtu (1280)
// of a port or a tunnel; beyond, drop_tx_full.
inline constexpr uint16_t kOutCapacity = kBurst * 8;

struct RxQueue {
  uint16_t port;
  uint16_t queue;
};

struct OutQueue {
  uint16_t n = 0;
  rte_mbuf *pkts[kOutCapacity];
};

struct alignas(64) WorkerContext {
  uint16_t worker_id = 0;
  unsigned qsbr_thread_id = 0;
  const DataplaneSettings *settings = nullptr;
  RouteTableView routes;
  RouteStat *my_stats = nullptr;  // routes.stats[worker_id]
  rte_rcu_qsbr *qsbr = nullptr;
  rte_ring *to_control = nullptr;       // packets for the control thread
  rte_ring *from_control = nullptr;     // worker 0 only: packets the control thread sends (m->port)
  rte_mempool *frag_direct = nullptr;   // IPv4 fragmentation pools
  rte_mempool *frag_indirect = nullptr;
  // Mbufs of the largest frame, for chained packets to a port that sends only
  // one segment when they do not fit the packet's own pool (workers.rx_scatter
  // with such a port); null otherwise.
  rte_mempool *tx_linear_pool = nullptr;

  uint16_t n_rxq = 0;
  RxQueue rxq[kMaxPorts * 4];
  uint16_t tx_queue = 0;  // this worker's TX queue on every port

  uint64_t now_tsc = 0;  // read once per burst
  uint64_t tsc_hz = 1;
  uint64_t icmp_tokens = 0;
  uint64_t icmp_last_tsc = 0;
  uint16_t next_ip_id = 0;

  CounterBlock counters;
  // Loop passes and passes that received nothing (idle ratio for show workers).
  std::atomic<uint64_t> polls{0};
  std::atomic<uint64_t> empty_polls{0};
  OutQueue out[kMaxPorts];
  PacketTrace trace;  // armed by `nvectl trace add` (packet_trace.h)
};

// Takes one-segment `m` for transmission on `port`; frees and counts it if
// the stage is full.
inline void emit_one_segment(WorkerContext &ctx, uint16_t port, rte_mbuf *m) {
  OutQueue &q = ctx.out[port];
  if (__builtin_expect(q.n == kOutCapacity, 0)) {
    rte_pktmbuf_free(m);
    ctx.counters.add(Counter::drop_tx_full);
    return;
  }
  q.pkts[q.n++] = m;
}

void emit_linearized(WorkerContext &ctx, uint16_t port, rte_mbuf *m);  // mbuf_chain.h

// Takes `m` for transmission on `port`. A chain goes as it is where the
// driver sends chains, else as a copy in one mbuf.
inline void emit(WorkerContext &ctx, uint16_t port, rte_mbuf *m) {
  if (__builtin_expect(m->nb_segs > 1, 0) && !ctx.settings->ports[port].tx_multi_seg)
    return emit_linearized(ctx, port, m);
  emit_one_segment(ctx, port, m);
}

inline void drop(WorkerContext &ctx, rte_mbuf *m, Counter why) {
  rte_pktmbuf_free(m);
  ctx.counters.add(why);
}

}  // namespace nvmove::dp
