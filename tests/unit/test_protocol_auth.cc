// HMAC-SHA-256 authentication: known-answer tests, and that a wrong key, a
// wrong key id or any change to the message is caught.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/protocol/address_text.h"
#include "control/protocol/codec.h"
#include "control/protocol/keys.h"

using namespace nvmove::proto;

namespace {

using Bytes = std::vector<uint8_t>;

std::string hex(std::span<const uint8_t> bytes) {
  static const char *digits = "0123456789abcdef";
  std::string text;
  for (uint8_t b : bytes) {
    text += digits[b >> 4];
    text += digits[b & 15];
  }
  return text;
}

Bytes ascii(const std::string &text) { return Bytes(text.begin(), text.end()); }

// RFC 4231 test cases 1 and 2: the MAC primitive is HMAC-SHA-256 itself.
TEST(ProtocolAuth, ComputeMacMatchesRfc4231) {
  auto case1 = compute_mac(ascii("Hi There"), Bytes(20, 0x0b));
  ASSERT_TRUE(case1.has_value());
  EXPECT_EQ(hex(*case1), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  auto case2 = compute_mac(ascii("what do ya want for nothing?"), ascii("Jefe"));
  ASSERT_TRUE(case2.has_value());
  EXPECT_EQ(hex(*case2), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

const AuthKey kKey{5, Bytes(32, 0x33)};

Bytes signed_request() {
  Message m;
  m.vm_id = VmId{1, 2, 3};
  m.virtual_network = 1;
  m.timestamp_ns = 99;
  return encode(m, kKey).value();
}

TEST(ProtocolAuth, TheMacCoversTheMessageWithTheMacFieldZeroed) {
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  Bytes zeroed = wire;
  std::fill(zeroed.end() - kHmacSize, zeroed.end(), 0);
  auto expected = compute_mac(zeroed, kKey.secret).value();
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), wire.end() - kHmacSize));
  EXPECT_EQ(decoded.auth.mac, expected);
}

TEST(ProtocolAuth, AuthenticMessageVerifies) {
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  EXPECT_EQ(verify_authentication(wire, decoded.auth, kKey), AuthVerdict::Authentic);
}

TEST(ProtocolAuth, WrongSecretIsABadMac) {
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  AuthKey other{5, Bytes(32, 0x34)};
  EXPECT_EQ(verify_authentication(wire, decoded.auth, other), AuthVerdict::BadMac);
}

TEST(ProtocolAuth, AlteredMessageOrMacIsABadMac) {
  Bytes wire = signed_request();
  Bytes altered = wire;
  altered[5] ^= 1;  // sequence number
  auto decoded = decode(altered).value();
  EXPECT_EQ(verify_authentication(altered, decoded.auth, kKey), AuthVerdict::BadMac);
  Bytes bad_mac = wire;
  bad_mac.back() ^= 0x80;
  auto decoded_mac = decode(bad_mac).value();
  EXPECT_EQ(verify_authentication(bad_mac, decoded_mac.auth, kKey), AuthVerdict::BadMac);
}

TEST(ProtocolAuth, WrongKeyIdIsDetected) {
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  AuthKey same_secret_other_id{6, kKey.secret};
  EXPECT_EQ(verify_authentication(wire, decoded.auth, same_secret_other_id),
            AuthVerdict::KeyIdMismatch);
  // Rewriting the key id in the message breaks the MAC, which covers it.
  Bytes relabelled = wire;
  relabelled[relabelled.size() - kHmacSize - 1] = 6;
  auto decoded_relabelled = decode(relabelled).value();
  EXPECT_EQ(decoded_relabelled.auth.key_id, 6u);
  EXPECT_EQ(verify_authentication(relabelled, decoded_relabelled.auth, same_secret_other_id),
            AuthVerdict::BadMac);
}

TEST(ProtocolAuth, KeyLookedUpByPeerAndKeyId) {
  IpAddress peer = parse_ip_address("192.0.2.1").value();
  IpAddress stranger = parse_ip_address("192.0.2.2").value();
  KeyTable table;
  ASSERT_TRUE(table.add(peer, kKey));
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  EXPECT_EQ(verify_authentication(wire, decoded.auth, table.find(peer, decoded.auth.key_id)),
            AuthVerdict::Authentic);
  EXPECT_EQ(verify_authentication(wire, decoded.auth, table.find(stranger, decoded.auth.key_id)),
            AuthVerdict::UnknownKeyId);
  EXPECT_EQ(verify_authentication(wire, decoded.auth, table.find(peer, 77)),
            AuthVerdict::UnknownKeyId);
}

TEST(ProtocolAuth, ForgedTrailerOffsetsAreRefusedNotFollowed) {
  Bytes wire = signed_request();
  auto decoded = decode(wire).value();
  AuthTrailer forged = decoded.auth;
  for (size_t offset : {wire.size(), wire.size() - 1, size_t{1} << 40, ~size_t{0}}) {
    forged.mac_offset = offset;
    EXPECT_EQ(verify_authentication(wire, forged, kKey), AuthVerdict::BadMac) << offset;
  }
  Bytes huge(kMaxMessageSize + 1, 0);
  EXPECT_EQ(verify_authentication(huge, decoded.auth, kKey), AuthVerdict::BadMac);
}

TEST(ProtocolAuth, KeyProblems) {
  EXPECT_FALSE(key_problem(kKey).has_value());
  EXPECT_TRUE(key_problem(AuthKey{0, Bytes(32, 1)}).has_value());
  EXPECT_TRUE(key_problem(AuthKey{1, Bytes(31, 1)}).has_value());
  EXPECT_TRUE(key_problem(AuthKey{1, Bytes(65, 1)}).has_value());
  EXPECT_FALSE(key_problem(AuthKey{1, Bytes(64, 1)}).has_value());
}

}  // namespace
