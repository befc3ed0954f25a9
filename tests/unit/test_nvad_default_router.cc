// nvad: the default-router registration (seed 003 section 7.2). After a move,
// the default router of the NVE the VM left gets the notification with the R
// flag, is kept like a previous NVE (told of every later move, Lifetime 0 when
// the binding ends), and is never named as a tunnel source.
#include <gtest/gtest.h>

#include <algorithm>

#include "control/nvad/config_loader.h"
#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using proto::MobilityMode;
using proto::Status;

const IpAddress kRouter = ip("192.0.2.254");

RegistrationPolicy with_router(std::set<uint32_t> vns = {kVn}) {
  RegistrationPolicy policy;
  DefaultRouter router;
  router.address = kRouter;
  router.port = 4434;
  router.serves = {nve_a().control, nve_b().control};
  router.virtual_networks = std::move(vns);
  policy.default_routers.push_back(router);
  return policy;
}

const Outgoing *sent_to(const Outcome &out, const IpAddress &to) {
  auto it = std::ranges::find_if(out.notifications, [&](const Outgoing &o) { return o.to.address == to; });
  return it == out.notifications.end() ? nullptr : &*it;
}

TEST(NvadDefaultRouter, TheRouterOfTheNveTheVmLeftGetsItsHostRoute) {
  RegistrarHarness h(with_router());
  h.register_vm(nve_a(), 1);
  const Outcome moved = h.register_vm(nve_b(), 1);
  ASSERT_EQ(moved.notifications.size(), 2u);
  const Outgoing *to_a = sent_to(moved, nve_a().control);
  const Outgoing *to_router = sent_to(moved, kRouter);
  ASSERT_TRUE(to_a && to_router);
  EXPECT_FALSE(to_a->message.router);
  EXPECT_TRUE(to_router->message.notification);
  EXPECT_TRUE(to_router->message.router);
  EXPECT_EQ(to_router->to.port, 4434);
  EXPECT_EQ(to_router->message.serving_nve.ipv4, nve_b().endpoint);
  EXPECT_EQ(to_router->message.vm_addresses, std::vector<IpAddress>{vm_address(1)});
  EXPECT_EQ(to_router->message.lifetime, 8);
  // The router routes natively: B must not expect tunnels from it.
  ASSERT_TRUE(moved.reply);
  EXPECT_EQ(moved.reply->message.redirecting_nves, std::vector<IpAddress>{nve_a().endpoint});

  const Binding &b = h.binding(1);
  ASSERT_EQ(b.previous.size(), 2u);
  EXPECT_EQ(b.previous[1].role, PreviousRole::Router);
  h.acknowledge(*to_router);
  EXPECT_EQ(h.binding(1).previous[1].state, NotificationState::Acknowledged);
}

TEST(NvadDefaultRouter, OnlyForTheVirtualNetworksItRoutes) {
  RegistrarHarness h(with_router({kVn + 1}));
  h.register_vm(nve_a(), 1);
  const Outcome moved = h.register_vm(nve_b(), 1);
  EXPECT_EQ(moved.notifications.size(), 1u);
  EXPECT_EQ(sent_to(moved, kRouter), nullptr);
}

TEST(NvadDefaultRouter, ToldOfEveryLaterMoveEvenColdAndOfTheEnd) {
  RegistrarHarness h(with_router());
  h.register_vm(nve_a(), 1);
  h.register_vm(nve_b(), 1);                                        // previous: A, router
  const Outcome cold = h.register_vm(nve_c(), 1, 150, MobilityMode::Cold);  // previous: A, router, B
  ASSERT_EQ(h.binding(1).previous.size(), 3u) << "one router entry, though it serves A and B";
  EXPECT_EQ(sent_to(cold, nve_a().control)->message.lifetime, 0) << "older source of a cold move";
  EXPECT_EQ(sent_to(cold, nve_b().control)->message.lifetime, 8) << "the last source still redirects";
  EXPECT_EQ(sent_to(cold, kRouter)->message.lifetime, 8) << "the host route is about where the VM is";
  EXPECT_EQ(sent_to(cold, kRouter)->message.serving_nve.ipv4, nve_c().endpoint);

  const Outcome ended = h.deregister(nve_c(), 1);
  ASSERT_NE(sent_to(ended, kRouter), nullptr);
  EXPECT_EQ(sent_to(ended, kRouter)->message.lifetime, 0) << "the binding ended: withdraw";
}

