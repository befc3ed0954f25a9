// The lifetime rule of every redirect nvad hands an NVE (seed 003 section 5,
// docs/protocol.md 7): it lives while inbound traffic for the VM arrives. At
// the end of its lifetime a busy one is renewed for another lifetime; one
// nobody used for the idle period ends, whatever its lifetime. Shared by the
// binding update list (tunnels) and a default router's host routes.
#pragma once

#include <cstdint>

namespace nvmove::agent {

struct ActivityLifetime {
  uint64_t created_ms = 0;
  uint64_t expires_ms = 0;
  uint64_t lifetime_ms = 0;  // as nvad granted it: each renewal adds this much
  uint64_t last_activity_ms = 0;
  uint64_t last_hits = 0;

  static ActivityLifetime start(uint64_t now_ms, uint64_t lifetime_ms, uint64_t hits) {
    return {now_ms, now_ms + lifetime_ms, lifetime_ms, now_ms, hits};
  }

  enum class Verdict { Keep, Renewed, Ended };
  // `hits`: the routes' hit counters now (any change is activity).
  Verdict observe(uint64_t hits, uint64_t now_ms, uint64_t idle_ms) {
    if (hits != last_hits) {
      last_hits = hits;
      last_activity_ms = now_ms;
    }
    const bool idle = now_ms - last_activity_ms >= idle_ms;
    if (idle) return Verdict::Ended;
    if (now_ms < expires_ms) return Verdict::Keep;
    expires_ms = now_ms + lifetime_ms;
    return Verdict::Renewed;
  }
};

}  // namespace nvmove::agent
