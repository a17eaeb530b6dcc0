// statefun-bootstrap: the command line. See `statefun-bootstrap help` and README.md.
//
// Exit codes: 0 success; 1 the run failed (bad record, I/O, corrupt savepoint); 2 the command line or
// job spec is wrong; 130 interrupted (SIGINT/SIGTERM), always after removing partial output.

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/progress.h"
#include "common/byte_size.h"
#include "common/exit_cleanup.h"
#include "common/java_string.h"
#include "common/str_cat.h"
#include "job/job_builder.h"
#include "job/job_spec.h"
#include "savepoint/base_savepoint.h"
#include "savepoint/entry_json.h"
#include "savepoint/key_groups.h"
#include "savepoint/savepoint_reader.h"
#include "writer/memory_budget.h"
#include "writer/staged_directory.h"

namespace sfb {
namespace {

constexpr char kVersion[] = "statefun-bootstrap 0.1.0 (Flink 1.16 canonical savepoints, statefun 3.3)";

constexpr char kUsage[] = R"(statefun-bootstrap: build the initial state of a Flink Stateful Functions application
from historical data, and write it as a savepoint the application starts from.

usage:
  statefun-bootstrap run JOB.yaml [options]        read the sources, route, write the savepoint
  statefun-bootstrap validate JOB.yaml [--json]    check the job and print its plan; writes nothing
  statefun-bootstrap inspect SAVEPOINT [--json]    operators, parallelism, states, key groups, sizes
  statefun-bootstrap dump SAVEPOINT [--spec JOB.yaml] [--state NAME]
                                                   every state entry as one JSON object per line
  statefun-bootstrap get SAVEPOINT NS/TYPE/ID [--spec JOB.yaml]
                                                   every state of one address, decoded
  statefun-bootstrap help [COMMAND]                more about a command

Start with `statefun-bootstrap help run`, or README.md for the job spec reference.
)";

constexpr char kRunHelp[] = R"(usage: statefun-bootstrap run JOB.yaml [options]

Reads every source of the job, routes each record to function addresses, applies the set/merge rules,
and writes a Flink 1.16 savepoint for the statefun `functions_uid1` operator. The savepoint directory
appears only when it is complete (it is built in a hidden sibling directory and renamed into place).

options:
  --output DIR          where to write the savepoint (default: savepoint.path of the job file)
  --base SAVEPOINT      build on a canonical savepoint of the running application (job spec:
                        savepoint.base): the output keeps all of its state (every operator, other
                        functions, statefun's own state) and adds the job's; the base is not changed.
                        The output keeps the base's parallelism unless --parallelism says otherwise:
                        then the base's keyed state is re-laid by key group. A job state the base already has
                        needs on_existing (replace | keep | merge) in the job spec, else the run is
                        refused before reading anything; `validate --base` counts what each keeps.
  --parallelism N       keyed-state files = Flink subtasks the savepoint is laid out for
                        (default: savepoint.parallelism, else --threads). Flink restores at any
                        parallelism; using the application's parallelism avoids a rescale.
  --threads N           worker threads for reading and writing (default: all cores). Does not
                        change the output: the same input and parallelism give the same bytes.
  --overwrite           replace an existing savepoint at the output path
  --memory SIZE         memory for routed records waiting to be written, e.g. 4GB (job spec:
                        savepoint.memory; default: half the memory available, from the cgroup
                        limit or /proc/meminfo, at most 8GB). Within it nothing touches the disk;
                        beyond it sorted runs spill to --tmp-dir. Does not change the output.
  --tmp-dir DIR         where to spill routed records (default: next to the output)
  --ttl-timestamp MS    the TTL clock start for states with expire_after_* (epoch ms; default: now)
  --dead-letter FILE    write bad records (malformed, wrong type, no id) to FILE as JSON lines and go
                        on, instead of failing at the first (job spec: errors.dead_letter)
  --max-bad-records N   with a dead-letter file: fail once more than N records were set aside
                        (job spec: errors.max_bad_records; required with --dead-letter)
  --resume              continue a run of this job that was killed (SIGKILL, out of memory, a
                        reboot) at the splits it had not finished; same output bytes as one run.
                        Refused when the job or an input changed, or for PostgreSQL sources
                        (their snapshot ended with the killed run)
  --combine-early       combine count/sum/min/max/first/last/set on the reader threads, one value
                        per address instead of every record (event histories); same bytes. Costs
                        more than it saves when addresses have few records, and a --resume of such
                        a run reads every split again (README.md, "Combining set and merge")
  --dry-run             validate, open the sources and print the plan, but write nothing
  --summary-json FILE   also write the end summary as JSON
  --quiet               no progress line

example:
  statefun-bootstrap run examples/greeter/job.yaml --output /tmp/greeter-savepoint --parallelism 2
  flink run -s /tmp/greeter-savepoint ...    (or: statefun image with -s /tmp/greeter-savepoint)
)";

constexpr char kValidateHelp[] = R"(usage: statefun-bootstrap validate JOB.yaml [--json] [--base SAVEPOINT [--tmp-dir DIR]]

Checks the job file (keys, types, states, merge rules, templates), opens every source and checks that
the fields the routes use exist (CSV headers), then prints the plan: states with their Flink names and
serializers, sources, routes. Reads no records and writes nothing. --json prints the plan as JSON.
Warnings (valid, but probably not meant: a state a Python SDK function cannot declare, a Kafka route
whose id a tombstone cannot give) go to stderr and do not fail the check; --json also lists them.

--base SAVEPOINT      also check the job against a savepoint of the running application, as run --base
                      does, and report per state how many addresses the output would keep from the
                      base, replace, merge (on_existing) and add. To count, this READS EVERY RECORD of
                      the sources and builds the job's states, as a run does, in a temporary directory
                      under --tmp-dir (default: $TMPDIR, else /tmp) that is removed afterwards; nothing is
                      written at the job's output path and the base is not changed.
)";

