// Brings nved's dataplane up from a configuration: mbuf pools, ports, the RCU
// variable, the route table, the workers' contexts, and takes it down again.
// It owns nothing protocol-related; the control loop drives it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "control/nved/config.h"
#include "control/nved/flow_setup.h"
#include "dataplane/counters.h"
#include "dataplane/route_table.h"
#include "dataplane/settings.h"
#include "dataplane/worker_context.h"
#include "drivers/port.h"
#include "drivers/port_stats.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace nvmove {

class NvedRuntime {
 public:
  // Needs rte_eal_init done. Throws std::runtime_error with a clear message.
  explicit NvedRuntime(const NvedConfig &cfg);
  ~NvedRuntime();
  NvedRuntime(const NvedRuntime &) = delete;
  NvedRuntime &operator=(const NvedRuntime &) = delete;

  void start_workers();
  void stop_workers();  // idempotent

  dp::RouteTable &routes() { return *routes_; }
  const dp::DataplaneSettings &settings() const { return settings_; }
  rte_ring *control_ring() { return to_control_; }
  // Queues a packet the control thread built for transmission on m->port
  // (worker 0 sends it). Frees it and returns false if the ring is full.
  bool send_from_control(rte_mbuf *m);
  uint16_t n_ports() const { return static_cast<uint16_t>(cfg_.ports.size()); }
  const drivers::PortInfo &port_info(uint16_t port) const { return ports_[port]; }
  drivers::LinkWatch &link_watch() { return link_watch_; }
  const drivers::LinkWatch &link_watch() const { return link_watch_; }
  rte_mempool *pool() { return pool_; }
  // The workers, and last the control thread's context when rte_flow steers
  // control traffic to it (dataplane/control_queue.h): counters, traces and
  // show workers include it.
  size_t worker_count() const { return workers_.size(); }
  const dp::WorkerContext &worker(size_t i) const { return *workers_[i]; }
  // The one part of a worker the control thread writes: its trace switch.
  dp::PacketTrace &worker_trace(size_t i) { return workers_[i]->trace; }
  unsigned worker_lcore(size_t i) const;
  // Context i is the control thread's (rte_flow control queues), not a worker's.
  bool is_control_context(size_t i) const { return i >= lcores_.size(); }
  // What rte_flow does on a port (show flows).
  const PortFlowState &port_flows(uint16_t port) const { return flows_[port]; }
  // The control queues rte_flow fills: one burst from each (a control-loop pass).
  void serve_control_queues();

  // Sum of one counter over all workers.
  uint64_t total(dp::Counter c) const;

 private:
  void create_pools();
  void start_ports();
  uint16_t mbuf_data_room() const;
  uint16_t whole_frame_data_room() const;
  void create_tx_linear_pool();
  void build_settings();
  void build_workers();
  std::vector<IpAddress> own_addresses(const PortConfig &p) const;
  dp::WorkerContext *new_context(size_t index, int socket, const dp::RouteTableView &view);
  bool control_queues() const;  // does rte_flow steer control traffic on any port

  NvedConfig cfg_;
  rte_mempool *pool_ = nullptr;
  // A pool of its own for each net_af_xdp port: the driver registers a
  // port's pool as its UMEM, and Debian's DPDK cannot share one UMEM
  // between two ports (no shared_umem).
  std::vector<rte_mempool *> port_pools_;
  rte_mempool *frag_direct_ = nullptr;
  rte_mempool *frag_indirect_ = nullptr;
  rte_mempool *tx_linear_pool_ = nullptr;  // workers.rx_scatter with a port that sends no chains
  rte_ring *to_control_ = nullptr;
  rte_ring *from_control_ = nullptr;
  rte_rcu_qsbr *qsbr_ = nullptr;
  std::unique_ptr<dp::RouteTable> routes_;
  dp::DataplaneSettings settings_;
  std::vector<drivers::PortInfo> ports_;
  std::vector<PortFlowState> flows_;
  dp::WorkerContext *control_ctx_ = nullptr;  // also the last of workers_, never launched
  drivers::LinkWatch link_watch_{0};
  std::vector<dp::WorkerContext *> workers_;
  std::vector<unsigned> lcores_;
  std::atomic<bool> quit_{false};
  size_t launched_ = 0;  // workers 0..launched_-1 run on their lcores
  bool ports_started_ = false;
};

}  // namespace nvmove
