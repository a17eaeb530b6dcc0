// The `file:` block of a job spec's source (README.md, "Sources: file"):
//
//   users: { file: { path: data/users.csv, format: csv, delimiter: ",", header: true,
//                    columns: [...], multiline: false, split_size: 32MB } }
//
// format defaults from the extension (.csv; .jsonl, .ndjson, .json); csv options apply to csv only.

#ifndef SFB_CONNECTORS_FILE_FILE_SOURCE_SPEC_H_
#define SFB_CONNECTORS_FILE_FILE_SOURCE_SPEC_H_

#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "connectors/file/file_source.h"
#include "connectors/source_definition.h"
#include "job/spec_node.h"

namespace sfb {

class FileSourceDefinition : public SourceDefinition {
 public:
  explicit FileSourceDefinition(FileSourceConfig config) : config_(std::move(config)) {}
  const char* kind() const override { return "file"; }
  Result<std::unique_ptr<Source>> Create() const override;
  nlohmann::ordered_json Describe() const override;
  const FileSourceConfig& config() const { return config_; }

 private:
  FileSourceConfig config_;
};

Result<std::unique_ptr<SourceDefinition>> ParseFileSourceSpec(const SpecContext& ctx, const std::string& name,
                                                              const YAML::Node& node);

}  // namespace sfb

#endif  // SFB_CONNECTORS_FILE_FILE_SOURCE_SPEC_H_
