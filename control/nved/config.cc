#include "control/nved/config.h"

#include <yaml-cpp/yaml.h>

#include "control/base/yaml_fields.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace nvmove {

namespace {

// Every check below records its error and goes on (control/base/yaml_fields.h),
// so one run of `nved --check` lists every mistake in the file. A value that
// is wrong is left at its default, and checks that depend on it are skipped
// rather than reported as a second, confusing error.

template <typename T>
void take(std::optional<uint64_t> v, T &into) {
  if (v) into = static_cast<T>(*v);
}

}  // namespace

const char *control_queue_name(PortConfig::ControlQueue mode) {
  switch (mode) {
    case PortConfig::ControlQueue::Off: return "off";
    case PortConfig::ControlQueue::Auto: return "auto";
    case PortConfig::ControlQueue::Required: return "required";
  }
  return "?";
}

namespace {

void parse_ports(YamlSection &top, NvedConfig &cfg) {
  if (!top.require("ports", "one entry per DPDK port")) return;
  const auto items = top.sections("ports");
  if (!items) return;
  std::set<std::string> names;
  std::set<uint16_t> ids;
  int fabrics = 0;
  bool complete = true;
  for (YamlSection s : *items) {
    PortConfig p;
    bool ok = true;  // name, role and id all known: the cross-port checks can run
    for (const char *key : {"name", "role", "port_id"}) ok &= s.require(key);
    const auto name = s.text("name");
    const auto role = s.text("role");
    const auto id = s.number("port_id", 0, 15);
    if (name) p.name = *name;
    if (id) p.port_id = static_cast<uint16_t>(*id);
    if (role && *role == "fabric") {
      p.role = PortConfig::Role::Fabric;
      fabrics++;
    } else if (role && *role != "access") {
      s.errors().add(s.at("role"), s.key_path("role"), "expected 'fabric' or 'access', got '" + *role + "'");
      ok = false;
    }
    ok &= name && role && id;
    take(s.number("vn", 0, 0xffffff), p.vn);
    take(s.number("vlan", 0, 4094), p.vlan);
    take(s.number("mtu", 1280, kMaxPortMtu), p.mtu);
    if (auto proxy = s.flag("proxy_arp")) p.proxy_arp = *proxy;
    if (auto iface = s.text("interface")) p.interface = *iface;
    if (s.has("flow")) {
      YamlSection f = s.section("flow");
      if (auto mode = f.text("control_queue")) {
        if (*mode == "auto") p.control_queue = PortConfig::ControlQueue::Auto;
        else if (*mode == "off") p.control_queue = PortConfig::ControlQueue::Off;
        else if (*mode == "required") p.control_queue = PortConfig::ControlQueue::Required;
        else f.errors().add(f.at("control_queue"), f.key_path("control_queue"),
                            "expected auto, off or required, got '" + *mode + "'");
      }
      if (auto isolate = f.flag("isolate")) p.isolate = *isolate;
      // The rules match untagged frames: isolated, a VLAN port's would all
      // stay with the kernel.
      if (p.isolate && p.vlan)
        f.errors().add(f.at("isolate"), f.key_path("isolate"), "not on a VLAN access port (the rules match untagged frames)");
      f.reject_unknown_keys();
    }
    if (p.role == PortConfig::Role::Fabric && p.vlan)
      s.errors().add(s.at("vlan"), s.key_path("vlan"), "VLAN tagging is supported on access ports only");
    if (ok && !names.insert(p.name).second)
      s.errors().add(s.at("name"), s.key_path("name"), "duplicate port name '" + p.name + "'");
    if (ok && !ids.insert(p.port_id).second)
      s.errors().add(s.at("port_id"), s.key_path("port_id"), "port_id " + std::to_string(p.port_id) + " used twice");
    s.reject_unknown_keys();
    complete &= ok;
    cfg.ports.push_back(p);
  }
  if (!complete) return;
  if (fabrics != 1)
    top.errors().add(top.at("ports"), "ports", "exactly one port must have role 'fabric' (found " + std::to_string(fabrics) + ")");
  for (uint16_t id = 0; id < cfg.ports.size(); id++)
    if (!ids.count(id)) {
      top.errors().add(top.at("ports"), "ports",
                       "port ids must be 0.." + std::to_string(cfg.ports.size() - 1) +
                           " (one entry per DPDK port); " + std::to_string(id) + " is missing");
      break;
    }
}

// An address of the given family (4 or 6), or nothing.
IpAddress address_of_family(YamlSection &s, const std::string &key, uint8_t family) {
  auto a = s.address(key);
  if (!a) return {};
  if (a->family != family) {
    s.errors().add(s.at(key), s.key_path(key), "'" + a->to_string() + "' is not an IPv" + std::to_string(family) + " address");
    return {};
  }
  return *a;
}

// Whole addresses of VMs: a non-empty list of host addresses.
std::vector<IpAddress> vm_addresses(YamlSection &s) {
  if (!s.require("addresses")) return {};
  auto list = s.addresses("addresses");
  if (!list) return {};
  if (list->empty()) s.errors().add(s.at("addresses"), s.key_path("addresses"), "expected a non-empty list of addresses");
  std::vector<IpAddress> out;
  const YAML::Node list_node = s.at("addresses");
  for (size_t i = 0; i < list->size(); i++) {
    const IpAddress &a = (*list)[i];
    if (auto why = not_a_host_address(a))
      s.errors().add(list_node[i], s.key_path("addresses") + "[" + std::to_string(i) + "]",
                     "'" + a.to_string() + "' is " + *why + ", not a VM's address");
    else
      out.push_back(a);
  }
  return out;
}

// Which of this NVE's addresses the file gives, valid or not: a wrong one is
// reported once, not again by every check that needs it.
struct OwnAddressesGiven {
  bool ipv4 = false, ipv6 = false;
};

OwnAddressesGiven parse_nve(YamlSection &top, NvedConfig &cfg) {
  const bool present = top.require("nve", "this NVE's underlay addresses");
  YamlSection nve = top.section("nve");
  cfg.nve_ipv4 = address_of_family(nve, "ipv4", 4);
  cfg.nve_ipv6 = address_of_family(nve, "ipv6", 6);
  take(nve.number("fabric_vn", 0, 0xffffff), cfg.fabric_vn);
  if (present && !nve.has("ipv4") && !nve.has("ipv6"))
    nve.errors().add(nve.node(), "nve", "set at least one of ipv4 and ipv6");
  nve.reject_unknown_keys();
  return {nve.has("ipv4"), nve.has("ipv6")};
}

void parse_gateway(YamlSection &top, NvedConfig &cfg) {
  YamlSection gw = top.section("fabric_gateway");
  cfg.gateway_ipv4 = address_of_family(gw, "ipv4", 4);
  cfg.gateway_ipv6 = address_of_family(gw, "ipv6", 6);
  cfg.gateway_mac_ipv4 = gw.mac("mac");
  cfg.gateway_mac_ipv6 = cfg.gateway_mac_ipv4;
  if (gw.has("mac_ipv6")) cfg.gateway_mac_ipv6 = gw.mac("mac_ipv6");
  take(gw.number("refresh_s", 1, 3600), cfg.neighbour_refresh_s);
  if (cfg.nve_ipv4.family && !gw.has("ipv4") && !gw.has("mac"))
    gw.errors().add(gw.node(), "fabric_gateway", "nve.ipv4 is set: give fabric_gateway.ipv4 (resolved by ARP) or a static mac");
  if (cfg.nve_ipv6.family && !gw.has("ipv6") && !gw.has("mac") && !gw.has("mac_ipv6"))
    gw.errors().add(gw.node(), "fabric_gateway", "nve.ipv6 is set: give fabric_gateway.ipv6 (resolved by ND) or a static mac");
  gw.reject_unknown_keys();
}

void parse_virtual_networks(YamlSection &top, NvedConfig &cfg) {
  const auto items = top.sections("virtual_networks");
  if (!items) return;
  std::set<uint32_t> vns{cfg.fabric_vn};
  std::set<IpAddress> own;
  for (const IpAddress &a : {cfg.nve_ipv4, cfg.nve_ipv6})
    if (a.family) own.insert(a);
  for (YamlSection s : *items) {
    VnEndpointConfig e;
    const bool has_vn = s.require("vn");
    const auto vn = s.number("vn", 0, 0xffffff);
    if (vn) {
      e.vn = static_cast<uint32_t>(*vn);
      if (!vns.insert(e.vn).second)
        s.errors().add(s.at("vn"), s.key_path("vn"),
                       e.vn == cfg.fabric_vn ? "is nve.fabric_vn, whose endpoints are nve.ipv4 / nve.ipv6"
                                             : "VN " + std::to_string(e.vn) + " is listed twice");
    }
    e.ipv4 = address_of_family(s, "ipv4", 4);
    e.ipv6 = address_of_family(s, "ipv6", 6);
    if (has_vn && !s.has("ipv4") && !s.has("ipv6"))
      s.errors().add(s.node(), s.key_path("vn"), "give this VN's endpoint address: ipv4, ipv6 or both");
    for (const char *k : {"ipv4", "ipv6"}) {
      const IpAddress &a = std::string(k) == "ipv4" ? e.ipv4 : e.ipv6;
      if (a.family && !own.insert(a).second)
        s.errors().add(s.at(k), s.key_path(k), "'" + a.to_string() + "' is already an endpoint of this NVE (one address per VN)");
    }
    s.reject_unknown_keys();
    if (vn) cfg.vn_endpoints.push_back(e);
  }
  if (own.size() - (cfg.nve_ipv4.family ? 1 : 0) - (cfg.nve_ipv6.family ? 1 : 0) > kMaxVnEndpointAddresses)
    top.errors().add(top.at("virtual_networks"), "virtual_networks",
                     "at most " + std::to_string(kMaxVnEndpointAddresses) + " endpoint addresses");
}

void parse_tunnel(YamlSection &top, NvedConfig &cfg) {
  YamlSection tun = top.section("tunnel");
  // At least 1300: an IPv6 VM packet of 1280 bytes (the IPv6 minimum MTU)
  // must fit even in IPv4 (RFC 8200 5: Packet Too Big cannot say less).
  const auto mtu = tun.number("mtu", 1300, 9600);
  take(mtu, cfg.tunnel_mtu);
  take(tun.number("ttl", 1, 255), cfg.tunnel_ttl);
  if (tun.has("dscp")) {
    const YAML::Node dscp = tun.at("dscp");
    const std::string text = dscp.IsScalar() ? dscp.Scalar() : "";
    const auto value = parse_decimal(text, 63);
    if (text == "copy") cfg.tunnel_dscp = -1;
    else if (value) cfg.tunnel_dscp = static_cast<int16_t>(*value);
    else tun.errors().add(dscp, "tunnel.dscp", "'" + text + "' is neither 'copy' nor a DSCP value 0..63");
  }
  if (mtu && cfg.nve_ipv6.family && cfg.tunnel_mtu < 1280 + 40)
    tun.errors().add(tun.at("mtu"), "tunnel.mtu", "must be at least 1320 when there is an IPv6 underlay (1280 inner + 40 outer)");
  if (auto peers = tun.prefixes("peers")) {
    cfg.tunnel_peers = std::move(*peers);
    if (cfg.tunnel_peers.size() > kMaxTunnelPeerPrefixes)
      tun.errors().add(tun.at("peers"), "tunnel.peers", "at most " + std::to_string(kMaxTunnelPeerPrefixes) + " prefixes");
  }
  tun.reject_unknown_keys();
}

// agent.router: host routes only in the fabric VN, the one whose packets
// travel natively on the fabric (a tenant VN's exist there only inside
// tunnels; an access port's VN, sent untagged onto the fabric, would reach
// the serving NVE in its fabric VN: another tenant). Only to serving NVEs on
// a link of the fabric port: a gateway would route the VM's address straight
// back toward its old subnet.
void parse_router(YamlSection r, NvedConfig &cfg) {
  AgentSettings &a = cfg.agent;
  a.router = true;
  r.require("on_link", "the fabric prefixes whose NVEs this router reaches directly");
  if (auto on_link = r.prefixes("on_link")) {
    a.router_on_link = std::move(*on_link);
    if (a.router_on_link.empty())
      r.errors().add(r.at("on_link"), "agent.router.on_link", "expected at least one prefix");
  }
  if (auto prefixes = r.prefixes("prefixes")) a.router_prefixes = std::move(*prefixes);
  r.reject_unknown_keys();
}

void parse_agent(YamlSection &top, NvedConfig &cfg) {
  if (!top.has("agent")) return;
  YamlSection ag = top.section("agent");
  AgentSettings &a = cfg.agent;
  a.enabled = true;
  ag.require("nvad");
  ag.require("listen");
  ag.require("key_file");
  // One address, or the list of a cluster's instances.
  if (ag.at("nvad").IsSequence()) {
    if (auto v = ag.addresses("nvad")) {
      if (v->empty()) ag.errors().add(ag.at("nvad"), "agent.nvad", "empty list: name at least one nvad");
      if (v->size() > 16) ag.errors().add(ag.at("nvad"), "agent.nvad", "more than 16 nvads");
      for (size_t i = 0; i < v->size(); i++)
        if (std::find(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i), (*v)[i]) != v->begin() + static_cast<std::ptrdiff_t>(i))
          ag.errors().add(ag.at("nvad"), "agent.nvad", (*v)[i].to_string() + " listed twice");
      a.nvads = std::move(*v);
    }
  } else if (auto v = ag.address("nvad")) {
    a.nvads = {*v};
  }
  take(ag.number("nvad_port", 1, 65535), a.nvad_port);
  if (auto v = ag.address("listen")) a.listen = *v;
  for (const auto &nvad : a.nvads)
    if (a.listen.family && nvad.family != a.listen.family) {
      ag.errors().add(ag.at("listen"), "agent.listen", "must be of the same family as agent.nvad (" + nvad.to_string() + ")");
      break;
    }
  take(ag.number("listen_port", 0, 65535), a.listen_port);
  if (auto v = ag.text("key_file")) a.key_file = *v;
  if (auto v = ag.text("state_file")) a.state_file = *v;
  take(ag.number("lifetime_s", 4, 65535 * 4), a.lifetime_s);
  take(ag.number("idle_timeout_s", 1, 86400), a.idle_timeout_s);
  take(ag.number("retransmit_initial_ms", 10, 60000), a.retransmit_initial_ms);
  take(ag.number("retransmit_max_ms", 10, 600000), a.retransmit_max_ms);
  take(ag.number("retransmit_count", 0, 100), a.retransmit_count);
  take(ag.number("timestamp_window_ms", 1, 600000), a.timestamp_window_ms);
  if (ag.has("router")) parse_router(ag.section("router"), cfg);
  ag.reject_unknown_keys();
}

