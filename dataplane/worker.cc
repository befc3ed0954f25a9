#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dataplane/forward.h"
#include "dataplane/rcu.h"

namespace nvmove::dp {

namespace {
void count_unsent(rte_mbuf **unsent, uint16_t count, void *userdata) {
  auto *ctx = static_cast<WorkerContext *>(userdata);
  rte_pktmbuf_free_bulk(unsent, count);
  ctx->counters.add(Counter::drop_tx_full, count);
}

inline void transmit_outputs(WorkerContext &ctx, uint16_t n_ports) {
  uint64_t sent = 0;
  for (uint16_t p = 0; p < n_ports; p++) {
    OutQueue &q = ctx.out[p];
    for (uint16_t i = 0; i < q.n; i++) sent += rte_eth_tx_buffer(p, ctx.tx_queue, ctx.tx_buf[p], q.pkts[i]);
    q.n = 0;
  }
  if (sent) ctx.counters.add(Counter::tx_packets, sent);
}

inline void drain(WorkerContext &ctx, uint16_t n_ports) {
  uint64_t sent = 0;
  for (uint16_t p = 0; p < n_ports; p++) sent += rte_eth_tx_buffer_flush(p, ctx.tx_queue, ctx.tx_buf[p]);
  if (sent) ctx.counters.add(Counter::tx_packets, sent);
}
}  // namespace

bool worker_init_tx(WorkerContext &ctx, uint16_t n_ports, int socket_id) {
  for (uint16_t p = 0; p < n_ports; p++) {
    ctx.tx_buf[p] = static_cast<rte_eth_dev_tx_buffer *>(
        rte_zmalloc_socket("nve_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurst), 0, socket_id));
    if (!ctx.tx_buf[p]) return false;
    rte_eth_tx_buffer_init(ctx.tx_buf[p], kBurst);
    rte_eth_tx_buffer_set_err_callback(ctx.tx_buf[p], count_unsent, &ctx);
  }
  return true;
}

void worker_free_tx(WorkerContext &ctx, uint16_t n_ports) {
  for (uint16_t p = 0; p < n_ports; p++) {
    rte_free(ctx.tx_buf[p]);
    ctx.tx_buf[p] = nullptr;
  }
}

void worker_run(WorkerContext &ctx, const WorkerLoopParams &p) {
  const uint64_t drain_tsc = rte_get_tsc_hz() / 1000000 * p.tx_drain_us;
  uint64_t last_drain = rte_rdtsc();
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
        emit(ctx, m->port < p.n_ports ? m->port : 0, m);
      }
      transmit_outputs(ctx, p.n_ports);
    }
    const uint64_t now = rte_rdtsc();
    if (now - last_drain > drain_tsc) {
      drain(ctx, p.n_ports);
      last_drain = now;
    }
    ctx.polls.store(ctx.polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (got == 0) ctx.empty_polls.store(ctx.empty_polls.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // Nothing read from the route table survives this point.
    rcu_quiescent(ctx.qsbr, ctx.qsbr_thread_id);
    if (got == 0 && p.idle_sleep_us) {
      drain(ctx, p.n_ports);
      // Offline while asleep, so a route writer never waits for us.
      rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.qsbr_thread_id);
      rte_delay_us_sleep(p.idle_sleep_us);
      rte_rcu_qsbr_thread_online(ctx.qsbr, ctx.qsbr_thread_id);
    }
  }
  drain(ctx, p.n_ports);
  rte_rcu_qsbr_thread_offline(ctx.qsbr, ctx.qsbr_thread_id);
  rte_rcu_qsbr_thread_unregister(ctx.qsbr, ctx.qsbr_thread_id);
}

}  // namespace nvmove::dp
