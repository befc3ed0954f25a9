#include "control/nved/reload.h"

#include <yaml-cpp/yaml.h>

#include <sstream>

#include "control/nved/config.h"
#include "control/nved/running_config.h"

namespace nvmove {

namespace {

// Each top-level key of the effective configuration (defaults written out),
// as its YAML text: two configurations differ in a section iff these differ.
std::map<std::string, std::string> sections(const NvedConfig &cfg) {
  std::map<std::string, std::string> out;
  const YAML::Node root = YAML::Load(running_config_yaml(cfg));
  for (const auto &kv : root) {
    YAML::Emitter e;
    e << kv.second;
    out[kv.first.as<std::string>()] = e.c_str();
  }
  return out;
}

}  // namespace

ReloadReport reload_configuration(const std::string &config_path, const NvedConfig &running,
                                  const KeyReload &reload_keys) {
  ReloadReport report;
  NvedConfig fresh;
  try {
    fresh = load_config_file(config_path);
  } catch (const ConfigError &e) {
    report.ok = false;
    std::istringstream lines(e.what());
    for (std::string line; std::getline(lines, line);) report.lines.push_back("error: " + line);
    report.lines.push_back("nothing changed: the configuration in effect stays");
    return report;
  }
  const auto now = sections(running), then = sections(fresh);
  std::set<std::string> keys;
  for (const auto &[k, _] : now) keys.insert(k);
  for (const auto &[k, _] : then) keys.insert(k);
  size_t changed = 0;
  for (const auto &k : keys) {
    auto a = now.find(k), b = then.find(k);
    if (a != now.end() && b != then.end() && a->second == b->second) continue;
    changed++;
    report.lines.push_back(k + ": changed in the file; takes effect at the next restart");
  }
  if (changed == 0) report.lines.push_back("configuration file: no change from the configuration in effect");
  if (!running.route_file.empty())
    report.lines.push_back("route_file " + running.route_file + ": read at start only (nvectl route add/del for live changes)");
  if (reload_keys) {
    if (auto failed = reload_keys()) {
      report.ok = false;
      report.lines.push_back("agent key file not reloaded, the keys in use stay: " + *failed);
    } else {
      report.lines.push_back("agent key file " + running.agent.key_file + ": reloaded");
    }
  }
  return report;
}

void register_reload_command(ctl::CtlServer &server, const std::string &config_path, const NvedConfig &running,
                             KeyReload reload_keys) {
  server.on("reload", [config_path, &running, reload_keys](const std::vector<std::string> &a) {
    if (!a.empty()) return ctl::Reply::bad_usage();
    const ReloadReport report = reload_configuration(config_path, running, reload_keys);
    ctl::Reply r;
    for (const auto &l : report.lines) r.text += l + "\n";
    r.data = {{"ok", report.ok}, {"report", report.lines}};
    if (!report.ok) {
      r.ok = false;
      r.error = "reload: " + r.text.substr(0, r.text.empty() ? 0 : r.text.size() - 1);
    }
    return r;
  });
}

}  // namespace nvmove
