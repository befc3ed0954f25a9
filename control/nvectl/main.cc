// nvectl: the operator's client for nved and nvad, over their control sockets.
//   nvectl show routes vn 0            one command, text
//   nvectl --json show counters        the same data as JSON (exact numbers)
//   nvectl -r                          interactive, read-only
// Exit codes: 0 done, 1 the daemon refused or failed, 2 usage error,
// 3 daemon unreachable.
#include <readline/history.h>
#include <readline/readline.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "control/ctl/command_table.h"
#include "control/ctl/ctl_socket.h"

namespace {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3 };

struct Client {
  std::string socket;
  std::span<const nvmove::ctl::CommandSpec> table;
  bool json = false;
  bool read_only = false;
  int timeout_ms = 5000;

  int run(const std::vector<std::string> &words) {
    size_t n = 0;
    const auto *spec = nvmove::ctl::match_command(table, words, n);
    if (!spec) {
      std::cerr << "nvectl: unknown command";
      for (const auto &w : words) std::cerr << " " << w;
      std::cerr << " (try: help)\n";
      return kUsage;
    }
    if (read_only && spec->mutating) {
      std::cerr << "nvectl: '" << spec->words << "' changes state: refused in read-only mode (-r)\n";
      return kFailed;
    }
    // Only the form it prints: a large table is then written, sent and
    // parsed once, not twice.
    nlohmann::json req = {{"command", std::string(spec->words)}, {"args", nlohmann::json::array()},
                          {"read_only", read_only}, {"format", json ? "json" : "text"}};
    for (size_t i = n; i < words.size(); i++) req["args"].push_back(words[i]);
    std::string why;
    auto resp = nvmove::ctl::call(socket, req, timeout_ms, why);
    if (!resp) {
      std::cerr << "nvectl: daemon unreachable: " << why << "\n";
      return kUnreachable;
    }
    if (!resp->value("ok", false)) {
      std::cerr << "nvectl: " << resp->value("error", std::string("failed")) << "\n";
      return resp->value("usage", false) ? kUsage : kFailed;
    }
    if (json) std::cout << (*resp)["data"].dump(2) << "\n";
    else std::cout << resp->value("text", std::string());
    return kOk;
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

char *completion_generator(const char *text, int state) {
  static std::vector<std::string> matches;
  static size_t idx;
  if (state == 0) {
    std::string line(rl_line_buffer, static_cast<size_t>(rl_point));
    auto typed = split(line);
    const bool ends_in_space = !line.empty() && line.back() == ' ';
    if (!ends_in_space && !typed.empty()) typed.pop_back();
    matches = nvmove::ctl::complete(g_client->table, typed, text);
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
  app.add_option("-p,--file-prefix", prefix, "nved's DPDK --file-prefix (finds its socket)");
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
  c.table = daemon == "nvad" ? nvmove::ctl::nvad_commands() : nvmove::ctl::nved_commands();
  c.socket = !socket.empty() ? socket : daemon == "nvad" ? nvmove::ctl::kDefaultNvadSocket
                                                          : nvmove::ctl::default_nved_socket(prefix);
  if (words.empty()) return interactive(c, daemon + (c.read_only ? "(ro)> " : "> "));
  return c.run(words);
}
