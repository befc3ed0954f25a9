#include "dataplane/burst_pipeline.h"

#include <rte_cycles.h>
#include <rte_prefetch.h>

#include "dataplane/actions.h"
#include "dataplane/classify.h"
#include "dataplane/route_hash.h"

namespace nvmove::dp {

void process_burst(WorkerContext &ctx, uint16_t in_port, rte_mbuf **pkts, uint16_t n) {
  PacketMeta meta[kBurst];
  RouteKey keys[kBurst];
  uint32_t hashes[kBurst];
  const RouteBucket *buckets[kBurst];
  rte_mbuf *look[kBurst];
  uint16_t nl = 0;

  ctx.counters.add(Counter::rx_packets, n);
  ctx.now_tsc = rte_rdtsc();

  // Stage 1: classify; the common case in a straight line, the rest in full.
  // Prefetch a few packets ahead.
  const DataplaneSettings &s = *ctx.settings;
  const PortSettings &port = s.ports[in_port];
  const KeyPrefix kp = key_prefix(ingress_vn(s, port));  // the keys' first word, hashed once
  const bool untagged_port = port.vlan == 0;
  constexpr uint16_t kPrefetch = 4;
  for (uint16_t i = 0; i < n && i < kPrefetch; i++) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
  for (uint16_t i = 0; i < n; i++) {
    if (i + kPrefetch < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + kPrefetch], void *));
    rte_mbuf *m = pkts[i];
    const bool lookup =
        (untagged_port && classify_common(s, port, kp, in_port, m, meta[nl], keys[nl], hashes[nl])) ||
        classify_full(ctx, m, in_port, meta[nl], keys[nl], hashes[nl]) == Verdict::Lookup;
    if (lookup) {
      // The bucket's miss overlaps the rest of the burst's classification.
      buckets[nl] = route_bucket(ctx.routes.hash, hashes[nl]);
      rte_prefetch0(buckets[nl]);
      look[nl] = m;
      nl++;
    }
  }
  if (nl == 0) return;

  // Stage 2: one bulk lookup for the burst, with the hashes and buckets of
  // stage 1. As each route is confirmed, prefetch what acting on it will
  // touch, so the misses of the whole burst overlap: its statistics slot
  // and, for a tunnel, the headroom line the outer header goes to (nothing
  // has touched it since the mbuf was last used: a write miss per packet).
  RouteStat *stats = ctx.my_stats;
  const RouteEntry *found[kBurst];
  route_lookup_bulk(ctx.routes.hash, keys, hashes, buckets, nl, found, [&](uint16_t i, const RouteEntry &e) {
    rte_prefetch0(&stats[e.stat_idx]);
    if (e.kind == kRouteTunnel) rte_prefetch0_write(meta[i].l3 - (RTE_ETHER_HDR_LEN + sizeof(rte_ipv6_hdr)));
  });

  // Stage 3b: act. Packets to our own endpoints (kRouteOwn: rare) after the
  // loop, so the loop stays as tight as with two kinds.
  uint16_t own[kBurst];
  uint16_t nown = 0;
  for (uint16_t i = 0; i < nl; i++) {
    if (!found[i]) {
      forward_default(ctx, look[i], meta[i]);
      continue;
    }
    const RouteEntry &e = *found[i];
    record_hit(stats[e.stat_idx], ctx.now_tsc);
    // Local first, own endpoints set aside: of the orders measured (callgrind,
    // scripts/bench.sh) this one keeps the loop as short as with two kinds.
    if (e.kind == kRouteLocal) deliver_local(ctx, look[i], meta[i], e);
    else if (__builtin_expect(e.kind == kRouteTunnel, 1)) tunnel(ctx, look[i], meta[i], e);
    else own[nown++] = i;
  }
  for (uint16_t k = 0; k < nown; k++) to_own_endpoint(ctx, look[own[k]], meta[own[k]]);
}

}  // namespace nvmove::dp
