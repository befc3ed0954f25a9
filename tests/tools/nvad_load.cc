// nvad_load: a load generator for nvad (scripts/bench_nvad.sh, issue 18).
// Simulated NVEs, each with its own loopback address and socket, speak the
// real protocol over real UDP (signed with the key file, sequence numbers
// and timestamps per NVE, as nved's agent does) and acknowledge nvad's move
// notifications as nved would.
//
//   nvad_load --nvad 127.0.0.1 --port P --keys F --nve-base 127.0.1.1 --nves K
//             --vms N [--window W] [--evacuate M]
//
// 1. Registration: N VMs, VM i at NVE i % K, W requests in flight in all
//    (a sliding window). Per request: the time from send to nvad's reply.
// 2. Evacuation (--evacuate M, M <= N / K): the first M VMs of NVE 0 are
//    registered at NVE 1 at once (W in flight); NVE 0 acknowledges each move
//    notification on arrival. Per VM: the time from NVE 1's request to the
//    notification reaching NVE 0, which is when a real NVE installs the
//    redirect (nved does so on receipt, in microseconds).
//
// Prints RESULT lines (name value unit) and a summary; exit 0 when every
// request was accepted and every notification arrived, 1 otherwise, 2 on
// bad arguments. Requests unanswered after 3 s count as lost (no retries:
// a benchmark must show losses, not hide them).
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "control/base/clock.h"
#include "control/base/udp_socket.h"
#include "control/protocol/codec.h"
#include "control/protocol/keys.h"
#include "control/protocol/reply_builder.h"
#include "control/protocol/replay.h"
#include "control/protocol/vm_id_text.h"

using namespace nvmove;
using SteadyClock = std::chrono::steady_clock;

namespace {

int usage(const std::string &why) {
  std::fprintf(stderr,
               "nvad_load: %s\nusage: nvad_load --nvad A --port P --keys F --nve-base A --nves K --vms N "
               "[--window W] [--evacuate M]\n",
               why.c_str());
  return 2;
}

IpAddress nth_address(IpAddress base, uint32_t n) {
  uint32_t a = (uint32_t{base.bytes[0]} << 24) | (uint32_t{base.bytes[1]} << 16) | (uint32_t{base.bytes[2]} << 8) |
               base.bytes[3];
  a += n;
  for (int k = 0; k < 4; k++) base.bytes[k] = static_cast<uint8_t>(a >> (24 - 8 * k));
  return base;
}

struct Nve {
  IpAddress address;
  UdpSocket socket;
  uint16_t next_sequence = 0;
  uint64_t last_timestamp_ns = 0;
};

struct InFlight {
  uint64_t vm;
  SteadyClock::time_point sent;
};

double ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

class Load {
 public:
  Load(IpAddress nvad, uint16_t port, proto::KeyTable keys, const proto::AuthKey &key)
      : nvad_(nvad), port_(port), keys_(std::move(keys)), key_(key) {}

  std::vector<Nve> nves;

  proto::Message registration(uint64_t vm, size_t nve) {
    proto::Message m;
    m.vm_id = *proto::parse_vm_id("vm-" + std::to_string(vm));
    MacAddress mac{0x02, 0x10, 0, 0, 0, 0};
    for (int k = 5; k >= 2; k--) mac[k] = static_cast<uint8_t>(vm >> (8 * (5 - k)));
    m.vm_mac = mac;
    m.virtual_network = 1;
    m.lifetime = 150;  // 600 s: no refresh during the benchmark
    m.mobility = proto::MobilityMode::Hot;
    m.vm_addresses = {nth_address(*IpAddress::parse("10.0.0.0"), static_cast<uint32_t>(vm) + 1)};
    m.serving_nve.ipv4 = nves[nve].address;
    Nve &n = nves[nve];
    m.sequence = n.next_sequence;
    n.next_sequence = proto::seq_next(n.next_sequence);
    m.timestamp_ns = n.last_timestamp_ns = std::max(wall_clock_ns(), n.last_timestamp_ns + 1);
    return m;
  }

  bool send(size_t nve, const proto::Message &m) {
    auto wire = proto::encode(m, key_);
    if (!wire) return false;
    return !nves[nve].socket.send(wire.value(), nvad_, port_);
  }

