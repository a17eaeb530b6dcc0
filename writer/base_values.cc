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
  int64_t off = 0;
  for (const Source& s : sources_) {
    const KeyedStateHandle& h = *s.stream.handle;
    const int64_t i = kg - h.start_key_group;
    if (i < 0 || i >= static_cast<int64_t>(h.offsets.size())) continue;
    src = &s;
    off = h.offsets[static_cast<size_t>(i)];
    break;
  }
  if (!src) return Status::OK();
  const SavepointReader::Stream& stream = src->stream;
  loaded_name_ = stream.name;
  if (off == 0) return Status::OK();
  if (off < static_cast<int64_t>(stream.header.size) || static_cast<uint64_t>(off) >= stream.bytes.size()) {
    return Status::Corruption(StrCat("key group ", std::to_string(kg), " starts at offset ", std::to_string(off),
                                     ", outside the stream"))
        .WithContext(StrCat("base savepoint stream ", stream.name));
  }
  return ReadKeyGroupSectionAt(stream.bytes, static_cast<size_t>(off), kg, stream.header,
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
