#include "control/nvxdp/xdp_metrics.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "control/nved/metrics.h"
#include "dataplane/counters.h"

namespace nvmove {

namespace {

uint64_t sys_counter(const std::string &interface, const char *file) {
  std::ifstream f("/sys/class/net/" + interface + "/" + file);
  uint64_t v = 0;
  f >> v;
  return f ? v : 0;
}

}  // namespace

const XdpPort *port_named(const std::vector<XdpPort> &ports, const NvedConfig &cfg, const std::string &text) {
  uint16_t n = 0;
  for (const XdpPort &p : ports) n = std::max<uint16_t>(n, static_cast<uint16_t>(p.cfg->port_id + 1));
  const uint16_t id = cfg.port_argument(text, n);
  for (const XdpPort &p : ports)
    if (p.cfg->port_id == id) return &p;
  return nullptr;
}

drivers::PortCounters interface_counters(const std::string &interface) {
  drivers::PortCounters c;
  c.rx_packets = sys_counter(interface, "statistics/rx_packets");
  c.tx_packets = sys_counter(interface, "statistics/tx_packets");
  c.rx_bytes = sys_counter(interface, "statistics/rx_bytes");
  c.tx_bytes = sys_counter(interface, "statistics/tx_bytes");
  c.rx_missed = sys_counter(interface, "statistics/rx_missed_errors");
  c.rx_errors = sys_counter(interface, "statistics/rx_errors");
  c.tx_errors = sys_counter(interface, "statistics/tx_errors");
  c.link_changes = sys_counter(interface, "carrier_changes");
  return c;
}

XdpMetrics::XdpMetrics(const drivers::XdpProgram &prog, const drivers::XdpRoutes &routes,
                       const std::vector<XdpPort> &ports, uint32_t route_capacity)
    : prog_(prog), routes_(routes), ports_(ports), route_capacity_(route_capacity) {
  start_time_unix_s_ = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  for (const auto &p : ports_) carrier_at_start_.push_back(interface_counters(p.interface).link_changes);
}

std::string XdpMetrics::render(const agent::NveAgent *agent) const {
  MetricsInput in;
  in.workers = prog_.counters_per_cpu();
  // Ports by their port_id, as nved numbers them.
  size_t n = 0;
  for (const auto &p : ports_) n = std::max<size_t>(n, p.cfg->port_id + 1u);
  in.ports.resize(n);
  in.port_labels.resize(n);
  for (size_t i = 0; i < ports_.size(); i++) {
    const XdpPort &p = ports_[i];
    drivers::PortCounters c = interface_counters(p.interface);
    c.link_changes -= std::min(c.link_changes, carrier_at_start_[i]);
    in.ports[p.cfg->port_id] = c;
    in.port_labels[p.cfg->port_id] = {p.cfg->name, p.cfg->role == PortConfig::Role::Fabric ? "fabric" : "access"};
  }
  in.routes = routes_.size();
  in.route_capacity = route_capacity_;
  in.table_version = routes_.version();
  if (agent) in.agent = agent->counters();
  in.start_time_unix_s = start_time_unix_s_;
  return prometheus_text(in);
}

}  // namespace nvmove
