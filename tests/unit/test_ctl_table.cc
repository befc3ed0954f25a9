// The one renderer of command answers (control/ctl/table.h): the text and
// the JSON come from the same cells.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "control/ctl/ctl_socket.h"
#include "control/ctl/table.h"

using namespace nvmove::ctl;

TEST(CtlTable, TextColumnsAndJsonRowsFromOneModel) {
  Table t({{"vn", "VN", 6}, {"address", "ADDRESS", 12}, {"", "WHERE", 10}, {"hits", "HITS"}});
  t.add({7, "10.0.0.5", "port 1", 42}).extra = {{"port", 1}};
  t.add({0, "fd00::5", "nowhere", Cell::shown_as(nullptr, "never")});
  EXPECT_EQ(t.text(),
            "VN    ADDRESS     WHERE     HITS\n"
            "7     10.0.0.5    port 1    42\n"
            "0     fd00::5     nowhere   never\n");
  const auto j = t.json();
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0], (nlohmann::json{{"vn", 7}, {"address", "10.0.0.5"}, {"hits", 42}, {"port", 1}}));
  EXPECT_TRUE(j[1]["hits"].is_null());  // JSON says "no value", the text says "never"
  EXPECT_FALSE(j[1].contains("WHERE"));  // a text-only column
}

// setw() glued a value as wide as its column to the next one
// ("vm-with-a-long-name-0017" ran into the VN).
TEST(CtlTable, AValueAsWideAsItsColumnKeepsASpace) {
  Table t({{"id", "ID", 4}, {"vn", "VN"}});
  t.add({"abcd", 1});
  t.add({"abcdefgh", 2});
  EXPECT_EQ(t.text(), "ID  VN\nabcd 1\nabcdefgh 2\n");
}

TEST(CtlTable, CellsOfJsonValues) {
  EXPECT_EQ(Cell::of(nlohmann::json("x")).text(), "x");
  EXPECT_EQ(Cell::of(nlohmann::json(nullptr)).text(), "-");
  EXPECT_EQ(Cell::of(nlohmann::json(true)).text(), "yes");
  EXPECT_EQ(Cell::of(nlohmann::json(12)).text(), "12");
  EXPECT_EQ(Cell(false).text(), "no");
}

TEST(CtlRecord, DottedKeysNestInJsonAndHiddenFieldsStayOutOfText) {
  Record rec(10, 6);
  rec.add({"counters.rx", 5, "rx"});
  rec.add({"counters.zero", 0, "zero", "", false});
  rec.add({"counters.drop_x", 1, "drop_x", "drop"});
  rec.add({"total", 6, "all"});
  EXPECT_EQ(rec.text(), "rx             5\ndrop_x         1  drop\nall            6\n");
  EXPECT_EQ(rec.json(), (nlohmann::json{{"counters", {{"rx", 5}, {"zero", 0}, {"drop_x", 1}}}, {"total", 6}}));
}

TEST(CtlRecord, FlatKeysKeepTheirDots) {
  Record rec(4, 0, Record::Keys::flat);
  rec.add("rx_q0.bytes", 9);
  EXPECT_EQ(rec.text(), "rx_q0.bytes 9\n");
  EXPECT_EQ(rec.json(), (nlohmann::json{{"rx_q0.bytes", 9}}));
}

// The control socket renders a body only in the form the client asked for.
TEST(CtlReply, BodyIsRenderedAsTextOrJson) {
  Record rec(6, 0);
  rec.add("routes", 3);
  const Reply r = Reply::of(std::move(rec));
  EXPECT_EQ(r.text_form(), "routes 3\n");
  EXPECT_EQ(r.data_form(), (nlohmann::json{{"routes", 3}}));
  Reply plain;
  plain.text = "done\n";
  EXPECT_EQ(plain.text_form(), "done\n");
}

// The client's timeout bounds each pause, not the whole answer: a large
// listing that keeps arriving is read to its end (issue 13: show routes at
// millions of routes), and a daemon that stops sending is given up on.
namespace {
struct SlowServer {
  std::string path = "/tmp/nvctl_slow_" + std::to_string(::getpid()) + ".sock";
  int fd = -1;
  std::thread thread;
  SlowServer(int chunks, int pause_ms, bool finish) {
    fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    ::unlink(path.c_str());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd, 1), 0);
    thread = std::thread([this, chunks, pause_ms, finish] {
      const int c = ::accept(fd, nullptr, nullptr);
      char buf[256];
      [[maybe_unused]] ssize_t got = ::read(c, buf, sizeof buf);
      std::string body = "{\"ok\": true, \"text\": \"";
      [[maybe_unused]] ssize_t sent = ::send(c, body.data(), body.size(), MSG_NOSIGNAL);
      for (int i = 0; i < chunks; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        sent = ::send(c, "xxxx", 4, MSG_NOSIGNAL);
      }
      if (finish) sent = ::send(c, "\"}\n", 3, MSG_NOSIGNAL);
      else std::this_thread::sleep_for(std::chrono::milliseconds(400));
      ::close(c);
    });
  }
  ~SlowServer() {
    thread.join();
    ::close(fd);
    ::unlink(path.c_str());
  }
};
}  // namespace

TEST(CtlClient, TheTimeoutBoundsPausesNotTheWholeAnswer) {
  {
    SlowServer server(8, 60, true);  // about 480 ms in all, never 100 ms without a byte
    std::string why;
    auto answer = call(server.path, {{"command", "show routes"}}, 200, why);
    ASSERT_TRUE(answer) << why;
    EXPECT_EQ((*answer)["text"].get<std::string>().size(), 32u);
  }
  {
    SlowServer server(1, 10, false);  // then silence
    std::string why;
    EXPECT_FALSE(call(server.path, {{"command", "show routes"}}, 200, why));
    EXPECT_NE(why.find("nothing for 200 ms"), std::string::npos) << why;
  }
}
