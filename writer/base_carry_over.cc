#include "writer/base_carry_over.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <deque>
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

constexpr char kRawKeyedFilePrefix[] = "raw-keyed-functions-";

bool IsRunOwnFile(const std::string& name) {
  return name == kMetadataFileName || name.rfind("keyed-state-functions-", 0) == 0 ||
         name.rfind(kRawKeyedFilePrefix, 0) == 0 ||
         name == "statefun-bootstrap.json" || name.rfind(".", 0) == 0;
}

// The way out of every refusal to re-lay: keep the base's layout and let Flink re-distribute it.
std::string KeepBaseParallelismHint(int base_parallelism) {
  return StrCat("leave --parallelism unset with --base (the output then keeps the base's ",
                std::to_string(base_parallelism), "); Flink re-distributes on restore");
}

// What a parallelism other than the base's cannot re-lay, refused before anything is read or written.
// Keyed state (managed and raw) moves by key group. Operator state does not: a subtask of a savepoint has
// at most one managed and one raw operator-state handle (the _metadata format), so base subtask i keeps
// its handles on output subtask i. With more subtasks than the base that is what Flink restores at the
// output's parallelism (a savepoint at the job's own parallelism keeps SPLIT_DISTRIBUTE lists where they
// are and gives UNION and BROADCAST state to every subtask); with fewer, a base subtask >= P that has
// operator state would have nowhere to go without rewriting its stream, so it is refused.
Status CheckFunctionsOperatorRelay(const BaseSavepoint& base, int parallelism) {
  const OperatorStateMeta* fn = base.functions_operator();
  if (!fn || fn->parallelism == parallelism) return Status::OK();
  const std::string where = StrCat("base savepoint ", base.directory());
  const std::string hint = KeepBaseParallelismHint(fn->parallelism);
  for (const auto& st : fn->subtasks) {
    if (st.index < 0) continue;
    const std::string subtask = StrCat("subtask ", std::to_string(st.index), " of ", kFunctionsOperatorUid);
    if (st.index >= parallelism && (st.has_managed_operator_state || st.has_raw_operator_state)) {
      return Status::InvalidSpec(StrCat("parallelism ", std::to_string(parallelism), " is lower than the base's ",
                                        std::to_string(fn->parallelism), " and the base's ", subtask,
                                        " has operator state, which a savepoint can only hold per subtask (one "
                                        "handle each): it cannot move to a lower subtask without rewriting it"))
          .WithContext(where)
          .WithHint(hint);
    }
    if (!st.has_raw_keyed_state) continue;
    // Raw keyed state is re-laid by key group: each group's bytes run from its offset to the next group's
    // (Flink writes them in ascending order, -1 for a group it did not start), the last one to the end.
    int64_t previous = -1;
    for (size_t i = 0; i < st.raw_keyed.offsets.size(); ++i) {
      const int64_t off = st.raw_keyed.offsets[i];
      if (off < 0) continue;
      if (off < previous) {
        return Status::InvalidSpec(StrCat("the raw keyed state of the base's ", subtask, " has key group ",
                                          std::to_string(st.raw_keyed.start_key_group + static_cast<int>(i)),
                                          " at offset ", std::to_string(off), ", before the previous group's ",
                                          std::to_string(previous),
                                          ", so where each key group ends is unknown and it cannot be re-laid"))
            .WithContext(where)
            .WithHint(hint);
      }
      previous = off;
    }
  }
  return Status::OK();
}

