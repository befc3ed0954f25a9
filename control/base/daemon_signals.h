// The signals of a long-running daemon (nved, nvad), set up once:
//  - SIGTERM and SIGINT call `on_stop` (async-signal-safe code only);
//  - SIGHUP must not kill it (its default action): it is noted, and the
//    daemon's loop asks take_hangup() and logs or reloads;
//  - SIGPIPE is ignored: a control or telemetry client that goes away
//    mid-answer is an EPIPE on that socket, not a reason to stop.
// Call before starting any thread, so every thread inherits the set-up.
#pragma once

namespace nvmove {

void install_daemon_signals(void (*on_stop)(int));

// True once per SIGHUP received since the last call.
bool take_hangup();

}  // namespace nvmove
