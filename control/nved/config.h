// nved's configuration file: types and loader. The loader checks every key and
// value; a mistake is reported as "<file>:<line>: <key path>: <what is wrong>"
// and nved does not start. docs/configuration.md documents every key.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/route_change.h"
#include "control/base/metrics_http.h"
#include "control/protocol/wire_format.h"

namespace nvmove {

// What the dataplane's settings have room for (dataplane/settings.h).
inline constexpr size_t kMaxVnEndpointAddresses = 64;
inline constexpr size_t kMaxTunnelPeerPrefixes = 64;

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PortConfig {
  std::string name;
  enum class Role { Fabric, Access } role = Role::Access;
  uint16_t port_id = 0;
  uint32_t vn = 0;
  uint16_t vlan = 0;
  bool proxy_arp = true;
  // Largest IP packet the port sends and receives (jumbo frames: up to 9216;
  // the frame adds 14 bytes of Ethernet header, 18 on a VLAN access port).
  uint16_t mtu = 1500;
  // ports[].flow (docs/configuration.md, docs/sriov.md): rte_flow steering
  // of control traffic to a queue the control thread serves. auto: when the
  // PMD has rte_flow and takes every rule, else the software path; required:
  // nved does not start without it; off: never tried.
  enum class ControlQueue : uint8_t { Off, Auto, Required };
  ControlQueue control_queue = ControlQueue::Auto;
  bool isolate = false;  // flow bifurcation: only what nved's rules match reaches it
  // XDP mode (nvxdp, docs/xdp.md): the kernel interface the program attaches
  // to; empty: `name`. nved (DPDK) does not use it.
  std::string interface;
};
const char *control_queue_name(PortConfig::ControlQueue mode);

inline constexpr uint16_t kMaxPortMtu = 9216;

struct LocalVmConfig {
  std::string port;  // access port name
  MacAddress mac{};
  std::vector<IpAddress> addresses;
  std::optional<uint32_t> vn;  // default: the port's
};

// This NVE's underlay addresses for one more virtual network: a tunnel to
// one of them carries that VN's packets (IP-in-IP has no VN field of its own;
// docs/protocol.md, "Tenants on the fabric").
struct VnEndpointConfig {
  uint32_t vn = 0;
  IpAddress ipv4;  // family 0 when absent
  IpAddress ipv6;
};

struct MovedVmConfig {
  uint32_t vn = 0;
  std::vector<IpAddress> addresses;
  IpAddress nve;
};

// The mobility agent (registration with nvad). Absent: static routes only.
struct AgentSettings {
  bool enabled = false;
  // The management node's addresses, in order of preference: several for
  // an nvad cluster (docs/nvad.md); requests fail over to the next one.
  std::vector<IpAddress> nvads;
  uint16_t nvad_port = proto::kDefaultUdpPort;
  IpAddress listen;            // local address of the protocol socket
  uint16_t listen_port = proto::kDefaultUdpPort;
  std::string key_file;
  // Where the agent keeps its VMs and binding update list across restarts
  // (empty: nowhere; a restarted nved then knows only what the orchestrator
  // tells it again).
  std::string state_file;
  uint32_t lifetime_s = 600;
  uint32_t idle_timeout_s = 30;
  uint32_t retransmit_initial_ms = 1000;
  uint32_t retransmit_max_ms = 32000;
  uint32_t retransmit_count = 6;
  uint32_t timestamp_window_ms = 300;
  // agent.router: the default-router role (seed 003 section 7.2). nvad's
  // notifications with the R flag install host routes of moved VMs of the
  // fabric VN, routed natively out of the fabric port to the serving NVE,
  // which must be in an on_link prefix.
  bool router = false;
  std::vector<IpPrefix> router_on_link;
  std::vector<IpPrefix> router_prefixes;  // VM addresses taken; empty: any
};

struct NvedConfig {
  std::vector<PortConfig> ports;

  IpAddress nve_ipv4;  // family 0 when absent
  IpAddress nve_ipv6;
  uint32_t fabric_vn = 0;
  std::vector<VnEndpointConfig> vn_endpoints;  // virtual_networks: other VNs' endpoints

  IpAddress gateway_ipv4;
  IpAddress gateway_ipv6;
  std::optional<MacAddress> gateway_mac_ipv4;  // static; else resolved by ARP
  std::optional<MacAddress> gateway_mac_ipv6;  // static; else resolved by ND
  uint32_t neighbour_refresh_s = 30;

  uint16_t tunnel_mtu = 1500;
  // The largest frame any port carries (MTU + Ethernet + VLAN header): what
  // one mbuf holds unless workers.rx_scatter.
  uint32_t max_frame() const {
    uint32_t m = 0;
    for (const auto &p : ports) m = std::max<uint32_t>(m, p.mtu + 14u + 4u);
    return m;
  }
  uint8_t tunnel_ttl = 64;
  int16_t tunnel_dscp = -1;  // -1 = copy
  std::vector<IpPrefix> tunnel_peers;  // outer sources tunnels are accepted from

  // The VN whose packets a tunnel to `address` carries; nullopt if it is
  // none of our endpoints.
  std::optional<uint32_t> vn_of_endpoint(const IpAddress &address) const;

  uint32_t icmp_rate_per_sec = 1000;
  uint32_t icmp_burst = 100;

  bool default_forward = true;

  uint32_t route_capacity = 1u << 20;
  uint32_t max_nves = 4096;

  uint16_t rx_desc = 1024;
  uint16_t tx_desc = 1024;
  uint32_t mbufs = 32767;
  // 2 KiB mbufs, frames above that received in a chain of segments (RX
  // scatter), instead of mbufs that hold the largest frame whole.
  bool rx_scatter = false;
  uint32_t idle_sleep_us = 0;
  uint32_t control_ring_size = 1024;

  AgentSettings agent;
  MetricsHttpConfig metrics;  // GET /metrics; address family 0: off

  std::vector<LocalVmConfig> local_vms;
  std::vector<MovedVmConfig> moved_vms;
  std::string route_file;  // bulk static routes, one per line (see static_routes)

  const PortConfig *fabric_port() const;
  const PortConfig *port_by_name(const std::string &name) const;
  // A port as operators name it: its configured name, or its port_id.
  const PortConfig *port_by_name_or_id(const std::string &text) const;
  // The same for a CLI argument among the ports EAL has (n_ports): throws
  // std::invalid_argument naming the ports (a usage error for nvectl).
  uint16_t port_argument(const std::string &text, uint16_t n_ports) const;
};

// Throws ConfigError.
NvedConfig load_config_file(const std::string &path);
std::string read_config_file(const std::string &path);  // throws ConfigError
NvedConfig load_config_text(const std::string &text, const std::string &origin = "<config>");

// One host route in words, as nvectl's `route add` and route_file lines give
// it after the virtual network: ADDRESS tunnel NVE | ADDRESS local PORT MAC
// [vlan V] (PORT: an access port's name or id). On failure `why` says what is
// wrong and `structural` whether the words do not even have that shape.
struct RouteWordsError {
  bool structural = false;
  std::string why;
};
std::optional<RouteChange> parse_route_words(uint32_t vn, std::span<const std::string> words,
                                             const NvedConfig &cfg, RouteWordsError &err);

// The routes the configuration asks for: local VMs, static moved VMs, and the
// lines of route_file:  VN ADDRESS tunnel NVE | VN ADDRESS local PORT MAC [vlan V]
// (# comments). Throws ConfigError naming the file and line.
std::vector<RouteChange> static_routes(const NvedConfig &cfg);

}  // namespace nvmove