constexpr char kInspectHelp[] = R"(usage: statefun-bootstrap inspect SAVEPOINT [--json]

Summarizes any canonical savepoint of a statefun application (ours or one Flink wrote): metadata
version, operators, parallelism and max parallelism, the keyed-state file of each subtask with its
key-group range, every state with its serializer (remote typename, embedded type, TTL) and entry count,
and the number of addresses. SAVEPOINT is the directory or its _metadata file.
)";

constexpr char kDumpHelp[] = R"(usage: statefun-bootstrap dump SAVEPOINT [--spec JOB.yaml] [--state FUNCTION.STATE]

Prints every function state entry as one JSON object per line, in key-group order:
  {"function":"example/greeter","id":"alice","state":"seen_count","type":"io.statefun.types/int","value":3}
Built-in types are decoded; custom types are shown as text when they are UTF-8, else as value_base64.
--spec gives the job file so json-codec states are shown as JSON. --state limits the output to one
state (its Flink name, e.g. example.greeter.seen_count, or just the state name).
)";

constexpr char kGetHelp[] = R"(usage: statefun-bootstrap get SAVEPOINT NAMESPACE/TYPE/ID [--spec JOB.yaml]

Prints every state of one address as a JSON object, reading only the key group Flink would read:
  statefun-bootstrap get out/greeter example/greeter/alice
Exits 1 when the address has no state.
)";

std::atomic<bool> g_cancel{false};
// True while the sources are prepared (connected, checked, locked): nothing is written yet then.
std::atomic<bool> g_preparing{false};
// SIGINT and SIGTERM, blocked in every thread and taken only by the interrupt thread (sigwait).
sigset_t g_interrupt_signals;
// How long a first interrupt while the sources are prepared waits for them to stop (a PostgreSQL source
// cancels its statements and returns within moments) before the process exits without them.
constexpr int kPrepareGraceMs = 1500;

// Waits for the interrupt signals synchronously rather than in an asynchronous handler, so no thread
// is interrupted mid-call and the signal is never left pending on a thread that does not run (under
// TSan, which defers asynchronous handlers to the receiving thread's next intercepted call, a SIGINT
// that landed on a waiting thread was sometimes never handled, and the run did not stop).
// The first signal asks the run to stop (readers stop, PostgreSQL statements are cancelled, the partial
// output is removed on the way out); the second removes the partial output itself and exits at once.
void InterruptThread() {
  int seen = 0;
  bool preparing = false;  // exiting because a source did not stop preparing in time
  while (seen < 2) {
    // A source that cannot watch the interrupt while it prepares (a Kafka client waiting for brokers)
    // is not waited for beyond the grace period.
    if (seen == 1 && g_preparing.load()) {
      const timespec grace{kPrepareGraceMs / 1000, (kPrepareGraceMs % 1000) * 1000000L};
      if (::sigtimedwait(&g_interrupt_signals, nullptr, &grace) >= 0) {
        ++seen;
        continue;
      }
      if (errno == EINTR) continue;
      if (!g_preparing.load()) continue;
      preparing = true;
      break;
    }
    int signal_number = 0;
    if (::sigwait(&g_interrupt_signals, &signal_number) != 0) return;
    if (++seen == 1) g_cancel.store(true);
  }
  const int removed = RunExitCleanupNow();  // cancels server statements, removes the partial output
  if (preparing) {
    std::fprintf(stderr, "interrupted while preparing the sources: stopped without waiting for them; no savepoint "
                         "was written\n");
  } else {
    std::fprintf(stderr, "interrupted again: stopped at once%s; no savepoint was written\n",
                 removed > 0 ? " and removed the partial output" : "");
  }
  std::fflush(stderr);
  _exit(130);
}

// Must run before any other thread starts: threads inherit the blocked mask, so only the interrupt
// thread ever takes SIGINT/SIGTERM.
void HandleInterrupts() {
  sigemptyset(&g_interrupt_signals);
  sigaddset(&g_interrupt_signals, SIGINT);
  sigaddset(&g_interrupt_signals, SIGTERM);
  if (::pthread_sigmask(SIG_BLOCK, &g_interrupt_signals, nullptr) != 0) return;
  std::thread(InterruptThread).detach();
}

int ExitCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return 0;
    case Status::Code::kInvalidSpec:
    case Status::Code::kAlreadyExists: return 2;
    case Status::Code::kCancelled: return 130;
    default: return 1;
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "%s\n", s.ToUserString().c_str());
  return ExitCode(s);
}

// Warnings go to stderr, so stdout stays the plan (or the summary) alone.
void PrintWarnings(const BuiltJob& job) {
  for (const auto& w : job.warnings) std::fprintf(stderr, "%s\n", w.ToUserString().c_str());
}

int Usage(const std::string& message, const char* help) {
  std::fprintf(stderr, "error: %s\n\n%s", message.c_str(), help);
  return 2;
}

// A tiny argument parser: positional arguments plus --flag [value] options.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;
  std::set<std::string> flags;
};

