// The NVE agent against fakes of its three edges (routes, network, clock):
// RFC 8394 lifecycle, registration and refresh, retransmission, move
// notifications and their authentication, binding update list expiry.
#include <gtest/gtest.h>

#include <map>

#include "control/agent/nve_agent.h"
#include "control/protocol/codec.h"
#include "control/protocol/names.h"

using namespace nvmove;
using namespace nvmove::agent;

namespace {

IpAddress ip(const char *s) { return *IpAddress::parse(s); }

// In-memory RouteBackend: the real one is tested with DPDK elsewhere.
class MapRoutes : public RouteBackend {
 public:
  RouteBatchResult apply(std::span<const RouteChange> batch) override {
    RouteBatchResult r;
    for (size_t i = 0; i < batch.size(); i++) {
      const auto &c = batch[i];
      if (c.op == RouteChange::Op::Upsert) {
        auto &v = routes[c.route];
        v.route = c.route;
        v.action = c.action;
        r.applied++;
      } else if (routes.erase(c.route)) {
        r.applied++;
      } else {
        r.errors.push_back({i, "no such route"});
      }
    }
    r.table_version = ++version;
    return r;
  }
  std::optional<RouteView> find(const HostRoute &h) const override {
    auto it = routes.find(h);
    if (it == routes.end()) return std::nullopt;
    return it->second;
  }
  size_t size() const override { return routes.size(); }
  std::map<HostRoute, RouteView> routes;
  uint64_t version = 0;
};

struct Sent {
  IpAddress to;
  uint16_t port;
  std::vector<uint8_t> data;
};

class CaptureNet : public AgentTransport {
 public:
  void send(const IpAddress &to, uint16_t port, std::span<const uint8_t> d) override {
    sent.push_back({to, port, {d.begin(), d.end()}});
  }
  std::vector<Sent> sent;
};


const IpAddress kNvad = ip("10.255.0.1");
const IpAddress kSelf = ip("192.0.2.1");
const IpAddress kOther = ip("192.0.2.2");

proto::AuthKey key(uint32_t id, uint8_t fill) { return {id, std::vector<uint8_t>(32, fill)}; }

class AgentTest : public ::testing::Test {
 protected:
  AgentTest() {
    keys.add(kNvad, key(7, 0xab));
    cfg.nvads = {kNvad};
    cfg.self.ipv4 = kSelf;
    cfg.bul_idle_ms = 30000;
    agent = std::make_unique<NveAgent>(cfg, routes, net, keys, clock);
    vm.id = *proto::parse_vm_id("vm-1");
    vm.mac = {2, 0, 0, 0, 1, 1};
    vm.addresses = {ip("10.0.0.5")};
    vm.port = 1;
  }

  proto::Message last_sent() {
    EXPECT_FALSE(net.sent.empty());
    auto d = proto::decode(net.sent.back().data);
    EXPECT_TRUE(d.ok());
    return d->message;
  }

  void deliver(const proto::Message &m, const proto::AuthKey &k, IpAddress from = kNvad) {
    auto wire = proto::encode(m, k);
    ASSERT_TRUE(wire.ok()) << wire.error().describe();
    agent->on_datagram(from, 61434, wire.value());
  }

  proto::Message reply_to(const proto::Message &req, proto::Status s, uint16_t lifetime) {
    proto::Message r;
    r.type = proto::MessageType::RegistrationReply;
    r.sequence = req.sequence;
    r.status = s;
    r.lifetime = lifetime;
    r.vm_id = req.vm_id;
    r.virtual_network = req.virtual_network;
    r.timestamp_ns = req.timestamp_ns;
    return r;
  }

  proto::Message notification(uint16_t seq, const char *new_nve, proto::MobilityMode mode = proto::MobilityMode::Hot) {
    clock.advance(std::chrono::milliseconds(1));  // nvad's timestamps increase
    proto::Message m;
    m.type = proto::MessageType::RegistrationRequest;
    m.notification = true;
    m.mobility = mode;
    m.sequence = seq;
    m.lifetime = 75;
    m.vm_id = vm.id;
    m.vm_mac = vm.mac;
    m.virtual_network = 0;
    m.vm_addresses = vm.addresses;
    m.serving_nve.ipv4 = ip(new_nve);
    m.previous_nve.ipv4 = kSelf;
    m.timestamp_ns = clock.wall_ns();
    return m;
  }

  proto::KeyTable keys;
  AgentConfig cfg;
  MapRoutes routes;
  CaptureNet net;
  FakeClock clock;
  std::unique_ptr<NveAgent> agent;
  VmSpec vm;
};

}  // namespace

TEST_F(AgentTest, LifecycleFollowsRfc8394) {
  EXPECT_EQ(*agent->vm_event(VmEvent::Activate, vm), "VM is not associated");
  EXPECT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  EXPECT_EQ(agent->vm_state(vm.id), VmState::Associated);
  EXPECT_EQ(routes.size(), 0u);  // associated: forwarding not populated
  EXPECT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  EXPECT_EQ(routes.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<DeliverLocal>(routes.find({0, ip("10.0.0.5")})->action));
  EXPECT_EQ(*agent->vm_event(VmEvent::Associate, vm), "VM is activated: deactivate it before associating again");
  EXPECT_FALSE(agent->vm_event(VmEvent::Deactivate, vm));
  EXPECT_EQ(agent->vm_state(vm.id), VmState::Associated);
  EXPECT_EQ(routes.size(), 0u);
  EXPECT_FALSE(agent->vm_event(VmEvent::Disassociate, vm));
  EXPECT_EQ(*agent->vm_event(VmEvent::Disassociate, vm), "VM is not associated");
}

TEST_F(AgentTest, RegistersOnActivateAndRefreshesBeforeLifetimeEnds) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  ASSERT_EQ(net.sent.size(), 1u);
  EXPECT_EQ(net.sent[0].to, kNvad);
  const auto req = last_sent();
  EXPECT_EQ(req.type, proto::MessageType::RegistrationRequest);
  EXPECT_EQ(req.vm_id, vm.id);
  EXPECT_EQ(req.serving_nve.ipv4, kSelf);
  EXPECT_EQ(req.lifetime, cfg.lifetime_units);
  deliver(reply_to(req, proto::Status::Accepted, 25), keys.sending_key(kNvad)[0]);  // 100 s granted
  EXPECT_TRUE(agent->registered(vm.id));
  clock.advance(std::chrono::milliseconds(74000));
  agent->tick();
  EXPECT_EQ(net.sent.size(), 1u);  // not yet: refresh at 3/4 of 100 s
  clock.advance(std::chrono::milliseconds(2000));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 2u);
  EXPECT_TRUE(proto::seq_newer(last_sent().sequence, req.sequence));
}

