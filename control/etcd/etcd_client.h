// A client of etcd's v3 API through its JSON gateway (HTTP POST to
// /v3/kv/range, /v3/kv/txn, /v3/lease/*, /v3/maintenance/status), with
// libcurl. Why not gRPC: Debian packages no etcd C++ client, and etcd's
// .proto files import gogoproto and google-api files that Debian does not
// ship; the gateway is part of every etcd server, needs nothing generated,
// and a request costs well under a millisecond on a local member
// (docs/nvad.md "nvad on etcd").
//
// Blocking calls, each bounded by `timeout` per endpoint tried. A call goes
// to the endpoint that last answered; when that one cannot be reached (or
// says it has no leader) the next ones are tried in turn, so a dead member
// costs one failed connect, not an outage. Not thread-safe: one client per
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "control/protocol/result.h"

namespace nvmove::etcd {

struct Error {
  std::string message;
  // No endpoint answered (connection refused, timeout, no leader): the
  // cluster is unreachable from here, as opposed to a request it refused.
  bool unreachable = false;
};

template <typename T>
using Result = proto::Result<T, Error>;

// What a gateway answer (HTTP status, body) says went wrong, if anything:
// not JSON, a unary call's {"code", "message"}, a streaming call's
// {"error": {"grpc_code", "message"}} (lease keepalive); nullopt for an
// answer to read. Never throws, whatever the body (fields of other types
// than etcd's included).
std::optional<Error> gateway_error(const std::string &endpoint, long http_status, const std::string &body);

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  bool more = false;   // limit reached: more keys follow the last one
  int64_t count = 0;   // keys in the whole range
  int64_t revision = 0;  // the store's revision when it was read
};

// One comparison of a transaction (etcd's Compare message).
struct Compare {
  enum class Target { Version, Create, Mod, Value, Lease };
  enum class Result { Equal, Greater, Less, NotEqual };
  std::string key;
  Target target = Target::Mod;
  Result result = Result::Equal;
  int64_t number = 0;  // Version, Create, Mod, Lease
  std::string value;   // Value
};

struct Put {
  std::string key;
  std::string value;
  int64_t lease = 0;  // 0: none
};
struct DeleteRange {
  std::string key;
  std::string range_end;  // empty: the one key
};
struct Get {
  std::string key;
  std::string range_end;  // empty: the one key
};
using Op = std::variant<Put, DeleteRange, Get>;

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;  // after the transaction: the mod revision of what it wrote
  std::vector<RangeResult> gets;  // the Get ops of the branch that ran, in order
};

struct Lease {
  int64_t id = 0;
  int64_t ttl_seconds = 0;
};

// One member as it answers /v3/maintenance/status.
struct MemberStatus {
  std::string endpoint;
  std::optional<std::string> error;  // unreachable or refused
  std::string version;
  uint64_t member_id = 0;
  uint64_t leader = 0;  // member id of the raft leader; 0: none
  int64_t raft_term = 0;
  int64_t raft_index = 0;
  int64_t raft_applied_index = 0;
  int64_t db_size = 0;
};

struct ClientOptions {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379" or "https://..."
  std::chrono::milliseconds timeout{1000};  // per request and endpoint
  // https endpoints: the CA that signed the members' certificates (empty:
  // the system's), and this client's certificate and key for etcd's
  // --client-cert-auth (empty: none). PEM files, read by libcurl/OpenSSL at
  // each new connection.
  std::string ca_file, cert_file, key_file;
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client &) = delete;
  Client &operator=(const Client &) = delete;

  // Keys from `key` up to `range_end` (empty: the one key), at most `limit`
  // (0: all), in key order.
  Result<RangeResult> range(const std::string &key, const std::string &range_end = {}, int64_t limit = 0);
  Result<TxnResult> txn(std::span<const Compare> compares, std::span<const Op> success,
                        std::span<const Op> failure = {});
  Result<Lease> lease_grant(int64_t ttl_seconds);
  // The lease's remaining TTL after the renewal; 0 when etcd no longer has
  // it (expired or revoked).
  Result<int64_t> lease_keepalive(int64_t id);
  std::optional<Error> lease_revoke(int64_t id);
  // Every endpoint's own view, each asked directly (show cluster).
  std::vector<MemberStatus> status_all();

  const std::vector<std::string> &endpoints() const { return options_.endpoints; }
  // The endpoint the next request goes to first.
  const std::string &current_endpoint() const { return options_.endpoints[current_]; }

 private:
  struct Curl;
  Result<std::string> post_once(const std::string &endpoint, const std::string &path, const std::string &body);
  // Tries each endpoint, starting with the current one, until one answers.
  Result<std::string> post(const std::string &path, const std::string &body);

  ClientOptions options_;
  size_t current_ = 0;
  std::unique_ptr<Curl> curl_;
};

// The smallest key greater than every key starting with `prefix` (etcd's
// range_end for a prefix).
std::string prefix_end(const std::string &prefix);

}  // namespace nvmove::etcd
