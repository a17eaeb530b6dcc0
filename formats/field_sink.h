// FieldSink: receives the fields of one record, in order, from a decoder (connectors/kafka/record_decoder.h)
// and the format readers it uses (formats/json_fields.h, connectors/kafka/protobuf_fields.h).

#ifndef SFB_FORMATS_FIELD_SINK_H_
#define SFB_FORMATS_FIELD_SINK_H_

#include <string_view>

#include "api/record.h"

namespace sfb {

class FieldSink {
 public:
  virtual ~FieldSink() = default;
  virtual void Add(std::string_view name, Value value) = 0;
};

}  // namespace sfb

#endif  // SFB_FORMATS_FIELD_SINK_H_