TEST_F(AgentTest, RetransmitsWithBackoffThenGivesUp) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  std::vector<uint64_t> sent_at = {clock.now_ms()};
  for (int i = 0; i < 200000 && agent->counters().registrations_failed == 0; i++) {
    clock.advance(std::chrono::milliseconds(100));
    const size_t before = net.sent.size();
    agent->tick();
    if (net.sent.size() != before) sent_at.push_back(clock.now_ms());
  }
  ASSERT_EQ(sent_at.size(), 1u + cfg.retransmit_count);  // then it gave up
  // It tries again later (the VM is still active), starting a new series.
  clock.advance(std::chrono::milliseconds(cfg.retransmit_max_ms));
  agent->tick();
  EXPECT_EQ(net.sent.size(), 2u + cfg.retransmit_count);
  for (size_t i = 1; i < sent_at.size(); i++)
    EXPECT_EQ(sent_at[i] - sent_at[i - 1], std::min<uint64_t>(1000ull << (i - 1), 32000)) << i;
  EXPECT_EQ(agent->counters().registrations_failed, 1u);
}

// Every transmission stays outstanding until one is answered: nvad's answer
// to the first, arriving after the retransmission left, registers the VM (it
// used to be dropped, and the VM waited for the next answer).
TEST_F(AgentTest, ALateAnswerToAnEarlierTransmissionCounts) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  const auto first = last_sent();
  clock.advance(std::chrono::milliseconds(1100));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 2u);  // retransmitted
  deliver(reply_to(first, proto::Status::Accepted, 150), keys.sending_key(kNvad)[0]);
  EXPECT_EQ(agent->counters().replies_accepted, 1u);
  EXPECT_TRUE(agent->vms_json()[0]["registered"].get<bool>());
}

// Two VMs activated within one clock tick: their requests' timestamps still
// strictly increase (nvad refuses a timestamp not above the last with 157).
TEST_F(AgentTest, TimestampsStrictlyIncreaseWithinOneClockTick) {
  VmSpec other = vm;
  other.id = proto::VmId{'v', 'm', '2'};
  other.mac = MacAddress{2, 0, 0, 0, 0x0a, 0x22};
  other.addresses = {ip("10.0.0.22")};
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Associate, other);
  agent->vm_event(VmEvent::Activate, vm);
  const auto a = last_sent();
  agent->vm_event(VmEvent::Activate, other);
  const auto b = last_sent();
  EXPECT_GT(*b.timestamp_ns, *a.timestamp_ns);
}

TEST_F(AgentTest, MoveNotificationTunnelsThenIdleExpiryRemovesTheTunnel) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  deliver(reply_to(last_sent(), proto::Status::Accepted, 150), keys.sending_key(kNvad)[0]);
  agent->vm_event(VmEvent::Deactivate, vm);

  deliver(notification(100, "198.51.100.2"), keys.sending_key(kNvad)[0]);
  auto r = routes.find({0, ip("10.0.0.5")});
  ASSERT_TRUE(r);
  EXPECT_EQ(std::get<TunnelToNve>(r->action).nve, ip("198.51.100.2"));
  EXPECT_EQ(agent->bul_size(), 1u);
  const auto ack = last_sent();
  EXPECT_EQ(ack.type, proto::MessageType::RegistrationReply);
  EXPECT_EQ(ack.status, proto::Status::Accepted);
  EXPECT_EQ(ack.sequence, 100);

  // Traffic keeps the tunnel; silence removes it.
  clock.advance(std::chrono::milliseconds(20000));
  routes.routes[{0, ip("10.0.0.5")}].hits = 10;
  agent->tick();
  clock.advance(std::chrono::milliseconds(20000));
  agent->tick();
  EXPECT_EQ(agent->bul_size(), 1u);
  clock.advance(std::chrono::milliseconds(11000));
  agent->tick();
  EXPECT_EQ(agent->bul_size(), 0u);
  EXPECT_FALSE(routes.find({0, ip("10.0.0.5")}));
  EXPECT_EQ(agent->counters().bul_idle_expired, 1u);
}

// Seed 003 section 7: after a cold move the last source NVE still redirects
// (nvad gives it a lifetime), the older ones drop their entries (lifetime 0).
TEST_F(AgentTest, SecondMoveRetargetsTheTunnelAndColdMoveRemovesIt) {
  deliver(notification(100, "198.51.100.2"), keys.sending_key(kNvad)[0]);
  deliver(notification(101, "198.51.100.3"), keys.sending_key(kNvad)[0]);
  EXPECT_EQ(std::get<TunnelToNve>(routes.find({0, ip("10.0.0.5")})->action).nve, ip("198.51.100.3"));
  // Cold, with a lifetime: this NVE was the last source: it redirects.
  deliver(notification(102, "198.51.100.4", proto::MobilityMode::Cold), keys.sending_key(kNvad)[0]);
  EXPECT_EQ(std::get<TunnelToNve>(routes.find({0, ip("10.0.0.5")})->action).nve, ip("198.51.100.4"));
  // Cold, lifetime 0: an older source NVE: drop the entry.
  auto drop = notification(103, "198.51.100.5", proto::MobilityMode::Cold);
  drop.lifetime = 0;
  deliver(drop, keys.sending_key(kNvad)[0]);
  EXPECT_FALSE(routes.find({0, ip("10.0.0.5")}));
  EXPECT_EQ(agent->bul_size(), 0u);
}