Result<Args> ParseArgs(int argc, char** argv, int first, const std::set<std::string>& value_options,
                       const std::set<std::string>& flag_options) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      std::string value;
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
      if (flag_options.count(arg)) {
        a.flags.insert(arg);
      } else if (value_options.count(arg)) {
        if (eq == std::string::npos) {
          if (i + 1 >= argc) return Status::InvalidSpec(arg + " needs a value");
          value = argv[++i];
        }
        a.options[arg] = value;
      } else {
        return Status::InvalidSpec("unknown option " + arg);
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

Result<int> ParsePositiveInt(const std::string& name, const std::string& text, int max) {
  try {
    size_t used;
    const long v = std::stol(text, &used);
    if (used == text.size() && v >= 1 && v <= max) return static_cast<int>(v);
  } catch (...) {
  }
  return Status::InvalidSpec(name + " must be a whole number from 1 to " + std::to_string(max) + ", not '" + text + "'");
}

// --base, else savepoint.base; empty: none.
std::string BasePath(const Args& args, const JobSpec& spec) {
  return args.options.count("--base") ? args.options.at("--base") : spec.base_path;
}

Result<BuiltJob> LoadAndBuild(const std::string& job_file, const Args& args, JobSpec* spec, bool connect_remote = true,
                              std::atomic<bool>* cancel = nullptr) {
  SFB_ASSIGN_OR_RETURN(*spec, LoadJobSpec(job_file));
  JobOverrides o;
  if (const std::string base = BasePath(args, *spec); !base.empty() && !spec->parallelism &&
                                                      !args.options.count("--parallelism")) {
    // By default the output keeps the base's parallelism; an explicit one re-lays (writer/base_carry_over.h).
    SFB_ASSIGN_OR_RETURN(auto b, BaseSavepoint::Open(base));
    if (b->functions_operator()) o.parallelism = b->functions_operator()->parallelism;
  }
  if (args.options.count("--output")) o.output = args.options.at("--output");
  if (args.options.count("--parallelism")) {
    SFB_ASSIGN_OR_RETURN(int p, ParsePositiveInt("--parallelism", args.options.at("--parallelism"), 32768));
    o.parallelism = p;
  }
  if (args.options.count("--threads")) {
    SFB_ASSIGN_OR_RETURN(o.threads, ParsePositiveInt("--threads", args.options.at("--threads"), 1024));
  }
  if (args.options.count("--memory")) {
    SFB_ASSIGN_OR_RETURN(uint64_t bytes, ParseByteSize(args.options.at("--memory"), "--memory"));
    if (bytes < kMinMemoryBudget) return Status::InvalidSpec("--memory must be at least 1MB");
    o.memory = bytes;
  }
  if (args.options.count("--dead-letter")) o.dead_letter_path = args.options.at("--dead-letter");
  if (args.options.count("--max-bad-records")) {
    const std::string& text = args.options.at("--max-bad-records");
    uint64_t n = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
      return Status::InvalidSpec("--max-bad-records must be a count (0 or more), not '" + text + "'");
    }
    o.max_bad_records = n;
  }
  if (args.options.count("--ttl-timestamp")) {
    try {
      o.ttl_timestamp = std::stoll(args.options.at("--ttl-timestamp"));
    } catch (...) {
      return Status::InvalidSpec("--ttl-timestamp must be epoch milliseconds");
    }
  }
  o.cancel = cancel;
  return BuildJob(*spec, o, connect_remote);
}

void PrintPlan(const nlohmann::ordered_json& plan) {
  std::printf("output        %s\n", plan["savepoint"]["path"].get<std::string>().c_str());
  std::printf("layout        max parallelism %d, parallelism %d (keyed-state files), %d threads\n",
              plan["max_parallelism"].get<int>(), plan["savepoint"]["parallelism"].get<int>(),
              plan["threads"].get<int>());
  std::printf("memory        %s for routed records (%s)\n", FormatByteSize(plan["memory"]["budget"].get<uint64_t>()).c_str(),
              plan["memory"]["from"].get<std::string>().c_str());
  if (plan["errors"]["on_bad_record"] == "dead_letter") {
    std::printf("bad records   to %s, at most %llu, then the run fails\n",
                plan["errors"]["dead_letter"].get<std::string>().c_str(),
                static_cast<unsigned long long>(plan["errors"]["max_bad_records"].get<uint64_t>()));
  } else {
    std::printf("bad records   the first fails the run (errors.dead_letter sets them aside instead)\n");
  }
  std::printf("states\n");
  for (const auto& s : plan["states"]) {
    std::string type = s["kind"].get<std::string>() + " " + s["type"].get<std::string>();
    if (!s["codec"].is_null()) type += " (" + s["codec"].get<std::string>() + ")";
    if (!s["ttl"].is_null()) {
      type += " ttl " + s["ttl"]["mode"].get<std::string>() + " " + std::to_string(s["ttl"]["millis"].get<int64_t>()) + " ms";
    }
    std::printf("  %-40s %s\n", s["flink_name"].get<std::string>().c_str(), type.c_str());
  }
  std::printf("sources\n");
  for (const auto& s : plan["sources"]) {
    std::string details;
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (it.key() == "name") continue;
      details += (details.empty() ? "" : " ") + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump());
    }
    std::printf("  %-20s %s\n", s["name"].get<std::string>().c_str(), details.c_str());
  }
  std::printf("routes\n");
  for (const auto& r : plan["routes"]) {
    std::string rules;
    for (auto it = r["rules"].begin(); it != r["rules"].end(); ++it) {
      rules += (rules.empty() ? "" : ", ") + it.key() + "=" + it.value().get<std::string>();
    }
    std::printf("  %s -> %s id %s: %s\n", r["from"].get<std::string>().c_str(), r["to"].get<std::string>().c_str(),
                r["id"].get<std::string>().c_str(), rules.c_str());
  }
}