TEST(NvadDefaultRouter, RoutersDoNotCountAgainstThePreviousNveLimit) {
  RegistrationPolicy policy = with_router();
  policy.max_previous_nves = 1;
  RegistrarHarness h(std::move(policy));
  h.register_vm(nve_a(), 1);
  h.register_vm(nve_b(), 1);  // previous: A, router
  ASSERT_EQ(h.binding(1).previous.size(), 2u);
  const Outcome moved = h.register_vm(nve_c(), 1);  // A forgotten, B kept, the router kept
  const auto &previous = h.binding(1).previous;
  ASSERT_EQ(previous.size(), 2u);
  EXPECT_EQ(previous[0].role, PreviousRole::Router);
  EXPECT_EQ(previous[1].nve.control, nve_b().control) << "the NVE the VM just left is never the one forgotten";
  ASSERT_TRUE(moved.reply);
  EXPECT_EQ(moved.reply->message.redirecting_nves, std::vector<IpAddress>{nve_b().endpoint});
}

TEST(NvadDefaultRouter, ARouterCannotRegisterVms) {
  RegistrarHarness h(with_router());
  const Nve router{kRouter, kRouter};
  EXPECT_EQ(reply_status(h.register_vm(router, 1)), Status::NotAuthorized);
}

TEST(NvadDefaultRouter, AnNveMaySetNeitherNNorR) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  request.notification = true;
  request.router = true;
  EXPECT_EQ(reply_status(h.send(nve_a(), request)), Status::NotAuthorized);
}

std::vector<std::string> config_errors(const std::string &text) {
  auto parsed = parse_config(text, "nvad.yaml");
  return parsed.ok() ? std::vector<std::string>{} : parsed.error().messages;
}

TEST(NvadDefaultRouter, Configuration) {
  auto parsed = parse_config(R"(peers:
  - address: 192.0.2.1
  - address: 192.0.2.2
default_routers:
  - address: 192.0.2.254
    serves: [192.0.2.1, 192.0.2.2]
    virtual_networks: [100]
)", "nvad.yaml");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->policy.default_routers.size(), 1u);
  EXPECT_EQ(parsed->policy.default_routers[0].port, proto::kDefaultUdpPort);
  EXPECT_EQ(parsed->policy.default_routers[0].serves.size(), 2u);

  const auto errors = config_errors(R"(peers:
  - address: 192.0.2.1
default_routers:
  - address: 192.0.2.1
    serves: [192.0.2.9]
    virtual_networks: [100]
  - address: 192.0.2.253
    serves: [192.0.2.1]
  - address: 192.0.2.252
    serves: [192.0.2.1]
    virtual_networks: [100]
  - address: 192.0.2.251
    serves: [192.0.2.1]
    virtual_networks: [100]
)");
  const std::vector<std::string> expected = {
      "nvad.yaml:4: default_routers[0].address: 192.0.2.1 is also in peers: a default router cannot be an NVE",
      "nvad.yaml:5: default_routers[0].serves: 192.0.2.9 is not in peers (an NVE is named by peers[].address)",
      "nvad.yaml:7: default_routers[1].virtual_networks: missing (required): the VNs it routes natively",
      "nvad.yaml:13: default_routers[3].serves: 192.0.2.1 already has a default router (192.0.2.252)",
  };
  for (const auto &e : expected) EXPECT_NE(std::ranges::find(errors, e), errors.end()) << e;
  EXPECT_EQ(errors.size(), expected.size()) << ::testing::PrintToString(errors);
}

}  // namespace
}  // namespace nvmove::nvad
