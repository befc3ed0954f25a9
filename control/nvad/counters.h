// nvad's counters: declared once here, named once in counters.cc, asserted
// by the tests and shown by `show protocol stats` (as JSON).
#pragma once

#include <array>
#include <cstdint>
#include <map>

#include <nlohmann/json_fwd.hpp>

#include "control/protocol/message.h"

namespace nvmove::nvad {

// Why a datagram got no reply at all. A reply needs the peer's key, and an
// unauthenticated or duplicated message must not make nvad send anything (it
// would be a reflector).
enum class DropReason : uint8_t {
  Malformed,        // decode() refused it
  UnknownPeer,      // no key for the source address (a drop only: nothing was answered)
  UnknownKeyId,     // the peer has keys, not this one
  BadMac,           // wrong key or altered in transit
  Duplicate,        // same sequence and timestamp as the last accepted request
  UnexpectedReply,  // a reply matching no outstanding notification
  NoTimestamp,      // a request without a Timestamp: no answer could be matched (protocol.md 5.3)
  RefusalRateLimited,  // a refusal over the peer's rate (peer_table.h, kRefusalsPerSecond): unanswered
  NotServing,       // a reply (acknowledgement) reaching an nvad that is not the cluster's leader
  Count
};
const char *drop_reason_name(DropReason reason);

struct Counters {
  uint64_t datagrams_received = 0;
  uint64_t requests_received = 0;
  uint64_t replies_received = 0;
  uint64_t replies_sent = 0;
  uint64_t notifications_sent = 0;  // first transmissions
  uint64_t retransmissions = 0;
  uint64_t notifications_acknowledged = 0;
  uint64_t notifications_failed = 0;
  uint64_t registrations = 0;  // new bindings
  uint64_t refreshes = 0;
  uint64_t moves = 0;
  uint64_t deregistrations = 0;
  uint64_t stale_deregistrations = 0;  // from an NVE that no longer serves the VM
  uint64_t expirations = 0;            // lifetime ran out without refresh
  uint64_t grace_deletions = 0;        // de-registered entries removed after the grace period
  uint64_t flaps_detected = 0;
  uint64_t flaps_cleared = 0;
  uint64_t send_errors = 0;
  uint64_t store_errors = 0;
  std::map<proto::Status, uint64_t> rejected;  // by status, whether or not a reply was possible
  std::array<uint64_t, static_cast<size_t>(DropReason::Count)> dropped{};

  void reject(proto::Status status) { rejected[status]++; }
  void drop(DropReason reason) { dropped[static_cast<size_t>(reason)]++; }
  uint64_t rejected_with(proto::Status status) const;
  uint64_t dropped_for(DropReason reason) const { return dropped[static_cast<size_t>(reason)]; }
};

nlohmann::json counters_json(const Counters &counters);

}  // namespace nvmove::nvad
