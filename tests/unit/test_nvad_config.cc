// nvad: the configuration file. Every mistake is reported, each as
// "<file>:<line>: <key>: <what is wrong>".
#include <gtest/gtest.h>
#include <unistd.h>

#include "control/nvad/config_loader.h"
#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;

std::vector<std::string> errors_of(const std::string &text) {
  auto parsed = parse_config(text, "nvad.yaml");
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? std::vector<std::string>{} : parsed.error().messages;
}

// Whether one of the errors contains `text` (their order is not the point).
bool any_contains(const std::vector<std::string> &errors, const std::string &text) {
  for (const auto &e : errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}

TEST(NvadConfig, EmptyFileGivesTheDefaults) {
  auto parsed = parse_config("", "nvad.yaml");
  ASSERT_TRUE(parsed.ok());
  const NvadConfig &c = parsed.value();
  EXPECT_EQ(c.listen.port, proto::kDefaultUdpPort);
  EXPECT_TRUE(c.listen.addresses.empty());
  EXPECT_EQ(c.policy.max_lifetime, 150);
  EXPECT_EQ(c.policy.deregistration_grace, 10s);
  EXPECT_EQ(c.policy.notifications.initial_timeout, 1s);
  EXPECT_EQ(c.policy.notifications.max_timeout, 32s);
  EXPECT_EQ(c.policy.notifications.retries, 6u);
  EXPECT_EQ(c.policy.flap.max_moves, 5u);
  EXPECT_EQ(c.policy.flap.window, 180s);
  EXPECT_FALSE(c.policy.peers);
  EXPECT_FALSE(c.policy.allowed_virtual_networks);
}

TEST(NvadConfig, EveryKeyIsRead) {
  auto parsed = parse_config(R"(
listen:
  addresses: ["192.0.2.100", "2001:db8::100"]
  port: 7000
key_file: /etc/nvmove/keys
db_path: /var/lib/nvmove/test.db
lifetime:
  max: 20m
  deregistration_grace: 5s
notifications:
  initial_timeout: 200ms
  max_timeout: 10s
  retries: 3
  redirect_lifetime: 60s
  max_previous_nves: 4
flap_detection:
  enabled: false
  max_moves: 3
  window: 2m
timestamp_window: 500ms
max_bindings: 1000
allowed_virtual_networks: [100, 200]
peers:
  - address: 192.0.2.1
    endpoints: [198.51.100.1, 2001:db8:ff::1]
    virtual_networks: [100]
  - address: 192.0.2.2
log:
  level: debug
  rejection_interval: 30s
)", "nvad.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().messages.at(0);
  const NvadConfig &c = parsed.value();
  EXPECT_EQ(c.listen.addresses, (std::vector<IpAddress>{ip("192.0.2.100"), ip("2001:db8::100")}));
  EXPECT_EQ(c.listen.port, 7000);
  EXPECT_EQ(c.key_file, "/etc/nvmove/keys");
  EXPECT_EQ(c.db_path, "/var/lib/nvmove/test.db");
  EXPECT_EQ(c.policy.max_lifetime, 300);
  EXPECT_EQ(c.policy.deregistration_grace, 5s);
  EXPECT_EQ(c.policy.notifications.initial_timeout, 200ms);
  EXPECT_EQ(c.policy.notifications.max_timeout, 10s);
  EXPECT_EQ(c.policy.notifications.retries, 3u);
  EXPECT_EQ(c.policy.notifications.redirect_lifetime, 15);
  EXPECT_EQ(c.policy.max_previous_nves, 4u);
  EXPECT_FALSE(c.policy.flap.enabled);
  EXPECT_EQ(c.policy.flap.max_moves, 3u);
  EXPECT_EQ(c.policy.flap.window, 120s);
  EXPECT_EQ(c.policy.timestamp_window.half_width, 500ms);
  EXPECT_EQ(c.policy.max_bindings, 1000u);
  EXPECT_EQ(c.policy.allowed_virtual_networks, (std::set<uint32_t>{100, 200}));
  ASSERT_TRUE(c.policy.peers);
  ASSERT_EQ(c.policy.peers->size(), 2u);
  const PeerPolicy &first = c.policy.peers->at(ip("192.0.2.1"));
  EXPECT_EQ(first.endpoints, (std::vector<IpAddress>{ip("198.51.100.1"), ip("2001:db8:ff::1")}));
  EXPECT_EQ(first.virtual_networks, std::set<uint32_t>{100});
  EXPECT_TRUE(c.policy.peers->at(ip("192.0.2.2")).endpoints.empty());
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.rejection_log_interval, 30s);
}

