#include "control/nved/config.h"

#include <yaml-cpp/yaml.h>

#include "control/base/yaml_fields.h"

#include <fstream>
#include <set>
#include <sstream>

namespace nvmove {

namespace {

// Reads one mapping, remembering which keys were used so unknown keys (typos)
// are reported instead of ignored.
class Section {
 public:
  Section(const YAML::Node &node, std::string path, const std::string &origin)
      : node_(node), path_(std::move(path)), origin_(origin) {
    if (node_ && !node_.IsMap()) fail(path_, node_, "expected a mapping");
  }

  [[noreturn]] void fail(const std::string &key, const YAML::Node &at, const std::string &what) const {
    std::ostringstream o;
    o << origin_;
    if (at && at.Mark().line >= 0) o << ":" << at.Mark().line + 1;
    o << ": " << key << ": " << what;
    throw ConfigError(o.str());
  }

  std::string key(const std::string &k) const { return path_.empty() ? k : path_ + "." + k; }
  YAML::Node get(const std::string &k) {
    used_.insert(k);
    // Const access: a missing key must not be created by looking at it.
    const YAML::Node &n = node_;
    return n ? n[k] : YAML::Node(YAML::NodeType::Undefined);
  }
  bool has(const std::string &k) {
    used_.insert(k);
    const YAML::Node &n = node_;
    return n && n[k];
  }

  std::string str(const std::string &k, const std::string &dflt, bool required = false) {
    YAML::Node n = get(k);
    if (!n) {
      if (required) fail(key(k), node_, "missing (required)");
      return dflt;
    }
    if (!n.IsScalar()) fail(key(k), n, "expected a single value");
    return n.Scalar();
  }

