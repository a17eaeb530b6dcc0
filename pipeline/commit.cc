#include "pipeline/commit.h"

#include <chrono>
#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "savepoint/metadata.h"
#include "writer/base_carry_over.h"

namespace sfb {

Status CommitSavepoint(const CommitJob& job) {
  SavepointMetadata metadata;
  OperatorStateMeta op;
  op.id = OperatorIdFromUid(kFunctionsOperatorUid);
  op.parallelism = job.parallelism;
  op.max_parallelism = job.max_parallelism;
  for (int i = 0; i < job.parallelism; ++i) {
    SubtaskBuildResult& r = (*job.subtasks)[static_cast<size_t>(i)];
    SubtaskState st;
    st.index = i;
    st.has_keyed_state = true;
    st.keyed.start_key_group = r.start_key_group;
    st.keyed.offsets = std::move(r.offsets);
    st.keyed.stream.type = StreamHandle::Type::kRelativeFile;
    st.keyed.stream.path = "keyed-state-functions-" + std::to_string(i);
    st.keyed.stream.size = static_cast<int64_t>(r.file_bytes);
    op.subtasks.push_back(std::move(st));
    job.summary->addresses += r.addresses;
    job.summary->bytes += r.file_bytes;
  }
  metadata.operators.push_back(std::move(op));
  if (job.base) SFB_RETURN_IF_ERROR(CarryOverOperators(*job.base, job.staged->path(), &metadata));
  for (const auto& in : *job.inputs) {
    job.summary->sources.push_back({{"name", in.name}, {"provenance", in.source->Provenance()}});
  }
  {
    nlohmann::ordered_json prov;
    prov["tool"] = "statefun-bootstrap";
    prov["format"] = "flink-1.16-canonical-savepoint";
    prov["operator_uid"] = kFunctionsOperatorUid;
    prov["max_parallelism"] = job.max_parallelism;
    prov["parallelism"] = job.parallelism;
    prov["ttl_timestamp"] = job.ttl_timestamp;
    prov["created_at_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
    prov["records_read"] = job.counters->records_read.load();
    prov["records_routed"] = job.counters->records_forwarded.load();
    if (job.dead_letter) {
      prov["records_dead_lettered"] = job.counters->records_dead_lettered.load();
      prov["dead_letter"] = job.dead_letter->path();
    }
    prov["addresses"] = job.summary->addresses;
    if (job.base) prov["base"] = job.base->directory();
    prov["sources"] = job.summary->sources;
    SFB_RETURN_IF_ERROR(WriteStringToFileSynced(job.staged->path() + "/" + kProvenanceFile, prov.dump(2) + "\n"));
  }
  for (const auto& in : *job.inputs) {
    for (const auto& [name, contents] : in.source->HandoffFiles()) {
      if (name.empty() || name.find('/') != std::string::npos || name == kProvenanceFile || name == kMetadataFileName) {
        return Status::Internal("source " + in.name + " asked for a handoff file named '" + name + "'");
      }
      SFB_RETURN_IF_ERROR(WriteStringToFileSynced(job.staged->path() + "/" + name, contents));
    }
  }
  SFB_ASSIGN_OR_RETURN(std::string metadata_bytes, SerializeMetadata(metadata));
  SFB_RETURN_IF_ERROR(WriteStringToFileSynced(job.staged->path() + "/" + kMetadataFileName, metadata_bytes));
  job.summary->bytes += metadata_bytes.size();
  // Every file Flink may read: the keyed-state files and _metadata, and on a base also what it carries over
  // (other operators' files, raw keyed state); not our provenance record or a source's handoff files.
  std::set<std::string> ours = {kProvenanceFile};
  for (const auto& in : *job.inputs) {
    for (const auto& [name, contents] : in.source->HandoffFiles()) ours.insert(name);
  }
  uint64_t files = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(job.staged->path(), ec)) {
    if (e.is_regular_file(ec) && !ours.count(e.path().filename().string())) ++files;
  }
  job.summary->files = files;
  if (job.cancel->load()) return Status::Cancelled("interrupted; no savepoint was written");
  if (job.base) SFB_RETURN_IF_ERROR(job.base->CheckUnchanged());
  return job.staged->Commit();
}

}  // namespace sfb
