#include "formats/avro_binary.h"

#include <cstring>

#include "common/str_cat.h"
#include "formats/avro_schema_node.h"

namespace sfb {
namespace {

using Node = AvroSchema::Node;

// `s` with the place of the value it is about, for a message that names it.
Status At(Status s, const std::string& where) {
  if (s.ok()) return s;
  return Status::BadRecord(StrCat("Avro value ", where, ": ", s.message()));
}

Status Short(const std::string& where, const char* what) {
  return Status::BadRecord(StrCat("Avro value ", where, ": ", what));
}

size_t MinSize(const Node* n, int depth);

Status ReadBlockCount(const Node* item, AvroBinaryInput* in, const std::string& where, int64_t* empty_items,
                      int64_t* count) {
  SFB_RETURN_IF_ERROR(At(in->ReadLong(count), where));
  if (*count < 0) {
    if (*count == INT64_MIN) return Short(where, "the block count is out of range");
    *count = -*count;
    int64_t block_bytes = 0;  // a negative count is followed by the block's size in bytes
    SFB_RETURN_IF_ERROR(At(in->ReadLong(&block_bytes), where));
    if (block_bytes < 0 || static_cast<uint64_t>(block_bytes) > in->left()) {
      return Short(where, "the block's byte size is more than the bytes left");
    }
  }
  const size_t min_size = MinSize(item, 0);
  if (min_size == 0) {
    if (*count > kMaxAvroEmptyItems - *empty_items) return Short(where, "more items than a datum may hold");
    *empty_items += *count;
  } else if (static_cast<uint64_t>(*count) > in->left() / min_size) {
    return Short(where, StrCat("the block count ", std::to_string(*count), " is more than the ",
                               std::to_string(in->left()), " bytes left can hold").c_str());
  }
  return Status::OK();
}

size_t MinSize(const Node* n, int depth) {
  switch (n->type) {
    case Node::Type::kNull: return 0;
    case Node::Type::kFloat: return 4;
    case Node::Type::kDouble: return 8;
    case Node::Type::kFixed: return n->size;
    case Node::Type::kRecord: {
      if (depth > 8) return 0;  // a recursive record: a lower bound is enough
      size_t sum = 0;
      for (const Node* child : n->children) sum += MinSize(child, depth + 1);
      return sum;
    }
    default: return 1;  // booleans, varints, lengths, counts, union branches
  }
}

Status Skip(const Node* n, AvroBinaryInput* in, std::string* where, int depth, int64_t* empty_items) {
  if (depth > kMaxAvroDepth) return Short(*where, "nested deeper than a datum may be");
  std::string_view bytes;
  int64_t v = 0;
  switch (n->type) {
    case Node::Type::kNull: return Status::OK();
    case Node::Type::kBoolean: return At(in->ReadFixed(1, &bytes), *where);
    case Node::Type::kInt:
    case Node::Type::kLong: return At(in->ReadLong(&v), *where);
    case Node::Type::kFloat: return At(in->ReadFixed(4, &bytes), *where);
    case Node::Type::kDouble: return At(in->ReadFixed(8, &bytes), *where);
    case Node::Type::kBytes:
    case Node::Type::kString: return At(in->ReadBytes(&bytes), *where);
    case Node::Type::kFixed: return At(in->ReadFixed(n->size, &bytes), *where);
    case Node::Type::kEnum:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), *where));
      if (v < 0 || static_cast<uint64_t>(v) >= n->symbols.size()) return Short(*where, "the enum symbol is out of range");
      return Status::OK();
    case Node::Type::kUnion:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), *where));
      if (v < 0 || static_cast<uint64_t>(v) >= n->children.size()) {
        return Short(*where, "the union branch is out of range");
      }
      return Skip(n->children[static_cast<size_t>(v)], in, where, depth + 1, empty_items);
    case Node::Type::kRecord: {
      const size_t mark = where->size();
      for (size_t i = 0; i < n->children.size(); ++i) {
        where->push_back('.');
        where->append(n->field_names[i]);
        SFB_RETURN_IF_ERROR(Skip(n->children[i], in, where, depth + 1, empty_items));
        where->resize(mark);
      }
      return Status::OK();
    }
    case Node::Type::kArray:
    case Node::Type::kMap: {
      const size_t mark = where->size();
      for (;;) {
        int64_t count = 0;
        SFB_RETURN_IF_ERROR(ReadBlockCount(n->children[0], in, *where, empty_items, &count));
        if (count == 0) return Status::OK();
        where->append("[]");  // an item's place; not its index, which would cost a string per item
        for (int64_t i = 0; i < count; ++i) {
          if (n->type == Node::Type::kMap) {
            SFB_RETURN_IF_ERROR(At(in->ReadBytes(&bytes), *where));
          }
          SFB_RETURN_IF_ERROR(Skip(n->children[0], in, where, depth + 1, empty_items));
        }
        where->resize(mark);
      }
    }
  }
  return Status::Internal("unknown Avro type");
}

}  // namespace

