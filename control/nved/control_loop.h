// The control thread of nved (the EAL main lcore): takes packets the workers
// pass up, resolves the fabric gateway, reclaims retired routes after their
// RCU grace period, and watches for shutdown.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "control/nved/config.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/neighbour_resolver.h"

struct rte_mbuf;

namespace nvmove {

class NvedRuntime;

struct ControlLoopOptions {
  // Exit once no packet has been received for this long (capture-file runs).
  // 0 = run until signalled.
  uint32_t exit_when_idle_ms = 0;
};

class ControlLoop {
 public:
  ControlLoop(NvedRuntime &rt, const NvedConfig &cfg, const std::atomic<bool> &stop);

  // Serves nvectl from this loop (optional).
  void set_ctl_server(ctl::CtlServer *s) { ctl_ = s; }
  const NeighbourResolver &neighbours() const { return neighbours_; }
  NeighbourResolver &neighbours() { return neighbours_; }
  // Called every loop pass (the mobility agent's socket and timers).
  void add_poller(std::function<void()> f) { pollers_.push_back(std::move(f)); }
  // Offered every packet the workers pass up that neighbour resolution did
  // not take (a VM's gratuitous ARP, say); true = taken. The packet is
  // freed by the loop either way.
  void add_packet_handler(std::function<bool(const rte_mbuf *)> f) { packet_handlers_.push_back(std::move(f)); }

  // Returns when `stop` is set or the idle timeout fires.
  void run(const ControlLoopOptions &opt);

  uint64_t packets_learnt() const { return learnt_; }
  uint64_t packets_unhandled() const { return unhandled_; }

 private:
  void drain_ring();

  NvedRuntime &rt_;
  NeighbourResolver neighbours_;
  const std::atomic<bool> &stop_;
  ctl::CtlServer *ctl_ = nullptr;
  std::vector<std::function<void()>> pollers_;
  std::vector<std::function<bool(const rte_mbuf *)>> packet_handlers_;
  uint64_t learnt_ = 0;
  uint64_t unhandled_ = 0;
};

}  // namespace nvmove
