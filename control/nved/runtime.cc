#include "control/nved/runtime.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

#include "dataplane/dpdk_memory.h"
#include "dataplane/tsan.h"
#include "dataplane/control_queue.h"
#include "dataplane/worker.h"

namespace nvmove {

namespace {
[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error(what + ": " + rte_strerror(rte_errno));
}

struct LaunchArg {
  dp::WorkerContext *ctx;
  dp::WorkerLoopParams params;
};
std::vector<LaunchArg> g_launch;  // lives while workers run

// The lcore launch and wait synchronise inside DPDK, out of TSan's sight:
// say so (everything before the launch is visible to the worker, everything
// the worker did is visible after the wait).
int worker_entry(void *arg) {
  dp::tsan_acquire(arg);
  auto *a = static_cast<LaunchArg *>(arg);
  dp::worker_run(*a->ctx, a->params);
  dp::tsan_release(arg);
  return 0;
}
}  // namespace

NvedRuntime::NvedRuntime(const NvedConfig &cfg) : cfg_(cfg) {
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) lcores_.push_back(lcore);
  if (lcores_.empty())
    throw std::runtime_error("no worker lcore: give EAL at least two lcores (e.g. -l 0,1); "
                             "the main lcore runs the control thread");
  if (rte_eth_dev_count_avail() != cfg_.ports.size())
    throw std::runtime_error("configuration names " + std::to_string(cfg_.ports.size()) +
                             " ports but EAL found " + std::to_string(rte_eth_dev_count_avail()) +
                             " (check -a / --vdev)");
  create_pools();

  const size_t sz = rte_rcu_qsbr_get_memsize(static_cast<uint32_t>(lcores_.size()));
  qsbr_ = static_cast<rte_rcu_qsbr *>(rte_zmalloc("nve_qsbr", sz, RTE_CACHE_LINE_SIZE));
  if (!qsbr_) dp::throw_out_of_dpdk_memory("RCU variable", sz);
  rte_rcu_qsbr_init(qsbr_, static_cast<uint32_t>(lcores_.size()));

  to_control_ = rte_ring_create("nve_to_control", cfg_.control_ring_size, rte_socket_id(), RING_F_SC_DEQ);
  if (!to_control_) fail("cannot create control ring");
  from_control_ = rte_ring_create("nve_from_control", 256, rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!from_control_) fail("cannot create control TX ring");

  start_ports();
  create_tx_linear_pool();
  build_settings();

  dp::RouteTableConfig rc;
  rc.capacity = cfg_.route_capacity;
  rc.max_nves = cfg_.max_nves;
  // One more set of route statistics when the control thread runs packets
  // through the pipeline (a control queue): it writes only its own.
  rc.workers = static_cast<uint32_t>(lcores_.size() + (control_queues() ? 1 : 0));
  rc.socket_id = static_cast<int>(rte_socket_id());
  routes_ = std::make_unique<dp::RouteTable>(rc, qsbr_);

  dp::FabricParams fp;
  const PortConfig *fabric = cfg_.fabric_port();
  fp.port = fabric->port_id;
  fp.port_mac = ports_[fabric->port_id].mac;
  fp.gateway_mac_v4 = cfg_.gateway_mac_ipv4;
  fp.gateway_mac_v6 = cfg_.gateway_mac_ipv6;
  fp.own_v4 = cfg_.nve_ipv4;
  fp.own_v6 = cfg_.nve_ipv6;
  fp.outer_ttl = cfg_.tunnel_ttl;
  routes_->set_fabric(fp);

  build_workers();
}

