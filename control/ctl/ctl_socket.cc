#include "control/ctl/ctl_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace nvmove::ctl {

namespace {
bool make_addr(const std::string &path, sockaddr_un &a) {
  std::memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return false;
  std::memcpy(a.sun_path, path.c_str(), path.size());
  return true;
}

// Reads until newline/EOF or the deadline. False on timeout or error.
// The answer line. timeout_ms bounds the wait for the first byte and every
// pause after it, not the whole answer: a listing of millions of routes
// streams for as long as it needs while bytes keep coming.
bool read_line(int fd, std::string &out, int timeout_ms) {
  char buf[65536];
  size_t scanned = 0;  // bytes already searched for the newline
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return !out.empty();
    out.append(buf, static_cast<size_t>(n));
    const auto nl = out.find('\n', scanned);
    if (nl != std::string::npos) {
      out.resize(nl);
      return true;
    }
    scanned = out.size();
    if (out.size() > kMaxAnswerBytes) return false;
  }
}

// Blocking send for the client side (nvectl). MSG_NOSIGNAL: a peer that went
// away is an error to report, never a SIGPIPE.
bool write_all(int fd, const std::string &s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) <= 0) return false;
      continue;
    }
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

uint64_t steady_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

// format: "text" or "json" leaves out the other form (a large listing is
// then serialised, sent and parsed once); absent: both, as before.
nlohmann::json to_json(Reply &&r, const std::string &format) {
  if (!r.ok) return {{"ok", false}, {"error", r.error}, {"usage", r.usage_error}};
  if (format == "text") return {{"ok", true}, {"text", r.text_form()}};
  if (format == "json") return {{"ok", true}, {"data", std::move(r).data_form()}};
  std::string text = r.text_form();
  return {{"ok", true}, {"text", std::move(text)}, {"data", std::move(r).data_form()}};
}
}  // namespace

std::string Reply::text_form() const {
  if (const auto *t = std::get_if<Table>(&body); t && page_next) {
    std::string text = t->text();
    if (!page_heading) text.erase(0, text.find('\n') + 1);
    return text + "next: " + (page_next->is_null() ? std::string("-") : page_next->dump()) + "\n";
  }
  if (const auto *t = std::get_if<Table>(&body)) return t->text();
  if (const auto *rec = std::get_if<Record>(&body)) return rec->text();
  return text;
}

nlohmann::json Reply::data_form() const & {
  if (const auto *t = std::get_if<Table>(&body); t && page_next) return {{"rows", t->json()}, {"next", *page_next}};
  if (const auto *t = std::get_if<Table>(&body)) return t->json();
  if (const auto *rec = std::get_if<Record>(&body)) return rec->json();
  return data;
}

nlohmann::json Reply::data_form() && {
  if (auto *t = std::get_if<Table>(&body); t && page_next) return {{"rows", std::move(*t).json()}, {"next", *page_next}};
  if (auto *t = std::get_if<Table>(&body)) return std::move(*t).json();
  if (const auto *rec = std::get_if<Record>(&body)) return rec->json();
  return std::move(data);
}

std::string default_nved_socket(const std::string &file_prefix) {
  return "/var/run/dpdk/" + (file_prefix.empty() ? std::string("rte") : file_prefix) + "/nved.sock";
}

CtlServer::CtlServer(std::string path, std::span<const CommandSpec> table) : path_(std::move(path)), table_(table) {}

CtlServer::~CtlServer() {
  for (auto &c : clients_) ::close(c.fd);
  if (fd_ >= 0) ::close(fd_);
  // Only the socket file this server bound: a second instance that found the
  // path in use must leave the live daemon's socket alone.
  if (bound_) ::unlink(path_.c_str());
}

int listen_unix(const std::string &path, const std::string &what) {
  sockaddr_un a;
  if (!make_addr(path, a)) throw std::runtime_error(what + " path too long: " + path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(what + ": " + std::string(std::strerror(errno)));
  // A socket file left by a crashed instance: remove it only if nobody answers.
  const bool live = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  ::close(fd);
  if (live)
    throw std::runtime_error(what + " " + path +
                             " is in use by another process (is another instance running? stop it, or give this one "
                             "another socket)");
  ::unlink(path.c_str());
  fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const mode_t old = ::umask(0117);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  ::umask(old);
  if (rc != 0 || ::listen(fd, 16) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error(what + " " + path + ": " + why);
  }
  return fd;
}

void CtlServer::open() {
  fd_ = listen_unix(path_, "control socket");
  bound_ = true;
}

void CtlServer::on(std::string_view words, Handler h) { handlers_.emplace(std::string(words), std::move(h)); }

std::vector<CommandSpec> CtlServer::served() const {
  std::vector<CommandSpec> out;
  for (const CommandSpec &c : table_)
    if (handlers_.count(c.words)) out.push_back(c);
  return out;
}

int CtlServer::poll() {
  // Never blocks the control thread: clients are read as their bytes come and
  // answers written as the client takes them, over as many loop passes as it
  // takes. A client that sends no request line within 2 s, or stops reading
  // its answer for kStalledWriteMs, is dropped; one that goes away is dropped
  // at once (MSG_NOSIGNAL: EPIPE, never a SIGPIPE that kills the daemon).
  const uint64_t now = steady_ms();
  for (;;) {
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) break;
    if (clients_.size() >= kMaxClients) {  // a flood of idle connections: refuse
      ::close(c);
      stats_.refused++;
      continue;
    }
    clients_.push_back({c, {}, {}, 0, now + kRequestTimeoutMs});
  }
  int served = 0;
  for (size_t i = 0; i < clients_.size();) {
    if (serve(clients_[i], now)) {
      i++;
      continue;
    }
    ::close(clients_[i].fd);
    clients_.erase(clients_.begin() + static_cast<long>(i));
    served++;
  }
  return served;
}

