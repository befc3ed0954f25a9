// Building a reply from a request, and matching a reply to the request it
// answers (docs/protocol.md section 5.3).
#pragma once

#include <cstdint>

#include "control/protocol/message.h"

namespace nvmove::proto {

// A reply echoing the request's sequence number, VM Identifier, Virtual
// Network and Timestamp. The granted lifetime is capped at the requested one
// (the NVA may shorten, never extend) and is 0 for a rejection.
Message make_reply(const Message &request, Status status, uint16_t granted_lifetime);

// Status 135 with the Expected Sequence Number option set.
Message make_bad_sequence_reply(const Message &request, uint16_t expected_sequence);

// True iff `reply` answers `request`: a reply with the same sequence number
// whose echoed Timestamp equals the request's. The timestamp makes the match
// unique even after the 16-bit sequence number wraps, so an old reply replayed
// later does not match a new request that reused its sequence number.
bool is_reply_to(const Message &reply, const Message &request);

}  // namespace nvmove::proto
