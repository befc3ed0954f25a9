// Forwarding settings the workers read. Built by the control plane from the
// configuration before workers start; constant while they run.
#pragma once

#include <cstdint>

#include "common/net_types.h"

namespace nvmove::dp {

inline constexpr uint16_t kMaxPorts = 16;

enum class PortRole : uint8_t { Unused = 0, Fabric, Access };

struct PortSettings {
  PortRole role = PortRole::Unused;
  uint32_t vn = 0;     // virtual network of traffic received here
  uint16_t vlan = 0;   // access port: 802.1Q VID expected and pushed, 0 = untagged
  uint8_t mac[6] = {};
  bool tx_ipv4_cksum_offload = false;  // the port computes outer IPv4 checksums
  bool proxy_arp = true;               // access port: answer ARP/NS as the VMs' gateway
  bool tx_multi_seg = true;            // sends chained mbufs; else chains go out linearized
  // Largest IP packet the port sends (ports[].mtu): a larger one is
  // fragmented or answered with ICMP, as for the tunnel.
  uint16_t mtu = UINT16_MAX;
  // Longest frame accepted: the port's mtu + Ethernet + VLAN headers. A NIC
  // drops longer ones itself; virtual ports (net_pcap) pass them. Stored,
  // not derived from mtu: the add cost the common path 3 instructions a
  // packet (callgrind).
  uint32_t max_frame = UINT32_MAX;
};

// One more of this NVE's underlay addresses: tunnels to it carry the packets
// of virtual network `vn` (nve.ipv4/ipv6 carry fabric_vn's).
inline constexpr uint16_t kMaxVnEndpoints = 64;
struct VnEndpoint {
  uint32_t vn = 0;
  uint8_t family = 0;  // 4 or 6
  uint8_t addr[16] = {};
};

// Outer source prefixes tunnels are accepted from (tunnel.peers).
inline constexpr uint16_t kMaxTunnelPeers = 64;

struct DataplaneSettings {
  PortSettings ports[kMaxPorts];
  uint16_t fabric_port = 0;
  uint32_t fabric_vn = 0;  // virtual network of native and decapsulated fabric traffic

  bool has_v4 = false;
  uint8_t own_v4[4] = {};
  bool has_v6 = false;
  uint8_t own_v6[16] = {};

  uint16_t tunnel_mtu = 1500;  // largest outer IP packet on the fabric
  int16_t dscp_set = -1;       // -1: copy the inner DSCP; 0..63: set this DSCP
  bool default_forward = true; // no host route: to the fabric gateway (true) or drop
  bool verify_ipv4_checksum = true;

  // ICMP errors: token bucket per worker.
  uint32_t icmp_rate_per_sec = 1000;
  uint32_t icmp_burst = 100;
  uint8_t icmp_ttl = 64;

  // Read only off the common path (decapsulation, ARP/ND, own endpoints):
  // last, so the hot fields above stay together.
  VnEndpoint vn_endpoints[kMaxVnEndpoints];
  uint16_t n_vn_endpoints = 0;
  IpPrefix tunnel_peers[kMaxTunnelPeers];
  uint16_t n_tunnel_peers = 0;
};

}  // namespace nvmove::dp
