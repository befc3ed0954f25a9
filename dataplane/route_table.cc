#include "dataplane/route_table.h"

#include "dataplane/dpdk_memory.h"

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "dataplane/rcu.h"
#include "dataplane/tunnel_template.h"

namespace nvmove::dp {

namespace {
constexpr uint32_t kNone = UINT32_MAX;

uint64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool to_key(const HostRoute &r, RouteKey &k) {
  if (r.address.is_v4()) make_key_v4(k, r.vn, r.address.bytes.data());
  else if (r.address.is_v6()) make_key_v6(k, r.vn, r.address.bytes.data());
  else return false;
  return true;
}

HostRoute from_key(const RouteKey &k) {
  HostRoute r;
  r.vn = k.vn;
  r.address.family = k.family;
  std::memcpy(r.address.bytes.data(), k.addr, k.family == kFamilyV4 ? 4 : 16);
  return r;
}

[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error(what + ": " + rte_strerror(rte_errno));
}
}  // namespace

// What the defer queue carries: everything one retirement gives back.
struct RouteTable::Deferred {
  uint32_t entry_idx = kNone;
  uint32_t stat_idx = kNone;
  uint32_t nve_idx = kNone;  // NVE slot whose last user went away
  // A retired DPDK heap block to rte_free: an old NVE template or an old
  // gateway header. Typeless on purpose: rte_free needs no type, and a typed
  // pointer would invite a cast between unrelated structs.
  const void *block = nullptr;
};

RouteTable::RouteTable(const RouteTableConfig &cfg, rte_rcu_qsbr *qsbr) : cfg_(cfg), qsbr_(qsbr) {
  if (cfg_.capacity < 8) cfg_.capacity = 8;
  if (cfg_.workers == 0) cfg_.workers = 1;

  // Replacements need a new entry before the old one comes back: keep spares.
  const uint32_t spare = std::max<uint32_t>(1024, cfg_.capacity / 16);
  pool_size_ = cfg_.capacity + spare;
  entries_ = static_cast<RouteEntry *>(
      rte_zmalloc_socket("nve_route_entries", sizeof(RouteEntry) * pool_size_, 64, cfg_.socket_id));
  if (!entries_) throw_out_of_dpdk_memory("route entries", sizeof(RouteEntry) * pool_size_);
  hash_ = std::make_unique<RouteHash>(cfg_.capacity, entries_, cfg_.socket_id);
  free_entries_.reserve(pool_size_);
  for (uint32_t i = pool_size_; i-- > 0;) free_entries_.push_back(i);

  for (uint32_t w = 0; w < cfg_.workers; w++) {
    auto *s = static_cast<RouteStat *>(rte_zmalloc_socket(
        "nve_route_stats", sizeof(RouteStat) * cfg_.capacity, 64, cfg_.socket_id));
    if (!s) throw_out_of_dpdk_memory("per-worker route statistics", sizeof(RouteStat) * cfg_.capacity);
    stats_.push_back(s);
  }
  free_stats_.reserve(cfg_.capacity);
  for (uint32_t i = cfg_.capacity; i-- > 0;) free_stats_.push_back(i);

  // Rounded up to a power of two: workers mask the index instead of
  // comparing it (see RouteTableView::nve_mask); the extra slots stay null.
  nve_table_size_ = rte_align32pow2(std::max<uint32_t>(cfg_.max_nves, 1));
  nves_ = static_cast<std::atomic<const TunnelTemplate *> *>(rte_zmalloc_socket(
      "nve_templates", sizeof(std::atomic<const TunnelTemplate *>) * nve_table_size_, 64, cfg_.socket_id));
  if (!nves_)
    throw_out_of_dpdk_memory("NVE template table", sizeof(std::atomic<const TunnelTemplate *>) * nve_table_size_);
  nve_slots_.resize(cfg_.max_nves);
  for (uint32_t i = cfg_.max_nves; i-- > 0;) free_nves_.push_back(i);

  rte_rcu_qsbr_dq_parameters dp{};
  const std::string dq_name = cfg_.name + "_dq";
  dp.name = dq_name.c_str();
  // One element per publication, not per change: a few thousand outstanding
  // publications is already far beyond what a grace period of one worker
  // loop pass lets accumulate; a full queue makes the writer reclaim.
  dp.size = 4096;
  dp.esize = sizeof(std::vector<Deferred> *);
  dp.trigger_reclaim_limit = 64;
  dp.max_reclaim_size = dp.size;
  dp.free_fn = &RouteTable::dq_free;
  dp.p = this;
  dp.v = qsbr_;
  static_assert(sizeof(std::vector<Deferred> *) % 4 == 0);
  dq_ = rte_rcu_qsbr_dq_create(&dp);
  if (!dq_) fail("cannot create RCU defer queue");

  memory_bytes_ = sizeof(RouteEntry) * pool_size_ + sizeof(RouteStat) * cfg_.capacity * cfg_.workers +
                  sizeof(void *) * nve_table_size_ + hash_->memory_bytes();

  publish_gateway();
}

RouteTable::~RouteTable() {
  if (dq_) {
    // Workers are stopped by now; whatever is left is ours to free.
    flush_deferred();
    rte_rcu_qsbr_dq_delete(dq_);
  }
  if (nves_) {
    for (uint32_t i = 0; i < cfg_.max_nves; i++) rte_free(const_cast<TunnelTemplate *>(nves_[i].load()));
    rte_free(nves_);
  }
  rte_free(const_cast<GatewayL2 *>(gateway_.load()));
  for (auto *s : stats_) rte_free(s);
  hash_.reset();
  rte_free(entries_);
}

void RouteTable::dq_free(void *p, void *elems, unsigned n) {
  auto *self = static_cast<RouteTable *>(p);
  rcu_grace_period_over(self->qsbr_);
  auto **batches = static_cast<std::vector<Deferred> **>(elems);
  for (unsigned i = 0; i < n; i++) {
    for (const Deferred &d : *batches[i]) self->free_deferred(d);
    delete batches[i];
  }
}

void RouteTable::free_deferred(const Deferred &d) {
  if (d.entry_idx != kNone) {
    // Poison: a reader that still held this entry past its grace period would
    // see kind 0, which no code path accepts (the concurrency test checks).
    std::memset(&entries_[d.entry_idx], 0, sizeof(RouteEntry));
    free_entries_.push_back(d.entry_idx);
  }
  if (d.stat_idx != kNone) {
    for (auto *s : stats_) {
      s[d.stat_idx].hits.store(0, std::memory_order_relaxed);
      s[d.stat_idx].last_tsc.store(0, std::memory_order_relaxed);
    }
    free_stats_.push_back(d.stat_idx);
  }
  if (d.nve_idx != kNone) {
    // Nobody can reach this template any more; the slot may serve a new NVE.
    rte_free(const_cast<TunnelTemplate *>(nves_[d.nve_idx].exchange(nullptr)));
    free_nves_.push_back(d.nve_idx);
  }
  rte_free(const_cast<void *>(d.block));
}

void RouteTable::defer(const Deferred &d) { pending_.push_back(d); }

void RouteTable::flush_deferred() {
  if (pending_.empty()) return;
  // One grace-period token for everything a publication retired: a token per
  // change would write the RCU variable's shared token line once per route
  // and make every worker's quiescent-state report miss its cache.
  auto *batch = new std::vector<Deferred>(std::move(pending_));
  pending_.clear();
  // A full queue only means workers have not passed a quiescent state since
  // the oldest retirement: reclaim until there is room (bounded by the time a
  // worker takes for one loop pass).
  while (rte_rcu_qsbr_dq_enqueue(dq_, &batch) != 0) {
    rte_rcu_qsbr_dq_reclaim(dq_, UINT32_MAX, nullptr, nullptr, nullptr);
    rte_pause();
  }
}

void RouteTable::reclaim() {
  flush_deferred();
  rte_rcu_qsbr_dq_reclaim(dq_, UINT32_MAX, nullptr, nullptr, nullptr);
}

uint32_t RouteTable::alloc_entry() {
  if (free_entries_.empty()) {
    reclaim();
    while (free_entries_.empty()) {
      // All spares wait for a grace period: wait for it.
      rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
      reclaim();
    }
  }
  const uint32_t i = free_entries_.back();
  free_entries_.pop_back();
  return i;
}

uint32_t RouteTable::acquire_nve(const IpAddress &addr, std::string &why) {
  if (addr == fabric_.own_v4 || addr == fabric_.own_v6) {
    why = "tunnel destination " + addr.to_string() + " is this NVE's own address";
    return kNone;
  }
  auto it = nve_by_addr_.find(addr);
  if (it != nve_by_addr_.end()) {
    nve_slots_[it->second].refs++;
    return it->second;
  }
  if (free_nves_.empty()) reclaim();
  if (free_nves_.empty()) {
    why = "NVE table full (" + std::to_string(cfg_.max_nves) + " destination NVEs)";
    return kNone;
  }
  const TunnelTemplate *t = build_template(addr, why);
  if (!t) return kNone;
  const uint32_t idx = free_nves_.back();
  free_nves_.pop_back();
  nve_slots_[idx] = NveSlot{addr, 1};
  nve_by_addr_[addr] = idx;
  nves_[idx].store(t, std::memory_order_release);
  return idx;
}

void RouteTable::release_nve_ref(uint32_t idx, Deferred &d) {
  NveSlot &s = nve_slots_[idx];
  if (--s.refs == 0) {
    nve_by_addr_.erase(s.addr);
    d.nve_idx = idx;
  }
}

const TunnelTemplate *RouteTable::build_template(const IpAddress &nve, std::string &why) const {
  auto *t = static_cast<TunnelTemplate *>(
      rte_zmalloc_socket("nve_template", sizeof(TunnelTemplate), 64, cfg_.socket_id));
  if (!t) {
    why = "cannot allocate an NVE template";
    return nullptr;
  }
  if (!build_tunnel_template(fabric_, nve, *t, why)) {
    rte_free(t);
    return nullptr;
  }
  return t;
}

void RouteTable::publish_gateway() {
  auto *g = static_cast<GatewayL2 *>(
      rte_zmalloc_socket("nve_gateway", sizeof(GatewayL2), 64, cfg_.socket_id));
  if (!g) throw_out_of_dpdk_memory("gateway header", sizeof(GatewayL2));
  build_gateway_l2(fabric_, *g);
  const GatewayL2 *old = gateway_.exchange(g, std::memory_order_acq_rel);
  if (old) {
    Deferred d;
    d.block = old;
    defer(d);
  }
}

void RouteTable::set_fabric(const FabricParams &fabric) {
  fabric_ = fabric;
  for (const auto &[addr, idx] : nve_by_addr_) {
    std::string why;
    const TunnelTemplate *t = build_template(addr, why);
    if (!t) continue;  // the old template keeps serving
    const TunnelTemplate *old = nves_[idx].exchange(t, std::memory_order_acq_rel);
    Deferred d;
    d.block = old;
    defer(d);
  }
  publish_gateway();
  flush_deferred();
  version_.fetch_add(1, std::memory_order_release);
  last_update_ns_ = now_unix_ns();
}

bool RouteTable::upsert(const RouteChange &c, std::string &why) {
  RouteKey key;
  if (!to_key(c.route, key)) {
    why = "route address unset";
    return false;
  }
  const uint32_t hash = route_key_hash(key);
  const RouteHash::Slot slot = hash_->find(key, hash);
  const RouteEntry *old = slot ? &entries_[hash_->entry_at(slot)] : nullptr;

  RouteEntry e{};
  e.key = key;
  const bool peer = std::holds_alternative<TunnelPeer>(c.action);
  if (peer != (c.route.vn == kTunnelPeerVn)) {
    why = peer ? "a tunnel peer belongs in vn " + std::to_string(kTunnelPeerVn)
               : "vn " + std::to_string(kTunnelPeerVn) + " holds only tunnel peers";
    return false;
  }
  const auto *own = std::get_if<OwnEndpoint>(&c.action);
  if (old && old->kind == kRouteOwn && !own) {
    why = "is one of this NVE's own endpoints (virtual_networks / nve)";
    return false;
  }
  if (own) {
    e.kind = kRouteOwn;
    e.own_vn = own->vn;
    e.nve_idx = kNone;
  } else if (peer) {
    e.kind = kRouteTunnelPeer;
    e.nve_idx = kNone;
  } else if (const auto *local = std::get_if<DeliverLocal>(&c.action)) {
    e.kind = kRouteLocal;
    e.port = local->port;
    e.vlan_tci = local->vlan;
    std::memcpy(e.vm_mac, local->vm_mac.data(), 6);
    e.nve_idx = kNone;
  } else {
    const auto &tun = std::get<TunnelToNve>(c.action);
    e.kind = kRouteTunnel;
    e.nve_idx = acquire_nve(tun.nve, why);
    if (e.nve_idx == kNone) return false;
  }

  if (old) {
    e.stat_idx = old->stat_idx;  // a changed route keeps its counters
  } else {
    if (free_stats_.empty()) reclaim();
    if (free_stats_.empty() || live_routes_ >= cfg_.capacity) {
      if (e.kind == kRouteTunnel) {
        Deferred d;
        release_nve_ref(e.nve_idx, d);
        if (d.nve_idx != kNone) defer(d);
      }
      why = "route table full (" + std::to_string(cfg_.capacity) + " routes)";
      return false;
    }
    e.stat_idx = free_stats_.back();
    free_stats_.pop_back();
  }

  const uint32_t idx = alloc_entry();
  entries_[idx] = e;
  // Both publish the entry with release semantics.
  if (old) hash_->replace(slot, idx);
  else if (!hash_->insert(hash, idx)) {
    free_entries_.push_back(idx);
    free_stats_.push_back(e.stat_idx);  // a new route's (a replacement never inserts)
    if (e.kind == kRouteTunnel) {
      Deferred d;
      release_nve_ref(e.nve_idx, d);
      if (d.nve_idx != kNone) defer(d);
    }
    why = "route hash overflow buckets exhausted (" + std::to_string(hash_->overflow_buckets_used()) +
          " in use); restart with a larger route_table.capacity";
    return false;
  }
  if (old) {
    Deferred d;
    d.entry_idx = static_cast<uint32_t>(old - entries_);
    if (old->kind == kRouteTunnel) release_nve_ref(old->nve_idx, d);
    defer(d);
  } else {
    live_routes_++;
  }
  return true;
}

bool RouteTable::remove(const HostRoute &r, std::string &why) {
  RouteKey key;
  if (!to_key(r, key)) {
    why = "route address unset";
    return false;
  }
  const RouteHash::Slot slot = hash_->find(key, route_key_hash(key));
  if (!slot) {
    why = "no such route";
    return false;
  }
  const RouteEntry *old = &entries_[hash_->entry_at(slot)];
  if (old->kind == kRouteOwn) {
    why = "is one of this NVE's own endpoints (virtual_networks / nve)";
    return false;
  }
  hash_->erase(slot);
  Deferred d;
  d.entry_idx = static_cast<uint32_t>(old - entries_);
  d.stat_idx = old->stat_idx;
  if (old->kind == kRouteTunnel) release_nve_ref(old->nve_idx, d);
  defer(d);
  live_routes_--;
  return true;
}

RouteBatchResult RouteTable::apply(std::span<const RouteChange> batch) {
  RouteBatchResult res;
  for (size_t i = 0; i < batch.size(); i++) {
    std::string why;
    const bool ok = batch[i].op == RouteChange::Op::Upsert ? upsert(batch[i], why)
                                                           : remove(batch[i].route, why);
    if (ok) res.applied++;
    else res.errors.push_back({i, why});
  }
  flush_deferred();
  res.table_version = version_.fetch_add(1, std::memory_order_release) + 1;
  last_update_ns_ = now_unix_ns();
  return res;
}

RouteView RouteTable::to_view(const RouteKey &key, const RouteEntry &e) const {
  RouteView v;
  v.route = from_key(key);
  if (e.kind == kRouteLocal) {
    DeliverLocal l;
    l.port = e.port;
    l.vlan = e.vlan_tci;
    std::memcpy(l.vm_mac.data(), e.vm_mac, 6);
    v.action = l;
  } else if (e.kind == kRouteTunnel) {
    v.action = TunnelToNve{nve_slots_[e.nve_idx].addr};
  } else if (e.kind == kRouteTunnelPeer) {
    v.action = TunnelPeer{};
  } else {
    v.action = OwnEndpoint{e.own_vn};
  }
  for (auto *s : stats_) {
    v.hits += s[e.stat_idx].hits.load(std::memory_order_relaxed);
    v.last_hit = std::max<uint64_t>(v.last_hit, s[e.stat_idx].last_tsc.load(std::memory_order_relaxed));
  }
  return v;
}

std::optional<RouteView> RouteTable::find(const HostRoute &route) const {
  RouteKey key;
  if (!to_key(route, key)) return std::nullopt;
  const RouteHash::Slot slot = hash_->find(key, route_key_hash(key));
  if (!slot) return std::nullopt;
  return to_view(key, entries_[hash_->entry_at(slot)]);
}

std::vector<RouteView> RouteTable::list() const {
  std::vector<RouteView> out;
  out.reserve(live_routes_);
  hash_->for_each([&](uint32_t idx) { out.push_back(to_view(entries_[idx].key, entries_[idx])); });
  return out;
}

std::vector<RouteView> RouteTable::list_page(uint64_t &cursor, size_t min_routes) const {
  std::vector<RouteView> out;
  if (cursor >= hash_->n_main()) {
    cursor = 0;
    return out;
  }
  const uint32_t next = hash_->for_each_from(static_cast<uint32_t>(cursor), min_routes, [&](uint32_t idx) {
    out.push_back(to_view(entries_[idx].key, entries_[idx]));
  });
  cursor = next >= hash_->n_main() ? 0 : next;
  return out;
}

std::optional<double> RouteTable::seconds_since_hit(const RouteView &v) const {
  if (!v.last_hit) return std::nullopt;
  const uint64_t now = rte_rdtsc();
  return double(now > v.last_hit ? now - v.last_hit : 0) / double(rte_get_tsc_hz());
}

RouteTableView RouteTable::view() const {
  RouteTableView v;
  v.hash = hash_->view();
  v.stats = stats_.data();
  v.nves = nves_;
  v.nve_mask = nve_table_size_ - 1;
  v.gateway = &gateway_;
  return v;
}

}  // namespace nvmove::dp
