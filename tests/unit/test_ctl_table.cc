// The one renderer of command answers (control/ctl/table.h): the text and
// the JSON come from the same cells.
#include <gtest/gtest.h>

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
