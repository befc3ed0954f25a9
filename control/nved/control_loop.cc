#include "control/nved/control_loop.h"

#include "dataplane/tsan.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "control/nved/runtime.h"

namespace nvmove {

namespace {
uint64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

ControlLoop::ControlLoop(NvedRuntime &rt, const NvedConfig &cfg, const std::atomic<bool> &stop)
    : rt_(rt), neighbours_(rt, cfg), stop_(stop) {}

void ControlLoop::drain_ring() {
  void *objs[64];
  const unsigned n = rte_ring_dequeue_burst(rt_.control_ring(), objs, 64, nullptr);
  for (unsigned i = 0; i < n; i++) {
    auto *m = static_cast<rte_mbuf *>(objs[i]);
    dp::tsan_acquire(m);  // written by a worker before the ring hand-off
    bool taken = neighbours_.learn(m);
    if (taken) learnt_++;
    for (size_t h = 0; !taken && h < packet_handlers_.size(); h++) taken = packet_handlers_[h](m);
    if (!taken) unhandled_++;  // shown as control_unhandled
    rte_pktmbuf_free(m);
  }
}

void ControlLoop::run(const ControlLoopOptions &opt) {
  uint64_t last_rx = rt_.total(dp::Counter::rx_packets);
  uint64_t last_change = now_ms();
  while (!stop_.load(std::memory_order_acquire)) {
    rt_.serve_control_queues();  // what rte_flow steered here (none without it)
    drain_ring();
    const uint64_t now = now_ms();
    neighbours_.tick(now);
    rt_.link_watch().poll(now);
    rt_.routes().reclaim();
    if (ctl_) ctl_->poll();
    for (auto &f : pollers_) f();
    if (opt.exit_when_idle_ms) {
      const uint64_t rx = rt_.total(dp::Counter::rx_packets);
      if (rx != last_rx) {
        last_rx = rx;
        last_change = now;
      } else if (now - last_change >= opt.exit_when_idle_ms) {
        spdlog::info("no packet received for {} ms: exiting", opt.exit_when_idle_ms);
        break;
      }
    }
    rte_delay_us_sleep(100);
  }
  drain_ring();
}

}  // namespace nvmove
