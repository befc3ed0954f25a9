#include "control/base/daemon_signals.h"

#include <atomic>
#include <csignal>

namespace nvmove {
namespace {

std::atomic<bool> g_hangup{false};
void on_hangup(int) { g_hangup.store(true, std::memory_order_release); }

void set_handler(int sig, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(sig, &action, nullptr);
}

}  // namespace

void install_daemon_signals(void (*on_stop)(int)) {
  set_handler(SIGTERM, on_stop);
  set_handler(SIGINT, on_stop);
  set_handler(SIGHUP, on_hangup);
  std::signal(SIGPIPE, SIG_IGN);
}

bool take_hangup() { return g_hangup.exchange(false, std::memory_order_acq_rel); }

}  // namespace nvmove
