#include "dataplane/forward.h"

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_prefetch.h>

#include "dataplane/actions.h"
#include "dataplane/classify.h"
#include "dataplane/rcu.h"

namespace nvmove::dp {

void process_burst(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n) {
  PacketMeta meta[kBurst];
  RouteKey keys[kBurst];
  const void *key_ptrs[kBurst];
  hash_sig_t sigs[kBurst];
  rte_mbuf *look[kBurst];
  uint16_t nl = 0;

  ctx.counters.add(Counter::rx_packets, n);
  ctx.now_tsc = rte_rdtsc();

  // Stage 1: classify; the common case in a straight line, the rest in full.
  // Prefetch a few packets ahead.
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[in_port];
  const uint32_t vn = ingress_vn(s, port);
  const bool untagged_port = port.vlan == 0;
  constexpr uint16_t kPrefetch = 4;
  for (uint16_t i = 0; i < n && i < kPrefetch; i++) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
  for (uint16_t i = 0; i < n; i++) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void *));
    rte_mbuf *m = pkts[i];
    const bool lookup =
        (untagged_port && classify_common(s, port, vn, in_port, m, meta[nl], keys[nl], sigs[nl])) ||
        classify_full(ctx, m, in_port, meta[nl], keys[nl], sigs[nl]) == Verdict::Lookup;
    if (lookup) {
      key_ptrs[nl] = &keys[nl];
      look[nl] = m;
      nl++;
    }
  }
  if (nl == 0) return;

  // Stage 2: one bulk lookup for the burst, with the hashes stage 1 computed.
  void *data[kBurst];
  uint64_t hits = 0;
  rte_hash_lookup_with_hash_bulk_data(ctx.routes.hash, key_ptrs, sigs, nl, &hits, data);

  // Stage 3a: prefetch what the actions will touch, so the misses of the
  // whole burst overlap: the entries, then their statistics slots and, for
  // tunnels, the headroom line the outer header goes to (nothing has
  // touched it since the mbuf was last used: a write miss per packet).
  RouteStat *stats = ctx.my_stats;
  for (uint16_t i = 0; i < nl; i++)
    if (hits & (uint64_t{1} << i)) rte_prefetch0(data[i]);
  for (uint16_t i = 0; i < nl; i++) {
    if (!(hits & (uint64_t{1} << i))) continue;
    const auto *e = static_cast<const RouteEntry *>(data[i]);
    rte_prefetch0(&stats[e->stat_idx]);
    if (e->kind == kRouteTunnel) rte_prefetch0_write(meta[i].l3 - (RTE_ETHER_HDR_LEN + sizeof(rte_ipv6_hdr)));
  }

  // Stage 3b: act.
  for (uint16_t i = 0; i < nl; i++) {
    if (!(hits & (uint64_t{1} << i))) {
      forward_default(ctx, look[i], meta[i]);
      continue;
    }
    const auto &e = *static_cast<const RouteEntry *>(data[i]);
    tsan_consume(&e);  // no code outside ThreadSanitizer builds
    RouteStat &st = stats[e.stat_idx];
    st.hits.store(st.hits.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    st.last_tsc.store(ctx.now_tsc, std::memory_order_relaxed);
    if (e.kind == kRouteTunnel) tunnel(ctx, look[i], meta[i], e);
    else deliver_local(ctx, look[i], meta[i], e);
  }
}

}  // namespace nvmove::dp
