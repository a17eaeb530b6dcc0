// For tests of the pipeline stages and the facade that runs them: a scripted source and a router whose
// records and forwards are easy to reason about.
//
//   TwoSplitSource   records {id, n}: record i is in split i % 2 at position i, n = i; an id starting
//                    with '!' is unparseable, so the source rejects it (RecordConsumer::Reject) instead.
//                    A set cancel flag ends a split with Cancelled.
//   IdAndCopy        forwards each record to <id> and <id>-copy of function t/f, but rejects an id
//                    starting with 'x' between the two forwards: a half-routed record would leave <id>
//                    behind if a record's forwards were not all or nothing.

#ifndef SFB_PIPELINE_TESTING_SOURCES_H_
#define SFB_PIPELINE_TESTING_SOURCES_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/record.h"
#include "common/status.h"
#include "pipeline/router.h"
#include "pipeline/source.h"

namespace sfb {

class TwoSplitSource : public Source {
 public:
  explicit TwoSplitSource(std::vector<std::string> ids) : ids_(std::move(ids)) {}
  Status Prepare() override { return Status::OK(); }
  size_t num_splits() const override { return 2; }
  Status ReadSplit(size_t split, RecordConsumer& consumer, const std::atomic<bool>& cancel) override {
    for (size_t i = split; i < ids_.size(); i += 2) {
      if (cancel.load()) return Status::Cancelled("stopped");
      if (!ids_[i].empty() && ids_[i][0] == '!') {
        SFB_RETURN_IF_ERROR(consumer.Reject(i, Status::BadRecord("unparseable").WithContext(DescribePosition(i)),
                                            {{"line", ids_[i]}}));
        continue;
      }
      Record r = MakeRecord({{"id", Value::Text(ids_[i])}, {"n", Value::Int(static_cast<int64_t>(i))}});
      Status s = consumer.Consume(r, i);
      if (!s.ok()) return s.WithContext(DescribePosition(i));
    }
    return Status::OK();
  }
  std::string DescribePosition(uint64_t p) const override { return "item " + std::to_string(p); }

 private:
  std::vector<std::string> ids_;
};

class IdAndCopy : public Router {
 public:
  Status Route(const Record& r, Downstream& d) const override {
    const std::string& id = r.Get("id").as_string();
    SFB_RETURN_IF_ERROR(d.Forward("t/f", id));
    if (!id.empty() && id[0] == 'x') return Status::BadRecord("ids starting with x are rejected");
    return d.Forward("t/f", id + "-copy");
  }
};

}  // namespace sfb

#endif  // SFB_PIPELINE_TESTING_SOURCES_H_