  uint64_t num(const std::string &k, uint64_t dflt, uint64_t lo, uint64_t hi, bool required = false) {
    YAML::Node n = get(k);
    if (!n) {
      if (required) fail(key(k), node_, "missing (required)");
      return dflt;
    }
    if (!n.IsScalar()) fail(key(k), n, "expected a number");
    const std::string &s = n.Scalar();
    uint64_t v = 0;
    size_t pos = 0;
    try {
      if (s.empty() || s[0] == '-') throw std::invalid_argument(s);
      v = std::stoull(s, &pos, 0);
    } catch (const std::exception &) {
      fail(key(k), n, "expected a whole number, got '" + s + "'");
    }
    if (pos != s.size()) fail(key(k), n, "expected a whole number, got '" + s + "'");
    if (v < lo || v > hi)
      fail(key(k), n, "value " + s + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }

  bool boolean(const std::string &k, bool dflt) {
    YAML::Node n = get(k);
    if (!n) return dflt;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    fail(key(k), n, "expected true or false, got '" + s + "'");
  }

  IpAddress ip(const std::string &k, uint8_t family, bool required = false) {
    YAML::Node n = get(k);
    if (!n) {
      if (required) fail(key(k), node_, "missing (required)");
      return {};
    }
    return parse_ip(key(k), n, family);
  }

  IpAddress parse_ip(const std::string &where, const YAML::Node &n, uint8_t family) const {
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    auto a = IpAddress::parse(s);
    if (!a) fail(where, n, "'" + s + "' is not an IPv4 or IPv6 address");
    if (family && a->family != family)
      fail(where, n, "'" + s + "' is not an IPv" + std::to_string(family) + " address");
    return *a;
  }

  std::optional<MacAddress> mac(const std::string &k, bool required = false) {
    YAML::Node n = get(k);
    if (!n) {
      if (required) fail(key(k), node_, "missing (required)");
      return std::nullopt;
    }
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    auto m = parse_mac(s);
    if (!m) fail(key(k), n, "'" + s + "' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    if ((*m)[0] & 1) fail(key(k), n, "'" + s + "' is a multicast MAC address");
    return m;
  }

  std::vector<IpAddress> ip_list(const std::string &k) {
    YAML::Node n = get(k);
    if (!n) fail(key(k), node_, "missing (required)");
    if (!n.IsSequence() || n.size() == 0) fail(key(k), n, "expected a non-empty list of addresses");
    std::vector<IpAddress> out;
    for (size_t i = 0; i < n.size(); i++) {
      const std::string where = key(k) + "[" + std::to_string(i) + "]";
      out.push_back(parse_ip(where, n[i], 0));
      if (auto why = not_a_host_address(out.back()))
        fail(where, n[i], "'" + out.back().to_string() + "' is " + *why + ", not a VM's address");
    }
    return out;
  }

  // Call last: anything not read is a key we do not know.
  void no_unknown_keys() const {
    if (!node_) return;
    for (const auto &kv : node_) {
      const std::string k = kv.first.Scalar();
      if (!used_.count(k)) fail(key(k), kv.first, "unknown key");
    }
  }

  const YAML::Node &node() const { return node_; }
  const std::string &origin() const { return origin_; }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string &origin_;
  std::set<std::string> used_;
};

std::vector<YAML::Node> sequence(Section &parent, const std::string &k, bool required) {
  YAML::Node n = parent.get(k);
  if (!n) {
    if (required) parent.fail(parent.key(k), parent.node(), "missing (required)");
    return {};
  }
  if (!n.IsSequence()) parent.fail(parent.key(k), n, "expected a list");
  return {n.begin(), n.end()};
}

void parse_ports(Section &top, NvedConfig &cfg) {
  const auto items = sequence(top, "ports", true);
  std::set<std::string> names;
  std::set<uint16_t> ids;
  int fabrics = 0;
  for (size_t i = 0; i < items.size(); i++) {
    Section s(items[i], "ports[" + std::to_string(i) + "]", top.origin());
    PortConfig p;
    p.name = s.str("name", "", true);
    const std::string role = s.str("role", "", true);
    if (role == "fabric") p.role = PortConfig::Role::Fabric, fabrics++;
    else if (role == "access") p.role = PortConfig::Role::Access;
    else s.fail(s.key("role"), s.get("role"), "expected 'fabric' or 'access', got '" + role + "'");
    p.port_id = static_cast<uint16_t>(s.num("port_id", 0, 0, 15, true));
    p.vn = static_cast<uint32_t>(s.num("vn", 0, 0, 0xffffff));
    p.vlan = static_cast<uint16_t>(s.num("vlan", 0, 0, 4094));
    p.proxy_arp = s.boolean("proxy_arp", true);
    if (p.role == PortConfig::Role::Fabric && p.vlan)
      s.fail(s.key("vlan"), s.get("vlan"), "VLAN tagging is supported on access ports only");
    if (!names.insert(p.name).second) s.fail(s.key("name"), s.get("name"), "duplicate port name '" + p.name + "'");
    if (!ids.insert(p.port_id).second)
      s.fail(s.key("port_id"), s.get("port_id"), "port_id " + std::to_string(p.port_id) + " used twice");
    s.no_unknown_keys();
    cfg.ports.push_back(p);
  }
  if (fabrics != 1) top.fail("ports", top.get("ports"), "exactly one port must have role 'fabric' (found " + std::to_string(fabrics) + ")");
  for (uint16_t id = 0; id < cfg.ports.size(); id++)
    if (!ids.count(id))
      top.fail("ports", top.get("ports"), "port ids must be 0.." + std::to_string(cfg.ports.size() - 1) +
                                             " (one entry per DPDK port); " + std::to_string(id) + " is missing");
}

void parse_virtual_networks(Section &top, NvedConfig &cfg) {
  const auto items = sequence(top, "virtual_networks", false);
  std::set<uint32_t> vns{cfg.fabric_vn};
  std::set<IpAddress> own;
  for (const IpAddress &a : {cfg.nve_ipv4, cfg.nve_ipv6})
    if (a.family) own.insert(a);
  for (size_t i = 0; i < items.size(); i++) {
    Section s(items[i], "virtual_networks[" + std::to_string(i) + "]", top.origin());
    VnEndpointConfig e;
    e.vn = static_cast<uint32_t>(s.num("vn", 0, 0, 0xffffff, true));
    if (!vns.insert(e.vn).second)
      s.fail(s.key("vn"), s.get("vn"),
             e.vn == cfg.fabric_vn ? "is nve.fabric_vn, whose endpoints are nve.ipv4 / nve.ipv6"
                                   : "VN " + std::to_string(e.vn) + " is listed twice");
    e.ipv4 = s.ip("ipv4", 4);
    e.ipv6 = s.ip("ipv6", 6);
    if (!e.ipv4.family && !e.ipv6.family)
      s.fail(s.key("vn"), s.node(), "give this VN's endpoint address: ipv4, ipv6 or both");
    for (const char *k : {"ipv4", "ipv6"}) {
      const IpAddress &a = std::string(k) == "ipv4" ? e.ipv4 : e.ipv6;
      if (a.family && !own.insert(a).second)
        s.fail(s.key(k), s.get(k), "'" + a.to_string() + "' is already an endpoint of this NVE (one address per VN)");
    }
    s.no_unknown_keys();
    cfg.vn_endpoints.push_back(e);
  }
  if (own.size() - (cfg.nve_ipv4.family ? 1 : 0) - (cfg.nve_ipv6.family ? 1 : 0) > kMaxVnEndpointAddresses)
    top.fail("virtual_networks", top.get("virtual_networks"),
             "at most " + std::to_string(kMaxVnEndpointAddresses) + " endpoint addresses");
}

void parse_vms(Section &top, NvedConfig &cfg) {
  const auto locals = sequence(top, "local_vms", false);
  for (size_t i = 0; i < locals.size(); i++) {
    Section s(locals[i], "local_vms[" + std::to_string(i) + "]", top.origin());
    LocalVmConfig vm;
    vm.port = s.str("port", "", true);
    const PortConfig *p = cfg.port_by_name(vm.port);
    if (!p) s.fail(s.key("port"), s.get("port"), "no port named '" + vm.port + "'");
    if (p->role != PortConfig::Role::Access)
      s.fail(s.key("port"), s.get("port"), "'" + vm.port + "' is not an access port");
    vm.mac = *s.mac("mac", true);
    vm.addresses = s.ip_list("addresses");
    if (s.has("vn")) vm.vn = static_cast<uint32_t>(s.num("vn", 0, 0, 0xffffff));
    s.no_unknown_keys();
    cfg.local_vms.push_back(vm);
  }
  const auto moved = sequence(top, "moved_vms", false);
  for (size_t i = 0; i < moved.size(); i++) {
    Section s(moved[i], "moved_vms[" + std::to_string(i) + "]", top.origin());
    MovedVmConfig vm;
    vm.vn = static_cast<uint32_t>(s.num("vn", cfg.fabric_vn, 0, 0xffffff));
    vm.addresses = s.ip_list("addresses");
    vm.nve = s.ip("nve", 0, true);
    if (auto why = not_a_host_address(vm.nve))
      s.fail(s.key("nve"), s.get("nve"), "'" + vm.nve.to_string() + "' is " + *why + ", not an NVE's address");
    if (vm.nve.is_v4() && !cfg.nve_ipv4.is_v4())
      s.fail(s.key("nve"), s.get("nve"), "IPv4 NVE but nve.ipv4 (our outer source address) is not set");
    if (vm.nve.is_v6() && !cfg.nve_ipv6.is_v6())
      s.fail(s.key("nve"), s.get("nve"), "IPv6 NVE but nve.ipv6 (our outer source address) is not set");
    if (cfg.vn_of_endpoint(vm.nve))
      s.fail(s.key("nve"), s.get("nve"), "is this NVE's own address");
    s.no_unknown_keys();
    cfg.moved_vms.push_back(vm);
  }
}

}  // namespace

std::optional<uint32_t> NvedConfig::vn_of_endpoint(const IpAddress &address) const {
  if (address.family && (address == nve_ipv4 || address == nve_ipv6)) return fabric_vn;
  for (const auto &e : vn_endpoints)
    if (address.family && (address == e.ipv4 || address == e.ipv6)) return e.vn;
  return std::nullopt;
}

const PortConfig *NvedConfig::fabric_port() const {
  for (const auto &p : ports)
    if (p.role == PortConfig::Role::Fabric) return &p;
  return nullptr;
}

const PortConfig *NvedConfig::port_by_name(const std::string &name) const {
  for (const auto &p : ports)
    if (p.name == name) return &p;
  return nullptr;
}

NvedConfig load_config_text(const std::string &text, const std::string &origin) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax: " + e.msg);
  }
  if (!root || root.IsNull()) throw ConfigError(origin + ": empty configuration");
  // The shared checks (control/base/yaml_fields.h), all reported at once.
  YamlErrors shared(origin);
  report_duplicate_keys(root, shared);
  if (!shared.all().empty()) {
    std::string all;
    for (const auto &e : shared.all()) all += (all.empty() ? "" : "\n") + e;
    throw ConfigError(all);
  }
  NvedConfig cfg;
  Section top(root, "", origin);
  parse_ports(top, cfg);

