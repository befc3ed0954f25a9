// Encoding and decoding of registration messages (docs/protocol.md sections
// 3 and 4).
//
// decode() checks structure only: lengths, alignment, which options may
// appear where and how often. It does not authenticate (the key depends on
// the sender's address: see verify_authentication() in auth.h) and it does
// not check for mandatory options (a receiver needs the decoded message to
// answer "missing mandatory option": see mandatory_options.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "control/protocol/auth.h"
#include "control/protocol/codec_error.h"
#include "control/protocol/decoded_message.h"
#include "control/protocol/message.h"
#include "control/protocol/result.h"

namespace nvmove::proto {

// Encodes `message` and appends an Authentication option made with `key`.
// Fails rather than produce something decode() would refuse: a Message field
// out of range, an option in the wrong message type, a message larger than
// kMaxMessageSize, or a key that key_problem() rejects.
Result<std::vector<uint8_t>, CodecError> encode(const Message &message, const AuthKey &key);

// Never reads outside `wire`, never throws for any input.
Result<DecodedMessage, CodecError> decode(std::span<const uint8_t> wire);

}  // namespace nvmove::proto