NvedRuntime::~NvedRuntime() {
  stop_workers();
  for (auto &f : flows_) f.flows.remove();  // rules go before their port
  if (ports_started_)
    for (const auto &p : cfg_.ports) drivers::port_stop(p.port_id);
  for (size_t i = 0; i < workers_.size(); i++) {
    rte_free(workers_[i]);
  }
  routes_.reset();
  if (to_control_) {
    void *m;
    while (rte_ring_dequeue(to_control_, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf *>(m));
    rte_ring_free(to_control_);
  }
  if (from_control_) {
    void *m;
    while (rte_ring_dequeue(from_control_, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf *>(m));
    rte_ring_free(from_control_);
  }
  rte_free(qsbr_);
  rte_mempool_free(frag_indirect_);
  rte_mempool_free(frag_direct_);
  rte_mempool_free(tx_linear_pool_);
  rte_mempool_free(pool_);
  for (auto *p : port_pools_) rte_mempool_free(p);
}

// By default large mbufs rather than RX scatter for jumbo frames: every
// packet arrives in one segment, which costs memory (workers.mbufs times the
// largest frame, about 9.2 KiB at mtu 9000 instead of 2 KiB). With
// workers.rx_scatter the mbufs stay at 2 KiB and a larger frame arrives as a
// chain, which the fast path handles (dataplane/mbuf_chain.h).
uint16_t NvedRuntime::mbuf_data_room() const {
  return cfg_.rx_scatter ? RTE_MBUF_DEFAULT_BUF_SIZE : whole_frame_data_room();
}

// Mbufs that hold the largest frame of any port in one segment.
uint16_t NvedRuntime::whole_frame_data_room() const {
  const uint32_t room = std::max<uint32_t>(RTE_MBUF_DEFAULT_BUF_SIZE, RTE_PKTMBUF_HEADROOM + cfg_.max_frame());
  return static_cast<uint16_t>((room + 63) / 64 * 64);
}

void NvedRuntime::create_pools() {
  const int socket = static_cast<int>(rte_socket_id());
  pool_ = rte_pktmbuf_pool_create("nve_mbufs", cfg_.mbufs, 256, 0, mbuf_data_room(), socket);
  if (!pool_) fail("cannot create mbuf pool of " + std::to_string(cfg_.mbufs) + " mbufs (more memory: -m, or fewer workers.mbufs)");
  // Fragmentation: a small header mbuf per fragment plus an indirect mbuf
  // pointing into the original packet.
  frag_direct_ = rte_pktmbuf_pool_create("nve_frag_direct", 4095, 128, 0, RTE_PKTMBUF_HEADROOM + 128, socket);
  frag_indirect_ = rte_pktmbuf_pool_create("nve_frag_indirect", 4095, 128, 0, 0, socket);
  if (!frag_direct_ || !frag_indirect_) fail("cannot create fragmentation pools");
}

void NvedRuntime::create_tx_linear_pool() {
  // With rx_scatter, a port whose driver sends only one segment gets jumbo
  // chains copied into one mbuf at transmission: mbufs of the largest
  // frame, a pool of their own, created only then.
  if (!cfg_.rx_scatter || whole_frame_data_room() <= mbuf_data_room()) return;
  std::string single;
  for (const auto &p : cfg_.ports)
    if (!ports_[p.port_id].tx_multi_seg) single += (single.empty() ? "" : ", ") + drivers::port_name(p.port_id);
  if (single.empty()) return;
  // Two TX rings of copies (about 19 MB at mtu 9000); when all are in
  // flight, a copy is dropped on drop_tx_multisegment.
  const unsigned n = 2047;
  tx_linear_pool_ = rte_pktmbuf_pool_create("nve_tx_linear", n, 128, 0, whole_frame_data_room(),
                                            static_cast<int>(rte_socket_id()));
  if (!tx_linear_pool_)
    fail("cannot create the pool of " + std::to_string(n) + " jumbo mbufs that " + single +
         " need with workers.rx_scatter (their drivers send no chained mbufs): more memory, -m, or rx_scatter: false");
  spdlog::info("workers.rx_scatter: {} send no chained mbufs; jumbo chains for them are copied into one of {} mbufs of {} bytes (counter tx_linearized)",
               single, n, whole_frame_data_room());
}

void NvedRuntime::start_ports() {
  ports_.resize(cfg_.ports.size());
  flows_.resize(cfg_.ports.size());
  link_watch_ = drivers::LinkWatch(static_cast<uint16_t>(cfg_.ports.size()));
  const auto workers = static_cast<uint16_t>(lcores_.size());
  for (const auto &p : cfg_.ports) {
    const PortFlowRequest flow = prepare_port_flows(p, workers);
    drivers::PortSetup s;
    s.port_id = p.port_id;
    s.rx_queues = static_cast<uint16_t>(workers + (flow.control_queue ? 1 : 0));
    s.tx_queues = s.rx_queues;  // the extra one unused (net_tap wants as many as RX)
    s.rss_queues = workers;     // never onto the control queue
    s.rx_desc = cfg_.rx_desc;
    s.tx_desc = cfg_.tx_desc;
    s.pool = pool_;
    s.mtu = p.mtu;
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(p.port_id, &info) == 0 && info.driver_name &&
        std::string(info.driver_name) == "net_af_xdp") {
      // Whole frames even with rx_scatter: the driver neither scatters nor
      // sends chains, and copies each frame it sends into one of these.
      const std::string name = "nve_mbufs_p" + std::to_string(p.port_id);
      s.pool = rte_pktmbuf_pool_create(name.c_str(), cfg_.mbufs, 256, 0, whole_frame_data_room(),
                                       static_cast<int>(rte_socket_id()));
      if (!s.pool)
        fail("cannot create the mbuf pool of AF_XDP port " + std::to_string(p.port_id) + " (" +
             std::to_string(cfg_.mbufs) + " mbufs: more memory, -m, or fewer workers.mbufs)");
      port_pools_.push_back(s.pool);
    }
    ports_[p.port_id] = drivers::port_start(s);
    ports_started_ = true;
    // Given up, the control queue pair goes: the port runs as one without
    // rte_flow.
    auto restart_plain = [&s, workers] {
      rte_eth_dev_stop(s.port_id);
      s.rx_queues = s.tx_queues = workers;
      return drivers::port_start(s);
    };
    flows_[p.port_id] = apply_port_flows(p, flow, ports_[p.port_id], workers, own_addresses(p), restart_plain);
  }
}

// ICMP to these is control traffic (flow rules): the NVE's underlay
// addresses, which only the fabric port receives.
std::vector<IpAddress> NvedRuntime::own_addresses(const PortConfig &p) const {
  std::vector<IpAddress> out;
  if (p.role != PortConfig::Role::Fabric) return out;
  for (const IpAddress &a : {cfg_.nve_ipv4, cfg_.nve_ipv6})
    if (a.family) out.push_back(a);
  for (const auto &e : cfg_.vn_endpoints)
    for (const IpAddress &a : {e.ipv4, e.ipv6})
      if (a.family) out.push_back(a);
  return out;
}

void NvedRuntime::build_settings() {
  dp::DataplaneSettings &s = settings_;
  for (const auto &p : cfg_.ports) {
    dp::PortSettings &ps = s.ports[p.port_id];
    ps.role = p.role == PortConfig::Role::Fabric ? dp::PortRole::Fabric : dp::PortRole::Access;
    ps.vn = p.vn;
    ps.vlan = p.vlan;
    ps.proxy_arp = p.proxy_arp;
    ps.tx_multi_seg = ports_[p.port_id].tx_multi_seg;
    ps.mtu = p.mtu;
    ps.max_frame = p.mtu + 14u + 4u;
    std::memcpy(ps.mac, ports_[p.port_id].mac.data(), 6);
    ps.tx_ipv4_cksum_offload = ports_[p.port_id].tx_ipv4_cksum;
  }
  s.fabric_port = cfg_.fabric_port()->port_id;
  s.fabric_vn = cfg_.fabric_vn;
  if (cfg_.nve_ipv4.is_v4()) {
    s.has_v4 = true;
    std::memcpy(s.own_v4, cfg_.nve_ipv4.bytes.data(), 4);
  }
  if (cfg_.nve_ipv6.is_v6()) {
    s.has_v6 = true;
    std::memcpy(s.own_v6, cfg_.nve_ipv6.bytes.data(), 16);
  }
  static_assert(kMaxVnEndpointAddresses <= dp::kMaxVnEndpoints && kMaxTunnelPeerPrefixes <= dp::kMaxTunnelPeers);
  for (const auto &e : cfg_.vn_endpoints)
    for (const IpAddress &a : {e.ipv4, e.ipv6})
      if (a.family) {
        dp::VnEndpoint &v = s.vn_endpoints[s.n_vn_endpoints++];
        v.vn = e.vn;
        v.family = a.family;
        std::memcpy(v.addr, a.bytes.data(), 16);
      }
  for (const IpPrefix &p : cfg_.tunnel_peers) s.tunnel_peers[s.n_tunnel_peers++] = p;
  if (s.n_tunnel_peers == 0 && !cfg_.agent.enabled)
    spdlog::warn("tunnel.peers is empty and there is no agent: every tunnel to this NVE is dropped "
                 "(drop_decap_unknown_peer); list the underlay prefixes of the other NVEs");
  else if (s.n_tunnel_peers == 0)
    spdlog::info("tunnel.peers is empty: tunnels are accepted only from the NVEs nvad names as redirecting "
                 "VMs that moved here (show tunnel-peers)");
  s.tunnel_mtu = cfg_.tunnel_mtu;
  s.dscp_set = cfg_.tunnel_dscp;
  s.default_forward = cfg_.default_forward;
  s.icmp_rate_per_sec = cfg_.icmp_rate_per_sec;
  s.icmp_burst = cfg_.icmp_burst;
}

// A context for the pipeline, numbered `index`: settings, route view, its
// own statistics slot, the control ring, fragmentation pools; appended to
// workers_ (which frees it).
dp::WorkerContext *NvedRuntime::new_context(size_t index, int socket, const dp::RouteTableView &view) {
  auto *ctx = static_cast<dp::WorkerContext *>(
      rte_zmalloc_socket("nve_worker", sizeof(dp::WorkerContext), RTE_CACHE_LINE_SIZE, socket));
  if (!ctx) dp::throw_out_of_dpdk_memory("worker context", sizeof(dp::WorkerContext));
  new (ctx) dp::WorkerContext();
  ctx->worker_id = static_cast<uint16_t>(index);
  ctx->settings = &settings_;
  ctx->routes = view;
  ctx->my_stats = view.stats[index];
  ctx->qsbr = qsbr_;
  ctx->to_control = to_control_;
  ctx->frag_direct = frag_direct_;
  ctx->frag_indirect = frag_indirect_;
  ctx->tx_linear_pool = tx_linear_pool_;
  ctx->tsc_hz = rte_get_tsc_hz();
  workers_.push_back(ctx);
  return ctx;
}

void NvedRuntime::build_workers() {
  const auto view = routes_->view();
  for (size_t w = 0; w < lcores_.size(); w++) {
    dp::WorkerContext *ctx = new_context(w, static_cast<int>(rte_lcore_to_socket_id(lcores_[w])), view);
    ctx->qsbr_thread_id = static_cast<unsigned>(w);
    ctx->from_control = w == 0 ? from_control_ : nullptr;
    ctx->tx_queue = static_cast<uint16_t>(w);
  }
  // Spread every (port, RX queue) over the workers, but the control queues
  // rte_flow fills: the control thread's context serves those (its outputs
  // go through worker 0's control TX ring; no RCU slot, control_queue.h).
  const size_t n_workers = workers_.size();
  if (control_queues()) control_ctx_ = new_context(n_workers, static_cast<int>(rte_socket_id()), view);
  size_t next = 0;
  for (const auto &p : cfg_.ports) {
    for (uint16_t q = 0; q < ports_[p.port_id].rx_queues; q++) {
      const bool control = flows_[p.port_id].control_queue == q;
      dp::WorkerContext &ctx = control ? *control_ctx_ : *workers_[next++ % n_workers];
      ctx.rxq[ctx.n_rxq++] = dp::RxQueue{p.port_id, q};
    }
  }
}

bool NvedRuntime::control_queues() const {
  for (const auto &f : flows_)
    if (f.control_queue) return true;
  return false;
}

unsigned NvedRuntime::worker_lcore(size_t i) const {
  return i < lcores_.size() ? lcores_[i] : rte_get_main_lcore();
}

void NvedRuntime::serve_control_queues() {
  if (!control_ctx_) return;
  for (uint16_t i = 0; i < control_ctx_->n_rxq; i++)
    dp::control_queue_poll(*control_ctx_, control_ctx_->rxq[i].port, control_ctx_->rxq[i].queue, n_ports(),
                           from_control_);
}

void NvedRuntime::start_workers() {
  quit_.store(false, std::memory_order_release);
  g_launch.clear();
  g_launch.reserve(lcores_.size());
  for (size_t w = 0; w < lcores_.size(); w++) {
    dp::WorkerLoopParams p;
    p.quit = &quit_;
    p.n_ports = n_ports();
    p.idle_sleep_us = cfg_.idle_sleep_us;
    g_launch.push_back(LaunchArg{workers_[w], p});
  }
  // If a launch fails, the workers already running must be stopped (here,
  // before the throw) and never have their contexts freed under them.
  for (size_t w = 0; w < lcores_.size(); w++) {
    dp::tsan_release(&g_launch[w]);
    const int rc = rte_eal_remote_launch(worker_entry, &g_launch[w], lcores_[w]);
    if (rc == 0) launched_ = w + 1;
    if (rc != 0) {
      stop_workers();
      throw std::runtime_error("cannot launch worker " + std::to_string(w) + " on lcore " +
                               std::to_string(lcores_[w]) + ": " + std::strerror(-rc) +
                               " (is the lcore busy?)");
    }
    spdlog::info("worker {} on lcore {}: {} RX queue(s)", w, lcores_[w], workers_[w]->n_rxq);
  }
}

void NvedRuntime::stop_workers() {
  if (launched_ == 0) return;
  quit_.store(true, std::memory_order_release);
  // Only the lcores this runtime launched: another lcore may run something
  // else (and would make rte_eal_mp_wait_lcore wait for it).
  for (size_t w = 0; w < launched_; w++) {
    rte_eal_wait_lcore(lcores_[w]);
    dp::tsan_acquire(&g_launch[w]);
  }
  launched_ = 0;
}

bool NvedRuntime::send_from_control(rte_mbuf *m) {
  dp::tsan_release(m);  // worker 0 sends what this thread built
  if (rte_ring_enqueue(from_control_, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

uint64_t NvedRuntime::total(dp::Counter c) const {
  uint64_t t = 0;
  for (const auto *w : workers_) t += w->counters.get(c);
  return t;
}

}  // namespace nvmove
