#include "control/nvxdp/xdp_commands.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <variant>

#include "control/base/clock.h"
#include "control/ctl/command_table.h"
#include "control/nved/commands.h"
#include "control/nved/counters_report.h"
#include "control/nved/show_tables.h"
#include "dataplane/counters.h"
#include "drivers/port_stats.h"
#include "drivers/xdp/ethtool_stats.h"

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

XdpCommands::XdpCommands(const drivers::XdpProgram &prog, drivers::XdpRoutes &routes,
                         const std::vector<XdpPort> &ports, const NvedConfig &cfg, std::string config_text,
                         const FabricNeighbours &neighbours, const XdpMetrics &metrics,
                         const FragmentSender &fragments)
    : prog_(prog),
      routes_(routes),
      ports_(ports),
      cfg_(cfg),
      config_text_(std::move(config_text)),
      neighbours_(neighbours),
      metrics_(metrics),
      fragments_(fragments),
      route_commands_(routes, cfg,
                      "passed to the kernel (XDP_PASS): its routing table decides; out of a tunnel, dropped "
                      "(drop_no_route)"),
      base_(dp::kCounterCount, 0) {}

void XdpCommands::register_all(ctl::CtlServer &s, const agent::NveAgent *agent) {
  s.on("show version", [](const Args &) {
    Reply r;
    r.text = std::string("nvxdp ") + NVMOVE_VERSION + " (XDP)\n";
    r.data = {{"nvxdp", NVMOVE_VERSION}};
    return r;
  });
  s.on("show config", [this](const Args &) {
    Reply r;
    r.text = config_text_;
    r.data = {{"text", config_text_}};
    return r;
  });
  s.on("show running-config", [this](const Args &a) {
    if (!a.empty()) return Reply::bad_usage();
    return running_config_reply(cfg_, route_commands_.changes(), "nvxdp");
  });
  s.on("show counters", [this](const Args &a) { return show_counters(a); });
  s.on("clear counters", [this](const Args &a) { return clear_counters(a); });
  s.on("show ports", [this](const Args &a) { return show_ports(a); });
  s.on("show port stats", [this](const Args &a) { return show_port_stats(a); });
  s.on("show port xstats", [this](const Args &a) { return show_port_xstats(a); });
  s.on("show route-table", [this](const Args &a) { return show_route_table(a); });
  s.on("show neighbours", [this](const Args &a) { return show_neighbours(a); });
  s.on("show metrics", [this, agent](const Args &a) {
    if (!a.empty()) return Reply::bad_usage();
    Reply r;
    r.text = metrics_.render(agent);
    r.data = {{"text", r.text}};
    return r;
  });
  s.on("set log level", [](const Args &a) { return log_level_command(a); });
  route_commands_.register_all(s);
  s.on("help", [&s](const Args &) {
    Reply r;
    r.text = ctl::help_text(s.served());
    return r;
  });
}

// As nved's (the same record), summed over CPUs: nvxdp has no workers.
Reply XdpCommands::show_counters(const Args &a) const {
  if (!a.empty()) return Reply::bad_usage("nvxdp has no workers: the counters are per CPU, summed");
  std::vector<uint64_t> values(dp::kCounterCount);
  for (size_t c = 0; c < dp::kCounterCount; c++) values[c] = prog_.counter(static_cast<uint32_t>(c)) - base_[c];
  ctl::Record rec = counter_record(values, std::nullopt);
  // nvxdp's slow path (fragment_sender.h): the program counted its packets
  // as sent; these are what nvxdp itself did with them.
  rec.add({"slow_path_fragmented", fragments_.packets() - slow_base_[0], "slow path: packets fragmented"});
  rec.add({"slow_path_fragments", fragments_.fragments() - slow_base_[1], "slow path: fragments sent"});
  rec.add({"slow_path_failures", fragments_.failures() - slow_base_[2], "slow path: packets lost (see the log)"});
  return Reply::of(std::move(rec));
}

// From here on show counters counts from zero; the program's own counters
// (and so show metrics, Prometheus counters that never go back) go on.
Reply XdpCommands::clear_counters(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  for (size_t c = 0; c < dp::kCounterCount; c++) base_[c] = prog_.counter(static_cast<uint32_t>(c));
  slow_base_ = {fragments_.packets(), fragments_.fragments(), fragments_.failures()};
  port_stats_.forget();
  spdlog::info("counters cleared");
  Reply r;
  r.text = "counters cleared\n";
  return r;
}