  Section nve(top.get("nve"), "nve", origin);
  if (!top.has("nve")) top.fail("nve", root, "missing (required): this NVE's underlay addresses");
  cfg.nve_ipv4 = nve.ip("ipv4", 4);
  cfg.nve_ipv6 = nve.ip("ipv6", 6);
  cfg.fabric_vn = static_cast<uint32_t>(nve.num("fabric_vn", 0, 0, 0xffffff));
  if (!cfg.nve_ipv4.family && !cfg.nve_ipv6.family)
    nve.fail("nve", nve.node(), "set at least one of ipv4 and ipv6");
  nve.no_unknown_keys();

  Section gw(top.get("fabric_gateway"), "fabric_gateway", origin);
  cfg.gateway_ipv4 = gw.ip("ipv4", 4);
  cfg.gateway_ipv6 = gw.ip("ipv6", 6);
  cfg.gateway_mac_ipv4 = gw.mac("mac");
  cfg.gateway_mac_ipv6 = cfg.gateway_mac_ipv4;
  if (gw.has("mac_ipv6")) cfg.gateway_mac_ipv6 = gw.mac("mac_ipv6");
  cfg.neighbour_refresh_s = static_cast<uint32_t>(gw.num("refresh_s", 30, 1, 3600));
  if (cfg.nve_ipv4.family && !cfg.gateway_ipv4.family && !cfg.gateway_mac_ipv4)
    gw.fail("fabric_gateway", gw.node(), "nve.ipv4 is set: give fabric_gateway.ipv4 (resolved by ARP) or a static mac");
  if (cfg.nve_ipv6.family && !cfg.gateway_ipv6.family && !cfg.gateway_mac_ipv6)
    gw.fail("fabric_gateway", gw.node(), "nve.ipv6 is set: give fabric_gateway.ipv6 (resolved by ND) or a static mac");
  gw.no_unknown_keys();

