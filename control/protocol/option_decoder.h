// Walks the options of a message whose header has been validated, checking
// every length before reading, and fills in a DecodedMessage.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "control/protocol/codec_error.h"
#include "control/protocol/decoded_message.h"

namespace nvmove::proto {

// `message` is the whole message (header included) so that offsets in errors
// and in the AuthTrailer are message offsets; options start at kHeaderSize.
// out.message.type must already be set: what is allowed depends on it.
std::optional<CodecError> decode_options(std::span<const uint8_t> message, DecodedMessage &out);

}  // namespace nvmove::proto
