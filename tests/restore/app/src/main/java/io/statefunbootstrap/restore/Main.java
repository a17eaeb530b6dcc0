package io.statefunbootstrap.restore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.statefunbootstrap.flinkcommon.Failures;
import io.statefunbootstrap.flinkcommon.LocalCluster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverseProvider;

/**
 * Runs a real Stateful Functions 3.3.0 application (StatefulFunctionsJob on Flink 1.16.2) in an
 * in-process MiniCluster, optionally restored from a savepoint.
 *
 * <pre>
 *   probe --module MODULE_YAML --savepoint DIR --function NS/NAME --ids IDS_FILE
 *         --run PARALLELISM:BACKEND:OUT_JSONL [--run ...]
 *         [--max-parallelism 128] [--egress restore/seen] [--timeout 90] [--managed-memory 128m]
 *       Per run: starts the application from the savepoint, sends one message to NS/NAME/id for
 *       every line of IDS_FILE, collects the reports the (remote) function sends to the egress,
 *       cancels the job, writes the reports (one JSON object per line, sorted by id) to OUT_JSONL.
 *   serve --module MODULE_YAML [--module ...] [--savepoint DIR] [--parallelism 1] [--max-parallelism 128]
 *         [--state-backend rocksdb|hashmap] [--ready-file F] [--duration SECONDS]
 *         [--messages FILE --messages-to NS/NAME --messages-type NS/TYPE [--messages-id-field id]]
 *       Runs the application until terminated (SIGTERM/SIGINT) or for SECONDS; prints one line to
 *       stdout (and writes F) once every task runs, i.e. once the savepoint is restored. With
 *       --messages, an extra ingress sends each line of FILE (a JSON object) to NS/NAME/<its field>
 *       as a value of type NS/TYPE, as a Kafka ingress delivers a record's value.
 *       With --stop-file F --savepoint-dir DIR: once F exists, the job is stopped with a canonical
 *       savepoint under DIR (Flink's stop-with-savepoint, as `flink stop --type canonical`), whose
 *       path is printed as "savepoint: PATH"; --checkpoint-dir D keeps state in files under D
 *       (--inline-threshold BYTES, default 20480, inlines smaller streams in _metadata), and
 *       --snapshot-compression true compresses keyed state. --savepoint-mode trigger takes the canonical
 *       savepoint of the running job instead (as `flink savepoint --type canonical`), then cancels it:
 *       Flink 1.16's legacy FlinkKafkaConsumer (statefun's Kafka ingress) fails stop-with-savepoint
 *       (Handover$ClosedException from its fetcher), so an application with a Kafka ingress needs it.
 *       --timer-service heap keeps the RocksDB backend's timers on the heap
 *       (state.backend.rocksdb.timer-service.factory: HEAP).
 *   produce --brokers B --topic T --file LINES [--key-field id] [--partitions 2]
 *       Creates the topic if needed and produces each line keyed by its JSON field (see KafkaProduce).
 * </pre>
 *
 * Exit status: 0 ok, 1 failure (Flink refused the savepoint, the job failed, a report is missing),
 * 2 usage error.
 */
public final class Main {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Main() {}

