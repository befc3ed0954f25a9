// Typed reading of a YAML configuration (nved's and nvad's) that reports
// every mistake, not just the first, each as "<file>:<line>: <key path>: <what is wrong>", and notices
// keys nobody asked for (a typo would otherwise silently keep a default).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/net_types.h"
#include "control/base/clock.h"

namespace nvmove {

class YamlErrors {
 public:
  explicit YamlErrors(std::string origin) : origin_(std::move(origin)) {}
  void add(const YAML::Node &at, const std::string &key, const std::string &what);
  void add_line(int line, const std::string &key, const std::string &what);  // line: 1-based, 0 = none
  const std::vector<std::string> &all() const { return errors_; }
  const std::string &origin() const { return origin_; }

 private:
  std::string origin_;
  std::vector<std::string> errors_;
};

// One mapping of the file. Every getter records the key as known, returns
// nullopt when the key is absent or its value is wrong (after recording an
// error), and never throws.
class YamlSection {
 public:
  // `path` is the key path of this mapping ("" at the top).
  YamlSection(YAML::Node node, std::string path, YamlErrors &errors);
  ~YamlSection() = default;

  bool has(const std::string &key);
  // Records "missing (required)" (and `why`, if given) when the key is absent.
  bool require(const std::string &key, const std::string &why = "");
  std::optional<std::string> text(const std::string &key);
  std::optional<uint64_t> number(const std::string &key, uint64_t min, uint64_t max);
  std::optional<bool> flag(const std::string &key);
  // "250ms", "10s", "3m", "1h": whole numbers with a unit, from min to max.
  std::optional<Duration> duration(const std::string &key, Duration min, Duration max);
  std::optional<IpAddress> address(const std::string &key);
  std::optional<std::vector<IpAddress>> addresses(const std::string &key);
  // A list of non-empty strings (URLs, names).
  std::optional<std::vector<std::string>> texts(const std::string &key);
  // "198.51.100.0/24", "2001:db8::/48"; an address alone is a host prefix.
  std::optional<std::vector<IpPrefix>> prefixes(const std::string &key);
  // A unicast MAC address, xx:xx:xx:xx:xx:xx.
  std::optional<MacAddress> mac(const std::string &key);
  // The key's value node (Undefined when absent), for errors about it.
  YAML::Node at(const std::string &key);
  std::optional<std::set<uint32_t>> numbers(const std::string &key, uint64_t min, uint64_t max);
  // A nested mapping (absent: an empty one) or a sequence of mappings.
  YamlSection section(const std::string &key);
  std::optional<std::vector<YamlSection>> sections(const std::string &key);

  // Reports the keys present in the file but never asked for. Call last.
  void reject_unknown_keys();

  std::string key_path(const std::string &key) const { return path_.empty() ? key : path_ + "." + key; }
  const YAML::Node &node() const { return node_; }
  YamlErrors &errors() { return errors_; }

 private:
  YAML::Node get(const std::string &key);
  std::optional<std::string> scalar(const std::string &key, const YAML::Node &value,
                                    const char *expected);
  // A list of scalars, each parsed; errors name the item and its text.
  template <typename T>
  std::optional<std::vector<T>> scalar_list(const std::string &key, const std::string &expected,
                                            const std::string &bad_item,
                                            const std::function<std::optional<T>(const std::string &)> &parse);

  YAML::Node node_;
  std::string path_;
  YamlErrors &errors_;
  std::set<std::string> asked_;
};

std::optional<Duration> parse_duration(const std::string &text);

// Records every key that stands twice in one mapping, anywhere in the
// document. yaml-cpp keeps both and a lookup finds the first, so without this
// check `default_action: drop` followed by `default_action: forward` passes
// and drops everything.
void report_duplicate_keys(const YAML::Node &root, YamlErrors &errors);

// A second YAML document (a stray "---" followed by more keys) would be read
// by nobody: yaml-cpp's Load() stops after the first. Reported instead, so
// that no line of the file is silently ignored.
void report_extra_documents(const std::string &text, YamlErrors &errors);

}  // namespace nvmove
