// What the agent's functional core decides, for the shell (NveAgent) to do:
// route changes to apply and datagrams to send. Like nvad's Outcome
// (control/nvad/outcome.h), it lets the registration client and the binding
// update list be tested without sockets or a route table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/route_change.h"
#include "control/protocol/keys.h"
#include "control/protocol/message.h"

namespace nvmove::agent {

struct Datagram {
  IpAddress to;
  uint16_t port = 0;
  std::vector<uint8_t> bytes;
};

struct AgentOutcome {
  // Applied first, as one batch.
  std::vector<RouteChange> routes;
  // Sent once the routes are applied.
  std::vector<Datagram> datagrams;
  // For a move notification's tunnels: if any change of `routes` fails, the
  // ones that did apply are taken back, the binding update list forgets
  // `vm`, and `refusal` is sent instead of `datagrams` (a tunnel without its
  // entry would never expire).
  struct IfRoutesFail {
    proto::VmId vm;
    std::optional<Datagram> refusal;
    bool router = false;  // the default router's entry (vn, vm), not the binding update list's
    uint32_t vn = 0;
  };
  std::optional<IfRoutesFail> if_routes_fail;

  bool empty() const { return routes.empty() && datagrams.empty(); }
  void append(AgentOutcome &&other);
};

// `m` encoded and signed with our sending key for `to`; nullopt (logged) when
// there is no key or it cannot be encoded.
std::optional<Datagram> seal(const proto::Message &m, const IpAddress &to, uint16_t port,
                             const proto::KeyTable &keys);

// Removal of every route in `routes` (a helper for both cores).
RouteChange route_removal(uint32_t vn, const IpAddress &address);

}  // namespace nvmove::agent
