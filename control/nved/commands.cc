#include "control/nved/commands.h"

#include <rte_cycles.h>
#include <rte_version.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <iomanip>
#include <sstream>

#include "control/base/clock.h"
#include "control/nved/counters_report.h"
#include "control/nved/port_stats_report.h"
#include "control/nved/route_commands.h"
#include "control/nved/show_tables.h"
#include "control/nved/running_config.h"
#include "control/nved/metrics.h"
#include "control/nved/control_loop.h"
#include "control/nved/neighbour_resolver.h"
#include "control/nved/runtime.h"
#include "drivers/port_stats.h"
#include "dataplane/counters.h"

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

namespace {

Reply usage(const std::string &why) { return Reply::fail(why, true); }


}  // namespace

NvedCommands::NvedCommands(NvedRuntime &rt, const NvedConfig &cfg, const ControlLoop &loop,
                           std::string config_text)
    : rt_(rt), cfg_(cfg), loop_(loop), route_commands_(rt.routes(), cfg,
                      cfg.default_forward ? "default: forwarded to the fabric gateway unchanged (forwarded_default)"
                                          : "default: dropped (drop_no_route)"), config_text_(std::move(config_text)) {
  base_.assign(rt_.worker_count(), std::vector<uint64_t>(dp::kCounterCount, 0));
}

void NvedCommands::register_all(ctl::CtlServer &s) {
  auto bind = [this](Reply (NvedCommands::*f)(const Args &)) { return [this, f](const Args &a) { return (this->*f)(a); }; };
  s.on("show version", bind(&NvedCommands::show_version));
  s.on("show config", bind(&NvedCommands::show_config));
  s.on("show running-config", bind(&NvedCommands::show_running_config));
  s.on("show counters", bind(&NvedCommands::show_counters));
  s.on("clear counters", bind(&NvedCommands::clear_counters));
  s.on("show ports", bind(&NvedCommands::show_ports));
  s.on("show port stats", bind(&NvedCommands::show_port_stats));
  s.on("show port xstats", bind(&NvedCommands::show_port_xstats));
  s.on("show workers", bind(&NvedCommands::show_workers));
  s.on("show flows", bind(&NvedCommands::show_flows));
  s.on("show route-table", bind(&NvedCommands::show_route_table));
  s.on("show neighbours", bind(&NvedCommands::show_neighbours));
  s.on("show metrics", bind(&NvedCommands::show_metrics));
  route_commands_.register_all(s);
  s.on("set log level", bind(&NvedCommands::set_log_level));
  s.on("help", [](const Args &) {
    Reply r;
    r.text = ctl::help_text(ctl::nved_commands());
    return r;
  });
}

uint64_t NvedCommands::counter(size_t w, size_t c) const {
  return rt_.worker(w).counters.get(static_cast<dp::Counter>(c)) - base_[w][c];
}

Reply NvedCommands::show_counters(const Args &a) {
  size_t first = 0, last = rt_.worker_count();
  if (!a.empty()) {
    if (a.size() != 2 || a[0] != "worker") return Reply::bad_usage();
    first = number_argument(a[1], "worker", rt_.worker_count() ? rt_.worker_count() - 1 : 0);
    last = first + 1;
  }
  std::vector<uint64_t> values(dp::kCounterCount, 0);
  for (size_t c = 0; c < dp::kCounterCount; c++)
    for (size_t w = first; w < last; w++) values[c] += counter(w, c);
  std::optional<ControlPacketCounts> control;  // the control thread is no worker's
  if (a.empty())
    control = ControlPacketCounts{loop_.packets_learnt() - control_base_learnt_,
                                  loop_.packets_unhandled() - control_base_unhandled_};
  ctl::Record rec = counter_record(values, control);
  if (!a.empty()) rec.add({"worker", first, "", "", false});
  return Reply::of(std::move(rec));
}

