#include "dataplane/control_queue.h"

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane/burst_pipeline.h"
#include "dataplane/packet_trace.h"
#include "dataplane/tsan.h"

namespace nvmove::dp {

uint16_t control_queue_poll(WorkerContext &ctx, uint16_t port, uint16_t queue, uint16_t n_ports, rte_ring *tx) {
  rte_mbuf *pkts[kBurst];
  const uint16_t n = rte_eth_rx_burst(port, queue, pkts, kBurst);
  ctx.polls.store(ctx.polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (n == 0) {
    ctx.empty_polls.store(ctx.empty_polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return 0;
  }
  if (ctx.trace.remaining.load(std::memory_order_relaxed) != 0) process_burst_traced(ctx, port, pkts, n);
  else process_burst(ctx, port, pkts, n);
  uint64_t refused = 0;
  for (uint16_t p = 0; p < n_ports; p++) {
    OutQueue &q = ctx.out[p];
    for (uint16_t i = 0; i < q.n; i++) {
      rte_mbuf *m = q.pkts[i];
      m->port = p;
      tsan_release(m);  // worker 0 sends it
      if (rte_ring_enqueue(tx, m) != 0) {
        rte_pktmbuf_free(m);
        refused++;
      }
    }
    q.n = 0;
  }
  if (refused) ctx.counters.add(Counter::drop_tx_full, refused);
  return n;
}

}  // namespace nvmove::dp
