#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>

#include "control/nved/config.h"
#include "control/nved/running_config.h"

using namespace nvmove;

namespace {
const char *kGood = R"(
ports:
  - {name: fabric, role: fabric, port_id: 0}
  - {name: vms, role: access, port_id: 1, vlan: 100, vn: 7}
nve: {ipv4: 192.0.2.1, ipv6: "2001:db8::1"}
fabric_gateway: {ipv4: 192.0.2.254, mac: "02:00:00:00:00:fe"}
tunnel: {mtu: 1400, ttl: 32, dscp: 10}
default_action: drop
route_table: {capacity: 4096, max_nves: 16}
local_vms:
  - {port: vms, mac: "02:00:00:00:01:01", addresses: [10.0.0.5, "fd00::5"]}
moved_vms:
  - {addresses: [10.0.0.9], nve: 198.51.100.2, vn: 7}
)";

std::string error_of(const std::string &text) {
  try {
    load_config_text(text, "t.yaml");
  } catch (const ConfigError &e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string s, const std::string &from, const std::string &to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}
}  // namespace

TEST(Config, LoadsEveryKey) {
  const NvedConfig c = load_config_text(kGood);
  ASSERT_EQ(c.ports.size(), 2u);
  EXPECT_EQ(c.ports[1].vlan, 100);
  EXPECT_EQ(c.ports[1].vn, 7u);
  EXPECT_EQ(c.nve_ipv4.to_string(), "192.0.2.1");
  EXPECT_EQ(c.nve_ipv6.to_string(), "2001:db8::1");
  EXPECT_EQ(c.tunnel_mtu, 1400);
  EXPECT_EQ(c.tunnel_ttl, 32);
  EXPECT_EQ(c.tunnel_dscp, 10);
  EXPECT_FALSE(c.default_forward);
  EXPECT_EQ(c.route_capacity, 4096u);
  ASSERT_TRUE(c.gateway_mac_ipv4.has_value());
  EXPECT_EQ(mac_to_string(*c.gateway_mac_ipv6), "02:00:00:00:00:fe");
  const auto routes = static_routes(c);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].route.vn, 7u);  // the port's virtual network
  EXPECT_EQ(std::get<DeliverLocal>(routes[0].action).vlan, 100);
  EXPECT_EQ(std::get<TunnelToNve>(routes[2].action).nve.to_string(), "198.51.100.2");
}

// Issue 17: jumbo frames. A port's mtu (1500 by default, up to 9216) sizes
// the mbufs; the tunnel's outer packets must fit the fabric port's.
TEST(Config, PortMtuForJumboFramesAndTheTunnelWithinIt) {
  const NvedConfig std_mtu = load_config_text(kGood);
  EXPECT_EQ(std_mtu.ports[0].mtu, 1500);
  EXPECT_EQ(std_mtu.max_frame(), 1500u + 18u);
  const std::string jumbo = replace(replace(kGood, "port_id: 0}", "port_id: 0, mtu: 9000}"), "mtu: 1400", "mtu: 9000");
  const NvedConfig j = load_config_text(jumbo);
  EXPECT_EQ(j.ports[0].mtu, 9000);
  EXPECT_EQ(j.tunnel_mtu, 9000);
  EXPECT_EQ(j.max_frame(), 9000u + 18u);
  EXPECT_EQ(error_of(replace(kGood, "mtu: 1400", "mtu: 9000")),
            "t.yaml:7: tunnel.mtu: 9000 is above the fabric port's mtu 1500: outer packets must fit it (set the "
            "fabric port's mtu in ports[], up to 9216)");
  EXPECT_EQ(error_of(replace(kGood, "port_id: 0}", "port_id: 0, mtu: 9300}")),
            "t.yaml:3: ports[0].mtu: 9300 is out of range 1280..9216");
}

