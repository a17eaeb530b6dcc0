// Status and Result<T>: errors as values, carrying what went wrong, where, and how to fix it.
//
// Every fallible operation in statefun-bootstrap returns a Status (or a Result<T>, which is a value or a
// Status). A Status is cheap when OK (a null pointer) and, when not, carries:
//   - a code, so callers can react (a bad record vs. an I/O failure vs. a corrupt savepoint);
//   - a message saying what is wrong, in the user's terms;
//   - a location ("users.csv:17", "job.yaml:12:5", "topic visits partition 3 offset 991"), prepended as
//     context travels up the stack with WithContext();
//   - a hint naming the fix, printed on its own line.
// Nothing is thrown across module boundaries; code that calls throwing libraries (yaml-cpp, protobuf, the
// standard library) converts at the call site.

#ifndef SFB_COMMON_STATUS_H_
#define SFB_COMMON_STATUS_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sfb {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidSpec,    // the job spec or a command-line argument is wrong
    kBadRecord,      // an input record cannot be turned into state
    kNotFound,       // a file, table, column or state that should exist does not
    kAlreadyExists,  // the output exists and --overwrite was not given
    kIoError,        // the operating system refused a read or write
    kCorruption,     // a savepoint or spill file is not in the expected format
    kCancelled,      // the user interrupted the run
    kInternal,       // a bug: an invariant of our own was broken
  };

  Status() = default;
  Status(Code code, std::string message);

  static Status OK() { return Status(); }
  static Status InvalidSpec(std::string msg) { return Status(Code::kInvalidSpec, std::move(msg)); }
  static Status BadRecord(std::string msg) { return Status(Code::kBadRecord, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  // An I/O error for `path` from errno value `err`.
  static Status FromErrno(const std::string& what, const std::string& path, int err);
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status Cancelled(std::string msg) { return Status(Code::kCancelled, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ ? rep_->code : Code::kOk; }
  const std::string& message() const;
  const std::string& location() const;
  const std::string& hint() const;

  // Prepends a location ("file.csv:12"); locations nest outermost first: "job.yaml: sources.users: ...".
  Status& WithContext(const std::string& where) &;
  Status&& WithContext(const std::string& where) &&;
  // Sets the fix to print (keeps an existing, more specific hint).
  Status& WithHint(const std::string& fix) &;
  Status&& WithHint(const std::string& fix) &&;

  // "location: message" on one line.
  std::string ToString() const;
  // "error: location: message\n  fix: hint" for terminals.
  std::string ToUserString() const;

 private:
  struct Rep {
    Code code;
    std::string message;
    std::string location;
    std::string hint;
  };
  std::shared_ptr<Rep> rep_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}    // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sfb

#define SFB_CONCAT_INNER(a, b) a##b
#define SFB_CONCAT(a, b) SFB_CONCAT_INNER(a, b)

#define SFB_RETURN_IF_ERROR(expr)             \
  do {                                        \
    ::sfb::Status _sfb_status = (expr);       \
    if (!_sfb_status.ok()) return _sfb_status; \
  } while (0)

#define SFB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#define SFB_ASSIGN_OR_RETURN(lhs, expr) \
  SFB_ASSIGN_OR_RETURN_IMPL(SFB_CONCAT(_sfb_result_, __LINE__), lhs, expr)

#endif  // SFB_COMMON_STATUS_H_
