#include "control/protocol/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace nvmove::proto {

std::optional<std::string> key_problem(const AuthKey &key) {
  if (key.key_id == 0) return "key id 0 is reserved";
  if (key.secret.size() < kMinKeyBytes)
    return "key is " + std::to_string(key.secret.size()) + " bytes, at least " +
           std::to_string(kMinKeyBytes) + " are required";
  if (key.secret.size() > kMaxKeyBytes)
    return "key is " + std::to_string(key.secret.size()) + " bytes, at most " +
           std::to_string(kMaxKeyBytes) + " are useful with HMAC-SHA-256";
  return std::nullopt;
}

std::optional<Mac> compute_mac(std::span<const uint8_t> message, std::span<const uint8_t> secret) {
  Mac mac{};
  unsigned int mac_length = 0;
  const unsigned char *result =
      HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), message.data(),
           message.size(), mac.data(), &mac_length);
  if (result == nullptr || mac_length != mac.size()) return std::nullopt;
  return mac;
}

const char *auth_verdict_name(AuthVerdict verdict) {
  switch (verdict) {
    case AuthVerdict::Authentic: return "authentic";
    case AuthVerdict::UnknownKeyId: return "unknown key id";
    case AuthVerdict::KeyIdMismatch: return "key id mismatch";
    case AuthVerdict::BadMac: return "bad MAC";
  }
  return "invalid";
}

AuthVerdict verify_authentication(std::span<const uint8_t> wire, const AuthTrailer &trailer,
                                  const AuthKey &key) {
  if (trailer.key_id != key.key_id) return AuthVerdict::KeyIdMismatch;
  if (key_problem(key)) return AuthVerdict::BadMac;
  // The trailer may come from anywhere; never trust its offset blindly.
  if (wire.size() > kMaxMessageSize || trailer.mac_offset > wire.size() ||
      wire.size() - trailer.mac_offset < kHmacSize)
    return AuthVerdict::BadMac;

  std::array<uint8_t, kMaxMessageSize> zeroed;
  std::ranges::copy(wire, zeroed.begin());
  auto received = wire.subspan(trailer.mac_offset, kHmacSize);
  std::fill_n(zeroed.begin() + static_cast<std::ptrdiff_t>(trailer.mac_offset), kHmacSize, 0);

  auto expected = compute_mac(std::span(zeroed).first(wire.size()), key.secret);
  if (!expected) return AuthVerdict::BadMac;
  bool equal = CRYPTO_memcmp(expected->data(), received.data(), kHmacSize) == 0;
  return equal ? AuthVerdict::Authentic : AuthVerdict::BadMac;
}

AuthVerdict verify_authentication(std::span<const uint8_t> wire, const AuthTrailer &trailer,
                                  const AuthKey *key) {
  if (key == nullptr) return AuthVerdict::UnknownKeyId;
  return verify_authentication(wire, trailer, *key);
}

}  // namespace nvmove::proto