// workers.rx_scatter: 2 KiB mbufs and chains instead of mbufs of the largest
// frame; off unless asked, and only true or false.
TEST(Config, RxScatterIsAnExplicitChoice) {
  EXPECT_FALSE(load_config_text(kGood).rx_scatter);
  const NvedConfig on = load_config_text(kGood + std::string("workers: {rx_scatter: true}\n"));
  EXPECT_TRUE(on.rx_scatter);
  const std::string err = error_of(kGood + std::string("workers: {rx_scatter: 2k}\n"));
  EXPECT_NE(err.find("workers.rx_scatter"), std::string::npos) << err;
}

TEST(Config, ErrorsNameTheKeyAndLine) {
  EXPECT_EQ(error_of(replace(kGood, "role: access", "role: acces")),
            "t.yaml:4: ports[1].role: expected 'fabric' or 'access', got 'acces'");
  EXPECT_EQ(error_of(replace(kGood, "mtu: 1400", "mtu: 99999")),
            "t.yaml:7: tunnel.mtu: 99999 is out of range 1300..9600");
  EXPECT_EQ(error_of(replace(kGood, "ttl: 32", "ttl: many")),
            "t.yaml:7: tunnel.ttl: 'many' is not a whole number");
  EXPECT_EQ(error_of(replace(kGood, "ipv4: 192.0.2.1,", "ipv4: 192.0.2.300,")),
            "t.yaml:5: nve.ipv4: '192.0.2.300' is not an IPv4 or IPv6 address");
  EXPECT_EQ(error_of(replace(kGood, "default_action: drop", "default_acton: drop")),
            "t.yaml:8: default_acton: unknown key");
  EXPECT_EQ(error_of(replace(kGood, "port: vms,", "port: vm,")),
            "t.yaml:11: local_vms[0].port: no port named 'vm'");
  EXPECT_EQ(error_of(replace(kGood, "nve: 198.51.100.2", "nve: 192.0.2.1")),
            "t.yaml:13: moved_vms[0].nve: is this NVE's own address");
  EXPECT_EQ(error_of(replace(kGood, "\"02:00:00:00:01:01\"", "\"03:00:00:00:01:01\"")),
            "t.yaml:11: local_vms[0].mac: '03:00:00:00:01:01' is a multicast MAC address");
  EXPECT_EQ(error_of(replace(kGood, "role: fabric", "role: access")),
            "t.yaml:3: ports: exactly one port must have role 'fabric' (found 0)");
  EXPECT_EQ(error_of("ports: [\n"), "t.yaml:2: YAML syntax: end of sequence flow not found");
  EXPECT_NE(error_of(replace(kGood, "mtu: 1400", "mtu: 1300")).find("at least 1320"), std::string::npos);
}

TEST(Config, MissingFileIsAClearError) {
  try {
    load_config_file("/nonexistent/nved.yaml");
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_STREQ(e.what(), "/nonexistent/nved.yaml: cannot open configuration file: No such file or directory");
  }
  // Issue 13: a directory said "empty configuration".
  try {
    load_config_file("/tmp");
    FAIL();
  } catch (const ConfigError &e) {
    EXPECT_STREQ(e.what(), "/tmp: is a directory, not a configuration file");
  }
}

TEST(Config, AgentSection) {
  const std::string with_agent = std::string(kGood) + R"(agent:
  nvad: 10.255.0.1
  listen: 10.255.0.11
  key_file: /etc/nvmove/keys
  lifetime_s: 120
)";
  const NvedConfig c = load_config_text(with_agent);
  EXPECT_TRUE(c.agent.enabled);
  ASSERT_EQ(c.agent.nvads.size(), 1u);
  EXPECT_EQ(c.agent.nvads[0].to_string(), "10.255.0.1");
  EXPECT_EQ(c.agent.nvad_port, 61434);
  EXPECT_EQ(c.agent.lifetime_s, 120u);
  EXPECT_FALSE(load_config_text(kGood).agent.enabled);
  EXPECT_EQ(error_of(replace(with_agent, "listen: 10.255.0.11", "listen: \"fd00::11\"")),
            "t.yaml:16: agent.listen: must be of the same family as agent.nvad (10.255.0.1)");
  EXPECT_EQ(error_of(replace(with_agent, "  key_file: /etc/nvmove/keys\n", "")),
            "t.yaml:15: agent.key_file: missing (required)");
  // An nvad cluster: every instance listed, in order.
  const NvedConfig cluster = load_config_text(replace(with_agent, "nvad: 10.255.0.1", "nvad: [10.255.0.1, 10.255.0.2]"));
  ASSERT_EQ(cluster.agent.nvads.size(), 2u);
  EXPECT_EQ(cluster.agent.nvads[1].to_string(), "10.255.0.2");
  EXPECT_EQ(error_of(replace(with_agent, "nvad: 10.255.0.1", "nvad: []")),
            "t.yaml:15: agent.nvad: empty list: name at least one nvad");
  EXPECT_EQ(error_of(replace(with_agent, "nvad: 10.255.0.1", "nvad: [10.255.0.1, 10.255.0.1]")),
            "t.yaml:15: agent.nvad: 10.255.0.1 listed twice");
  EXPECT_NE(error_of(replace(with_agent, "nvad: 10.255.0.1", "nvad: [10.255.0.1, \"fd00::1\"]"))
                .find("agent.listen: must be of the same family as agent.nvad (fd00::1)"),
            std::string::npos);
}

