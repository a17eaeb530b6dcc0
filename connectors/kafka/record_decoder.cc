#include "connectors/kafka/record_decoder.h"

#include <nlohmann/json.hpp>

#include "common/java_string.h"

namespace sfb {
namespace {

// Flattens one JSON document into fields as the parser reads it (no document tree is built):
// members of objects become fields under dotted names, arrays are re-serialized compactly into one
// text field, a scalar document is the field itself. The caller adds the part's own field first for
// objects and arrays (their original text).
class JsonFields {
 public:
  using json = nlohmann::json;
  JsonFields(std::string_view part, std::string* path, FieldSink* sink) : part_(part), path_(path), sink_(sink) {
    path_->assign(part);
  }
  const std::string& error() const { return error_; }

  bool null() { return Scalar(Value::Null(), "null"); }
  bool boolean(bool v) { return Scalar(Value::Bool(v), v ? "true" : "false"); }
  bool number_integer(json::number_integer_t v) { return Scalar(Value::Int(v), std::to_string(v)); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (v <= static_cast<uint64_t>(INT64_MAX)) return Scalar(Value::Int(static_cast<int64_t>(v)), std::to_string(v));
    return Scalar(Value::Text(std::to_string(v)), std::to_string(v));
  }
  bool number_float(json::number_float_t v, const std::string& text) { return Scalar(Value::Double(v), text); }
  bool string(std::string& v) {
    if (array_depth_ > 0) return Scalar(Value::Null(), json(v).dump());
    return Scalar(Value::Text(std::move(v)), "");
  }
  bool binary(json::binary_t&) { return true; }  // not produced by the text parser
  bool start_object(std::size_t) {
    if (array_depth_ > 0) {
      Open('{');
      return true;
    }
    if (depth_++ > 0) marks_.push_back(path_->size());  // the root object has no name of its own
    return true;
  }
  bool key(std::string& k) {
    if (array_depth_ > 0) {
      Separate();
      array_text_ += json(k).dump();
      array_text_.push_back(':');
      first_.back() = true;  // the member's value follows without a comma
      return true;
    }
    path_->resize(marks_.empty() ? part_.size() : marks_.back());
    path_->push_back('.');
    path_->append(k);
    return true;
  }
  bool end_object() {
    if (array_depth_ > 0) return Close('}');
    if (--depth_ > 0) {
      path_->resize(marks_.back());
      marks_.pop_back();
    }
    return true;
  }
  bool start_array(std::size_t) {
    if (array_depth_ == 0) {
      if (depth_ == 0) {  // the document is an array: the caller keeps its text
        root_array_ = true;
      }
      array_text_.clear();
      first_.clear();
    }
    Open('[');
    ++array_depth_;
    return true;
  }
  bool end_array() {
    --array_depth_;
    Close(']');
    if (array_depth_ == 0 && !root_array_) sink_->Add(*path_, Value::Text(array_text_));
    return true;
  }
  template <typename Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    error_ = e.what();
    const auto p = error_.find("parse error");
    if (p != std::string::npos) error_ = error_.substr(p);
    return false;
  }

 private:
  bool Scalar(Value v, const std::string& text) {
    if (array_depth_ > 0) {
      Separate();
      array_text_ += text;
    } else {
      sink_->Add(*path_, std::move(v));
    }
    return true;
  }
  void Separate() {
    if (!first_.back()) array_text_.push_back(',');
    first_.back() = false;
  }
  void Open(char c) {
    if (!first_.empty()) Separate();
    array_text_.push_back(c);
    first_.push_back(true);
    if (c == '{') ++array_depth_;
  }
  bool Close(char c) {
    array_text_.push_back(c);
    first_.pop_back();
    if (c == '}') --array_depth_;
    return true;
  }

  std::string_view part_;
  std::string* path_;
  FieldSink* sink_;
  int depth_ = 0;                 // object nesting outside arrays
  std::vector<size_t> marks_;     // path lengths of the enclosing objects
  int array_depth_ = 0;           // > 0: inside an array, serializing into array_text_
  bool root_array_ = false;
  std::string array_text_;
  std::vector<bool> first_;       // per open array/object inside an array: no element written yet
  std::string error_;
};

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
      const size_t mark = count_;
      const size_t first = bytes->find_first_not_of(" \t\r\n");
      const bool structured = first != std::string_view::npos && ((*bytes)[first] == '{' || (*bytes)[first] == '[');
      // Objects and arrays are also given whole, as their original text.
      if (structured) Add(part, Value::Text(std::string(*bytes)));
      JsonFields fields(part, &path_, this);
      if (!nlohmann::json::sax_parse(bytes->begin(), bytes->end(), &fields)) {
        count_ = mark;
        values_.resize(mark);
        return Status::BadRecord("the " + std::string(part) + " is not JSON ('" + Preview(*bytes) +
                                 "'): " + (fields.error().empty() ? "malformed JSON" : fields.error()))
            .WithHint("fix the producer, or read the " + std::string(part) + " as text: " + std::string(part) +
                      ": raw");
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

const RecordDecoder::CachedSchema& RecordDecoder::CurrentSchema() {
  if (last_schema_ && last_schema_->names.size() == count_) {
    bool same = true;
    for (size_t i = 0; i < count_ && same; ++i) same = last_schema_->names[i] == names_[i];
    if (same) return *last_schema_;
  }
  std::string key;
  for (size_t i = 0; i < count_; ++i) {
    key += names_[i];
    key.push_back('\0');
  }
  auto it = schemas_.find(key);
  if (it == schemas_.end()) {
    if (schemas_.size() > 1024) {  // bound the cache for ever-changing fields
      schemas_.clear();
      last_schema_ = nullptr;
    }
    CachedSchema c;
    c.names.assign(names_.begin(), names_.begin() + static_cast<long>(count_));
    // A name given twice (a JSON object repeating a member, say): the field keeps its first place
    // and takes the last value, as JSON parsers commonly do.
    std::map<std::string_view, size_t> seen;
    std::vector<std::string> unique;
    for (size_t i = 0; i < count_; ++i) {
      auto [at, fresh] = seen.emplace(c.names[i], unique.size());
      if (fresh) {
        unique.push_back(c.names[i]);
        c.keep.push_back(static_cast<uint32_t>(i));
      } else {
        c.keep[at->second] = static_cast<uint32_t>(i);
      }
    }
    if (unique.size() == count_) c.keep.clear();
    c.schema = std::make_shared<const Schema>(std::move(unique));
    it = schemas_.emplace(std::move(key), std::move(c)).first;
  }
  last_schema_ = &it->second;
  return it->second;
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
  const CachedSchema& schema = CurrentSchema();
  if (!schema.keep.empty()) {
    std::vector<Value> kept;
    for (uint32_t i : schema.keep) kept.push_back(std::move(values_[i]));
    values_ = std::move(kept);
  }
  *record = Record(schema.schema, std::move(values_));
  values_.clear();
  return Status::OK();
}

}  // namespace sfb
