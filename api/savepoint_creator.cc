#include "api/savepoint_creator.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/str_cat.h"
#include "pipeline/run.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/key_groups.h"
#include "writer/base_carry_over.h"
#include "writer/entry_buffer.h"
#include "writer/staged_directory.h"
#include "writer/subtask_builder.h"

namespace sfb {

SavepointCreator::SavepointCreator(int max_parallelism) : max_parallelism_(max_parallelism) {}
SavepointCreator::~SavepointCreator() = default;

SavepointCreator& SavepointCreator::WithParallelism(int parallelism) {
  parallelism_ = parallelism;
  return *this;
}
SavepointCreator& SavepointCreator::WithThreads(int threads) {
  threads_ = threads;
  return *this;
}
SavepointCreator& SavepointCreator::WithMemoryBudget(uint64_t bytes) {
  memory_budget_ = bytes;
  return *this;
}
SavepointCreator& SavepointCreator::WithCombinableRoutes(std::shared_ptr<const CombinableRoutes> routes) {
  combinable_ = std::move(routes);
  return *this;
}
SavepointCreator& SavepointCreator::WithTtlTimestamp(int64_t epoch_millis) {
  ttl_timestamp_ = epoch_millis;
  return *this;
}
SavepointCreator& SavepointCreator::WithStateBootstrapFunctionProvider(const std::string& function_type,
                                                                       FunctionProvider provider) {
  functions_.push_back(Function{function_type, std::move(provider)});
  return *this;
}
SavepointCreator& SavepointCreator::WithOnExisting(const std::string& function_type, const std::string& state,
                                                   OnExisting mode) {
  on_existing_.push_back({{function_type, state}, mode});
  return *this;
}
SavepointCreator& SavepointCreator::WithBootstrapData(const std::string& source_name, std::unique_ptr<Source> source,
                                                      std::shared_ptr<const Router> router) {
  inputs_.push_back(Input{source_name, std::move(source), std::move(router)});
  return *this;
}

Result<std::vector<StateDescriptor>> SavepointCreator::States() const {
  std::vector<StateDescriptor> states;
  std::unordered_map<std::string, bool> seen_types;
  for (const auto& f : functions_) {
    if (!seen_types.emplace(f.type, true).second) {
      return Status::InvalidSpec("function type " + f.type + " has two bootstrap functions");
    }
    auto prototype = f.provider();
    if (!prototype) return Status::InvalidSpec("the provider for " + f.type + " returned no function");
    std::unordered_map<std::string, bool> seen_states;
    for (const auto& slot : prototype->slots()) {
      const auto& spec = slot.spec;
      if (!seen_states.emplace(spec.name, true).second) {
        return Status::InvalidSpec("function " + f.type + " declares state '" + spec.name + "' twice");
      }
      SFB_ASSIGN_OR_RETURN(StateDescriptor d,
                           StateDescriptor::Make(f.type, spec.name, spec.type.kind, spec.type.type_name,
                                                 spec.type.codec, spec.expiration.mode, spec.expiration.millis));
      if (d.repr() != spec.type.repr) {
        return Status::InvalidSpec("state " + d.FlinkName() + " has a C++ type that does not match " + d.type_name);
      }
      if (d.has_ttl() && d.ttl_millis <= 0) {
        return Status::InvalidSpec("state " + d.FlinkName() + " has an expiration of " +
                                   std::to_string(d.ttl_millis) + " ms; it must be positive");
      }
      states.push_back(std::move(d));
    }
  }
  if (states.size() > 32767) return Status::InvalidSpec("more than 32767 states");
  return states;
}

Status SavepointCreator::PrepareSources() {
  if (sources_prepared_) return Status::OK();
  std::unordered_map<std::string, bool> names;
  for (auto& in : inputs_) {
    if (!names.emplace(in.name, true).second) return Status::InvalidSpec("two sources are named '" + in.name + "'");
    in.source->set_interrupt(cancel_);
    SFB_RETURN_IF_ERROR(in.source->Prepare().WithContext("source " + in.name));
    counters_.source_size_total += in.source->estimated_size();
  }
  if (inputs_.size() > 65535) return Status::InvalidSpec("more than 65535 sources");
  sources_prepared_ = true;
  return Status::OK();
}

Status SavepointCreator::Write(const std::string& path, const WriteOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  summary_ = WriteSummary();
  summary_.path = path;
  summary_.max_parallelism = max_parallelism_;
  summary_.parallelism = parallelism_;
  SFB_RETURN_IF_ERROR(ValidateParallelism(max_parallelism_, parallelism_));
  if (functions_.size() > 65535) return Status::InvalidSpec("more than 65535 function types");
  SFB_ASSIGN_OR_RETURN(std::vector<StateDescriptor> states, States());
  SFB_RETURN_IF_ERROR(CheckOutputPath(path, options.overwrite));
  // on_existing choices by Flink state name; the last one given for a state wins.
  OnExistingChoices choices;
  for (const auto& [fs, mode] : on_existing_) {
    bool declared = false;
    for (const auto& d : states) {
      if (d.function_type != fs.first || d.state_name != fs.second) continue;
      choices[d.FlinkName()] = mode;
      declared = true;
    }
    if (!declared) {
      return Status::InvalidSpec(StrCat("on_existing is given for state '", fs.second, "' of ", fs.first,
                                        ", which no bootstrap function declares"));
    }
  }
  std::unique_ptr<BaseSavepoint> base;  // --base: read and checked before any input
  std::set<std::string> base_state_names;
  if (!options.base.empty()) {
    SFB_ASSIGN_OR_RETURN(base, OpenBaseForRun(options.base, path, states, choices, max_parallelism_, parallelism_));
    SFB_ASSIGN_OR_RETURN(base_state_names, KeyedStateNames(*base));
  } else if (options.count_only) {
    return Status::InvalidSpec("counting what a run keeps and replaces needs a base savepoint");
  }
  bool merges_with_base = false;
  for (const auto& d : states) {
    merges_with_base |= base_state_names.count(d.FlinkName()) &&
                        ChoiceFor(choices, d.FlinkName()) == OnExisting::kMerge;
  }
  // At most as many reader threads as routed-entry buffers can be told apart (writer/entry_buffer.h).
  const int wanted = threads_ > 0 ? threads_ : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::min(wanted, EntryBuffer::kMaxBuffers);

  // Bindings: function index -> savepoint state ids of its slots, in declaration order.
  std::vector<FunctionBinding> bindings;
  std::unordered_map<std::string, uint16_t> function_index;
  uint16_t next_state = 0;
  for (const auto& f : functions_) {
    FunctionBinding b{f.type, f.provider, {}};
    auto prototype = f.provider();
    for (size_t i = 0; i < prototype->slots().size(); ++i) b.state_ids.push_back(next_state++);
    function_index.emplace(f.type, static_cast<uint16_t>(bindings.size()));
    bindings.push_back(std::move(b));
  }

  if (!options.dead_letter.path.empty()) {
    std::error_code ec1, ec2;
    const std::string out = std::filesystem::weakly_canonical(path, ec1).string();
    const std::string dl = std::filesystem::weakly_canonical(options.dead_letter.path, ec2).string();
    if (!ec1 && !ec2 && (dl == out || dl.rfind(out + "/", 0) == 0)) {
      return Status::InvalidSpec("the dead-letter file " + options.dead_letter.path + " is inside the savepoint " + path)
          .WithHint("put errors.dead_letter outside the savepoint directory (it is replaced as a whole)");
    }
  }

  RunPlan plan;
  plan.max_parallelism = max_parallelism_;
  plan.parallelism = parallelism_;
  plan.threads = threads;
  plan.memory_budget = memory_budget_;
  plan.ttl_timestamp = ttl_timestamp_;
  for (const auto& in : inputs_) plan.inputs.push_back(SourceInput{in.name, in.source.get(), in.router.get()});
  plan.states = std::move(states);
  plan.bindings = std::move(bindings);
  plan.function_index = std::move(function_index);
  plan.choices = std::move(choices);
  plan.base = base.get();
  plan.base_state_names = std::move(base_state_names);
  plan.merges_with_base = merges_with_base;
  plan.combinable = combinable_.get();
  plan.cancel = cancel_;
  plan.run_tag = reinterpret_cast<uintptr_t>(this);
  plan.start = start;
  plan.prepare_sources = [this] { return PrepareSources(); };
  plan.sources_prepared = [this] { sources_prepared_ = true; };
  return RunPipeline(plan, path, options, &counters_, &summary_);
}

}  // namespace sfb