TEST(Config, RouteFileLinesAreCheckedWithTheirLineNumbers) {
  char path[] = "/tmp/nvroutesXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "# bulk routes\n0 10.9.0.1 tunnel 198.51.100.9\n7 10.9.0.2 local vms 02:00:00:00:02:02\n"
                           "7 fd00::2 local vms 02:00:00:00:02:02 vlan 5\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  NvedConfig c = load_config_text(std::string(kGood) + "route_file: " + path + "\n");
  auto routes = static_routes(c);
  ASSERT_EQ(routes.size(), 6u);
  EXPECT_EQ(std::get<TunnelToNve>(routes[3].action).nve.to_string(), "198.51.100.9");
  EXPECT_EQ(std::get<DeliverLocal>(routes[4].action).vlan, 100);  // the port's VLAN
  EXPECT_EQ(std::get<DeliverLocal>(routes[5].action).vlan, 5);

  FILE *f = std::fopen(path, "a");
  std::fputs("0 10.9.0.3 tunnel 192.0.2.1\n", f);  // our own address
  std::fclose(f);
  try {
    static_routes(c);
    ADD_FAILURE() << "accepted a tunnel to ourselves";
  } catch (const ConfigError &e) {
    EXPECT_EQ(std::string(e.what()), std::string(path) + ":5: tunnel to this NVE's own address");
  }
  unlink(path);
}