// Re-lays the raw keyed state of the base's functions operator (heap timers of an application that
// writes them there) onto the output's subtasks by key group: output subtask i gets a file
// raw-keyed-functions-<i> holding, for each of its key groups in ascending order, that group's bytes
// unchanged, and a key-groups handle (type 3) with their offsets (-1 for a group the base did not write).
Status RelayRawKeyedState(const BaseSavepoint& base, const std::string& out_dir, OperatorStateMeta* ours) {
  const OperatorStateMeta& fn = *base.functions_operator();
  struct Span {
    const std::string* bytes;
    size_t begin, end;
  };
  std::deque<std::string> data;
  std::map<int, Span> by_kg;
  for (const auto& st : fn.subtasks) {
    if (st.index < 0 || !st.has_raw_keyed_state) continue;
    const KeyedStateHandle& h = st.raw_keyed;
    const std::string where = StrCat("raw keyed state of subtask ", std::to_string(st.index), " of ",
                                     kFunctionsOperatorUid, " in base savepoint ", base.directory());
    data.emplace_back();
    std::string& bytes = data.back();
    if (h.stream.type == StreamHandle::Type::kInline) {
      bytes = h.stream.inline_data;
    } else if (h.stream.type == StreamHandle::Type::kRelativeFile) {
      SFB_RETURN_IF_ERROR(ReadFileToString(StrCat(base.directory(), "/", h.stream.path), &bytes).WithContext(where));
    } else {  // BaseSavepoint::Open refuses absolute files first; this guards any other handle type
      return Status::InvalidSpec(StrCat("the stream ", h.stream.path, " is an absolute file"))
          .WithContext(where)
          .WithHint("take a canonical savepoint of the application");
    }
    int previous = -1;
    for (size_t i = 0; i < h.offsets.size(); ++i) {
      const int64_t off = h.offsets[i];
      if (off < 0) continue;
      const int kg = h.start_key_group + static_cast<int>(i);
      if (static_cast<uint64_t>(off) > bytes.size()) {
        return Status::Corruption(StrCat("key group ", std::to_string(kg), " starts at offset ", std::to_string(off),
                                         ", after the stream's ", std::to_string(bytes.size()), " bytes"))
            .WithContext(where);
      }
      if (previous >= 0) by_kg[previous].end = static_cast<size_t>(off);  // ascending: checked before
      by_kg[kg] = Span{&bytes, static_cast<size_t>(off), bytes.size()};
      previous = kg;
    }
  }
  if (by_kg.empty()) return Status::OK();
  for (SubtaskState& mine : ours->subtasks) {
    const KeyGroupRange range = KeyGroupRangeForSubtask(fn.max_parallelism, ours->parallelism, mine.index);
    std::string out;
    std::vector<int64_t> offsets(static_cast<size_t>(range.size()), -1);
    bool any = false;
    for (int kg = range.start; kg <= range.end; ++kg) {
      auto it = by_kg.find(kg);
      if (it == by_kg.end()) continue;
      offsets[static_cast<size_t>(kg - range.start)] = static_cast<int64_t>(out.size());
      out.append(*it->second.bytes, it->second.begin, it->second.end - it->second.begin);
      any = true;
    }
    if (!any) continue;
    const std::string name = StrCat(kRawKeyedFilePrefix, std::to_string(mine.index));
    SFB_RETURN_IF_ERROR(WriteStringToFileSynced(StrCat(out_dir, "/", name), out));
    mine.has_raw_keyed_state = true;
    mine.raw_keyed = KeyedStateHandle();
    mine.raw_keyed.kind = KeyedStateHandle::Kind::kKeyGroups;
    mine.raw_keyed.start_key_group = range.start;
    mine.raw_keyed.offsets = std::move(offsets);
    mine.raw_keyed.stream.type = StreamHandle::Type::kRelativeFile;
    mine.raw_keyed.stream.path = name;
    mine.raw_keyed.stream.size = static_cast<int64_t>(out.size());
  }
  return Status::OK();
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
  // Another parallelism is re-laid by key group (MergeSubtaskWithBase, CarryOverOperators); what cannot be
  // is refused there, before anything is written, by CheckFunctionsOperatorRelay().
  SFB_RETURN_IF_ERROR(CheckFunctionsOperatorRelay(base, parallelism));
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
  // The base streams holding key groups of this subtask, in base subtask order: one when the output has
  // the base's parallelism (the same subtask's), otherwise every base subtask whose range meets ours.
  std::vector<const SavepointReader::Stream*> sources;
  for (const auto& s : streams) {
    const int32_t first = s.handle->start_key_group;
    const int32_t last = first + static_cast<int32_t>(s.handle->offsets.size()) - 1;
    if (first <= range.end && last >= range.start) sources.push_back(&s);
  }
  SFB_ASSIGN_OR_RETURN(auto job_map, MappedFile::Open(job_file));
  const std::string_view job_bytes = job_map->data();
  KeyedStateHeader job_header;
  {
    ByteReader in(job_bytes);
    SFB_RETURN_IF_ERROR(ReadKeyedStateHeader(&in, &job_header).WithContext(job_file));
  }
  // The base's states of this file: the union over `sources`, each name once, in first-seen order (the
  // first source's order, then what later ones add), so a single source keeps its ids 0..b-1. `id_of`
  // maps each source's state ids to these.
  std::vector<std::pair<const SavepointReader::Stream*, size_t>> base_meta;  // where each id's snapshot is
  std::map<std::string, uint16_t> base_id_by_name;
  std::vector<std::vector<uint16_t>> id_of(sources.size());
  for (size_t k = 0; k < sources.size(); ++k) {
    const KeyedStateHeader& h = sources[k]->header;
    for (size_t b = 0; b < h.states.size(); ++b) {
      auto [it, added] = base_id_by_name.emplace(h.states[b].flink_name, static_cast<uint16_t>(base_meta.size()));
      if (added) base_meta.emplace_back(sources[k], b);
      id_of[k].push_back(it->second);
    }
    if (k == 0) continue;
    // The header prefix (version, compression flag, key serializer snapshot) is taken from the first
    // source; Flink writes the same one for every subtask of a job, so a difference is refused.
    std::string a(sources[0]->bytes.substr(0, sources[0]->header.states_offset));
    std::string b(sources[k]->bytes.substr(0, h.states_offset));
    if (a.size() == b.size()) {
      a[sources[0]->header.compression_flag_offset] = '\0';
      b[h.compression_flag_offset] = '\0';
    }
    if (a != b) {
      return Status::InvalidSpec(StrCat("the base's keyed-state streams ", sources[0]->name, " and ", sources[k]->name,
                                        " have different key serializers or header versions, so their key groups "
                                        "cannot share one file of subtask ", std::to_string(subtask), " of ",
                                        std::to_string(parallelism)))
          .WithContext(StrCat("base savepoint ", base.directory()))
          .WithHint(KeepBaseParallelismHint(base.functions_operator()->parallelism));
    }
  }
  const size_t base_states = base_meta.size();
  // Output state ids: the base's as above; a job state the base has (on_existing) takes the base's id,
  // every other job state the next free one, in job order.
  std::vector<uint16_t> out_id_of_job(job_header.states.size());
  std::vector<OnExisting> mode_of_out(base_states, OnExisting::kUnset);
  std::vector<int> job_of_out(base_states, -1);
  size_t next_id = base_states;
  for (size_t j = 0; j < job_header.states.size(); ++j) {
    const std::string& name = job_header.states[j].flink_name;
    auto found = base_id_by_name.find(name);
    if (found == base_id_by_name.end()) {
      out_id_of_job[j] = static_cast<uint16_t>(next_id++);
      continue;
    }
    const OnExisting mode = ChoiceFor(choices, name);
    if (mode == OnExisting::kUnset) {
      return Status::Internal(StrCat("state ", name, " is in the base without an on_existing choice"));
    }
    const uint16_t existing = found->second;
    out_id_of_job[j] = existing;
    mode_of_out[existing] = mode;
    job_of_out[existing] = static_cast<int>(j);
  }
  if (next_id > 32767) return Status::InvalidSpec("the base and the job together have more than 32767 states");

  // Header: proxy version and key serializer as the base wrote them (or ours); compression off.
  std::string out;
  const SavepointReader::Stream* first = sources.empty() ? nullptr : sources[0];
  const std::string_view header_source = first ? first->bytes : job_bytes;
  const KeyedStateHeader& header_of = first ? first->header : job_header;
  out.append(header_source.substr(0, header_of.states_offset));
  // We write every section uncompressed, so the flag says so even when the base's sections were snappy
  // framed (Flink reads the flag per file; the other operators' files keep theirs).
  out[header_of.compression_flag_offset] = '\0';
  ByteWriter(&out).I16(static_cast<int16_t>(next_id));
  for (const auto& [stream, b] : base_meta) {
    const auto [begin, end] = stream->header.meta_info_spans[b];
    out.append(stream->bytes.substr(begin, end - begin));
  }
  for (size_t j = 0; j < job_header.states.size(); ++j) {
    if (out_id_of_job[j] < base_states) continue;  // the base's snapshot of it is already there
    const auto [b, e] = job_header.meta_info_spans[j];
    out.append(job_bytes.substr(b, e - b));
  }

  SFB_ASSIGN_OR_RETURN(auto sink, FileSink::CreateDirect(out_file));
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
    for (size_t k = 0; k < sources.size(); ++k) {
      const SavepointReader::Stream& src = *sources[k];
      SFB_ASSIGN_OR_RETURN(const size_t off, src.SectionOffset(kg));
      if (off == 0) continue;
      const std::vector<uint16_t>& ids = id_of[k];
      SFB_RETURN_IF_ERROR(ReadKeyGroupSectionAt(src.bytes, off, kg, src.header, prefix,
                                                &base_decoded, [&](const KeyedEntry& e) -> Status {
                            if (e.key_group != kg) {
                              return Status::Corruption(StrCat("entry at offset ", std::to_string(e.offset),
                                                               " is of key group ", std::to_string(e.key_group),
                                                               " inside the section of ", std::to_string(kg)));
                            }
                            runs[ids[e.state_id]].push_back(StatePair{e.key, e.value});
                            ++result.base_entries;
                            return Status::OK();
                          }).WithContext(src.name));
      break;  // a key group is in one base subtask's range only
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
    SFB_RETURN_IF_ERROR(CheckFunctionsOperatorRelay(base, ours->parallelism));
    const bool relaid = ours->parallelism != fn->parallelism;
    // Operator state: base subtask i's handles on output subtask i (see CheckFunctionsOperatorRelay).
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
      if (st.has_raw_keyed_state && !relaid) {
        SFB_RETURN_IF_ERROR(copy(st.raw_keyed.stream));
        mine.has_raw_keyed_state = true;
        mine.raw_keyed = st.raw_keyed;
      }
    }
    if (relaid) SFB_RETURN_IF_ERROR(RelayRawKeyedState(base, out_dir, ours));
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
