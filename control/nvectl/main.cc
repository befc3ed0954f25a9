// nvectl: the operator's client for nved and nvad, over their control sockets.
//   nvectl show routes vn 0            one command, text
//   nvectl --json show counters        the same data as JSON (exact numbers)
//   nvectl -r                          interactive, read-only
//   nvectl sh ro                       words may be abbreviated (birdc, vppctl)
//   nvectl show ?                      the commands that begin so, with their help
// Exit codes: 0 done, 1 the daemon refused or failed, 2 usage error,
// 3 daemon unreachable.
#include <readline/history.h>
#include <readline/readline.h>

#include <glob.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "control/ctl/command_table.h"
#include "control/ctl/ctl_socket.h"

namespace {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3 };

// nveds' control sockets that exist: one per running nved (or one a killed
// nved left behind), in EAL's runtime directories.
std::vector<std::string> nved_sockets() {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob("/var/run/dpdk/*/nved.sock", 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; i++) out.emplace_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

// "/var/run/dpdk/demo/nved.sock" -> "demo"
std::string prefix_of(const std::string &socket) {
  const auto end = socket.rfind('/');
  const auto begin = socket.rfind('/', end - 1);
  return socket.substr(begin + 1, end - begin - 1);
}

struct Client {
  std::string socket;
  std::string daemon = "nved";
  std::span<const nvmove::ctl::CommandSpec> table;
  bool json = false;
  bool read_only = false;
  int timeout_ms = 5000;

  static constexpr int kBindingsPage = 1000;
  // Table entries per page of show routes: about 0.1 s of nved's control
  // thread each, and a table this small still comes whole and sorted.
  static constexpr int kRoutesPage = 10000;

  // One request; the answer when the daemon accepted it, else nullopt with
  // the exit code in `rc` and the reason (and what to try) on stderr.
  std::optional<nlohmann::json> ask(const nlohmann::json &request, int &rc) const {
    std::string why;
    auto resp = nvmove::ctl::call(socket, request, timeout_ms, why);
    if (!resp) {
      std::cerr << "nvectl: daemon unreachable: " << why << "\n";
      hint();
      rc = kUnreachable;
      return std::nullopt;
    }
    if (!resp->value("ok", false)) {
      std::cerr << "nvectl: " << resp->value("error", std::string("failed")) << "\n";
      rc = resp->value("usage", false) ? kUsage : kFailed;
      return std::nullopt;
    }
    return resp;
  }

  // A listing the daemon sends in pages: `args` asks for the first, and
  // next_args(data["next"]) for each following one until "next" is null.
  // Text pages are printed as they come; JSON rows are gathered into one array.
  int paged(const std::string &command, nlohmann::json args,
            const std::function<nlohmann::json(const nlohmann::json &)> &next_args) {
    nlohmann::json rows = nlohmann::json::array();
    size_t listed = 0;
    for (;;) {
      int rc = kOk;
      auto resp = ask({{"command", command}, {"args", args}, {"read_only", read_only},
                       {"format", json ? "json" : "text"}},
                      rc);
      if (!resp) {
        if (listed) std::cerr << "nvectl: the listing is incomplete: it stopped after " << listed << " row(s)\n";
        return rc;
      }
      // The pages come in the form asked for: JSON {"rows", "next"}, or text
      // whose last line is the next cursor ("next: ..." or "next: -").
      nlohmann::json next;
      if (json) {
        const nlohmann::json &data = (*resp)["data"];
        for (const auto &r : data["rows"]) rows.push_back(r);
        listed += data["rows"].size();
        next = data["next"];
      } else {
        std::string text = resp->value("text", std::string());
        const auto last = text.rfind("next: ");
        if (last != std::string::npos) {
          const std::string cursor = text.substr(last + 6, text.find('\n', last) - last - 6);
          text.erase(last);
          if (cursor != "-") next = nlohmann::json::parse(cursor, nullptr, false);
        }
        listed += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
        std::cout << text << std::flush;
      }
      if (next.is_null() || next.is_discarded()) break;
      args = next_args(next);
    }
    if (json) std::cout << rows.dump(2) << "\n";
    return kOk;
  }

  int page_bindings() {
    const std::string size = std::to_string(kBindingsPage);
    return paged("show bindings", {"first", size}, [&](const nlohmann::json &next) {
      return nlohmann::json{"after", std::to_string(next["vn"].get<uint64_t>()), next["vm_id"].get<std::string>(),
                            size};
    });
  }

  // `filter` is empty or {"vn", N}.
  int page_routes(const nlohmann::json &filter) {
    const std::string size = std::to_string(kRoutesPage);
    auto with = [&](const std::string &cursor) {
      nlohmann::json args = filter;
      args.push_back("page");
      args.push_back(cursor);
      args.push_back(size);
      return args;
    };
    return paged("show routes", with("0"),
                 [&](const nlohmann::json &next) { return with(std::to_string(next.get<uint64_t>())); });
  }

  // What to try when the daemon cannot be reached.
  void hint() const {
    if (daemon == "nvad") {
      std::cerr << "nvectl: is nvad running? Its socket is nvad's --ctl-socket (default "
                << nvmove::ctl::kDefaultNvadSocket << "): give it with -s PATH\n";
      return;
    }
    std::cerr << "nvectl: is nved running? Its socket is in EAL's runtime directory for its --file-prefix: "
                 "give -p PREFIX (or -s PATH for --ctl-socket)";
    std::string running;
    for (const auto &s : nved_sockets())
      if (s != socket) running += (running.empty() ? "" : ", ") + std::string("-p ") + prefix_of(s);
    if (!running.empty()) std::cerr << "; sockets found: " << running;
    std::cerr << "\n";
  }

  // The daemon answers (before an interactive session starts).
  bool reachable() const {
    std::string why;
    if (nvmove::ctl::call(socket, {{"command", "help"}, {"args", nlohmann::json::array()}, {"format", "text"}},
                          timeout_ms, why))
      return true;
    std::cerr << "nvectl: daemon unreachable: " << why << "\n";
    hint();
    return false;
  }

  int run(std::vector<std::string> words) {
    // "show ?" / "show?": the commands that begin so, with their help.
    if (!words.empty() && words.back().size() >= 1 && words.back().back() == '?') {
      words.back().pop_back();
      if (words.back().empty()) words.pop_back();
      const std::string lines = nvmove::ctl::help_for(table, words);
      if (!lines.empty()) {
        std::cout << lines;
        return kOk;
      }
      std::cerr << "nvectl: no command begins with";
      for (const auto &w : words) std::cerr << " " << w;
      std::cerr << " (try: help)\n";
      return kUsage;
    }
    size_t n = 0;
    std::vector<const nvmove::ctl::CommandSpec *> candidates;
    const auto *spec = nvmove::ctl::match_command(table, words, n, &candidates);
    if (!spec) {
      if (!candidates.empty()) {
        std::cerr << "nvectl: ambiguous:";
        for (const auto *c : candidates) std::cerr << (c == candidates.front() ? " " : ", ") << c->words;
        std::cerr << " (type more of it)\n";
        return kUsage;
      }
      std::cerr << "nvectl: unknown command";
      for (const auto &w : words) std::cerr << " " << w;
      std::cerr << " (try: help, or ?)\n";
      return kUsage;
    }
    if (read_only && spec->mutating) {
      std::cerr << "nvectl: '" << spec->words << "' changes state: refused in read-only mode (-r)\n";
      return kFailed;
    }
    // nvad's whole binding cache comes in pages, so that nvad serves the
    // protocol between them (100,000 bindings would hold its loop for
    // seconds in one answer).
    if (daemon == "nvad" && spec->words == "show bindings" && words.size() == n) return page_bindings();
    // Likewise nved's route table (millions of routes would hold its control
    // thread, and with it the agent, for seconds): show routes [vn N].
    if (daemon == "nved" && spec->words == "show routes") {
      const size_t extra = words.size() - n;
      if (extra == 0) return page_routes(nlohmann::json::array());
      if (extra == 2 && words[n] == "vn") return page_routes({"vn", words[n + 1]});
    }
    // Only the form it prints: a large table is then written, sent and
    // parsed once, not twice.
    nlohmann::json req = {{"command", std::string(spec->words)}, {"args", nlohmann::json::array()},
                          {"read_only", read_only}, {"format", json ? "json" : "text"}};
    for (size_t i = n; i < words.size(); i++) req["args"].push_back(words[i]);
    const bool activation = daemon == "nved" && spec->words == "vm activate";
    if (activation) req.erase("format");  // its text, and the VM-ID in its data
    int rc = kOk;
    auto resp = ask(req, rc);
    if (!resp) return rc;
    if (activation) return await_registration(std::move(*resp));
    if (json) std::cout << (*resp)["data"].dump(2) << "\n";
    else std::cout << resp->value("text", std::string());
    return kOk;
  }

  // After vm activate: nved forwards to the VM at once and registers it with
  // nvad in the background, so that its control thread never waits on the
  // network. The operator still wants nvad's answer: poll show vms until
  // the registration is answered (or the timeout), and say what it was.
  // Exit 0 registered, 1 refused or unanswered (the agent keeps retrying).
  int await_registration(nlohmann::json resp) {
    nlohmann::json data = resp["data"].is_object() ? resp["data"] : nlohmann::json::object();
    const std::string id = data.value("vm_id", std::string());
    if (!json) std::cout << resp.value("text", std::string()) << std::flush;
    std::optional<nlohmann::json> vm;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      // Asked after a pause, not at once: the answer takes a round trip to
      // nvad, and nved's control thread then has the reply to process (and
      // the tunnel peers it names to install) without a client in the way.
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      int rc = kOk;
      auto vms = ask({{"command", "show vms"}, {"args", nlohmann::json::array()}, {"format", "json"}}, rc);
      if (!vms) return rc;
      vm.reset();
      for (const auto &v : (*vms)["data"])
        if (v.is_object() && v.value("vm_id", std::string()) == id) vm = v;
      if (!vm || !vm->value("awaiting_reply", false) || std::chrono::steady_clock::now() >= deadline) break;
    }
    // A refusal wins over "registered": a VM registered before (deactivated
    // and activated again, or restored after a restart) keeps that flag
    // when nvad refuses its new registration.
    const auto refused = vm ? vm->value("refused_with", nlohmann::json()) : nlohmann::json();
    const bool registered = vm && vm->value("registered", false) && !vm->value("awaiting_reply", false) &&
                            !refused.is_string();
    std::string outcome;
    if (registered)
      outcome = "registered with nvad, lifetime " + std::to_string(vm->value("granted_lifetime_s", 0)) + " s";
    else if (refused.is_string())
      outcome = "nvad refused the registration: " + refused.get<std::string>() + "; the agent retries in " +
                std::to_string(vm->value("retry_in_ms", 0) / 1000) + " s (show vms, nved's log)";
    else if (vm && vm->value("awaiting_reply", false))
      outcome = "no answer from nvad within " + std::to_string(timeout_ms) +
                " ms; the agent keeps retrying (show vms, show agent)";
    else
      outcome = "not registered with nvad (show vms, nved's log)";
    if (json) {
      data["registered"] = registered;
      data["registration"] = outcome;
      std::cout << data.dump(2) << "\n";
    } else {
      (registered ? std::cout : std::cerr) << (registered ? "" : "nvectl: ") << "vm " << id << ": " << outcome
                                           << "\n";
    }
    return registered ? kOk : kFailed;
  }
};