// validate --base: runs the job with WriteOptions::count_only into a temporary directory and adds what it
// would keep, replace, merge and add per state to the plan (plan["base"]).
Status CountAgainstBase(const Args& args, const JobSpec& spec, BuiltJob* job, nlohmann::ordered_json* plan) {
  std::string tmp = args.options.count("--tmp-dir") ? args.options.at("--tmp-dir") : "";
  if (tmp.empty()) {
    const char* env = std::getenv("TMPDIR");
    tmp = env && *env ? env : "/tmp";
  }
  std::string dir = tmp + "/sfb-validate-XXXXXX";
  if (!::mkdtemp(dir.data())) return Status::FromErrno("cannot create a temporary directory in", tmp, errno);
  RegisterDirectoryForExitCleanup(dir);
  WriteOptions options;
  options.base = BasePath(args, spec);
  options.count_only = true;
  options.dead_letter = job->dead_letter;
  // Bad records are set aside as the run would, but into the temporary directory: validate writes nothing.
  if (!options.dead_letter.path.empty()) options.dead_letter.path = dir + "/dead-letter.jsonl";
  options.tmp_dir = dir;
  Status s = job->creator->Write(dir + "/out", options);
  RemoveAll(dir);
  UnregisterDirectoryForExitCleanup(dir);
  SFB_RETURN_IF_ERROR(s);
  const WriteSummary& sum = job->creator->summary();
  nlohmann::ordered_json b;
  b["path"] = options.base;
  b["records_read"] = sum.records_read;
  b["states"] = nlohmann::ordered_json::array();
  for (const auto& st : sum.states) {
    b["states"].push_back({{"function", st.function_type}, {"state", st.state},
                           {"on_existing", st.on_existing.empty() ? nlohmann::ordered_json(nullptr)
                                                                   : nlohmann::ordered_json(st.on_existing)},
                           {"kept", st.kept}, {"replaced", st.replaced}, {"merged", st.merged}, {"added", st.added}});
  }
  (*plan)["base"] = std::move(b);
  return Status::OK();
}

void PrintBaseCounts(const nlohmann::ordered_json& b) {
  std::printf("on base       %s (%s records read to count)\n", b["path"].get<std::string>().c_str(),
              WithThousands(b["records_read"].get<uint64_t>()).c_str());
  std::printf("  %-40s %-12s %12s %12s %12s %12s\n", "state", "on_existing", "kept", "replaced", "merged", "added");
  for (const auto& st : b["states"]) {
    const std::string name = st["function"].get<std::string>() + " " + st["state"].get<std::string>();
    const std::string mode = st["on_existing"].is_null() ? "(new)" : st["on_existing"].get<std::string>();
    std::printf("  %-40s %-12s %12s %12s %12s %12s\n", name.c_str(), mode.c_str(),
                WithThousands(st["kept"].get<uint64_t>()).c_str(), WithThousands(st["replaced"].get<uint64_t>()).c_str(),
                WithThousands(st["merged"].get<uint64_t>()).c_str(), WithThousands(st["added"].get<uint64_t>()).c_str());
  }
}

int CmdValidate(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2,
                        {"--output", "--parallelism", "--threads", "--ttl-timestamp", "--memory", "--base", "--tmp-dir"},
                        {"--json", "--connect", "--help"});
  if (!args.ok()) return Usage(args.status().message(), kValidateHelp);
  if (args->flags.count("--help")) return std::printf("%s", kValidateHelp), 0;
  if (args->positional.size() != 1) return Usage("validate takes one job file", kValidateHelp);
  JobSpec spec;
  // --base reads every record, so every source is connected.
  auto job = LoadAndBuild(args->positional[0], *args, &spec,
                          args->flags.count("--connect") > 0 || args->options.count("--base") > 0);
  if (!job.ok()) return Fail(job.status());
  PrintWarnings(*job);
  auto plan = job->PlanJson(spec);
  if (args->options.count("--base")) {
    std::fprintf(stderr, "validate --base: reading every record to count what the base keeps; writing nothing\n");
    Status s = CountAgainstBase(*args, spec, &*job, &plan);
    if (!s.ok()) return Fail(s);
  }
  if (args->flags.count("--json")) {
    std::printf("%s\n", plan.dump(2).c_str());
  } else {
    PrintPlan(plan);
    if (plan.contains("base")) PrintBaseCounts(plan["base"]);
    const size_t n = job->warnings.size();
    std::printf("ok: %s is valid%s\n", args->positional[0].c_str(),
                n == 0 ? "" : (" (" + std::to_string(n) + (n == 1 ? " warning" : " warnings") + ", on stderr)").c_str());
  }
  return 0;
}