// nved's columns where they mean the same; the kernel interface, its
// ifindex and how the program is attached instead of queues.
Reply XdpCommands::show_ports(const Args &a) const {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"port", "PORT", 6}, {"name", "NAME", 14}, {"role", "ROLE", 8}, {"interface", "INTERFACE", 16},
                {"driver", "DRIVER", 12}, {"mac", "MAC", 19}, {"link_up", "LINK", 6}, {"xdp", "XDP", 9},
                {"vn", "VN", 10}, {"vlan", "VLAN"}});
  for (const XdpPort &p : ports_) {
    const std::optional<bool> up = drivers::kernel_interface_up(p.interface);
    const drivers::PortCounters c = interface_counters(p.interface);
    auto &row = t.add({p.cfg->port_id, p.cfg->name, p.cfg->role == PortConfig::Role::Fabric ? "fabric" : "access",
                       p.interface, p.driver, mac_to_string(p.mac),
                       ctl::Cell::shown_as(up.value_or(false), !up ? "gone" : *up ? "up" : "down"),
                       p.xdp_mode.empty() ? "-" : p.xdp_mode, p.cfg->vn, p.cfg->vlan});
    row.extra = {{"ifindex", p.ifindex},         {"rx_packets", c.rx_packets}, {"tx_packets", c.tx_packets},
                 {"rx_bytes", c.rx_bytes},       {"tx_bytes", c.tx_bytes},     {"rx_errors", c.rx_errors},
                 {"tx_errors", c.tx_errors},     {"rx_missed", c.rx_missed},   {"carrier_changes", c.link_changes}};
  }
  return Reply::of(std::move(t));
}

// As nved's (testpmd's block), from the kernel interface's counters, which
// clear counters does not reset (the kernel's own).
Reply XdpCommands::show_port_stats(const Args &a) {
  const XdpPort *only = nullptr;
  if (a.size() == 1 && a[0] != "all") {
    only = port_named(ports_, cfg_, a[0]);
    if (!only) return Reply::bad_usage("no port " + a[0]);
  } else if (a.size() > 1) {
    return Reply::bad_usage();
  }
  Reply r;
  r.data = nlohmann::json::array();
  const double now_s = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  for (const XdpPort &p : ports_)
    if (!only || only == &p) port_stats_.add(r, p.cfg->port_id, interface_counters(p.interface), now_s);
  return r;
}

// As nved's (the driver's names and order): here the kernel driver's own
// statistics, what ethtool -S prints for the interface.
Reply XdpCommands::show_port_xstats(const Args &a) const {
  if (a.size() != 1) return Reply::bad_usage();
  const XdpPort *port = port_named(ports_, cfg_, a[0]);
  if (!port) return Reply::bad_usage("no port " + a[0]);
  auto stats = drivers::ethtool_stats(port->interface);
  if (auto *why = std::get_if<std::string>(&stats))
    return Reply::fail("port " + std::to_string(port->cfg->port_id) + ": extended statistics unavailable: " + *why);
  return Reply::of(xstats_record(std::get<drivers::EthtoolStats>(stats)));
}

Reply XdpCommands::show_route_table(const Args &a) const {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Record rec(19, 0);
  rec.add({"capacity", cfg_.route_capacity});
  rec.add({"routes", routes_.size()});
  rec.add({"destination_nves", routes_.nve_count(), "destination NVEs"});
  rec.add({"version", routes_.version(), "table version"});
  return Reply::of(std::move(rec));
}

// As nved's: the fabric gateway of each family, the default router's next hops.
Reply XdpCommands::show_neighbours(const Args &a) const {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t = neighbour_table();
  auto row = [&](const IpAddress &ip, const char *role, const std::optional<MacAddress> &mac, bool is_static) {
    add_neighbour(t, ip, role, mac, is_static ? "static" : "kernel");
  };
  const dp::FabricParams &f = neighbours_.fabric();
  if (cfg_.nve_ipv4.family) row(cfg_.gateway_ipv4, "gateway", f.gateway_mac_v4, cfg_.gateway_mac_ipv4.has_value());
  if (cfg_.nve_ipv6.family) row(cfg_.gateway_ipv6, "gateway", f.gateway_mac_v6, cfg_.gateway_mac_ipv6.has_value());
  for (const auto &[address, mac] : neighbours_.next_hops()) row(address, "next-hop", mac, false);
  return Reply::of(std::move(t));
}

}  // namespace nvmove
