#include "control/nved/vm_announcement.h"

#include <cstring>

namespace nvmove {
namespace {

uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

constexpr uint16_t kEtherArp = 0x0806, kEtherIpv6 = 0x86dd, kEtherVlan = 0x8100;
constexpr uint8_t kIcmpv6 = 58, kNeighbourAdvert = 136, kOptTargetLinkLayer = 2;

std::optional<VmAnnouncement> from_arp(const uint8_t *p, size_t len, uint16_t vlan) {
  // htype 1, ptype IPv4, 6/4 byte addresses, request or reply.
  if (len < 28 || be16(p) != 1 || be16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4) return std::nullopt;
  const uint16_t op = be16(p + 6);
  if (op != 1 && op != 2) return std::nullopt;
  const uint8_t *sha = p + 8, *spa = p + 14, *tpa = p + 24;
  if (std::memcmp(spa, tpa, 4) != 0) return std::nullopt;        // not gratuitous: an ordinary query
  if (spa[0] == 0 && spa[1] == 0 && spa[2] == 0 && spa[3] == 0) return std::nullopt;  // a probe
  if (sha[0] & 1) return std::nullopt;
  VmAnnouncement a;
  std::memcpy(a.mac.data(), sha, 6);
  a.address.family = 4;
  std::memcpy(a.address.bytes.data(), spa, 4);
  a.vlan = vlan;
  return a;
}

std::optional<VmAnnouncement> from_na(const uint8_t *p, size_t len, uint16_t vlan) {
  if (len < 40 + 24 || (p[0] >> 4) != 6 || p[6] != kIcmpv6 || p[7] != 255) return std::nullopt;
  const size_t payload = be16(p + 4);
  if (40 + payload > len || payload < 24) return std::nullopt;
  const uint8_t *icmp = p + 40;
  if (icmp[0] != kNeighbourAdvert || icmp[1] != 0) return std::nullopt;
  if (icmp[4] & 0x40) return std::nullopt;  // solicited: an answer, not an announcement
  const uint8_t *target = icmp + 8;
  if (target[0] == 0xff) return std::nullopt;
  for (size_t off = 24; off + 8 <= payload;) {
    const size_t olen = size_t{icmp[off + 1]} * 8;
    if (olen == 0 || off + olen > payload) return std::nullopt;
    if (icmp[off] == kOptTargetLinkLayer && olen == 8) {
      if (icmp[off + 2] & 1) return std::nullopt;
      VmAnnouncement a;
      std::memcpy(a.mac.data(), icmp + off + 2, 6);
      a.address.family = 6;
      std::memcpy(a.address.bytes.data(), target, 16);
      a.vlan = vlan;
      return a;
    }
    off += olen;
  }
  return std::nullopt;  // without the MAC it announces nothing we can check
}

}  // namespace

std::optional<VmAnnouncement> parse_vm_announcement(const uint8_t *frame, size_t len) {
  if (len < 14) return std::nullopt;
  size_t l2 = 14;
  uint16_t et = be16(frame + 12), vlan = 0;
  if (et == kEtherVlan) {
    if (len < 18) return std::nullopt;
    vlan = be16(frame + 14) & 0xfff;
    et = be16(frame + 16);
    l2 = 18;
  }
  if (et == kEtherArp) return from_arp(frame + l2, len - l2, vlan);
  if (et == kEtherIpv6) return from_na(frame + l2, len - l2, vlan);
  return std::nullopt;
}

}  // namespace nvmove
