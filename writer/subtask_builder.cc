#include "writer/subtask_builder.h"

#include <algorithm>

#include "common/byte_reader.h"
#include "common/byte_writer.h"
#include "common/file_io.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "common/text_preview.h"
#include "savepoint/key_groups.h"
#include "savepoint/keyed_state_file.h"
#include "writer/base_values.h"
#include "writer/partial_combiner.h"
#include "writer/spill_buffer.h"

namespace sfb {
namespace {

constexpr size_t kRunMemoryLimit = 4 << 20;

// The address being built. Its id is decoded from the key's StringValue bytes only when asked for (a C++
// API function's self(), an error message): rule functions never ask, and decoding every address's id
// took the users job at 10M rows from 4.8 to 5.6 user CPU s.
class AddressContext : public Context {
 public:
  const Address& self() const override {
    if (!id_decoded_) {
      ByteReader r(*id_bytes_);
      if (!ReadStringValueUtf8(&r, &id16_, &address_.id).ok()) {
        // This run encoded the bytes (EncodeStoreKey, writer/shard_store.h): only a corrupt spill file gets here.
        address_.id = "<undecodable id " + PreviewText(*id_bytes_, 60) + ">";
      }
      id_decoded_ = true;
    }
    return address_;
  }
  const std::string& source() const override { return *source_name; }
  // `id_bytes` (the key's StringValue) must stay unchanged until the next Reset.
  void Reset(const std::string& function_type, const std::string* id_bytes) {
    address_.function_type = function_type;
    id_bytes_ = id_bytes;
    id_decoded_ = false;
  }
  // "namespace/name/id", for messages.
  std::string Name() const { return StrCat(self().function_type, "/", self().id); }

  const std::string* source_name = nullptr;

 private:
  mutable Address address_;
  mutable std::u16string id16_;
  mutable bool id_decoded_ = false;
  const std::string* id_bytes_ = nullptr;
};

Status ReadSchemaId(std::string_view value, uint32_t* id, size_t* consumed) {
  uint32_t v = 0;
  for (size_t i = 0; i < value.size() && i < 5; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(value[i]) & 0x7F) << (7 * i);
    if ((static_cast<uint8_t>(value[i]) & 0x80) == 0) {
      *id = v;
      *consumed = i + 1;
      return Status::OK();
    }
  }
  return Status::Corruption("bad schema id in the spill store");
}

class Builder {
 public:
  explicit Builder(const SubtaskBuildInput& in) : in_(in) {}

  Result<SubtaskBuildResult> Run() {
    const KeyGroupRange range = KeyGroupRangeForSubtask(in_.max_parallelism, in_.parallelism, in_.subtask);
    prefix_bytes_ = KeyGroupPrefixBytes(in_.max_parallelism);
    result_.start_key_group = range.start;
    result_.offsets.assign(static_cast<size_t>(range.size()), 0);
    result_.entries_per_state.assign(in_.states->size(), 0);
    for (size_t i = 0; i < in_.states->size(); ++i) {
      runs_.emplace_back(in_.spill_dir, kRunMemoryLimit);
      java_string_.push_back((*in_.states)[i].type_name == "java.lang.String");
    }
    for (const auto& f : *in_.functions) instances_.push_back(f.provider());
    if (in_.base && in_.on_existing) {
      SFB_ASSIGN_OR_RETURN(base_values_, BaseValues::Open(*in_.base, *in_.states, *in_.on_existing));
    }

    SFB_ASSIGN_OR_RETURN(sink_, FileSink::CreateDirect(in_.file_path));
    std::string header;
    SFB_RETURN_IF_ERROR(AppendKeyedStateHeader(&header, *in_.states));
    SFB_RETURN_IF_ERROR(sink_->Append(header));

    auto cursor = in_.entries->NewCursor(range.start, range.end);
    uint64_t n = 0;
    for (; cursor->Valid(); cursor->Next()) {
      if ((++n & 1023) == 0 && in_.cancel->load(std::memory_order_relaxed)) return Status::Cancelled("interrupted");
      StoreKey key;
      SFB_RETURN_IF_ERROR(DecodeStoreKey(cursor->key(), &key));
      if (!in_address_ || key.key_group != key_group_ || key.function != function_ || key.id_bytes != id_bytes_) {
        SFB_RETURN_IF_ERROR(FinishAddress());
        if (key.key_group != key_group_) {
          SFB_RETURN_IF_ERROR(FinishKeyGroup(range));
          key_group_ = key.key_group;
        }
        SFB_RETURN_IF_ERROR(StartAddress(key));
      }
      if (key.source == kPartialSource) {
        if ((key.position >> kPartialFlushBits) != in_.partial_run) continue;  // an interrupted run's
        Status s = partials_.Add(cursor->value());
        if (!s.ok()) return s.WithContext(StrCat("address ", ctx_.Name()));
        continue;
      }
      SFB_RETURN_IF_ERROR(Apply(key, cursor->value()));
    }
    SFB_RETURN_IF_ERROR(cursor->status());
    SFB_RETURN_IF_ERROR(FinishAddress());
    SFB_RETURN_IF_ERROR(FinishKeyGroup(range));
    PublishAddresses();
    result_.file_bytes = sink_->position();
    SFB_RETURN_IF_ERROR(sink_->Close());
    return std::move(result_);
  }

