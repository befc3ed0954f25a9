// What every notification from nvad goes through before a core acts on it,
// whichever it is for (a previous NVE's redirect, a default router's host
// route): the replay checks of docs/protocol.md 5.3, one replay state for
// nvad across both, and the mandatory options. Also the replies both cores
// send, sealed with our key for nvad.
#pragma once

#include <optional>
#include <string>

#include "control/agent/agent_config.h"
#include "control/agent/agent_counters.h"
#include "control/agent/agent_outcome.h"
#include "control/base/clock.h"
#include "control/base/rate_limited_log.h"
#include "control/protocol/keys.h"
#include "control/protocol/replay.h"

namespace nvmove::agent {

class NotificationGate {
 public:
  NotificationGate(const AgentConfig &cfg, const proto::KeyTable &keys, const Clock &clock,
                   AgentCounters &counters, RateLimitedLog &log);

  // nullopt: admitted (and recorded for replay protection); otherwise what
  // to send back, maybe nothing (a duplicate, a notification with no
  // Timestamp).
  std::optional<AgentOutcome> admit(const proto::Message &m, const IpAddress &from, uint16_t from_port);

  // A refusal with `s`, counted and logged (rate-limited) with `why`.
  AgentOutcome refuse(const proto::Message &m, proto::Status s, const std::string &why, const IpAddress &from,
                      uint16_t from_port);
  std::optional<Datagram> reply(const proto::Message &reply, const IpAddress &to, uint16_t port) const;

 private:
  const proto::KeyTable &keys_;
  const Clock &clock_;
  AgentCounters &counters_;
  RateLimitedLog &log_;
  proto::ReplayGuard replay_;
};

}  // namespace nvmove::agent
