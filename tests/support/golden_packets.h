// Golden packets as data (Katran's lib/testing fixtures are the model): a
// description, the ingress port, the frame, where it must leave (or that
// nothing leaves) and the counter it must count. The expected frames were
// built with scapy, an independent model, not from nved's output.
// tests/unit/test_forward.cc checks every row byte for byte on the test bed
// (dataplane_testbed.h); nve_bench_fastpath --golden times the same rows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/counters.h"

namespace nvmove::dp::testbed {

struct GoldenPacket {
  const char *name;  // short, for benchmark figures: golden_<name>
  const char *description;
  uint16_t in_port;
  const char *input;  // hex
  int out_port;       // -1: nothing leaves
  const char *output;  // hex; nullptr when nothing leaves
  Counter counted;
};

std::span<const GoldenPacket> golden_packets();

// The frames the single tests build variations of.
extern const char *const kV4In;      // Eth/IPv4/UDP from the fabric to the moved VM 10.0.0.9
extern const char *const kDecapIn;   // IPv4-in-IPv4 from 198.51.100.2 to the local VM 10.0.0.5

std::vector<uint8_t> unhex(std::string_view hex);
// The other way: lower-case hex, two digits a byte.
std::string hex(const uint8_t *p, size_t n);

}  // namespace nvmove::dp::testbed
