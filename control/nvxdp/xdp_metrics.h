// nvxdp's Prometheus page: nved's metric families (control/nved/metrics.h)
// over the XDP program's counters, where a "worker" is a CPU (the counters
// are per CPU), and the kernel's own statistics of each port's interface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/agent/nve_agent.h"
#include "control/nved/config.h"
#include "drivers/port_stats.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"

namespace nvmove {

// A port nvxdp runs on: its configuration and kernel interface.
struct XdpPort {
  const PortConfig *cfg;
  std::string interface;
  unsigned ifindex;
  MacAddress mac;
  std::string driver;
  std::string xdp_mode;  // "native" or "generic", once attached
};

// The port `text` names (its name or id, as nved's commands take them), or
// nullptr if no port has that id; std::invalid_argument (a usage error on
// the control socket) if `text` is neither.
const XdpPort *port_named(const std::vector<XdpPort> &ports, const NvedConfig &cfg, const std::string &text);

// The interface's counters as the kernel keeps them (/sys/class/net/IF/
// statistics); link_changes is the kernel's carrier_changes since boot.
drivers::PortCounters interface_counters(const std::string &interface);

class XdpMetrics {
 public:
  XdpMetrics(const drivers::XdpProgram &prog, const drivers::XdpRoutes &routes, const std::vector<XdpPort> &ports,
             uint32_t route_capacity);
  // The page; `agent` when the mobility agent runs.
  std::string render(const agent::NveAgent *agent) const;

 private:
  const drivers::XdpProgram &prog_;
  const drivers::XdpRoutes &routes_;
  const std::vector<XdpPort> &ports_;
  uint32_t route_capacity_;
  uint64_t start_time_unix_s_;
  std::vector<uint64_t> carrier_at_start_;  // link changes count from nvxdp's start, as nved's do
};

}  // namespace nvmove
