// The control socket between nvectl and the daemons: a Unix stream socket,
// one JSON request line in, one JSON response line out, then close.
//   request:  {"command": "show routes", "args": ["vn", "0"], "read_only": false, "format": "text"}
//   response: {"ok": true, "text": "...", "data": {...}}
//             ("format": "text" or "json" keeps only that member; without it, both)
//         or  {"ok": false, "error": "...", "usage": true|false}
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>
#include <cstdint>

#include "control/ctl/command_table.h"
#include "control/ctl/table.h"

namespace nvmove::ctl {

inline constexpr size_t kMaxRequestBytes = 64 * 1024;
// The largest answer a client reads (a few million routes as text or JSON).
inline constexpr size_t kMaxAnswerBytes = size_t{8} << 30;

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
  // The arguments were wrong: the error becomes the command's usage line
  // from the command table ("usage: WORDS ARGS"), then ": detail" if given.
  // Handlers never spell their own usage.
  static Reply bad_usage(std::string detail = "") {
    Reply r = fail(std::move(detail), true);
    r.wants_usage_line = true;
    return r;
  }
  bool wants_usage_line = false;

  // A listing or named values (control/ctl/table.h): the one renderer makes
  // the text and the JSON from it, each only when a client asks for it.
  std::variant<std::monostate, Table, Record> body;
  static Reply of(Table t) {
    Reply r;
    r.body = std::move(t);
    return r;
  }
  static Reply of(Record rec) {
    Reply r;
    r.body = std::move(rec);
    return r;
  }
  // One page of a listing fetched in pages (nvectl's pager): JSON
  // {"rows": [...], "next": CURSOR | null}; text the rows (the heading on the
  // first page only), then a last line "next: CURSOR" (JSON) or "next: -".
  // Each form is rendered only when a client asks for it.
  static Reply page(Table t, nlohmann::json next, bool first_page) {
    Reply r;
    r.body = std::move(t);
    r.page_next = std::move(next);
    r.page_heading = first_page;
    return r;
  }
  std::optional<nlohmann::json> page_next;
  bool page_heading = true;
  // What the client reads: the body rendered, else `text` / `data`.
  std::string text_form() const;
  nlohmann::json data_form() const &;
  nlohmann::json data_form() &&;  // moves a listing's cells into the JSON
};

using Handler = std::function<Reply(const std::vector<std::string> &args)>;

// Listens on a UNIX stream socket at `path` (mode 0660, non-blocking): a
// file a crashed process left is replaced, a live one refused. Returns the
// listening fd; throws std::runtime_error naming `what` and the reason.
int listen_unix(const std::string &path, const std::string &what);

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
  // The table's commands this server has a handler for (a daemon that
  // serves part of a table: its help).
  std::vector<CommandSpec> served() const;
  // Accepts and answers pending clients; returns how many were served.
  int poll();
  // Answers one request (also used by tests and by DPDK telemetry).
  Reply dispatch(const nlohmann::json &request);
  const std::string &path() const { return path_; }
  // Clients answered in full, given up (went away or stopped reading), and
  // refused (too many at once).
  struct Stats {
    uint64_t answered = 0, abandoned = 0, refused = 0;
  };
  const Stats &stats() const { return stats_; }
  int fd() const { return fd_; }

 private:
  static constexpr size_t kMaxClients = 64;
  static constexpr uint64_t kRequestTimeoutMs = 2000;
  static constexpr uint64_t kStalledWriteMs = 10000;

  struct Client {
    int fd;
    std::string in;   // request bytes so far
    std::string out;  // the answer, once dispatched
    size_t out_off = 0;
    uint64_t deadline_ms;  // request line, then (after each write progress) the rest of the answer
    bool timed_out = false;  // no request line before the deadline
    bool answered = false;
  };
  // False when the client is done (answered or given up).
  bool serve(Client &c, uint64_t now_ms);
  // True once the request line, EOF or the deadline is there.
  bool read_request(Client &c, uint64_t now_ms);
  std::string answer(const Client &c);
  // Writes what the socket takes now; false when done or given up.
  bool flush(Client &c, uint64_t now_ms);

  std::vector<Client> clients_;

  std::string path_;
  std::span<const CommandSpec> table_;
  std::map<std::string, Handler, std::less<>> handlers_;
  int fd_ = -1;
  bool bound_ = false;  // this server created the socket file (and removes it)
  Stats stats_;
};

// Client side: sends one request and reads the answer; timeout_ms bounds the
// wait for its first byte and each pause in it, not its whole length.
// Returns nullopt with `why` set when the daemon cannot be reached.
std::optional<nlohmann::json> call(const std::string &path, const nlohmann::json &request, int timeout_ms,
                                   std::string &why);

}  // namespace nvmove::ctl