  parse_virtual_networks(top, cfg);

  Section tun(top.get("tunnel"), "tunnel", origin);
  // At least 1300: an IPv6 VM packet of 1280 bytes (the IPv6 minimum MTU)
  // must fit even in IPv4 (RFC 8200 5: Packet Too Big cannot say less).
  cfg.tunnel_mtu = static_cast<uint16_t>(tun.num("mtu", 1500, 1300, 9600));
  cfg.tunnel_ttl = static_cast<uint8_t>(tun.num("ttl", 64, 1, 255));
  const std::string dscp = tun.str("dscp", "copy");
  if (dscp != "copy") cfg.tunnel_dscp = static_cast<int16_t>(tun.num("dscp", 0, 0, 63));
  // An IPv6 packet of 1280 bytes (the IPv6 minimum MTU) must always fit:
  // Packet Too Big cannot announce less (RFC 8200 5).
  if (cfg.nve_ipv6.family && cfg.tunnel_mtu < 1280 + 40)
    tun.fail("tunnel.mtu", tun.get("mtu"), "must be at least 1320 when there is an IPv6 underlay (1280 inner + 40 outer)");
  if (tun.has("peers")) {
    const YAML::Node peers = tun.get("peers");
    if (!peers.IsSequence()) tun.fail("tunnel.peers", peers, "expected a list of prefixes (198.51.100.0/24, 2001:db8::/48)");
    for (size_t i = 0; i < peers.size(); i++) {
      const std::string text = peers[i].IsScalar() ? peers[i].Scalar() : "";
      auto prefix = IpPrefix::parse(text);
      if (!prefix)
        tun.fail("tunnel.peers[" + std::to_string(i) + "]", peers[i],
                 "'" + text + "' is not a prefix (address/length, no bits set past the length)");
      cfg.tunnel_peers.push_back(*prefix);
    }
    if (cfg.tunnel_peers.size() > kMaxTunnelPeerPrefixes)
      tun.fail("tunnel.peers", peers, "at most " + std::to_string(kMaxTunnelPeerPrefixes) + " prefixes");
  }
  tun.no_unknown_keys();