TEST_F(AgentTest, ForgedAndReplayedNotificationsAreRejected) {
  // Wrong key: dropped without a word.
  deliver(notification(100, "198.51.100.2"), key(7, 0xcd));
  // Known key, wrong sender.
  deliver(notification(100, "198.51.100.2"), keys.sending_key(kNvad)[0], kOther);
  EXPECT_EQ(routes.size(), 0u);
  EXPECT_TRUE(net.sent.empty());
  EXPECT_EQ(agent->counters().dropped_datagrams, 2u);

  // Accepted once.
  const auto good = notification(100, "198.51.100.2");
  deliver(good, keys.sending_key(kNvad)[0]);
  EXPECT_EQ(agent->counters().notifications_accepted, 1u);
  // The same bytes again: a duplicate, answered already: silently dropped.
  deliver(good, keys.sending_key(kNvad)[0]);
  EXPECT_EQ(net.sent.size(), 1u);
  // Old sequence, new timestamp: bad sequence number with the expected one.
  clock.advance(std::chrono::milliseconds(10));
  deliver(notification(99, "198.51.100.9"), keys.sending_key(kNvad)[0]);
  EXPECT_EQ(last_sent().status, proto::Status::BadSequenceNumber);
  EXPECT_EQ(last_sent().expected_sequence, 101);
  // Timestamp outside the window.
  auto stale = notification(150, "198.51.100.9");
  *stale.timestamp_ns -= 5'000'000'000ull;
  deliver(stale, keys.sending_key(kNvad)[0]);
  EXPECT_EQ(last_sent().status, proto::Status::TimestampMismatch);
  EXPECT_EQ(std::get<TunnelToNve>(routes.find({0, ip("10.0.0.5")})->action).nve, ip("198.51.100.2"));
  EXPECT_EQ(agent->counters().notifications_rejected, 2u);
}

// Unanswerable: a reply is matched by its echoed Timestamp (protocol.md 5.3).
TEST_F(AgentTest, NotificationWithoutTimestampIsDroppedUnanswered) {
  auto n = notification(100, "198.51.100.2");
  n.timestamp_ns.reset();
  deliver(n, keys.sending_key(kNvad)[0]);
  EXPECT_TRUE(net.sent.empty());
  EXPECT_EQ(routes.size(), 0u);
  EXPECT_EQ(agent->counters().dropped_datagrams, 1u);
}

// A reply that echoes the sequence number and timestamp but another VM-ID
// answers nothing of this VM's registration.
TEST_F(AgentTest, AReplyAboutAnotherVmDoesNotRegisterThisOne) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  proto::Message r = reply_to(last_sent(), proto::Status::Accepted, 150);
  r.vm_id = proto::VmId{'o', 't', 'h', 'e', 'r'};
  deliver(r, keys.sending_key(kNvad)[0]);
  EXPECT_EQ(agent->counters().replies_accepted, 0u);
  r.vm_id = vm.id;
  deliver(r, keys.sending_key(kNvad)[0]);
  EXPECT_EQ(agent->counters().replies_accepted, 1u);
}

// Issue 13: a second VM with the first one's address or MAC in the same VN
// was associated, then took the first one's route on activate.
TEST_F(AgentTest, TwoVmsCannotShareAnAddressOrAMacInAVn) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  VmSpec same_address = vm;
  same_address.id = proto::VmId{'v', 'm', '2'};
  same_address.mac = MacAddress{2, 0, 0, 0, 0x0a, 0x22};
  const auto refused = agent->vm_event(VmEvent::Associate, same_address);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->find("belongs to VM"), std::string::npos) << *refused;
  VmSpec same_mac = vm;
  same_mac.id = proto::VmId{'v', 'm', '3'};
  same_mac.addresses = {ip("10.0.0.77")};
  EXPECT_TRUE(agent->vm_event(VmEvent::Associate, same_mac));
  VmSpec other_vn = same_address;  // the same address in another VN: another tenant's VM
  other_vn.vn = 9;
  EXPECT_FALSE(agent->vm_event(VmEvent::Associate, other_vn));
}

TEST_F(AgentTest, BadSequenceReplyResynchronises) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  const auto req = last_sent();
  proto::Message r = reply_to(req, proto::Status::BadSequenceNumber, 0);
  r.expected_sequence = 5000;
  deliver(r, keys.sending_key(kNvad)[0]);
  ASSERT_EQ(net.sent.size(), 2u);
  EXPECT_EQ(last_sent().sequence, 5000);
}

// Live migration order: the new NVE activates (nvad notifies us), then the
// hypervisor deactivates the VM here. The tunnel must survive the deactivate.
TEST_F(AgentTest, DeactivateAfterTheMoveNotificationKeepsTheTunnel) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  deliver(reply_to(last_sent(), proto::Status::Accepted, 150), keys.sending_key(kNvad)[0]);
  deliver(notification(100, "198.51.100.2"), keys.sending_key(kNvad)[0]);
  EXPECT_FALSE(agent->vm_event(VmEvent::Deactivate, vm));
  auto r = routes.find({0, ip("10.0.0.5")});
  ASSERT_TRUE(r) << "deactivate removed the tunnel for packets in flight";
  EXPECT_EQ(std::get<TunnelToNve>(r->action).nve, ip("198.51.100.2"));
  EXPECT_FALSE(agent->vm_event(VmEvent::Disassociate, vm));
  EXPECT_TRUE(routes.find({0, ip("10.0.0.5")}));
  EXPECT_EQ(agent->bul_size(), 1u);
}

// ---- The functional cores on their own: what they decide, nothing applied.

TEST_F(AgentTest, RegistrationClientReturnsTheRoutesAndTheRequestInsteadOfApplyingThem) {
  AgentCounters counters;
  RegistrationClient client(cfg, keys, clock, counters);
  ASSERT_FALSE(client.vm_event(VmEvent::Associate, vm, proto::MobilityMode::Hot, routes, false).refused);
  auto r = client.vm_event(VmEvent::Activate, vm, proto::MobilityMode::Warm, routes, false);
  ASSERT_FALSE(r.refused);
  EXPECT_TRUE(r.installed_locally);
  ASSERT_EQ(r.outcome.routes.size(), 1u);
  EXPECT_EQ(r.outcome.routes[0].op, RouteChange::Op::Upsert);
  EXPECT_EQ(r.outcome.routes[0].action, (RouteAction{DeliverLocal{1, vm.mac, 0}}));
  ASSERT_EQ(r.outcome.datagrams.size(), 1u);
  EXPECT_EQ(r.outcome.datagrams[0].to, kNvad);
  auto req = proto::decode(r.outcome.datagrams[0].bytes);
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->message.mobility, proto::MobilityMode::Warm);
  EXPECT_EQ(routes.size(), 0u) << "the core applied a route itself";
  EXPECT_TRUE(net.sent.empty()) << "the core sent a datagram itself";
  EXPECT_EQ(counters.requests_sent, 1u);
  // Unanswered: the retransmission is an outcome too, after the initial timeout.
  EXPECT_TRUE(client.tick().empty());
  clock.advance(std::chrono::milliseconds(cfg.retransmit_initial_ms));
  EXPECT_EQ(client.tick().datagrams.size(), 1u);
  EXPECT_EQ(counters.retransmissions, 1u);
}

