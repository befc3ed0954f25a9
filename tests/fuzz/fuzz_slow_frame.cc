// libFuzzer target: arbitrary bytes as a frame nvxdp's slow path reads on
// its packet socket (nve_xdp_abi.h, struct nve_xdp_slow; the seeds carry
// the cookie 0x0123456789abcdef this target expects), parsed and, when
// it is one, fragmented into an IPv4 and an IPv6 tunnel with the tunnel MTU
// its first byte picks. It must refuse or cut without reading past the frame,
// every piece within the tunnel MTU, the pieces' payloads adding up to the
// packet's.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_fragments.h"

namespace {

nvmove::dp::TunnelTemplate make_template(const char *nve) {
  nvmove::dp::FabricParams f;
  f.port_mac = {2, 0, 0, 0, 0, 1};
  f.gateway_mac_v4 = f.gateway_mac_v6 = nvmove::MacAddress{2, 0, 0, 0, 0, 0xfe};
  f.own_v4 = *nvmove::IpAddress::parse("192.0.2.1");
  f.own_v6 = *nvmove::IpAddress::parse("2001:db8::1");
  nvmove::dp::TunnelTemplate t{};
  std::string why;
  if (!nvmove::dp::build_tunnel_template(f, *nvmove::IpAddress::parse(nve), t, why)) std::abort();
  return t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const nvmove::dp::TunnelTemplate v4 = make_template("198.51.100.2"), v6 = make_template("2001:db8::2");
  std::vector<uint8_t> frame(data, data + size);  // exact size: ASan sees any read past it
  std::string why;
  const auto slow = nvmove::drivers::parse_slow_frame(frame, 0x0123456789abcdefull, why);
  if (!slow || size == 0) return 0;
  const uint16_t mtu = static_cast<uint16_t>(60 + data[0] * 37);  // 60 .. 9495
  for (const auto *t : {&v4, &v6}) {
    uint16_t id = 0;
    const auto pieces = nvmove::drivers::fragment_into_tunnel(slow->inner, *t, mtu, -1, id);
    size_t payload = 0;
    for (const auto &p : pieces) {
      if (p.size() > size_t{14} + mtu) std::abort();  // a piece beyond the tunnel MTU
      payload += p.size() - t->hdr_len - 20;
    }
    if (!pieces.empty() && payload != slow->inner.size() - 20) std::abort();  // bytes lost or invented
  }
  return 0;
}
