#include "common/byte_reader.h"

#include "common/java_string.h"

namespace sfb {

Status ByteReader::Need(const char* field, size_t n) {
  if (remaining() < n) {
    return Status::Corruption("truncated data: reading " + std::string(field) + " needs " +
                              std::to_string(n) + " bytes at offset " +
                              std::to_string(absolute_position()) + " but only " +
                              std::to_string(remaining()) + " remain");
  }
  return Status::OK();
}

Status ByteReader::U8(const char* field, uint8_t* v) {
  SFB_RETURN_IF_ERROR(Need(field, 1));
  *v = static_cast<uint8_t>(data_[pos_++]);
  return Status::OK();
}

Status ByteReader::Bool(const char* field, bool* v) {
  uint8_t b;
  SFB_RETURN_IF_ERROR(U8(field, &b));
  *v = b != 0;
  return Status::OK();
}

Status ByteReader::U16(const char* field, uint16_t* v) {
  SFB_RETURN_IF_ERROR(Need(field, 2));
  *v = static_cast<uint16_t>((static_cast<uint8_t>(data_[pos_]) << 8) | static_cast<uint8_t>(data_[pos_ + 1]));
  pos_ += 2;
  return Status::OK();
}

Status ByteReader::I16(const char* field, int16_t* v) {
  uint16_t u;
  SFB_RETURN_IF_ERROR(U16(field, &u));
  *v = static_cast<int16_t>(u);
  return Status::OK();
}

Status ByteReader::I32(const char* field, int32_t* v) {
  SFB_RETURN_IF_ERROR(Need(field, 4));
  uint32_t u = 0;
  for (int i = 0; i < 4; ++i) u = (u << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += 4;
  *v = static_cast<int32_t>(u);
  return Status::OK();
}

Status ByteReader::I64(const char* field, int64_t* v) {
  SFB_RETURN_IF_ERROR(Need(field, 8));
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u = (u << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += 8;
  *v = static_cast<int64_t>(u);
  return Status::OK();
}

Status ByteReader::Bytes(const char* field, size_t n, std::string_view* v) {
  SFB_RETURN_IF_ERROR(Need(field, n));
  *v = data_.substr(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status ByteReader::LengthPrefixed(const char* field, std::string_view* v) {
  int32_t len;
  SFB_RETURN_IF_ERROR(I32(field, &len));
  if (len < 0) {
    return Status::Corruption("negative length " + std::to_string(len) + " for " + field +
                              " at offset " + std::to_string(absolute_position() - 4));
  }
  return Bytes(field, static_cast<size_t>(len), v);
}

Status ByteReader::Utf(const char* field, std::string* v) {
  uint16_t len;
  SFB_RETURN_IF_ERROR(U16(field, &len));
  std::string_view raw;
  SFB_RETURN_IF_ERROR(Bytes(field, len, &raw));
  if (!ModifiedUtf8ToUtf8(raw, v)) {
    return Status::Corruption(std::string("invalid modified UTF-8 in ") + field + " at offset " +
                              std::to_string(absolute_position() - len));
  }
  return Status::OK();
}

}  // namespace sfb
