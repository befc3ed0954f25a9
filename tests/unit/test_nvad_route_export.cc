// nvad's route export (seed 003 section 7.3): which host routes a binding
// has announced, the changes that follow its moves, and the ExaBGP backend's
// commands and socket (the end-to-end test runs the real ExaBGP and BIRD).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "control/base/clock.h"
#include "control/nvad/config_loader.h"
#include "control/nvad/exabgp_export.h"
#include "control/nvad/route_export.h"

namespace nvmove::nvad {
namespace {

IpAddress ip(const char *s) { return *IpAddress::parse(s); }

ExportPolicy policy() {
  ExportPolicy p;
  p.enabled = true;
  p.home = {{*IpPrefix::parse("10.0.0.0/24"), ip("127.0.0.11")}, {*IpPrefix::parse("fd00::/64"), ip("127.0.0.11")}};
  p.communities = {"65001:100"};
  p.large_communities = {"65001:1:100"};
  return p;
}

Binding binding_at(const char *control, const char *v4, const char *v6 = nullptr) {
  Binding b;
  b.vm_id = {1, 2, 3};
  b.virtual_network = 0;
  b.state = BindingState::Active;
  b.addresses = {ip("10.0.0.5"), ip("fd00::5"), ip("172.16.0.9")};  // the last is homed nowhere
  b.serving.control = ip(control);
  b.serving.endpoints.ipv4 = ip(v4);
  if (v6) b.serving.endpoints.ipv6 = ip(v6);
  return b;
}

TEST(RouteExport, AVmAtHomeHasNothingAnnounced) {
  RouteExport e(policy());
  Binding b = binding_at("127.0.0.11", "192.0.2.1", "2001:db8::1");
  EXPECT_TRUE(e.update(b.key(), &b).empty());
}

TEST(RouteExport, AMovedVmHasItsHomedAddressesAnnouncedTowardItsNewNve) {
  RouteExport e(policy());
  Binding b = binding_at("127.0.0.12", "192.0.2.2", "2001:db8::2");
  auto changes = e.update(b.key(), &b);
  ASSERT_EQ(changes.size(), 2u);  // 172.16.0.9 has no home: never announced
  EXPECT_EQ(changes[0].op, RouteChange::Op::Upsert);
  EXPECT_EQ(changes[0].route.address, ip("10.0.0.5"));
  EXPECT_EQ(std::get<TunnelToNve>(changes[0].action).nve, ip("192.0.2.2"));
  EXPECT_EQ(std::get<TunnelToNve>(changes[1].action).nve, ip("2001:db8::2"));
  EXPECT_TRUE(e.update(b.key(), &b).empty());  // a refresh changes nothing
}

TEST(RouteExport, MovesRetargetReturnHomeWithdrawsAndTheEndOfTheBindingToo) {
  RouteExport e(policy());
  Binding b = binding_at("127.0.0.12", "192.0.2.2", "2001:db8::2");
  e.update(b.key(), &b);
  Binding c = binding_at("127.0.0.13", "192.0.2.3", "2001:db8::3");  // on to C
  auto to_c = e.update(c.key(), &c);
  ASSERT_EQ(to_c.size(), 2u);
  EXPECT_EQ(std::get<TunnelToNve>(to_c[0].action).nve, ip("192.0.2.3"));
  Binding home = binding_at("127.0.0.11", "192.0.2.1", "2001:db8::1");
  auto back = e.update(home.key(), &home);
  ASSERT_EQ(back.size(), 2u);
  for (const auto &ch : back) EXPECT_EQ(ch.op, RouteChange::Op::Remove);
  // De-registered at C: nvad keeps the binding a while in grace (registrar
  // deregister()), it does not erase it; the routes go at once.
  EXPECT_EQ(e.update(c.key(), &c).size(), 2u);
  c.state = BindingState::DeregisteredGrace;
  auto dereg = e.update(c.key(), &c);
  ASSERT_EQ(dereg.size(), 2u);
  for (const auto &ch : dereg) EXPECT_EQ(ch.op, RouteChange::Op::Remove);
  EXPECT_TRUE(e.update(c.key(), nullptr).empty());  // erased after the grace: nothing left
  c.state = BindingState::Active;
  e.update(c.key(), &c);
  auto erased = e.update(c.key(), nullptr);  // expired and erased
  ASSERT_EQ(erased.size(), 2u);
  for (const auto &ch : erased) EXPECT_EQ(ch.op, RouteChange::Op::Remove);
}

TEST(RouteExport, ARouteTheBackendRefusedIsTriedAgainAtTheNextUpdate) {
  RouteExport e(policy());
  Binding b = binding_at("127.0.0.12", "192.0.2.2", "2001:db8::2");
  ASSERT_EQ(e.update(b.key(), &b).size(), 2u);
  e.not_announced(b.key(), ip("fd00::5"));  // over export.max_routes
  auto again = e.update(b.key(), &b);     // the refresh
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].route.address, ip("fd00::5"));
}

