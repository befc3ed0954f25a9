// nvxdp's slow path (nve_xdp_abi.h, struct nve_xdp_slow): an IPv4 packet
// without DF too big for its tunnel, which the program hands over with the
// router hop applied, fragmented and tunnelled here exactly as the DPDK
// path's fragment_and_encap() does it (dataplane/actions.cc): the pieces of
// rte_ipv4_fragment_packet, each behind the NVE's outer header written by
// the DPDK path's own encap_input() and write_outer() (dataplane/encap.h).
// No sockets here: control/nvxdp/fragment_sender.h reads and sends.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/route_entry.h"

namespace nvmove::drivers {

// A frame the program passed to the kernel for the slow path.
struct SlowFrame {
  uint32_t vn = 0;     // the VN its packet was looked up in
  uint8_t reason = 0;  // NVE_XDP_SLOW_FRAGMENT
  std::span<const uint8_t> inner;  // the IPv4 packet
};
// nullopt (and `why`) unless `frame` is one carrying `cookie` (the
// settings' slow_cookie), its inner packet a whole IPv4 packet without DF
// and without options.
std::optional<SlowFrame> parse_slow_frame(std::span<const uint8_t> frame, uint64_t cookie, std::string &why);

// `inner` in pieces for a tunnel of `tunnel_mtu` (the outer packet's
// largest size) toward `t`'s NVE: whole Ethernet frames, in order; `ip_id`
// numbers the IPv4 outer headers as a DPDK worker's next_ip_id does. Empty
// where rte_ipv4_fragment_packet refuses (an inner MTU under 68, more than
// 16 pieces).
std::vector<std::vector<uint8_t>> fragment_into_tunnel(std::span<const uint8_t> inner, const dp::TunnelTemplate &t,
                                                       uint16_t tunnel_mtu, int16_t dscp_set, uint16_t &ip_id);

class XdpRoutes;

// What nvxdp sends for one of the program's frames: its packet's route
// looked up again (a route can change while a frame waits: the NVE it names
// now), the packet cut for that NVE's tunnel. `t`: the outer header (where
// the pieces leave, to whom).
struct SlowPathOutput {
  dp::TunnelTemplate t;
  std::vector<std::vector<uint8_t>> pieces;
};
// nullopt, and `why`, if `frame` is not the program's or its packet cannot
// be sent so any more.
std::optional<SlowPathOutput> slow_path_output(const XdpRoutes &routes, std::span<const uint8_t> frame,
                                               uint16_t tunnel_mtu, int16_t dscp_set, uint16_t &ip_id,
                                               std::string &why);

}  // namespace nvmove::drivers
