// SpecWarning: something a job spec may say that is valid but probably not what its author means (a
// state no Python SDK function can declare, an id a Kafka tombstone cannot give). The job still builds
// and runs; `validate` and `run` print the warnings on stderr, `validate --json` lists them in the plan.
// Like a Status it says what, where and how to fix it.

#ifndef SFB_JOB_SPEC_WARNING_H_
#define SFB_JOB_SPEC_WARNING_H_

#include <string>

namespace sfb {

struct SpecWarning {
  std::string location;  // "job.yaml:7:7", or empty
  std::string message;
  std::string hint;      // the fix, or empty

  // "location: message" on one line.
  std::string ToString() const { return location.empty() ? message : location + ": " + message; }
  // "warning: location: message\n  fix: hint" for terminals (no trailing newline).
  std::string ToUserString() const {
    return "warning: " + ToString() + (hint.empty() ? "" : "\n  fix: " + hint);
  }
};

}  // namespace sfb

#endif  // SFB_JOB_SPEC_WARNING_H_
