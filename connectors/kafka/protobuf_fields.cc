#include "connectors/kafka/protobuf_fields.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/protobuf_message_type.h"

namespace sfb {
namespace {

namespace pb = google::protobuf;

// Nested messages deeper than this (or recursive ones) are cut off: their field is one NULL field.
constexpr int kMaxDepth = 16;

class Walker {
 public:
  Walker(FieldSink* sink, std::string* path, const std::string& json) : sink_(sink), path_(path), json_(json) {}

  // Adds the fields of `msg` (of type `d`), or NULL leaves for every field when msg is null (unset).
  void Walk(const pb::Message* msg, const pb::Descriptor* d, int depth) {
    stack_.push_back(d);
    const pb::Reflection* r = msg ? msg->GetReflection() : nullptr;
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      const size_t mark = path_->size();
      path_->push_back('.');
      path_->append(f->name());
      if (f->is_repeated()) {
        sink_->Add(*path_, msg ? RepeatedJson(depth, f) : Value::Null());
      } else if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        const pb::Descriptor* sub = f->message_type();
        bool recursive = false;
        for (const auto* s : stack_) recursive |= s == sub;
        const bool set = msg && r->HasField(*msg, f);
        // An unset recursive message would expand forever: it is one NULL field.
        if (depth + 1 >= kMaxDepth || (recursive && !set)) {
          sink_->Add(*path_, Value::Null());
        } else {
          Walk(set ? &r->GetMessage(*msg, f) : nullptr, sub, depth + 1);
        }
      } else if (!msg || (f->has_presence() && !r->HasField(*msg, f))) {
        sink_->Add(*path_, Value::Null());
      } else {
        sink_->Add(*path_, Scalar(*msg, *r, f));
      }
      path_->resize(mark);
    }
    stack_.pop_back();
  }

 private:
  static Value Scalar(const pb::Message& m, const pb::Reflection& r, const pb::FieldDescriptor* f) {
    using F = pb::FieldDescriptor;
    switch (f->cpp_type()) {
      case F::CPPTYPE_INT32: return Value::Int(r.GetInt32(m, f));
      case F::CPPTYPE_INT64: return Value::Int(r.GetInt64(m, f));
      case F::CPPTYPE_UINT32: return Value::Int(r.GetUInt32(m, f));
      case F::CPPTYPE_UINT64: {
        const uint64_t v = r.GetUInt64(m, f);
        return v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? Value::Int(static_cast<int64_t>(v))
                                                                                 : Value::Text(std::to_string(v));
      }
      case F::CPPTYPE_FLOAT: return Value::Double(r.GetFloat(m, f));
      case F::CPPTYPE_DOUBLE: return Value::Double(r.GetDouble(m, f));
      case F::CPPTYPE_BOOL: return Value::Bool(r.GetBool(m, f));
      case F::CPPTYPE_ENUM: {
        const pb::EnumValueDescriptor* e = r.GetEnum(m, f);
        // An open enum may carry a number its definition does not name.
        if (e->name().empty() || e->number() != r.GetEnumValue(m, f)) return Value::Text(std::to_string(r.GetEnumValue(m, f)));
        return Value::Text(e->name());
      }
      case F::CPPTYPE_STRING:
        return f->type() == F::TYPE_BYTES ? Value::Bytes(r.GetString(m, f)) : Value::Text(r.GetString(m, f));
      case F::CPPTYPE_MESSAGE: break;
    }
    return Value::Null();
  }

  // A repeated or map field as its protobuf JSON mapping, cut out of the message's JSON text (parsed
  // once, only for messages that have such fields).
  Value RepeatedJson(int depth, const pb::FieldDescriptor* f) {
    if (!parsed_) {
      doc_ = nlohmann::json::parse(json_, nullptr, /*allow_exceptions=*/false);
      parsed_ = true;
    }
    // The field's JSON lives under the path of names from the root (without the "value" prefix).
    const nlohmann::json* node = &doc_;
    std::string_view rest(*path_);
    rest.remove_prefix(std::min(rest.size(), rest.find('.') == std::string_view::npos ? rest.size() : rest.find('.') + 1));
    for (int level = 0; level <= depth && node; ++level) {
      const size_t dot = rest.find('.');
      const std::string part(rest.substr(0, dot));
      auto it = node->is_object() ? node->find(part) : node->end();
      node = node->is_object() && it != node->end() ? &*it : nullptr;
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    if (!node || node->is_null()) return Value::Text(f->is_map() ? "{}" : "[]");
    return Value::Text(node->dump());
  }

  FieldSink* sink_;
  std::string* path_;
  const std::string& json_;
  std::vector<const pb::Descriptor*> stack_;
  bool parsed_ = false;
  nlohmann::json doc_;
};

}  // namespace

ProtobufFields::~ProtobufFields() = default;

Result<std::shared_ptr<const ProtobufFields>> ProtobufFields::Load(const std::string& path, const std::string& message) {
  auto fields = std::shared_ptr<ProtobufFields>(new ProtobufFields());
  SFB_ASSIGN_OR_RETURN(fields->type_, ProtobufMessageType::Load(path, message));
  return std::shared_ptr<const ProtobufFields>(std::move(fields));
}

std::shared_ptr<const ProtobufFields> ProtobufFields::ForType(std::unique_ptr<const ProtobufMessageType> type) {
  auto fields = std::shared_ptr<ProtobufFields>(new ProtobufFields());
  fields->type_ = std::move(type);
  return fields;
}

ProtobufFields::Parser::Parser(const ProtobufFields* fields)
    : fields_(fields), message_(fields->type_->prototype()->New()) {}

ProtobufFields::Parser::~Parser() = default;

Status ProtobufFields::Parser::Parse(std::string_view bytes, std::string_view prefix, FieldSink* sink,
                                     std::string* json) {
  message_->Clear();
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !message_->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::BadRecord("the " + std::string(prefix) + " is not a valid " + fields_->type_->name() +
                             " protobuf message (" + std::to_string(bytes.size()) + " bytes)");
  }
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  json->clear();
  auto status = pb::util::MessageToJsonString(*message_, json, options);
  if (!status.ok()) {
    return Status::BadRecord("the " + std::string(prefix) + " (a " + fields_->type_->name() +
                             ") has no JSON form: " + std::string(status.message()));
  }
  name_.assign(prefix);
  Walker walker(sink, &name_, *json);
  walker.Walk(message_.get(), fields_->type_->descriptor(), 0);
  return Status::OK();
}

}  // namespace sfb
