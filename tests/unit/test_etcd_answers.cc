// etcd's JSON gateway answers as the client reads them: an error in any
// shape etcd gives (and shapes it does not) is an error with etcd's words,
// never an exception out of the client (a keepalive's stream error once was
// one, which nothing caught).
#include <gtest/gtest.h>

#include "control/etcd/etcd_client.h"

using nvmove::etcd::gateway_error;

namespace {

TEST(EtcdAnswers, AnAnswerToReadIsNoError) {
  EXPECT_FALSE(gateway_error("e", 200, R"({"header":{"revision":"5"},"kvs":[]})"));
  EXPECT_FALSE(gateway_error("e", 200, R"({"result":{"ID":"7","TTL":"2"}})"));
}

TEST(EtcdAnswers, AUnaryCallsErrorKeepsEtcdsWordsAndCode) {
  auto e = gateway_error("http://m0", 503, R"({"error":"etcdserver: no leader","code":14,"message":"etcdserver: no leader"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "http://m0: etcdserver: no leader");
  EXPECT_TRUE(e->unreachable);  // code 14: another member may answer
  e = gateway_error("http://m0", 400, R"({"error":"etcdserver: requested lease not found","code":5,"message":"etcdserver: requested lease not found"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "http://m0: etcdserver: requested lease not found");
  EXPECT_FALSE(e->unreachable);
}

TEST(EtcdAnswers, AStreamsErrorObjectIsReadNotThrown) {
  auto e = gateway_error("http://m1", 200,
                         R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "http://m1: etcdserver: no leader");
  EXPECT_TRUE(e->unreachable);
}

TEST(EtcdAnswers, FieldsOfAnotherTypeNeverThrow) {
  for (const char *body : {R"({"error":{"message":7}})", R"({"error":[1,2]})", R"({"error":null,"code":"14"})",
                           R"({"code":{"x":1},"message":["a"]})", R"({"error":true})", "[1]", "not json", ""}) {
    std::optional<nvmove::etcd::Error> e;
    ASSERT_NO_THROW(e = gateway_error("e", 500, body)) << body;
    ASSERT_TRUE(e) << body;
    EXPECT_FALSE(e->message.empty()) << body;
  }
}

}  // namespace
