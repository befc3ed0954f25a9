// nve_register: one registration (or de-registration) with nvad, as an NVE's
// agent sends it, for tests that need nvad's bindings without running nveds
// (the BGP export end-to-end test). Resynchronises on 135 and retransmits
// up to 5 times. Prints "status N (name) lifetime L" and exits 0 when nvad
// accepted, 1 when it refused, 2 on bad arguments, 3 when nothing answered.
//
//   nve_register --nvad 127.0.0.1 --port 61434 --from 127.0.0.11 --keys F
//                --vm vm1 --vn 0 --mac 02:00:00:00:01:01 --addr 10.0.0.5[,fd00::5]
//                --endpoint 192.0.2.1[,2001:db8::1] [--lifetime 150] [--mode hot|warm|cold]
//                [--seq-file F]
//   --flags N|NR: set the Notification (and Router) flags, as only nvad may:
//   to send a forged notification to an nved (whose address goes in --nvad).
//   --count N [--window W]: N VMs instead of one (load for benchmarks):
//   VM-IDs VM-0..VM-(N-1), MACs and IPv4 addresses counted up from --mac and
//   --addr, W requests in flight (default 64); prints how many nvad accepted
//   and how long it took; exit 0 if all were.
#include <poll.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "control/base/clock.h"
#include "control/base/udp_socket.h"
#include "control/protocol/codec.h"
#include "control/protocol/keys.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"
#include "control/protocol/replay.h"
#include "control/protocol/vm_id_text.h"

using namespace nvmove;

namespace {

int usage(const std::string &why) {
  std::fprintf(stderr, "nve_register: %s\n", why.c_str());
  return 2;
}

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> opt = {{"port", "61434"}, {"lifetime", "150"}, {"mode", "hot"}, {"vn", "0"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) return usage("unexpected '" + k + "'");
    opt[k.substr(2)] = argv[i + 1];
  }
  for (const char *k : {"nvad", "from", "keys", "vm", "mac", "addr", "endpoint"})
    if (!opt.contains(k)) return usage(std::string("--") + k + " is required");
  auto nvad = IpAddress::parse(opt["nvad"]);
  auto from = IpAddress::parse(opt["from"]);
  auto keys = proto::load_key_file(opt["keys"]);
  auto vm = proto::parse_vm_id(opt["vm"]);
  auto mac = parse_mac(opt["mac"]);
  if (!nvad || !from || !vm || !mac) return usage("a bad --nvad, --from, --vm or --mac");
  if (!keys) return usage(keys.error().message);
  const proto::AuthKey *key = keys->sending_key(*nvad);
  if (!key) return usage("no key for " + nvad->to_string() + " in " + opt["keys"]);