 private:
  Status StartAddress(const StoreKey& key) {
    in_address_ = true;
    function_ = key.function;
    id_bytes_.assign(key.id_bytes);
    ctx_.Reset((*in_.functions)[function_].function_type, &id_bytes_);
    instances_[function_]->ClearAllStates();
    partials_.Clear();
    return base_values_ ? LoadBaseValues() : Status::OK();
  }

  // on_existing: merge: the address's states start from the base's values.
  Status LoadBaseValues() {
    const FunctionBinding& binding = (*in_.functions)[function_];
    auto& slots = instances_[function_]->mutable_slots();
    preloaded_.assign(slots.size(), std::nullopt);
    bool loaded = false;
    for (size_t i = 0; i < slots.size(); ++i) {
      const uint16_t state_id = binding.state_ids[i];
      if (!base_values_->Merges(state_id)) continue;
      if (!loaded) {
        SFB_RETURN_IF_ERROR(base_values_->Load(key_group_));
        key_.assign(id_bytes_);
        key_.push_back('\0');  // VoidNamespace
        loaded = true;
      }
      const std::optional<std::string_view> bytes = base_values_->Find(state_id, key_);
      if (!bytes) continue;
      const StateDescriptor& d = (*in_.states)[state_id];
      StateValue v;
      int64_t ttl_timestamp = 0;
      Status s = d.DecodeValue(*bytes, &v, &ttl_timestamp);
      if (!s.ok()) {
        return Status::Corruption(StrCat("the base's value of state ", d.FlinkName(), " for address ",
                                         ctx_.Name(), " (key group ",
                                         std::to_string(key_group_), ") does not decode as ", d.type_name, ": ",
                                         s.message()))
            .WithContext(StrCat("base savepoint stream ", base_values_->stream_name()))
            .WithHint("on_existing: merge needs the base's values in the state's declared type; declare the type "
                      "the application writes, or use on_existing: replace or keep");
      }
      preloaded_[i] = v;
      slots[i].value = std::move(v);
    }
    return Status::OK();
  }

  Status Apply(const StoreKey& key, std::string_view value) {
    uint32_t schema_id = 0;
    size_t consumed = 0;
    SFB_RETURN_IF_ERROR(ReadSchemaId(value, &schema_id, &consumed));
    // The registry takes a lock; consecutive records mostly share a schema.
    if (!schema_ || schema_id != schema_id_) {
      schema_ = in_.schemas->Get(schema_id);
      if (!schema_) return Status::Corruption("unknown schema id in the spill store");
      schema_id_ = schema_id;
      // The record borrows the schema the registry keeps alive for the whole run: an owning copy
      // would take and drop a reference (two atomic operations) for every record parsed.
      schema_view_ = std::shared_ptr<const Schema>(std::shared_ptr<const Schema>(), schema_.get());
    }
    SFB_RETURN_IF_ERROR(Record::ParseValues(value.substr(consumed), schema_view_, &record_));
    ctx_.source_name = &(*in_.source_names)[key.source];
    Status s = instances_[function_]->Bootstrap(ctx_, record_);
    if (!s.ok()) {
      return s.WithContext(in_.describe_position(key.source, key.position) + ": address " + ctx_.Name());
    }
    return Status::OK();
  }