TEST(RouteExport, AnAddressWithoutANextHopOfItsFamilyIsCountedNotAnnounced) {
  RouteExport e(policy());
  Binding b = binding_at("127.0.0.12", "192.0.2.2");  // no IPv6 endpoint
  auto changes = e.update(b.key(), &b);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(e.without_next_hop(), 1u);
}

TEST(RouteExport, OnlyTheListedVirtualNetworksAndTheLongestHomePrefix) {
  ExportPolicy p = policy();
  p.home.push_back({*IpPrefix::parse("10.0.0.0/25"), ip("127.0.0.12")});  // 10.0.0.5's home is B
  RouteExport e(p);
  Binding b = binding_at("127.0.0.12", "192.0.2.2", "2001:db8::2");
  auto changes = e.update(b.key(), &b);
  ASSERT_EQ(changes.size(), 1u);  // only fd00::5: 10.0.0.5 is at home at B
  EXPECT_EQ(changes[0].route.address, ip("fd00::5"));
  b.virtual_network = 7;
  EXPECT_TRUE(e.update(b.key(), &b).empty());
}

TEST(ExaBgpCommand, CarriesNextHopOriginAndCommunities) {
  EXPECT_EQ(exabgp_command(true, ip("10.0.0.5"), ip("192.0.2.2"), policy()),
            "announce route 10.0.0.5/32 next-hop 192.0.2.2 origin igp community [65001:100] "
            "large-community [65001:1:100]");
  EXPECT_EQ(exabgp_command(false, ip("fd00::5"), ip("2001:db8::2"), policy()),
            "withdraw route fd00::5/128 next-hop 2001:db8::2");
}

int connect_unix(const std::string &path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  return fd;
}

