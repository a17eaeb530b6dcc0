#include "common/exit_cleanup.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace sfb {
namespace {

// Two locks: actions may block (a server that does not answer), and must not keep the directories
// from being removed.
struct Registry {
  std::mutex directories_mu;
  std::set<std::string> directories;
  std::mutex actions_mu;  // held while actions run, so UnregisterExitAction waits for them
  std::map<int, std::function<void()>> actions;
  int next_id = 1;
};

Registry& Get() {
  static auto* registry = new Registry();  // never destroyed: used until _exit
  return *registry;
}

}  // namespace

void RegisterDirectoryForExitCleanup(const std::string& path) {
  std::lock_guard<std::mutex> lock(Get().directories_mu);
  Get().directories.insert(path);
}

void UnregisterDirectoryForExitCleanup(const std::string& path) {
  std::lock_guard<std::mutex> lock(Get().directories_mu);
  Get().directories.erase(path);
}

int RegisterExitAction(std::function<void()> action) {
  std::lock_guard<std::mutex> lock(Get().actions_mu);
  const int id = Get().next_id++;
  Get().actions.emplace(id, std::move(action));
  return id;
}

void UnregisterExitAction(int id) {
  std::lock_guard<std::mutex> lock(Get().actions_mu);
  Get().actions.erase(id);
}

int RunExitCleanupNow() {
  Registry& r = Get();
  // The actions run on a thread of their own, waited for half a second at most: one that blocks (a
  // cancel request to a server that does not answer) must not keep the process from exiting.
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  std::thread([&r, done] {
    {
      std::lock_guard<std::mutex> lock(r.actions_mu);
      for (auto& [id, action] : r.actions) action();
      r.actions.clear();
    }
    std::lock_guard<std::mutex> lock(done->mu);
    done->done = true;
    done->cv.notify_all();
  }).detach();
  {
    std::unique_lock<std::mutex> lock(done->mu);
    done->cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return done->done; });
  }
  std::lock_guard<std::mutex> lock(r.directories_mu);
  int removed = 0;
  for (const auto& path : r.directories) {
    // Reader and writer threads may still create files inside while it goes: try a few times.
    for (int attempt = 0; attempt < 5; ++attempt) {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
      if (!ec && !std::filesystem::exists(path, ec)) {
        ++removed;
        break;
      }
    }
  }
  r.directories.clear();
  return removed;
}

}  // namespace sfb
