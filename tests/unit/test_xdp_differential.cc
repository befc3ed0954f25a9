// The XDP program (drivers/xdp/nve_xdp.bpf.c) beside the DPDK pipeline, on
// the same packets and the same routes (the test bed's). For every packet:
//  - XDP forwards it (XDP_TX, XDP_REDIRECT): the DPDK path's output, byte for
//    byte, on the same port, and the same counters moved;
//  - XDP drops it: the DPDK path drops it too, on the same counter;
//  - XDP hands it to the kernel (XDP_PASS): untouched, only rx_packets
//    counted;
// and wherever XDP and the DPDK path part ways, the case must be one
// docs/xdp.md lists (kDocumented). Any other difference fails. The program
// runs through bpf_prog_test_run_opts: no NIC.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/classify.h"
#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_program.h"
#include "drivers/xdp/xdp_routes.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;
using drivers::XdpProgram;

namespace {

constexpr uint32_t kLoopback = 1;  // port 0 (the fabric) "receives" on lo

// Where the two paths part ways, by case: docs/xdp.md's table.
const std::map<std::string, std::string> kDocumented = {
    {"encap_ipv6", "IPv6: the kernel (not in the program yet)"},
    {"arp_reply", "ARP: the kernel"},
    {"no_route", "no host route: the kernel's routing table (the DPDK path: the fabric gateway)"},
    {"options", "IPv4 options: the kernel"},
    {"ttl_1", "TTL running out: dropped, no Time Exceeded from XDP yet"},
    {"too_big_df", "too big for the tunnel: dropped, no Fragmentation Needed from XDP yet"},
};

std::string hex(const std::vector<uint8_t> &v) { return testbed::hex(v.data(), v.size()); }

void fix_checksum(std::vector<uint8_t> &f) {
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// kV4In (Eth/IPv4/UDP from the fabric to the moved 10.0.0.9) edited.
std::vector<uint8_t> v4(uint8_t last_octet, uint8_t ttl, bool df, uint8_t tos) {
  std::vector<uint8_t> f = testbed::unhex(testbed::kV4In);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  reinterpret_cast<uint8_t *>(&ip->dst_addr)[3] = last_octet;
  ip->time_to_live = ttl;
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->type_of_service = tos;
  fix_checksum(f);
  return f;
}

template <typename Edit>
std::vector<uint8_t> edited(std::vector<uint8_t> f, Edit edit, bool fix = true) {
  edit(f, reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14));
  if (fix) fix_checksum(f);
  return f;
}

struct Case {
  std::string name;
  uint16_t in_port;
  std::vector<uint8_t> frame;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const auto &g : testbed::golden_packets()) out.push_back({g.name, g.in_port, testbed::unhex(g.input)});
  out.push_back({"local_v4", 0, v4(5, 10, true, 0)});           // 10.0.0.5, the local VM
  out.push_back({"encap_v4_no_df", 0, v4(9, 64, false, 0x02)}); // an ID from the counter, ECT(0)
  out.push_back({"encap_v4_ce", 0, v4(9, 2, true, 0x03)});      // CE copied (RFC 6040 normal mode)
  auto padded = v4(9, 64, true, 0);
  padded.insert(padded.end(), 10, 0xee);                         // Ethernet padding: trimmed
  out.push_back({"padded", 0, padded});
  out.push_back({"bad_length", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(400); })});
  out.push_back({"bad_checksum", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->hdr_checksum ^= 0x0101; }, false)});
  out.push_back({"bad_source", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->src_addr = rte_cpu_to_be_32(0x7f000001); })});
  out.push_back({"multicast", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->dst_addr = rte_cpu_to_be_32(0xe0000005); })});
  out.push_back({"not_for_us", 0, edited(v4(9, 64, true, 0), [](auto &f, auto *) { f[5] = 0x77; })});
  out.push_back({"bad_version", 0, edited(v4(9, 64, true, 0), [](auto &, auto *ip) { ip->version_ihl = 0x65; })});
  out.push_back({"options", 0, edited(v4(9, 64, true, 0), [](auto &f, auto *ip) {
                   ip->version_ihl = 0x46;  // 4 bytes of options (NOPs) before the UDP header
                   f.insert(f.begin() + 34, {1, 1, 1, 0});
                   ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
                   ip->total_length = rte_cpu_to_be_16(rte_be_to_cpu_16(ip->total_length) + 4);
                 })});
  out.push_back({"ttl_1", 0, v4(9, 1, true, 0)});
  out.push_back({"no_route", 0, v4(77, 64, true, 0)});
  auto big = v4(9, 64, true, 0);  // 1481-byte IP packet: 1501 with the outer header
  big.resize(14 + 1481, 0x5a);
  out.push_back({"too_big_df", 0, edited(big, [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(1481); })});
  auto fits = v4(9, 64, true, 0);  // 1480: exactly the tunnel MTU once encapsulated
  fits.resize(14 + 1480, 0x5a);
  out.push_back({"mtu_exactly", 0, edited(fits, [](auto &, auto *ip) { ip->total_length = rte_cpu_to_be_16(1480); })});
  // A tunnel from a known NVE to us for the moved 10.0.0.9: tunnelled on
  // (re-encapsulation).
  out.push_back({"decap_reencap", 0, edited(testbed::unhex(testbed::kDecapIn), [](auto &f, auto *) {
                   auto *in = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 34);
                   reinterpret_cast<uint8_t *>(&in->dst_addr)[3] = 9;
                   in->hdr_checksum = 0;
                   in->hdr_checksum = rte_ipv4_cksum(in);
                 })});
  // From the VM behind the access port to the moved 10.0.0.9: tunnelled out
  // of the fabric port (a redirect).
  out.push_back({"from_vm", 1, edited(v4(9, 64, true, 0), [](auto &f, auto *ip) {
                   std::memcpy(f.data(), testbed::kAccessMac.data(), 6);
                   std::memcpy(f.data() + 6, testbed::kVmMac.data(), 6);
                   ip->src_addr = rte_cpu_to_be_32(0x0a000005);
                 })});
  return out;
}

