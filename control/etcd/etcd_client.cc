#include "control/etcd/etcd_client.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace nvmove::etcd {
namespace {

using nlohmann::json;

// Keys and values travel base64-encoded in the gateway's JSON (protobuf
// bytes fields); OpenSSL's encoder, not one of ours.
std::string base64(const std::string &bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string &text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                reinterpret_cast<const unsigned char *>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding++;
  if (text.size() > 1 && text[text.size() - 2] == '=') padding++;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// The gateway spells 64-bit integers as JSON strings (proto3 mapping) and
// leaves out fields that are zero.
int64_t number(const json &j, const char *field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return static_cast<int64_t>(std::stoull(it->get<std::string>()));
  throw std::runtime_error(std::string("field ") + field + " is not a number");
}

std::string bytes(const json &j, const char *field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return {};
  auto decoded = unbase64(it->get<std::string>());
  if (!decoded) throw std::runtime_error(std::string("field ") + field + " is not base64");
  return *decoded;
}

RangeResult parse_range(const json &j) {
  RangeResult r;
  r.revision = number(j.value("header", json::object()), "revision");
  r.more = j.value("more", false);
  r.count = number(j, "count");
  for (const auto &kv : j.value("kvs", json::array())) {
    KeyValue v;
    v.key = bytes(kv, "key");
    v.value = bytes(kv, "value");
    v.create_revision = number(kv, "create_revision");
    v.mod_revision = number(kv, "mod_revision");
    v.version = number(kv, "version");
    v.lease = number(kv, "lease");
    r.kvs.push_back(std::move(v));
  }
  return r;
}

json range_request(const std::string &key, const std::string &range_end, int64_t limit) {
  json j = {{"key", base64(key)}};
  if (!range_end.empty()) j["range_end"] = base64(range_end);
  if (limit > 0) j["limit"] = std::to_string(limit);
  return j;
}

json op_json(const Op &op) {
  return std::visit(
      [](const auto &o) -> json {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, Put>) {
          json put = {{"key", base64(o.key)}, {"value", base64(o.value)}};
          if (o.lease) put["lease"] = std::to_string(o.lease);
          return {{"request_put", put}};
        } else if constexpr (std::is_same_v<T, DeleteRange>) {
          json del = {{"key", base64(o.key)}};
          if (!o.range_end.empty()) del["range_end"] = base64(o.range_end);
          return {{"request_delete_range", del}};
        } else {
          return {{"request_range", range_request(o.key, o.range_end, 0)}};
        }
      },
      op);
}

const char *target_name(Compare::Target t) {
  switch (t) {
    case Compare::Target::Version: return "VERSION";
    case Compare::Target::Create: return "CREATE";
    case Compare::Target::Mod: return "MOD";
    case Compare::Target::Value: return "VALUE";
    case Compare::Target::Lease: return "LEASE";
  }
  return "MOD";
}

const char *result_name(Compare::Result r) {
  switch (r) {
    case Compare::Result::Equal: return "EQUAL";
    case Compare::Result::Greater: return "GREATER";
    case Compare::Result::Less: return "LESS";
    case Compare::Result::NotEqual: return "NOT_EQUAL";
  }
  return "EQUAL";
}

json compare_json(const Compare &c) {
  json j = {{"key", base64(c.key)}, {"target", target_name(c.target)}, {"result", result_name(c.result)}};
  switch (c.target) {
    case Compare::Target::Version: j["version"] = std::to_string(c.number); break;
    case Compare::Target::Create: j["create_revision"] = std::to_string(c.number); break;
    case Compare::Target::Mod: j["mod_revision"] = std::to_string(c.number); break;
    case Compare::Target::Lease: j["lease"] = std::to_string(c.number); break;
    case Compare::Target::Value: j["value"] = base64(c.value); break;
  }
  return j;
}

// An answer larger than any nvad asks for (a page of a range is about a
// megabyte) is a broken endpoint: returning short makes curl fail the
// transfer (CURLE_WRITE_ERROR), reported as that endpoint unreachable,
// instead of growing the buffer until allocation fails.
constexpr size_t kMaxAnswerBytes = size_t{64} << 20;

size_t collect(char *data, size_t size, size_t n, void *out) {
  auto *answer = static_cast<std::string *>(out);
  if (answer->size() + size * n > kMaxAnswerBytes) return 0;
  answer->append(data, size * n);
  return size * n;
}

// A field of an answer that may be absent or of another type than it should.
int64_t number_field(const json &j, const char *name, int64_t otherwise) {
  const auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : otherwise;
}
std::string text_field(const json &j, const char *name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Parses a gateway answer: the JSON, or the error it carries. Code 14
// (Unavailable: "etcdserver: no leader", a member cut off from the others)
// means another member may do better.
Result<json> parse_answer(const std::string &endpoint, long http_status, const std::string &body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error{endpoint + ": HTTP " + std::to_string(http_status) + ", not JSON", http_status >= 500};
  if (j.contains("error") || http_status != 200) {
    // A unary call's error is {"code", "message", "error": text}; a
    // streaming call's (lease keepalive) is {"error": {"grpc_code",
    // "message", ...}}. Read either without trusting any field's type.
    const json &inner = j.contains("error") && j["error"].is_object() ? j["error"] : j;
    const int64_t code = number_field(inner, "code", number_field(inner, "grpc_code", 0));
    std::string message = text_field(inner, "message");
    if (message.empty()) message = text_field(j, "error");
    if (message.empty()) message = "HTTP " + std::to_string(http_status);
    return Error{endpoint + ": " + message, code == 14 || http_status >= 500};
  }
  return j;
}

}  // namespace

std::optional<Error> gateway_error(const std::string &endpoint, long http_status, const std::string &body) {
  auto parsed = parse_answer(endpoint, http_status, body);
  if (parsed) return std::nullopt;
  return parsed.error();
}

struct Client::Curl {
  CURL *handle = nullptr;
  curl_slist *headers = nullptr;
  Curl() {
    static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!initialised) throw std::runtime_error("libcurl: global initialisation failed");
    handle = curl_easy_init();
    if (!handle) throw std::runtime_error("libcurl: no easy handle");
    headers = curl_slist_append(nullptr, "Content-Type: application/json");
    // No "Expect: 100-continue" before a body over 1 KiB (a transaction of
    // bindings): it costs a round trip per request for nothing.
    headers = curl_slist_append(headers, "Expect:");
  }
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
};

