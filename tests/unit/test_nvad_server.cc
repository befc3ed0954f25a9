// nvad end to end on loopback: the real server, real UDP sockets, the real
// codec. "NVE A" and "NVE B" are sockets on 127.0.0.2 and 127.0.0.3 (all of
// 127/8 is local on Linux), nvad listens on 127.0.0.1 on an ephemeral port.
#include <gtest/gtest.h>
#include <sstream>
#include <spdlog/sinks/ostream_sink.h>
#include <poll.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "control/nvad/server.h"
#include "control/nvad/testing/nvad_test_support.h"
#include "control/protocol/codec.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using proto::Status;

constexpr auto kWait = 2s;  // generous on a loaded machine; normally < 1 ms

std::string key_hex(char digit) { return std::string(64, digit); }

// An NVE speaking the protocol through a real socket.
class NveSocket {
 public:
  // `nvad_address`: where this NVE reaches nvad; only messages from it count.
  NveSocket(const char *address, char key_digit, uint16_t nvad_port, const char *nvad_address = "127.0.0.1")
      : address_(ip(address)), nvad_{ip(nvad_address), nvad_port} {
    std::string error;
    auto socket = UdpSocket::open(address_, 0, true, error);
    EXPECT_TRUE(socket) << error;
    if (socket) socket_.emplace(std::move(*socket));
    key_ = proto::AuthKey{1, std::vector<uint8_t>(32, static_cast<uint8_t>(key_digit == 'a' ? 0xaa : 0xbb))};
  }

  void send(const proto::Message &message) {
    auto wire = proto::encode(message, key_);
    ASSERT_TRUE(wire.ok()) << wire.error().describe();
    ASSERT_FALSE(socket_->send(wire.value(), nvad_.address, nvad_.port));
  }
  void send_raw(std::span<const uint8_t> bytes) { ASSERT_FALSE(socket_->send(bytes, nvad_.address, nvad_.port)); }

  // The next authentic message from nvad, waiting at most `wait`.
  std::optional<proto::Message> receive(std::chrono::milliseconds wait = kWait) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    std::vector<uint8_t> buffer(2048);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{socket_->fd(), POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (poll(&fd, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) continue;
      std::string error;
      auto datagram = socket_->receive(buffer, error);
      if (!datagram || datagram->from != nvad_.address) continue;
      std::span<const uint8_t> bytes(buffer.data(), datagram->size);
      auto decoded = proto::decode(bytes);
      if (!decoded.ok()) continue;
      if (proto::verify_authentication(bytes, decoded->auth, key_) != proto::AuthVerdict::Authentic) continue;
      return decoded->message;
    }
    return std::nullopt;
  }

  proto::Message registration(uint8_t vm) {
    Nve self{address_, address_};
    return testing::registration(self, vm, sequence_++, wall_clock_ns(), 150);
  }
  const IpAddress &address() const { return address_; }

 private:
  IpAddress address_;
  Destination nvad_;
  std::optional<UdpSocket> socket_;
  proto::AuthKey key_;
  uint16_t sequence_ = 100;
};

class NvadServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    std::string pattern = (std::filesystem::temp_directory_path() / "nvad-server-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;

    NvadConfig config;
    customize(config);
    config.listen.addresses = listen_addresses();
    config.listen.port = 0;
    config.db_path = dir_ + "/nvad.db";
    auto keys = proto::parse_key_file("127.0.0.2 1 " + key_hex('a') + "\n127.0.0.3 1 " + key_hex('b') + "\n",
                                      "test keys");
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    auto store = open_sqlite_store(config.db_path, clock_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto server = Server::start(config, std::move(keys).value(), std::move(store).value(), clock_);
    ASSERT_TRUE(server.ok()) << server.error();
    server_ = std::move(server).value();
    ASSERT_EQ(server_->local_ports().size(), 1u);
    port_ = server_->local_ports()[0];
    loop_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }

  virtual std::vector<IpAddress> listen_addresses() const { return {ip("127.0.0.1")}; }
  virtual void customize(NvadConfig &) const {}

  // After this the test thread may look at the server's state.
  void stop() {
    if (!loop_.joinable()) return;
    server_->request_stop();
    loop_.join();
  }

  SystemClock clock_;
  std::string dir_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  std::thread loop_;
};