// Any interface of this host but lo, as the access port's "receiving"
// device: the test run transmits nothing, it only needs a device.
uint32_t another_ifindex() {
  uint32_t found = 0;
  if (struct if_nameindex *all = if_nameindex()) {
    for (auto *i = all; i->if_index != 0; i++)
      if (i->if_index != kLoopback && !found) found = i->if_index;
    if_freenameindex(all);
  }
  return found;
}

using Counts = std::vector<uint64_t>;

class XdpDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<testbed::Fixture>("xdp");
    prog_ = std::make_unique<XdpProgram>(NVE_XDP_OBJECT);
    access_if_ = another_ifindex();
    const DataplaneSettings &s = tb_->settings();
    for (uint32_t p = 0; p < 2; p++) {
      MacAddress mac;
      std::memcpy(mac.data(), s.ports[p].mac, 6);
      const uint32_t ifindex = p == 0 ? kLoopback : (access_if_ ? access_if_ : 1000);
      prog_->set_port(p, ifindex, mac, ingress_vn(s, s.ports[p]), s.ports[p].vlan);
      prog_->set_redirect(p, kLoopback);  // any device: the test run does not transmit
    }
    // The test bed's routes through the map backend; what the program does
    // not carry yet is refused with its reason.
    routes_ = std::make_unique<drivers::XdpRoutes>(*prog_, testbed::fabric(), settings_of(s));
    const auto all = testbed::routes();
    const auto res = routes_->apply(all);
    for (const auto &e : res.errors)
      EXPECT_NE(e.reason.find("not in the XDP program"), std::string::npos)
          << all[e.index].route.address.to_string() << ": " << e.reason;
    EXPECT_EQ(res.applied, 4u) << "10.0.0.5 in VN 0 and VN 5, 10.0.0.9 moved, the VN 5 endpoint";
    ASSERT_TRUE(res.errors.size() + res.applied == all.size());
  }

  static nve_xdp_settings settings_of(const DataplaneSettings &s) {
    nve_xdp_settings set{};
    set.tunnel_mtu = s.tunnel_mtu;
    set.dscp_set = s.dscp_set >= 0;
    set.dscp = static_cast<uint8_t>(s.dscp_set >= 0 ? s.dscp_set : 0);
    set.fabric_port = static_cast<uint8_t>(s.fabric_port);
    if (s.has_v4) {
      set.own_vn[set.n_own] = s.fabric_vn;
      std::memcpy(&set.own_v4[set.n_own++], s.own_v4, 4);
    }
    drivers::set_tunnel_peers(set, std::span(s.tunnel_peers, s.n_tunnel_peers));
    return set;
  }

  // Settings changed on the DPDK side: the same on the program's (the map
  // backend's routes stay).
  void write_settings() {
    routes_ = std::make_unique<drivers::XdpRoutes>(*prog_, testbed::fabric(), settings_of(tb_->settings()));
    routes_->apply(testbed::routes());
  }

  uint32_t ifindex_of(uint16_t port) const { return port == 0 ? kLoopback : access_if_; }

  Counts dpdk_counts() const {
    Counts c(kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++) c[i] = tb_->ctx().counters.get(static_cast<Counter>(i));
    return c;
  }
  Counts xdp_counts() const {
    Counts c(kCounterCount);
    for (size_t i = 0; i < kCounterCount; i++) c[i] = prog_->counter(static_cast<uint32_t>(i));
    return c;
  }

  // The DPDK path: (out port, bytes) or nothing.
  std::optional<std::pair<uint16_t, std::vector<uint8_t>>> dpdk(const Case &c) {
    rte_mbuf *m = tb_->mbuf(c.frame.data(), c.frame.size());
    process_burst(tb_->ctx(), c.in_port, &m, 1);
    std::optional<std::pair<uint16_t, std::vector<uint8_t>>> out;
    for (uint16_t p = 0; p < kMaxPorts; p++) {
      const OutQueue &q = tb_->ctx().out[p];
      if (q.n == 0) continue;
      std::vector<uint8_t> b(rte_pktmbuf_pkt_len(q.pkts[0]));
      const auto *d = static_cast<const uint8_t *>(rte_pktmbuf_read(q.pkts[0], 0, static_cast<uint32_t>(b.size()), b.data()));
      std::memcpy(b.data(), d, b.size());
      out = {{p, b}};
    }
    tb_->drain_outputs();
    return out;
  }

  // One case through both; returns the XDP verdict.
  uint32_t compare(const Case &c) {
    SCOPED_TRACE(c.name);
    const Counts d0 = dpdk_counts(), x0 = xdp_counts();
    const auto want = dpdk(c);
    const auto got = prog_->run(c.frame, ifindex_of(c.in_port));
    const Counts d1 = dpdk_counts(), x1 = xdp_counts();
    const bool documented = kDocumented.count(c.name) > 0;
    auto moved = [&](const Counts &a, const Counts &b) {
      std::string s;
      for (size_t i = 0; i < a.size(); i++)
        if (b[i] != a[i] && i != static_cast<size_t>(Counter::tx_packets))  // the DPDK path counts TX at the port
          s += std::string(kCounterInfo[i].name) + "+" + std::to_string(b[i] - a[i]) + " ";
      return s;
    };
    if (got.verdict == XDP_PASS) {
      EXPECT_TRUE(documented) << "XDP hands it to the kernel; the DPDK path "
                              << (want ? "sends it on port " + std::to_string(want->first) : "drops it: " + moved(d0, d1));
      EXPECT_EQ(hex(got.out), hex(c.frame)) << "passed to the kernel as it came";
      EXPECT_EQ(moved(x0, x1), "rx_packets+1 ");
      return got.verdict;
    }
    if (documented) {  // dropped by XDP where the DPDK path also answers (ICMP): the drop counter agrees
      EXPECT_EQ(got.verdict, static_cast<uint32_t>(XDP_DROP));
      for (size_t i = 0; i < x0.size(); i++)
        if (x1[i] != x0[i]) EXPECT_NE(d1[i], d0[i]) << kCounterInfo[i].name << " moved in XDP only";
      return got.verdict;
    }
    EXPECT_EQ(moved(x0, x1), moved(d0, d1)) << "the same counters";
    if (got.verdict == XDP_DROP) {
      EXPECT_FALSE(want) << "XDP drops what the DPDK path sends on port " << (want ? want->first : 0);
      return got.verdict;
    }
    EXPECT_TRUE(got.verdict == XDP_TX || got.verdict == XDP_REDIRECT) << "verdict " << got.verdict;
    if (!want) {
      ADD_FAILURE() << "XDP forwards what the DPDK path drops";
      return got.verdict;
    }
    if (got.verdict == XDP_TX) EXPECT_EQ(c.in_port, want->first) << "XDP sends it back out the port it came in";
    else EXPECT_NE(c.in_port, want->first) << "XDP redirects it to another port";
    EXPECT_EQ(hex(got.out), hex(want->second));
    return got.verdict;
  }

  std::unique_ptr<testbed::Fixture> tb_;
  std::unique_ptr<XdpProgram> prog_;
  std::unique_ptr<drivers::XdpRoutes> routes_;
  uint32_t access_if_ = 0;
};

}  // namespace

