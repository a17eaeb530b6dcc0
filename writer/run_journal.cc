#include "writer/run_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/file_io.h"

namespace sfb {

Result<std::unique_ptr<RunJournal>> RunJournal::Create(const std::string& path, const Header& header) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("cannot create", path, errno);
  auto journal = std::unique_ptr<RunJournal>(new RunJournal(path, fd));
  journal->header_ = header;
  nlohmann::ordered_json line;
  line["journal"] = kJournalVersion;
  line["fingerprint"] = header.fingerprint;
  line["ttl_timestamp"] = header.ttl_timestamp;
  line["spill_dir"] = header.spill_dir;
  line["sources"] = header.sources;
  SFB_RETURN_IF_ERROR(journal->AppendLine(line, /*sync=*/true));
  return journal;
}

Result<std::unique_ptr<RunJournal>> RunJournal::Resume(const std::string& path) {
  std::string text;
  SFB_RETURN_IF_ERROR(ReadFileToString(path, &text));
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption("the interrupted run's journal " + path + " " + what)
        .WithHint("run without --resume to start over");
  };
  // Keep only whole lines: the last one may have been cut short by the crash.
  text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  Header header;
  std::vector<std::pair<uint32_t, std::vector<std::string>>> schemas;
  std::map<std::pair<uint16_t, uint64_t>, SplitCounts> done;
  uint64_t dead_letter_bytes = 0;
  size_t pos = 0;
  for (size_t n = 0; pos < text.size(); ++n) {
    const size_t end = text.find('\n', pos);
    // Ordered, as written: a source's resume state is compared as a whole with what it says now.
    nlohmann::ordered_json line = nlohmann::ordered_json::parse(text.substr(pos, end - pos), nullptr, false);
    pos = end + 1;
    if (!line.is_object()) return corrupt("has a line that is not JSON");
    try {
      if (n == 0) {
        if (line.value("journal", 0) != kJournalVersion) {
          return corrupt("was written by another version of statefun-bootstrap (journal version " +
                         std::to_string(line.value("journal", 0)) + ", this one reads " +
                         std::to_string(kJournalVersion) + "), whose spill store this one cannot read");
        }
        header.fingerprint = line.at("fingerprint").get<std::string>();
        header.ttl_timestamp = line.at("ttl_timestamp").get<int64_t>();
        header.spill_dir = line.at("spill_dir").get<std::string>();
        header.sources = line.at("sources");
      } else if (line.contains("schema")) {
        schemas.emplace_back(line.at("schema").get<uint32_t>(), line.at("names").get<std::vector<std::string>>());
      } else if (line.contains("done")) {
        SplitCounts c{line.at("read").get<uint64_t>(), line.at("forwarded").get<uint64_t>(),
                      line.at("dead_lettered").get<uint64_t>()};
        done[{line.at("done").at(0).get<uint16_t>(), line.at("done").at(1).get<uint64_t>()}] = c;
        dead_letter_bytes = std::max(dead_letter_bytes, line.at("dead_letter_bytes").get<uint64_t>());
      }
    } catch (const nlohmann::json::exception& e) {
      return corrupt(std::string("has an unexpected line: ") + e.what());
    }
  }
  if (text.empty()) return corrupt("is empty");
  // Continue the journal in place: whatever this run finishes is added to it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("cannot open", path, errno);
  if (::ftruncate(fd, static_cast<off_t>(text.size())) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::FromErrno("cannot truncate", path, err);
  }
  auto journal = std::unique_ptr<RunJournal>(new RunJournal(path, fd));
  journal->header_ = std::move(header);
  journal->schemas_ = std::move(schemas);
  journal->done_ = std::move(done);
  journal->dead_letter_bytes_ = dead_letter_bytes;
  return journal;
}

RunJournal::~RunJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Status RunJournal::AppendLine(const nlohmann::ordered_json& line, bool sync) {
  std::string text = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text.push_back('\n');
  if (const int err = WriteAll(fd_, text)) return Status::FromErrno("cannot write", path_, err);
  if (sync && ::fdatasync(fd_) != 0) return Status::FromErrno("cannot sync", path_, errno);
  return Status::OK();
}

void RunJournal::AddSchema(uint32_t id, const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  if (schema_error_.ok()) schema_error_ = AppendLine({{"schema", id}, {"names", names}}, /*sync=*/false);
}

Status RunJournal::SplitDone(uint16_t input, uint64_t split, const SplitCounts& counts, uint64_t dead_letter_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  SFB_RETURN_IF_ERROR(schema_error_);
  nlohmann::ordered_json line;
  line["done"] = {input, split};
  line["read"] = counts.read;
  line["forwarded"] = counts.forwarded;
  line["dead_lettered"] = counts.dead_lettered;
  line["dead_letter_bytes"] = dead_letter_bytes;
  return AppendLine(line, /*sync=*/true);
}

}  // namespace sfb