void parse_vms(YamlSection &top, NvedConfig &cfg, OwnAddressesGiven given) {
  // A local VM's address is one route; the same (VN, address) twice, or an
  // address that is one of our tunnel endpoints, would be silently replaced.
  std::set<std::pair<uint32_t, IpAddress>> seen;
  auto claim = [&](YamlSection &s, uint32_t vn, const IpAddress &a) {
    if (vn == cfg.fabric_vn && cfg.vn_of_endpoint(a))
      s.errors().add(s.at("addresses"), s.key_path("addresses"),
                     "'" + a.to_string() + "' is one of this NVE's tunnel endpoints (nve or virtual_networks), not a VM's address");
    else if (!seen.insert({vn, a}).second)
      s.errors().add(s.at("addresses"), s.key_path("addresses"),
                     "'" + a.to_string() + "' in VN " + std::to_string(vn) + " is already given to another VM");
  };
  if (auto locals = top.sections("local_vms")) {
    for (YamlSection s : *locals) {
      LocalVmConfig vm;
      s.require("port");
      s.require("mac");
      const PortConfig *p = nullptr;
      if (auto name = s.text("port")) {
        vm.port = *name;
        p = cfg.port_by_name(vm.port);
        if (!p) s.errors().add(s.at("port"), s.key_path("port"), "no port named '" + vm.port + "'");
        else if (p->role != PortConfig::Role::Access)
        {
          s.errors().add(s.at("port"), s.key_path("port"), "'" + vm.port + "' is not an access port");
          p = nullptr;
        }
      }
      if (auto mac = s.mac("mac")) vm.mac = *mac;
      vm.addresses = vm_addresses(s);
      if (auto vn = s.number("vn", 0, 0xffffff)) vm.vn = static_cast<uint32_t>(*vn);
      s.reject_unknown_keys();
      if (!p) continue;
      for (const auto &a : vm.addresses) claim(s, vm.vn.value_or(p->vn), a);
      cfg.local_vms.push_back(vm);
    }
  }
  if (auto moved = top.sections("moved_vms")) {
    for (YamlSection s : *moved) {
      MovedVmConfig vm;
      vm.vn = cfg.fabric_vn;
      take(s.number("vn", 0, 0xffffff), vm.vn);
      vm.addresses = vm_addresses(s);
      s.require("nve");
      bool ok = false;
      if (auto nve = s.address("nve")) {
        vm.nve = *nve;
        const auto bad = [&](const std::string &why) { s.errors().add(s.at("nve"), s.key_path("nve"), why); };
        if (auto why = not_a_host_address(vm.nve)) bad("'" + vm.nve.to_string() + "' is " + *why + ", not an NVE's address");
        else if (vm.nve.is_v4() && !given.ipv4) bad("IPv4 NVE but nve.ipv4 (our outer source address) is not set");
        else if (vm.nve.is_v6() && !given.ipv6) bad("IPv6 NVE but nve.ipv6 (our outer source address) is not set");
        else if (cfg.vn_of_endpoint(vm.nve)) bad("is this NVE's own address");
        else ok = true;
      }
      s.reject_unknown_keys();
      if (!ok) continue;
      for (const auto &a : vm.addresses) claim(s, vm.vn, a);
      cfg.moved_vms.push_back(vm);
    }
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

const PortConfig *NvedConfig::port_by_name_or_id(const std::string &text) const {
  if (const PortConfig *p = port_by_name(text)) return p;
  const auto id = parse_decimal(text, 0xffff);
  for (const auto &p : ports)
    if (id && p.port_id == *id) return &p;
  return nullptr;
}

uint16_t NvedConfig::port_argument(const std::string &text, uint16_t n_ports) const {
  if (const PortConfig *p = port_by_name_or_id(text); p && p->port_id < n_ports) return p->port_id;
  std::string names;
  for (const auto &p : ports) names += (names.empty() ? "" : ", ") + p.name;
  throw std::invalid_argument("port: expected a port id 0.." + std::to_string(n_ports ? n_ports - 1 : 0) +
                              " or a name (" + names + "), got '" + text + "'");
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
  YamlErrors errors(origin);
  report_duplicate_keys(root, errors);
  report_extra_documents(text, errors);
  NvedConfig cfg;
  YamlSection top(root, "", errors);
  parse_ports(top, cfg);
  const OwnAddressesGiven given = parse_nve(top, cfg);
  parse_gateway(top, cfg);
  parse_virtual_networks(top, cfg);
  parse_tunnel(top, cfg);

  YamlSection icmp = top.section("icmp");
  take(icmp.number("rate_per_sec", 0, 10000000), cfg.icmp_rate_per_sec);
  take(icmp.number("burst", 1, 1000000), cfg.icmp_burst);
  icmp.reject_unknown_keys();

  if (auto def = top.text("default_action")) {
    if (*def == "forward") cfg.default_forward = true;
    else if (*def == "drop") cfg.default_forward = false;
    else errors.add(top.at("default_action"), "default_action", "expected 'forward' or 'drop', got '" + *def + "'");
  }

  YamlSection rt = top.section("route_table");
  take(rt.number("capacity", 64, 1u << 26), cfg.route_capacity);
  take(rt.number("max_nves", 1, 1u << 20), cfg.max_nves);
  rt.reject_unknown_keys();

  YamlSection w = top.section("workers");
  take(w.number("rx_desc", 64, 16384), cfg.rx_desc);
  take(w.number("tx_desc", 64, 16384), cfg.tx_desc);
  take(w.number("mbufs", 1023, 1u << 24), cfg.mbufs);
  take(w.number("idle_sleep_us", 0, 100000), cfg.idle_sleep_us);
  if (auto scatter = w.flag("rx_scatter")) cfg.rx_scatter = *scatter;
  if (auto ring = w.number("control_ring", 64, 1u << 20)) {
    cfg.control_ring_size = static_cast<uint32_t>(*ring);
    if (cfg.control_ring_size & (cfg.control_ring_size - 1))
      errors.add(w.at("control_ring"), "workers.control_ring", "must be a power of two");
  }
  w.reject_unknown_keys();

  // The tunnel's outer packets leave through the fabric port.
  for (const auto &p : cfg.ports)
    if (p.role == PortConfig::Role::Fabric && cfg.tunnel_mtu > p.mtu)
      errors.add(top.section("tunnel").at("mtu"), "tunnel.mtu",
                 std::to_string(cfg.tunnel_mtu) + " is above the fabric port's mtu " + std::to_string(p.mtu) +
                     ": outer packets must fit it (set the fabric port's mtu in ports[], up to " +
                     std::to_string(kMaxPortMtu) + ")");

  parse_agent(top, cfg);
  YamlSection metrics = top.section("metrics");
  cfg.metrics = read_metrics_config(metrics);
  parse_vms(top, cfg, given);
  if (auto file = top.text("route_file")) cfg.route_file = *file;
  top.reject_unknown_keys();
  if (!errors.all().empty()) {
    std::string all;
    for (const auto &e : errors.all()) all += (all.empty() ? "" : "\n") + e;
    throw ConfigError(all);
  }
  return cfg;
}

std::string read_config_file(const std::string &path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path + ": is a directory, not a configuration file");
  std::ifstream f(path);
  if (!f) throw ConfigError(path + ": cannot open configuration file: " + std::strerror(errno));
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw ConfigError(path + ": cannot read configuration file: " + std::strerror(errno));
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
  const PortConfig *p = cfg.port_by_name_or_id(w[2]);
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
  // A regular file only: a FIFO or a device (/dev/zero) would block nved's
  // start or feed it without end.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(cfg.route_file, ec))
    throw ConfigError(cfg.route_file + ": route_file is not a regular file" + (ec ? ": " + ec.message() : ""));
  std::ifstream f(cfg.route_file);
  if (!f) throw ConfigError(cfg.route_file + ": cannot open route_file: " + std::strerror(errno));
  // Lines are read into a fixed buffer: a route is a few dozen bytes, and a
  // file that is not a route file (a binary, /proc/kcore) must be refused at
  // its first long line, not read whole into memory looking for a newline.
  constexpr std::streamsize kMaxLine = 1024;
  char buffer[kMaxLine];
  for (size_t lineno = 1;; lineno++) {
    f.getline(buffer, kMaxLine);
    if (f.fail() && !f.eof() && f.gcount() == kMaxLine - 1)
      throw ConfigError(cfg.route_file + ":" + std::to_string(lineno) + ": line longer than " +
                        std::to_string(kMaxLine - 1) + " bytes: not a route file");
    if (f.gcount() == 0 && (f.eof() || f.fail())) break;
    if (f.bad()) throw ConfigError(cfg.route_file + ": cannot read route_file: " + std::strerror(errno));
    std::string line(buffer);
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
