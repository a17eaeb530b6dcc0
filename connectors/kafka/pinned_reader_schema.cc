#include "connectors/kafka/pinned_reader_schema.h"

#include <vector>

#include "common/str_cat.h"

namespace sfb {
namespace {

constexpr size_t kListedSubjects = 20;  // a message lists at most this many of the registry's subjects

// "a, b, c" (and "... and 7 more" past kListedSubjects).
std::string Listed(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < kListedSubjects; ++i) out.append(StrCat(i ? ", " : "", items[i]));
  if (items.size() > kListedSubjects) out.append(StrCat(" and ", std::to_string(items.size() - kListedSubjects), " more"));
  return out;
}

// Why `subject` version `version` is missing, with what the registry has instead when it says.
Status Missing(SchemaSource& registry, const std::string& subject, int32_t version, const std::string& what,
               const Status& not_found) {
  Result<std::vector<int32_t>> versions = registry.Versions(subject);
  if (versions.ok()) {
    std::vector<std::string> listed;
    for (int32_t v : *versions) listed.push_back(std::to_string(v));
    return Status::InvalidSpec(StrCat(what, ": subject ", subject, " has no version ", SchemaVersionText(version),
                                      " (it has version", listed.size() == 1 ? " " : "s ", Listed(listed), ")"))
        .WithHint("give reader_schema.version one of them, or latest");
  }
  if (versions.status().code() == Status::Code::kNotFound) {
    Result<std::vector<std::string>> subjects = registry.Subjects();
    std::string has;
    if (subjects.ok()) {
      has = subjects->empty() ? " (it has no subjects)" : StrCat(" (its subjects: ", Listed(*subjects), ")");
    }
    return Status::InvalidSpec(StrCat(what, ": the schema registry has no subject ", subject, has))
        .WithHint("give reader_schema.subject the subject the producer registers under; with the default "
                  "subject_name_strategy: topic it is <topic>-value (or -key), with record the record's full "
                  "name (namespace.name)");
  }
  return Status::InvalidSpec(StrCat(what, ": ", not_found.message())).WithHint(not_found.hint());
}

}  // namespace

Result<PinnedReaderSchema> FetchPinnedReaderSchema(SchemaSource& registry, const std::string& subject,
                                                   int32_t version, std::string_view part) {
  const std::string what =
      StrCat("the ", part, "'s reader schema (subject ", subject, " version ", SchemaVersionText(version), ")");
  Result<std::shared_ptr<const RegistrySchema>> fetched = registry.SchemaByVersion(subject, version);
  if (!fetched.ok()) {
    if (fetched.status().code() != Status::Code::kNotFound) {
      Status failed = fetched.status();
      return std::move(failed).WithContext(what);
    }
    return Missing(registry, subject, version, what, fetched.status());
  }
  const RegistrySchema& pinned = **fetched;
  PinnedReaderSchema out;
  out.name = StrCat("subject ", subject, " version ", SchemaVersionText(version), " (schema id ",
                    std::to_string(pinned.id), ")");
  if (pinned.type != "AVRO") {
    return Status::InvalidSpec(StrCat(what, " is a ", pinned.type, " schema (id ", std::to_string(pinned.id),
                                      "), not Avro"))
        .WithHint("only Avro values are projected onto a reader schema: pin an Avro subject, or leave "
                  "reader_schema out (each record is then read with the schema it was written with)");
  }
  Result<std::shared_ptr<const AvroSchema>> compiled = AvroSchema::Parse(pinned.text);
  if (!compiled.ok()) {
    return Status::InvalidSpec(StrCat(what, ", schema id ", std::to_string(pinned.id), ", does not compile: ",
                                      compiled.status().message()));
  }
  out.schema = std::move(*compiled);
  return out;
}

}  // namespace sfb
