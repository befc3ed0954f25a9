// nvmove-exabgp: the process ExaBGP runs for nvad's route export (seed 003
// section 7.3; control/nvad/exabgp_export.h has the design and the line
// protocol). It connects to nvad's export socket and relays:
//   nvad -> stdout (ExaBGP's command stream): announce / withdraw commands;
//   stdin (ExaBGP's answers) -> nvad: "done" / "error", one per command.
// It remembers what it announced, so that when nvad (re)connects and sends
// its whole current set between "#sync begin" and "#sync end", whatever is
// no longer in it is withdrawn. While nvad is away it keeps reconnecting and
// ExaBGP keeps announcing. It exits when ExaBGP closes its standard input
// (ExaBGP stopped; a restarted ExaBGP starts a new bridge).
//
//   process nvmove { run /usr/bin/nvmove-exabgp --socket /run/nvmove/nvad-export.sock; encoder text; }
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>

namespace {

void log(const std::string &s) { std::fprintf(stderr, "nvmove-exabgp: %s\n", s.c_str()); }

int connect_to(const std::string &path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return -1;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// To nvad: a few bytes (acknowledgements) at a time; a full socket buffer
// means nvad is not reading, and waiting for it is acceptable here.
bool send_all(int fd, const std::string &s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// "announce route 10.0.0.5/32 next-hop ..." -> {"announce", "10.0.0.5/32"}
bool route_command(const std::string &line, std::string &verb, std::string &prefix) {
  char v[16], r[16], p[64];
  if (std::sscanf(line.c_str(), "%15s %15s %63s", v, r, p) != 3 || std::string(r) != "route") return false;
  verb = v;
  prefix = p;
  return verb == "announce" || verb == "withdraw";
}

// "announce route P next-hop N origin igp community [...]" -> "withdraw route
// P next-hop N": a withdrawal names the route, not its attributes.
std::string withdraw_of(const std::string &announce) {
  char p[64], nh[64];
  if (std::sscanf(announce.c_str(), "announce route %63s next-hop %63s", p, nh) == 2)
    return std::string("withdraw route ") + p + " next-hop " + nh;
  return "withdraw" + announce.substr(std::strlen("announce"));
}

struct Bridge {
  std::string socket_path;
  int nvad = -1;
  std::string from_nvad, from_exabgp;
  std::map<std::string, std::string> announced;  // prefix -> its announce command
  bool syncing = false;
  std::set<std::string> synced;
  // Who sent each command ExaBGP has not answered yet: true = nvad on the
  // current connection (its answer goes back to nvad), false = this bridge
  // (a withdraw after a sync) or an earlier connection of nvad.
  std::deque<bool> awaiting;
  bool acks_lost = false;  // more unanswered than kept: answers no longer forwarded
  // Commands for ExaBGP not yet taken: stdout is non-blocking, so that a
  // large sync never stops this process from reading ExaBGP's answers (and
  // ExaBGP, blocked writing them, from reading its commands).
  std::string to_stdout;

  void to_exabgp(const std::string &command, bool from_nvad_side) {
    to_stdout += command + "\n";
    if (acks_lost) return;
    awaiting.push_back(from_nvad_side);
    if (awaiting.size() > 1000000) {  // ExaBGP does not acknowledge (exabgp.api.ack false)
      awaiting.clear();
      acks_lost = true;
      log("ExaBGP answers no commands (exabgp.api.ack false?): nvad's acknowledged counter stops");
    }
  }

  // False when ExaBGP is gone.
  bool flush_stdout() {
    while (!to_stdout.empty()) {
      const ssize_t n = ::write(STDOUT_FILENO, to_stdout.data(), to_stdout.size());
      if (n > 0) {
        to_stdout.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
  }

  void on_nvad_line(const std::string &line) {
    if (line == "#sync begin") {
      syncing = true;
      synced.clear();
      return;
    }
    if (line == "#sync end") {
      syncing = false;
      size_t stale = 0;
      for (auto it = announced.begin(); it != announced.end();) {
        if (synced.contains(it->first)) {
          ++it;
          continue;
        }
        to_exabgp(withdraw_of(it->second), false);
        it = announced.erase(it);
        stale++;
      }
      log("synchronised with nvad: " + std::to_string(announced.size()) + " route(s), " + std::to_string(stale) +
          " withdrawn");
      return;
    }
    std::string verb, prefix;
    if (route_command(line, verb, prefix)) {
      if (verb == "announce") {
        announced[prefix] = line;
        if (syncing) synced.insert(prefix);
      } else {
        announced.erase(prefix);
      }
    }
    to_exabgp(line, true);
  }

  void on_exabgp_line(const std::string &line) {
    if (line != "done" && line.rfind("error", 0) != 0) return;  // not an answer
    if (awaiting.empty()) return;
    const bool nvads = awaiting.front();
    awaiting.pop_front();
    if (nvads && nvad >= 0 && !send_all(nvad, line + "\n")) disconnect();
  }

  void disconnect() {
    if (nvad >= 0) ::close(nvad);
    nvad = -1;
    from_nvad.clear();
    syncing = false;
    for (auto &a : awaiting) a = false;  // answers to that connection's commands go nowhere
    log("nvad's export socket closed: ExaBGP keeps the " + std::to_string(announced.size()) +
        " route(s) announced; reconnecting");
  }

  static void lines(std::string &buf, const char *data, size_t n, auto &&each) {
    buf.append(data, n);
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) each(buf.substr(0, nl));
  }

  int run() {
    auto retry = std::chrono::milliseconds(100);
    auto next_try = std::chrono::steady_clock::now();
    bool said_waiting = false;
    for (;;) {
      if (nvad < 0 && std::chrono::steady_clock::now() >= next_try) {
        nvad = connect_to(socket_path);
        if (nvad >= 0) {
          log("connected to nvad at " + socket_path);
          retry = std::chrono::milliseconds(100);
          said_waiting = false;
        } else {
          if (!said_waiting) log("waiting for nvad's export socket " + socket_path + ": " + std::strerror(errno));
          said_waiting = true;
          next_try = std::chrono::steady_clock::now() + retry;
          retry = std::min(retry * 2, std::chrono::milliseconds(2000));
        }
      }
      pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0},
                       {STDOUT_FILENO, static_cast<short>(to_stdout.empty() ? 0 : POLLOUT), 0},
                       {nvad, POLLIN, 0}};
      const int ready = ::poll(fds, nvad >= 0 ? 3 : 2, nvad >= 0 ? -1 : 100);
      if (ready < 0 && errno != EINTR) return 1;
      if ((fds[1].revents & (POLLERR | POLLHUP)) || !flush_stdout()) {
        log("ExaBGP closed its command stream: exiting");
        return 0;
      }
      if (fds[0].revents & POLLNVAL) return 1;
      char buf[65536];
      if (fds[0].revents & (POLLIN | POLLHUP)) {
        const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0) {
          log("ExaBGP closed its end: exiting");
          return 0;
        }
        if (n > 0) lines(from_exabgp, buf, static_cast<size_t>(n), [&](const std::string &l) { on_exabgp_line(l); });
      }
      if (nvad >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t n = ::read(nvad, buf, sizeof buf);
        if (n <= 0) disconnect();
        else lines(from_nvad, buf, static_cast<size_t>(n), [&](const std::string &l) { on_nvad_line(l); });
      }
      if (!flush_stdout()) {
        log("ExaBGP closed its command stream: exiting");
        return 0;
      }
    }
  }
};

}  // namespace

int main(int argc, char **argv) {
  // A peer gone is an error return, never a signal that ends the bridge
  // (ExaBGP would start a new one that knows nothing it announced).
  std::signal(SIGPIPE, SIG_IGN);
  ::fcntl(STDOUT_FILENO, F_SETFL, ::fcntl(STDOUT_FILENO, F_GETFL) | O_NONBLOCK);
  Bridge b;
  b.socket_path = "/run/nvmove/nvad-export.sock";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) b.socket_path = argv[++i];
    else if (a == "-h" || a == "--help") {
      std::printf("usage: nvmove-exabgp [--socket PATH]   (run by ExaBGP as a process; see docs/operations.md)\n");
      return 0;
    } else {
      std::fprintf(stderr, "nvmove-exabgp: unknown argument '%s' (usage: nvmove-exabgp [--socket PATH])\n", a.c_str());
      return 2;
    }
  }
  return b.run();
}
