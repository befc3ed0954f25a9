#include "control/base/yaml_fields.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <map>
#include <sstream>

namespace nvmove {
namespace {

std::optional<uint64_t> parse_unsigned(const std::string &text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// yaml-cpp answers a lookup of a missing key with an "invalid" node on which
// most calls throw; a fresh Undefined node answers every question safely.
YAML::Node defined_or_undefined(const YAML::Node &node) {
  if (node.IsDefined()) return node;
  return YAML::Node(YAML::NodeType::Undefined);
}

// yaml-cpp keeps a mark on every node it parsed; a node built by the program
// (a missing key) has line -1.
int line_of(const YAML::Node &node) {
  if (!node.IsDefined()) return 0;
  int line = node.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

}  // namespace

void YamlErrors::add(const YAML::Node &at, const std::string &key, const std::string &what) {
  add_line(line_of(at), key, what);
}

void YamlErrors::add_line(int line, const std::string &key, const std::string &what) {
  // A bound on what one file can make us hold: a list of errors longer than
  // this helps nobody, and the last line says so.
  constexpr size_t kMaxErrors = 200;
  if (errors_.size() > kMaxErrors) return;
  if (errors_.size() == kMaxErrors) {
    errors_.push_back(origin_ + ": more than " + std::to_string(kMaxErrors) + " errors: the rest not listed");
    return;
  }
  std::string where = origin_;
  if (line > 0) where += ":" + std::to_string(line);
  errors_.push_back(where + ": " + key + ": " + what);
}

YamlSection::YamlSection(YAML::Node node, std::string path, YamlErrors &errors)
    : node_(defined_or_undefined(node)), path_(std::move(path)), errors_(errors) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    errors_.add(node_, path_.empty() ? "(top level)" : path_, "expected a mapping of keys to values");
    node_.reset(YAML::Node(YAML::NodeType::Undefined));
  }
}

YAML::Node YamlSection::get(const std::string &key) {
  asked_.insert(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  // Through a const reference: operator[] on a non-const node inserts the key.
  const YAML::Node &map = node_;
  return defined_or_undefined(map[key]);
}

bool YamlSection::has(const std::string &key) {
  YAML::Node value = get(key);
  return value.IsDefined();
}

bool YamlSection::require(const std::string &key, const std::string &why) {
  if (has(key)) return true;
  errors_.add(node_, key_path(key), "missing (required)" + (why.empty() ? "" : ": " + why));
  return false;
}

YAML::Node YamlSection::at(const std::string &key) {
  const YAML::Node value = get(key);
  return value.IsDefined() ? value : node_;
}

std::optional<MacAddress> YamlSection::mac(const std::string &key) {
  YAML::Node value = get(key);
  auto raw = scalar(key, value, "a MAC address");
  if (!raw) return std::nullopt;
  auto parsed = parse_mac(*raw);
  if (!parsed) {
    errors_.add(value, key_path(key), "'" + *raw + "' is not a MAC address (xx:xx:xx:xx:xx:xx)");
    return std::nullopt;
  }
  if ((*parsed)[0] & 1) {
    errors_.add(value, key_path(key), "'" + *raw + "' is a multicast MAC address");
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::string> YamlSection::scalar(const std::string &key, const YAML::Node &value,
                                               const char *expected) {
  if (!value.IsDefined()) return std::nullopt;
  if (!value.IsScalar()) {
    errors_.add(value, key_path(key), std::string("expected ") + expected);
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<std::string> YamlSection::text(const std::string &key) {
  auto value = scalar(key, get(key), "a string");
  if (value && value->empty()) {
    errors_.add(get(key), key_path(key), "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> YamlSection::number(const std::string &key, uint64_t min, uint64_t max) {
  YAML::Node value = get(key);
  auto raw = scalar(key, value, "a whole number");
  if (!raw) return std::nullopt;
  auto parsed = parse_unsigned(*raw);
  if (!parsed) {
    errors_.add(value, key_path(key), "'" + *raw + "' is not a whole number");
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    errors_.add(value, key_path(key),
                *raw + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<bool> YamlSection::flag(const std::string &key) {
  YAML::Node value = get(key);
  auto raw = scalar(key, value, "true or false");
  if (!raw) return std::nullopt;
  if (*raw == "true" || *raw == "yes" || *raw == "on") return true;
  if (*raw == "false" || *raw == "no" || *raw == "off") return false;
  errors_.add(value, key_path(key), "'" + *raw + "' is not true or false");
  return std::nullopt;
}

std::optional<Duration> YamlSection::duration(const std::string &key, Duration min, Duration max) {
  YAML::Node value = get(key);
  auto raw = scalar(key, value, "a duration such as 500ms, 10s or 3m");
  if (!raw) return std::nullopt;
  auto parsed = parse_duration(*raw);
  if (!parsed) {
    errors_.add(value, key_path(key),
                "'" + *raw + "' is not a duration (a whole number and a unit: ms, s, m or h)");
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    errors_.add(value, key_path(key),
                *raw + " is out of range " + duration_text(min) + ".." + duration_text(max));
    return std::nullopt;
  }
  return parsed;
}

std::optional<IpAddress> YamlSection::address(const std::string &key) {
  YAML::Node value = get(key);
  auto raw = scalar(key, value, "an IPv4 or IPv6 address");
  if (!raw) return std::nullopt;
  auto parsed = IpAddress::parse(*raw);
  if (!parsed) errors_.add(value, key_path(key), "'" + *raw + "' is not an IPv4 or IPv6 address");
  return parsed;
}

template <typename T>
std::optional<std::vector<T>> YamlSection::scalar_list(
    const std::string &key, const std::string &expected, const std::string &bad_item,
    const std::function<std::optional<T>(const std::string &)> &parse) {
  YAML::Node value = get(key);
  if (!value.IsDefined()) return std::nullopt;
  if (!value.IsSequence()) {
    errors_.add(value, key_path(key), "expected " + expected);
    return std::nullopt;
  }
  std::vector<T> out;
  bool ok = true;
  for (size_t i = 0; i < value.size(); i++) {
    std::string item_key = key_path(key) + "[" + std::to_string(i) + "]";
    std::optional<T> parsed;
    if (value[i].IsScalar()) parsed = parse(value[i].Scalar());
    if (!parsed) {
      errors_.add(value[i], item_key,
                  "'" + (value[i].IsScalar() ? value[i].Scalar() : std::string("(not a scalar)")) + "' is " + bad_item);
      ok = false;
    } else {
      out.push_back(*parsed);
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<IpAddress>> YamlSection::addresses(const std::string &key) {
  return scalar_list<IpAddress>(key, "a list of addresses", "not an IPv4 or IPv6 address", IpAddress::parse);
}

std::optional<std::vector<std::string>> YamlSection::texts(const std::string &key) {
  return scalar_list<std::string>(key, "a list of strings", "empty", [](const std::string &text) {
    return text.empty() ? std::nullopt : std::optional<std::string>(text);
  });
}

std::optional<std::vector<IpPrefix>> YamlSection::prefixes(const std::string &key) {
  return scalar_list<IpPrefix>(key, "a list of prefixes (198.51.100.0/24, 2001:db8::/48)",
                               "not a prefix (address/length, no bits set past the length)", IpPrefix::parse);
}

std::optional<std::set<uint32_t>> YamlSection::numbers(const std::string &key, uint64_t min,
                                                       uint64_t max) {
  YAML::Node value = get(key);
  if (!value.IsDefined()) return std::nullopt;
  if (!value.IsSequence()) {
    errors_.add(value, key_path(key), "expected a list of whole numbers");
    return std::nullopt;
  }
  std::set<uint32_t> out;
  bool ok = true;
  for (size_t i = 0; i < value.size(); i++) {
    std::string item_key = key_path(key) + "[" + std::to_string(i) + "]";
    std::optional<uint64_t> parsed;
    if (value[i].IsScalar()) parsed = parse_unsigned(value[i].Scalar());
    if (!parsed || *parsed < min || *parsed > max) {
      errors_.add(value[i], item_key,
                  "not a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      ok = false;
    } else {
      out.insert(static_cast<uint32_t>(*parsed));
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

YamlSection YamlSection::section(const std::string &key) {
  return YamlSection(get(key), key_path(key), errors_);
}

std::optional<std::vector<YamlSection>> YamlSection::sections(const std::string &key) {
  YAML::Node value = get(key);
  if (!value.IsDefined()) return std::nullopt;
  if (value.IsNull()) return std::vector<YamlSection>{};
  if (!value.IsSequence()) {
    errors_.add(value, key_path(key), "expected a list");
    return std::nullopt;
  }
  std::vector<YamlSection> out;
  for (size_t i = 0; i < value.size(); i++)
    out.emplace_back(value[i], key_path(key) + "[" + std::to_string(i) + "]", errors_);
  return out;
}

void YamlSection::reject_unknown_keys() {
  if (!node_.IsMap()) return;
  for (const auto &entry : node_) {
    std::string key = entry.first.IsScalar() ? entry.first.Scalar() : "?";
    if (!asked_.contains(key)) errors_.add(entry.first, key_path(key), "unknown key");
  }
}

std::optional<Duration> parse_duration(const std::string &text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') digits++;
  auto count = parse_unsigned(text.substr(0, digits));
  // Bounded so that the conversion to nanoseconds cannot overflow.
  if (!count || *count > 1'000'000'000) return std::nullopt;
  std::string unit = text.substr(digits);
  auto n = static_cast<int64_t>(*count);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  if (unit == "h") return std::chrono::hours(n);
  return std::nullopt;
}

namespace {
// Each collection once: YAML aliases (*a) make the tree a graph, and a few
// hundred bytes of aliases of aliases name billions of nodes (the fuzzer's
// find); visiting each only at its first appearance keeps the walk linear.
void find_duplicates(const YAML::Node &node, const std::string &path, YamlErrors &errors,
                     std::vector<YAML::Node> &visited) {
  if (!node.IsSequence() && !node.IsMap()) return;
  for (const auto &v : visited)
    if (v.is(node)) return;
  visited.push_back(node);
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); i++)
      find_duplicates(node[i], path + "[" + std::to_string(i) + "]", errors, visited);
    return;
  }
  std::map<std::string, int> seen;  // key -> line of its first use
  for (const auto &kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string key = kv.first.Scalar();
    const std::string where = path.empty() ? key : path + "." + key;
    const int line = kv.first.Mark().line + 1;
    auto [it, fresh] = seen.emplace(key, line);
    if (!fresh)
      errors.add_line(line, where, "duplicate key (first at line " + std::to_string(it->second) + "); give each key once");
    else
      find_duplicates(kv.second, where, errors, visited);
  }
}
}  // namespace

void report_duplicate_keys(const YAML::Node &root, YamlErrors &errors) {
  std::vector<YAML::Node> visited;
  find_duplicates(root, "", errors, visited);
}

namespace {

// Watches the parser's events for content after the first document, and
// stops the parse at the first such event (by throwing): nothing after it is
// needed, and yaml-cpp 0.7's LoadAll() never returned on some malformed
// input after a first document (the config fuzzer found a 201-byte one that
// built nodes until it ran out of memory).
class ExtraDocumentWatch final : public YAML::EventHandler {
 public:
  struct Found {
    int line;       // 1-based
    size_t document;  // 1-based
  };
  void OnDocumentStart(const YAML::Mark &) override { documents_++; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark &, YAML::anchor_t) override {}  // an empty document says nothing
  void OnAlias(const YAML::Mark &mark, YAML::anchor_t) override { content(mark); }
  void OnScalar(const YAML::Mark &mark, const std::string &, YAML::anchor_t, const std::string &) override {
    content(mark);
  }
  void OnSequenceStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t, YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnMapEnd() override {}
  size_t documents() const { return documents_; }

 private:
  void content(const YAML::Mark &mark) {
    if (documents_ > 1) throw Found{mark.line >= 0 ? mark.line + 1 : 0, documents_};
  }
  size_t documents_ = 0;
};

}  // namespace

void report_extra_documents(const std::string &text, YamlErrors &errors) {
  std::istringstream in(text);
  ExtraDocumentWatch watch;
  try {
    YAML::Parser parser(in);
    // Empty documents ("---" alone) are skipped, a bounded number of them.
    for (int i = 0; i < 1000 && parser.HandleNextDocument(watch); i++) {
    }
  } catch (const ExtraDocumentWatch::Found &found) {
    errors.add_line(found.line, "(document " + std::to_string(found.document) + ")",
                    "a second YAML document ('---'): the configuration is one document; merge it into the first");
  } catch (const YAML::Exception &) {
    // a syntax error: Load() reported it
  }
}

}  // namespace nvmove