// The config fuzzer: a route_file naming /dev/zero or a large file without
// newlines ran nved out of memory looking for the end of the first line.
TEST(Config, RouteFileThatIsNoRouteFileIsRefusedWithoutReadingItWhole) {
  auto refusal = [](const std::string &file) -> std::string {
    NvedConfig c = load_config_text(std::string(kGood) + "route_file: " + file + "\n");
    try {
      static_routes(c);
    } catch (const ConfigError &e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(refusal("/dev/zero"), "/dev/zero: route_file is not a regular file");
  EXPECT_EQ(refusal("/tmp"), "/tmp: route_file is not a regular file");
  char path[] = "/tmp/nvroutesXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string ok_line = "0 10.9.0.1 tunnel 198.51.100.9" + std::string(990, ' ') + "\n";  // 1021 bytes + newline
  const std::string long_line(4 << 20, 'x');  // 4 MiB, no newline
  ASSERT_EQ(write(fd, ok_line.data(), ok_line.size()), static_cast<ssize_t>(ok_line.size()));
  ASSERT_EQ(write(fd, long_line.data(), long_line.size()), static_cast<ssize_t>(long_line.size()));
  close(fd);
  EXPECT_EQ(refusal(path), std::string(path) + ":2: line longer than 1023 bytes: not a route file");
  unlink(path);
}

TEST(TextParse, DecimalIsDigitsOnlyAndBounded) {
  EXPECT_EQ(parse_decimal("4094", 4094), 4094u);
  EXPECT_EQ(parse_decimal("0", 7), 0u);
  EXPECT_FALSE(parse_decimal("4095", 4094));
  EXPECT_FALSE(parse_decimal("", 10));
  EXPECT_FALSE(parse_decimal("+5", 10));
  EXPECT_FALSE(parse_decimal(" 5", 10));
  EXPECT_FALSE(parse_decimal("12x", 100));
  EXPECT_FALSE(parse_decimal("0x10", 100));
  EXPECT_FALSE(parse_decimal("99999999999999999999999", UINT64_MAX));  // overflow
}

// Issue 13: a key given twice used to pass --check-config with the first
// value winning (default_action: drop, then forward: everything dropped).
TEST(Config, DuplicateKeysAreErrorsWithBothLines) {
  const std::string text = std::string(kGood) + "default_action: forward\n";
  const std::string err = error_of(text);
  EXPECT_NE(err.find("t.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("default_action: duplicate key (first at line 8)"), std::string::npos) << err;
  EXPECT_NE(error_of(replace(kGood, "ttl: 32,", "ttl: 32, ttl: 40,")).find("tunnel.ttl: duplicate key"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "port_id: 1,", "port_id: 1, port_id: 2,")).find("ports[1].port_id: duplicate key"),
            std::string::npos);
}

// The config fuzzer: yaml-cpp's LoadAll() (then used to find a second
// document) built nodes without end on this input, until the fuzzer ran out
// of memory. It must be refused, and quickly.
TEST(Config, MalformedInputAfterTheFirstDocumentEnds) {
  const std::string text =
      "ports:\n"
      "  - {nameport_id: 0}\n"
      "  - {name: tenant\034, role: access, port\377id: 2, vn: 5}\n"
      "%ve: {ipv4: 179.0.2.1, ipv6ts:\n"
      "  -ports:\n"
      " ,- {name: fabric, role: fab {nameport_id: 0}\n"
      "  - ric, +ort_le{namep_us:!50}e:\n";
  EXPECT_NE(error_of(text), "");
}

// Issue 13: keys after a stray "---" were a second YAML document that nobody
// read: "a typo never passes silently" did not hold for them.
TEST(Config, ASecondYamlDocumentIsAnError) {
  EXPECT_EQ(error_of(std::string(kGood) + "---\ndefault_action: forward\n"),
            "t.yaml:15: (document 2): a second YAML document ('---'): the configuration is one document; merge it "
            "into the first");
  EXPECT_EQ(error_of(std::string(kGood) + "---\n"), "");  // an empty one says nothing
}

// Issue 12: nved's loader stopped at the first mistake, so a file with three
// typos took three runs of --check; now every mistake is listed, in order.
TEST(Config, EveryErrorIsReportedInOneRun) {
  std::string text = replace(kGood, "mtu: 1400", "mtu: 99999");
  text = replace(text, "default_action: drop", "default_acton: drop");
  text = replace(text, "port: vms,", "port: vm,");
  text = replace(text, "dscp: 10", "dscp: cpy");
  EXPECT_EQ(error_of(text),
            "t.yaml:7: tunnel.mtu: 99999 is out of range 1300..9600\n"
            "t.yaml:7: tunnel.dscp: 'cpy' is neither 'copy' nor a DSCP value 0..63\n"
            "t.yaml:11: local_vms[0].port: no port named 'vm'\n"
            "t.yaml:8: default_acton: unknown key");
}

// Issue 14: a local VM at one of our own tunnel endpoints (its route would
// replace the endpoint's and the VN's tunnels would stop), or two VMs with
// one address in one VN (the second silently replaced the first).
TEST(Config, VmAddressesAreNeitherOurEndpointsNorTakenTwice) {
  std::string own = replace(kGood, "vlan: 100, vn: 7", "vlan: 100, vn: 0");
  own = replace(own, "addresses: [10.0.0.5,", "addresses: [192.0.2.1,");
  EXPECT_EQ(error_of(own), "t.yaml:11: local_vms[0].addresses: '192.0.2.1' is one of this NVE's tunnel endpoints "
                           "(nve or virtual_networks), not a VM's address");
  const std::string twice = replace(kGood, "addresses: [10.0.0.9], nve: 198.51.100.2, vn: 7",
                                    "addresses: [10.0.0.5], nve: 198.51.100.2, vn: 7");
  EXPECT_EQ(error_of(twice), "t.yaml:13: moved_vms[0].addresses: '10.0.0.5' in VN 7 is already given to another VM");
  // The same address in two VNs is two tenants' VMs: allowed.
  EXPECT_EQ(error_of(replace(kGood, "addresses: [10.0.0.9], nve: 198.51.100.2, vn: 7",
                             "addresses: [10.0.0.5], nve: 198.51.100.2, vn: 8")),
            "");
}

// Issue 13: the Prometheus scrape endpoint's section.
TEST(Config, MetricsEndpoint) {
  EXPECT_EQ(load_config_text(kGood).metrics.address.family, 0);  // off unless asked for
  const NvedConfig c = load_config_text(std::string(kGood) + "metrics: {address: 127.0.0.1, port: 9464}\n");
  EXPECT_EQ(c.metrics.address.to_string(), "127.0.0.1");
  EXPECT_EQ(c.metrics.port, 9464);
  EXPECT_EQ(error_of(std::string(kGood) + "metrics: {address: 127.0.0.1}\n"), "t.yaml:14: metrics.port: missing (required)");
  EXPECT_EQ(error_of(std::string(kGood) + "metrics: {address: 127.0.0.1, port: 0}\n"),
            "t.yaml:14: metrics.port: 0 is out of range 1..65535");
}

// show running-config: the effective configuration, defaults written out,
// is itself a configuration that loads to the same values.
TEST(Config, RunningConfigLoadsBackToTheSameValues) {
  const NvedConfig c = load_config_text(std::string(kGood) + "metrics: {address: 127.0.0.1, port: 9464}\n");
  const std::string yaml = running_config_yaml(c);
  const NvedConfig back = load_config_text(yaml, "running");
  EXPECT_EQ(running_config_yaml(back), yaml);
  EXPECT_EQ(back.tunnel_mtu, 1400);
  EXPECT_EQ(back.tunnel_dscp, 10);
  EXPECT_EQ(back.icmp_rate_per_sec, 1000u);  // a default, written out
  EXPECT_FALSE(back.default_forward);
  EXPECT_EQ(back.local_vms.size(), 1u);
  EXPECT_EQ(back.metrics.port, 9464);
  EXPECT_NE(yaml.find("dscp: 10"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("rate_per_sec: 1000"), std::string::npos) << yaml;
  RouteChange add;
  add.route = {0, *IpAddress::parse("10.0.0.77")};
  add.action = TunnelToNve{*IpAddress::parse("198.51.100.2")};
  RouteChange del = add;
  del.op = RouteChange::Op::Remove;
  EXPECT_EQ(route_change_lines({add, del}),
            (std::vector<std::string>{"0 10.0.0.77 tunnel 198.51.100.2", "# del 0 10.0.0.77"}));
}

// A YAML alias bomb (found by the configuration fuzzer): a few hundred bytes
// of aliases of aliases name 9^8 copies of one mapping with a duplicate key.
// Each collection is walked once, the duplicate reported once, and the error
// list is bounded whatever the file.
TEST(Config, AliasesOfAliasesAreWalkedOnce) {
  std::string text = "a: &a {x: 1, x: 1}\n";
  std::string prev = "a";
  for (const char *n : {"b", "c", "d", "e", "f", "g", "h", "i"}) {
    text += std::string(n) + ": &" + n + " [";
    for (int i = 0; i < 9; i++) text += (i ? ", *" : "*") + prev;
    text += "]\n";
    prev = n;
  }
  try {
    load_config_text(text, "bomb.yaml");
    FAIL() << "loaded";
  } catch (const ConfigError &e) {
    const std::string what = e.what();
    size_t duplicates = 0;
    for (size_t at = what.find("duplicate key"); at != std::string::npos; at = what.find("duplicate key", at + 1))
      duplicates++;
    EXPECT_EQ(duplicates, 1u) << what.substr(0, 500);
  }
}