  Section icmp(top.get("icmp"), "icmp", origin);
  cfg.icmp_rate_per_sec = static_cast<uint32_t>(icmp.num("rate_per_sec", 1000, 0, 10000000));
  cfg.icmp_burst = static_cast<uint32_t>(icmp.num("burst", 100, 1, 1000000));
  icmp.no_unknown_keys();

  const std::string def = top.str("default_action", "forward");
  if (def == "forward") cfg.default_forward = true;
  else if (def == "drop") cfg.default_forward = false;
  else top.fail("default_action", top.get("default_action"), "expected 'forward' or 'drop', got '" + def + "'");

  Section rt(top.get("route_table"), "route_table", origin);
  cfg.route_capacity = static_cast<uint32_t>(rt.num("capacity", 1u << 20, 64, 1u << 26));
  cfg.max_nves = static_cast<uint32_t>(rt.num("max_nves", 4096, 1, 1u << 20));
  rt.no_unknown_keys();

  Section w(top.get("workers"), "workers", origin);
  cfg.rx_desc = static_cast<uint16_t>(w.num("rx_desc", 1024, 64, 16384));
  cfg.tx_desc = static_cast<uint16_t>(w.num("tx_desc", 1024, 64, 16384));
  cfg.mbufs = static_cast<uint32_t>(w.num("mbufs", 32767, 1023, 1u << 24));
  cfg.idle_sleep_us = static_cast<uint32_t>(w.num("idle_sleep_us", 0, 0, 100000));
  cfg.control_ring_size = static_cast<uint32_t>(w.num("control_ring", 1024, 64, 1u << 20));
  if (cfg.control_ring_size & (cfg.control_ring_size - 1))
    w.fail("workers.control_ring", w.get("control_ring"), "must be a power of two");
  w.no_unknown_keys();

  if (top.has("agent")) {
    Section ag(top.get("agent"), "agent", origin);
    AgentSettings &a = cfg.agent;
    a.enabled = true;
    a.nvad = ag.ip("nvad", 0, true);
    a.nvad_port = static_cast<uint16_t>(ag.num("nvad_port", proto::kDefaultUdpPort, 1, 65535));
    a.listen = ag.ip("listen", 0, true);
    if (a.listen.family != a.nvad.family)
      ag.fail("agent.listen", ag.get("listen"), "must be of the same family as agent.nvad");
    a.listen_port = static_cast<uint16_t>(ag.num("listen_port", proto::kDefaultUdpPort, 0, 65535));
    a.key_file = ag.str("key_file", "", true);
    a.state_file = ag.str("state_file", "");
    a.lifetime_s = static_cast<uint32_t>(ag.num("lifetime_s", 600, 4, 65535 * 4));
    a.idle_timeout_s = static_cast<uint32_t>(ag.num("idle_timeout_s", 30, 1, 86400));
    a.retransmit_initial_ms = static_cast<uint32_t>(ag.num("retransmit_initial_ms", 1000, 10, 60000));
    a.retransmit_max_ms = static_cast<uint32_t>(ag.num("retransmit_max_ms", 32000, 10, 600000));
    a.retransmit_count = static_cast<uint32_t>(ag.num("retransmit_count", 6, 0, 100));
    a.timestamp_window_ms = static_cast<uint32_t>(ag.num("timestamp_window_ms", 300, 1, 600000));
    ag.no_unknown_keys();
  }

