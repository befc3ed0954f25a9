// The host route table: a RouteHash (route_hash.h) with one writer (the
// control thread) and many lock-free readers (workers).
//
// Entries are immutable. A change allocates a new entry, swaps the slot's
// entry index, and retires the old entry, its statistics slot and any NVE
// template it was the last user of through an rte_rcu_qsbr defer queue: they
// are reused only after every worker has reported a quiescent state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/route_change.h"
#include "dataplane/route_hash.h"
#include "dataplane/route_entry.h"

struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

namespace nvmove::dp {

struct RouteTableConfig {
  std::string name = "nve_routes";
  uint32_t capacity = 1u << 20;
  uint32_t max_nves = 4096;
  uint32_t workers = 1;  // number of per-worker statistics arrays
  int socket_id = -1;    // SOCKET_ID_ANY
};

// What outer headers are built from: our own addresses and the fabric side.
struct FabricParams {
  uint16_t port = 0;
  MacAddress port_mac{};
  std::optional<MacAddress> gateway_mac_v4;
  std::optional<MacAddress> gateway_mac_v6;
  IpAddress own_v4;  // family 0 when absent
  IpAddress own_v6;
  uint8_t outer_ttl = 64;
};

// Everything a worker needs to read the table; plain pointers, no methods that
// allocate or lock.
struct RouteTableView {
  RouteHashView hash;
  RouteStat *const *stats = nullptr;  // [worker][stat_idx]
  // NVE templates: nve_mask + 1 slots (a power of two at least max_nves), so
  // `nves[idx & nve_mask]` stays in the array whatever idx holds; slots
  // without an NVE are null.
  const std::atomic<const TunnelTemplate *> *nves = nullptr;
  uint32_t nve_mask = 0;
  const std::atomic<const GatewayL2 *> *gateway = nullptr;
};

class RouteTable final : public ListedRouteBackend {
 public:
  // qsbr: the RCU variable every worker reports to. Throws std::runtime_error
  // with the DPDK reason if memory cannot be had.
  RouteTable(const RouteTableConfig &cfg, rte_rcu_qsbr *qsbr);
  ~RouteTable() override;
  RouteTable(const RouteTable &) = delete;
  RouteTable &operator=(const RouteTable &) = delete;

  RouteBatchResult apply(std::span<const RouteChange> batch) override;
  std::optional<RouteView> find(const HostRoute &route) const override;
  size_t size() const override { return live_routes_; }

  // Rebuilds every NVE template and the gateway L2 header (new MAC, new own
  // address) and publishes them.
  void set_fabric(const FabricParams &fabric);
  const FabricParams &fabric() const { return fabric_; }

  // Frees what the defer queue holds past its grace period. Cheap; the
  // control thread calls it every loop pass.
  void reclaim();

  RouteTableView view() const;
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  uint64_t last_update_unix_ns() const { return last_update_ns_; }
  uint32_t capacity() const { return cfg_.capacity; }
  size_t memory_bytes() const { return memory_bytes_; }
  size_t nve_count() const { return nve_by_addr_.size(); }

  // All routes (control-side walk, for show commands and export).
  std::vector<RouteView> list() const override;
  // One page of that walk, in table (hash) order: the routes of the buckets
  // from `cursor` on, at least `min_routes` of them unless the table ends.
  // `cursor` becomes where the next page starts, 0 after the last page.
  // Pages from cursor 0 list every route once (RouteHash::for_each_from).
  std::vector<RouteView> list_page(uint64_t &cursor, size_t min_routes) const override;
  std::optional<double> seconds_since_hit(const RouteView &v) const override;
  const char *hits_unit() const override { return "packets"; }

 private:
  struct NveSlot {
    IpAddress addr;
    uint32_t refs = 0;
  };
  struct Deferred;  // element of the defer queue

  bool upsert(const RouteChange &c, std::string &why);
  bool remove(const HostRoute &r, std::string &why);
  uint32_t alloc_entry();
  uint32_t acquire_nve(const IpAddress &addr, std::string &why);
  void release_nve_ref(uint32_t idx, Deferred &d);
  void defer(const Deferred &d);  // retired with the current publication
  void flush_deferred();          // hands the publication's retirements to RCU
  void free_deferred(const Deferred &d);
  const TunnelTemplate *build_template(const IpAddress &nve, std::string &why) const;
  void publish_gateway();
  RouteView to_view(const RouteKey &key, const RouteEntry &e) const;
  static void dq_free(void *p, void *elems, unsigned n);

  RouteTableConfig cfg_;
  rte_rcu_qsbr *qsbr_;
  std::unique_ptr<RouteHash> hash_;
  rte_rcu_qsbr_dq *dq_ = nullptr;
  std::vector<Deferred> pending_;  // retired by the publication in progress

  RouteEntry *entries_ = nullptr;  // pool
  uint32_t pool_size_ = 0;
  std::vector<uint32_t> free_entries_;

  std::vector<RouteStat *> stats_;  // one array per worker
  std::vector<uint32_t> free_stats_;

  std::atomic<const TunnelTemplate *> *nves_ = nullptr;
  uint32_t nve_table_size_ = 0;  // max_nves rounded up to a power of two
  std::vector<NveSlot> nve_slots_;
  std::map<IpAddress, uint32_t> nve_by_addr_;
  std::vector<uint32_t> free_nves_;

  std::atomic<const GatewayL2 *> gateway_{nullptr};
  FabricParams fabric_;

  size_t live_routes_ = 0;
  std::atomic<uint64_t> version_{0};
  uint64_t last_update_ns_ = 0;
  size_t memory_bytes_ = 0;
};

}  // namespace nvmove::dp
