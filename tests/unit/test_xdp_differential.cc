// The XDP program (drivers/xdp/nve_xdp.bpf.c) beside the DPDK pipeline, on
// the same packets and the same routes (the test bed's): whenever XDP
// forwards a packet (XDP_TX, XDP_REDIRECT), its output must be the DPDK
// path's, byte for byte, on the same port, with the same counter moved;
// whenever it hands one to the kernel (XDP_PASS), the case must be one that
// docs/xdp.md lists as the kernel's. A difference that is not documented
// fails. The program runs through bpf_prog_test_run_opts: no NIC.
#include <gtest/gtest.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <linux/bpf.h>

#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_program.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;
using drivers::XdpProgram;

namespace {

constexpr uint32_t kLoopback = 1;  // the ifindex packets "arrive" on: lo

// Where XDP leaves a packet to the kernel and the DPDK path does something
// itself: the documented differences (docs/xdp.md), by input.
const std::map<std::string, std::string> kKernelHandles = {
    {"encap_ipv6", "IPv6: not in the XDP program yet"},
    {"decap_ipv4", "tunnels to our own addresses: decapsulated by the kernel"},
    {"decap_vn5", "tunnels to our own addresses: decapsulated by the kernel"},
    {"decap_stranger", "tunnels to our own addresses: the kernel (which has no tunnel device: dropped)"},
    {"decap_ce_not_ect", "tunnels to our own addresses: the kernel"},
    {"arp_reply", "ARP: the kernel answers for the interface's addresses"},
    {"ttl_1", "TTL 1: the kernel sends Time Exceeded"},
    {"no_route", "no host route: the kernel's routing table (the DPDK path: the fabric gateway)"},
};

std::string hex(const std::vector<uint8_t> &v) { return testbed::hex(v.data(), v.size()); }

// kV4In (to the moved 10.0.0.9) edited: destination, TTL, DF, TOS.
std::vector<uint8_t> v4(uint8_t last_octet, uint8_t ttl, bool df, uint8_t tos) {
  std::vector<uint8_t> f = testbed::unhex(testbed::kV4In);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  reinterpret_cast<uint8_t *>(&ip->dst_addr)[3] = last_octet;
  ip->time_to_live = ttl;
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->type_of_service = tos;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
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
  out.push_back({"local_v4", 0, v4(5, 10, true, 0)});             // 10.0.0.5, the local VM
  out.push_back({"encap_v4_no_df", 0, v4(9, 64, false, 0x02)});   // ID from the counter, ECN ECT(0)
  out.push_back({"encap_v4_ce", 0, v4(9, 2, true, 0x03)});         // CE copied (RFC 6040 normal mode)
  out.push_back({"ttl_1", 0, v4(9, 1, true, 0)});
  out.push_back({"no_route", 0, v4(77, 64, true, 0)});
  return out;
}

class XdpDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    tb_ = std::make_unique<testbed::Fixture>("xdp");
    prog_ = std::make_unique<XdpProgram>(NVE_XDP_OBJECT);
    // Port 0 is the fabric (packets arrive on it), port 1 the access port.
    const DataplaneSettings &s = tb_->settings();
    for (uint32_t p = 0; p < 2; p++) {
      MacAddress mac;
      std::memcpy(mac.data(), s.ports[p].mac, 6);
      prog_->set_port(p, p == 0 ? kLoopback : 1000 + p, mac, s.ports[p].vn, p == 0);
    }
    prog_->set_redirect(1, kLoopback);  // any device: the test run does not transmit
    nve_xdp_settings set{};
    set.tunnel_mtu = s.tunnel_mtu;
    prog_->set_settings(set);
    // The test bed's IPv4 routes, as nved's map backend will write them.
    std::map<IpAddress, uint32_t> nves;
    for (const RouteChange &c : testbed::routes()) {
      if (!c.route.address.is_v4()) continue;
      nve_xdp_route r{};
      if (const auto *local = std::get_if<DeliverLocal>(&c.action)) {
        if (local->vlan) continue;
        r.kind = NVE_XDP_LOCAL;
        r.port = local->port;
        std::memcpy(r.mac, local->vm_mac.data(), 6);
      } else if (const auto *tunnel = std::get_if<TunnelToNve>(&c.action)) {
        if (!tunnel->nve.is_v4()) continue;
        auto [it, fresh] = nves.try_emplace(tunnel->nve, static_cast<uint32_t>(nves.size()));
        if (fresh) {
          TunnelTemplate t{};
          std::string why;
          ASSERT_TRUE(build_tunnel_template(testbed::fabric(), tunnel->nve, t, why)) << why;
          nve_xdp_nve n{};
          std::memcpy(n.hdr, t.hdr, 34);
          n.valid = 1;
          n.out_port = static_cast<uint8_t>(t.out_port);
          prog_->set_nve(it->second, n);
        }
        r.kind = NVE_XDP_TUNNEL;
        r.nve = it->second;
      } else {
        continue;  // own endpoints: the kernel's in XDP mode
      }
      prog_->set_route(drivers::xdp_key(c.route.vn, c.route.address), r);
    }
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

  std::unique_ptr<testbed::Fixture> tb_;
  std::unique_ptr<XdpProgram> prog_;
};

}  // namespace

TEST_F(XdpDifferential, ForwardedPacketsMatchTheDpdkPathAndTheRestIsDocumented) {
  int forwarded = 0, passed = 0;
  for (const Case &c : cases()) {
    SCOPED_TRACE(c.name);
    const auto want = dpdk(c);
    const auto got = prog_->run(c.frame, kLoopback);
    if (got.verdict == XDP_PASS) {
      passed++;
      EXPECT_TRUE(kKernelHandles.count(c.name)) << c.name << ": XDP hands it to the kernel, the DPDK path "
                                                << (want ? "sends it on port " + std::to_string(want->first) : "drops it")
                                                << ", and docs/xdp.md does not say so";
      continue;
    }
    forwarded++;
    ASSERT_TRUE(got.verdict == XDP_TX || got.verdict == XDP_REDIRECT) << "verdict " << got.verdict;
    ASSERT_TRUE(want) << "XDP forwards what the DPDK path drops";
    const uint16_t xdp_port = got.verdict == XDP_TX ? c.in_port : 1;  // the only redirect target here
    EXPECT_EQ(xdp_port, want->first) << "out port";
    EXPECT_EQ(hex(got.out), hex(want->second));
  }
  EXPECT_EQ(forwarded, 4) << "encap_ipv4, local_v4, encap_v4_no_df, encap_v4_ce";
  EXPECT_GT(passed, 0);
  EXPECT_EQ(prog_->counter(NVE_XDP_C_encap_ipv4_in_ipv4), tb_->ctx().counters.get(Counter::encap_ipv4_in_ipv4));
  EXPECT_EQ(prog_->counter(NVE_XDP_C_delivered_local), 1u);
}
