#include "writer/base_carry_over.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/file_io.h"
#include "common/str_cat.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"

namespace sfb {
namespace {

// One key group's pairs, re-emitted run by run: the 0x80 flag goes on the last pair of a run, which is
// only known when the next pair (or the end) arrives, so one pair is held back.
class SectionWriter {
 public:
  SectionWriter(std::string* out, int key_group, int prefix_bytes)
      : out_(out), key_group_(key_group), prefix_bytes_(prefix_bytes) {}

  void Add(uint16_t state_id, std::string_view key_after_prefix, std::string_view value) {
    if (pending_) Flush(/*last_in_run=*/state_id != pending_state_);
    if (!pending_ || state_id != pending_state_) ByteWriter(out_).U16(state_id);
    pending_ = true;
    pending_state_ = state_id;
    pending_key_.clear();
    AppendKeyGroupPrefix(&pending_key_, key_group_, prefix_bytes_);
    pending_key_.append(key_after_prefix);
    pending_value_.assign(value);
  }
  // Ends the section; false when it had no pair (then nothing was written).
  bool Finish() {
    if (!pending_) return false;
    Flush(/*last_in_run=*/true);
    ByteWriter(out_).U16(kEndOfKeyGroupMark);
    return true;
  }

 private:
  void Flush(bool last_in_run) { AppendKeyValuePair(out_, pending_key_, pending_value_, last_in_run); }