std::string read_some(int fd, ExaBgpExport &x, size_t want) {
  std::string got;
  char buf[4096];
  for (int i = 0; i < 200 && got.size() < want; i++) {
    x.poll();
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    else std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return got;
}

// A bridge that connects gets the whole set between #sync markers, then each
// change; its acknowledgements are counted; the prefix limit refuses, named.
TEST(ExaBgpExport, ABridgeGetsTheWholeSetThenEveryChangeWithinTheLimit) {
  const std::string path = (std::filesystem::temp_directory_path() / ("nvexport" + std::to_string(::getpid()))).string();
  ExportPolicy p = policy();
  p.socket = path;
  p.max_routes = 2;
  FakeClock clock;
  ExaBgpExport x(p, clock);
  RouteChange a;
  a.route = {0, ip("10.0.0.5")};
  a.action = TunnelToNve{ip("192.0.2.2")};
  ASSERT_EQ(x.apply(std::span(&a, 1)).applied, 1u);
  const int fd = connect_unix(path);
  const std::string sync = "#sync begin\n" + exabgp_command(true, ip("10.0.0.5"), ip("192.0.2.2"), p) + "\n#sync end\n";
  EXPECT_EQ(read_some(fd, x, sync.size()), sync);
  EXPECT_EQ(x.speakers(), 1u);

  RouteChange b = a, c = a;
  b.route.address = ip("10.0.0.6");
  c.route.address = ip("10.0.0.7");
  RouteChange both[] = {b, c};
  auto result = x.apply(both);
  EXPECT_EQ(result.applied, 1u);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].reason.find("export.max_routes"), std::string::npos);
  EXPECT_EQ(x.counters().over_limit, 1u);
  const std::string announce = exabgp_command(true, ip("10.0.0.6"), ip("192.0.2.2"), p) + "\n";
  EXPECT_EQ(read_some(fd, x, announce.size()), announce);

  ASSERT_EQ(::send(fd, "done\ndone\nerror\n", 16, 0), 16);
  for (int i = 0; i < 50 && x.counters().acknowledged + x.counters().refused < 3; i++) {
    x.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(x.counters().acknowledged, 2u);
  EXPECT_EQ(x.counters().refused, 1u);
  ::close(fd);
  for (int i = 0; i < 50 && x.speakers(); i++) {
    x.poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(x.speakers(), 0u);
  EXPECT_EQ(x.size(), 2u);  // the routes stay, for the next bridge
}

TEST(ExportConfig, ReadsTheSectionAndNamesEveryMistake) {
  auto good = parse_config(R"(
export:
  socket: /run/nvmove/nvad-export.sock
  home:
    - {prefix: 10.0.0.0/24, nve: 192.0.2.1}
  community: ["65001:100"]
  large_community: ["65001:1:100"]
  max_routes: 500
)",
                           "nvad.yaml");
  ASSERT_TRUE(good) << good.error().messages[0];
  EXPECT_TRUE(good->route_export.enabled);
  EXPECT_EQ(good->route_export.home.size(), 1u);
  EXPECT_EQ(good->route_export.max_routes, 500u);
  auto bad = parse_config(R"(
export:
  home:
    - {prefix: 10.0.0.1/24, nve: 192.0.2.1}
  community: ["65001:70000", "x"]
  large_community: ["1:2"]
)",
                          "nvad.yaml");
  ASSERT_FALSE(bad);
  std::string all;
  for (const auto &m : bad.error().messages) all += m + "\n";
  EXPECT_NE(all.find("export.socket"), std::string::npos) << all;
  EXPECT_NE(all.find("'10.0.0.1/24' is not a prefix"), std::string::npos) << all;
  EXPECT_NE(all.find("'65001:70000' is not a community"), std::string::npos) << all;
  EXPECT_NE(all.find("'x' is not a community"), std::string::npos) << all;
  EXPECT_NE(all.find("'1:2' is not a large community"), std::string::npos) << all;
  EXPECT_EQ(parse_config("listen: {port: 0}\n", "nvad.yaml")->route_export.enabled, false);
  // Communities are optional; an empty home list, several VNs, a home NVE
  // that is no peer, and an empty section are refused, by key.
  auto minimal = parse_config("export: {socket: /tmp/x.sock, home: [{prefix: 10.0.0.0/24, nve: 192.0.2.1}]}\n", "n");
  ASSERT_TRUE(minimal) << minimal.error().messages[0];
  EXPECT_TRUE(minimal->route_export.communities.empty());
  auto refused = [](const char *yaml) {
    auto r = parse_config(yaml, "nvad.yaml");
    std::string all;
    if (!r)
      for (const auto &m : r.error().messages) all += m + "\n";
    return all;
  };
  EXPECT_NE(refused("export: {socket: /tmp/x.sock, home: []}\n").find("export.home"), std::string::npos);
  EXPECT_NE(refused("export: {socket: /tmp/x.sock, home: [{prefix: 10.0.0.0/24, nve: 192.0.2.1}], "
                    "virtual_networks: [0, 7]}\n")
                .find("export.virtual_networks"),
            std::string::npos);
  EXPECT_NE(refused("peers: [{address: 192.0.2.2}]\n"
                    "export: {socket: /tmp/x.sock, home: [{prefix: 10.0.0.0/24, nve: 192.0.2.1}]}\n")
                .find("192.0.2.1 is not in peers"),
            std::string::npos);
  EXPECT_NE(refused("export: {}\n").find("export.socket"), std::string::npos);
}

}  // namespace
}  // namespace nvmove::nvad