  parse_vms(top, cfg);
  cfg.route_file = top.str("route_file", "");
  top.no_unknown_keys();
  return cfg;
}

std::string read_config_file(const std::string &path) {
  std::ifstream f(path);
  if (!f) throw ConfigError(path + ": cannot open configuration file");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

NvedConfig load_config_file(const std::string &path) { return load_config_text(read_config_file(path), path); }

std::optional<RouteChange> parse_route_words(uint32_t vn, std::span<const std::string> w,
                                             const NvedConfig &cfg, RouteWordsError &err) {
  auto fail = [&err](bool structural, std::string why) {
    err = {structural, std::move(why)};
    return std::nullopt;
  };
  if (w.size() < 3) return fail(true, "");
  RouteChange c;
  c.route.vn = vn;
  auto addr = IpAddress::parse(w[0]);
  if (!addr) return fail(false, "'" + w[0] + "' is not an IPv4 or IPv6 address");
  if (auto why = not_a_host_address(*addr)) return fail(false, "'" + w[0] + "' is " + *why + ", not a VM's address");
  c.route.address = *addr;
  if (w[1] == "tunnel" && w.size() == 3) {
    auto nve = IpAddress::parse(w[2]);
    if (!nve) return fail(false, "'" + w[2] + "' is not an NVE address");
    if (auto why = not_a_host_address(*nve)) return fail(false, "'" + w[2] + "' is " + *why + ", not an NVE's address");
    if (cfg.vn_of_endpoint(*nve)) return fail(false, "tunnel to this NVE's own address");
    c.action = TunnelToNve{*nve};
    return c;
  }
  if (w[1] != "local" || !(w.size() == 4 || (w.size() == 6 && w[4] == "vlan"))) return fail(true, "");
  const PortConfig *p = cfg.port_by_name(w[2]);
  if (!p)
    for (const auto &q : cfg.ports)
      if (std::to_string(q.port_id) == w[2]) p = &q;
  if (!p) return fail(false, "no port '" + w[2] + "'");
  if (p->role != PortConfig::Role::Access) return fail(false, "port '" + w[2] + "' is not an access port");
  auto mac = parse_mac(w[3]);
  if (!mac || ((*mac)[0] & 1)) return fail(false, "'" + w[3] + "' is not a unicast MAC address");
  DeliverLocal l{p->port_id, *mac, p->vlan};
  if (w.size() == 6) {
    auto v = parse_decimal(w[5], 4094);
    if (!v) return fail(false, "'" + w[5] + "' is not a VLAN id (0..4094)");
    l.vlan = static_cast<uint16_t>(*v);
  }
  c.action = l;
  return c;
}

std::vector<RouteChange> static_routes(const NvedConfig &cfg) {
  std::vector<RouteChange> out;
  for (const auto &vm : cfg.local_vms) {
    const PortConfig *p = cfg.port_by_name(vm.port);
    for (const auto &a : vm.addresses) {
      RouteChange c;
      c.route = HostRoute{vm.vn.value_or(p->vn), a};
      c.action = DeliverLocal{p->port_id, vm.mac, p->vlan};
      out.push_back(c);
    }
  }
  for (const auto &vm : cfg.moved_vms) {
    for (const auto &a : vm.addresses) {
      RouteChange c;
      c.route = HostRoute{vm.vn, a};
      c.action = TunnelToNve{vm.nve};
      out.push_back(c);
    }
  }
  // Our endpoints for other VNs, in the fabric's VN: the fast path finds a
  // packet to one of them with the lookup it does anyway (kRouteOwn).
  for (const auto &e : cfg.vn_endpoints)
    for (const IpAddress &a : {e.ipv4, e.ipv6})
      if (a.family) {
        RouteChange c;
        c.route = HostRoute{cfg.fabric_vn, a};
        c.action = OwnEndpoint{e.vn};
        out.push_back(c);
      }
  if (cfg.route_file.empty()) return out;
  std::ifstream f(cfg.route_file);
  if (!f) throw ConfigError(cfg.route_file + ": cannot open route_file");
  std::string line;
  for (size_t lineno = 1; std::getline(f, line); lineno++) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string s; in >> s;) w.push_back(s);
    if (w.empty()) continue;
    auto bad = [&](const std::string &why) {
      return ConfigError(cfg.route_file + ":" + std::to_string(lineno) + ": " + why);
    };
    const auto vn = parse_decimal(w[0], 0xffffff);
    if (!vn) throw bad("'" + w[0] + "' is not a virtual network number");
    RouteWordsError err;
    auto parsed = parse_route_words(static_cast<uint32_t>(*vn), std::span<const std::string>(w).subspan(1), cfg, err);
    if (!parsed)
      throw bad(err.structural ? "expected: VN ADDRESS tunnel NVE | VN ADDRESS local PORT MAC [vlan V]" : err.why);
    out.push_back(*parsed);
  }
  return out;
}

}  // namespace nvmove
