#include "control/nved/frame_summary.h"

#include <cstdio>

#include "common/net_types.h"

namespace nvmove {

namespace {

uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

std::string mac_at(const uint8_t *p) {
  MacAddress m;
  for (int i = 0; i < 6; i++) m[i] = p[i];
  return mac_to_string(m);
}

std::string address_at(const uint8_t *p, uint8_t family) {
  IpAddress a;
  a.family = family;
  for (int i = 0; i < (family == 4 ? 4 : 16); i++) a.bytes[i] = p[i];
  return a.to_string();
}

std::string proto_name(uint8_t proto) {
  switch (proto) {
    case 1: return "ICMP";
    case 4: return "IPIP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 41: return "IPv6-in-IP";
    case 58: return "ICMPv6";
    default: return "proto " + std::to_string(proto);
  }
}

// An IP packet at p (n bytes known); tunnels recurse once.
std::string ip_summary(const uint8_t *p, size_t n, int depth) {
  if (n < 1) return "(truncated)";
  const int version = p[0] >> 4;
  std::string s;
  uint8_t proto = 0;
  size_t hl = 0;
  if (version == 4 && n >= 20) {
    hl = size_t(p[0] & 15) * 4;
    proto = p[9];
    s = "IPv4 " + address_at(p + 12, 4) + " > " + address_at(p + 16, 4) + " " + proto_name(proto) + " ttl " +
        std::to_string(p[8]);
    const uint16_t frag = be16(p + 6);
    if (frag & 0x2000 || frag & 0x1fff) s += " fragment";
  } else if (version == 6 && n >= 40) {
    hl = 40;
    proto = p[6];
    s = "IPv6 " + address_at(p + 8, 6) + " > " + address_at(p + 24, 6) + " " + proto_name(proto) + " hlim " +
        std::to_string(p[7]);
  } else {
    return "IP version " + std::to_string(version) + " (truncated or malformed)";
  }
  if ((proto == 4 || proto == 41) && depth == 0 && hl < n) s += " [" + ip_summary(p + hl, n - hl, 1) + "]";
  return s;
}

}  // namespace

std::string frame_summary(const uint8_t *f, size_t len) {
  if (len < 14) return "(" + std::to_string(len) + " bytes: shorter than Ethernet)";
  std::string s = mac_at(f + 6) + " > " + mac_at(f);
  size_t off = 12;
  uint16_t type = be16(f + off);
  if (type == 0x8100 && len >= 18) {
    s += " vlan " + std::to_string(be16(f + 14) & 0x0fff);
    off += 4;
    type = be16(f + off);
  }
  off += 2;
  if (type == 0x0800 || type == 0x86dd) return s + ", " + ip_summary(f + off, len - off, 0);
  if (type == 0x0806 && len >= off + 28) {
    const uint16_t op = be16(f + off + 6);
    return s + ", ARP " + (op == 1 ? "who-has " + address_at(f + off + 24, 4) + " tell " + address_at(f + off + 14, 4)
                                   : address_at(f + off + 14, 4) + " is-at " + mac_at(f + off + 8));
  }
  char t[16];
  std::snprintf(t, sizeof t, "0x%04x", type);
  return s + ", ethertype " + t;
}

}  // namespace nvmove
