package io.statefunbootstrap.harness;

import io.statefunbootstrap.flinkcommon.Failures;
import io.statefunbootstrap.flinkcommon.LocalCluster;
import java.util.Arrays;

/**
 * Entry point of the Flink judge harness.
 *
 * <pre>
 *   read  --backend hashmap|rocksdb|both [--parallelism P] --case SAVEPOINT_DIR PLAN_JSON OUT_JSONL [--case ...]
 *   write --output DIR --max-parallelism N [--parallelism P] --input RECORDS_JSONL
 *   write --output DIR --max-parallelism N [--parallelism P] --users USERS_CSV --events EVENTS_CSV
 * </pre>
 *
 * stdout carries only the command's result (nothing for read, the written directory for write);
 * everything else goes to stderr. Exit status: 0 ok, 1 failure (Flink rejected something, a
 * mismatch, I/O), 2 usage error.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    Failures.setVerboseVariable("HARNESS_VERBOSE");
    int rc;
    try {
      if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
        System.err.print(usage());
        rc = args.length == 0 ? 2 : 0;
      } else {
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
          case "read":
            rc = ReadCommand.run(rest);
            break;
          case "write":
            rc = WriteCommand.run(rest);
            break;
          default:
            throw new UsageException("unknown command '" + args[0] + "'");
        }
      }
    } catch (UsageException e) {
      System.err.println("harness: usage error: " + e.getMessage());
      System.err.print(usage());
      rc = 2;
    } catch (Throwable t) {
      Failures.report("harness: FAILED", t);
      rc = 1;
    }
    System.out.flush();
    System.err.flush();
    // MiniCluster / RocksDB may leave non-daemon threads behind; exit() does not wait for them
    // but still runs the shutdown hooks that delete Flink's temporary files.
    System.exit(rc);
  }

  static String usage() {
    return "usage:\n"
        + "  harness.sh read --backend hashmap|rocksdb|both [--parallelism P] [--uid UID]\n"
        + "                  [--allow-unreachable] [--managed-memory 64m]\n"
        + "                  --case SAVEPOINT_DIR PLAN_JSON OUT_JSONL [--case ...]\n"
        + "  harness.sh write --output DIR --max-parallelism N [--parallelism P]\n"
        + "                   [--state-backend rocksdb|hashmap] [--functions ns/a,ns/b]\n"
        + "                   [--rocksdb-unmanaged-memory] [--managed-memory 256m]\n"
        + "                   --input RECORDS_JSONL | --users USERS_CSV --events EVENTS_CSV\n";
  }

  /** The harness's cluster: one slot per subtask, small network buffers, parallelism 1 unless a job sets it. */
  static LocalCluster cluster(int slots, String managedMemory) throws Exception {
    LocalCluster.Settings s = new LocalCluster.Settings();
    s.name = "harness";
    s.slots = slots;
    s.managedMemory = managedMemory;
    s.networkMemory = "16m";
    s.defaultParallelism = 1;
    return new LocalCluster(s);
  }

  /** Bad command line. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
