#include "control/nvad/counters.h"

#include <cctype>
#include <string>

#include <nlohmann/json.hpp>

#include "control/protocol/names.h"

namespace nvmove::nvad {
namespace {

// "Bad sequence number" -> "bad_sequence_number": JSON keys that scripts and
// metric exporters can use as they are.
std::string snake_case(const char *name) {
  std::string key;
  for (const char *c = name; *c; c++) key += *c == ' ' ? '_' : static_cast<char>(std::tolower(*c));
  return key;
}

}  // namespace

const char *drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::Malformed: return "malformed";
    case DropReason::UnknownPeer: return "unknown_peer";
    case DropReason::UnknownKeyId: return "unknown_key_id";
    case DropReason::BadMac: return "bad_mac";
    case DropReason::Duplicate: return "duplicate";
    case DropReason::UnexpectedReply: return "unexpected_reply";
    case DropReason::NoTimestamp: return "no_timestamp";
    case DropReason::RefusalRateLimited: return "refusal_rate_limited";
    case DropReason::NotServing: return "not_serving";
    case DropReason::Count: break;
  }
  return "invalid";
}

uint64_t Counters::rejected_with(proto::Status status) const {
  auto it = rejected.find(status);
  return it == rejected.end() ? 0 : it->second;
}

nlohmann::json counters_json(const Counters &c) {
  nlohmann::json rejected = nlohmann::json::object();
  // Every rejection status, zeros included: scripts read fixed keys.
  for (auto status : proto::kRejectionStatuses) rejected[snake_case(proto::status_name(status))] = c.rejected_with(status);
  nlohmann::json dropped = nlohmann::json::object();
  for (size_t i = 0; i < c.dropped.size(); i++)
    dropped[drop_reason_name(static_cast<DropReason>(i))] = c.dropped[i];
  return {
      {"datagrams_received", c.datagrams_received},
      {"requests_received", c.requests_received},
      {"replies_received", c.replies_received},
      {"replies_sent", c.replies_sent},
      {"notifications_sent", c.notifications_sent},
      {"retransmissions", c.retransmissions},
      {"notifications_acknowledged", c.notifications_acknowledged},
      {"notifications_failed", c.notifications_failed},
      {"registrations", c.registrations},
      {"refreshes", c.refreshes},
      {"moves", c.moves},
      {"deregistrations", c.deregistrations},
      {"stale_deregistrations", c.stale_deregistrations},
      {"expirations", c.expirations},
      {"grace_deletions", c.grace_deletions},
      {"flaps_detected", c.flaps_detected},
      {"flaps_cleared", c.flaps_cleared},
      {"send_errors", c.send_errors},
      {"store_errors", c.store_errors},
      {"rejected", std::move(rejected)},
      {"dropped", std::move(dropped)},
  };
}

}  // namespace nvmove::nvad