TEST_F(NvadServerTest, RegisterMoveNotifyAndAcknowledgeOverUdp) {
  NveSocket a("127.0.0.2", 'a', port_);
  NveSocket b("127.0.0.3", 'b', port_);

  auto at_a = a.registration(1);
  a.send(at_a);
  auto reply_a = a.receive();
  ASSERT_TRUE(reply_a);
  EXPECT_TRUE(proto::is_reply_to(*reply_a, at_a));
  EXPECT_EQ(reply_a->status, Status::Accepted);
  EXPECT_EQ(reply_a->lifetime, 150);

  auto at_b = b.registration(1);
  at_b.mobility = proto::MobilityMode::Hot;
  b.send(at_b);
  auto reply_b = b.receive();
  ASSERT_TRUE(reply_b);
  EXPECT_TRUE(proto::is_reply_to(*reply_b, at_b));
  EXPECT_EQ(reply_b->status, Status::Accepted);

  auto notification = a.receive();  // on A's own socket
  ASSERT_TRUE(notification);
  EXPECT_TRUE(notification->is_request());
  EXPECT_TRUE(notification->notification);
  EXPECT_EQ(notification->mobility, proto::MobilityMode::Hot);
  EXPECT_EQ(notification->serving_nve.ipv4, b.address());
  EXPECT_EQ(notification->vm_id, vm_id(1));
  EXPECT_EQ(notification->lifetime, 8);
  a.send(proto::make_reply(*notification, Status::Accepted, notification->lifetime));

  // An unauthenticated datagram gets nothing back. (The counters checked
  // below prove it was handled: it is queued before the stop request.)
  NveSocket stranger("127.0.0.4", 'a', port_);
  stranger.send(stranger.registration(2));
  EXPECT_FALSE(stranger.receive(200ms));

  stop();
  const Registrar &registrar = server_->registrar();
  const Binding *binding = registrar.cache().find(key(1));
  ASSERT_TRUE(binding);
  EXPECT_EQ(binding->serving.control, b.address());
  ASSERT_EQ(binding->previous.size(), 1u);
  EXPECT_EQ(binding->previous[0].state, NotificationState::Acknowledged);
  const Counters &counters = registrar.counters();
  EXPECT_EQ(counters.requests_received, 2u);
  EXPECT_EQ(counters.replies_sent, 2u);
  EXPECT_EQ(counters.notifications_acknowledged, 1u);
  EXPECT_EQ(counters.dropped_for(DropReason::UnknownPeer), 1u);
  // A datagram from a peer without a key is a drop, not also a rejection (issue 14).
  EXPECT_EQ(counters.rejected_with(Status::NotAuthorized), 0u);

  auto state = server_->state_json();
  EXPECT_EQ(state["bindings"].size(), 1u);
  EXPECT_EQ(state["bindings"][0]["serving_nve"]["address"], "127.0.0.3");
  EXPECT_EQ(state["bindings"][0]["previous_nves"][0]["notification"], "acknowledged");
  EXPECT_EQ(state["protocol_stats"]["moves"], 1);
  EXPECT_EQ(state["protocol_stats"]["rejected"]["not_authorized"], 0);
}

TEST_F(NvadServerTest, MalformedDatagramIsCountedAndUnanswered) {
  NveSocket a("127.0.0.2", 'a', port_);
  std::vector<uint8_t> junk = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 99};
  a.send_raw(junk);
  auto request = a.registration(1);
  a.send(request);
  auto reply = a.receive();  // the first answer is to the good request
  ASSERT_TRUE(reply);
  EXPECT_TRUE(proto::is_reply_to(*reply, request));
  stop();
  EXPECT_EQ(server_->registrar().counters().dropped_for(DropReason::Malformed), 1u);
  EXPECT_EQ(server_->registrar().counters().datagrams_received, 2u);
}

// The default listen address "::" serves IPv4 peers too; they arrive as
// IPv4-mapped addresses, which must still find their IPv4 key.
// Issue 14: nvad bound to a wildcard address answered from whatever address
// the kernel picked, and the NVE dropped the answer (not from the address it
// knows as its management node). Replies and notifications now leave from
// the address each NVE sent to.
class NvadWildcardServerTest : public NvadServerTest {
 protected:
  std::vector<IpAddress> listen_addresses() const override { return {ip("0.0.0.0")}; }
};

TEST_F(NvadWildcardServerTest, RepliesAndNotificationsLeaveFromTheAddressTheNveSentTo) {
  NveSocket a("127.0.0.2", 'a', port_, "127.0.0.4");  // A knows nvad as 127.0.0.4
  NveSocket b("127.0.0.3", 'b', port_, "127.0.0.5");  // B as 127.0.0.5
  auto at_a = a.registration(1);
  a.send(at_a);
  auto reply_a = a.receive();
  ASSERT_TRUE(reply_a) << "no reply from 127.0.0.4";
  EXPECT_EQ(reply_a->status, Status::Accepted);
  auto at_b = b.registration(1);
  b.send(at_b);
  ASSERT_TRUE(b.receive()) << "no reply from 127.0.0.5";
  auto notification = a.receive();  // the move, from the address A uses
  ASSERT_TRUE(notification) << "no notification from 127.0.0.4";
  EXPECT_TRUE(notification->notification);
}

class NvadDualStackServerTest : public NvadServerTest {
 protected:
  std::vector<IpAddress> listen_addresses() const override { return {ip("::")}; }
};

TEST_F(NvadDualStackServerTest, IPv4PeerReachesAnIPv6WildcardSocket) {
  NveSocket a("127.0.0.2", 'a', port_);
  auto request = a.registration(1);
  a.send(request);
  auto reply = a.receive();
  ASSERT_TRUE(reply);
  EXPECT_TRUE(proto::is_reply_to(*reply, request));
  EXPECT_EQ(reply->status, Status::Accepted);
}

// Issue 13: a log line per registration cost about 30 % of nvad's throughput
// in a storm; per-VM lines are at debug and one info line per interval says
// what happened.
class NvadActivityLogTest : public NvadServerTest {
 protected:
  void customize(NvadConfig &config) const override { config.activity_log_interval = std::chrono::seconds(1); }
};

TEST_F(NvadActivityLogTest, OneInfoLinePerIntervalInsteadOfOnePerRegistration) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::default_logger()->sinks().push_back(sink);
  spdlog::set_level(spdlog::level::info);
  NveSocket a("127.0.0.2", 'a', port_);
  for (uint8_t vm = 1; vm <= 3; vm++) {
    a.send(a.registration(vm));
    ASSERT_TRUE(a.receive());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  stop();
  spdlog::default_logger()->sinks().pop_back();
  spdlog::set_level(spdlog::level::warn);
  const std::string log = captured.str();
  EXPECT_EQ(log.find("registered at NVE"), std::string::npos) << log;  // per VM: debug
  EXPECT_NE(log.find("last 1 s: 3 registration(s), 0 move(s)"), std::string::npos) << log;
}

}  // namespace
}  // namespace nvmove::nvad
