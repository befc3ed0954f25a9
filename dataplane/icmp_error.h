// ICMP / ICMPv6 error replies built in place from the offending packet (no
// allocation): the quote stays where it is and the new headers are written in
// front of it. Rate-limited per worker by a token bucket.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/packet_meta.h"
#include "dataplane/worker_context.h"

namespace nvmove::dp {

// Turns `m` into an ICMP error about it and emits it back toward the previous
// hop, or frees it. Counts `sent` when it goes out, or the reason it does not
// (rate limit, no own address). The caller has already counted why the
// original packet was not forwarded.
//   v4: type/code, `mtu` = next-hop MTU for Fragmentation Needed (else 0)
//   v6: type/code, `mtu` = MTU for Packet Too Big (else 0)
void send_icmp_error(WorkerContext &ctx, rte_mbuf *m, const PacketMeta &pm, uint8_t type,
                     uint8_t code, uint32_t mtu, Counter sent);

// Whether an ICMP error may be sent about this packet at all (RFC 1812 4.3.2.7,
// RFC 4443 2.4(e)): never about an ICMP error, a non-first fragment, or a
// multicast/broadcast destination.
bool icmp_error_allowed(const PacketMeta &pm);

}  // namespace nvmove::dp