TEST_F(AgentTest, BindingUpdateListReturnsTunnelsTheReplyAndHowToBackOut) {
  AgentCounters counters;
  RateLimitedLog log(std::chrono::seconds(10), clock);
  NotificationGate gate(cfg, keys, clock, counters, log);
  BindingUpdateList bul(cfg, gate, clock, counters);
  const auto n = notification(1, "198.51.100.2");
  auto out = bul.on_notification(n, kNvad, 61434, routes, false);
  ASSERT_EQ(out.routes.size(), 1u);
  EXPECT_EQ(out.routes[0].action, (RouteAction{TunnelToNve{ip("198.51.100.2")}}));
  ASSERT_EQ(out.datagrams.size(), 1u);
  auto accepted = proto::decode(out.datagrams[0].bytes);
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->message.status, proto::Status::Accepted);
  ASSERT_TRUE(out.if_routes_fail);
  ASSERT_TRUE(out.if_routes_fail->refusal);
  EXPECT_EQ(proto::decode(out.if_routes_fail->refusal->bytes)->message.status, proto::Status::InsufficientResources);
  EXPECT_TRUE(bul.contains(vm.id));
  EXPECT_EQ(routes.size(), 0u) << "the core applied a route itself";
  // Idle: once the shell applied the tunnel, no hits for bul_idle_ms ends it.
  routes.apply(out.routes);
  clock.advance(std::chrono::milliseconds(cfg.bul_idle_ms));
  auto gone = bul.expire(routes);
  ASSERT_EQ(gone.routes.size(), 1u);
  EXPECT_EQ(gone.routes[0].op, RouteChange::Op::Remove);
  EXPECT_FALSE(bul.contains(vm.id));
  EXPECT_EQ(counters.bul_idle_expired, 1u);
}

namespace {
// A route table that refuses every tunnel (as a full NVE table would).
class NoTunnels : public MapRoutes {
 public:
  RouteBatchResult apply(std::span<const RouteChange> batch) override {
    RouteBatchResult r;
    std::vector<RouteChange> ok;
    for (size_t i = 0; i < batch.size(); i++) {
      if (batch[i].op == RouteChange::Op::Upsert && std::holds_alternative<TunnelToNve>(batch[i].action))
        r.errors.push_back({i, "NVE table full"});
      else
        ok.push_back(batch[i]);
    }
    r.applied = MapRoutes::apply(ok).applied;
    return r;
  }
};
}  // namespace

TEST_F(AgentTest, ATunnelTheTableRefusesIsRefusedToNvadAndLeavesNoEntry) {
  NoTunnels full;
  NveAgent a(cfg, full, net, keys, clock);
  auto wire = proto::encode(notification(1, "198.51.100.2"), keys.sending_key(kNvad)[0]);
  ASSERT_TRUE(wire.ok());
  a.on_datagram(kNvad, 61434, wire.value());
  EXPECT_EQ(a.bul_size(), 0u);
  EXPECT_EQ(a.counters().notifications_rejected, 1u);
  EXPECT_EQ(a.counters().notifications_accepted, 0u);
  EXPECT_EQ(last_sent().status, proto::Status::InsufficientResources);
}

// Issue 14, tenants: a VM of another VN registers with this NVE's endpoint
// for that VN, so the tunnels other NVEs build toward it name its VN.
TEST_F(AgentTest, AVmOfAnotherVnRegistersWithThatVnsEndpoint) {
  cfg.vn_endpoints[5].ipv4 = ip("192.0.2.5");
  NveAgent a(cfg, routes, net, keys, clock);
  VmSpec tenant = vm;
  tenant.vn = 5;
  ASSERT_FALSE(a.vm_event(VmEvent::Associate, tenant));
  ASSERT_FALSE(a.vm_event(VmEvent::Activate, tenant));
  const auto req = last_sent();
  EXPECT_EQ(req.virtual_network, 5u);
  EXPECT_EQ(req.serving_nve.ipv4, ip("192.0.2.5"));
  EXPECT_TRUE(routes.find({5, ip("10.0.0.5")}));
  EXPECT_FALSE(routes.find({0, ip("10.0.0.5")}));
  // And a VN 0 VM still registers with the main endpoint.
  VmSpec plain = vm;
  plain.id = *proto::parse_vm_id("vm-2");
  a.vm_event(VmEvent::Associate, plain);
  a.vm_event(VmEvent::Activate, plain);
  EXPECT_EQ(last_sent().serving_nve.ipv4, kSelf);
}

// Issue 14: a redirect lives while traffic arrives (seed 003 section 5). It
// used to end with the notification's lifetime even under traffic (a long
// TCP session to a moved VM died after half a minute).
TEST_F(AgentTest, ABusyRedirectOutlivesItsLifetimeAndAnIdleOneEnds) {
  auto wire = proto::encode(notification(1, "198.51.100.2"), keys.sending_key(kNvad)[0]);
  ASSERT_TRUE(wire.ok());
  agent->on_datagram(kNvad, 61434, wire.value());
  ASSERT_EQ(agent->bul_size(), 1u);
  const HostRoute r{0, ip("10.0.0.5")};
  const uint64_t lifetime_ms = 75 * 4 * 1000;
  // Traffic every 10 s for three lifetimes.
  for (uint64_t t = 0; t < 3 * lifetime_ms; t += 10000) {
    routes.routes[r].hits++;
    clock.advance(std::chrono::milliseconds(10000));
    agent->tick();
    ASSERT_EQ(agent->bul_size(), 1u) << "redirect ended at +" << t / 1000 << " s under traffic";
    ASSERT_TRUE(std::holds_alternative<TunnelToNve>(routes.find(r)->action));
  }
  EXPECT_EQ(agent->counters().bul_renewed, 3u);  // at +300, +600 and +900 s
  // The traffic stops: the redirect ends after bul_idle_ms, not before.
  clock.advance(std::chrono::milliseconds(cfg.bul_idle_ms - 1000));
  agent->tick();
  EXPECT_EQ(agent->bul_size(), 1u);
  clock.advance(std::chrono::milliseconds(2000));
  agent->tick();
  EXPECT_EQ(agent->bul_size(), 0u);
  EXPECT_FALSE(routes.find(r));
  EXPECT_EQ(agent->counters().bul_idle_expired, 1u);
}