  std::string* out_;
  int key_group_;
  int prefix_bytes_;
  bool pending_ = false;
  uint16_t pending_state_ = 0;
  std::string pending_key_, pending_value_;
};

Status CopyFileSynced(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::none, ec);
  if (ec) return Status::IoError(StrCat("cannot copy ", from, " to ", to, ": ", ec.message()));
  const int fd = ::open(to.c_str(), O_RDONLY);
  if (fd < 0) return Status::FromErrno("cannot open", to, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("cannot fsync", to, err);
  return Status::OK();
}

bool IsRunOwnFile(const std::string& name) {
  return name == kMetadataFileName || name.rfind("keyed-state-functions-", 0) == 0 ||
         name == "statefun-bootstrap.json" || name.rfind(".", 0) == 0;
}

}  // namespace

Status CheckJobAgainstBase(const BaseSavepoint& base, const std::vector<StateDescriptor>& job_states,
                           const OnExistingChoices& choices, int max_parallelism, int parallelism) {
  const OperatorStateMeta* fn = base.functions_operator();
  const std::string where = StrCat("base savepoint ", base.directory());
  if (!fn) return Status::OK();  // nothing keyed to merge with: the job's states are all new
  if (fn->max_parallelism != max_parallelism) {
    return Status::InvalidSpec(StrCat("the job's max parallelism is ", std::to_string(max_parallelism),
                                      " but the base savepoint's functions operator has max parallelism ",
                                      std::to_string(fn->max_parallelism)))
        .WithContext(where)
        .WithHint(StrCat("set savepoint.max_parallelism: ", std::to_string(fn->max_parallelism),
                         " (Flink cannot restore keyed state under another max parallelism)"));
  }
  if (fn->parallelism != parallelism) {
    return Status::InvalidSpec(StrCat("parallelism ", std::to_string(parallelism), " differs from the base's ",
                                      std::to_string(fn->parallelism),
                                      ": re-laying the base's keyed state by key group is not implemented yet"))
        .WithContext(where)
        .WithHint(StrCat("leave --parallelism unset with --base (the output then keeps the base's ",
                         std::to_string(fn->parallelism), "); Flink re-distributes on restore"));
  }
  std::map<std::string, const StateDescriptor*> job_by_name;
  for (const auto& s : job_states) job_by_name.emplace(s.FlinkName(), &s);
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(base.reader().OpenStreams(&streams).WithContext(where));
  for (const auto& stream : streams) {
    for (const auto& meta : stream.header.states) {
      auto it = job_by_name.find(meta.flink_name);
      if (it == job_by_name.end()) continue;
      const StateDescriptor& job = *it->second;
      std::string function_type, state;
      SplitFlinkStateName(meta.flink_name, &function_type, &state);
      const bool same_type = meta.supported && meta.descriptor.kind == job.kind &&
                             meta.descriptor.type_name == job.type_name && meta.descriptor.has_ttl() == job.has_ttl();
      if (!same_type) {
        return Status::InvalidSpec(StrCat("the job declares state '", state, "' of function ", function_type, " as ",
                                          job.kind == StateKind::kRemote ? "remote " : "embedded ", job.type_name,
                                          job.has_ttl() ? " with expiration" : " without expiration",
                                          ", but the base savepoint holds it as ", meta.description))
            .WithContext(StrCat(where, ", ", stream.name))
            .WithHint("declare the state exactly as the application does (type, and expire_after_* when it has "
                      "one): Flink refuses to restore a state whose serializer changed, whatever on_existing says");
      }
      if (ChoiceFor(choices, meta.flink_name) != OnExisting::kUnset) continue;
      return Status::InvalidSpec(StrCat("the job declares state '", state, "' of function ", function_type,
                                        ", which the base savepoint already holds (", meta.flink_name, ", ",
                                        meta.description, ")"))
          .WithContext(where)
          .WithHint(StrCat("say what to do with the base's values: on_existing: replace | keep | merge on the state "
                           "(functions: { ", function_type, ": { states: { ", state,
                           ": { on_existing: ... } } } }) or on its function. replace: the job's values win where it "
                           "writes; keep: the base's win where it has one; merge: the job's rules start from the "
                           "base's value"));
    }
  }
  return Status::OK();
}

Result<std::set<std::string>> KeyedStateNames(const BaseSavepoint& base) {
  std::set<std::string> names;
  if (!base.functions_operator()) return names;
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(base.reader().OpenStreams(&streams));
  for (const auto& stream : streams) {
    for (const auto& meta : stream.header.states) names.insert(meta.flink_name);
  }
  return names;
}

Result<std::unique_ptr<BaseSavepoint>> OpenBaseForRun(const std::string& base_path, const std::string& output_path,
                                                      const std::vector<StateDescriptor>& job_states,
                                                      const OnExistingChoices& choices, int max_parallelism,
                                                      int parallelism) {
  std::error_code ec1, ec2;
  const auto base_dir = std::filesystem::weakly_canonical(base_path, ec1);
  const auto out_dir = std::filesystem::weakly_canonical(output_path, ec2);
  if (!ec1 && !ec2 && (base_dir == out_dir || base_dir.parent_path() == out_dir)) {
    return Status::InvalidSpec(StrCat("the output ", output_path, " is the base savepoint ", base_path,
                                      ", which a run never modifies"))
        .WithHint("write the new savepoint to another directory (--output)");
  }
  SFB_ASSIGN_OR_RETURN(auto base, BaseSavepoint::Open(base_path));
  SFB_RETURN_IF_ERROR(CheckJobAgainstBase(*base, job_states, choices, max_parallelism, parallelism));
  return base;
}

Status MergeSubtasksWithBase(const BaseSavepoint& base, int max_parallelism, const std::string& dir,
                             int threads, const OnExistingChoices& choices, std::vector<SubtaskBuildResult>* results,
                             std::vector<ExistingCounts>* counts) {
  const int parallelism = static_cast<int>(results->size());
  std::vector<Status> errors(results->size());
  std::vector<std::vector<ExistingCounts>> per_subtask(results->size());
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next++; i < parallelism; i = next++) {
      SubtaskBuildResult& r = (*results)[static_cast<size_t>(i)];
      const std::string job_file = StrCat(dir, "/keyed-state-functions-", std::to_string(i));
      const std::string merged_file = StrCat(job_file, ".merged");
      auto m = MergeSubtaskWithBase(base, i, max_parallelism, parallelism, job_file, r.start_key_group, r.offsets,
                                    choices, merged_file);
      if (!m.ok()) {
        errors[static_cast<size_t>(i)] = m.status();
        continue;
      }
      std::error_code ec;
      std::filesystem::rename(merged_file, job_file, ec);
      if (ec) {
        errors[static_cast<size_t>(i)] = Status::IoError(StrCat("cannot rename ", merged_file, ": ", ec.message()));
        continue;
      }
      r.start_key_group = m->start_key_group;
      r.offsets = std::move(m->offsets);
      r.file_bytes = m->file_bytes;
      per_subtask[static_cast<size_t>(i)] = std::move(m->counts);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min(std::max(1, threads), parallelism); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (const Status& s : errors) SFB_RETURN_IF_ERROR(s);  // the lowest subtask's error, whatever the timing
  if (counts) {
    for (const auto& c : per_subtask) {
      if (counts->size() < c.size()) counts->resize(c.size());
      for (size_t j = 0; j < c.size(); ++j) (*counts)[j] += c[j];
    }
  }
  return Status::OK();
}

Result<MergedSubtask> MergeSubtaskWithBase(const BaseSavepoint& base, int subtask, int max_parallelism,
                                           int parallelism, const std::string& job_file,
                                           int32_t job_start_key_group, const std::vector<int64_t>& job_offsets,
                                           const OnExistingChoices& choices, const std::string& out_file) {
  const int prefix = KeyGroupPrefixBytes(max_parallelism);
  const KeyGroupRange range = KeyGroupRangeForSubtask(max_parallelism, parallelism, subtask);
  std::vector<SavepointReader::Stream> streams;
  SFB_RETURN_IF_ERROR(base.reader().OpenStreams(&streams));
  const SavepointReader::Stream* base_stream = nullptr;
  for (const auto& s : streams) {
    if (s.subtask == subtask) base_stream = &s;
  }
  SFB_ASSIGN_OR_RETURN(auto job_map, MappedFile::Open(job_file));
  const std::string_view job_bytes = job_map->data();
  KeyedStateHeader job_header;
  {
    ByteReader in(job_bytes);
    SFB_RETURN_IF_ERROR(ReadKeyedStateHeader(&in, &job_header).WithContext(job_file));
  }
  const size_t base_states = base_stream ? base_stream->header.states.size() : 0;
  // Output state ids: the base's keep theirs; a job state the base has (on_existing) takes the base's id,
  // every other job state the next free one, in job order.
  std::vector<uint16_t> out_id_of_job(job_header.states.size());
  std::vector<OnExisting> mode_of_out(base_states, OnExisting::kUnset);
  std::vector<int> job_of_out(base_states, -1);
  size_t next_id = base_states;
  for (size_t j = 0; j < job_header.states.size(); ++j) {
    const std::string& name = job_header.states[j].flink_name;
    int existing = -1;
    for (size_t b = 0; b < base_states; ++b) {
      if (base_stream->header.states[b].flink_name == name) existing = static_cast<int>(b);
    }
    if (existing < 0) {
      out_id_of_job[j] = static_cast<uint16_t>(next_id++);
      continue;
    }
    const OnExisting mode = ChoiceFor(choices, name);
    if (mode == OnExisting::kUnset) {
      return Status::Internal(StrCat("state ", name, " is in the base without an on_existing choice"));
    }
    out_id_of_job[j] = static_cast<uint16_t>(existing);
    mode_of_out[static_cast<size_t>(existing)] = mode;
    job_of_out[static_cast<size_t>(existing)] = static_cast<int>(j);
  }
  if (next_id > 32767) return Status::InvalidSpec("the base and the job together have more than 32767 states");

  // Header: proxy version and key serializer as the base wrote them (or ours); compression off.
  std::string out;
  const std::string_view header_source = base_stream ? base_stream->bytes : job_bytes;
  const KeyedStateHeader& header_of = base_stream ? base_stream->header : job_header;
  out.append(header_source.substr(0, header_of.states_offset));
  // We write every section uncompressed, so the flag says so even when the base's sections were snappy
  // framed (Flink reads the flag per file; the other operators' files keep theirs).
  out[header_of.compression_flag_offset] = '\0';
  ByteWriter(&out).I16(static_cast<int16_t>(next_id));
  if (base_stream) {
    for (const auto& [b, e] : base_stream->header.meta_info_spans) out.append(base_stream->bytes.substr(b, e - b));
  }
  for (size_t j = 0; j < job_header.states.size(); ++j) {
    if (out_id_of_job[j] < base_states) continue;  // the base's snapshot of it is already there
    const auto [b, e] = job_header.meta_info_spans[j];
    out.append(job_bytes.substr(b, e - b));
  }

  SFB_ASSIGN_OR_RETURN(auto sink, FileSink::Create(out_file));
  MergedSubtask result;
  result.start_key_group = range.start;
  result.offsets.assign(static_cast<size_t>(range.size()), 0);
  result.counts.assign(job_header.states.size(), ExistingCounts());
  auto offset_in = [](int32_t start, const std::vector<int64_t>& offsets, int kg) -> int64_t {
    const int64_t i = kg - start;
    return i >= 0 && i < static_cast<int64_t>(offsets.size()) ? offsets[static_cast<size_t>(i)] : 0;
  };
  // One key group's pairs by output state id; a state the job and the base both have keeps the two
  // sides apart until ResolveExistingKeyGroup() decides between them.
  std::map<uint16_t, std::vector<StatePair>> runs, job_side;
  std::vector<StatePair> resolved;
  std::string base_decoded;  // a compressed base key group's bytes, which `runs` views until it is written
  for (int kg = range.start; kg <= range.end; ++kg) {
    runs.clear();
    job_side.clear();
    if (base_stream) {
      const int64_t off = offset_in(base_stream->handle->start_key_group, base_stream->handle->offsets, kg);
      if (off != 0) {
        if (off < static_cast<int64_t>(base_stream->header.size) ||
            static_cast<uint64_t>(off) >= base_stream->bytes.size()) {
          return Status::Corruption(StrCat("key group ", std::to_string(kg), " starts at offset ",
                                           std::to_string(off), ", outside the stream"))
              .WithContext(base_stream->name);
        }
        SFB_RETURN_IF_ERROR(ReadKeyGroupSectionAt(base_stream->bytes, static_cast<size_t>(off), kg,
                                                  base_stream->header, prefix, &base_decoded,
                                                  [&](const KeyedEntry& e) -> Status {
                              if (e.key_group != kg) {
                                return Status::Corruption(StrCat("entry at offset ", std::to_string(e.offset),
                                                                 " is of key group ", std::to_string(e.key_group),
                                                                 " inside the section of ", std::to_string(kg)));
                              }
                              runs[e.state_id].push_back(StatePair{e.key, e.value});
                              ++result.base_entries;
                              return Status::OK();
                            }).WithContext(base_stream->name));
      }
    }
    const int64_t job_off = offset_in(job_start_key_group, job_offsets, kg);
    if (job_off != 0) {
      ByteReader in(job_bytes);
      in.Seek(static_cast<size_t>(job_off));
      SFB_RETURN_IF_ERROR(ReadKeyGroupSection(&in, prefix, job_header.states.size(), [&](const KeyedEntry& e) {
                            const uint16_t id = out_id_of_job[e.state_id];
                            if (id < base_states) {
                              job_side[id].push_back(StatePair{e.key, e.value});
                            } else {
                              runs[id].push_back(StatePair{e.key, e.value});
                              ++result.counts[e.state_id].added;
                            }
                            return Status::OK();
                          }).WithContext(job_file));
    }
    for (size_t b = 0; b < base_states; ++b) {
      if (mode_of_out[b] == OnExisting::kUnset) continue;
      const uint16_t id = static_cast<uint16_t>(b);
      auto base_it = runs.find(id);
      auto job_it = job_side.find(id);
      if (job_it == job_side.end() && base_it == runs.end()) continue;
      static const std::vector<StatePair> kNone;
      resolved.clear();
      ResolveExistingKeyGroup(mode_of_out[b], base_it == runs.end() ? kNone : base_it->second,
                              job_it == job_side.end() ? kNone : job_it->second, &resolved,
                              &result.counts[static_cast<size_t>(job_of_out[b])]);
      runs[id] = resolved;
    }
    const size_t section_start = out.size();
    SectionWriter section(&out, kg, prefix);
    for (const auto& [id, pairs] : runs) {
      for (const StatePair& p : pairs) section.Add(id, p.key, p.value);
    }
    if (section.Finish()) {
      result.offsets[static_cast<size_t>(kg - range.start)] =
          static_cast<int64_t>(sink->position() + section_start);
    }
    if (out.size() >= (1u << 20)) {
      SFB_RETURN_IF_ERROR(sink->Append(out));
      out.clear();
    }
  }
  SFB_RETURN_IF_ERROR(sink->Append(out));
  result.file_bytes = sink->position();
  SFB_RETURN_IF_ERROR(sink->Close());
  return result;
}

Status CarryOverOperators(const BaseSavepoint& base, const std::string& out_dir, SavepointMetadata* metadata) {
  const OperatorId functions_id = OperatorIdFromUid(kFunctionsOperatorUid);
  std::set<std::string> copied;
  auto copy = [&](const StreamHandle& h) -> Status {
    if (h.type != StreamHandle::Type::kRelativeFile || !copied.insert(h.path).second) return Status::OK();
    if (IsRunOwnFile(h.path)) {
      return Status::InvalidSpec(StrCat("the base savepoint's file ", h.path, " has a name this run writes itself"))
          .WithContext(StrCat("base savepoint ", base.directory()));
    }
    return CopyFileSynced(StrCat(base.directory(), "/", h.path), StrCat(out_dir, "/", h.path));
  };
  metadata->master_states = base.metadata().master_states;
  metadata->checkpoint_id = base.metadata().checkpoint_id;
  OperatorStateMeta* ours = nullptr;
  for (auto& op : metadata->operators) {
    if (op.id == functions_id) ours = &op;
  }
  std::vector<OperatorStateMeta> carried;
  for (const OperatorStateMeta* op : base.other_operators()) {
    for (const StreamHandle* h : StreamHandlesOf(*op)) SFB_RETURN_IF_ERROR(copy(*h));
    carried.push_back(*op);
  }
  if (const OperatorStateMeta* fn = base.functions_operator(); fn && ours) {
    for (const auto& st : fn->subtasks) {
      if (st.index < 0 || static_cast<size_t>(st.index) >= ours->subtasks.size()) continue;
      SubtaskState& mine = ours->subtasks[static_cast<size_t>(st.index)];
      if (st.has_managed_operator_state) {
        SFB_RETURN_IF_ERROR(copy(st.managed_operator.stream));
        mine.has_managed_operator_state = true;
        mine.managed_operator = st.managed_operator;
      }
      if (st.has_raw_operator_state) {
        SFB_RETURN_IF_ERROR(copy(st.raw_operator.stream));
        mine.has_raw_operator_state = true;
        mine.raw_operator = st.raw_operator;
      }
      if (st.has_raw_keyed_state) {
        SFB_RETURN_IF_ERROR(copy(st.raw_keyed.stream));
        mine.has_raw_keyed_state = true;
        mine.raw_keyed = st.raw_keyed;
      }
    }
    if (fn->has_coordinator_state) {
      SFB_RETURN_IF_ERROR(copy(fn->coordinator));
      ours->has_coordinator_state = true;
      ours->coordinator = fn->coordinator;
    }
  }
  // Base order first, as Flink wrote it; the functions operator stays where the base had it.
  std::vector<OperatorStateMeta> all;
  size_t next_other = 0;
  for (const auto& op : base.metadata().operators) {
    if (op.id == functions_id) {
      if (ours) all.push_back(*ours);
    } else {
      all.push_back(std::move(carried[next_other++]));
    }
  }
  if (!base.functions_operator() && ours) all.push_back(*ours);
  metadata->operators = std::move(all);
  return Status::OK();
}

}  // namespace sfb