TEST_F(XdpDifferential, EveryPacketAsTheDpdkPathOrADocumentedDifference) {
  std::map<uint32_t, int> verdicts;
  for (const Case &c : cases()) {
    if (c.in_port == 1 && !access_if_) {  // no second device on this host: said, not silent
      std::printf("  %-18s skipped: no interface but lo to arrive on\n", c.name.c_str());
      continue;
    }
    const uint32_t v = compare(c);
    verdicts[v]++;
    std::printf("  %-18s in %u: %s\n", c.name.c_str(), c.in_port, v == XDP_TX ? "tx" : v == XDP_REDIRECT ? "redirect" : v == XDP_DROP ? "drop" : v == XDP_PASS ? "pass" : "?");
  }
  EXPECT_EQ(verdicts[XDP_TX], 6) << "encap_ipv4, no DF, CE, padded, mtu_exactly, decap_reencap: out the port they came in";
  EXPECT_GE(verdicts[XDP_REDIRECT], 3) << "local_v4, decap_ipv4, decap_vn5 (and from_vm): to the other port";
  EXPECT_GE(verdicts[XDP_DROP], 6) << "the malformed ones and the documented drops";
  EXPECT_EQ(verdicts[XDP_PASS], 4) << "encap_ipv6, arp_reply, options, no_route";
}

