// The one text form of a VM-ID (control/protocol/vm_id_text.h): nved's agent,
// nvad and nvectl print and read VM-IDs through it.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "control/protocol/vm_id_text.h"

using namespace nvmove::proto;

namespace {
VmId bytes(std::string_view s) { return VmId(s.begin(), s.end()); }
}  // namespace

TEST(VmIdText, NamesStayNamesUuidsAreUuidsTheRestIsHex) {
  EXPECT_EQ(vm_id_text(bytes("web-1")), "web-1");
  EXPECT_EQ(parse_vm_id("web-1"), bytes("web-1"));
  EXPECT_EQ(vm_id_text(bytes("0123456789abcdef")), "0123456789abcdef");  // 16 printable bytes: a name
  VmId uuid = {0x8c, 0x6f, 0x1e, 0x00, 0x12, 0x34, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0x11, 0x22, 0x33};
  EXPECT_EQ(vm_id_text(uuid), "8c6f1e00-1234-4567-89ab-cdef00112233");
  EXPECT_EQ(parse_vm_id("8C6F1E00-1234-4567-89AB-CDEF00112233"), uuid);
  EXPECT_EQ(vm_id_text(VmId{0x01, 0xfe}), "hex:01fe");
  EXPECT_EQ(parse_vm_id("hex:01FE"), (VmId{0x01, 0xfe}));
  // Printable IDs that would read back as something else are written in hex.
  EXPECT_EQ(vm_id_text(bytes("hex:ab")), "hex:6865783a6162");
  EXPECT_EQ(vm_id_text(bytes("8c6f1e00-1234-4567-89ab-cdef00112233")).substr(0, 4), "hex:");
  EXPECT_EQ(vm_id_text(bytes("a b")), "hex:612062");
}

TEST(VmIdText, RefusesWhatIsNoVmId) {
  for (const char *bad : {"", "hex:", "hex:0", "hex:zz", "a b", "11111111-1111-1111-1111-1111111111a",
                          "111111111-111-1111-1111-1111111111ab"})
    EXPECT_FALSE(parse_vm_id(bad)) << bad;
  EXPECT_TRUE(parse_vm_id(std::string(253, 'x')));
  EXPECT_FALSE(parse_vm_id(std::string(254, 'x')));
}

TEST(VmIdText, EveryIdReadsBackAsItself) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; i++) {
    VmId id(1 + rng() % 40);
    const bool printable = rng() % 2;
    for (auto &b : id) b = static_cast<uint8_t>(printable ? 0x21 + rng() % 94 : rng());
    if (rng() % 8 == 0) id.resize(16);
    const std::string text = vm_id_text(id);
    ASSERT_EQ(parse_vm_id(text), id) << text;
  }
}
