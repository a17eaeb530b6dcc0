#include "connectors/kafka/registry_protobuf_decoder.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "common/str_cat.h"
#include "connectors/kafka/protobuf_message_indexes.h"
#include "connectors/kafka/registry_wire_format.h"
#include "formats/protobuf_message_type.h"
#include "formats/protobuf_schema_text.h"

namespace sfb {
namespace {

namespace pb = google::protobuf;

// References deeper than this are a cycle or not a real schema.
constexpr int kMaxImportDepth = 32;

// Keeps the first error building a file reports.
class FirstBuildError : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name, const pb::Message*, ErrorLocation,
                const std::string& message) override {
    if (message_.empty()) message_ = StrCat(filename, ": ", element_name.empty() ? "" : element_name, ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

std::string PathText(const std::vector<int>& path) {
  std::string out = "[";
  for (size_t i = 0; i < path.size(); ++i) out.append(StrCat(i ? ", " : "", std::to_string(path[i])));
  out.push_back(']');
  return out;
}

// Adds a file libprotobuf carries (google/protobuf/timestamp.proto...) and what it imports. False when
// libprotobuf does not have it.
bool AddBuiltIn(pb::DescriptorPool* pool, const std::string& name) {
  if (pool->FindFileByName(name)) return true;
  const pb::FileDescriptor* built_in = pb::DescriptorPool::generated_pool()->FindFileByName(name);
  if (!built_in) return false;
  for (int i = 0; i < built_in->dependency_count(); ++i) AddBuiltIn(pool, built_in->dependency(i)->name());
  pb::FileDescriptorProto proto;
  built_in->CopyTo(&proto);
  return pool->BuildFile(proto) != nullptr;
}

// Builds `schema` into `pool` as file `name`, its references first. A registry that does not answer is
// an error of its own code (IoError); anything about the schemas is a BadRecord.
class FileBuilder {
 public:
  FileBuilder(SchemaSource* registry, pb::DescriptorPool* pool, std::string id_text)
      : registry_(registry), pool_(pool), id_text_(std::move(id_text)) {}

  Result<const pb::FileDescriptor*> Add(const RegistrySchema& schema, const std::string& name, int depth) {
    if (const pb::FileDescriptor* done = pool_->FindFileByName(name)) return done;
    if (depth > kMaxImportDepth || !building_.insert(name).second) {
      return Bad(StrCat("its imports go around in a circle through ", name));
    }
    for (const RegistryReference& ref : schema.references) {
      if (pool_->FindFileByName(ref.name)) continue;
      Result<std::shared_ptr<const RegistrySchema>> imported = registry_->SchemaByVersion(ref.subject, ref.version);
      if (!imported.ok()) {
        if (imported.status().code() != Status::Code::kNotFound) return imported.status();
        return Bad(StrCat("the schema ", ref.name, " it imports (subject ", ref.subject, " version ",
                          std::to_string(ref.version), ") is missing: ", imported.status().message()));
      }
      SFB_RETURN_IF_ERROR(Add(**imported, ref.name, depth + 1).status());
    }
    Result<pb::FileDescriptorProto> proto = ParseProtobufSchema(schema.text, name);
    if (!proto.ok()) return Bad(proto.status().message());
    for (const std::string& import : proto->dependency()) {
      if (pool_->FindFileByName(import) || AddBuiltIn(pool_, import)) continue;
      return Bad(StrCat(name, " imports ", import, ", which is neither among its references nor built in"))
          .WithHint("register the imported file and reference it from the schema (the serializers do this)");
    }
    FirstBuildError errors;
    const pb::FileDescriptor* built = pool_->BuildFileCollectingErrors(*proto, &errors);
    if (!built) return Bad(StrCat("it does not build: ", errors.message()));
    building_.erase(name);
    return built;
  }

 private:
  Status Bad(const std::string& why) const {
    return Status::BadRecord(StrCat("the Protobuf schema with id ", id_text_, " cannot be used: ", why));
  }

  SchemaSource* registry_;
  pb::DescriptorPool* pool_;
  const std::string id_text_;
  std::set<std::string> building_;
};

}  // namespace

RegistryProtobufDecoder::RegistryProtobufDecoder(std::shared_ptr<SchemaSource> registry)
    : registry_(std::move(registry)) {}

RegistryProtobufDecoder::~RegistryProtobufDecoder() = default;

Result<RegistryProtobufDecoder::File> RegistryProtobufDecoder::Build(const RegistrySchema& schema,
                                                                     std::string_view part) {
  const std::string id_text = std::to_string(schema.id);
  if (schema.type != "PROTOBUF") {
    return Status::BadRecord(
               StrCat("the ", part, "'s schema id ", id_text, " is a ", schema.type, " schema, not Protobuf"))
        .WithHint(StrCat("read the ", part, " with the format its producer writes"));
  }
  auto pool = std::make_shared<pb::DescriptorPool>();
  FileBuilder builder(registry_.get(), pool.get(), id_text);
  // The root's own name only has to differ from the names its imports are known by.
  SFB_ASSIGN_OR_RETURN(const pb::FileDescriptor* file,
                       builder.Add(schema, StrCat("registry-schema-", id_text, ".proto"), 0));
  File out;
  out.pool = std::move(pool);
  out.file = file;
  return out;
}

Result<RegistryProtobufDecoder::File*> RegistryProtobufDecoder::FileFor(int32_t id, std::string_view part) {
  if (auto it = files_.find(id); it != files_.end()) {
    if (!it->second.ok()) return it->second.status();
    return &*it->second;
  }
  Result<std::shared_ptr<const RegistrySchema>> fetched = registry_->SchemaById(id);
  if (!fetched.ok()) {
    if (fetched.status().code() != Status::Code::kNotFound) return fetched.status();  // not kept: fails the run
    Status unknown = Status::BadRecord(StrCat("the ", part, "'s schema id ", std::to_string(id), " is unknown: ",
                                              fetched.status().message()))
                         .WithHint(fetched.status().hint());
    files_.emplace(id, unknown);
    return unknown;
  }
  RegistrySchema schema = **fetched;
  schema.id = id;
  Result<File> built = Build(schema, part);
  if (!built.ok() && built.status().code() != Status::Code::kBadRecord) return built.status();  // registry down
  auto it = files_.emplace(id, std::move(built)).first;
  if (!it->second.ok()) return it->second.status();
  return &*it->second;
}

Result<ProtobufFields::Parser*> RegistryProtobufDecoder::ParserFor(File* file, const std::vector<int>& path,
                                                                   int32_t id, std::string_view part) {
  if (auto it = file->parsers.find(path); it != file->parsers.end()) return it->second.parser.get();
  auto none = [&](const std::string& why) {
    return Status::BadRecord(StrCat("the ", part, "'s message indexes ", PathText(path), " name no message of schema id ",
                                    std::to_string(id), ": ", why))
        .WithHint("the producer must write with the schema the id names");
  };
  if (path[0] >= file->file->message_type_count()) {
    return none(StrCat("the file has ", std::to_string(file->file->message_type_count()), " top-level messages"));
  }
  const pb::Descriptor* d = file->file->message_type(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    if (path[i] >= d->nested_type_count()) {
      return none(StrCat(d->full_name(), " has ", std::to_string(d->nested_type_count()), " nested messages"));
    }
    d = d->nested_type(path[i]);
  }
  MessageParser p;
  p.fields = ProtobufFields::ForType(ProtobufMessageType::FromPool(file->pool, d));
  p.parser = std::make_unique<ProtobufFields::Parser>(p.fields.get());
  return file->parsers.emplace(path, std::move(p)).first->second.parser.get();
}

Status RegistryProtobufDecoder::Decode(std::string_view bytes, std::string_view part, FieldSink* sink,
                                       std::string* json) {
  Result<RegistryFrame> frame = ParseRegistryFrame(bytes);
  if (!frame.ok()) {
    return Status::BadRecord(StrCat("the ", part, " is ", frame.status().message())).WithHint(frame.status().hint());
  }
  const std::string id_text = std::to_string(frame->schema_id);
  Result<ProtobufMessageIndexes> indexes = ParseProtobufMessageIndexes(frame->payload);
  if (!indexes.ok()) {
    return Status::BadRecord(StrCat("the ", part, " (schema id ", id_text, "): ", indexes.status().message()))
        .WithHint(indexes.status().hint());
  }
  SFB_ASSIGN_OR_RETURN(File* file, FileFor(frame->schema_id, part));
  SFB_ASSIGN_OR_RETURN(ProtobufFields::Parser* parser, ParserFor(file, indexes->path, frame->schema_id, part));
  Status parsed = parser->Parse(indexes->payload, part, sink, json);
  if (!parsed.ok()) {
    return Status::BadRecord(StrCat("the ", part, " (schema id ", id_text, ", message indexes ",
                                    PathText(indexes->path), "): ", parsed.message()))
        .WithHint("check that the producer writes with the registry the job names");
  }
  return Status::OK();
}

}  // namespace sfb
