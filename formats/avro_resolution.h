// AvroResolution: Avro schema resolution, writer schema -> reader schema, done in our code because Avro C
// (libavro 1.11) does not fill the reader's defaults. Resolve() turns a binary datum written with the
// writer schema into the binary datum of the reader schema, which the reader schema's AvroDatumReader
// then decodes; so fields always come out under the reader's names and types.
//
// Rules (the Avro specification's "Schema Resolution"):
//   records    the same name (full or unqualified), or the writer's full name among the reader's aliases.
//              Fields match by name, or a reader field's alias naming the writer field. Writer fields the
//              reader lacks are dropped; reader fields the writer lacks take the reader's `default`, and
//              one without a default fails Compile naming the field.
//   promotions int -> long, float, double; long -> float, double; float -> double; string <-> bytes
//   enums      the same name; a writer symbol the reader lacks reads as the reader's enum `default`, or
//              is a BadRecord (the datum, not the schemas, is at fault: other symbols still resolve)
//   fixed      the same name and size
//   arrays     items resolve; maps: values resolve
//   unions     a writer union resolves the branch each datum holds (a branch that cannot resolve is a
//              BadRecord for the datums that hold it); a writer non-union against a reader union takes
//              the first reader branch of the same type, else the first it promotes to
//   defaults   are JSON as the specification has them: a union's default is of its first branch; bytes
//              and fixed defaults are strings of code points 0-255
// Compile fails with InvalidSpec naming both schemas and the path to the field ("User.address.zip")
// when no datum of the writer schema could be read with the reader schema.
//
// Resolve reads the writer datum within AvroBinaryInput's bounds (formats/avro_binary.h), so a corrupt
// length is a BadRecord before anything is allocated. An AvroResolution is immutable and shared by threads.

#ifndef SFB_FORMATS_AVRO_RESOLUTION_H_
#define SFB_FORMATS_AVRO_RESOLUTION_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "formats/avro_fields.h"

namespace sfb {

class AvroResolution {
 public:
  static Result<std::unique_ptr<const AvroResolution>> Compile(std::shared_ptr<const AvroSchema> writer,
                                                               std::shared_ptr<const AvroSchema> reader);
  ~AvroResolution();
  AvroResolution(const AvroResolution&) = delete;
  AvroResolution& operator=(const AvroResolution&) = delete;

  // Appends to *out the reader-schema datum for the writer-schema datum `bytes`. BadRecord when `bytes`
  // are not a writer datum (cut short, impossible lengths, left-over bytes) or hold a value the reader
  // cannot take (an enum symbol without a reader default, a union branch that does not resolve).
  Status Resolve(std::string_view bytes, std::string* out) const;

  const AvroSchema& writer() const { return *writer_; }
  const AvroSchema& reader() const { return *reader_; }

  struct Step;

 private:
  AvroResolution() = default;
  std::shared_ptr<const AvroSchema> writer_;
  std::shared_ptr<const AvroSchema> reader_;
  std::vector<std::unique_ptr<Step>> steps_;
  const Step* root_ = nullptr;
};

}  // namespace sfb

#endif  // SFB_FORMATS_AVRO_RESOLUTION_H_