void PrintSummary(const WriteSummary& s) {
  std::printf("savepoint written: %s\n", s.path.c_str());
  std::printf("  records read     %s\n", WithThousands(s.records_read).c_str());
  if (s.splits_resumed > 0) {
    std::printf("    resumed        %s splits were finished by the interrupted run\n",
                WithThousands(s.splits_resumed).c_str());
  }
  if (!s.dead_letter_path.empty()) {
    // Every record read was either routed or set aside: the two add up to records read.
    std::printf("    routed         %s\n", WithThousands(s.records_read - s.records_dead_lettered).c_str());
    std::printf("    dead-lettered  %s (%s)\n", WithThousands(s.records_dead_lettered).c_str(),
                s.dead_letter_path.c_str());
  }
  std::printf("  state updates    %s (record -> address forwards)\n", WithThousands(s.records_forwarded).c_str());
  std::printf("  addresses        %s\n", WithThousands(s.addresses).c_str());
  std::printf("  states\n");
  for (const auto& st : s.states) {
    std::printf("    %-36s %-28s %s %s\n", (st.function_type + " " + st.state).c_str(), st.type_name.c_str(),
                WithThousands(st.entries).c_str(), st.entries == 1 ? "entry" : "entries");
    if (st.kept + st.replaced + st.merged + st.added > 0) {
      std::printf("      on the base%s%s: kept %s, replaced %s, merged %s, added %s addresses\n",
                  st.on_existing.empty() ? "" : ", on_existing ", st.on_existing.c_str(),
                  WithThousands(st.kept).c_str(), WithThousands(st.replaced).c_str(), WithThousands(st.merged).c_str(),
                  WithThousands(st.added).c_str());
    }
  }
  const uint64_t keyed = static_cast<uint64_t>(s.parallelism);
  const std::string others = s.files > keyed + 1 ? StrCat(", ", WithThousands(s.files - keyed - 1), " carried from the base") : "";
  std::printf("  files            %s (%s keyed-state files%s + _metadata), %s\n", WithThousands(s.files).c_str(),
              WithThousands(keyed).c_str(), others.c_str(), HumanBytes(s.bytes).c_str());
  std::printf("  layout           max parallelism %d, parallelism %d\n", s.max_parallelism, s.parallelism);
  if (s.spills > 0) {
    std::printf("  spilled          %s state updates in %s runs (%s on disk; memory budget %s)\n",
                WithThousands(s.spilled_records).c_str(), WithThousands(s.spills).c_str(),
                HumanBytes(s.spill_bytes).c_str(), FormatByteSize(s.memory_budget).c_str());
  }
  for (const auto& src : s.sources) {
    if (src["provenance"].is_null()) continue;
    std::printf("  source %-9s %s\n", src["name"].get<std::string>().c_str(), src["provenance"].dump().c_str());
  }
  // A rate over a run too short to time says nothing ("1 records/s" for two records and a large --base
  // merge): it is given only when reading took a measurable time, over the whole run as before.
  std::string rate;
  if (s.read_seconds >= 0.2 && s.total_seconds > 0) {
    rate = StrCat(", ", WithThousands(static_cast<uint64_t>(static_cast<double>(s.records_read) / s.total_seconds)),
                  " records/s");
  }
  std::printf("  time             %.2f s (read %.2f s, write %.2f s)%s\n", s.total_seconds, s.read_seconds,
              s.build_seconds, rate.c_str());
}

// Identifies a job for run --resume: the job file's text (before ${VAR} expansion) and the layout the
// command line chose. FNV-1a: it only has to tell jobs apart, not resist anyone.
std::string JobFingerprint(const std::string& job_file, const BuiltJob& job) {
  std::string text;
  if (!ReadFileToString(job_file, &text).ok()) text.clear();
  text += "\n--output " + job.output + " --parallelism " + std::to_string(job.parallelism) + " max " +
          std::to_string(job.max_parallelism) + " dead-letter " + job.dead_letter.path;
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

int CmdRun(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2,
                        {"--output", "--parallelism", "--threads", "--tmp-dir", "--ttl-timestamp", "--summary-json",
                         "--dead-letter", "--max-bad-records", "--memory", "--base"},
                        {"--overwrite", "--dry-run", "--quiet", "--help", "--resume", "--combine-early"});
  if (!args.ok()) return Usage(args.status().message(), kRunHelp);
  if (args->flags.count("--help")) return std::printf("%s", kRunHelp), 0;
  if (args->positional.size() != 1) return Usage("run takes one job file", kRunHelp);
  JobSpec spec;
  // Before the sources are prepared: a Ctrl-C while one waits (for a table lock, say) cancels the
  // server's statement and stops the run, as it does while reading.
  HandleInterrupts();
  g_preparing.store(true);
  auto job = LoadAndBuild(args->positional[0], *args, &spec, /*connect_remote=*/true, &g_cancel);
  g_preparing.store(false);
  if (!job.ok()) {
    if (g_cancel.load()) {
      std::fprintf(stderr, "interrupted while preparing the sources: cancelled the server's statements; no "
                           "savepoint was written\n");
      return 130;
    }
    return Fail(job.status());
  }
  PrintWarnings(*job);
  const bool overwrite = args->flags.count("--overwrite") > 0;
  if (args->flags.count("--dry-run")) {
    Status s = CheckOutputPath(job->output, overwrite);
    PrintPlan(job->PlanJson(spec));
    if (!s.ok()) return Fail(s);
    std::printf("dry run: nothing was written\n");
    return 0;
  }
  WriteOptions options;
  options.overwrite = overwrite;
  options.dead_letter = job->dead_letter;
  options.resume = args->flags.count("--resume") > 0;
  options.combine_early = args->flags.count("--combine-early") > 0;
  options.fingerprint = JobFingerprint(args->positional[0], *job);
  if (args->options.count("--tmp-dir")) options.tmp_dir = args->options.at("--tmp-dir");
  options.base = BasePath(*args, spec);
  Status s;
  {
    ProgressReporter progress(&job->creator->counters(), job->parallelism, !args->flags.count("--quiet"));
    s = job->creator->Write(job->output, options);
  }
  if (!s.ok()) {
    if (g_cancel.load()) {
      std::fprintf(stderr, "interrupted: stopped reading and removed the partial output; no savepoint was written\n");
      return 130;
    }
    std::fprintf(stderr, "%s\nno savepoint was written to %s\n", s.ToUserString().c_str(), job->output.c_str());
    return ExitCode(s);
  }
  const WriteSummary& sum = job->creator->summary();
  PrintSummary(sum);
  if (args->options.count("--summary-json")) {
    nlohmann::ordered_json j;
    j["path"] = sum.path;
    j["records_read"] = sum.records_read;
    j["records_routed"] = sum.records_forwarded;
    j["records_dead_lettered"] = sum.records_dead_lettered;
    if (!sum.dead_letter_path.empty()) j["dead_letter"] = sum.dead_letter_path;
    j["addresses"] = sum.addresses;
    j["bytes"] = sum.bytes;
    j["files"] = sum.files;
    j["max_parallelism"] = sum.max_parallelism;
    j["parallelism"] = sum.parallelism;
    j["seconds"] = sum.total_seconds;
    j["read_seconds"] = sum.read_seconds;
    j["write_seconds"] = sum.build_seconds;
    j["spill_bytes"] = sum.spill_bytes;
    j["spills"] = sum.spills;
    j["spilled_records"] = sum.spilled_records;
    j["memory_budget"] = sum.memory_budget;
    j["memory_read_ahead"] = sum.memory_read_ahead;
    j["memory_peak"] = sum.memory_peak;
    j["sources"] = sum.sources;
    j["states"] = nlohmann::ordered_json::array();
    for (const auto& st : sum.states) {
      nlohmann::ordered_json state{{"function", st.function_type}, {"state", st.state}, {"type", st.type_name},
                                   {"entries", st.entries}};
      if (!options.base.empty()) {
        state["on_existing"] = st.on_existing.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(st.on_existing);
        state["kept"] = st.kept;
        state["replaced"] = st.replaced;
        state["merged"] = st.merged;
        state["added"] = st.added;
      }
      j["states"].push_back(std::move(state));
    }
    FILE* f = std::fopen(args->options.at("--summary-json").c_str(), "w");
    if (!f) return Fail(Status::FromErrno("cannot write", args->options.at("--summary-json"), errno));
    std::fprintf(f, "%s\n", j.dump(2).c_str());
    std::fclose(f);
  }
  return 0;
}

