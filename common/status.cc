#include "common/status.h"

#include <cstring>

namespace sfb {

Status::Status(Code code, std::string message) {
  if (code != Code::kOk) rep_ = std::make_shared<Rep>(Rep{code, std::move(message), "", ""});
}

Status Status::FromErrno(const std::string& what, const std::string& path, int err) {
  Status s = IoError(what + " " + path + ": " + std::strerror(err));
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    s.WithHint("free space on the file system holding " + path +
               " or point the output (--output) or the spill directory (--tmp-dir) elsewhere");
  } else if (err == EACCES || err == EPERM) {
    s.WithHint("check the permissions of " + path);
  }
  return s;
}

static const std::string kEmpty;

const std::string& Status::message() const { return rep_ ? rep_->message : kEmpty; }
const std::string& Status::location() const { return rep_ ? rep_->location : kEmpty; }
const std::string& Status::hint() const { return rep_ ? rep_->hint : kEmpty; }

Status& Status::WithContext(const std::string& where) & {
  if (rep_ && !where.empty()) {
    // Copy on write: statuses are shared by value.
    auto rep = std::make_shared<Rep>(*rep_);
    rep->location = rep->location.empty() ? where : where + ": " + rep->location;
    rep_ = std::move(rep);
  }
  return *this;
}
Status&& Status::WithContext(const std::string& where) && { return std::move(WithContext(where)); }

Status& Status::WithHint(const std::string& fix) & {
  if (rep_ && rep_->hint.empty()) {
    auto rep = std::make_shared<Rep>(*rep_);
    rep->hint = fix;
    rep_ = std::move(rep);
  }
  return *this;
}
Status&& Status::WithHint(const std::string& fix) && { return std::move(WithHint(fix)); }

std::string Status::ToString() const {
  if (!rep_) return "OK";
  return rep_->location.empty() ? rep_->message : rep_->location + ": " + rep_->message;
}

std::string Status::ToUserString() const {
  if (!rep_) return "OK";
  std::string s = "error: " + ToString();
  if (!rep_->hint.empty()) s += "\n  fix: " + rep_->hint;
  return s;
}

}  // namespace sfb
