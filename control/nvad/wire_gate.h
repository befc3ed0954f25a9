// Between the socket and the registrar: a datagram becomes an Inbound only if
// it decodes and its HMAC verifies with the key of the address it came from;
// an outgoing Message becomes bytes signed with the peer's sending key.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "control/nvad/counters.h"
#include "control/nvad/registrar.h"
#include "control/protocol/keys.h"
#include "control/protocol/result.h"

namespace nvmove::nvad {

struct GateDrop {
  DropReason reason = DropReason::Malformed;
  std::string detail;
};

proto::Result<Inbound, GateDrop> admit(std::span<const uint8_t> wire, const IpAddress &peer,
                                       uint16_t port, const proto::KeyTable &keys);

// Fails when the peer has no key (it cannot be answered) or encoding fails.
proto::Result<std::vector<uint8_t>, std::string> seal(const proto::Message &message,
                                                      const IpAddress &peer,
                                                      const proto::KeyTable &keys);

}  // namespace nvmove::nvad