Reply NvedCommands::clear_counters(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  for (size_t w = 0; w < rt_.worker_count(); w++)
    for (size_t c = 0; c < dp::kCounterCount; c++) base_[w][c] = rt_.worker(w).counters.get(static_cast<dp::Counter>(c));
  control_base_learnt_ = loop_.packets_learnt();
  control_base_unhandled_ = loop_.packets_unhandled();
  for (uint16_t p = 0; p < rt_.n_ports(); p++) drivers::port_counters_reset(p);
  port_stats_.forget();
  spdlog::info("counters cleared");
  Reply r;
  r.text = "counters cleared\n";
  return r;
}

Reply NvedCommands::show_ports(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"port", "PORT", 6}, {"name", "NAME", 14}, {"role", "ROLE", 8}, {"driver", "DRIVER", 16},
                {"mac", "MAC", 19}, {"link_up", "LINK", 6}, {"rx_queues", "RXQ", 5}, {"tx_queues", "TXQ", 5},
                {"vn", "VN", 10}, {"vlan", "VLAN"}});
  for (const auto &p : cfg_.ports) {
    const auto &info = rt_.port_info(p.port_id);
    const drivers::PortLink link = drivers::port_link(p.port_id);
    auto &row = t.add({p.port_id, p.name, p.role == PortConfig::Role::Fabric ? "fabric" : "access", info.driver,
                       mac_to_string(info.mac), ctl::Cell::shown_as(link.up, link.up ? "up" : "down"), info.rx_queues,
                       info.tx_queues, p.vn, p.vlan});
    row.extra = {{"link_speed_mbps", link.speed_mbps},
                 {"link_changes", rt_.link_watch().changes(p.port_id)},
                 {"tx_ipv4_cksum_offload", info.tx_ipv4_cksum},
                 {"rx_ipv4_cksum_offload", info.rx_ipv4_cksum},
                 {"mtu", p.mtu},
                 {"rx_scatter", info.rx_scatter},
                 {"tx_multi_segment", info.tx_multi_seg}};
  }
  return Reply::of(std::move(t));
}

Reply NvedCommands::show_port_stats(const Args &a) {
  std::vector<uint16_t> ports;
  if (a.empty() || (a.size() == 1 && a[0] == "all")) {
    for (uint16_t p = 0; p < rt_.n_ports(); p++) ports.push_back(p);
  } else if (a.size() == 1) {
    ports.push_back(cfg_.port_argument(a[0], rt_.n_ports()));
  } else {
    return Reply::bad_usage();
  }
  Reply r;
  r.data = nlohmann::json::array();
  const double now_s = double(rte_rdtsc()) / double(rte_get_tsc_hz());
  for (uint16_t p : ports) port_stats_.add(r, p, drivers::port_counters(p), now_s);
  return r;
}

Reply NvedCommands::show_port_xstats(const Args &a) {
  if (a.size() != 1) return Reply::bad_usage();
  const uint16_t p = cfg_.port_argument(a[0], rt_.n_ports());
  const auto xstats = drivers::port_xstats(p);
  if (!xstats) return Reply::fail("port " + std::to_string(p) + ": extended statistics unavailable");
  return Reply::of(xstats_record(*xstats));
}

Reply NvedCommands::show_workers(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"worker", "WORKER", 8}, {"lcore", "LCORE", 7}, {"", "QUEUES (port:queue)", 29},
                {"rx_packets", "RX-PACKETS", 22}, {"tx_packets", "TX-PACKETS", 22}, {"idle_ratio", "IDLE"}});
  for (size_t w = 0; w < rt_.worker_count(); w++) {
    const auto &ctx = rt_.worker(w);
    std::string qs;
    nlohmann::json jq = nlohmann::json::array();
    for (uint16_t i = 0; i < ctx.n_rxq; i++) {
      qs += (i ? " " : "") + std::to_string(ctx.rxq[i].port) + ":" + std::to_string(ctx.rxq[i].queue);
      jq.push_back({{"port", ctx.rxq[i].port}, {"queue", ctx.rxq[i].queue}});
    }
    const uint64_t polls = ctx.polls.load(std::memory_order_relaxed);
    const uint64_t empty = ctx.empty_polls.load(std::memory_order_relaxed);
    const double idle = polls ? double(empty) / double(polls) : 1.0;
    std::ostringstream idle_s;
    idle_s << std::fixed << std::setprecision(1) << idle * 100 << "%";
    auto &row = t.add({w, rt_.worker_lcore(w), qs, counter(w, static_cast<size_t>(dp::Counter::rx_packets)),
                       counter(w, static_cast<size_t>(dp::Counter::tx_packets)), ctl::Cell::shown_as(idle, idle_s.str())});
    row.extra = {{"queues", jq}, {"loop_passes", polls}, {"empty_passes", empty},
                 {"role", rt_.is_control_context(w) ? "control" : "worker"}};
  }
  return Reply::of(std::move(t));
}