// Issue 14, point 2: every refusal has a reaction. The agent retries later,
// with backoff and jitter, never at once (a refused refresh used to be sent
// again on every control-loop pass, ~3,000 requests/s) and never gives up
// for good (a refused first registration used to be never retried). Over
// ten minutes of refusals the requests stay within a stated bound, and the
// first acceptance ends it.
// An nvad cluster (issue 18): agent.nvad lists its instances. A standby
// answers 133 and the request goes to the next one at once; a silent one is
// left at the next retransmission; whoever answers is asked from then on;
// notifications are taken from any of them and from nothing else.
class NvadFailoverTest : public AgentTest {
 protected:
  const IpAddress kNvad2 = ip("10.255.0.2");
  NvadFailoverTest() {
    keys.add(kNvad2, key(7, 0xab));
    cfg.nvads = {kNvad, kNvad2};
    agent = std::make_unique<NveAgent>(cfg, routes, net, keys, clock);
  }
  void answer(proto::Status status, uint16_t lifetime, const IpAddress &from) {
    deliver(reply_to(last_sent(), status, lifetime), keys.sending_key(from)[0], from);
  }
};

TEST_F(NvadFailoverTest, AStandbysAnswerSendsTheRequestToTheNextNvadAtOnce) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  ASSERT_EQ(net.sent.size(), 1u);
  EXPECT_EQ(net.sent[0].to, kNvad);
  answer(proto::Status::NotActiveManagementNode, 0, kNvad);
  ASSERT_EQ(net.sent.size(), 2u) << "not sent on at once";
  EXPECT_EQ(net.sent[1].to, kNvad2);
  answer(proto::Status::Accepted, 150, kNvad2);
  EXPECT_TRUE(agent->registered(vm.id));
  EXPECT_EQ(agent->counters().replies_not_active, 1u);
  EXPECT_EQ(agent->counters().nvad_failovers, 1u);
  EXPECT_EQ(agent->counters().replies_rejected, 0u) << "a standby's answer is no refusal";
  // The refresh goes to the one that answered.
  clock.advance(std::chrono::seconds(600));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 3u);
  EXPECT_EQ(net.sent[2].to, kNvad2);
}

TEST_F(NvadFailoverTest, ASilentNvadIsLeftAtTheNextRetransmission) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  ASSERT_EQ(net.sent.size(), 1u);
  clock.advance(std::chrono::milliseconds(cfg.retransmit_initial_ms + 1));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 2u);
  EXPECT_EQ(net.sent[1].to, kNvad2);
  answer(proto::Status::Accepted, 150, kNvad2);
  EXPECT_TRUE(agent->registered(vm.id));
}

TEST_F(NvadFailoverTest, StandbysEverywhereDoNotMakeARequestStorm) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  // An election under way: both answer 133, every time.
  for (int ms = 0; ms < 10000; ms += 10) {
    while (!net.sent.empty() && net.sent.back().data.size() && proto::decode(net.sent.back().data)->message.is_request()) {
      const size_t before = net.sent.size();
      answer(proto::Status::NotActiveManagementNode, 0, net.sent.back().to);
      if (net.sent.size() == before) break;
    }
    clock.advance(std::chrono::milliseconds(10));
    agent->tick();
  }
  // Each nvad asked at once once per transmission, at the retransmission pace
  // (1, 2, 4 s: 4 transmissions in 10 s), never a loop.
  EXPECT_LE(net.sent.size(), 2u * 5);
  EXPECT_FALSE(agent->registered(vm.id));
}

// Three nvads, an election under way: each transmission goes round all of
// them, and going round is no retransmission: the next one comes after the
// first timeout, not after the timeout doubled once per standby (that made
// a three-nvad failover take 6 s more than the election in the e2e test).
TEST_F(NvadFailoverTest, AnElectionCostsOneRoundPerTransmissionAndNoExtraBackoff) {
  const IpAddress kNvad3 = ip("10.255.0.3");
  keys.add(kNvad3, key(8, 0xcd));
  cfg.nvads = {kNvad, kNvad2, kNvad3};
  agent = std::make_unique<NveAgent>(cfg, routes, net, keys, clock);
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  for (int i = 0; i < 3; i++) answer(proto::Status::NotActiveManagementNode, 0, net.sent.back().to);
  ASSERT_EQ(net.sent.size(), 3u) << "each nvad once, then wait";
  EXPECT_EQ(net.sent[1].to, kNvad2);
  EXPECT_EQ(net.sent[2].to, kNvad3);
  clock.advance(std::chrono::milliseconds(cfg.retransmit_initial_ms + 1));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 4u) << "the next transmission after the first timeout";
  answer(proto::Status::NotActiveManagementNode, 0, net.sent.back().to);
  ASSERT_EQ(net.sent.size(), 5u) << "and round the nvads again";
  answer(proto::Status::Accepted, 150, net.sent.back().to);  // the election is over
  EXPECT_TRUE(agent->registered(vm.id));
  EXPECT_EQ(agent->counters().replies_not_active, 4u);
}

TEST_F(NvadFailoverTest, NotificationsAreTakenFromEveryNvadAndNothingElse) {
  deliver(notification(100, "192.0.2.9"), keys.sending_key(kNvad2)[0], kNvad2);
  EXPECT_EQ(agent->counters().notifications_accepted, 1u);
  deliver(notification(101, "192.0.2.9"), key(7, 0xab), ip("10.255.0.3"));
  EXPECT_EQ(agent->counters().notifications_accepted, 1u);
  EXPECT_EQ(agent->counters().dropped_datagrams, 1u);
}

