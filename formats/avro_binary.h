// Avro's binary encoding, read with bounds: a cursor over one datum's bytes that checks every length and
// count against the bytes left before anything is taken or allocated, and the writers for the same
// encoding (zigzag varint longs, little-endian floats and doubles, length-prefixed bytes).
//
// Why our own walk: Avro C (libavro 1.11) allocates what a string, bytes, array or map length says before
// it looks at the bytes behind it, so one corrupt length asks the allocator for up to 2^63 bytes.
// CheckAvroDatum walks a datum first and turns such a length into a BadRecord.
//
// Bounds (each a BadRecord naming the value's place in the datum, e.g. "example.User.tags[]"):
//   string, bytes   0 <= length <= bytes left
//   array, map      each block's count <= bytes left / the smallest encoding of one item; items that may
//                   encode as no bytes at all (null, an empty record) count against kMaxAvroEmptyItems
//   nesting         at most kMaxAvroDepth records, arrays, maps and unions deep (recursive schemas)
//   varints         at most 10 bytes, the last carrying no bits beyond 64

#ifndef SFB_FORMATS_AVRO_BINARY_H_
#define SFB_FORMATS_AVRO_BINARY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "formats/avro_fields.h"

namespace sfb {

inline constexpr int64_t kMaxAvroEmptyItems = int64_t{1} << 20;
inline constexpr int kMaxAvroDepth = 256;

// A bounded cursor over the bytes of one datum.
class AvroBinaryInput {
 public:
  explicit AvroBinaryInput(std::string_view bytes) : bytes_(bytes) {}

  size_t left() const { return bytes_.size() - pos_; }
  // A zigzag varint long (also ints, enum symbols, union branches and block counts).
  Status ReadLong(int64_t* v);
  // The next `n` bytes, which must all be there.
  Status ReadFixed(size_t n, std::string_view* out);
  // A length-prefixed string or bytes value.
  Status ReadBytes(std::string_view* out);

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

void AppendAvroLong(int64_t v, std::string* out);
void AppendAvroFloat(float v, std::string* out);
void AppendAvroDouble(double v, std::string* out);
void AppendAvroBytes(std::string_view v, std::string* out);

// Reads the count of the next block of an array or map of `item`s and checks it against the bytes left
// (a negative count's block size is read and checked too); *empty_items sums the items of no bytes over
// one datum. `where` names the array or map in errors.
Status ReadAvroBlockCount(const AvroSchema::Node* item, AvroBinaryInput* in, const std::string& where,
                          int64_t* empty_items, int64_t* count);

// The fewest bytes a value of `node` can encode as (0 for null and records of such fields).
size_t AvroMinEncodedSize(const AvroSchema::Node* node);

// Reads one value of `node` from `in` with the bounds above, keeping nothing; `where` names the value in
// errors and is restored before returning.
Status SkipAvroValue(const AvroSchema::Node* node, AvroBinaryInput* in, std::string* where, int depth = 0);

// Whether `bytes` hold exactly one datum of `schema` within the bounds above: OK, or a BadRecord saying
// which value of the datum is cut short, has an impossible length, or that bytes are left over.
Status CheckAvroDatum(const AvroSchema& schema, std::string_view bytes);

}  // namespace sfb

#endif  // SFB_FORMATS_AVRO_BINARY_H_
