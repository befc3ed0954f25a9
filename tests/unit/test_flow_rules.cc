// The rte_flow rules nved asks of a port (drivers/flow_rules.h), as data:
// what each matches, with which masks, and which queue it feeds; and the
// fallback on a port whose driver has no rte_flow (net_ring here).
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstring>

#include "drivers/flow_rules.h"
#include "drivers/flow_steering.h"

using namespace nvmove;
using namespace nvmove::drivers;

namespace {

const MacAddress kMac{2, 0, 0, 0, 0, 1};

FlowPlan plan(uint16_t workers, bool steer, bool isolate) {
  FlowPlan p;
  p.port_mac = kMac;
  p.own_addresses = {*IpAddress::parse("192.0.2.1"), *IpAddress::parse("2001:db8::1")};
  p.data_queues = workers;
  p.rss_types = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
  p.steer_control = steer;
  p.isolate = isolate;
  return p;
}

const FlowRule &named(const std::vector<FlowRule> &rules, const std::string &name) {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const FlowRule &r) { return r.name == name; });
  EXPECT_NE(it, rules.end()) << name;
  static const FlowRule kNone;
  return it == rules.end() ? kNone : *it;
}

}  // namespace

TEST(FlowRules, ControlTrafficGoesToTheQueueAfterTheWorkers) {
  const auto rules = build_flow_rules(plan(4, true, false));
  std::vector<std::string> names;
  for (const auto &r : rules) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"arp", "nd-solicitation", "nd-advertisement", "icmp-to-192.0.2.1",
                                             "icmp6-to-2001:db8::1"}));
  for (const auto &r : rules) {
    EXPECT_EQ(r.action, (FlowAction{FlowAction::Kind::Queue, 4, 0})) << r.name;
    EXPECT_EQ(r.priority, 0u) << r.name;
  }
  EXPECT_EQ(named(rules, "arp").match.ether_type, 0x0806);
  EXPECT_EQ(named(rules, "nd-solicitation").match.icmp6_type, 135);
  EXPECT_EQ(named(rules, "nd-advertisement").match.icmp6_type, 136);
  const FlowMatch &icmp = named(rules, "icmp-to-192.0.2.1").match;
  EXPECT_EQ(icmp.ip_family, 4);
  EXPECT_EQ(icmp.ip_dst, IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(icmp.ip_proto, 1);
  EXPECT_EQ(named(rules, "icmp6-to-2001:db8::1").match.ip_proto, 58);
  EXPECT_EQ(describe(named(rules, "arp")), "eth type 0x0806 -> queue 4");
}

TEST(FlowRules, IsolateModeAddsTheDataRulesBehindTheControlRules) {
  const auto rules = build_flow_rules(plan(4, true, true));
  const FlowRule &v4 = named(rules, "ipv4-to-port");
  EXPECT_EQ(v4.match.eth_dst, kMac);
  EXPECT_EQ(v4.match.ip_family, 4);
  EXPECT_FALSE(v4.match.ip_dst);
  EXPECT_EQ(v4.action, (FlowAction{FlowAction::Kind::Rss, 0, 4, RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP}));
  EXPECT_EQ(v4.priority, 1u) << "an echo to our MAC must match the control rule first";
  EXPECT_EQ(describe(named(rules, "ipv6-to-port")), "eth dst 02:00:00:00:00:01 ipv6 -> rss queues 0-3");

  // Isolated without a control queue: control traffic still reaches nved,
  // on the first worker's queue; one worker: a queue, not RSS.
  const auto one = build_flow_rules(plan(1, false, true));
  EXPECT_EQ(named(one, "arp").action, (FlowAction{FlowAction::Kind::Queue, 0, 0}));
  EXPECT_EQ(named(one, "ipv4-to-port").action, (FlowAction{FlowAction::Kind::Queue, 0, 0}));
  EXPECT_TRUE(build_flow_rules(plan(2, false, false)).empty()) << "nothing asked, nothing built";
}

