// libFuzzer target: arbitrary bytes as a registration protocol message.
//
// decode() must never crash or read out of bounds (ASan), and whenever it
// accepts the input these properties must hold, or the target aborts:
//  - encode() accepts the decoded message (decode never accepts something
//    encode refuses to produce);
//  - decoding the re-encoded bytes gives the same Message;
//  - the re-encoded bytes authenticate with the key they were made with;
//  - encoding is canonical: a second encode gives the same bytes.
// Seeds: tests/fuzz/corpus/protocol/, the examples of docs/protocol.md.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "control/protocol/codec.h"
#include "control/protocol/mandatory_options.h"
#include "control/protocol/reply_builder.h"

using namespace nvmove::proto;

namespace {

const AuthKey kFuzzKey{1, std::vector<uint8_t>(32, 0x5a)};

[[noreturn]] void property_failed(const char *what) {
  std::fprintf(stderr, "fuzz_protocol: property failed: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::span<const uint8_t> input(data, size);
  auto decoded = decode(input);
  if (!decoded.ok()) {
    if (decoded.error().offset > size && decoded.error().offset != kMaxMessageSize)
      property_failed("error offset outside the message");
    (void)decoded.error().describe();
    return 0;
  }

  // Exercise the rest of the receive path on the decoded message.
  (void)verify_authentication(input, decoded->auth, kFuzzKey);
  (void)find_missing_option(decoded->message);
  if (decoded->message.is_request()) {
    Message reply = make_reply(decoded->message, Status::Accepted, 0xFFFF);
    if (!encode(reply, kFuzzKey).ok()) property_failed("reply to a decoded request does not encode");
  }

  auto wire = encode(decoded->message, kFuzzKey);
  if (!wire.ok()) {
    std::fprintf(stderr, "%s\n", wire.error().describe().c_str());
    property_failed("decoded message does not re-encode");
  }
  auto again = decode(wire.value());
  if (!again.ok()) {
    std::fprintf(stderr, "%s\n", again.error().describe().c_str());
    property_failed("re-encoded message does not decode");
  }
  if (!(again->message == decoded->message)) property_failed("round trip changed the message");
  if (!again->skipped_option_types.empty()) property_failed("encoder wrote an unknown option");
  if (verify_authentication(wire.value(), again->auth, kFuzzKey) != AuthVerdict::Authentic)
    property_failed("re-encoded message does not authenticate");

  auto canonical = encode(again->message, kFuzzKey);
  if (!canonical.ok() || canonical.value() != wire.value()) property_failed("encoding not canonical");
  return 0;
}