TEST_F(AgentTest, EveryRefusalIsRetriedLaterWithBackoffAndRecovers) {
  for (proto::Status status : proto::kRejectionStatuses) {
    if (status == proto::Status::BadSequenceNumber) continue;  // its own reaction (below)
    if (status == proto::Status::NotActiveManagementNode) continue;  // not a refusal: NvadFailoverTest
    SCOPED_TRACE(proto::status_name(status));
    net.sent.clear();
    NveAgent a(cfg, routes, net, keys, clock);
    VmSpec v = vm;
    v.id = *proto::parse_vm_id(std::string("vm-") + std::to_string(static_cast<int>(status)));
    ASSERT_FALSE(a.vm_event(VmEvent::Associate, v));
    ASSERT_FALSE(a.vm_event(VmEvent::Activate, v));
    ASSERT_EQ(net.sent.size(), 1u);
    auto answer = [&](proto::Status st, uint16_t lifetime) {
      auto wire = proto::encode(reply_to(last_sent(), st, lifetime), keys.sending_key(kNvad)[0]);
      ASSERT_TRUE(wire.ok());
      a.on_datagram(kNvad, 61434, wire.value());
    };
    const bool policy = status == proto::Status::AdministrativelyProhibited ||
                        status == proto::Status::NotAuthorized ||
                        status == proto::Status::MissingMandatoryOption ||
                        status == proto::Status::VmIdentityMismatch ||
                        status == proto::Status::UnknownVirtualNetwork;
    const uint64_t first = policy ? cfg.retransmit_max_ms : cfg.retransmit_initial_ms;
    std::vector<uint64_t> at;  // when each request went out, ms after the first
    const uint64_t t0 = clock.now_ms();
    size_t answered = 0;
    for (uint64_t step = 0; step < 600000; step += 10) {
      while (answered < net.sent.size()) {
        at.push_back(clock.now_ms() - t0);
        answer(status, 0);
        answered = net.sent.size();
      }
      clock.advance(std::chrono::milliseconds(10));
      a.tick();
    }
    ASSERT_GE(at.size(), 2u) << "never retried";
    EXPECT_GE(at[1] - at[0], first * 3 / 4) << "retried too soon";
    EXPECT_LE(at[1] - at[0], first * 5 / 4 + 10);
    for (size_t i = 2; i < at.size(); i++) EXPECT_GE(at[i] - at[i - 1], first * 3 / 4);
    // The bound (docs/protocol.md section 7): intervals double from `first`
    // up to retransmit_max_ms (transient) or 10 min (policy), each -25%.
    EXPECT_LE(at.size(), policy ? 6u : 32u);
    EXPECT_EQ(a.vms_json()[0]["refused_with"], proto::status_name(status));
    // The cause is fixed: the next attempt is accepted, and that is the end.
    clock.advance(std::chrono::milliseconds((policy ? kPolicyRetryMaxMs : cfg.retransmit_max_ms) * 5 / 4 + 10));
    a.tick();
    ASSERT_GT(net.sent.size(), answered);
    answer(proto::Status::Accepted, 150);
    EXPECT_TRUE(a.registered(v.id));
    EXPECT_TRUE(a.vms_json()[0]["refused_with"].is_null());
    const size_t settled = net.sent.size();
    clock.advance(std::chrono::seconds(60));
    a.tick();
    EXPECT_EQ(net.sent.size(), settled) << "requests after the acceptance";
  }
}

// A refused refresh: the registration stays (nvad still has the binding until
// it expires) and the agent retries later, not on every pass.
TEST_F(AgentTest, ARefusedRefreshIsNotAStorm) {
  agent->vm_event(VmEvent::Associate, vm);
  agent->vm_event(VmEvent::Activate, vm);
  deliver(reply_to(last_sent(), proto::Status::Accepted, 25), keys.sending_key(kNvad)[0]);  // 100 s
  clock.advance(std::chrono::seconds(76));
  agent->tick();
  ASSERT_EQ(net.sent.size(), 2u);  // the refresh
  deliver(reply_to(last_sent(), proto::Status::InsufficientResources, 0), keys.sending_key(kNvad)[0]);
  for (int i = 0; i < 500; i++) {  // 500 loop passes in 50 ms
    clock.advance(std::chrono::microseconds(100));
    agent->tick();
  }
  EXPECT_EQ(net.sent.size(), 2u) << "a refused refresh was sent again at once";
}

// Issue 14, point 6: a VM's gratuitous ARP / unsolicited NA after it moved in
// activates it, with the checks of an activation (port, VLAN, MAC, address).
TEST_F(AgentTest, AnAssociatedVmThatAnnouncesItselfIsActivated) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  EXPECT_FALSE(agent->on_vm_announcement(vm.port, 0, {2, 0, 0, 0, 9, 9}, ip("10.0.0.5")));  // other MAC
  EXPECT_FALSE(agent->on_vm_announcement(vm.port, 0, vm.mac, ip("10.0.0.6")));            // other address
  EXPECT_FALSE(agent->on_vm_announcement(vm.port + 1, 0, vm.mac, ip("10.0.0.5")));        // other port
  EXPECT_FALSE(agent->on_vm_announcement(vm.port, 7, vm.mac, ip("10.0.0.5")));            // other VLAN
  EXPECT_EQ(agent->vm_state(vm.id), VmState::Associated);
  EXPECT_EQ(agent->counters().vm_announcements_ignored, 4u);
  EXPECT_TRUE(agent->on_vm_announcement(vm.port, 0, vm.mac, ip("10.0.0.5")));
  EXPECT_EQ(agent->vm_state(vm.id), VmState::Activated);
  EXPECT_TRUE(routes.find({0, ip("10.0.0.5")}));
  EXPECT_EQ(last_sent().mobility, proto::MobilityMode::Hot);  // registered as just moved in
  EXPECT_EQ(agent->counters().vm_announcements_activated, 1u);
  // Announcing again once active changes nothing.
  EXPECT_FALSE(agent->on_vm_announcement(vm.port, 0, vm.mac, ip("10.0.0.5")));
}