Client *g_client = nullptr;

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Values the daemon knows, for completing an argument: port names, VM-IDs,
// VNs. Asked when TAB is pressed at such an argument (the usage line of the
// command, or the keyword before it, says which).
std::vector<std::string> daemon_values(const Client &c, const std::string &command, const char *field,
                                       const nlohmann::json &args = nlohmann::json::array()) {
  std::string why;
  auto resp = nvmove::ctl::call(c.socket, {{"command", command}, {"args", args}, {"format", "json"}}, 1000, why);
  std::vector<std::string> out;
  if (!resp || !resp->value("ok", false) || !(*resp)["data"].is_array()) return out;
  for (const auto &row : (*resp)["data"]) {
    const auto &v = row.contains(field) ? row[field] : nlohmann::json();
    if (v.is_string()) out.push_back(v.get<std::string>());
    else if (v.is_number_unsigned()) out.push_back(std::to_string(v.get<uint64_t>()));
  }
  return out;
}

std::vector<std::string> argument_candidates(const Client &c, const std::vector<std::string> &typed,
                                             const std::string &partial) {
  size_t n = 0;
  const auto *spec = nvmove::ctl::match_command(c.table, typed, n);
  if (!spec) return {};
  const std::vector<std::string> args(typed.begin() + static_cast<long>(n), typed.end());
  const std::vector<std::string> usage = split(std::string(spec->usage));
  std::string want = !args.empty() && (args.back() == "port" || args.back() == "vn") ? args.back()
                     : args.size() < usage.size()                                     ? usage[args.size()]
                                                                                      : "";
  std::vector<std::string> values;
  if (want == "port" || want.find("PORT") != std::string::npos) values = daemon_values(c, "show ports", "name");
  else if (want.find("VM-ID") != std::string::npos)
    values = c.daemon == "nvad" ? daemon_values(c, "show bindings", "vm_id") : daemon_values(c, "show vms", "vm_id");
  else if (want == "vn" && c.daemon == "nved")  // the VNs with routes (the summary's "all" row has none)
    values = daemon_values(c, "show routes", "vn", nlohmann::json::array({"summary"}));
  std::vector<std::string> out;
  for (const auto &v : values)
    if (v.compare(0, partial.size(), partial) == 0) out.push_back(v);
  return out;
}

