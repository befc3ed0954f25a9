// parse_vm_announcement: which frames are a VM announcing itself (gratuitous
// ARP, unsolicited NA with its MAC) and which are not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/nved/vm_announcement.h"

using namespace nvmove;

namespace {
std::vector<uint8_t> unhex(const std::string &h) {
  std::vector<uint8_t> b;
  for (size_t i = 0; i + 1 < h.size(); i += 2) b.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return b;
}
std::optional<VmAnnouncement> parse(const std::string &h) {
  const auto b = unhex(h);
  return parse_vm_announcement(b.data(), b.size());
}
// Ethernet broadcast from 02:00:00:00:01:01, ARP request 10.0.0.5 -> 10.0.0.5.
const std::string kGarp =
    "ffffffffffff0200000001010806" "0001080006040001" "020000000101" "0a000005" "000000000000" "0a000005";
}  // namespace

TEST(VmAnnouncement, GratuitousArpRequestAndReply) {
  auto a = parse(kGarp);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->mac, (MacAddress{2, 0, 0, 0, 1, 1}));
  EXPECT_EQ(a->address, *IpAddress::parse("10.0.0.5"));
  EXPECT_EQ(a->vlan, 0);
  std::string reply = kGarp;
  reply.replace(28 + 12, 4, "0002");  // op 2
  EXPECT_TRUE(parse(reply));
  // Tagged: VLAN 100.
  std::string tagged = kGarp.substr(0, 24) + "81000064" + kGarp.substr(24);
  auto t = parse(tagged);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vlan, 100);
}

TEST(VmAnnouncement, OrdinaryArpProbesAndJunkAreNot) {
  std::string query = kGarp;
  query.replace(28 + 48, 8, "0a000001");  // asks for another address
  EXPECT_FALSE(parse(query));
  std::string probe = kGarp;
  probe.replace(28 + 28, 8, "00000000");  // sender 0.0.0.0 (RFC 5227 probe)
  probe.replace(28 + 48, 8, "00000000");
  EXPECT_FALSE(parse(probe));
  for (size_t n = 0; n < kGarp.size(); n += 2) EXPECT_FALSE(parse(kGarp.substr(0, n))) << n / 2 << " bytes";
  EXPECT_FALSE(parse("ffffffffffff0200000001010800" + kGarp.substr(28)));  // IPv4 ethertype
}

TEST(VmAnnouncement, UnsolicitedNeighbourAdvertisementWithItsMac) {
  // To ff02::1, hop limit 255, NA (136) override set, solicited clear,
  // target fd00::5, option 2 (target link-layer) 02:00:00:00:01:01.
  const std::string na =
      "333300000001020000000101" "86dd" "6000000000203aff" "fd000000000000000000000000000005"
      "ff020000000000000000000000000001" "88000000" "20000000" "fd000000000000000000000000000005"
      "0201020000000101";
  auto a = parse(na);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address, *IpAddress::parse("fd00::5"));
  EXPECT_EQ(a->mac, (MacAddress{2, 0, 0, 0, 1, 1}));
  std::string solicited = na;
  solicited.replace(14 * 2 + 80 + 8, 2, "60");  // S flag set: an answer
  EXPECT_FALSE(parse(solicited));
  EXPECT_FALSE(parse(na.substr(0, na.size() - 16)));  // no target link-layer option
}
