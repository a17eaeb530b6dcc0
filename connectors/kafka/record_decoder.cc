#include "connectors/kafka/record_decoder.h"

#include <nlohmann/json.hpp>

#include "common/java_string.h"

namespace sfb {
namespace {

// The JSON parser's own description of why `text` is not JSON.
std::string JsonError(std::string_view text) {
  std::string why = "malformed JSON";
  try {
    const nlohmann::json discard = nlohmann::json::parse(text);
    (void)discard;
  } catch (const nlohmann::json::parse_error& e) {
    why = e.what();
    const auto p = why.find("parse error");
    if (p != std::string::npos) why = why.substr(p);
  }
  return why;
}

Value JsonScalar(const nlohmann::ordered_json& v) {
  if (v.is_null()) return Value::Null();
  if (v.is_boolean()) return Value::Bool(v.get<bool>());
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    return u <= static_cast<uint64_t>(INT64_MAX) ? Value::Int(static_cast<int64_t>(u)) : Value::Text(std::to_string(u));
  }
  if (v.is_number_integer()) return Value::Int(v.get<int64_t>());
  if (v.is_number_float()) return Value::Double(v.get<double>());
  if (v.is_string()) return Value::Text(v.get<std::string>());
  return Value::Text(v.dump());  // arrays
}

std::string Preview(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return bytes.size() > 40 ? out + "..." : out;
}

}  // namespace

const char* KafkaFormatName(KafkaFormat::Kind kind) {
  switch (kind) {
    case KafkaFormat::Kind::kRaw: return "raw";
    case KafkaFormat::Kind::kJson: return "json";
    case KafkaFormat::Kind::kProtobuf: return "protobuf";
  }
  return "?";
}

RecordDecoder::RecordDecoder(const KafkaFormat& key_format, const KafkaFormat& value_format,
                             std::shared_ptr<const ProtobufFields> key_protobuf,
                             std::shared_ptr<const ProtobufFields> value_protobuf)
    : key_format_(key_format), value_format_(value_format), key_protobuf_(std::move(key_protobuf)),
      value_protobuf_(std::move(value_protobuf)) {
  if (key_protobuf_) key_parser_ = std::make_unique<ProtobufFields::Parser>(key_protobuf_.get());
  if (value_protobuf_) value_parser_ = std::make_unique<ProtobufFields::Parser>(value_protobuf_.get());
}

RecordDecoder::~RecordDecoder() = default;

void RecordDecoder::Add(std::string_view name, Value value) {
  if (count_ < names_.size()) {
    names_[count_].assign(name);
  } else {
    names_.emplace_back(name);
  }
  ++count_;
  values_.push_back(std::move(value));
}

void RecordDecoder::Flatten(const nlohmann::ordered_json& obj, std::string* path) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const size_t mark = path->size();
    path->push_back('.');
    path->append(it.key());
    if (it.value().is_object()) {
      Flatten(it.value(), path);
    } else {
      Add(*path, JsonScalar(it.value()));
    }
    path->resize(mark);
  }
}

Status RecordDecoder::DecodePart(const KafkaFormat& format, ProtobufFields::Parser* protobuf, std::string_view part,
                                 std::optional<std::string_view> bytes) {
  if (!bytes) {
    Add(part, Value::Null());
    return Status::OK();
  }
  switch (format.kind) {
    case KafkaFormat::Kind::kRaw:
      if (format.raw_bytes) {
        Add(part, Value::Bytes(std::string(*bytes)));
      } else {
        if (!IsValidUtf8(*bytes)) {
          return Status::BadRecord("the " + std::string(part) + " is not UTF-8 text ('" + Preview(*bytes) + "')")
              .WithHint("read binary data as bytes: " + std::string(part) + ": {format: raw, as: bytes}");
        }
        Add(part, Value::Text(std::string(*bytes)));
      }
      return Status::OK();
    case KafkaFormat::Kind::kJson: {
      nlohmann::ordered_json doc = nlohmann::ordered_json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded()) {
        return Status::BadRecord("the " + std::string(part) + " is not JSON ('" + Preview(*bytes) +
                                 "'): " + JsonError(*bytes))
            .WithHint("fix the producer, or read the " + std::string(part) + " as text: " + std::string(part) +
                      ": raw");
      }
      if (doc.is_object()) {
        Add(part, Value::Text(std::string(*bytes)));
        path_.assign(part);
        Flatten(doc, &path_);
      } else if (doc.is_array()) {
        Add(part, Value::Text(std::string(*bytes)));
      } else {
        Add(part, JsonScalar(doc));
      }
      return Status::OK();
    }
    case KafkaFormat::Kind::kProtobuf: {
      const size_t mark = count_;
      Add(part, Value::Null());  // the JSON text, set below
      SFB_RETURN_IF_ERROR(protobuf->Parse(*bytes, part, this, &json_).WithHint(
          "check that the producer writes " + format.message + " messages (descriptor_set " + format.descriptor_set +
          "), or read the " + std::string(part) + " as bytes: " + std::string(part) + ": {format: raw, as: bytes}"));
      values_[mark] = Value::Text(json_);
      return Status::OK();
    }
  }
  return Status::Internal("unknown Kafka format");
}

std::shared_ptr<const Schema> RecordDecoder::CurrentSchema() {
  if (last_schema_ && last_schema_->size() == count_) {
    bool same = true;
    const auto& names = last_schema_->names();
    for (size_t i = 0; i < count_ && same; ++i) same = names[i] == names_[i];
    if (same) return last_schema_;
  }
  std::string key;
  for (size_t i = 0; i < count_; ++i) {
    key += names_[i];
    key.push_back('\0');
  }
  auto it = schemas_.find(key);
  if (it == schemas_.end()) {
    if (schemas_.size() > 1024) schemas_.clear();  // bound the cache for ever-changing fields
    it = schemas_.emplace(key, std::make_shared<const Schema>(
                                   std::vector<std::string>(names_.begin(), names_.begin() + static_cast<long>(count_))))
             .first;
  }
  last_schema_ = it->second;
  return last_schema_;
}

Status RecordDecoder::Decode(const KafkaMessageView& m, Record* record) {
  count_ = 0;
  values_.clear();
  Add("topic", Value::Text(std::string(m.topic)));
  Add("partition", Value::Int(m.partition));
  Add("offset", Value::Int(m.offset));
  Add("timestamp", m.timestamp >= 0 ? Value::Int(m.timestamp) : Value::Null());
  SFB_RETURN_IF_ERROR(DecodePart(key_format_, key_parser_.get(), "key", m.key));
  const size_t first_header = count_;
  for (const auto& [name, bytes] : m.headers) {
    path_.assign("headers.");
    path_.append(name);
    Value v = !bytes ? Value::Null() : IsValidUtf8(*bytes) ? Value::Text(std::string(*bytes)) : Value::Bytes(std::string(*bytes));
    bool replaced = false;
    for (size_t i = first_header; i < count_ && !replaced; ++i) {
      if (names_[i] == path_) {
        values_[i] = std::move(v);
        replaced = true;
      }
    }
    if (!replaced) Add(path_, std::move(v));
  }
  SFB_RETURN_IF_ERROR(DecodePart(value_format_, value_parser_.get(), "value", m.value));
  *record = Record(CurrentSchema(), std::move(values_));
  values_.clear();
  return Status::OK();
}

}  // namespace sfb
