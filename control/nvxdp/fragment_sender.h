// nvxdp's slow path (nve_xdp_abi.h, struct nve_xdp_slow): an IPv4 packet
// without DF too big for its tunnel, which the DPDK path fragments and one
// XDP run cannot, comes from the program as a frame of the slow path's
// EtherType (which the kernel has no handler for: never routed). A packet
// socket per port, bound to that EtherType, reads it; only an untagged
// frame with the program's cookie is taken, its packet's route looked up
// again (the NVE it names now: a route can change while a frame waits),
// fragmented and tunnelled as the DPDK path does
// (drivers/xdp/xdp_fragments.h), and the fragments sent out of the NVE's
// port. The program has counted them as sent (ipv4_fragmented,
// ipv4_fragments_out, the encapsulation, tx_packets); what fails here,
// frames the kernel dropped for a full socket buffer included, is counted
// here and logged (at most once every 10 s). Up to 1,024 frames a port per
// pass of nvxdp's loop (every 2 ms).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "drivers/xdp/xdp_routes.h"

namespace nvmove {

class FragmentSender {
 public:
  // `interfaces`: port index -> ifindex (where a tunnel's fragments leave);
  // `tunnel_mtu`, `dscp_set`: tunnel.mtu and tunnel.dscp (-1: copied).
  FragmentSender(const drivers::XdpRoutes &routes, std::map<uint32_t, unsigned> interfaces, uint16_t tunnel_mtu,
                 int16_t dscp_set)
      : routes_(routes), interfaces_(std::move(interfaces)), tunnel_mtu_(tunnel_mtu), dscp_set_(dscp_set) {}
  ~FragmentSender();
  FragmentSender(const FragmentSender &) = delete;
  FragmentSender &operator=(const FragmentSender &) = delete;

  // Reads the program's slow-path frames on `interface`. Throws
  // std::runtime_error.
  void listen(unsigned ifindex, const std::string &interface);
  // Fragments and sends what has arrived; never blocks.
  void poll(uint64_t now_ms);

  uint64_t packets() const { return packets_; }      // fragmented and sent
  uint64_t fragments() const { return fragments_; }  // sent
  uint64_t failures() const { return failures_; }    // packets lost here (bad frame, no NVE, a refused send)

 private:
  void fail(uint64_t now_ms, const std::string &why);
  std::optional<std::string> handle(int fd, std::span<const uint8_t> frame);

  const drivers::XdpRoutes &routes_;
  std::map<uint32_t, unsigned> interfaces_;
  uint16_t tunnel_mtu_;
  int16_t dscp_set_;
  std::vector<int> sockets_;
  uint16_t ip_id_ = 0;  // the outer IPv4 identification, as a DPDK worker's next_ip_id
  uint64_t packets_ = 0, fragments_ = 0, failures_ = 0;
  uint64_t next_log_ms_ = 0;
  uint64_t unlogged_ = 0;
};

}  // namespace nvmove
