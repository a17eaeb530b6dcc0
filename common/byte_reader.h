// ByteReader: bounds-checked reads of Java DataInput-style big-endian primitives from a byte span.
//
// Used to parse savepoints we did not necessarily write (Flink's own, or corrupted ones), so every read
// is checked: running past the end, or a length field larger than what remains, yields a Corruption
// status naming the field, never a crash or an unbounded allocation.

#ifndef SFB_COMMON_BYTE_READER_H_
#define SFB_COMMON_BYTE_READER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

class ByteReader {
 public:
  explicit ByteReader(std::string_view data, size_t base_offset = 0)
      : data_(data), base_offset_(base_offset) {}

  Status U8(const char* field, uint8_t* v);
  Status Bool(const char* field, bool* v);
  Status I16(const char* field, int16_t* v);
  Status U16(const char* field, uint16_t* v);
  Status I32(const char* field, int32_t* v);
  Status I64(const char* field, int64_t* v);
  Status Bytes(const char* field, size_t n, std::string_view* v);
  // i32 length + bytes; fails on a negative length or one past the end.
  Status LengthPrefixed(const char* field, std::string_view* v);
  // Java readUTF (modified UTF-8), returned as standard UTF-8.
  Status Utf(const char* field, std::string* v);

  size_t position() const { return pos_; }
  // Position as an offset in the enclosing file, for error messages.
  size_t absolute_position() const { return base_offset_ + pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }
  void Seek(size_t pos) { pos_ = pos; }
  std::string_view data() const { return data_; }

 private:
  Status Need(const char* field, size_t n);

  std::string_view data_;
  size_t base_offset_;
  size_t pos_ = 0;
};

}  // namespace sfb

#endif  // SFB_COMMON_BYTE_READER_H_