// show routes summary: how many routes of each kind per VN, and in all;
// for a table too large to read line by line.
Reply NvedCommands::show_route_table(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  const auto &t = rt_.routes();
  ctl::Record rec(19, 0);
  rec.add({"capacity", t.capacity()});
  rec.add({"routes", t.size()});
  rec.add({"destination_nves", t.nve_count(), "destination NVEs"});
  rec.add({"memory_bytes", t.memory_bytes(), "memory (bytes)"});
  rec.add({"version", t.version(), "table version"});
  // JSON: ns since the epoch, for scripts; text: the time and how long ago.
  const uint64_t updated = t.last_update_unix_ns();
  const auto now_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const std::string ago = " (" + ago_text(double(now_ns > updated ? now_ns - updated : 0) / 1e9) + ")";
  rec.add({"last_update_unix_ns", ctl::Cell::shown_as(updated, updated ? utc_text(updated) + ago : "never"), "last update"});
  return Reply::of(std::move(rec));
}

// One row per rte_flow rule of each port (installed, or refused with the
// PMD's reason), or one row saying the port runs the software path and why.
Reply NvedCommands::show_flows(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"port", "PORT", 6}, {"rule", "RULE", 26}, {"state", "STATE", 11}, {"hits", "HITS", 14},
                {"detail", "DETAIL"}});
  for (uint16_t p = 0; p < rt_.n_ports(); p++) {
    const PortFlowState &f = rt_.port_flows(p);
    if (f.flows.empty()) {
      t.add({p, "-", "software", ctl::Cell::shown_as(nullptr, "-"), f.status}).extra = {{"port_status", f.status}};
      continue;
    }
    for (size_t i = 0; i < f.flows.rules().size(); i++) {
      const auto &st = f.flows.rules()[i];
      const auto hits = f.flows.hits(i);
      const bool withdrawn = !st.installed && !st.withdrawn.empty();
      const std::string detail = drivers::describe(st.rule) + (st.installed ? ""
                                                               : withdrawn ? " (" + st.withdrawn + ")"
                                                                           : " (refused: " + st.refused + ")");
      auto &row = t.add({p, st.rule.name, st.installed ? "installed" : withdrawn ? "withdrawn" : "refused",
                         hits ? ctl::Cell(*hits) : ctl::Cell::shown_as(nullptr, "-"), detail});
      row.extra = {{"purpose", st.rule.purpose}, {"port_status", f.status}, {"counted", st.counted}};
      if (!st.refused.empty()) row.extra["refused"] = st.refused;
      if (withdrawn) row.extra["withdrawn"] = st.withdrawn;
    }
  }
  return Reply::of(std::move(t));
}

Reply NvedCommands::show_neighbours(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t = neighbour_table();
  auto row = [&](const IpAddress &ip, const char *role, const std::optional<MacAddress> &mac, bool is_static) {
    add_neighbour(t, ip, role, mac, is_static ? "static" : "arp/nd");
  };
  if (cfg_.nve_ipv4.family)
    row(cfg_.gateway_ipv4, "gateway", loop_.neighbours().mac_v4(), cfg_.gateway_mac_ipv4.has_value());
  if (cfg_.nve_ipv6.family)
    row(cfg_.gateway_ipv6, "gateway", loop_.neighbours().mac_v6(), cfg_.gateway_mac_ipv6.has_value());
  // The default router's next hops (agent.router): serving NVEs of moved VMs.
  for (const auto &[address, n] : loop_.neighbours().others()) row(address, "next-hop", n.mac, false);
  return Reply::of(std::move(t));
}