Status AvroBinaryInput::ReadLong(int64_t* v) {
  uint64_t raw = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= bytes_.size()) return Status::BadRecord("the datum ends inside a number");
    const uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
    if (shift == 63 && (b & 0x7E) != 0) return Status::BadRecord("a number is longer than 64 bits");
    raw |= uint64_t{b & 0x7Fu} << shift;
    if ((b & 0x80) == 0) {
      *v = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return Status::OK();
    }
  }
  return Status::BadRecord("a number is longer than 10 bytes");
}

Status AvroBinaryInput::ReadFixed(size_t n, std::string_view* out) {
  if (n > left()) {
    return Status::BadRecord(StrCat("the datum ends ", std::to_string(n - left()), " bytes short of a value"));
  }
  *out = bytes_.substr(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status AvroBinaryInput::ReadBytes(std::string_view* out) {
  int64_t length = 0;
  SFB_RETURN_IF_ERROR(ReadLong(&length));
  if (length < 0 || static_cast<uint64_t>(length) > left()) {
    return Status::BadRecord(StrCat("a length of ", std::to_string(length), " with ", std::to_string(left()),
                                    " bytes left"));
  }
  return ReadFixed(static_cast<size_t>(length), out);
}

void AppendAvroLong(int64_t v, std::string* out) {
  uint64_t raw = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (raw >= 0x80) {
    out->push_back(static_cast<char>((raw & 0x7F) | 0x80));
    raw >>= 7;
  }
  out->push_back(static_cast<char>(raw));
}

void AppendAvroFloat(float v, std::string* out) {
  uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void AppendAvroDouble(double v, std::string* out) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void AppendAvroBytes(std::string_view v, std::string* out) {
  AppendAvroLong(static_cast<int64_t>(v.size()), out);
  out->append(v);
}

size_t AvroMinEncodedSize(const Node* node) { return MinSize(node, 0); }

Status ReadAvroBlockCount(const Node* item, AvroBinaryInput* in, const std::string& where, int64_t* empty_items,
                          int64_t* count) {
  return ReadBlockCount(item, in, where, empty_items, count);
}

Status SkipAvroValue(const Node* node, AvroBinaryInput* in, std::string* where, int depth) {
  int64_t empty_items = 0;
  return Skip(node, in, where, depth, &empty_items);
}

Status CheckAvroDatum(const AvroSchema& schema, std::string_view bytes) {
  AvroBinaryInput in(bytes);
  std::string where = schema.name();
  SFB_RETURN_IF_ERROR(SkipAvroValue(schema.root(), &in, &where));
  if (in.left() > 0) {
    return Status::BadRecord(StrCat(std::to_string(in.left()), " bytes are left over after an Avro datum of ",
                                    schema.name()));
  }
  return Status::OK();
}

}  // namespace sfb