// State descriptors from a job spec, to decode custom types as the job wrote them.
Result<std::map<std::string, StateDescriptor>> SpecStates(const std::string& job_file) {
  std::map<std::string, StateDescriptor> out;
  if (job_file.empty()) return out;
  SFB_ASSIGN_OR_RETURN(JobSpec spec, LoadJobSpec(job_file, JobSpecParts::kStatesOnly));
  for (const auto& f : spec.functions) {
    for (const auto& s : f.states) {
      auto d = StateDescriptor::Make(f.type, s.name, s.kind, s.type, s.codec, s.ttl_mode, s.ttl_millis);
      if (!d.ok()) return Status(d.status()).WithContext(s.where);
      out.emplace(d->FlinkName(), *d);
    }
  }
  return out;
}

// The descriptor to decode `meta` with: the spec's when it agrees with the savepoint, else the savepoint's.
const StateDescriptor& Effective(const ParsedStateMeta& meta, const std::map<std::string, StateDescriptor>& spec) {
  auto it = spec.find(meta.flink_name);
  if (it != spec.end() && it->second.type_name == meta.descriptor.type_name &&
      it->second.kind == meta.descriptor.kind && it->second.has_ttl() == meta.descriptor.has_ttl()) {
    return it->second;
  }
  return meta.descriptor;
}

// `exact`: set to the stored JSON text of a json-codec value whose numbers a double would not hold
// (ExactJsonText), which the caller prints in place of "value".
Result<nlohmann::ordered_json> EntryJson(const SavepointReader::Entry& e, const StateDescriptor& d,
                                         std::string* exact = nullptr) {
  StateValue v;
  int64_t ts;
  Status s = d.DecodeValue(e.value, &v, &ts);
  if (!s.ok()) return s.WithContext("value of " + d.FlinkName() + " for id '" + Utf16ToUtf8(e.id) + "'");
  nlohmann::json value;
  PutValueJson(d, v, &value);
  if (exact && d.codec == Codec::kJson && value.contains("value") && std::holds_alternative<std::string>(v)) {
    *exact = ExactJsonText(std::get<std::string>(v));
    if (!exact->empty()) value["value"] = nullptr;  // a placeholder, replaced by the exact text
  }
  nlohmann::ordered_json j;
  j["function"] = d.function_type;
  j["id"] = Utf16ToUtf8(e.id);
  j["state"] = d.state_name;
  j["type"] = d.type_name;
  for (auto it = value.begin(); it != value.end(); ++it) j[it.key()] = it.value();
  if (d.has_ttl()) j["ttl_timestamp"] = ts;
  j["key_group"] = e.key_group;
  return j;
}

