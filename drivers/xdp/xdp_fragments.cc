#include "drivers/xdp/xdp_fragments.h"

#include <rte_byteorder.h>

#include <cstring>
#include <variant>

#include "dataplane/actions.h"
#include "dataplane/encap.h"
#include "drivers/xdp/nve_xdp_abi.h"
#include "drivers/xdp/xdp_routes.h"

namespace nvmove::drivers {

namespace {

constexpr size_t kEth = 14, kIp4 = 20;

// Big-endian 16-bit fields at any alignment.
uint16_t load16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return rte_be_to_cpu_16(v);
}

void store16(uint8_t *p, uint16_t host) {
  const uint16_t v = rte_cpu_to_be_16(host);
  std::memcpy(p, &v, 2);
}

}  // namespace

std::optional<SlowFrame> parse_slow_frame(std::span<const uint8_t> frame, uint64_t cookie, std::string &why) {
  const size_t head = kEth + sizeof(nve_xdp_slow);
  if (frame.size() < head + kIp4) {
    why = "shorter than a slow-path frame";
    return std::nullopt;
  }
  if (load16(frame.data() + 12) != NVE_XDP_SLOW_ETHERTYPE) {
    why = "not the slow path's EtherType";
    return std::nullopt;
  }
  nve_xdp_slow meta;
  std::memcpy(&meta, frame.data() + kEth, sizeof meta);
  if ((uint64_t{meta.cookie[1]} << 32 | meta.cookie[0]) != cookie) {
    why = "not the program's (no cookie)";
    return std::nullopt;
  }
  if (meta.reason != NVE_XDP_SLOW_FRAGMENT) {
    why = "unknown reason " + std::to_string(meta.reason);
    return std::nullopt;
  }
  const std::span<const uint8_t> ip = frame.subspan(head);
  const uint16_t total = load16(ip.data() + 2);
  if (ip[0] != 0x45 || total < kIp4 || total > ip.size()) {
    why = "not a whole IPv4 packet without options";
    return std::nullopt;
  }
  if (load16(ip.data() + 6) & 0x4000) {
    why = "DF set: never fragmented";
    return std::nullopt;
  }
  return SlowFrame{meta.vn, meta.reason, ip.first(total)};
}

std::vector<std::vector<uint8_t>> fragment_into_tunnel(std::span<const uint8_t> inner, const dp::TunnelTemplate &t,
                                                       uint16_t tunnel_mtu, int16_t dscp_set, uint16_t &ip_id) {
  std::vector<std::vector<uint8_t>> out;
  const size_t overhead = t.hdr_len - kEth;
  if (inner.size() <= kIp4 || tunnel_mtu <= overhead) return out;
  const size_t inner_mtu = tunnel_mtu - overhead;
  const size_t payload = inner.size() - kIp4;
  // rte_ipv4_fragment_packet: pieces of the largest multiple of 8 that fits.
  const size_t piece = (inner_mtu - kIp4) & ~size_t{7};
  if (inner_mtu < 68 || piece * NVE_XDP_MAX_FRAGMENTS < payload) return out;
  const uint16_t flags_offset = load16(inner.data() + 6);  // MF of a packet that is itself a first fragment stays on the last
  for (size_t done = 0; done < payload;) {
    const size_t len = std::min(piece, payload - done);
    const bool more = done + len < payload;
    std::vector<uint8_t> f(t.hdr_len + kIp4 + len);
    uint8_t *ip = f.data() + t.hdr_len;
    std::memcpy(ip, inner.data(), kIp4);
    std::memcpy(ip + kIp4, inner.data() + kIp4 + done, len);
    store16(ip + 2, static_cast<uint16_t>(kIp4 + len));
    store16(ip + 6, static_cast<uint16_t>((flags_offset + (done >> 3)) | (more ? 0x2000 : 0)));
    auto *hdr = reinterpret_cast<rte_ipv4_hdr *>(ip);
    hdr->hdr_checksum = 0;
    hdr->hdr_checksum = rte_ipv4_cksum(hdr);
    const dp::EncapInput in =
        dp::encap_input(dscp_set, t, ip, static_cast<uint16_t>(kIp4 + len), dp::kFamilyV4);
    dp::write_outer(f.data(), t, in, ip_id, false, nullptr);
    out.push_back(std::move(f));
    done += len;
  }
  return out;
}

std::optional<SlowPathOutput> slow_path_output(const XdpRoutes &routes, std::span<const uint8_t> frame,
                                               uint16_t tunnel_mtu, int16_t dscp_set, uint16_t &ip_id,
                                               std::string &why) {
  const auto slow = parse_slow_frame(frame, routes.slow_cookie(), why);
  if (!slow) return std::nullopt;
  IpAddress dst;
  dst.family = 4;
  std::memcpy(dst.bytes.data(), slow->inner.data() + 16, 4);
  const auto route = routes.find({slow->vn, dst});
  const auto *tunnel = route ? std::get_if<TunnelToNve>(&route->action) : nullptr;
  if (!tunnel) {
    why = "vn " + std::to_string(slow->vn) + " " + dst.to_string() + " is no longer tunnelled";
    return std::nullopt;
  }
  auto t = routes.tunnel_template(tunnel->nve);
  if (!t) {
    why = "no outer header toward " + tunnel->nve.to_string();
    return std::nullopt;
  }
  if (slow->inner.size() + (t->hdr_len - kEth) <= tunnel_mtu) {
    why = "fits the tunnel: not the program's";
    return std::nullopt;
  }
  auto pieces = fragment_into_tunnel(slow->inner, *t, tunnel_mtu, dscp_set, ip_id);
  if (pieces.empty()) {
    why = "cannot be fragmented for tunnel.mtu " + std::to_string(tunnel_mtu);
    return std::nullopt;
  }
  return SlowPathOutput{*t, std::move(pieces)};
}

}  // namespace nvmove::drivers
