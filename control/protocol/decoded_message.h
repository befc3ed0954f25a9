// What decode() returns: the Message plus what is not part of the message's
// meaning but which the receiver still needs (the authentication trailer to
// verify, the unknown options it skipped, for its counters and logs).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "control/protocol/message.h"
#include "control/protocol/wire_format.h"

namespace nvmove::proto {

struct AuthTrailer {
  uint32_t key_id = 0;
  std::array<uint8_t, kHmacSize> mac{};
  size_t mac_offset = 0;  // where the MAC starts in the message
};

struct DecodedMessage {
  Message message;
  AuthTrailer auth;
  std::vector<uint8_t> skipped_option_types;  // unknown, bit 7 clear
};

}  // namespace nvmove::proto