int CmdDump(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, {"--spec", "--state"}, {"--help"});
  if (!args.ok()) return Usage(args.status().message(), kDumpHelp);
  if (args->flags.count("--help")) return std::printf("%s", kDumpHelp), 0;
  if (args->positional.size() != 1) return Usage("dump takes one savepoint", kDumpHelp);
  auto spec = SpecStates(args->options.count("--spec") ? args->options.at("--spec") : "");
  if (!spec.ok()) return Fail(spec.status());
  const std::string only = args->options.count("--state") ? args->options.at("--state") : "";
  auto reader = SavepointReader::Open(args->positional[0]);
  if (!reader.ok()) return Fail(reader.status());
  std::vector<SavepointReader::Stream> streams;
  Status s = (*reader)->OpenStreams(&streams);
  if (!s.ok()) return Fail(s);
  std::string out;
  for (const auto& stream : streams) {
    s = (*reader)->ForEachEntry(stream, [&](const SavepointReader::Entry& e) -> Status {
      if (!e.state->supported) return Status::OK();
      const StateDescriptor& d = Effective(*e.state, *spec);
      if (!only.empty() && only != d.FlinkName() && only != d.state_name) return Status::OK();
      std::string exact;
      SFB_ASSIGN_OR_RETURN(nlohmann::ordered_json j, EntryJson(e, d, &exact));
      std::string line = j.dump();
      if (!exact.empty()) {
        // `,"value":null` cannot occur inside a dumped string (a quote there is always escaped).
        const size_t at = line.find(",\"value\":null");
        if (at != std::string::npos) line.replace(at + 9, 4, exact);
      }
      out += line;
      out.push_back('\n');
      if (out.size() > (1 << 16)) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        out.clear();
      }
      return Status::OK();
    });
    if (!s.ok()) return Fail(s);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int CmdGet(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, {"--spec"}, {"--help"});
  if (!args.ok()) return Usage(args.status().message(), kGetHelp);
  if (args->flags.count("--help")) return std::printf("%s", kGetHelp), 0;
  if (args->positional.size() != 2) return Usage("get takes a savepoint and an address", kGetHelp);
  const std::string& address = args->positional[1];
  const auto s1 = address.find('/');
  const auto s2 = s1 == std::string::npos ? std::string::npos : address.find('/', s1 + 1);
  if (s2 == std::string::npos || s2 + 1 > address.size()) {
    return Usage("the address must be NAMESPACE/TYPE/ID, e.g. example/greeter/alice", kGetHelp);
  }
  const std::string function_type = address.substr(0, s2);
  const std::string id = address.substr(s2 + 1);
  std::u16string id16;
  if (id.empty() || !Utf8ToUtf16(id, &id16)) return Usage("the id must be non-empty UTF-8", kGetHelp);
  auto spec = SpecStates(args->options.count("--spec") ? args->options.at("--spec") : "");
  if (!spec.ok()) return Fail(spec.status());
  auto reader = SavepointReader::Open(args->positional[0]);
  if (!reader.ok()) return Fail(reader.status());
  const OperatorStateMeta* op = (*reader)->functions_operator();
  if (!op) return Fail(Status::NotFound("the savepoint has no statefun functions operator (uid functions_uid1)"));
  const int kg = KeyGroupForId(id16, op->max_parallelism);
  std::vector<SavepointReader::Stream> streams;
  Status s = (*reader)->OpenStreams(&streams);
  if (!s.ok()) return Fail(s);
  nlohmann::ordered_json result;
  result["address"] = address;
  result["key_group"] = kg;
  result["states"] = nlohmann::ordered_json::object();
  for (auto& stream : streams) {
    if (!stream.HoldsKeyGroup(kg)) continue;
    // Read only the one key group, as Flink would.
    SavepointReader::Stream one;
    KeyedStateHandle single = *stream.handle;
    single.start_key_group = kg;
    single.offsets = {stream.handle->offsets[static_cast<size_t>(kg - stream.handle->start_key_group)]};
    one.subtask = stream.subtask;
    one.handle = &single;
    one.name = stream.name;
    one.header = stream.header;
    one.bytes = stream.bytes;
    s = (*reader)->ForEachEntry(one, [&](const SavepointReader::Entry& e) -> Status {
      if (!e.state->supported || e.id != id16) return Status::OK();
      const StateDescriptor& d = Effective(*e.state, *spec);
      if (d.function_type != function_type) return Status::OK();
      SFB_ASSIGN_OR_RETURN(nlohmann::ordered_json j, EntryJson(e, d));
      nlohmann::ordered_json state;
      state["type"] = j["type"];
      if (j.contains("value")) state["value"] = j["value"];
      if (j.contains("value_base64")) state["value_base64"] = j["value_base64"];
      if (j.contains("ttl_timestamp")) state["ttl_timestamp"] = j["ttl_timestamp"];
      result["states"][d.state_name] = state;
      return Status::OK();
    });
    if (!s.ok()) return Fail(s);
  }
  if (result["states"].empty()) {
    std::fprintf(stderr, "no state for %s (key group %d)\n", address.c_str(), kg);
    return 1;
  }
  std::printf("%s\n", result.dump(2).c_str());
  return 0;
}