// Issue 14, point 7: a restarted nved loses neither its VMs nor the
// redirects it holds: the state exported by one agent and restored into a
// fresh one (as agent.state_file does across a restart) gives back the
// local routes, a registration (a refresh for nvad) and the tunnels.
TEST_F(AgentTest, StateSurvivesARestart) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm, proto::MobilityMode::Warm));
  VmSpec moved = vm;
  moved.id = *proto::parse_vm_id("vm-gone");
  moved.addresses = {ip("10.0.0.7")};
  auto n = notification(1, "198.51.100.2");
  n.vm_id = moved.id;
  n.vm_addresses = moved.addresses;
  deliver(n, keys.sending_key(kNvad)[0]);
  ASSERT_EQ(agent->bul_size(), 1u);
  const nlohmann::json saved = nlohmann::json::parse(agent->export_state().dump());  // as written to the file

  MapRoutes fresh_routes;  // the new process's empty table
  CaptureNet fresh_net;
  NveAgent restarted(cfg, fresh_routes, fresh_net, keys, clock);
  restarted.restore_state(saved);
  EXPECT_EQ(restarted.vm_state(vm.id), VmState::Activated);
  EXPECT_TRUE(std::holds_alternative<DeliverLocal>(fresh_routes.find({0, ip("10.0.0.5")})->action));
  ASSERT_EQ(fresh_net.sent.size(), 1u);  // registered again
  EXPECT_EQ(proto::decode(fresh_net.sent[0].data)->message.mobility, proto::MobilityMode::Warm);
  EXPECT_EQ(restarted.bul_size(), 1u);
  EXPECT_EQ(std::get<TunnelToNve>(fresh_routes.find({0, ip("10.0.0.7")})->action).nve, ip("198.51.100.2"));
  EXPECT_GT(restarted.state_version(), 0u);
}

// docs/protocol.md 7, "Who may tunnel to an NVE": the accepted reply names
// the NVEs redirecting this VM's packets in flight to us; their tunnels are
// decapsulated (a TunnelPeer route) while a registration names them, and no
// longer once a whole granted lifetime passes without one.
TEST_F(AgentTest, RedirectingNvesOfAnAcceptedReplyAreLearntUntilNoReplyNamesThem) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  auto accepted = reply_to(last_sent(), proto::Status::Accepted, 25);  // 100 s
  accepted.redirecting_nves = {ip("198.51.100.7"), ip("2001:db8:ff::7")};
  deliver(accepted, keys.sending_key(kNvad)[0]);
  const HostRoute peer4{kTunnelPeerVn, ip("198.51.100.7")}, peer6{kTunnelPeerVn, ip("2001:db8:ff::7")};
  ASSERT_TRUE(routes.find(peer4));
  EXPECT_TRUE(std::holds_alternative<TunnelPeer>(routes.find(peer4)->action));
  EXPECT_TRUE(routes.find(peer6));
  EXPECT_EQ(agent->counters().tunnel_peers_learnt, 2u);
  EXPECT_EQ(agent->tunnel_peers_json().size(), 2u);

  // The refresh at 75 s names only the IPv4 one: it lives on, the other
  // ends 100 s after the first reply.
  clock.advance(std::chrono::seconds(76));
  agent->tick();
  auto refreshed = reply_to(last_sent(), proto::Status::Accepted, 25);
  refreshed.redirecting_nves = {ip("198.51.100.7")};
  deliver(refreshed, keys.sending_key(kNvad)[0]);
  clock.advance(std::chrono::seconds(25));
  agent->tick();
  EXPECT_TRUE(routes.find(peer4));
  EXPECT_FALSE(routes.find(peer6));
  EXPECT_EQ(agent->counters().tunnel_peers_expired, 1u);

  // Survives a restart with its remaining time.
  const nlohmann::json saved = nlohmann::json::parse(agent->export_state().dump());
  MapRoutes fresh_routes;
  CaptureNet fresh_net;
  NveAgent restarted(cfg, fresh_routes, fresh_net, keys, clock);
  restarted.restore_state(saved);
  EXPECT_TRUE(fresh_routes.find(peer4));
  clock.advance(std::chrono::seconds(76));
  restarted.tick();
  EXPECT_FALSE(fresh_routes.find(peer4));
}

// A rejection or a reply to nothing we asked teaches no peer.
TEST_F(AgentTest, OnlyAnAcceptedReplyToOurRequestTeachesTunnelPeers) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  const auto req = last_sent();
  auto forged = reply_to(req, proto::Status::Accepted, 25);
  forged.sequence = static_cast<uint16_t>(req.sequence + 100);
  forged.redirecting_nves = {ip("203.0.113.9")};
  deliver(forged, keys.sending_key(kNvad)[0]);
  auto refused = reply_to(req, proto::Status::AdministrativelyProhibited, 0);
  refused.lifetime = 25;  // whatever a confused nvad puts in a refusal
  refused.redirecting_nves = {ip("203.0.113.9")};
  deliver(refused, keys.sending_key(kNvad)[0]);
  EXPECT_FALSE(routes.find({kTunnelPeerVn, ip("203.0.113.9")}));
  EXPECT_EQ(agent->counters().tunnel_peers_learnt, 0u);
}

// ---- The default-router role (R flag): native host routes toward the
// serving NVE, installed once the next hop's MAC is known.
namespace {

const MacAddress kNveBMac = {0x02, 0xbb, 0, 0, 0, 2};
const MacAddress kGatewayMac = {0x02, 0x99, 0, 0, 0, 1};

class RouterTest : public AgentTest {
 protected:
  RouterTest() {
    cfg.router.enabled = true;
    cfg.router.vns = {0};
    cfg.router.on_link = {*IpPrefix::parse("192.0.2.0/24")};
    cfg.router.fabric_port = 0;
    agent = std::make_unique<NveAgent>(cfg, routes, net, keys, clock);
  }
  proto::Message router_notification(uint16_t seq, const char *serving, uint16_t lifetime = 75) {
    auto m = notification(seq, serving);
    m.router = true;
    m.lifetime = lifetime;
    return m;
  }
  const RouteView *route() const {
    auto it = routes.routes.find({0, ip("10.0.0.5")});
    return it == routes.routes.end() ? nullptr : &it->second;
  }
};

}  // namespace

TEST_F(RouterTest, WaitsForTheNextHopsMacThenRoutesNativelyToTheServingNve) {
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::Accepted);
  EXPECT_EQ(last_sent().lifetime, 75);
  EXPECT_EQ(route(), nullptr) << "no route before the next hop resolves: packets keep the old path";
  EXPECT_EQ(agent->router_next_hops(), std::set<IpAddress>{ip("192.0.2.2")});

  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  ASSERT_NE(route(), nullptr);
  EXPECT_EQ(route()->action, (RouteAction{DeliverLocal{0, kNveBMac, 0}}));
  EXPECT_EQ(agent->counters().router_routes_installed, 1u);

  const MacAddress moved = {0x02, 0xbb, 0, 0, 0, 3};
  agent->on_neighbour(ip("192.0.2.2"), moved);
  EXPECT_EQ(route()->action, (RouteAction{DeliverLocal{0, moved, 0}})) << "the route follows the next hop's MAC";
  EXPECT_EQ(agent->counters().router_routes_installed, 1u);
  EXPECT_EQ(agent->router_routes_json().at(0).at("state"), "installed");
}