  // Sends, for i in [0, count), the registration of VM pick(i).first at
  // NVE pick(i).second, at most `window` in flight; latencies of accepted
  // replies in `latencies_ms`. `on_other` sees every datagram that is not a
  // reply to one of these requests (move notifications).
  template <typename Pick, typename OnOther>
  void run(uint64_t count, size_t window, Pick pick, OnOther on_other, std::vector<double> &latencies_ms,
           uint64_t &refused, uint64_t &lost) {
    std::map<std::pair<size_t, uint16_t>, InFlight> in_flight;
    uint64_t next = 0;
    std::vector<uint8_t> buffer(2048);
    std::vector<pollfd> fds(nves.size());
    for (size_t i = 0; i < nves.size(); i++) fds[i] = {nves[i].socket.fd(), POLLIN, 0};
    auto last_progress = SteadyClock::now();
    while (next < count || !in_flight.empty()) {
      while (next < count && in_flight.size() < window) {
        const auto [vm, nve] = pick(next);
        const proto::Message m = registration(vm, nve);
        const auto now = SteadyClock::now();
        if (send(nve, m)) in_flight[{nve, m.sequence}] = {vm, now};
        else lost++;
        next++;
      }
      ::poll(fds.data(), fds.size(), 20);
      std::string error;
      bool progress = false;
      for (size_t i = 0; i < nves.size(); i++) {
        if (!(fds[i].revents & POLLIN)) continue;
        for (auto got = nves[i].socket.receive(buffer, error); got; got = nves[i].socket.receive(buffer, error)) {
          const auto now = SteadyClock::now();
          auto decoded = proto::decode(std::span(buffer).first(got->size));
          if (!decoded) continue;
          const proto::Message &m = decoded->message;
          auto it = m.is_reply() ? in_flight.find({i, m.sequence}) : in_flight.end();
          if (it == in_flight.end()) {
            on_other(i, m, now);
            continue;
          }
          if (proto::is_accepted(m.status)) latencies_ms.push_back(ms(now - it->second.sent));
          else refused++;
          in_flight.erase(it);
          progress = true;
        }
      }
      const auto now = SteadyClock::now();
      if (progress) last_progress = now;
      if (now - last_progress > std::chrono::seconds(3)) {  // the rest will not come
        lost += in_flight.size();
        in_flight.clear();
      }
    }
  }

  // A previous NVE's acknowledgement of a move notification, as nved sends it.
  void acknowledge(size_t nve, const proto::Message &notification) {
    send(nve, proto::make_reply(notification, proto::Status::Accepted, notification.lifetime));
  }

