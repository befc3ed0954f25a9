// The operator's route commands, the same over either fast path: nved's
// DPDK table and nvxdp's XDP maps (common/route_change.h,
// ListedRouteBackend). show routes (one route, a VN, every route in pages,
// a summary), show tunnel-peers, route add, route del, explain.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/route_change.h"
#include "control/ctl/ctl_socket.h"
#include "control/nved/config.h"

namespace nvmove {

// A whole number argument, or std::invalid_argument saying what was
// expected (the control socket answers it as a usage error).
uint64_t number_argument(const std::string &s, const char *what, uint64_t max);

class RouteCommands {
 public:
  // `no_route`: what the fast path does with a packet no host route names
  // (explain says it).
  RouteCommands(ListedRouteBackend &routes, const NvedConfig &cfg, std::string no_route)
      : routes_(routes), cfg_(cfg), no_route_(std::move(no_route)) {}
  void register_all(ctl::CtlServer &server);

  ctl::Reply show_routes(const std::vector<std::string> &args) const;
  ctl::Reply show_tunnel_peers(const std::vector<std::string> &args) const;
  ctl::Reply route_add(const std::vector<std::string> &args);
  ctl::Reply route_del(const std::vector<std::string> &args);
  ctl::Reply explain(const std::vector<std::string> &args) const;

  // Route changes made with route add / route del since start, oldest first
  // (show running-config lists them: no file holds them).
  const std::vector<RouteChange> &changes() const { return changes_; }

 private:
  ctl::Table listing(std::vector<RouteView> routes) const;
  ctl::Reply summary() const;

  ListedRouteBackend &routes_;
  const NvedConfig &cfg_;
  std::string no_route_;
  std::vector<RouteChange> changes_;
};

}  // namespace nvmove
