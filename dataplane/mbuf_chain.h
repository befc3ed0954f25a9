// Packets in more than one mbuf (RX scatter, a driver that chains a frame
// larger than one mbuf, IPv4 fragments): what the fast path needs to treat a
// chain like one segment. The rule it relies on: every header the pipeline
// reads (Ethernet and VLAN, outer IP, inner IP, the first bytes of L4) is in
// the first segment, which classify_full checks (kChainHeadBytes). Payload
// is never touched, so it may be spread over any number of segments;
// encapsulation writes into the first segment's headroom.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace nvmove::dp {

struct WorkerContext;

// What the first segment of a chained packet must hold (or the whole packet,
// if shorter): the deepest header read is Ethernet + VLAN (18), an outer IPv4
// header with options (60), an inner one (60) and 8 bytes of ICMP or the 4
// of TCP/UDP ports: 146. Any NIC scattering into 2 KiB buffers gives more.
inline constexpr uint32_t kChainHeadBytes = 192;

// Whether `m` can be classified: one segment, or a chain whose first segment
// holds the headers.
inline bool headers_in_first_segment(const rte_mbuf *m) {
  return m->nb_segs == 1 || m->data_len >= (m->pkt_len < kChainHeadBytes ? m->pkt_len : kChainHeadBytes);
}

// Drops the packet's last bytes past `len` (counting from the first
// segment's data start), freeing the segments that held only those.
void trim_chain(rte_mbuf *m, uint32_t len);

// Makes the packet `len` bytes from `start`, a point in the first segment's
// buffer before (new headers) or after (removed headers) its data start: the
// Ethernet padding or outer packet's tail beyond `len` goes.
inline void set_frame(rte_mbuf *m, uint8_t *start, uint32_t len) {
  const auto off = static_cast<uint16_t>(start - static_cast<uint8_t *>(m->buf_addr));
  if (__builtin_expect(m->nb_segs == 1, 1)) {
    m->data_off = off;
    m->data_len = static_cast<uint16_t>(len);
    m->pkt_len = len;
    return;
  }
  // The first segment's data keeps its end; its start moves.
  const int32_t shift = int32_t{m->data_off} - int32_t{off};
  m->data_off = off;
  m->data_len = static_cast<uint16_t>(int32_t{m->data_len} + shift);
  m->pkt_len = static_cast<uint32_t>(static_cast<int64_t>(m->pkt_len) + shift);
  // Nothing past the end (a jumbo frame has no padding): no walk over the
  // segments, whose mbuf headers are cold.
  if (len != m->pkt_len) trim_chain(m, len);
}

// Copies a chained packet into its first segment (which must have the room:
// true of anything the pipeline trimmed to an ICMP error's size, or of an
// ND message). False, and nothing changed, when it does not fit.
inline bool make_contiguous(rte_mbuf *m) { return m->nb_segs == 1 || rte_pktmbuf_linearize(m) == 0; }

// A copy of chained `m` in one mbuf, from `m`'s pool or, if the packet does
// not fit that pool's mbufs, from `large` (may be null); its offload requests
// kept. nullptr when no mbuf is free or none is large enough.
rte_mbuf *linearized(const rte_mbuf *m, rte_mempool *large);

// emit() for a chained packet to a port whose driver sends only one segment
// (no RTE_ETH_TX_OFFLOAD_MULTI_SEGS): a copy in one mbuf goes out
// (tx_linearized), or the packet is dropped on drop_tx_multisegment.
void emit_linearized(WorkerContext &ctx, uint16_t port, rte_mbuf *m);

}  // namespace nvmove::dp
