#include "control/agent/notification_gate.h"

#include <spdlog/spdlog.h>

#include "control/protocol/mandatory_options.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"

namespace nvmove::agent {

NotificationGate::NotificationGate(const AgentConfig &cfg, const proto::KeyTable &keys, const Clock &clock,
                                   AgentCounters &counters, RateLimitedLog &log)
    : keys_(keys), clock_(clock), counters_(counters), log_(log),
      replay_(proto::TimestampWindow{cfg.timestamp_window}) {}

std::optional<Datagram> NotificationGate::reply(const proto::Message &reply, const IpAddress &to,
                                                uint16_t port) const {
  return seal(reply, to, port, keys_);
}

AgentOutcome NotificationGate::refuse(const proto::Message &m, proto::Status s, const std::string &why,
                                      const IpAddress &from, uint16_t from_port) {
  counters_.notifications_rejected++;
  const std::string line = std::string(m.router ? "router registration" : "move notification") + " from " +
                           from.to_string() + " rejected: " + proto::status_name(s) + " (" + why + ")";
  if (auto admitted = log_.admit(from, proto::status_name(s), line)) spdlog::warn("{}", *admitted);
  AgentOutcome out;
  if (auto d = reply(proto::make_reply(m, s, 0), from, from_port)) out.datagrams.push_back(std::move(*d));
  return out;
}

std::optional<AgentOutcome> NotificationGate::admit(const proto::Message &m, const IpAddress &from,
                                                    uint16_t from_port) {
  const uint64_t now_ns = clock_.wall_ns();
  if (!m.timestamp_ns) {
    // Unanswerable (a reply is matched by its echoed Timestamp) and outside
    // the replay check: dropped and counted, never answered (protocol.md 5.3).
    counters_.dropped_datagrams++;
    return AgentOutcome{};
  }
  const auto verdict = replay_.check(from, m.sequence, *m.timestamp_ns, now_ns);
  if (verdict == proto::ReplayVerdict::Duplicate) return AgentOutcome{};  // answered already
  if (verdict != proto::ReplayVerdict::Fresh) replay_.record_refused(from, m.sequence, *m.timestamp_ns);
  if (verdict == proto::ReplayVerdict::SequenceNotNewer) {
    counters_.notifications_rejected++;
    AgentOutcome out;
    if (auto d = reply(proto::make_bad_sequence_reply(m, replay_.expected_sequence(from).value_or(0)), from,
                       from_port))
      out.datagrams.push_back(std::move(*d));
    return out;
  }
  if (auto status = proto::rejection_status(verdict))
    return refuse(m, *status, proto::replay_verdict_name(verdict), from, from_port);
  replay_.record(from, m.sequence, *m.timestamp_ns, now_ns);
  if (auto missing = proto::find_missing_option(m))
    return refuse(m, proto::Status::MissingMandatoryOption, missing->reason, from, from_port);
  if (m.serving_nve.empty() || m.vm_addresses.empty())
    return refuse(m, proto::Status::MissingMandatoryOption, "no serving NVE or VM address", from, from_port);
  return std::nullopt;
}

}  // namespace nvmove::agent