  public static void main(String[] args) {
    Failures.setVerboseVariable("RESTORE_VERBOSE");
    int rc;
    try {
      if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help")) {
        System.err.print(usage());
        rc = args.length == 0 ? 2 : 0;
      } else {
        Args a = new Args(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
          case "probe":
            rc = probe(a);
            break;
          case "serve":
            rc = serve(a);
            break;
          case "produce":
            rc = KafkaProduce.run(a);
            break;
          default:
            throw new UsageException("unknown command '" + args[0] + "'");
        }
      }
    } catch (UsageException e) {
      System.err.println("restore: usage error: " + e.getMessage());
      System.err.print(usage());
      rc = 2;
    } catch (Throwable t) {
      Failures.report("restore: FAILED", t);
      rc = 1;
    }
    System.out.flush();
    System.err.flush();
    // MiniCluster threads may linger; exit() still runs Flink's cleanup hooks
    System.exit(rc);
  }

  static String usage() {
    return "usage:\n"
        + "  restore.sh app probe --module MODULE_YAML --savepoint DIR --function NS/NAME --ids IDS_FILE\n"
        + "                       --run PARALLELISM:BACKEND:OUT_JSONL [--run ...]\n"
        + "                       [--max-parallelism 128] [--egress restore/seen] [--timeout 90]\n"
        + "  restore.sh app serve --module MODULE_YAML [--module ...] [--savepoint DIR] [--parallelism 1]\n"
        + "                       [--max-parallelism 128] [--state-backend rocksdb|hashmap]\n"
        + "                       [--ready-file F] [--duration SECONDS]\n"
        + "                       [--messages FILE --messages-to NS/NAME --messages-type NS/TYPE\n"
        + "                        [--messages-id-field id]]\n"
        + "                       [--stop-file F --savepoint-dir DIR] [--checkpoint-dir D]\n"
        + "                       [--inline-threshold BYTES] [--snapshot-compression true|false]\n"
        + "                       [--savepoint-mode stop|trigger] [--timer-service rocksdb|heap]\n"
        + "  restore.sh app produce --brokers B --topic T --file LINES [--key-field id] [--partitions 2]\n";
  }

  // ---------------------------------------------------------------------------------- probe

  private static int probe(Args a) throws Exception {
    Path module = moduleFile(a);
    String savepoint = a.required("--savepoint");
    String function = a.required("--function");
    String egress = a.get("--egress", "restore/seen");
    int maxParallelism = a.integer("--max-parallelism", 128);
    int timeoutSeconds = a.integer("--timeout", 90);
    List<String> ids = new ArrayList<>();
    for (String line : Files.readAllLines(a.path("--ids"), StandardCharsets.UTF_8)) {
      if (!line.isEmpty()) {
        ids.add(line);
      }
    }
    if (ids.isEmpty()) {
      throw new UsageException("--ids names no ids");
    }
    List<String[]> runs = new ArrayList<>();
    int slots = 1;
    for (String r : a.all("--run")) {
      String[] parts = r.split(":", 3);
      if (parts.length != 3) {
        throw new UsageException("--run takes PARALLELISM:BACKEND:OUT_JSONL, not " + r);
      }
      slots = Math.max(slots, Integer.parseInt(parts[0]));
      runs.add(parts);
    }
    if (runs.isEmpty()) {
      throw new UsageException("give at least one --run");
    }

    int failed = 0;
    long t0 = System.nanoTime();
    try (LocalCluster cluster = cluster(slots, a.get("--managed-memory", "128m"))) {
      System.err.printf(
          "restore: MiniCluster up (%d slots) in %.1fs%n", slots, (System.nanoTime() - t0) / 1e9);
      for (int i = 0; i < runs.size(); i++) {
        String[] r = runs.get(i);
        StatefunApp.Settings s = new StatefunApp.Settings();
        s.moduleYaml = module;
        s.savepoint = savepoint;
        s.parallelism = Integer.parseInt(r[0]);
        s.maxParallelism = maxParallelism;
        s.stateBackend = r[1];
        s.jobName = "statefun-restore-probe-p" + r[0] + "-" + r[1];
        Path out = Paths.get(r[2]);
        Files.deleteIfExists(out);
        String label =
            String.format(
                "run %d/%d (parallelism %s, max parallelism %d, %s)",
                i + 1, runs.size(), r[0], maxParallelism, r[1]);
        try {
          probeOnce(cluster, s, function, egress, ids, out, timeoutSeconds, label);
        } catch (Exception e) {
          failed++;
          Failures.report("restore: " + label + " FAILED", e);
        }
      }
    }
    return failed == 0 ? 0 : 1;
  }

  private static void probeOnce(
      LocalCluster cluster,
      StatefunApp.Settings s,
      String function,
      String egress,
      List<String> ids,
      Path out,
      int timeoutSeconds,
      String label)
      throws Exception {
    Probe.REPORTS.clear();
    long start = System.nanoTime();
    JobClient client = StatefunApp.start(cluster, s, new Probe.Provider(function, egress, ids));
    Map<String, String> byId = new TreeMap<>();
    long deadline = start + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    double runningAfter = -1;
    try {
      while (true) {
        String report;
        while ((report = Probe.REPORTS.poll()) != null) {
          JsonNode node = JSON.readTree(report);
          String id = node.path("id").asText();
          if (byId.put(id, JSON.writeValueAsString(node)) != null) {
            throw new IllegalStateException("address " + id + " reported twice");
          }
        }
        if (runningAfter < 0 && allTasksRunning(cluster, client.getJobID())) {
          runningAfter = (System.nanoTime() - start) / 1e9;
        }
        if (byId.size() >= ids.size()) {
          break;
        }
        JobStatus status = client.getJobStatus().get();
        if (status.isGloballyTerminalState()) {
          throw new IllegalStateException(
              "the job ended (" + status + ") before every address reported", failureOf(client));
        }
        if (System.nanoTime() > deadline) {
          List<String> missing = new ArrayList<>(ids);
          missing.removeAll(byId.keySet());
          throw new IllegalStateException(
              "timed out after "
                  + timeoutSeconds
                  + "s; no report from "
                  + missing.size()
                  + " address(es), e.g. "
                  + missing.subList(0, Math.min(5, missing.size()))
                  + " (job status "
                  + status
                  + ")");
        }
        Thread.sleep(50);
      }
    } finally {
      cancel(client);
    }
    for (String id : byId.keySet()) {
      if (!ids.contains(id)) {
        throw new IllegalStateException("report from an address that was not probed: " + id);
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String line : byId.values()) {
      sb.append(line).append('\n');
    }
    Files.write(out, sb.toString().getBytes(StandardCharsets.UTF_8));
    System.err.printf(
        "restore: %s: restored and running after %.1fs, %d/%d addresses reported after %.1fs%n",
        label, runningAfter, byId.size(), ids.size(), (System.nanoTime() - start) / 1e9);
  }

  // ---------------------------------------------------------------------------------- serve

  private static int serve(Args a) throws Exception {
    StatefunApp.Settings s = new StatefunApp.Settings();
    s.moduleYaml = moduleFile(a);
    s.savepoint = a.get("--savepoint", null);
    s.parallelism = a.integer("--parallelism", 1);
    s.maxParallelism = a.integer("--max-parallelism", 128);
    s.stateBackend = a.get("--state-backend", "rocksdb");
    s.jobName = a.get("--job-name", "statefun-application");
    s.checkpointDir = a.get("--checkpoint-dir", null);
    s.inlineThreshold = a.integer("--inline-threshold", s.inlineThreshold);
    s.snapshotCompression = Boolean.parseBoolean(a.get("--snapshot-compression", "false"));
    s.timerService = a.get("--timer-service", "rocksdb");
    if (!s.timerService.equals("rocksdb") && !s.timerService.equals("heap")) {
      throw new UsageException("--timer-service is rocksdb or heap, not " + s.timerService);
    }
    String readyFile = a.get("--ready-file", null);
    int duration = a.integer("--duration", 0);
    String stopFile = a.get("--stop-file", null);
    String savepointDir = a.get("--savepoint-dir", null);
    String savepointMode = a.get("--savepoint-mode", "stop");
    if (!savepointMode.equals("stop") && !savepointMode.equals("trigger")) {
      throw new UsageException("--savepoint-mode is stop or trigger, not " + savepointMode);
    }
    if ((stopFile == null) != (savepointDir == null)) {
      throw new UsageException("--stop-file and --savepoint-dir go together");
    }
    StatefulFunctionsUniverseProvider provider = new StatefunApp.ClassPathProvider();
    String messages = a.get("--messages", null);
    if (messages != null) {
      List<String> lines = new ArrayList<>();
      for (String line : Files.readAllLines(a.path("--messages"), StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          lines.add(line);
        }
      }
      provider =
          new Probe.MessagesProvider(
              a.required("--messages-to"),
              a.required("--messages-type"),
              a.get("--messages-id-field", "id"),
              lines);
    }

    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.countDown();
                  try {
                    stopped.await(20, TimeUnit.SECONDS);
                  } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                  }
                },
                "restore-shutdown"));

    int rc = 0;
    try (LocalCluster cluster =
        cluster(s.parallelism, a.get("--managed-memory", "128m"))) {
      long start = System.nanoTime();
      JobClient client = StatefunApp.start(cluster, s, provider);
      boolean announced = false;
      long end = duration > 0 ? start + TimeUnit.SECONDS.toNanos(duration) : Long.MAX_VALUE;
      try {
        while (!stop.await(100, TimeUnit.MILLISECONDS) && System.nanoTime() < end) {
          JobStatus status = client.getJobStatus().get();
          if (status.isGloballyTerminalState()) {
            Throwable cause = failureOf(client);
            if (cause != null) {
              Failures.report("restore: the statefun application failed", cause);
            } else {
              System.err.println("restore: the statefun application ended: " + status);
            }
            rc = 1;
            break;
          }
          if (announced && stopFile != null && Files.exists(Paths.get(stopFile))) {
            String target = Paths.get(savepointDir).toAbsolutePath().toUri().toString();
            // trigger: a savepoint of the running job, which the finally block then cancels
            String path =
                (savepointMode.equals("trigger")
                        ? client.triggerSavepoint(target, SavepointFormatType.CANONICAL)
                        : client.stopWithSavepoint(false, target, SavepointFormatType.CANONICAL))
                    .get(120, TimeUnit.SECONDS);
            System.out.println("savepoint: " + path);
            System.out.flush();
            break;
          }
          if (!announced && allTasksRunning(cluster, client.getJobID())) {
            announced = true;
            String line =
                String.format(
                    "statefun application running: job %s, parallelism %d, max parallelism %d, %s,"
                        + " %s, after %.1fs",
                    client.getJobID(),
                    s.parallelism,
                    s.maxParallelism,
                    s.stateBackend,
                    s.savepoint == null ? "no savepoint" : "restored from " + s.savepoint,
                    (System.nanoTime() - start) / 1e9);
            System.out.println(line);
            System.out.flush();
            if (readyFile != null) {
              Files.write(Paths.get(readyFile), (line + "\n").getBytes(StandardCharsets.UTF_8));
            }
          }
        }
      } finally {
        cancel(client);
      }
    } finally {
      stopped.countDown();
    }
    return rc;
  }

  // ---------------------------------------------------------------------------------- helpers

  /** The --module file, or several joined into one multi-document module.yaml. */
  private static Path moduleFile(Args a) throws IOException {
    List<String> files = a.all("--module");
    if (files.isEmpty()) {
      throw new UsageException("missing --module");
    }
    StringBuilder joined = new StringBuilder();
    for (String f : files) {
      Path p = Paths.get(f).toAbsolutePath();
      if (!Files.exists(p)) {
        throw new UsageException("--module: no such file: " + p);
      }
      if (files.size() == 1) {
        return p;
      }
      joined.append("---\n# ").append(p).append('\n');
      joined.append(new String(Files.readAllBytes(p), StandardCharsets.UTF_8)).append('\n');
    }
    String dir = System.getProperty("restore.tmpdir", System.getProperty("java.io.tmpdir"));
    Path out = Files.createTempFile(Paths.get(dir), "module-", ".yaml");
    Files.write(out, joined.toString().getBytes(StandardCharsets.UTF_8));
    return out;
  }

  private static Throwable failureOf(JobClient client) {
    try {
      client.getJobExecutionResult().get(10, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (Exception e) {
      return e;
    }
  }

  private static void cancel(JobClient client) {
    try {
      JobStatus status = client.getJobStatus().get(10, TimeUnit.SECONDS);
      if (!status.isGloballyTerminalState()) {
        client.cancel().get(30, TimeUnit.SECONDS);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!client.getJobStatus().get(10, TimeUnit.SECONDS).isGloballyTerminalState()
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } catch (Exception e) {
      System.err.println("restore: could not cancel the job cleanly: " + Failures.describe(e));
    }
  }

  /** Tiny option parser: --name value pairs, repeatable. */
  static final class Args {
    private final Map<String, List<String>> values = new TreeMap<>();

    Args(String[] args) {
      for (int i = 0; i < args.length; i++) {
        if (!args[i].startsWith("--") || i + 1 >= args.length) {
          throw new UsageException("unexpected argument '" + args[i] + "'");
        }
        values.computeIfAbsent(args[i], k -> new ArrayList<>()).add(args[++i]);
      }
    }

    String get(String name, String fallback) {
      List<String> v = values.get(name);
      return v == null ? fallback : v.get(v.size() - 1);
    }

    String required(String name) {
      String v = get(name, null);
      if (v == null) {
        throw new UsageException("missing " + name);
      }
      return v;
    }

    Path path(String name) throws IOException {
      Path p = Paths.get(required(name)).toAbsolutePath();
      if (!Files.exists(p)) {
        throw new UsageException(name + ": no such file: " + p);
      }
      return p;
    }

    int integer(String name, int fallback) {
      String v = get(name, null);
      try {
        return v == null ? fallback : Integer.parseInt(v);
      } catch (NumberFormatException e) {
        throw new UsageException(name + " must be an integer, not " + v);
      }
    }

    List<String> all(String name) {
      return values.getOrDefault(name, new ArrayList<>());
    }
  }

  /** Bad command line. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /** The restore harness's cluster. */
  static LocalCluster cluster(int slots, String managedMemory) throws Exception {
    LocalCluster.Settings s = new LocalCluster.Settings();
    s.name = "restore";
    s.slots = slots;
    s.managedMemory = managedMemory;
    return new LocalCluster(s);
  }

  /** Every task of the job is RUNNING: its state is restored and its operators are open. */
  static boolean allTasksRunning(LocalCluster cluster, JobID jobId) {
    try {
      return allRunning(cluster.miniCluster().getArchivedExecutionGraph(jobId).get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      return false;
    }
  }

  /** Every execution of the job is RUNNING (state restored, operators open). */
  static boolean allRunning(AccessExecutionGraph graph) {
    int n = 0;
    for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
      if (v.getExecutionState() != ExecutionState.RUNNING) {
        return false;
      }
      n++;
    }
    return n > 0;
  }
}