  Status FinishAddress() {
    if (!in_address_) return Status::OK();
    in_address_ = false;
    const FunctionBinding& binding = (*in_.functions)[function_];
    if (!partials_.empty()) {
      // Combined states (writer/partial_combiner.h) are touched by no replayed record.
      SFB_RETURN_IF_ERROR(partials_.ResolveInto(&instances_[function_]->mutable_slots(),
                                                ctx_.Name()));
    }
    const auto& slots = instances_[function_]->slots();
    bool any = false;
    for (size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].value) continue;
      // Merged to the base's own value: the carry-over keeps the base's entry, bytes and TTL clock alike.
      if (base_values_ && i < preloaded_.size() && preloaded_[i] && *preloaded_[i] == *slots[i].value) continue;
      const uint16_t state_id = binding.state_ids[i];
      const StateDescriptor& d = (*in_.states)[state_id];
      const StateValue& v = *slots[i].value;
      if (ReprOf(v) != d.repr()) {
        return Status::Internal("state " + d.FlinkName() + " was set to a " + ValueReprName(ReprOf(v)) +
                                " but holds " + ValueReprName(d.repr()));
      }
      if (java_string_[state_id] && !IsValidUtf8(std::get<std::string>(v))) {
        return Status::BadRecord("state " + d.state_name + " of " + ctx_.Name() + " is not valid UTF-8 text");
      }
      if (!any) {  // one key for all of the address's states
        key_.clear();
        AppendKeyGroupPrefix(&key_, key_group_, prefix_bytes_);
        key_.append(id_bytes_);
        key_.push_back('\0');  // VoidNamespace
      }
      value_.clear();
      d.AppendValue(&value_, v, in_.ttl_timestamp);
      SFB_RETURN_IF_ERROR(runs_[state_id].Append(key_, value_));
      if (runs_[state_id].pairs() == 1) touched_.push_back(state_id);
      ++result_.entries_per_state[state_id];
      any = true;
    }
    if (any) {
      ++result_.addresses;
      // Published in batches: the other builders add to the same counter, and a contended atomic add
      // per address costs about what building a small one does.
      if (++unpublished_addresses_ == 1024) PublishAddresses();
    }
    return Status::OK();
  }

  void PublishAddresses() {
    in_.addresses_done->fetch_add(unpublished_addresses_, std::memory_order_relaxed);
    unpublished_addresses_ = 0;
  }

  Status FinishKeyGroup(const KeyGroupRange& range) {
    if (key_group_ < 0 || touched_.empty()) return Status::OK();
    std::sort(touched_.begin(), touched_.end());
    result_.offsets[static_cast<size_t>(key_group_ - range.start)] = static_cast<int64_t>(sink_->position());
    std::string id;
    for (uint16_t state_id : touched_) {
      id.clear();
      ByteWriter(&id).U16(state_id);
      SFB_RETURN_IF_ERROR(sink_->Append(id));
      SFB_RETURN_IF_ERROR(runs_[state_id].WriteTo(sink_.get()));
    }
    id.clear();
    ByteWriter(&id).U16(kEndOfKeyGroupMark);
    SFB_RETURN_IF_ERROR(sink_->Append(id));
    touched_.clear();
    return Status::OK();
  }

  const SubtaskBuildInput& in_;
  int prefix_bytes_ = 1;
  SubtaskBuildResult result_;
  std::unique_ptr<FileSink> sink_;
  std::vector<RunBuffer> runs_;
  std::vector<uint16_t> touched_;
  std::vector<bool> java_string_;  // by state id: values must be valid UTF-8 text
  std::shared_ptr<const Schema> schema_;
  std::shared_ptr<const Schema> schema_view_;  // schema_, not owned (no reference count per record)
  uint32_t schema_id_ = 0;
  std::vector<std::unique_ptr<StateBootstrapFunction>> instances_;
  AddressContext ctx_;
  PartialAccumulator partials_;  // of the address being built
  std::unique_ptr<BaseValues> base_values_;  // null: no state merges with a base
  std::vector<std::optional<StateValue>> preloaded_;  // by slot: the base's value the address started from
  Record record_;
  uint64_t unpublished_addresses_ = 0;  // built, not yet added to *in_.addresses_done
  bool in_address_ = false;
  int key_group_ = -1;
  uint16_t function_ = 0;
  std::string id_bytes_, key_, value_;
};

}  // namespace

Result<SubtaskBuildResult> BuildSubtaskFile(const SubtaskBuildInput& input) { return Builder(input).Run(); }

}  // namespace sfb
