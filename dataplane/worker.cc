#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/burst_pipeline.h"
#include "dataplane/packet_trace.h"
#include "dataplane/rcu.h"

namespace nvmove::dp {

namespace {
// Sends what the burst produced for each port: one rte_eth_tx_burst per port
// per received burst, straight from the output stage (no second buffer, no
// drain timer: a partial burst leaves at once). A PMD may take fewer packets
// per call than offered, so it is called again while it makes progress; what
// a full TX ring refuses is freed and counted.
inline void transmit_outputs(WorkerContext &ctx, uint16_t n_ports) {
  uint64_t sent = 0, refused = 0;
  for (uint16_t p = 0; p < n_ports; p++) {
    OutQueue &q = ctx.out[p];
    if (q.n == 0) continue;
    uint16_t done = 0;
    while (done < q.n) {
      const uint16_t k = rte_eth_tx_burst(p, ctx.tx_queue, q.pkts + done, q.n - done);
      if (k == 0) break;
      done += k;
    }
    if (__builtin_expect(done < q.n, 0)) {
      rte_pktmbuf_free_bulk(q.pkts + done, q.n - done);
      refused += q.n - done;
    }
    sent += done;
    q.n = 0;
  }
  if (sent) ctx.counters.add(Counter::tx_packets, sent);
  if (refused) ctx.counters.add(Counter::drop_tx_full, refused);
}
}  // namespace

void worker_run(WorkerContext &ctx, const WorkerLoopParams &p) {
  rte_rcu_qsbr_thread_register(ctx.qsbr, ctx.qsbr_thread_id);
  rte_rcu_qsbr_thread_online(ctx.qsbr, ctx.qsbr_thread_id);

  rte_mbuf *pkts[kBurst];
  while (!p.quit->load(std::memory_order_acquire)) {
    uint32_t got = 0;
    for (uint16_t i = 0; i < ctx.n_rxq; i++) {
      const RxQueue &q = ctx.rxq[i];
      const uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
      if (n == 0) continue;
      got += n;
      // Tracing armed (rare): the same pipeline, packet by packet, recorded.
      if (__builtin_expect(ctx.trace.remaining.load(std::memory_order_relaxed) != 0, 0))
        process_burst_traced(ctx, q.port, pkts, n);
      else
        process_burst(ctx, q.port, pkts, n);
      transmit_outputs(ctx, p.n_ports);
    }
    // Packets the control thread originates (ARP/ND requests) leave through
    // this worker's TX queues, so ports need no queue of their own for it.
    if (ctx.from_control && !rte_ring_empty(ctx.from_control)) {
      void *objs[kBurst];
      const unsigned k = rte_ring_dequeue_burst(ctx.from_control, objs, kBurst, nullptr);
      for (unsigned i = 0; i < k; i++) {
        auto *m = static_cast<rte_mbuf *>(objs[i]);
        tsan_acquire(m);  // built by the control thread
        emit(ctx, m->port < p.n_ports ? m->port : 0, m);
      }
      transmit_outputs(ctx, p.n_ports);
    }
    ctx.polls.store(ctx.polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (got == 0) ctx.empty_polls.store(ctx.empty_polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // Nothing read from the route table survives this point.
    rcu_quiescent(ctx.qsbr, ctx.qsbr_thread_id);
    if (got == 0 && p.idle_sleep_us) {
      // Offline while asleep, so a route writer never waits for us.
      rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.qsbr_thread_id);
      rte_delay_us_sleep(p.idle_sleep_us);
      rte_rcu_qsbr_thread_online(ctx.qsbr, ctx.qsbr_thread_id);
    }
  }
  rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.qsbr_thread_id);
  rte_rcu_qsbr_thread_unregister(ctx.qsbr, ctx.qsbr_thread_id);
}

}  // namespace nvmove::dp
