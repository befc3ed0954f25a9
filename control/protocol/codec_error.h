// Why a message could not be decoded or encoded: a code to branch on, plus
// where it happened and a sentence for the log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nvmove::proto {

enum class CodecErrc : uint8_t {
  // Message level.
  MessageTooShort,      // fewer than 12 bytes
  MessageTooLong,       // more than kMaxMessageSize bytes
  LengthMismatch,       // header Length differs from the datagram length
  BadMessageLength,     // Length not a multiple of 4
  UnsupportedVersion,
  UnknownMessageType,
  BadHeaderField,       // encode: a Message field holds no valid wire value
  // Option level.
  TruncatedOption,         // option header or value runs past the message end
  MisalignedOption,        // 2 + Length is not a multiple of 4
  BadOptionLength,         // Length not valid for this (known) option type
  BadOptionValue,          // e.g. address family/length mismatch, key id 0
  DuplicateOption,         // an option that may appear once appeared twice
  UnknownMandatoryOption,  // unknown type with bit 7 set
  OptionNotAllowed,        // known option in the wrong message type
  AuthenticationNotLast,
  MissingAuthentication,
  // Encode only: the key cannot be used.
  BadKey,
  CryptoFailure,
};

struct CodecError {
  CodecErrc code = CodecErrc::MessageTooShort;
  size_t offset = 0;        // byte offset in the message where it was detected
  uint8_t option_type = 0;  // 0 when not about one option
  std::string detail;       // the specifics, e.g. "length 7, expected 6 or 18"

  // "<code name> at offset <n> (option 0x84 VM Address): <detail>"
  std::string describe() const;
};

const char *codec_errc_name(CodecErrc code);

}  // namespace nvmove::proto