char *completion_generator(const char *text, int state) {
  static std::vector<std::string> matches;
  static size_t idx;
  if (state == 0) {
    std::string line(rl_line_buffer, static_cast<size_t>(rl_point));
    auto typed = split(line);
    const bool ends_in_space = !line.empty() && line.back() == ' ';
    if (!ends_in_space && !typed.empty()) typed.pop_back();
    matches = nvmove::ctl::complete(g_client->table, typed, text);
    if (matches.empty()) matches = argument_candidates(*g_client, typed, text);
    idx = 0;
  }
  if (idx < matches.size()) return strdup(matches[idx++].c_str());
  return nullptr;
}

char **completion(const char *text, int, int) {
  rl_attempted_completion_over = 1;  // no file-name completion
  return rl_completion_matches(text, completion_generator);
}

int interactive(Client &c, const std::string &prompt) {
  g_client = &c;
  rl_attempted_completion_function = completion;
  const char *home = std::getenv("HOME");
  const std::string hist = std::string(home ? home : ".") + "/.nvectl_history";
  read_history(hist.c_str());
  int last = kOk;
  while (char *line = readline(prompt.c_str())) {
    std::string s(line);
    std::free(line);
    auto words = split(s);
    if (words.empty()) continue;
    add_history(s.c_str());
    if (words[0] == "quit" || words[0] == "exit") break;
    last = c.run(words);
  }
  write_history(hist.c_str());
  return last;
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{"nvectl: control nved (the NVE) and nvad (the management node)"};
  std::string socket, prefix = "rte", daemon = "nved";
  Client c;
  std::vector<std::string> words;
  app.add_option("-s,--socket", socket, "control socket path");
  app.add_option("-p,--file-prefix", prefix,
                 "nved's DPDK --file-prefix (finds its socket; default: rte, or the only nved running)");
  app.add_option("-d,--daemon", daemon, "which daemon the commands are for")->check(CLI::IsMember({"nved", "nvad"}));
  app.add_flag("-j,--json", c.json, "print the data as JSON");
  app.add_flag("-r,--read-only", c.read_only, "refuse every command that changes state");
  app.add_option("-t,--timeout", c.timeout_ms, "milliseconds to wait for the daemon")->check(CLI::Range(1, 600000));
  app.add_option("command", words, "command words (none: interactive mode)");
  app.prefix_command(false);
  app.allow_extras(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  c.daemon = daemon;
  c.table = daemon == "nvad" ? nvmove::ctl::nvad_commands() : nvmove::ctl::nved_commands();
  c.socket = !socket.empty() ? socket : daemon == "nvad" ? nvmove::ctl::kDefaultNvadSocket
                                                          : nvmove::ctl::default_nved_socket(prefix);
  // Neither -s nor -p, and no nved with the default prefix: the only nved
  // running is the one meant.
  if (daemon == "nved" && socket.empty() && app.count("--file-prefix") == 0 && ::access(c.socket.c_str(), F_OK) != 0) {
    const auto found = nved_sockets();
    if (found.size() == 1) c.socket = found.front();
  }
  if (words.empty()) {
    if (!c.reachable()) return kUnreachable;
    return interactive(c, daemon + (c.read_only ? "(ro)> " : "> "));
  }
  return c.run(words);
}
