#include "control/agent/agent_outcome.h"

#include <spdlog/spdlog.h>

#include "control/protocol/codec.h"
#include "control/protocol/names.h"

namespace nvmove::agent {

void AgentOutcome::append(AgentOutcome &&other) {
  routes.insert(routes.end(), other.routes.begin(), other.routes.end());
  for (auto &d : other.datagrams) datagrams.push_back(std::move(d));
  if (other.if_routes_fail) if_routes_fail = std::move(other.if_routes_fail);
}

std::optional<Datagram> seal(const proto::Message &m, const IpAddress &to, uint16_t port,
                             const proto::KeyTable &keys) {
  const proto::AuthKey *key = keys.sending_key(to);
  if (!key) {
    spdlog::error("no key for {}: {} not sent", to.to_string(), proto::message_type_name(m.type));
    return std::nullopt;
  }
  auto wire = proto::encode(m, *key);
  if (!wire) {
    spdlog::error("cannot encode {}: {}", proto::message_type_name(m.type), wire.error().describe());
    return std::nullopt;
  }
  return Datagram{to, port, std::move(wire).value()};
}

RouteChange route_removal(uint32_t vn, const IpAddress &address) {
  RouteChange c;
  c.op = RouteChange::Op::Remove;
  c.route = {vn, address};
  return c;
}

}  // namespace nvmove::agent
