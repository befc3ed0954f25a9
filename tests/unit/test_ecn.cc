#include <gtest/gtest.h>

#include "dataplane/ecn.h"

using namespace nvmove::dp;

// RFC 6040 section 4.2, Figure 4, all 16 cells. -1 = drop.
TEST(EcnDecap, FullRfc6040Table) {
  struct Cell {
    uint8_t inner, outer;
    int8_t result;
    bool log;
  };
  const Cell table[] = {
      {kNotEct, kNotEct, kNotEct, false}, {kNotEct, kEct0, kNotEct, true},
      {kNotEct, kEct1, kNotEct, true},    {kNotEct, kCe, -1, true},
      {kEct0, kNotEct, kEct0, false},     {kEct0, kEct0, kEct0, false},
      {kEct0, kEct1, kEct1, false},       {kEct0, kCe, kCe, false},
      {kEct1, kNotEct, kEct1, false},     {kEct1, kEct0, kEct1, false},
      {kEct1, kEct1, kEct1, false},       {kEct1, kCe, kCe, false},
      {kCe, kNotEct, kCe, false},         {kCe, kEct0, kCe, false},
      {kCe, kEct1, kCe, true},            {kCe, kCe, kCe, false},
  };
  for (const auto &c : table) {
    const EcnDecap r = ecn_decapsulate(c.inner, c.outer);
    EXPECT_EQ(r.inner, c.result) << "inner " << int(c.inner) << " outer " << int(c.outer);
    EXPECT_EQ(r.log, c.log) << "inner " << int(c.inner) << " outer " << int(c.outer);
  }
}

TEST(EcnDecap, IgnoresDscpBits) {
  EXPECT_EQ(ecn_decapsulate(0xfc | kEct0, 0xa8 | kCe).inner, kCe);
}
