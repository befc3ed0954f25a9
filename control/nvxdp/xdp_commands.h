// nvxdp's answers to nvectl: the commands of ctl::nved_commands() that mean
// something without DPDK, answered as nved answers them (the route commands
// are nved's own, over the XDP maps: RouteCommands). What nvxdp has not
// (workers, rte_flow rules) the control socket answers as
// "not available in this daemon"; help lists what it serves.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "control/agent/nve_agent.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/config.h"
#include "control/nved/port_stats_report.h"
#include "control/nved/route_commands.h"
#include "control/nvxdp/fabric_neighbours.h"
#include "control/nvxdp/fragment_sender.h"
#include "control/nvxdp/xdp_metrics.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"

namespace nvmove {

class XdpCommands {
 public:
  XdpCommands(const drivers::XdpProgram &prog, drivers::XdpRoutes &routes, const std::vector<XdpPort> &ports,
              const NvedConfig &cfg, std::string config_text, const FabricNeighbours &neighbours,
              const XdpMetrics &metrics, const FragmentSender &fragments);
  // `agent`: the mobility agent when configured (show metrics).
  void register_all(ctl::CtlServer &server, const agent::NveAgent *agent);

  ctl::Reply show_counters(const std::vector<std::string> &args) const;
  ctl::Reply clear_counters(const std::vector<std::string> &args);
  ctl::Reply show_ports(const std::vector<std::string> &args) const;
  ctl::Reply show_port_stats(const std::vector<std::string> &args);
  ctl::Reply show_port_xstats(const std::vector<std::string> &args) const;
  ctl::Reply show_route_table(const std::vector<std::string> &args) const;
  ctl::Reply show_neighbours(const std::vector<std::string> &args) const;

 private:
  const drivers::XdpProgram &prog_;
  drivers::XdpRoutes &routes_;
  const std::vector<XdpPort> &ports_;
  const NvedConfig &cfg_;
  std::string config_text_;
  const FabricNeighbours &neighbours_;
  const XdpMetrics &metrics_;
  const FragmentSender &fragments_;
  RouteCommands route_commands_;
  PortStatsReport port_stats_;  // per port, for throughput
  std::vector<uint64_t> base_;  // the counters at the last clear
  std::array<uint64_t, 3> slow_base_{};  // the slow path's, likewise
};

}  // namespace nvmove
