#include "connectors/kafka/record_decoder.h"

#include "common/java_string.h"
#include "common/str_cat.h"
#include "common/text_preview.h"
#include "formats/json_fields.h"

namespace sfb {
namespace {

// How much of a key or value a decode error quotes.
constexpr size_t kPreviewBytes = 40;

std::string Preview(std::string_view bytes) { return PreviewText(bytes, kPreviewBytes); }

}  // namespace

const char* KafkaFormatName(KafkaFormat::Kind kind) {
  switch (kind) {
    case KafkaFormat::Kind::kRaw: return "raw";
    case KafkaFormat::Kind::kJson: return "json";
    case KafkaFormat::Kind::kProtobuf: return "protobuf";
    case KafkaFormat::Kind::kAvro: return "avro";
  }
  return "?";
}

RecordDecoder::RecordDecoder(const KafkaFormat& key_format, const KafkaFormat& value_format,
                             std::shared_ptr<const ProtobufFields> key_protobuf,
                             std::shared_ptr<const ProtobufFields> value_protobuf,
                             std::shared_ptr<SchemaSource> key_registry,
                             std::shared_ptr<SchemaSource> value_registry)
    : key_protobuf_(std::move(key_protobuf)), value_protobuf_(std::move(value_protobuf)) {
  SetUp(&key_, key_format, key_protobuf_.get(), std::move(key_registry));
  SetUp(&value_, value_format, value_protobuf_.get(), std::move(value_registry));
}

void RecordDecoder::SetUp(PartDecoder* p, const KafkaFormat& format, const ProtobufFields* protobuf,
                          std::shared_ptr<SchemaSource> registry) {
  p->format = format;
  if (protobuf) p->protobuf = std::make_unique<ProtobufFields::Parser>(protobuf);
  if (format.kind == KafkaFormat::Kind::kAvro && format.avro_schema) {
    p->avro_file = std::make_unique<AvroSchemaFileDecoder>(format.avro_schema, format.avro_fingerprint,
                                                           format.avro_schema_path);
  }
  if (!registry) return;
  if (format.kind == KafkaFormat::Kind::kAvro) {
    // A pinned subject was fetched into avro_reader_schema when the source was prepared; without one the
    // pinned version is looked up by each writer record's name (subject_name_strategy: record).
    const int32_t by_record_name = format.avro_reader_subject.empty() ? format.avro_reader_version : 0;
    p->avro = std::make_unique<RegistryAvroDecoder>(std::move(registry), format.avro_reader_schema,
                                                    format.avro_reader_schema_path, by_record_name);
  } else if (format.kind == KafkaFormat::Kind::kJson) {
    p->json = std::make_unique<RegistryJsonDecoder>(std::move(registry));
  } else if (format.kind == KafkaFormat::Kind::kProtobuf) {
    p->registry_protobuf = std::make_unique<RegistryProtobufDecoder>(std::move(registry));
  }
}

RecordDecoder::~RecordDecoder() = default;

void RecordDecoder::SelectFields(std::shared_ptr<const FieldSelection> selection) {
  selection_ = std::move(selection);
  const FieldSelection* s = selection_.get();
  auto selects = [s](const char* name) { return !s || s->Selects(name); };
  selects_topic_ = selects("topic");
  selects_partition_ = selects("partition");
  selects_offset_ = selects("offset");
  selects_timestamp_ = selects("timestamp");
  selects_key_ = selects("key");
  selects_value_ = selects("value");
  key_null_tested_ = s && s->OnlyNullTested("key");
  value_null_tested_ = s && s->OnlyNullTested("value");
  schemas_.clear();  // their has_selected was for the previous selection
  last_schema_ = nullptr;
}

void RecordDecoder::Add(std::string_view name, Value value) {
  // While the names match the previous record's schema (a homogeneous topic), they are only compared.
  if (!(matching_ && count_ < last_schema_->names.size() && last_schema_->names[count_] == name)) {
    if (matching_) {  // the first difference: this record's names so far, written out
      for (size_t i = 0; i < count_; ++i) SetName(i, last_schema_->names[i]);
      matching_ = false;
    }
    SetName(count_, name);
  }
  ++count_;
  values_.push_back(std::move(value));
}

void RecordDecoder::SetName(size_t i, std::string_view name) {
  if (i < names_.size()) {
    names_[i].assign(name);
  } else {
    names_.emplace_back(name);
  }
}

const std::string& RecordDecoder::NameAt(size_t i) const { return matching_ ? last_schema_->names[i] : names_[i]; }

Status RecordDecoder::DecodeJson(std::string_view bytes, std::string_view part, const FieldSelection* selection,
                                 bool whole, bool marker) {
  const size_t mark = count_;
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  const char opening = first == std::string_view::npos ? '\0' : bytes[first];
  // An object is also given whole, as its original text (FlattenJson gives its members).
  if (opening == '{' && whole) Add(part, marker ? Value::Bool(true) : Value::Text(std::string(bytes)));
  // A `null` document (the one JSON text starting with 'n') is NULL, like a tombstone: given even
  // when not selected, so a route's tombstone check sees it.
  if (opening == 'n' && !whole) selection = nullptr;
  std::string error;
  if (!FlattenJson(bytes, part, &path_, this, &error, selection)) {
    count_ = mark;
    values_.resize(mark);
    return Status::BadRecord(StrCat("the ", part, " is not JSON ('", Preview(bytes), "'): ", error))
        .WithHint(StrCat("fix the producer, or read the ", part, " as text: ", part, ": raw"));
  }
  return Status::OK();
}

Status RecordDecoder::DecodePart(PartDecoder& p, std::string_view part, std::optional<std::string_view> bytes,
                                 const FieldSelection* selection, bool whole, bool marker) {
  if (!bytes) {  // given even when not selected: a tombstone must stay one
    Add(part, Value::Null());
    return Status::OK();
  }
  const KafkaFormat& format = p.format;
  switch (format.kind) {
    case KafkaFormat::Kind::kRaw:
      if (format.raw_bytes) {
        if (whole) Add(part, marker ? Value::Bool(true) : Value::Bytes(std::string(*bytes)));
      } else {
        if (!IsValidUtf8(*bytes)) {  // checked even when not selected: the same messages are rejected
          return Status::BadRecord("the " + std::string(part) + " is not UTF-8 text ('" + Preview(*bytes) + "')")
              .WithHint("read binary data as bytes: " + std::string(part) + ": {format: raw, as: bytes}");
        }
        if (whole) Add(part, marker ? Value::Bool(true) : Value::Text(std::string(*bytes)));
      }
      return Status::OK();
    case KafkaFormat::Kind::kJson: {
      if (!p.json) return DecodeJson(*bytes, part, selection, whole, marker);
      SFB_ASSIGN_OR_RETURN(std::string_view payload, p.json->Payload(*bytes, part));
      return DecodeJson(payload, part, selection, whole, marker);
    }
    case KafkaFormat::Kind::kProtobuf: {
      const size_t mark = count_;
      Add(part, Value::Null());  // the JSON text, set below
      if (p.registry_protobuf) {
        Status decoded = p.registry_protobuf->Decode(*bytes, part, this, &json_);
        if (!decoded.ok()) {
          count_ = mark;
          values_.resize(mark);
          return decoded;
        }
        values_[mark] = Value::Text(json_);
        return Status::OK();
      }
      if (!p.protobuf) return Status::Internal("a protobuf format without its descriptor set or registry");
      SFB_RETURN_IF_ERROR(p.protobuf->Parse(*bytes, part, this, &json_).WithHint(
          "check that the producer writes " + format.message + " messages (descriptor_set " + format.descriptor_set +
          "), or read the " + std::string(part) + " as bytes: " + std::string(part) + ": {format: raw, as: bytes}"));
      values_[mark] = Value::Text(json_);
      return Status::OK();
    }
    case KafkaFormat::Kind::kAvro: {
      if (!p.avro && !p.avro_file) return Status::Internal("an avro format without its registry client or schema");
      const size_t mark = count_;
      Status decoded = p.avro ? p.avro->Decode(*bytes, part, this) : p.avro_file->Decode(*bytes, part, this);
      if (!decoded.ok()) {
        count_ = mark;
        values_.resize(mark);
      }
      return decoded;
    }
  }
  return Status::Internal("unknown Kafka format");
}

const RecordDecoder::CachedSchema& RecordDecoder::CurrentSchema() {
  if (matching_ && last_schema_->names.size() == count_) return *last_schema_;
  if (matching_) {
    for (size_t i = 0; i < count_; ++i) SetName(i, last_schema_->names[i]);
    matching_ = false;
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
    if (selection_) {
      for (const std::string& name : selection_->names()) {
        if (!seen.count(name)) c.has_selected = false;
      }
    }
    c.schema = std::make_shared<const Schema>(std::move(unique));
    it = schemas_.emplace(std::move(key), std::move(c)).first;
  }
  last_schema_ = &it->second;
  return it->second;
}

Status RecordDecoder::DecodeFields(const KafkaMessageView& m, const FieldSelection* selection) {
  count_ = 0;
  matching_ = last_schema_ != nullptr;
  values_.clear();
  const bool all = selection == nullptr;
  if (all || selects_topic_) Add("topic", Value::Text(std::string(m.topic)));
  if (all || selects_partition_) Add("partition", Value::Int(m.partition));
  if (all || selects_offset_) Add("offset", Value::Int(m.offset));
  if (all || selects_timestamp_) Add("timestamp", m.timestamp >= 0 ? Value::Int(m.timestamp) : Value::Null());
  SFB_RETURN_IF_ERROR(DecodePart(key_, "key", m.key, selection, all || selects_key_, !all && key_null_tested_));
  const size_t first_header = count_;
  for (const auto& [name, bytes] : m.headers) {
    path_.assign("headers.");
    path_.append(name);
    Value v = !bytes ? Value::Null() : IsValidUtf8(*bytes) ? Value::Text(std::string(*bytes)) : Value::Bytes(std::string(*bytes));
    bool replaced = false;
    for (size_t i = first_header; i < count_ && !replaced; ++i) {
      if (NameAt(i) == path_) {
        values_[i] = std::move(v);
        replaced = true;
      }
    }
    if (!replaced) Add(path_, std::move(v));
  }
  return DecodePart(value_, "value", m.value, selection, all || selects_value_, !all && value_null_tested_);
}

Status RecordDecoder::Decode(const KafkaMessageView& m, Record* record) {
  SFB_RETURN_IF_ERROR(DecodeFields(m, selection_.get()));
  const CachedSchema* schema = &CurrentSchema();
  if (selection_ && !schema->has_selected) {
    // Something the routes read is missing: the whole message, so the error that follows names
    // every field it does have (or, for a field only some routes read, nothing is lost).
    SFB_RETURN_IF_ERROR(DecodeFields(m, nullptr));
    schema = &CurrentSchema();
  }
  if (!schema->keep.empty()) {
    std::vector<Value> kept;
    for (uint32_t i : schema->keep) kept.push_back(std::move(values_[i]));
    values_ = std::move(kept);
  }
  *record = Record(schema->schema, std::move(values_));
  values_.clear();
  return Status::OK();
}

}  // namespace sfb