TEST(FlowRules, RteFormCarriesTheSpecsAndMasks) {
  const auto rules = build_flow_rules(plan(2, true, true));
  {
    RteFlowRule r(named(rules, "icmp-to-192.0.2.1"), true);
    EXPECT_EQ(r.attr()->ingress, 1u);
    ASSERT_EQ(r.item_count(), 3u);  // ETH, IPV4, END
    EXPECT_EQ(r.pattern()[0].type, RTE_FLOW_ITEM_TYPE_ETH);
    EXPECT_EQ(r.pattern()[0].spec, nullptr) << "any Ethernet frame";
    ASSERT_EQ(r.pattern()[1].type, RTE_FLOW_ITEM_TYPE_IPV4);
    const auto *spec = static_cast<const rte_flow_item_ipv4 *>(r.pattern()[1].spec);
    const auto *mask = static_cast<const rte_flow_item_ipv4 *>(r.pattern()[1].mask);
    const uint8_t want[4] = {192, 0, 2, 1};
    EXPECT_EQ(std::memcmp(&spec->hdr.dst_addr, want, 4), 0);
    EXPECT_EQ(mask->hdr.dst_addr, 0xffffffffu);
    EXPECT_EQ(spec->hdr.next_proto_id, 1);
    EXPECT_EQ(mask->hdr.next_proto_id, 0xff);
    EXPECT_EQ(mask->hdr.src_addr, 0u) << "any source";
    EXPECT_EQ(r.pattern()[2].type, RTE_FLOW_ITEM_TYPE_END);
    ASSERT_EQ(r.action_count(), 3u);  // COUNT, QUEUE, END
    EXPECT_EQ(r.actions()[0].type, RTE_FLOW_ACTION_TYPE_COUNT);
    ASSERT_EQ(r.actions()[1].type, RTE_FLOW_ACTION_TYPE_QUEUE);
    EXPECT_EQ(static_cast<const rte_flow_action_queue *>(r.actions()[1].conf)->index, 2);
  }
  {
    RteFlowRule r(named(rules, "nd-advertisement"), false);
    ASSERT_EQ(r.item_count(), 4u);  // ETH, IPV6, ICMP6, END
    const auto *ip = static_cast<const rte_flow_item_ipv6 *>(r.pattern()[1].spec);
    EXPECT_EQ(ip->hdr.proto, 58);
    const auto *icmp = static_cast<const rte_flow_item_icmp6 *>(r.pattern()[2].spec);
    const auto *icmp_mask = static_cast<const rte_flow_item_icmp6 *>(r.pattern()[2].mask);
    EXPECT_EQ(icmp->type, 136);
    EXPECT_EQ(icmp_mask->type, 0xff);
    EXPECT_EQ(icmp_mask->code, 0) << "any code";
    EXPECT_EQ(r.action_count(), 2u) << "no COUNT asked";
  }
  {
    RteFlowRule r(named(rules, "ipv4-to-port"), false);
    const auto *eth = static_cast<const rte_flow_item_eth *>(r.pattern()[0].spec);
    const auto *eth_mask = static_cast<const rte_flow_item_eth *>(r.pattern()[0].mask);
    EXPECT_EQ(std::memcmp(eth->hdr.dst_addr.addr_bytes, kMac.data(), 6), 0);
    EXPECT_EQ(eth_mask->hdr.ether_type, 0) << "the IPV4 item says the type";
    ASSERT_EQ(r.actions()[0].type, RTE_FLOW_ACTION_TYPE_RSS);
    const auto *rss = static_cast<const rte_flow_action_rss *>(r.actions()[0].conf);
    EXPECT_EQ(rss->types, RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) << "only the hash types the port has";
    EXPECT_EQ(rss->level, 1u) << "the outer header";
    ASSERT_EQ(rss->queue_num, 2u);
    EXPECT_EQ(rss->queue[0], 0);
    EXPECT_EQ(rss->queue[1], 1);
  }
}

// A driver without rte_flow: nved is told so before it configures the port
// (no control queue asked), and any rule it still tries is refused with the
// PMD's reason, never installed.
TEST(FlowRules, ADriverWithoutRteFlowFallsBack) {
  rte_ring *r = rte_ring_create("flow_fallback", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(r, nullptr);
  const int id = rte_eth_from_rings("flowfb", &r, 1, &r, 1, 0);
  ASSERT_GE(id, 0);
  const auto port = static_cast<uint16_t>(id);
  std::string why;
  EXPECT_FALSE(port_has_flow_api(port, why));
  EXPECT_FALSE(why.empty());
  PortFlows flows;
  flows.install(port, build_flow_rules(plan(1, true, false)));
  ASSERT_EQ(flows.rules().size(), 5u);
  EXPECT_FALSE(flows.all_installed());
  for (const auto &st : flows.rules()) {
    EXPECT_FALSE(st.installed) << st.rule.name;
    EXPECT_FALSE(st.refused.empty()) << st.rule.name;
  }
  EXPECT_EQ(flows.hits(0), std::nullopt);
  rte_eth_dev_close(port);
  rte_ring_free(r);
}
