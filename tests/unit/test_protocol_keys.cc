// The key file: format, validation, and the permission check that refuses a
// file others can read.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "control/protocol/address_text.h"
#include "control/protocol/keys.h"

using namespace nvmove::proto;

namespace {

const std::string kHex32(64, 'a');  // 32 bytes of 0xaa
const std::string kHex64(128, 'b');

IpAddress ip(const char *text) { return parse_ip_address(text).value(); }

std::string error_of(const std::string &text) {
  auto table = parse_key_file(text, "keys.conf");
  return table.ok() ? "" : table.error().message;
}

TEST(ProtocolKeys, ParsesPeersKeysAndComments) {
  std::string text =
      "# nvad keys\n"
      "\n"
      "192.0.2.1   1  " + kHex32 + "   # NVE A\n"
      "2001:db8::2 7  " + kHex64 + "\r\n"
      "\t192.0.2.1 2 " + std::string(64, 'C') + "\n";
  auto table = parse_key_file(text, "keys.conf");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->size(), 3u);
  const AuthKey *a1 = table->find(ip("192.0.2.1"), 1);
  ASSERT_NE(a1, nullptr);
  EXPECT_EQ(a1->secret, std::vector<uint8_t>(32, 0xaa));
  EXPECT_EQ(table->find(ip("2001:db8::2"), 7)->secret.size(), 64u);
  EXPECT_EQ(table->find(ip("192.0.2.1"), 7), nullptr);
  EXPECT_EQ(table->find(ip("192.0.2.9"), 1), nullptr);
}

TEST(ProtocolKeys, TheLastListedKeyIsUsedForSending) {
  auto table = parse_key_file("192.0.2.1 9 " + kHex32 + "\n192.0.2.1 3 " + kHex64 + "\n", "k");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->sending_key(ip("192.0.2.1"))->key_id, 3u);
  EXPECT_NE(table->find(ip("192.0.2.1"), 9), nullptr);  // still accepted
  EXPECT_EQ(table->sending_key(ip("192.0.2.2")), nullptr);
}

TEST(ProtocolKeys, EveryMistakeIsReportedWithFileAndLine) {
  EXPECT_EQ(error_of("# only a comment\n"), "keys.conf: no keys");
  EXPECT_EQ(error_of(""), "keys.conf: no keys");
  EXPECT_EQ(error_of("\n192.0.2.1 1\n"),
            "keys.conf:2: expected '<peer address> <key id> <hex key>', found 2 fields");
  EXPECT_EQ(error_of("192.0.2.1 1 " + kHex32 + " extra\n"),
            "keys.conf:1: expected '<peer address> <key id> <hex key>', found 4 fields");
  EXPECT_EQ(error_of("nve-a 1 " + kHex32), "keys.conf:1: 'nve-a' is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("fe80::1%eth0 1 " + kHex32),
            "keys.conf:1: 'fe80::1%eth0' is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of("192.0.2.1 0 " + kHex32),
            "keys.conf:1: key id '0' is not a number from 1 to 4294967295");
  EXPECT_EQ(error_of("192.0.2.1 4294967296 " + kHex32),
            "keys.conf:1: key id '4294967296' is not a number from 1 to 4294967295");
  EXPECT_EQ(error_of("192.0.2.1 -1 " + kHex32),
            "keys.conf:1: key id '-1' is not a number from 1 to 4294967295");
  EXPECT_EQ(error_of("192.0.2.1 1 " + kHex32 + "a"),
            "keys.conf:1: key is not an even number of hex digits");
  EXPECT_EQ(error_of("192.0.2.1 1 " + std::string(62, 'a') + "zz"),
            "keys.conf:1: key is not an even number of hex digits");
  EXPECT_EQ(error_of("192.0.2.1 1 " + std::string(62, 'a')),
            "keys.conf:1: key is 31 bytes, at least 32 are required");
  EXPECT_EQ(error_of("192.0.2.1 1 " + std::string(130, 'a')),
            "keys.conf:1: key is 65 bytes, at most 64 are useful with HMAC-SHA-256");
  EXPECT_EQ(error_of("192.0.2.1 1 " + kHex32 + "\n192.0.2.1 1 " + kHex64),
            "keys.conf:2: key id 1 is listed twice for 192.0.2.1");
}

TEST(ProtocolKeys, ErrorsNeverEchoKeyMaterial) {
  std::string secret_hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";  // 31 bytes
  std::string message = error_of("192.0.2.1 1 " + secret_hex);
  EXPECT_FALSE(message.empty());
  EXPECT_EQ(message.find("0123456789"), std::string::npos) << message;
}

TEST(ProtocolKeys, PermissionRules) {
  EXPECT_FALSE(key_file_permission_problem(S_IFREG | 0600, 1000, 1000).has_value());
  EXPECT_FALSE(key_file_permission_problem(S_IFREG | 0400, 1000, 1000).has_value());
  EXPECT_FALSE(key_file_permission_problem(S_IFREG | 0600, 0, 1000).has_value());  // root-owned
  for (mode_t mode : {0640, 0604, 0644, 0660, 0601, 0610, 0777}) {
    auto problem = key_file_permission_problem(S_IFREG | mode, 1000, 1000);
    ASSERT_TRUE(problem.has_value()) << std::oct << mode;
    EXPECT_NE(problem->find("group or others"), std::string::npos) << *problem;
  }
  auto foreign = key_file_permission_problem(S_IFREG | 0600, 1001, 1000);
  ASSERT_TRUE(foreign.has_value());
  EXPECT_NE(foreign->find("owned by uid 1001"), std::string::npos) << *foreign;
}

class KeyFileOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "nvmove_keys_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/keys.conf";
  }
  void TearDown() override {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  void write(const std::string &text, mode_t mode) {
    std::ofstream(path_) << text;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }
  std::string dir_, path_;
};

TEST_F(KeyFileOnDisk, LoadsAPrivateFile) {
  write("192.0.2.1 1 " + kHex32 + "\n", 0600);
  auto table = load_key_file(path_);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_NE(table->find(ip("192.0.2.1"), 1), nullptr);
}

TEST_F(KeyFileOnDisk, RefusesAFileOthersCanRead) {
  write("192.0.2.1 1 " + kHex32 + "\n", 0644);
  auto table = load_key_file(path_);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().message,
            path_ + ": mode 0644 lets group or others access the key file; it must be 0600 or "
                    "0400 (chmod 600)");
}

TEST_F(KeyFileOnDisk, RefusesAFileTheGroupCanRead) {
  write("192.0.2.1 1 " + kHex32 + "\n", 0640);
  auto table = load_key_file(path_);
  ASSERT_FALSE(table.ok());
  EXPECT_NE(table.error().message.find("mode 0640"), std::string::npos);
}

TEST_F(KeyFileOnDisk, ReportsParseErrorsWithThePath) {
  write("192.0.2.1 1 abc\n", 0600);
  auto table = load_key_file(path_);
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().message, path_ + ":1: key is not an even number of hex digits");
}

TEST_F(KeyFileOnDisk, MissingFileAndDirectory) {
  auto missing = load_key_file(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, path_ + ": cannot open: No such file or directory");
  auto directory = load_key_file(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().message, dir_ + ": not a regular file");
}

}  // namespace