Reply NvedCommands::show_version(const Args &) {
  Reply r;
  r.text = std::string("nved ") + NVMOVE_VERSION + " (" + rte_version() + ")\n";
  r.data = {{"nved", NVMOVE_VERSION}, {"dpdk", rte_version()}};
  return r;
}

Reply NvedCommands::show_config(const Args &) {
  Reply r;
  r.text = config_text_;
  r.data = {{"text", config_text_}};
  return r;
}

Reply running_config_reply(const NvedConfig &cfg, const std::vector<RouteChange> &route_changes,
                           const char *program) {
  const std::string yaml = running_config_yaml(cfg);
  const std::vector<std::string> changes = route_change_lines(route_changes);
  Reply r;
  r.text = std::string("# ") + program + "'s configuration in effect: every key with the value in use (defaults written out)\n" + yaml;
  if (!changes.empty()) {
    r.text += "# route changes since start (nvectl route add/del; in no file), in route_file form:\n";
    for (const auto &l : changes) r.text += "#   " + l + "\n";
  }
  r.data = {{"yaml", yaml}, {"route_changes", changes}};
  return r;
}

Reply NvedCommands::show_running_config(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  return running_config_reply(cfg_, route_commands_.changes(), "nved");
}

Reply NvedCommands::show_metrics(const Args &a) {
  if (!a.empty()) return Reply::bad_usage();
  MetricsInput in;
  for (size_t w = 0; w < rt_.worker_count(); w++) {
    std::vector<uint64_t> v(dp::kCounterCount);
    for (size_t c = 0; c < dp::kCounterCount; c++) v[c] = counter(w, c);
    in.workers.push_back(std::move(v));
  }
  for (uint16_t p = 0; p < rt_.n_ports(); p++) {
    in.ports.push_back(drivers::port_counters(p));
    in.ports.back().link_changes = rt_.link_watch().changes(p);
  }
  in.routes = rt_.routes().size();
  in.route_capacity = rt_.routes().capacity();
  in.table_version = rt_.routes().version();
  in.route_memory_bytes = rt_.routes().memory_bytes();
  in.control_learnt = loop_.packets_learnt() - control_base_learnt_;
  in.control_unhandled = loop_.packets_unhandled() - control_base_unhandled_;
  if (agent_) in.agent = agent_->counters();
  for (uint16_t p = 0; p < rt_.n_ports(); p++) {
    const PortConfig *pc = nullptr;
    for (const auto &c : cfg_.ports)
      if (c.port_id == p) pc = &c;
    in.port_labels.emplace_back(pc ? pc->name : "", pc && pc->role == PortConfig::Role::Fabric ? "fabric" : "access");
  }
  in.start_time_unix_s = start_time_unix_s_;
  Reply r;
  r.text = prometheus_text(in);
  r.data = {{"text", r.text}};
  return r;
}

Reply log_level_command(const Args &a) {
  if (a.size() != 1) return Reply::bad_usage();
  const auto lvl = spdlog::level::from_str(a[0]);
  if (lvl == spdlog::level::off && a[0] != "off") return usage("unknown log level '" + a[0] + "'");
  // Logged at warn, so that the change shows whatever the level was and is
  // (unless it is error or off).
  spdlog::warn("log level {} -> {} (nvectl)", spdlog::level::to_string_view(spdlog::get_level()), a[0]);
  spdlog::set_level(lvl);
  Reply r;
  r.text = "log level " + a[0] + "\n";
  return r;
}

Reply NvedCommands::set_log_level(const Args &a) { return log_level_command(a); }

}  // namespace nvmove
