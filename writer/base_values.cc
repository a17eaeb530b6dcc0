#include "writer/base_values.h"

#include "common/byte_reader.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"

namespace sfb {

Result<std::unique_ptr<BaseValues>> BaseValues::Open(const BaseSavepoint& base, int subtask,
                                                     const std::vector<StateDescriptor>& job_states,
                                                     const OnExistingChoices& choices) {
  if (!base.functions_operator()) return std::unique_ptr<BaseValues>();
  std::unique_ptr<BaseValues> v(new BaseValues());
  v->max_parallelism_ = base.functions_operator()->max_parallelism;
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(base.reader().OpenStreams(&streams));
  SavepointReader::Stream* stream = nullptr;
  for (auto& s : streams) {
    if (s.subtask == subtask) stream = &s;
  }
  if (!stream) return std::unique_ptr<BaseValues>();
  v->base_state_of_.assign(job_states.size(), -1);
  v->job_state_of_.assign(stream->header.states.size(), -1);
  bool any = false;
  for (size_t j = 0; j < job_states.size(); ++j) {
    if (ChoiceFor(choices, job_states[j].FlinkName()) != OnExisting::kMerge) continue;
    for (size_t b = 0; b < stream->header.states.size(); ++b) {
      if (stream->header.states[b].flink_name != job_states[j].FlinkName()) continue;
      v->base_state_of_[j] = static_cast<int>(b);
      v->job_state_of_[b] = static_cast<int>(j);
      any = true;
    }
  }
  if (!any) return std::unique_ptr<BaseValues>();
  // The stream's views stay valid: its mapping is owned by the Stream, which moves with it.
  v->stream_ = std::move(*stream);
  return v;
}

Status BaseValues::Load(int kg) {
  if (kg == loaded_) return Status::OK();
  values_.clear();
  loaded_ = kg;
  const KeyedStateHandle& h = *stream_.handle;
  const int64_t i = kg - h.start_key_group;
  if (i < 0 || i >= static_cast<int64_t>(h.offsets.size())) return Status::OK();
  const int64_t off = h.offsets[static_cast<size_t>(i)];
  if (off == 0) return Status::OK();
  if (off < static_cast<int64_t>(stream_.header.size) || static_cast<uint64_t>(off) >= stream_.bytes.size()) {
    return Status::Corruption(StrCat("key group ", std::to_string(kg), " starts at offset ", std::to_string(off),
                                     ", outside the stream"))
        .WithContext(StrCat("base savepoint stream ", stream_.name));
  }
  return ReadKeyGroupSectionAt(stream_.bytes, static_cast<size_t>(off), kg, stream_.header,
                               KeyGroupPrefixBytes(max_parallelism_), &decoded_, [&](const KeyedEntry& e) -> Status {
                                 const int j = job_state_of_[e.state_id];
                                 if (j >= 0) values_[{j, e.key}] = e.value;
                                 return Status::OK();
                               })
      .WithContext(StrCat("base savepoint stream ", stream_.name));
}

std::optional<std::string_view> BaseValues::Find(size_t job_state, std::string_view key) const {
  auto it = values_.find({static_cast<int>(job_state), key});
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

}  // namespace sfb
