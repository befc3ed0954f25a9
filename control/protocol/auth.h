// Message authentication: HMAC-SHA-256 over the whole message with the MAC
// field set to zero (docs/protocol.md section 4.10).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/protocol/decoded_message.h"
#include "control/protocol/wire_format.h"

namespace nvmove::proto {

// RFC 2104 section 3: keys shorter than the hash output (32 bytes) weaken the
// MAC; keys longer than the block size (64 bytes) are hashed down to 32 bytes
// first, so they add nothing but a false sense of strength.
inline constexpr size_t kMinKeyBytes = 32;
inline constexpr size_t kMaxKeyBytes = 64;

struct AuthKey {
  uint32_t key_id = 0;  // 0 is reserved, never valid on the wire
  std::vector<uint8_t> secret;
  bool operator==(const AuthKey &) const = default;
};

// Why the key cannot be used, or nullopt if it can.
std::optional<std::string> key_problem(const AuthKey &key);

using Mac = std::array<uint8_t, kHmacSize>;

// HMAC-SHA-256 of `message` as given (the caller has zeroed the MAC field).
// nullopt only if OpenSSL fails (out of memory).
std::optional<Mac> compute_mac(std::span<const uint8_t> message, std::span<const uint8_t> secret);

enum class AuthVerdict : uint8_t {
  Authentic,
  UnknownKeyId,   // no key with this id is configured for the peer
  KeyIdMismatch,  // the key given is not the one the message names
  BadMac,         // wrong key, or message altered in transit
};

const char *auth_verdict_name(AuthVerdict verdict);

// `wire` is the message exactly as received and `trailer` what decode()
// returned for it. The comparison is constant-time (CRYPTO_memcmp), so the
// time taken reveals nothing about how many MAC bytes matched.
AuthVerdict verify_authentication(std::span<const uint8_t> wire, const AuthTrailer &trailer,
                                  const AuthKey &key);

// Same, for a key looked up by (peer, key id): null means none was found.
AuthVerdict verify_authentication(std::span<const uint8_t> wire, const AuthTrailer &trailer,
                                  const AuthKey *key);

}  // namespace nvmove::proto
