#include "control/nved/running_config.h"

#include <yaml-cpp/yaml.h>

#include "control/nved/config.h"

namespace nvmove {

namespace {

std::string text(const IpAddress &a) { return a.to_string(); }

void addresses(YAML::Emitter &e, const std::vector<IpAddress> &list) {
  e << YAML::Flow << YAML::BeginSeq;
  for (const auto &a : list) e << text(a);
  e << YAML::EndSeq;
}

}  // namespace

std::string running_config_yaml(const NvedConfig &c) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
  for (const auto &p : c.ports) {
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name << YAML::Key << "role"
      << YAML::Value << (p.role == PortConfig::Role::Fabric ? "fabric" : "access") << YAML::Key << "port_id"
      << YAML::Value << p.port_id << YAML::Key << "vn" << YAML::Value << p.vn << YAML::Key << "vlan" << YAML::Value
      << p.vlan << YAML::Key << "proxy_arp" << YAML::Value << p.proxy_arp << YAML::Key << "mtu" << YAML::Value
      << p.mtu << YAML::Key << "flow" << YAML::Value << YAML::BeginMap << YAML::Key << "control_queue" << YAML::Value
      << control_queue_name(p.control_queue) << YAML::Key << "isolate" << YAML::Value << p.isolate << YAML::EndMap;
    if (!p.interface.empty()) e << YAML::Key << "interface" << YAML::Value << p.interface;
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "nve" << YAML::Value << YAML::BeginMap;
  if (c.nve_ipv4.family) e << YAML::Key << "ipv4" << YAML::Value << text(c.nve_ipv4);
  if (c.nve_ipv6.family) e << YAML::Key << "ipv6" << YAML::Value << text(c.nve_ipv6);
  e << YAML::Key << "fabric_vn" << YAML::Value << c.fabric_vn << YAML::EndMap;
  if (!c.vn_endpoints.empty()) {
    e << YAML::Key << "virtual_networks" << YAML::Value << YAML::BeginSeq;
    for (const auto &v : c.vn_endpoints) {
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "vn" << YAML::Value << v.vn;
      if (v.ipv4.family) e << YAML::Key << "ipv4" << YAML::Value << text(v.ipv4);
      if (v.ipv6.family) e << YAML::Key << "ipv6" << YAML::Value << text(v.ipv6);
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  e << YAML::Key << "fabric_gateway" << YAML::Value << YAML::BeginMap;
  if (c.gateway_ipv4.family) e << YAML::Key << "ipv4" << YAML::Value << text(c.gateway_ipv4);
  if (c.gateway_ipv6.family) e << YAML::Key << "ipv6" << YAML::Value << text(c.gateway_ipv6);
  if (c.gateway_mac_ipv4) e << YAML::Key << "mac" << YAML::Value << mac_to_string(*c.gateway_mac_ipv4);
  if (c.gateway_mac_ipv6 && c.gateway_mac_ipv6 != c.gateway_mac_ipv4)
    e << YAML::Key << "mac_ipv6" << YAML::Value << mac_to_string(*c.gateway_mac_ipv6);
  e << YAML::Key << "refresh_s" << YAML::Value << c.neighbour_refresh_s << YAML::EndMap;
  e << YAML::Key << "tunnel" << YAML::Value << YAML::BeginMap << YAML::Key << "mtu" << YAML::Value << c.tunnel_mtu
    << YAML::Key << "ttl" << YAML::Value << unsigned{c.tunnel_ttl} << YAML::Key << "dscp" << YAML::Value;
  if (c.tunnel_dscp < 0) e << "copy";
  else e << c.tunnel_dscp;
  e << YAML::Key << "peers" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto &p : c.tunnel_peers) e << p.to_string();
  e << YAML::EndSeq << YAML::EndMap;
  e << YAML::Key << "icmp" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "rate_per_sec"
    << YAML::Value << c.icmp_rate_per_sec << YAML::Key << "burst" << YAML::Value << c.icmp_burst << YAML::EndMap;
  e << YAML::Key << "default_action" << YAML::Value << (c.default_forward ? "forward" : "drop");
  e << YAML::Key << "route_table" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "capacity"
    << YAML::Value << c.route_capacity << YAML::Key << "max_nves" << YAML::Value << c.max_nves << YAML::EndMap;
  e << YAML::Key << "workers" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "rx_desc" << YAML::Value
    << c.rx_desc << YAML::Key << "tx_desc" << YAML::Value << c.tx_desc << YAML::Key << "mbufs" << YAML::Value
    << c.mbufs << YAML::Key << "rx_scatter" << YAML::Value << c.rx_scatter << YAML::Key << "idle_sleep_us" << YAML::Value << c.idle_sleep_us << YAML::Key << "control_ring"
    << YAML::Value << c.control_ring_size << YAML::EndMap;
  if (c.agent.enabled) {
    const AgentSettings &a = c.agent;
    e << YAML::Key << "agent" << YAML::Value << YAML::BeginMap << YAML::Key << "nvad" << YAML::Value;
    if (a.nvads.size() == 1) e << text(a.nvads[0]);
    else {
      e << YAML::Flow << YAML::BeginSeq;
      for (const auto &nvad : a.nvads) e << text(nvad);
      e << YAML::EndSeq;
    }
    e
      << YAML::Key << "nvad_port" << YAML::Value << a.nvad_port << YAML::Key << "listen" << YAML::Value
      << text(a.listen) << YAML::Key << "listen_port" << YAML::Value << a.listen_port << YAML::Key << "key_file"
      << YAML::Value << a.key_file;
    if (!a.state_file.empty()) e << YAML::Key << "state_file" << YAML::Value << a.state_file;
    e << YAML::Key << "lifetime_s" << YAML::Value << a.lifetime_s << YAML::Key << "idle_timeout_s" << YAML::Value
      << a.idle_timeout_s << YAML::Key << "retransmit_initial_ms" << YAML::Value << a.retransmit_initial_ms
      << YAML::Key << "retransmit_max_ms" << YAML::Value << a.retransmit_max_ms << YAML::Key << "retransmit_count"
      << YAML::Value << a.retransmit_count << YAML::Key << "timestamp_window_ms" << YAML::Value
      << a.timestamp_window_ms << YAML::EndMap;
  }
  if (c.metrics.address.family)
    e << YAML::Key << "metrics" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "address"
      << YAML::Value << text(c.metrics.address) << YAML::Key << "port" << YAML::Value << c.metrics.port
      << YAML::EndMap;
  if (!c.local_vms.empty()) {
    e << YAML::Key << "local_vms" << YAML::Value << YAML::BeginSeq;
    for (const auto &v : c.local_vms) {
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "port" << YAML::Value << v.port << YAML::Key << "mac"
        << YAML::Value << mac_to_string(v.mac) << YAML::Key << "addresses" << YAML::Value;
      addresses(e, v.addresses);
      if (v.vn) e << YAML::Key << "vn" << YAML::Value << *v.vn;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  if (!c.moved_vms.empty()) {
    e << YAML::Key << "moved_vms" << YAML::Value << YAML::BeginSeq;
    for (const auto &v : c.moved_vms) {
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "vn" << YAML::Value << v.vn << YAML::Key << "addresses"
        << YAML::Value;
      addresses(e, v.addresses);
      e << YAML::Key << "nve" << YAML::Value << text(v.nve) << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  if (!c.route_file.empty()) e << YAML::Key << "route_file" << YAML::Value << c.route_file;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::vector<std::string> route_change_lines(const std::vector<RouteChange> &changes) {
  std::vector<std::string> out;
  for (const auto &c : changes) {
    const std::string key = std::to_string(c.route.vn) + " " + c.route.address.to_string();
    if (c.op == RouteChange::Op::Remove) {
      out.push_back("# del " + key);
    } else if (const auto *t = std::get_if<TunnelToNve>(&c.action)) {
      out.push_back(key + " tunnel " + t->nve.to_string());
    } else if (const auto *l = std::get_if<DeliverLocal>(&c.action)) {
      out.push_back(key + " local " + std::to_string(l->port) + " " + mac_to_string(l->vm_mac) +
                    (l->vlan ? " vlan " + std::to_string(l->vlan) : ""));
    }
  }
  return out;
}

}  // namespace nvmove
