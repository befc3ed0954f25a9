// The control socket between nvectl and the daemons: a Unix stream socket,
// one JSON request line in, one JSON response line out, then close.
//   request:  {"command": "show routes", "args": ["vn", "0"], "read_only": false}
//   response: {"ok": true, "text": "...", "data": {...}}
//         or  {"ok": false, "error": "...", "usage": true|false}
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>
#include <cstdint>

#include "control/ctl/command_table.h"

namespace nvmove::ctl {

inline constexpr size_t kMaxRequestBytes = 64 * 1024;

// Default socket of nved for a DPDK file prefix: in EAL's runtime directory.
std::string default_nved_socket(const std::string &file_prefix);
inline constexpr const char *kDefaultNvadSocket = "/run/nvmove/nvad.sock";

struct Reply {
  bool ok = true;
  bool usage_error = false;  // the arguments were wrong (nvectl exits 2)
  std::string error;
  std::string text;
  nlohmann::json data = nlohmann::json::object();

  static Reply fail(std::string why, bool usage = false) {
    Reply r;
    r.ok = false;
    r.usage_error = usage;
    r.error = std::move(why);
    return r;
  }
};

using Handler = std::function<Reply(const std::vector<std::string> &args)>;

// Serves one daemon's commands. Runs inside the daemon's control thread: call
// poll() from its loop; it never blocks.
class CtlServer {
 public:
  CtlServer(std::string path, std::span<const CommandSpec> table);
  ~CtlServer();
  CtlServer(const CtlServer &) = delete;
  CtlServer &operator=(const CtlServer &) = delete;

  // Binds and listens (mode 0660). Throws std::runtime_error.
  void open();
  void on(std::string_view words, Handler h);
  // Accepts and answers pending clients; returns how many were served.
  int poll();
  // Answers one request (also used by tests and by DPDK telemetry).
  Reply dispatch(const nlohmann::json &request);
  const std::string &path() const { return path_; }
  int fd() const { return fd_; }

 private:
  struct Client {
    int fd;
    std::string buf;
    uint64_t deadline_ms;
  };
  // False when the client is done (answered or given up).
  bool serve(Client &c, uint64_t now_ms);

  std::vector<Client> clients_;

  std::string path_;
  std::span<const CommandSpec> table_;
  std::map<std::string, Handler, std::less<>> handlers_;
  int fd_ = -1;
};

// Client side: sends one request, waits up to timeout_ms for the answer.
// Returns nullopt with `why` set when the daemon cannot be reached.
std::optional<nlohmann::json> call(const std::string &path, const nlohmann::json &request, int timeout_ms,
                                   std::string &why);

}  // namespace nvmove::ctl