  const auto vn = parse_decimal(opt["vn"], 0xffffff);
  const auto lifetime = parse_decimal(opt["lifetime"], 0xffff);
  const auto port = parse_decimal(opt["port"], 65535);
  if (!vn || !lifetime || !port || *port == 0) return usage("--vn 0..16777215, --lifetime 0..65535, --port 1..65535");
  proto::Message m;
  m.vm_id = *vm;
  m.vm_mac = *mac;
  m.virtual_network = static_cast<uint32_t>(*vn);
  m.lifetime = static_cast<uint16_t>(*lifetime);
  m.mobility = opt["mode"] == "cold" ? proto::MobilityMode::Cold
               : opt["mode"] == "warm" ? proto::MobilityMode::Warm
                                       : proto::MobilityMode::Hot;
  if (opt.contains("flags")) {
    if (opt["flags"] != "N" && opt["flags"] != "NR") return usage("--flags N or NR");
    m.notification = true;
    m.router = opt["flags"] == "NR";
  }
  for (const auto &a : split(opt["addr"])) {
    auto ip = IpAddress::parse(a);
    if (!ip) return usage("bad --addr '" + a + "'");
    m.vm_addresses.push_back(*ip);
  }
  for (const auto &e : split(opt["endpoint"])) {
    auto ip = IpAddress::parse(e);
    if (!ip) return usage("bad --endpoint '" + e + "'");
    (ip->is_v4() ? m.serving_nve.ipv4 : m.serving_nve.ipv6) = *ip;
  }
  std::string error;
  auto socket = UdpSocket::open(*from, 0, true, error);
  if (!socket) return usage(error);
  // --seq-file: where this NVE's next sequence number is kept between runs,
  // as an agent keeps it in memory (else a random start, resynchronised on
  // 135: one more round trip).
  m.sequence = static_cast<uint16_t>(std::random_device{}());
  const std::string seq_file = opt.contains("seq-file") ? opt["seq-file"] : "";
  if (!seq_file.empty())
    if (std::FILE *f = std::fopen(seq_file.c_str(), "r")) {
      unsigned v = 0;
      if (std::fscanf(f, "%u", &v) == 1) m.sequence = static_cast<uint16_t>(v);
      std::fclose(f);
    }
  std::vector<uint8_t> buffer(2048);
  if (opt.contains("count")) {
    const auto count = parse_decimal(opt["count"], 10'000'000);
    const auto window = parse_decimal(opt.contains("window") ? opt["window"] : "64", 4096);
    if (!count || !window || *window == 0 || m.vm_addresses.size() != 1 || !m.vm_addresses[0].is_v4())
      return usage("--count 0..10000000, --window 1..4096, and one IPv4 --addr to count up from");
    const IpAddress base_addr = m.vm_addresses[0];
    const MacAddress base_mac = *mac;
    auto nth = [&](uint64_t i) {
      proto::Message r = m;
      r.vm_id = *proto::parse_vm_id(opt["vm"] + "-" + std::to_string(i));
      uint64_t mv = 0;
      for (uint8_t b : base_mac) mv = (mv << 8) | b;
      mv += i;
      for (int k = 5; k >= 0; k--, mv >>= 8) (*r.vm_mac)[k] = static_cast<uint8_t>(mv);
      uint32_t a = (uint32_t{base_addr.bytes[0]} << 24) | (uint32_t{base_addr.bytes[1]} << 16) |
                   (uint32_t{base_addr.bytes[2]} << 8) | base_addr.bytes[3];
      a += static_cast<uint32_t>(i);
      r.vm_addresses[0].bytes[0] = static_cast<uint8_t>(a >> 24);
      r.vm_addresses[0].bytes[1] = static_cast<uint8_t>(a >> 16);
      r.vm_addresses[0].bytes[2] = static_cast<uint8_t>(a >> 8);
      r.vm_addresses[0].bytes[3] = static_cast<uint8_t>(a);
      return r;
    };
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t accepted = 0, refused = 0, unanswered = 0;
    uint64_t ts = wall_clock_ns();
    int resynced_windows = 0;
    for (uint64_t first = 0; first < *count; first += *window) {
      std::map<uint16_t, bool> waiting;  // sequence -> answered
      for (uint64_t i = first; i < std::min(*count, first + *window); i++) {
        proto::Message r = nth(i);
        r.sequence = m.sequence;
        m.sequence = proto::seq_next(m.sequence);
        r.timestamp_ns = ts = std::max(wall_clock_ns(), ts + 1);
        auto wire = proto::encode(r, *key);
        if (!wire) return usage(wire.error().describe());
        if (auto err = socket->send(wire.value(), *nvad, static_cast<uint16_t>(*port))) return usage(*err);
        waiting[r.sequence] = false;
      }
      size_t open = waiting.size();
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (open && std::chrono::steady_clock::now() < deadline) {
        pollfd p{socket->fd(), POLLIN, 0};
        ::poll(&p, 1, 20);
        for (auto got = socket->receive(buffer, error); got; got = socket->receive(buffer, error)) {
          auto decoded = proto::decode(std::span(buffer).first(got->size));
          if (!decoded || !decoded->message.is_reply()) continue;
          auto it = waiting.find(decoded->message.sequence);
          if (it == waiting.end() || it->second) continue;
          if (decoded->message.status == proto::Status::BadSequenceNumber && decoded->message.expected_sequence) {
            // nvad remembers this address from an earlier run: continue
            // from its value and send this window again.
            if (resynced_windows++ > 3) return usage("nvad keeps answering 135 (Bad sequence number)");
            m.sequence = *decoded->message.expected_sequence;
            first -= *window;  // (unsigned: the loop's += brings it back)
            open = 0;
            break;
          }
          it->second = true;
          open--;
          (proto::is_accepted(decoded->message.status) ? accepted : refused)++;
        }
      }
      unanswered += open;
    }
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("accepted %llu, refused %llu, unanswered %llu of %llu in %.2f s (%.0f/s)\n",
                (unsigned long long)accepted, (unsigned long long)refused, (unsigned long long)unanswered,
                (unsigned long long)*count, took, double(*count) / (took > 0 ? took : 1));
    if (!seq_file.empty())
      if (std::FILE *f = std::fopen(seq_file.c_str(), "w")) {
        std::fprintf(f, "%u\n", unsigned(m.sequence));
        std::fclose(f);
      }
    return accepted == *count ? 0 : 1;
  }
  int resyncs = 0;
  for (int attempt = 0; attempt < 6; attempt++) {
    bool resynced = false;
    m.timestamp_ns = std::max(wall_clock_ns(), m.timestamp_ns.value_or(0) + 1);
    auto wire = proto::encode(m, *key);
    if (!wire) return usage(wire.error().describe());
    if (auto err = socket->send(wire.value(), *nvad, static_cast<uint16_t>(*port))) return usage(*err);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{socket->fd(), POLLIN, 0};
      ::poll(&p, 1, 50);
      auto got = socket->receive(buffer, error);
      if (!got) continue;
      auto decoded = proto::decode(std::span(buffer).first(got->size));
      if (!decoded || !proto::is_reply_to(decoded->message, m)) continue;
      if (proto::verify_authentication(std::span(buffer).first(got->size), decoded->auth,
                                       keys->find(*nvad, decoded->auth.key_id)) != proto::AuthVerdict::Authentic)
        continue;
      const proto::Message &r = decoded->message;
      if (r.status == proto::Status::BadSequenceNumber && r.expected_sequence && resyncs++ < 3) {
        m.sequence = *r.expected_sequence;  // nvad remembers this address: continue from there
        resynced = true;
        attempt--;
        break;
      }
      if (!seq_file.empty())
        if (std::FILE *f = std::fopen(seq_file.c_str(), "w")) {
          std::fprintf(f, "%u\n", unsigned(proto::seq_next(m.sequence)));
          std::fclose(f);
        }
      std::printf("status %d (%s) lifetime %u\n", static_cast<int>(r.status), proto::status_name(r.status),
                  unsigned(r.lifetime));
      return proto::is_accepted(r.status) ? 0 : 1;
    }
    if (!resynced) m.sequence = proto::seq_next(m.sequence);
  }
  std::fprintf(stderr, "nve_register: no answer from %s port %u\n", nvad->to_string().c_str(), unsigned(*port));
  return 3;
}