int CmdInspect(int argc, char** argv) {
  auto args = ParseArgs(argc, argv, 2, {}, {"--json", "--help"});
  if (!args.ok()) return Usage(args.status().message(), kInspectHelp);
  if (args->flags.count("--help")) return std::printf("%s", kInspectHelp), 0;
  if (args->positional.size() != 1) return Usage("inspect takes one savepoint", kInspectHelp);
  auto reader = SavepointReader::Open(args->positional[0]);
  if (!reader.ok()) return Fail(reader.status());
  const SavepointMetadata& m = (*reader)->metadata();
  nlohmann::ordered_json j;
  j["savepoint"] = (*reader)->directory();
  j["metadata_version"] = m.version;
  j["checkpoint_id"] = m.checkpoint_id;
  j["operators"] = nlohmann::ordered_json::array();
  const OperatorId functions_id = OperatorIdFromUid(kFunctionsOperatorUid);
  for (const auto& op : m.operators) {
    j["operators"].push_back({{"id", OperatorIdHex(op.id)},
                              {"uid", op.id == functions_id ? kFunctionsOperatorUid : ""},
                              {"parallelism", op.parallelism},
                              {"max_parallelism", op.max_parallelism},
                              {"subtask_states", op.subtasks.size()}});
  }
  std::vector<SavepointReader::Stream> streams;
  Status s = (*reader)->OpenStreams(&streams);
  if (!s.ok()) return Fail(s);
  std::map<std::string, nlohmann::ordered_json> states;  // by Flink name
  std::vector<std::string> state_order;
  uint64_t addresses = 0, entries = 0, bytes = 0;
  j["subtasks"] = nlohmann::ordered_json::array();
  for (const auto& stream : streams) {
    uint64_t non_empty = 0;
    for (int64_t o : stream.handle->offsets) non_empty += o != 0;
    const int first = stream.handle->start_key_group;
    j["subtasks"].push_back({{"subtask", stream.subtask},
                             {"key_groups", std::to_string(first) + ".." +
                                                std::to_string(first + static_cast<int>(stream.handle->offsets.size()) - 1)},
                             {"non_empty_key_groups", non_empty},
                             {"stream", stream.name},
                             {"bytes", stream.bytes.size()}});
    bytes += stream.bytes.size();
    for (const auto& meta : stream.header.states) {
      if (!states.count(meta.flink_name)) {
        state_order.push_back(meta.flink_name);
        states[meta.flink_name] = {{"name", meta.flink_name}, {"serializer", meta.description},
                                   {"readable", meta.supported}, {"entries", 0}};
      }
    }
    int current_kg = -1;
    std::set<std::pair<std::string, std::u16string>> seen;  // addresses in the current key group
    s = (*reader)->ForEachEntry(stream, [&](const SavepointReader::Entry& e) -> Status {
      if (e.key_group != current_kg) {
        seen.clear();
        current_kg = e.key_group;
      }
      auto& st = states[e.state->flink_name];
      st["entries"] = st["entries"].get<uint64_t>() + 1;
      ++entries;
      if (e.state->supported && seen.emplace(e.state->descriptor.function_type, e.id).second) ++addresses;
      return Status::OK();
    });
    if (!s.ok()) return Fail(s);
  }
  j["states"] = nlohmann::ordered_json::array();
  for (const auto& n : state_order) j["states"].push_back(states[n]);
  j["addresses"] = addresses;
  j["entries"] = entries;
  j["keyed_state_bytes"] = bytes;
  if (args->flags.count("--json")) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("savepoint      %s\n", (*reader)->directory().c_str());
  std::printf("metadata       version %d, checkpoint %lld, %zu operator(s)\n", m.version,
              static_cast<long long>(m.checkpoint_id), m.operators.size());
  for (const auto& op : j["operators"]) {
    std::printf("operator       %s%s  parallelism %d, max parallelism %d\n", op["id"].get<std::string>().c_str(),
                op["uid"].get<std::string>().empty() ? "" : (" (" + op["uid"].get<std::string>() + ")").c_str(),
                op["parallelism"].get<int>(), op["max_parallelism"].get<int>());
  }
  if (!(*reader)->functions_operator()) std::printf("(no statefun functions operator: uid functions_uid1)\n");
  for (const auto& st : j["subtasks"]) {
    std::printf("subtask %-6d key groups %-13s %5llu non-empty  %10s  %s\n", st["subtask"].get<int>(),
                st["key_groups"].get<std::string>().c_str(),
                static_cast<unsigned long long>(st["non_empty_key_groups"].get<uint64_t>()),
                HumanBytes(st["bytes"].get<uint64_t>()).c_str(), st["stream"].get<std::string>().c_str());
  }
  std::printf("states\n");
  for (const auto& st : j["states"]) {
    const uint64_t n = st["entries"].get<uint64_t>();
    std::printf("  %-40s %-50s %s %s\n", st["name"].get<std::string>().c_str(),
                st["serializer"].get<std::string>().c_str(), WithThousands(n).c_str(), n == 1 ? "entry" : "entries");
  }
  std::printf("total          %s addresses, %s entries, %s of keyed state\n", WithThousands(addresses).c_str(),
              WithThousands(entries).c_str(), HumanBytes(bytes).c_str());
  return 0;
}

int Main(int argc, char** argv) {
  // A file-size limit (ulimit -f) must surface as a write error we can explain, not kill the process.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    std::fprintf(stderr, "%s", kUsage);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "run") return CmdRun(argc, argv);
  if (cmd == "validate") return CmdValidate(argc, argv);
  if (cmd == "inspect") return CmdInspect(argc, argv);
  if (cmd == "dump") return CmdDump(argc, argv);
  if (cmd == "get") return CmdGet(argc, argv);
  if (cmd == "--version" || cmd == "version") return std::printf("%s\n", kVersion), 0;
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    const std::string topic = argc > 2 ? argv[2] : "";
    if (topic == "run") std::printf("%s", kRunHelp);
    else if (topic == "validate") std::printf("%s", kValidateHelp);
    else if (topic == "inspect") std::printf("%s", kInspectHelp);
    else if (topic == "dump") std::printf("%s", kDumpHelp);
    else if (topic == "get") std::printf("%s", kGetHelp);
    else std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "error: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace
}  // namespace sfb

int main(int argc, char** argv) { return sfb::Main(argc, argv); }
