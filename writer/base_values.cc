#include "writer/base_values.h"

#include "common/byte_reader.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"

namespace sfb {

Result<std::unique_ptr<BaseValues>> BaseValues::Open(const BaseSavepoint& base,
                                                     const std::vector<StateDescriptor>& job_states,
                                                     const OnExistingChoices& choices) {
  if (!base.functions_operator()) return std::unique_ptr<BaseValues>();
  std::unique_ptr<BaseValues> v(new BaseValues());
  v->max_parallelism_ = base.functions_operator()->max_parallelism;
  v->merges_.assign(job_states.size(), false);
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(base.reader().OpenStreams(&streams));
  bool any = false;
  for (auto& stream : streams) {
    Source src;
    src.job_state_of.assign(stream.header.states.size(), -1);
    for (size_t j = 0; j < job_states.size(); ++j) {
      if (ChoiceFor(choices, job_states[j].FlinkName()) != OnExisting::kMerge) continue;
      for (size_t b = 0; b < stream.header.states.size(); ++b) {
        if (stream.header.states[b].flink_name != job_states[j].FlinkName()) continue;
        src.job_state_of[b] = static_cast<int>(j);
        v->merges_[j] = true;
        any = true;
      }
    }
    // The stream's views stay valid: its mapping is owned by the Stream, which moves with it.
    src.stream = std::move(stream);
    v->sources_.push_back(std::move(src));
  }
  if (!any) return std::unique_ptr<BaseValues>();
  return v;
}

Status BaseValues::Load(int kg) {
  if (kg == loaded_) return Status::OK();
  values_.clear();
  loaded_ = kg;
  loaded_name_.clear();
  const Source* src = nullptr;
  for (const Source& s : sources_) {
    if (s.stream.HoldsKeyGroup(kg)) {
      src = &s;
      break;
    }
  }
  if (!src) return Status::OK();
  const SavepointReader::Stream& stream = src->stream;
  loaded_name_ = stream.name;
  auto off = stream.SectionOffset(kg);
  if (!off.ok()) return Status(off.status()).WithContext("base savepoint");
  if (*off == 0) return Status::OK();
  return ReadKeyGroupSectionAt(stream.bytes, *off, kg, stream.header,
                               KeyGroupPrefixBytes(max_parallelism_), &decoded_, [&](const KeyedEntry& e) -> Status {
                                 const int j = src->job_state_of[e.state_id];
                                 if (j >= 0) values_[{j, e.key}] = e.value;
                                 return Status::OK();
                               })
      .WithContext(StrCat("base savepoint stream ", stream.name));
}

std::optional<std::string_view> BaseValues::Find(size_t job_state, std::string_view key) const {
  auto it = values_.find({static_cast<int>(job_state), key});
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sfb
