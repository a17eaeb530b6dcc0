// SpecContext: strict, located reading of job-spec YAML nodes, shared by the job parser and by every
// connector's own spec parser (connectors/*/..._spec.cc).
//
// Every accessor names the file, line and column of the node it complains about, expands ${VAR}
// references (job_spec.h), and says how to fix the value. CheckKeys rejects unknown keys with a
// "did you mean" suggestion, so typos in a spec fail loudly instead of being ignored.

#ifndef SFB_JOB_SPEC_NODE_H_
#define SFB_JOB_SPEC_NODE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace sfb {

class SpecContext {
 public:
  // `text`: the file's text, for ValueLines (optional).
  SpecContext(std::string file, std::string base_dir, std::string text = "")
      : file_(std::move(file)), base_dir_(std::move(base_dir)), text_(std::move(text)) {}

  const std::string& file() const { return file_; }
  // "job.yaml:12:5"
  std::string Where(const YAML::Node& node) const;
  Status Error(const YAML::Node& node, const std::string& what, const std::string& fix = "") const;
  // Where each line of a scalar's value starts in the file, as {line, column} (1-based): every line of
  // a literal block (|), the first line of any other scalar (later lines of a folded or flow scalar are
  // joined into one, so their place is not known); empty without the file's text.
  std::vector<std::pair<int, int>> ValueLines(const YAML::Node& node) const;
  // A path from the spec, resolved against the job file's directory.
  std::string Path(const std::string& path) const;

  // `allowed` may hold prefixes ending in '*' ("x-*": every key starting with x-).
  Status CheckKeys(const YAML::Node& map, const std::string& what, const std::vector<std::string>& allowed) const;
  Result<std::string> Scalar(const YAML::Node& node, const std::string& what) const;
  Result<int64_t> Integer(const YAML::Node& node, const std::string& what, int64_t lo, int64_t hi,
                          const std::string& fix = "") const;
  Result<bool> Boolean(const YAML::Node& node, const std::string& what) const;
  // "64MB", "512KiB", "1GB", or bytes.
  Result<uint64_t> ByteSize(const YAML::Node& node, const std::string& what) const;
  // "90s", "15m", "7d", milliseconds.
  Result<int64_t> DurationMillis(const YAML::Node& node, const std::string& what) const;
  // A scalar or a list of scalars.
  Result<std::vector<std::string>> StringList(const YAML::Node& node, const std::string& what) const;

 private:
  std::string file_;
  std::string base_dir_;
  std::string text_;
};

}  // namespace sfb

#endif  // SFB_JOB_SPEC_NODE_H_