TEST(NvadConfig, EveryMistakeIsReportedWithFileLineAndKey) {
  auto errors = errors_of(R"(listen:
  port: 70000
lifetime:
  max: 10s
notifications:
  retries: lots
  initial_timeout: 5
flap_detection:
  windoe: 3m
)");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], "nvad.yaml:2: listen.port: 70000 is out of range 0..65535");
  EXPECT_EQ(errors[1], "nvad.yaml:4: lifetime.max: must be a whole multiple of 4 s (the protocol's lifetime unit)");
  // The order follows the reading order of the loader, not the file.
  EXPECT_NE(std::find(errors.begin(), errors.end(),
                      "nvad.yaml:7: notifications.initial_timeout: '5' is not a duration (a whole "
                      "number and a unit: ms, s, m or h)"),
            errors.end());
  EXPECT_NE(std::find(errors.begin(), errors.end(),
                      "nvad.yaml:6: notifications.retries: 'lots' is not a whole number"),
            errors.end());
  EXPECT_NE(std::find(errors.begin(), errors.end(), "nvad.yaml:9: flap_detection.windoe: unknown key"),
            errors.end());
}

TEST(NvadConfig, UnknownKeysAreErrorsNotSilentDefaults) {
  auto errors = errors_of("listen:\n  prot: 7000\nflap_detection:\n  windoe: 3m\ndb_pth: /tmp/x\n");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0], "nvad.yaml:2: listen.prot: unknown key");
  EXPECT_EQ(errors[1], "nvad.yaml:4: flap_detection.windoe: unknown key");
  EXPECT_EQ(errors[2], "nvad.yaml:5: db_pth: unknown key");
}

TEST(NvadConfig, BadValuesOfEveryKind) {
  auto errors = errors_of(R"(listen:
  addresses: [192.0.2.300]
key_file: ""
notifications:
  initial_timeout: 10s
  max_timeout: 1s
allowed_virtual_networks: [1, -2]
peers:
  - endpoints: [198.51.100.1]
  - address: 192.0.2.1
  - address: 192.0.2.1
log:
  level: loud
flap_detection: [1, 2]
)");
  std::vector<std::string> expected = {
      "nvad.yaml:2: listen.addresses[0]: '192.0.2.300' is not an IPv4 or IPv6 address",
      "nvad.yaml:3: key_file: must not be empty",
      "nvad.yaml:6: notifications.max_timeout: 1s is less than initial_timeout 10s",
      "nvad.yaml:14: flap_detection: expected a mapping of keys to values",
      "nvad.yaml:7: allowed_virtual_networks[1]: not a whole number from 0 to 4294967295",
      "nvad.yaml:9: peers[0].address: missing (each peer needs one)",
      "nvad.yaml:11: peers[2].address: peer listed twice",
      "nvad.yaml:13: log.level: 'loud' is not one of trace, debug, info, warn, error",
  };
  EXPECT_EQ(errors, expected);
}

