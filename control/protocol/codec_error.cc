#include "control/protocol/codec_error.h"

#include <cstdio>

#include "control/protocol/names.h"

namespace nvmove::proto {

const char *codec_errc_name(CodecErrc code) {
  switch (code) {
    case CodecErrc::MessageTooShort: return "message too short";
    case CodecErrc::MessageTooLong: return "message too long";
    case CodecErrc::LengthMismatch: return "length mismatch";
    case CodecErrc::BadMessageLength: return "bad message length";
    case CodecErrc::UnsupportedVersion: return "unsupported version";
    case CodecErrc::UnknownMessageType: return "unknown message type";
    case CodecErrc::BadHeaderField: return "bad header field";
    case CodecErrc::TruncatedOption: return "truncated option";
    case CodecErrc::MisalignedOption: return "misaligned option";
    case CodecErrc::BadOptionLength: return "bad option length";
    case CodecErrc::BadOptionValue: return "bad option value";
    case CodecErrc::DuplicateOption: return "duplicate option";
    case CodecErrc::UnknownMandatoryOption: return "unknown mandatory option";
    case CodecErrc::OptionNotAllowed: return "option not allowed in this message type";
    case CodecErrc::AuthenticationNotLast: return "authentication option not last";
    case CodecErrc::MissingAuthentication: return "missing authentication option";
    case CodecErrc::BadKey: return "unusable key";
    case CodecErrc::CryptoFailure: return "crypto library failure";
  }
  return "unknown error";
}

std::string CodecError::describe() const {
  std::string text = codec_errc_name(code);
  text += " at offset " + std::to_string(offset);
  if (option_type != 0) {
    char type_hex[8];
    std::snprintf(type_hex, sizeof type_hex, "0x%02x", option_type);
    text += std::string(" (option ") + type_hex + " " + option_type_name(option_type) + ")";
  }
  if (!detail.empty()) text += ": " + detail;
  return text;
}

}  // namespace nvmove::proto
