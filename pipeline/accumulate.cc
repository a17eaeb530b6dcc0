#include "pipeline/accumulate.h"

#include "writer/memory_budget.h"

namespace sfb {
namespace {

// A full disk (or file-size limit) under the spill store: adds how much the store held for how many
// records, so the user can size the space a whole run needs.
Status WithSpillUseOf(Status s, const ShardStore& store, uint64_t records) {
  const std::string& m = s.message();
  if (s.ok() || s.code() != Status::Code::kIoError ||
      (m.find("No space") == std::string::npos && m.find("File too large") == std::string::npos &&
       m.find("quota") == std::string::npos)) {
    return s;
  }
  const uint64_t bytes = store.ApproximateDiskBytes();
  std::string use = "the spill store held " + std::to_string(bytes >> 20) + " MB for " + std::to_string(records) +
                    " routed records";
  if (records > 0) {
    use += ", about " + std::to_string(bytes / records) + " bytes each: a run needs up to that per record on disk, "
           "and about as much again for the savepoint";
  }
  Status out(s.code(), m + " (" + use + ")");
  if (!s.location().empty()) out.WithContext(s.location());
  return out.WithHint(s.hint());
}

}  // namespace

Result<std::unique_ptr<Accumulator>> Accumulator::Open(const Options& options) {
  std::unique_ptr<Accumulator> a(new Accumulator());
  ShardStore::Options store_options;
  store_options.dir = options.store_dir;
  store_options.reopen = options.reopen;
  a->memory_budget_ =
      options.memory_budget > 0 ? options.memory_budget : DefaultMemoryBudget(ReadAvailableMemory());
  // The builders read the spilled runs once the routed entries are out of memory: a quarter of the
  // budget for their read-ahead keeps a run that spilled hundreds of times within it (--memory 64MB,
  // 10M events in 978 runs: 650 MB peak RSS with 4 MB per file, 176 MB with this).
  store_options.read_ahead_bytes = a->memory_budget_ / 4;
  store_options.cursors = options.threads;
  SFB_ASSIGN_OR_RETURN(a->store_, ShardStore::Open(store_options));
  a->entries_ = std::make_unique<RoutedEntries>(a->store_.get(), options.max_parallelism, options.threads,
                                                a->memory_budget_);
  return a;
}

Status Accumulator::FinishLoad(uint64_t records_forwarded) {
  return WithSpillUse(store_->FinishLoad(), records_forwarded);
}

Status Accumulator::WithSpillUse(Status s, uint64_t records_forwarded) const {
  return WithSpillUseOf(std::move(s), *store_, records_forwarded);
}

}  // namespace sfb
