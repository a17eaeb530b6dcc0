// Avro data -> record fields: an Avro schema compiled for reading, and a reader that decodes binary
// datums written with it into flat, typed fields (the same shape JSON and Protobuf values take).
//
// Decoding is Avro C's (Debian's libavro-dev, 1.11). Avro C's schema objects do not keep logical types
// (decimal, date, timestamp-millis, ...), so AvroSchema also compiles the schema's JSON into its own tree
// of the same types, which the reader walks beside Avro C's decoded value.
//
// Fields, for a datum under prefix P (the Kafka connector uses "value" and "key"):
//   record                      P is the record's JSON text (below), and each field F becomes P.F
//                               (nested records: P.F.G, which give no text field of their own)
//   null                        NULL
//   boolean                     bool
//   int, long                   int
//   float, double               double
//   string                      text (also with logicalType uuid)
//   bytes, fixed                bytes
//   decimal (bytes or fixed)    text, the exact decimal ("-12.50" for unscaled -1250, scale 2)
//   date                        text, ISO 8601 ("2024-05-01")
//   time-millis, time-micros    int (since midnight)
//   timestamp-millis/-micros    int, epoch milliseconds / microseconds (also local-timestamp-*)
//   enum                        text, the symbol
//   array, map                  text, their JSON (below)
//   union                       the value of the branch written (null: NULL; a record: its fields)
//
// JSON text (Read's *json, the whole datum): records and maps are objects (fields in schema order),
// arrays are arrays, a union is the JSON of its branch (not Avro's {"type": value} encoding), enums and
// strings are strings, bytes and fixed are base64 strings, decimals and dates are their text above,
// other logical types their number; NaN and infinities are null.
//
// An AvroSchema is immutable and shared by threads; each thread reads with its own AvroDatumReader.

#ifndef SFB_FORMATS_AVRO_FIELDS_H_
#define SFB_FORMATS_AVRO_FIELDS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "formats/field_sink.h"

namespace sfb {

class AvroSchema {
 public:
  // Compiles a schema given as Avro JSON. InvalidSpec naming the problem when it is not a valid schema.
  static Result<std::shared_ptr<const AvroSchema>> Parse(std::string_view json_text);
  ~AvroSchema();
  AvroSchema(const AvroSchema&) = delete;
  AvroSchema& operator=(const AvroSchema&) = delete;

  struct Node;
  const Node* root() const { return root_; }
  // Whether the top-level type is a record (its fields are P.F; other types are the field P itself).
  bool is_record() const;
  // The top-level type's full name ("example.User"), or its type name ("string").
  const std::string& name() const;
  // Avro C's schema (avro_schema_t).
  void* avro_schema() const { return avro_; }

 private:
  AvroSchema() = default;
  void* avro_ = nullptr;
  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
};

// Decodes datums of one schema; used by one thread at a time.
class AvroDatumReader {
 public:
  explicit AvroDatumReader(std::shared_ptr<const AvroSchema> schema);
  ~AvroDatumReader();
  AvroDatumReader(const AvroDatumReader&) = delete;
  AvroDatumReader& operator=(const AvroDatumReader&) = delete;

  // Decodes the binary datum `bytes`, adds its fields under `prefix` to `sink` (see above; a record's
  // JSON text first, as field `prefix`) and sets *json to the datum's JSON text. BadRecord when the
  // bytes are not a datum of the schema (truncated, bytes left over, an out-of-range union branch or
  // enum symbol); fields added before the error are the caller's to discard.
  Status Read(std::string_view bytes, std::string_view prefix, FieldSink* sink, std::string* json);

  const AvroSchema& schema() const { return *schema_; }

 private:
  std::shared_ptr<const AvroSchema> schema_;
  void* iface_ = nullptr;  // avro_value_iface_t*
  struct State;
  std::unique_ptr<State> state_;
  std::string path_;
};

}  // namespace sfb

#endif  // SFB_FORMATS_AVRO_FIELDS_H_
