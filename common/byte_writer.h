// ByteWriter: appends Java DataOutput-style big-endian primitives to a std::string.
//
// Flink writes every savepoint structure through java.io.DataOutput, so all multi-byte integers are
// big-endian and strings in headers use writeUTF (see java_string.h). The writer never fails; callers
// decide where the bytes go.

#ifndef SFB_COMMON_BYTE_WRITER_H_
#define SFB_COMMON_BYTE_WRITER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sfb {

class ByteWriter {
 public:
  explicit ByteWriter(std::string* out) : out_(out) {}

  void U8(uint8_t v) { out_->push_back(static_cast<char>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void I16(int16_t v) { U16(static_cast<uint16_t>(v)); }
  void U16(uint16_t v) {
    char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_->append(b, 2);
  }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void U32(uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
    out_->append(b, 4);
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void U64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (56 - 8 * i));
    out_->append(b, 8);
  }
  void Bytes(std::string_view b) { out_->append(b.data(), b.size()); }
  // i32 length followed by the bytes (Flink's BytePrimitiveArraySerializer framing).
  void LengthPrefixed(std::string_view b) {
    I32(static_cast<int32_t>(b.size()));
    Bytes(b);
  }

  std::string* out() { return out_; }
  size_t size() const { return out_->size(); }

 private:
  std::string* out_;
};

// Little-endian helpers for protobuf fixed-width fields.
inline void AppendLittleEndian32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void AppendLittleEndian64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void AppendBigEndian16(std::string* out, uint16_t v) { ByteWriter(out).U16(v); }

}  // namespace sfb

#endif  // SFB_COMMON_BYTE_WRITER_H_
