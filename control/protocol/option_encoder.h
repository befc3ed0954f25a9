// Writes a Message's options (all but Authentication, which encode() appends
// last) in the canonical order of docs/protocol.md section 4.1.
#pragma once

#include <optional>

#include "control/protocol/byte_io.h"
#include "control/protocol/codec_error.h"
#include "control/protocol/message.h"

namespace nvmove::proto {

// Refuses anything the decoder would refuse (an option in the wrong message
// type, a VM-ID of 0 or more than 253 bytes, an address whose family is not
// 4 or 6, duplicate VM addresses), so that every encoded message decodes.
std::optional<CodecError> encode_options(const Message &message, ByteWriter &out);

}  // namespace nvmove::proto