 private:
  IpAddress nvad_;
  uint16_t port_;
  proto::KeyTable keys_;
  proto::AuthKey key_;
};

void print_latency(const char *name, const std::vector<double> &v) {
  std::printf("RESULT %s_p50 %.3f ms\nRESULT %s_p99 %.3f ms\nRESULT %s_max %.3f ms\n", name, percentile(v, 0.5), name,
              percentile(v, 0.99), name, v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
}

}  // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> opt = {{"port", "61434"}, {"window", "256"}, {"evacuate", "0"}, {"nves", "8"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return usage("unexpected '" + k + "'");
    opt[k.substr(2)] = argv[i + 1];
  }
  if (argc % 2 == 0) return usage("every option takes a value");
  for (const char *k : {"nvad", "keys", "nve-base", "vms"})
    if (!opt.contains(k)) return usage(std::string("--") + k + " is required");
  const auto nvad = IpAddress::parse(opt["nvad"]);
  const auto base = IpAddress::parse(opt["nve-base"]);
  const auto port = parse_decimal(opt["port"], 65535);
  const auto nve_count = parse_decimal(opt["nves"], 254);
  const auto vms = parse_decimal(opt["vms"], 10'000'000);
  const auto window = parse_decimal(opt["window"], 4096);
  const auto evacuate = parse_decimal(opt["evacuate"], 1'000'000);
  if (!nvad || !base || !base->is_v4() || !port || !nve_count || *nve_count < 2 || !vms || !window || !*window ||
      !evacuate)
    return usage("bad value: --nve-base an IPv4 address, --nves 2..254, --window 1..4096");
  if (*evacuate > *vms / *nve_count) return usage("--evacuate M needs M <= vms / nves (VMs of NVE 0)");
  auto keys = proto::load_key_file(opt["keys"]);
  if (!keys) return usage(keys.error().message);
  const proto::AuthKey *key = keys->sending_key(*nvad);
  if (!key) return usage("no key for " + nvad->to_string() + " in " + opt["keys"]);
  Load load(*nvad, static_cast<uint16_t>(*port), keys.value(), *key);
  for (uint32_t i = 0; i < *nve_count; i++) {
    std::string error;
    const IpAddress address = nth_address(*base, i);
    auto socket = UdpSocket::open(address, 0, true, error);
    if (!socket) return usage(error);
    int granted = 0;
    socket->set_receive_buffer(4 << 20, granted);
    load.nves.push_back({address, std::move(*socket), 0, 0});
  }
  const size_t k = *nve_count;
  bool all_ok = true;

  // 1. Registration.
  std::vector<double> latencies;
  uint64_t refused = 0, lost = 0, stray = 0;
  const auto t0 = SteadyClock::now();
  load.run(*vms, *window, [k](uint64_t i) { return std::pair<uint64_t, size_t>{i, i % k}; },
           [&stray](size_t, const proto::Message &, SteadyClock::time_point) { stray++; }, latencies, refused, lost);
  const double took = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::printf("# registration: %zu accepted, %llu refused, %llu lost of %llu from %zu NVEs in %.2f s, window %llu\n",
              latencies.size(), (unsigned long long)refused, (unsigned long long)lost, (unsigned long long)*vms, k,
              took, (unsigned long long)*window);
  if (stray) std::printf("# %llu datagrams that answered nothing sent\n", (unsigned long long)stray);
  std::printf("RESULT registrations_per_s %.0f 1/s\n", double(latencies.size()) / (took > 0 ? took : 1));
  print_latency("registration", latencies);
  all_ok = all_ok && refused == 0 && lost == 0;

  if (*evacuate) {
    // 2. Evacuation of NVE 0: VM j * k (j < M) registered at NVE 1.
    std::map<uint64_t, SteadyClock::time_point> sent_at;  // by VM
    std::vector<double> redirect_ms, move_ms;
    uint64_t moves_refused = 0, moves_lost = 0, notifications = 0;
    const uint64_t m = *evacuate;
    const auto e0 = SteadyClock::now();
    auto last_notification = e0;
    // Time of each move's send, kept by VM from the request's VM-ID.
    auto on_notification = [&](size_t nve, const proto::Message &msg, SteadyClock::time_point now) {
      if (nve != 0 || !msg.is_request() || !msg.notification) return;
      load.acknowledge(0, msg);
      if (!msg.vm_id) return;
      const std::string id = proto::vm_id_text(*msg.vm_id);
      const auto vm = parse_decimal(std::string_view(id).substr(id.find('-') + 1), UINT64_MAX);
      auto it = vm ? sent_at.find(*vm) : sent_at.end();
      if (it == sent_at.end()) return;  // a retransmission, already counted
      redirect_ms.push_back(ms(now - it->second));
      sent_at.erase(it);
      notifications++;
      last_notification = now;
    };
    // The send time is taken when the request is built (registration()).
    load.run(m, *window,
             [&](uint64_t j) {
               sent_at[j * k] = SteadyClock::now();
               return std::pair<uint64_t, size_t>{j * k, 1};
             },
             on_notification, move_ms, moves_refused, moves_lost);
    // Notifications still on their way after the last reply.
    std::vector<uint8_t> buffer(2048);
    const auto deadline = SteadyClock::now() + std::chrono::seconds(3);
    while (!sent_at.empty() && SteadyClock::now() < deadline) {
      pollfd p{load.nves[0].socket.fd(), POLLIN, 0};
      ::poll(&p, 1, 20);
      std::string error;
      for (auto got = load.nves[0].socket.receive(buffer, error); got; got = load.nves[0].socket.receive(buffer, error))
        if (auto decoded = proto::decode(std::span(buffer).first(got->size)))
          on_notification(0, decoded->message, SteadyClock::now());
    }
    const double evacuation_s = std::chrono::duration<double>(last_notification - e0).count();
    std::printf("# evacuation: %llu VMs moved from %s to %s: %zu moves accepted, %llu refused, %llu lost; "
                "%llu notifications reached %s, %zu missing; the last %.3f s after the first request\n",
                (unsigned long long)m, load.nves[0].address.to_string().c_str(),
                load.nves[1].address.to_string().c_str(), move_ms.size(), (unsigned long long)moves_refused,
                (unsigned long long)moves_lost, (unsigned long long)notifications,
                load.nves[0].address.to_string().c_str(), sent_at.size(), evacuation_s);
    std::printf("RESULT evacuation_complete %.3f ms\n", evacuation_s * 1000);
    std::printf("RESULT notifications_per_s %.0f 1/s\n", double(notifications) / (evacuation_s > 0 ? evacuation_s : 1));
    print_latency("move", move_ms);
    print_latency("redirect", redirect_ms);
    all_ok = all_ok && moves_refused == 0 && moves_lost == 0 && sent_at.empty();
  }
  return all_ok ? 0 : 1;
}