bool CtlServer::serve(Client &c, uint64_t now_ms) {
  if (!c.answered) {
    if (!read_request(c, now_ms)) return true;  // more to come
    c.out = answer(c) + "\n";
    c.answered = true;
    c.deadline_ms = now_ms + kStalledWriteMs;
  }
  return flush(c, now_ms);
}

bool CtlServer::read_request(Client &c, uint64_t now_ms) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      if (c.in.size() > kMaxRequestBytes) return true;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (c.in.find('\n') != std::string::npos) return true;
      c.timed_out = now_ms >= c.deadline_ms;
      return c.timed_out;
    }
    return true;  // EOF or error: answer what came (the answer may go nowhere)
  }
}

std::string CtlServer::answer(const Client &c) {
  Reply r;
  std::string format;
  const auto nl = c.in.find('\n');
  if (c.in.size() > kMaxRequestBytes) {
    r = Reply::fail("request too large");
  } else if (nl == std::string::npos && c.timed_out) {
    r = Reply::fail("no request line within 2 s");
  } else {
    nlohmann::json req = nlohmann::json::parse(c.in.substr(0, nl), nullptr, false);
    if (!req.is_discarded() && req.is_object() && req.contains("format") && req["format"].is_string())
      format = req["format"].get<std::string>();
    try {
      r = req.is_discarded() ? Reply::fail("request is not JSON", true) : dispatch(req);
    } catch (const std::exception &e) {  // a client must never take the daemon down
      r = Reply::fail(std::string("bad request: ") + e.what(), true);
    }
  }
  // Replace, never throw, on text that is not UTF-8 (a config comment, a
  // port name): a reply must not be able to stop the daemon.
  try {
    return to_json(std::move(r), format).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception &e) {  // a rendering bug answers an error, never ends the daemon
    return to_json(Reply::fail(std::string("cannot render the answer: ") + e.what()), format).dump();
  }
}

bool CtlServer::flush(Client &c, uint64_t now_ms) {
  while (c.out_off < c.out.size()) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      c.deadline_ms = now_ms + kStalledWriteMs;  // progress: the client is reading
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && now_ms < c.deadline_ms) return true;  // the rest on a later pass
    stats_.abandoned++;  // went away (EPIPE, ECONNRESET) or stopped reading
    return false;
  }
  stats_.answered++;
  return false;
}

Reply CtlServer::dispatch(const nlohmann::json &req) {
  if (!req.is_object() || !req.contains("command") || !req["command"].is_string())
    return Reply::fail("request has no \"command\" string", true);
  std::vector<std::string> argv;
  {
    std::string w;
    for (char ch : req["command"].get<std::string>()) {
      if (ch == ' ') {
        if (!w.empty()) argv.push_back(w);
        w.clear();
      } else {
        w += ch;
      }
    }
    if (!w.empty()) argv.push_back(w);
  }
  if (req.contains("args")) {
    if (!req["args"].is_array()) return Reply::fail("\"args\" must be a list of strings", true);
    for (const auto &a : req["args"]) {
      if (!a.is_string()) return Reply::fail("\"args\" must be a list of strings", true);
      argv.push_back(a.get<std::string>());
    }
  }
  size_t nwords = 0;
  const CommandSpec *spec = match_command(table_, argv, nwords);
  if (!spec) return Reply::fail("unknown command '" + req["command"].get<std::string>() + "' (try: help)", true);
  if (req.contains("read_only") && !req["read_only"].is_boolean())
    return Reply::fail("\"read_only\" must be true or false", true);
  if (spec->mutating && req.value("read_only", false))
    return Reply::fail("'" + std::string(spec->words) + "' changes state: refused in read-only mode");
  auto it = handlers_.find(spec->words);
  if (it == handlers_.end()) return Reply::fail("'" + std::string(spec->words) + "' is not available in this daemon");
  const std::vector<std::string> args(argv.begin() + static_cast<long>(nwords), argv.end());
  try {
    Reply r = it->second(args);
    if (r.wants_usage_line) r.error = usage_line(*spec) + (r.error.empty() ? "" : ": " + r.error);
    return r;
  } catch (const std::invalid_argument &e) {
    return Reply::fail(e.what(), true);  // a malformed argument: usage error
  } catch (const std::exception &e) {
    return Reply::fail(e.what());
  }
}

std::optional<nlohmann::json> call(const std::string &path, const nlohmann::json &request, int timeout_ms,
                                   std::string &why) {
  sockaddr_un a;
  if (!make_addr(path, a)) {
    why = "socket path too long: " + path;
    return std::nullopt;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
    why = "cannot connect to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  std::string line;
  const bool ok = write_all(fd, request.dump() + "\n") && read_line(fd, line, timeout_ms);
  ::close(fd);
  if (!ok) {
    why = "no answer from " + path + " (nothing for " + std::to_string(timeout_ms) + " ms, or over " +
          std::to_string(kMaxAnswerBytes >> 30) + " GiB)";
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) {
    why = "daemon answered something that is not JSON";
    return std::nullopt;
  }
  return j;
}

}  // namespace nvmove::ctl