// tunnel.dscp set: the outer DSCP is the configured one, the ECN the inner's.
TEST_F(XdpDifferential, AConfiguredDscpIsWrittenAsTheDpdkPathWritesIt) {
  tb_->settings().dscp_set = 10;
  write_settings();
  EXPECT_EQ(compare({"dscp_set", 0, v4(9, 64, true, 0xb9)}), static_cast<uint32_t>(XDP_TX));
}

// The map backend: one outer header per destination NVE, shared by its
// routes and freed with the last; removal, replacement, refusals; a gateway
// whose MAC is unknown makes the program drop what it cannot address
// (drop_neighbour_unresolved, as the DPDK path).
TEST_F(XdpDifferential, TheMapBackendSharesEachNvesHeaderAndFreesItWithTheLastRoute) {
  auto tunnel = [](uint8_t last, const char *nve) {
    RouteChange c;
    c.route = {0, testbed::addr(("10.0.0." + std::to_string(last)).c_str())};
    c.action = TunnelToNve{testbed::addr(nve)};
    return c;
  };
  auto removal = [](uint8_t last) {
    RouteChange c;
    c.op = RouteChange::Op::Remove;
    c.route = {0, testbed::addr(("10.0.0." + std::to_string(last)).c_str())};
    return c;
  };
  ASSERT_EQ(routes_->nve_count(), 1u);  // 198.51.100.2, for 10.0.0.9
  std::vector<RouteChange> more = {tunnel(20, "198.51.100.2"), tunnel(21, "198.51.100.3")};
  EXPECT_TRUE(routes_->apply(more).errors.empty());
  EXPECT_EQ(routes_->nve_count(), 2u) << "10.0.0.20 shares 198.51.100.2's header";
  const auto to_21 = prog_->run(v4(21, 64, true, 0), kLoopback);  // (the DPDK side has not these routes)
  EXPECT_EQ(to_21.verdict, static_cast<uint32_t>(XDP_TX));
  ASSERT_GE(to_21.out.size(), 34u);
  EXPECT_EQ(hex(std::vector<uint8_t>(to_21.out.begin() + 30, to_21.out.begin() + 34)), "c6336403")
      << "outer destination 198.51.100.3";
  const HostRoute r21{0, testbed::addr("10.0.0.21")};
  EXPECT_EQ(routes_->find(r21)->hits, 1u) << "the program counts each route's hits (the agent's idle timers)";

  // The gateway's MAC forgotten: no header can be addressed, the program drops.
  dp::FabricParams unknown = testbed::fabric();
  unknown.gateway_mac_v4.reset();
  routes_->set_fabric(unknown);
  const uint64_t before = prog_->counter(NVE_XDP_C_drop_neighbour_unresolved);
  EXPECT_EQ(prog_->run(v4(21, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_DROP));
  EXPECT_EQ(prog_->counter(NVE_XDP_C_drop_neighbour_unresolved), before + 1);
  routes_->set_fabric(testbed::fabric());

  std::vector<RouteChange> gone = {removal(9), removal(20), removal(77)};
  const auto res = routes_->apply(gone);
  ASSERT_EQ(res.errors.size(), 1u);
  EXPECT_EQ(res.errors[0].index, 2u);
  EXPECT_EQ(res.errors[0].reason, "no such route");
  EXPECT_EQ(routes_->nve_count(), 1u) << "198.51.100.2's last route went";
  EXPECT_FALSE(routes_->find({0, testbed::addr("10.0.0.9")}));
  EXPECT_EQ(prog_->run(v4(9, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_PASS)) << "no route any more";

  RouteChange local;
  local.route = {0, testbed::addr("10.0.0.21")};
  local.action = DeliverLocal{1, testbed::kVmMac, 0};
  std::vector<RouteChange> replace = {local};
  EXPECT_TRUE(routes_->apply(replace).errors.empty());
  EXPECT_EQ(routes_->nve_count(), 0u);
  EXPECT_EQ(routes_->find({0, testbed::addr("10.0.0.21")})->action, RouteAction{local.action});
  EXPECT_EQ(prog_->run(v4(21, 64, true, 0), kLoopback).verdict, static_cast<uint32_t>(XDP_REDIRECT));
  EXPECT_EQ(routes_->find(r21)->hits, 3u) << "a replaced route keeps its counters (one more while unresolved)";

  RouteChange v6 = tunnel(30, "198.51.100.2");
  v6.route.address = testbed::addr("fd00::30");
  std::vector<RouteChange> refused = {v6};
  const auto r6 = routes_->apply(refused);
  ASSERT_EQ(r6.errors.size(), 1u);
  EXPECT_EQ(r6.errors[0].reason, "IPv6 host routes are not in the XDP program yet");
}
