// The four examples of docs/protocol.md section 9, as golden tests: the
// encoder must produce these exact bytes, the decoder must give back the
// message, the MAC must verify, and the hex dumps in the document must be
// these bytes (so the document cannot drift from the code).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "control/protocol/address_text.h"
#include "control/protocol/codec.h"

using namespace nvmove::proto;

namespace {

std::vector<uint8_t> from_hex(const std::string &hex) {
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

IpAddress ip(const char *text) { return parse_ip_address(text).value(); }

AuthKey ascii_key(uint32_t id, const std::string &text) {
  return AuthKey{id, std::vector<uint8_t>(text.begin(), text.end())};
}

const AuthKey kKeyNveB = ascii_key(1, "nvmove-example-key-not-for-use!!");
const AuthKey kKeyNveA = ascii_key(2, "nvmove-example-key-2-not-for-use");
const VmId kVmId = {0x3f, 0x2a, 0x8c, 0x1e, 0x6b, 0x4d, 0x4e, 0x0f,
                    0x9a, 0x57, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b};
constexpr uint64_t kT0 = 1748779200000000000ull;  // 2025-06-01T12:00:00Z

Message example1_registration_request() {
  Message m;
  m.type = MessageType::RegistrationRequest;
  m.mobility = MobilityMode::Hot;
  m.sequence = 42;
  m.lifetime = 150;
  m.vm_id = kVmId;
  m.vm_mac = MacAddress{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  m.virtual_network = 5001;
  m.vm_addresses = {ip("192.0.2.10"), ip("2001:db8:1::10")};
  m.serving_nve.ipv4 = ip("198.51.100.2");
  m.serving_nve.ipv6 = ip("2001:db8:ff::2");
  m.previous_nve.ipv4 = ip("198.51.100.1");
  m.timestamp_ns = kT0;
  return m;
}

Message example2_accepted_reply() {
  Message m;
  m.type = MessageType::RegistrationReply;
  m.sequence = 42;
  m.lifetime = 75;
  m.status = Status::Accepted;
  m.vm_id = kVmId;
  m.virtual_network = 5001;
  m.timestamp_ns = kT0;
  return m;
}

Message example3_move_notification() {
  Message m = example1_registration_request();
  m.notification = true;
  m.sequence = 0x1001;
  m.lifetime = 8;
  m.previous_nve = {};
  m.timestamp_ns = kT0 + 1'500'000;
  return m;
}

Message example4_bad_sequence_reply() {
  Message m;
  m.type = MessageType::RegistrationReply;
  m.sequence = 7;
  m.lifetime = 0;
  m.status = Status::BadSequenceNumber;
  m.vm_id = kVmId;
  m.virtual_network = 5001;
  m.timestamp_ns = kT0 + 60'000'000'000ull;
  m.expected_sequence = 43;
  return m;
}

struct Golden {
  const char *title;  // the "### Example N" heading in docs/protocol.md
  Message message;
  AuthKey key;
  std::vector<uint8_t> wire;
};

std::vector<Golden> goldens() {
  return {
      {"Example 1", example1_registration_request(), kKeyNveB,
       from_hex("01016000002a0096000000a48112103f2a8c1e6b4d4e0f9a571c2d3e4f5a6b00820652540012345683"
                "0600000000138984060100c000020a8412020020010db800010000000000000000001085060100c6"
                "3364028512020020010db800ff0000000000000000000206060100c6336401870a00001844e96abe"
                "9780008926000000000001610193fbf5d8285faa68d1559dcaba9049c83344f27569437de1957797"
                "ed5b95")},
      {"Example 2", example2_accepted_reply(), kKeyNveB,
       from_hex("01020000002a004b0000005c8112103f2a8c1e6b4d4e0f9a571c2d3e4f5a6b00830600000000138987"
                "0a00001844e96abe9780008926000000000001974aa704908127e5c3478f359de0a5c65dfe9b0261bf"
                "9cce3d45ddfe4ccd230b")},
      {"Example 3", example3_move_notification(), kKeyNveA,
       from_hex("0101e000100100080000009c8112103f2a8c1e6b4d4e0f9a571c2d3e4f5a6b00820652540012345683"
                "0600000000138984060100c000020a8412020020010db800010000000000000000001085060100c6"
                "3364028512020020010db800ff00000000000000000002870a00001844e96abeae63608926000000"
                "00000213abac762d4a079e7f19620480729199e2660033b8164720173e164d6be465e3")},
      {"Example 4", example4_bad_sequence_reply(), kKeyNveB,
       from_hex("0102000000070000870000608112103f2a8c1e6b4d4e0f9a571c2d3e4f5a6b00830600000000138987"
                "0a00001844e978b6ded8000802002b892600000000000182f8556beacdca0b7cec68ced71e9ec15634"
                "5df39b2cb322daa7f1fd1c6696bd")},
  };
}

// The bytes of the first ```text block after the heading "### <title>:".
// Each dump line is "<offset>  <hex bytes>"; the offset is checked too.
std::vector<uint8_t> hex_dump_from_doc(const std::string &doc, const std::string &title) {
  size_t heading = doc.find("### " + title + ":");
  if (heading == std::string::npos) return {};
  size_t open = doc.find("```text\n", heading);
  size_t close = doc.find("```", open + 8);
  if (open == std::string::npos || close == std::string::npos) return {};
  std::istringstream block(doc.substr(open + 8, close - open - 8));
  std::vector<uint8_t> bytes;
  std::string line;
  while (std::getline(block, line)) {
    std::istringstream fields(line);
    std::string offset, byte;
    fields >> offset;
    EXPECT_EQ(std::stoul(offset, nullptr, 16), bytes.size()) << title << ": " << line;
    while (fields >> byte) bytes.push_back(static_cast<uint8_t>(std::stoul(byte, nullptr, 16)));
  }
  return bytes;
}

TEST(ProtocolGolden, EncoderProducesTheDocumentedBytes) {
  for (const auto &g : goldens()) {
    auto wire = encode(g.message, g.key);
    ASSERT_TRUE(wire.ok()) << g.title << ": " << wire.error().describe();
    EXPECT_EQ(wire.value(), g.wire) << g.title;
  }
}

TEST(ProtocolGolden, DecoderGivesBackTheMessageAndTheMacVerifies) {
  for (const auto &g : goldens()) {
    auto decoded = decode(g.wire);
    ASSERT_TRUE(decoded.ok()) << g.title << ": " << decoded.error().describe();
    EXPECT_EQ(decoded->message, g.message) << g.title;
    EXPECT_TRUE(decoded->skipped_option_types.empty());
    EXPECT_EQ(decoded->auth.key_id, g.key.key_id);
    EXPECT_EQ(decoded->auth.mac_offset, g.wire.size() - kHmacSize);
    EXPECT_EQ(verify_authentication(g.wire, decoded->auth, g.key), AuthVerdict::Authentic)
        << g.title;
  }
}

TEST(ProtocolGolden, ExamplesShowTheDocumentedFields) {
  auto wire = goldens();
  EXPECT_EQ(wire[0].wire.size(), 164u);
  EXPECT_EQ(wire[0].wire[2], 0x60);  // M = hot
  EXPECT_EQ(wire[2].wire[2], 0xe0);  // N + M = hot
  EXPECT_EQ(wire[3].wire[8], 135);   // status Bad sequence number
  auto reply = decode(wire[3].wire);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->message.expected_sequence, 43);
  EXPECT_EQ(lifetime_seconds(wire[0].message.lifetime), 600u);
}

TEST(ProtocolGolden, DocumentHexDumpsAreTheGoldenBytes) {
#ifndef NVMOVE_SOURCE_ROOT
  GTEST_SKIP() << "built without NVMOVE_SOURCE_ROOT: cannot find docs/protocol.md";
#else
  std::ifstream file(std::string(NVMOVE_SOURCE_ROOT) + "/docs/protocol.md");
  ASSERT_TRUE(file) << "cannot open docs/protocol.md under " << NVMOVE_SOURCE_ROOT;
  std::stringstream doc;
  doc << file.rdbuf();
  for (const auto &g : goldens())
    EXPECT_EQ(hex_dump_from_doc(doc.str(), g.title), g.wire) << g.title << " in docs/protocol.md";
#endif
}

}  // namespace
