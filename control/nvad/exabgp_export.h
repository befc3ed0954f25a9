// The route exporter's backend for ExaBGP (seed 003 section 7.3): host routes
// from route_export.h, announced by a real BGP speaker. nvmove never speaks
// BGP: ExaBGP does, and its supported interface for programs is a process it
// runs whose standard output is a stream of commands ("announce route ...",
// "withdraw route ...") and whose standard input gets ExaBGP's answers
// ("done" / "error"). That process is nvmove-exabgp (control/exabgp_bridge),
// which relays between ExaBGP and this socket.
//
// Why ExaBGP, not BIRD, FRR or GoBGP: it is the one built for a program to
// add and withdraw routes, each command carrying the route's own attributes
// (next hop, ORIGIN, communities); BIRD and FRR take routes from their
// configuration or a kernel table (a reload or a netlink writer of ours),
// GoBGP from a gRPC API whose C++ client Debian does not package. And its
// process model gives restarts for free: a restarted ExaBGP starts a new
// bridge, which connects here and gets everything current again.
//
// The line protocol on the socket (UNIX stream, one connection per bridge):
//   nvad -> bridge: "#sync begin", ExaBGP commands, "#sync end" (the whole
//     current set, on every connection), then one command per change;
//   bridge -> nvad: ExaBGP's acknowledgements ("done", "error"), one per
//     command, in order.
// The bridge withdraws, at "#sync end", what it announced earlier and nvad no
// longer sent (nvad restarted without some routes). ExaBGP keeps announcing
// while nvad is down; the tunnels of the move lifecycle never depend on it.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/route_change.h"
#include "control/base/clock.h"
#include "control/base/rate_limited_log.h"
#include "control/nvad/route_export.h"

namespace nvmove::nvad {

// "announce route 10.0.0.5/32 next-hop 192.0.2.2 origin igp community
// [65001:100] large-community [65001:1:100]" (or withdraw).
std::string exabgp_command(bool announce, const IpAddress &address, const IpAddress &next_hop,
                           const ExportPolicy &policy);

struct ExportCounters {
  uint64_t announced = 0;          // announce commands issued (to every connected speaker, or none)
  uint64_t withdrawn = 0;          // withdraw commands issued
  uint64_t acknowledged = 0;       // "done" from ExaBGP
  uint64_t refused = 0;            // "error" from ExaBGP
  uint64_t over_limit = 0;         // routes not exported: export.max_routes reached
  uint64_t speaker_connects = 0;   // bridge connections accepted
  uint64_t speaker_disconnects = 0;
};

class ExaBgpExport final : public RouteBackend {
 public:
  // Listens on policy.socket (mode 0660, a stale file replaced, a live one
  // refused). Throws std::runtime_error with the reason.
  ExaBgpExport(const ExportPolicy &policy, const Clock &clock);
  ~ExaBgpExport() override;
  ExaBgpExport(const ExaBgpExport &) = delete;
  ExaBgpExport &operator=(const ExaBgpExport &) = delete;

  // Changes the exported set and queues the commands for every connected
  // speaker. A route past export.max_routes is refused (its error says so).
  RouteBatchResult apply(std::span<const RouteChange> batch) override;
  std::optional<RouteView> find(const HostRoute &route) const override;
  size_t size() const override { return routes_.size(); }

  // Accepts bridges, reads their acknowledgements, writes what is queued.
  // Never blocks; the nvad loop calls it every pass.
  void poll();
  int fd() const { return listen_fd_; }

  // show exported: one row per route, and the speakers connected.
  nlohmann::json json() const;
  size_t speakers() const { return conns_.size(); }
  const ExportCounters &counters() const { return counters_; }

 private:
  struct Entry {
    IpAddress next_hop;
    uint64_t since_wall_ns = 0;
  };
  struct Conn {
    int fd = -1;
    std::string in, out;
    size_t out_off = 0;
    uint64_t connected_wall_ns = 0;
  };
  void send_all(const std::string &line);
  void accept_new();
  bool service(Conn &c);  // false: closed

  ExportPolicy policy_;
  const Clock &clock_;
  int listen_fd_ = -1;
  std::map<HostRoute, Entry> routes_;
  std::vector<Conn> conns_;
  ExportCounters counters_;
  Instant warned_at_{};  // "no speaker connected", once per minute
  RateLimitedLog refusal_log_{std::chrono::seconds(10), clock_};
};

}  // namespace nvmove::nvad