// Off link, the only way would be a gateway, which routes the VM's address
// back toward its old subnet: through this router. Refused, and the VM's
// old route (which points where it no longer is) withdrawn.
TEST_F(RouterTest, AServingNveOffLinkIsRefusedAndTheOldRouteWithdrawn) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  ASSERT_NE(route(), nullptr);
  deliver(router_notification(2, "198.51.100.7"), key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::Unspecified);
  EXPECT_EQ(route(), nullptr);
  EXPECT_TRUE(agent->router_routes_json().empty());
}

TEST_F(RouterTest, AMoveOnwardToAnUnresolvedNextHopWithdrawsTheOldRouteMeanwhile) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  ASSERT_NE(route(), nullptr);
  deliver(router_notification(2, "192.0.2.3"), key(7, 0xab));  // C: no MAC known yet
  EXPECT_EQ(route(), nullptr) << "no route toward B, where the VM no longer is";
  agent->on_neighbour(ip("192.0.2.3"), kGatewayMac);
  ASSERT_NE(route(), nullptr);
  EXPECT_EQ(route()->action, (RouteAction{DeliverLocal{0, kGatewayMac, 0}}));
  deliver(router_notification(3, "192.0.2.3", 0), key(7, 0xab));
  EXPECT_EQ(route(), nullptr) << "and it is still tracked: lifetime 0 removes it";
}

TEST_F(RouterTest, OnlyAddressesInsideItsPrefixes) {
  cfg.router.prefixes = {*IpPrefix::parse("10.1.0.0/16")};
  agent = std::make_unique<NveAgent>(cfg, routes, net, keys, clock);
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));  // 10.0.0.5
  EXPECT_EQ(last_sent().status, proto::Status::AdministrativelyProhibited);
  EXPECT_EQ(route(), nullptr);
}

TEST_F(RouterTest, LifetimeZeroWithdrawsTheRoutes) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  ASSERT_NE(route(), nullptr);
  deliver(router_notification(2, "192.0.2.2", 0), key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::Accepted);
  EXPECT_EQ(route(), nullptr);
  EXPECT_TRUE(agent->router_routes_json().empty());
  EXPECT_TRUE(agent->router_next_hops().empty());
  EXPECT_EQ(agent->counters().router_routes_removed, 1u);
}

TEST_F(RouterTest, AMoveOnwardRepointsTheRouteWithoutRemovingItFirst) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  agent->on_neighbour(ip("192.0.2.3"), kGatewayMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  const uint64_t version = routes.version;
  deliver(router_notification(2, "192.0.2.3"), key(7, 0xab));
  EXPECT_EQ(route()->action, (RouteAction{DeliverLocal{0, kGatewayMac, 0}}));
  EXPECT_EQ(routes.version, version + 1) << "one batch, an upsert in place";
  EXPECT_EQ(agent->counters().router_routes_removed, 0u);
}

TEST_F(RouterTest, IdleRoutesGoBusyOnesAreRenewed) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2", 10), key(7, 0xab));  // 40 s
  for (int i = 0; i < 10; i++) {  // 50 s of traffic
    routes.routes[{0, ip("10.0.0.5")}].hits += 5;
    clock.advance(std::chrono::seconds(5));
    agent->tick();
  }
  ASSERT_NE(route(), nullptr);
  EXPECT_EQ(agent->counters().router_routes_renewed, 1u);
  clock.advance(std::chrono::seconds(31));  // then nothing for longer than the idle time
  agent->tick();
  EXPECT_EQ(route(), nullptr);
  EXPECT_EQ(agent->counters().router_routes_idle_expired, 1u);
}

TEST_F(RouterTest, ARouteOfThisNvesOwnIsNeverReplaced) {
  ASSERT_FALSE(agent->vm_event(VmEvent::Associate, vm));
  ASSERT_FALSE(agent->vm_event(VmEvent::Activate, vm));
  ASSERT_NE(route(), nullptr);
  const RouteAction local = route()->action;
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  EXPECT_EQ(route()->action, local) << "the local VM's route stays";
}

TEST_F(RouterTest, RefusesVnsItDoesNotRouteAndShareReplayStateWithRedirects) {
  auto other_vn = router_notification(1, "192.0.2.2");
  other_vn.virtual_network = 5;
  deliver(other_vn, key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::AdministrativelyProhibited);

  deliver(notification(10, "192.0.2.2"), key(7, 0xab));  // a redirect, sequence 10
  EXPECT_EQ(last_sent().status, proto::Status::Accepted);
  deliver(router_notification(9, "192.0.2.2"), key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::BadSequenceNumber) << "one replay state for nvad, whatever the flag";
}

TEST_F(RouterTest, EntriesSurviveARestartAndWaitForTheirNextHops) {
  agent->on_neighbour(ip("192.0.2.2"), kNveBMac);
  deliver(router_notification(1, "192.0.2.2"), key(7, 0xab));
  const auto state = agent->export_state();
  MapRoutes fresh_routes;
  NveAgent restarted(cfg, fresh_routes, net, keys, clock);
  restarted.restore_state(state);
  EXPECT_TRUE(fresh_routes.routes.empty());
  EXPECT_EQ(restarted.router_next_hops(), std::set<IpAddress>{ip("192.0.2.2")});
  restarted.on_neighbour(ip("192.0.2.2"), kNveBMac);
  EXPECT_EQ(fresh_routes.routes.size(), 1u);
}

TEST_F(AgentTest, AnNveThatIsNotADefaultRouterRefusesRouterRegistrations) {
  auto m = notification(1, "192.0.2.2");
  m.router = true;
  deliver(m, key(7, 0xab));
  EXPECT_EQ(last_sent().status, proto::Status::AdministrativelyProhibited);
  EXPECT_TRUE(routes.routes.empty());
  EXPECT_EQ(agent->counters().notifications_rejected, 1u);
}
