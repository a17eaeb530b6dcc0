// Exit cleanup: what a process that must stop at once (a second Ctrl-C, while the first is still
// unwinding) does before it exits: run the registered actions (cancel statements running on a
// database server, which would otherwise run on after the client is gone) and remove the directories
// a run is building.
//
// The normal paths (a failed or interrupted run) clean up themselves, in destructors; this is only for
// the exit that does not wait for them. Registering is cheap (a mutex and a container).
// RunExitCleanupNow() runs on an ordinary thread, never in a signal handler.

#ifndef SFB_COMMON_EXIT_CLEANUP_H_
#define SFB_COMMON_EXIT_CLEANUP_H_

#include <functional>
#include <string>

namespace sfb {

void RegisterDirectoryForExitCleanup(const std::string& path);
void UnregisterDirectoryForExitCleanup(const std::string& path);

// `action` must be safe to call from any thread while the rest of the process runs on; it may block
// (the exit does not wait for it long).
// Returns an id for UnregisterExitAction (which waits for a running action to finish).
int RegisterExitAction(std::function<void()> action);
void UnregisterExitAction(int id);

// Runs every action (waiting half a second at most for them), then removes every registered directory
// (retrying while other threads still write into it). Returns how many directories were removed.
int RunExitCleanupNow();

}  // namespace sfb

#endif  // SFB_COMMON_EXIT_CLEANUP_H_