TEST(NvadConfig, StoreOnEtcdAndCluster) {
  auto parsed = parse_config(R"(store:
  backend: etcd
  etcd:
    endpoints: [http://127.0.0.1:2379, "https://[2001:db8::1]:2379"]
    prefix: /dc1/nvad/
    timeout: 250ms
cluster:
  name: nvad-a
  lease_ttl: 3s
)", "nvad.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().messages.front();
  const NvadConfig &c = parsed.value();
  EXPECT_EQ(c.store_backend, StoreBackend::Etcd);
  EXPECT_EQ(c.etcd.endpoints, (std::vector<std::string>{"http://127.0.0.1:2379", "https://[2001:db8::1]:2379"}));
  EXPECT_EQ(c.etcd.prefix, "/dc1/nvad/");
  EXPECT_EQ(c.etcd.timeout, 250ms);
  EXPECT_EQ(c.cluster.name, "nvad-a");
  EXPECT_EQ(c.cluster.lease_ttl, 3s);

  auto defaults = parse_config("", "nvad.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.value().store_backend, StoreBackend::Sqlite);  // the embedded default
  EXPECT_EQ(defaults.value().etcd.prefix, "/nvmove/nvad/");
}

TEST(NvadConfig, BadStoreAndClusterValues) {
  const std::vector<std::string> missing = errors_of("store:\n  backend: etcd\n");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_NE(missing[0].find("store.etcd.endpoints: missing"), std::string::npos) << missing[0];
  const std::vector<std::string> errors = errors_of(R"(store:
  backend: zookeeper
  etcd:
    endpoints: [127.0.0.1:2379]
    prefix: /nvmove/nvad
    timeout: 5ms
    user: root
cluster:
  lease_ttl: 1s
)");
  EXPECT_TRUE(any_contains(errors, "nvad.yaml:2: store.backend: 'zookeeper' is not sqlite or etcd"));
  EXPECT_TRUE(any_contains(errors, "store.etcd.endpoints: '127.0.0.1:2379' is not a URL"));
  EXPECT_TRUE(any_contains(errors, "store.etcd.prefix: must end with '/'"));
  EXPECT_TRUE(any_contains(errors, "store.etcd.timeout"));
  EXPECT_TRUE(any_contains(errors, "store.etcd.user"));
  EXPECT_TRUE(any_contains(errors, "nvad.yaml:9: cluster.lease_ttl"));
  EXPECT_EQ(errors.size(), 6u);
}

TEST(NvadConfig, EtcdTlsFilesAreCheckedWhenTheConfigurationIsRead) {
  char path[] = "/tmp/nvad-tls-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  const std::string file = path;
  auto parsed = parse_config("store:\n  backend: etcd\n  etcd:\n    endpoints: [https://127.0.0.1:2379]\n"
                             "    tls: {ca_file: " + file + ", cert_file: " + file + ", key_file: " + file + "}\n",
                             "nvad.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().messages.front();
  EXPECT_EQ(parsed.value().etcd.ca_file, file);
  EXPECT_EQ(parsed.value().etcd.key_file, file);
  const auto errors = errors_of("store:\n  backend: etcd\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n"
                                "    tls: {ca_file: /nonexistent/ca.pem, cert_file: " + file + ", ssl: yes}\n");
  EXPECT_TRUE(any_contains(errors, "nvad.yaml:5: store.etcd.tls.ca_file: '/nonexistent/ca.pem' is not a readable file"));
  EXPECT_TRUE(any_contains(errors, "cert_file and key_file go together"));
  EXPECT_TRUE(any_contains(errors, "'http://127.0.0.1:2379' is not https"));
  EXPECT_TRUE(any_contains(errors, "store.etcd.tls.ssl"));
  unlink(path);
}

TEST(NvadConfig, SyntaxErrorNamesTheLine) {
  auto errors = errors_of("listen:\n  port: 7000\n   addresses: [\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("nvad.yaml:3: (syntax): ", 0), 0u) << errors[0];
}

TEST(NvadConfig, OddDocumentsAreErrorsNotCrashes) {
  for (const char *text : {"5", "[1, 2]", "listen: 5", "peers: [5, {address: [1]}]", "peers: {a: b}",
                           "lifetime: {max: [1]}", "allowed_virtual_networks: {a: b}",
                           "log: {level: [x]}", "? [a]\n: b", "listen: {addresses: 192.0.2.1}",
                           "a: &x [1]\nb: *x", "max_bindings: 99999999999999999999999"}) {
    auto parsed = parse_config(text, "odd.yaml");
    EXPECT_FALSE(parsed.ok()) << text;
    if (parsed.ok()) continue;
    for (const auto &message : parsed.error().messages) {
      EXPECT_EQ(message.rfind("odd.yaml", 0), 0u) << message;
    }
  }
}

TEST(NvadConfig, MissingFileIsAnError) {
  auto loaded = load_config("/nonexistent/nvad.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().messages.at(0), "/nonexistent/nvad.yaml: cannot open");
}

}  // namespace
}  // namespace nvmove::nvad

namespace nvmove::nvad {
TEST(NvadConfig, DuplicateKeysAreErrors) {
  auto parsed = parse_config("key_file: /a\nlisten: {port: 1}\nkey_file: /b\n", "nvad.yaml");
  ASSERT_FALSE(parsed.ok());
  ASSERT_EQ(parsed.error().messages.size(), 1u);
  EXPECT_EQ(parsed.error().messages[0], "nvad.yaml:3: key_file: duplicate key (first at line 1); give each key once");
}
}  // namespace nvmove::nvad
