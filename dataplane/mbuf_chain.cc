#include "dataplane/mbuf_chain.h"

#include <cstring>

#include "dataplane/worker_context.h"

namespace nvmove::dp {

void trim_chain(rte_mbuf *m, uint32_t len) {
  m->pkt_len = len;
  uint32_t left = len;
  uint16_t segs = 1;
  rte_mbuf *seg = m;
  // The last segment that keeps data: at least the first, whatever `len`.
  while (seg->next != nullptr && left > seg->data_len) {
    left -= seg->data_len;
    seg = seg->next;
    segs++;
  }
  if (left < seg->data_len) seg->data_len = static_cast<uint16_t>(left);
  // The rest, one segment at a time: a tail segment's nb_segs and pkt_len do
  // not describe the sub-chain (drivers leave them stale), so it is no
  // packet for rte_pktmbuf_free.
  rte_mbuf *rest = seg->next;
  seg->next = nullptr;
  while (rest != nullptr) {
    rte_mbuf *next = rest->next;
    rte_pktmbuf_free_seg(rest);
    rest = next;
  }
  m->nb_segs = segs;
}

namespace {
// The pool of the buffer `seg`'s data is in: an indirect mbuf (a fragment's
// payload) points into another mbuf's.
rte_mempool *buffer_pool(const rte_mbuf *seg) {
  return RTE_MBUF_CLONED(seg) ? rte_mbuf_from_indirect(const_cast<rte_mbuf *>(seg))->pool : seg->pool;
}
}  // namespace

rte_mbuf *linearized(const rte_mbuf *m, rte_mempool *large) {
  // The first pool whose mbufs hold the packet: the head's, that of the
  // payload's buffer (a fragment's header mbuf is small; its payload is in
  // a packet mbuf), then the large one.
  const uint32_t need = RTE_PKTMBUF_HEADROOM + m->pkt_len;
  rte_mempool *pool = nullptr;
  for (rte_mempool *p : {m->pool, m->next ? buffer_pool(m->next) : nullptr, large}) {
    if (p != nullptr && rte_pktmbuf_data_room_size(p) >= need) {
      pool = p;
      break;
    }
  }
  if (!pool) return nullptr;
  rte_mbuf *flat = rte_pktmbuf_alloc(pool);
  if (!flat) return nullptr;
  auto *dst = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(flat, static_cast<uint16_t>(m->pkt_len)));
  // rte_pktmbuf_read copies into dst, or (contiguous bytes) returns where
  // they already are.
  const void *src = dst ? rte_pktmbuf_read(m, 0, m->pkt_len, dst) : nullptr;
  if (!src) {
    rte_pktmbuf_free(flat);
    return nullptr;
  }
  if (src != dst) std::memcpy(dst, src, m->pkt_len);
  // Offload requests only: never the original's INDIRECT or EXTERNAL flags,
  // which would make the copy's free detach a buffer it does not have.
  flat->ol_flags = m->ol_flags & RTE_MBUF_F_TX_OFFLOAD_MASK;
  flat->tx_offload = m->tx_offload;
  return flat;
}

void emit_linearized(WorkerContext &ctx, uint16_t port, rte_mbuf *m) {
  rte_mbuf *flat = linearized(m, ctx.tx_linear_pool);
  rte_pktmbuf_free(m);
  if (!flat) return ctx.counters.add(Counter::drop_tx_multisegment);
  ctx.counters.add(Counter::tx_linearized);
  emit_one_segment(ctx, port, flat);
}

}  // namespace nvmove::dp