Client::Client(ClientOptions options) : options_(std::move(options)), curl_(std::make_unique<Curl>()) {
  if (options_.endpoints.empty()) throw std::invalid_argument("etcd: no endpoint");
}

Client::~Client() = default;

Result<std::string> Client::post_once(const std::string &endpoint, const std::string &path,
                                      const std::string &body) {
  CURL *h = curl_->handle;
  std::string answer;
  const std::string url = endpoint + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, curl_->headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a daemon that handles its own signals
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");  // an http_proxy in the environment must not carry our store
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, options_.cert_file.c_str());
  if (!options_.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, options_.key_file.c_str());
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) return Error{endpoint + ": " + curl_easy_strerror(rc), true};
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  auto parsed = parse_answer(endpoint, status, answer);
  if (!parsed) return parsed.error();
  return answer;
}

Result<std::string> Client::post(const std::string &path, const std::string &body) {
  std::string errors;
  for (size_t tried = 0; tried < options_.endpoints.size(); tried++) {
    const size_t i = (current_ + tried) % options_.endpoints.size();
    auto answer = post_once(options_.endpoints[i], path, body);
    if (answer) {
      current_ = i;
      return answer;
    }
    if (!answer.error().unreachable) return answer.error();  // refused: another member would refuse too
    errors += (errors.empty() ? "" : "; ") + answer.error().message;
  }
  current_ = (current_ + 1) % options_.endpoints.size();
  return Error{"no etcd endpoint answered: " + errors, true};
}

namespace {
template <typename T, typename F>
Result<T> decode(Result<std::string> answer, F &&f) {
  if (!answer) return answer.error();
  try {
    return f(json::parse(answer.value()));
  } catch (const std::exception &e) {
    return Error{std::string("unexpected answer from etcd: ") + e.what()};
  }
}
}  // namespace

Result<RangeResult> Client::range(const std::string &key, const std::string &range_end, int64_t limit) {
  return decode<RangeResult>(post("/v3/kv/range", range_request(key, range_end, limit).dump()),
                             [](const json &j) { return parse_range(j); });
}

Result<TxnResult> Client::txn(std::span<const Compare> compares, std::span<const Op> success,
                              std::span<const Op> failure) {
  json request = {{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto &c : compares) request["compare"].push_back(compare_json(c));
  for (const auto &op : success) request["success"].push_back(op_json(op));
  for (const auto &op : failure) request["failure"].push_back(op_json(op));
  return decode<TxnResult>(post("/v3/kv/txn", request.dump()), [](const json &j) {
    TxnResult r;
    r.succeeded = j.value("succeeded", false);
    r.revision = number(j.value("header", json::object()), "revision");
    for (const auto &response : j.value("responses", json::array()))
      if (response.contains("response_range")) r.gets.push_back(parse_range(response["response_range"]));
    return r;
  });
}

Result<Lease> Client::lease_grant(int64_t ttl_seconds) {
  const json request = {{"TTL", std::to_string(ttl_seconds)}};
  return decode<Lease>(post("/v3/lease/grant", request.dump()), [](const json &j) {
    if (j.contains("error") && !j["error"].get<std::string>().empty())
      throw std::runtime_error(j["error"].get<std::string>());
    return Lease{number(j, "ID"), number(j, "TTL")};
  });
}

Result<int64_t> Client::lease_keepalive(int64_t id) {
  const json request = {{"ID", std::to_string(id)}};
  // A stream in gRPC; through the gateway one request gets one answer,
  // wrapped in "result".
  return decode<int64_t>(post("/v3/lease/keepalive", request.dump()), [](const json &j) {
    return number(j.value("result", json::object()), "TTL");
  });
}

std::optional<Error> Client::lease_revoke(int64_t id) {
  const json request = {{"ID", std::to_string(id)}};
  auto answer = post("/v3/lease/revoke", request.dump());
  if (!answer) return answer.error();
  return std::nullopt;
}

std::vector<MemberStatus> Client::status_all() {
  std::vector<MemberStatus> all;
  for (const auto &endpoint : options_.endpoints) {
    MemberStatus s;
    s.endpoint = endpoint;
    auto answer = post_once(endpoint, "/v3/maintenance/status", "{}");
    if (!answer) {
      s.error = answer.error().message;
    } else {
      try {
        const json j = json::parse(answer.value());
        s.version = j.value("version", "");
        s.member_id = static_cast<uint64_t>(number(j.value("header", json::object()), "member_id"));
        s.leader = static_cast<uint64_t>(number(j, "leader"));
        s.raft_term = number(j, "raftTerm");
        s.raft_index = number(j, "raftIndex");
        s.raft_applied_index = number(j, "raftAppliedIndex");
        s.db_size = number(j, "dbSize");
      } catch (const std::exception &e) {
        s.error = endpoint + ": unexpected answer: " + e.what();
      }
    }
    all.push_back(std::move(s));
  }
  return all;
}

std::string prefix_end(const std::string &prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto &last = reinterpret_cast<unsigned char &>(end.back());
    if (last < 0xff) {
      last++;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's "\0" range end)
}

}  // namespace nvmove::etcd
