// Big-endian (network order) field writers and readers. Every multi-byte
// field is assembled byte by byte, so neither host byte order nor alignment
// of the buffer matters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace nvmove::proto {

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t> &out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void u64(uint64_t v) {
    u32(static_cast<uint32_t>(v >> 32));
    u32(static_cast<uint32_t>(v));
  }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void zeros(size_t n) { out_.insert(out_.end(), n, uint8_t{0}); }
  size_t size() const { return out_.size(); }

  // Overwrites a field written earlier (the header's Length). Ignores an
  // offset outside what was written rather than growing the buffer.
  void patch_u16(size_t offset, uint16_t v) {
    if (offset + 2 > out_.size()) return;
    out_[offset] = static_cast<uint8_t>(v >> 8);
    out_[offset + 1] = static_cast<uint8_t>(v);
  }

 private:
  std::vector<uint8_t> &out_;
};

// Reading past the end returns zeros and clears ok(): callers check lengths
// before reading, and this makes a wrong check harmless instead of an
// out-of-bounds read.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t u8() {
    if (pos_ >= in_.size()) {
      ok_ = false;
      return 0;
    }
    return in_[pos_++];
  }
  uint16_t u16() {
    uint16_t high = u8();
    return static_cast<uint16_t>((high << 8) | u8());
  }
  uint32_t u32() {
    uint32_t high = u16();
    return (high << 16) | u16();
  }
  uint64_t u64() {
    uint64_t high = u32();
    return (high << 32) | u32();
  }
  std::span<const uint8_t> take(size_t n) {
    if (n > remaining()) {
      ok_ = false;
      pos_ = in_.size();
      return {};
    }
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  void skip(size_t n) { take(n); }

  size_t position() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  bool ok() const { return ok_; }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace nvmove::proto
