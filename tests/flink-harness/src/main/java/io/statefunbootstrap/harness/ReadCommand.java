package io.statefunbootstrap.harness;

import io.statefunbootstrap.flinkcommon.Failures;
import io.statefunbootstrap.flinkcommon.LocalCluster;
import io.statefunbootstrap.harness.Main.UsageException;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.contrib.streaming.state.EmbeddedRocksDBStateBackend;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.StateBackend;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.runtime.OperatorIDGenerator;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/** {@code read}: real Flink reads a savepoint; the plan says which states and how to decode. */
final class ReadCommand {
  private ReadCommand() {}

  static final String DEFAULT_UID = "functions_uid1";

  /** One or more backends failed; each failure has been reported already. */
  private static final class BackendsFailed extends Exception {
    private static final long serialVersionUID = 1L;

    BackendsFailed(String message) {
      super(message);
    }
  }

  private static final class Case {
    final String dir;
    final String plan;
    final String out;

    Case(String dir, String plan, String out) {
      this.dir = dir;
      this.plan = plan;
      this.out = out;
    }
  }

  static int run(String[] argv) throws Exception {
    List<String> backends = null;
    int parallelism = 1;
    String uid = DEFAULT_UID;
    boolean allowUnreachable = false;
    String managedMemory = "64m";
    List<Case> cases = new ArrayList<>();
    Args a = new Args(argv);
    while (a.hasNext()) {
      String opt = a.next();
      switch (opt) {
        case "--backend":
          String b = a.value(opt);
          switch (b) {
            case "hashmap":
            case "rocksdb":
              backends = List.of(b);
              break;
            case "both":
              backends = List.of("hashmap", "rocksdb");
              break;
            default:
              throw new UsageException("--backend must be hashmap, rocksdb or both, got '" + b + "'");
          }
          break;
        case "--parallelism":
          parallelism = a.intValue(opt, 1);
          break;
        case "--uid":
          uid = a.value(opt);
          break;
        case "--managed-memory":
          managedMemory = a.value(opt);
          break;
        case "--allow-unreachable":
          allowUnreachable = true;
          break;
        case "--case":
          cases.add(new Case(a.value(opt), a.value(opt), a.value(opt)));
          break;
        default:
          throw new UsageException("read: unknown argument '" + opt + "'");
      }
    }
    if (backends == null) {
      throw new UsageException("read: --backend is required");
    }
    if (cases.isEmpty()) {
      throw new UsageException("read: at least one --case SAVEPOINT_DIR PLAN_JSON OUT_JSONL");
    }

    long t0 = System.nanoTime();
    int failed = 0;
    try (LocalCluster cluster = Main.cluster(parallelism, managedMemory)) {
      System.err.printf(
          "harness: MiniCluster up in %.2fs (parallelism %d)%n", secondsSince(t0), parallelism);
      int n = 0;
      for (Case c : cases) {
        n++;
        String tag = "case " + n + "/" + cases.size() + " " + c.dir;
        try {
          runCase(cluster, c, tag, backends, parallelism, uid, allowUnreachable);
        } catch (BackendsFailed e) {
          failed++; // details already printed per backend
          System.err.println("harness: " + tag + ": FAILED: " + e.getMessage());
        } catch (Exception e) {
          failed++;
          Failures.report("harness: " + tag + ": FAILED", e);
        }
      }
    }
    System.err.printf(
        "harness: read: %d/%d case(s) ok, %.2fs total%n",
        cases.size() - failed, cases.size(), secondsSince(t0));
    return failed == 0 ? 0 : 1;
  }

  private static void runCase(
      LocalCluster cluster,
      Case c,
      String tag,
      List<String> backends,
      int parallelism,
      String uid,
      boolean allowUnreachable)
      throws Exception {
    Path out = Paths.get(c.out);
    // never leave a stale result behind that could pass for this run's output
    Files.deleteIfExists(out);

    Plan plan = Plan.load(c.plan);
    for (String w : plan.warnings) {
      System.err.println("harness: " + tag + ": warning: plan " + c.plan + ": " + w);
    }
    String dir = new File(c.dir).getAbsolutePath();
    checkMetadata(dir, uid, plan, tag);

    List<String> reference = null;
    String referenceBackend = null;
    List<String> failures = new ArrayList<>();
    for (String backend : backends) {
      try {
        List<String> lines = readAndCheck(cluster, dir, backend, plan, uid, parallelism, tag,
            allowUnreachable);
        if (reference == null) {
          reference = lines;
          referenceBackend = backend;
        } else if (!reference.equals(lines)) {
          failures.add(
              "backends disagree: "
                  + referenceBackend
                  + " vs "
                  + backend
                  + ": "
                  + firstDifference(reference, lines));
        }
      } catch (Exception e) {
        // keep going: knowing whether the other backend accepts it too is worth the time
        Failures.report("harness: " + tag + " [" + backend + "]: FAILED", e);
        failures.add(
            e.getMessage() != null ? e.getMessage() : backend + ": " + Failures.describe(e));
      }
    }
    if (!failures.isEmpty()) {
      throw new BackendsFailed(String.join("; ", failures));
    }
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    Path tmp = Paths.get(c.out + ".tmp");
    try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      for (String l : reference) {
        w.write(l);
        w.write('\n');
      }
    }
    Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private static List<String> readAndCheck(
      LocalCluster cluster,
      String dir,
      String backend,
      Plan plan,
      String uid,
      int parallelism,
      String tag,
      boolean allowUnreachable)
      throws Exception {
    long t0 = System.nanoTime();
    List<Tuple4<String, String, String, String>> rows;
    try {
      rows = readWith(cluster, dir, backend, plan, uid, parallelism);
    } catch (Exception e) {
      Throwable decode = find(e, ValueCodec.DecodeException.class);
      if (decode != null) {
        throw new Exception(
            "Flink (" + backend + " backend) accepted the savepoint, but a value does not match"
                + " the plan: " + decode.getMessage(),
            e);
      }
      throw new Exception(
          "Flink (" + backend + " backend) rejected the savepoint: "
              + Failures.describe(Failures.root(e)),
          e);
    }
    List<String> unreachable = new ArrayList<>();
    rows.removeIf(
        r -> {
          if (PlanReaderFunction.UNREACHABLE.equals(r.f0)) {
            unreachable.add(r.f2);
            return true;
          }
          return false;
        });
    if (!unreachable.isEmpty()) {
      unreachable.sort(CODE_POINT_ORDER);
      String msg =
          unreachable.size()
              + " key(s) are listed by Flink but no plan state yields a value for them (stored"
              + " under the wrong key group, or TTL-expired): "
              + (unreachable.size() > 10 ? unreachable.subList(0, 10) + " ..." : unreachable);
      if (!allowUnreachable) {
        throw new IllegalStateException(backend + " backend: " + msg);
      }
      System.err.println("harness: " + tag + " [" + backend + "]: warning: " + msg);
    }
    rows.sort(ROW_ORDER);
    checkUnique(rows, backend);
    List<String> lines = new ArrayList<>(rows.size());
    Set<String> keys = new HashSet<>();
    Set<String> states = new HashSet<>();
    for (Tuple4<String, String, String, String> r : rows) {
      lines.add(r.f3);
      keys.add(r.f2);
      states.add(r.f0 + "\u0000" + r.f1);
    }
    System.err.printf(
        "harness: %s [%s]: %d entries, %d/%d states non-empty, %d distinct keys, %.2fs%n",
        tag, backend, rows.size(), states.size(), plan.states.size(), keys.size(),
        secondsSince(t0));
    return lines;
  }

  private static List<Tuple4<String, String, String, String>> readWith(
      LocalCluster cluster, String dir, String backend, Plan plan, String uid, int parallelism)
      throws Exception {
    StreamExecutionEnvironment env =
        new StreamExecutionEnvironment(
            cluster.executorLoader(),
            cluster.clientConfiguration(),
            ReadCommand.class.getClassLoader());
    env.setParallelism(parallelism);
    StateBackend sb;
    if (backend.equals("rocksdb")) {
      EmbeddedRocksDBStateBackend rocks = new EmbeddedRocksDBStateBackend();
      // With Flink-managed memory every column family shares a tiny write-buffer budget and
      // RocksDB flushes an SST file every few dozen writes; the state reader deletes each key
      // after reading it, so reads crawl. Plain RocksDB defaults are fine for this.
      rocks.getMemoryConfiguration().setUseManagedMemory(false);
      sb = rocks;
    } else {
      sb = new HashMapStateBackend();
    }
    SavepointReader reader = SavepointReader.read(env, dir, sb);
    DataStream<Tuple4<String, String, String, String>> stream =
        reader.readKeyedState(
            uid,
            new PlanReaderFunction(plan.states),
            Types.STRING,
            Types.TUPLE(Types.STRING, Types.STRING, Types.STRING, Types.STRING));
    List<Tuple4<String, String, String, String>> rows = new ArrayList<>();
    try (CloseableIterator<Tuple4<String, String, String, String>> it =
        stream.executeAndCollect("harness read [" + backend + "] " + dir)) {
      while (it.hasNext()) {
        rows.add(it.next());
      }
    }
    return rows;
  }

  /** Checks the operator's entry in _metadata before handing the savepoint to Flink. */
  private static void checkMetadata(String dir, String uid, Plan plan, String tag)
      throws IOException {
    CheckpointMetadata md = SavepointLoader.loadSavepointMetadata(dir);
    OperatorID id = OperatorIDGenerator.fromUid(uid);
    OperatorState found = null;
    List<String> present = new ArrayList<>();
    for (OperatorState os : md.getOperatorStates()) {
      present.add(os.getOperatorID().toHexString());
      if (os.getOperatorID().equals(id)) {
        found = os;
      }
    }
    if (found == null) {
      throw new IllegalStateException(
          "_metadata has no operator state for uid '"
              + uid
              + "' (operator id "
              + id.toHexString()
              + "); operators present: "
              + present);
    }
    System.err.printf(
        "harness: %s: _metadata: checkpoint id %d, %d operator(s); %s: parallelism %d,"
            + " max parallelism %d, %d subtask state(s)%n",
        tag,
        md.getCheckpointId(),
        md.getOperatorStates().size(),
        uid,
        found.getParallelism(),
        found.getMaxParallelism(),
        found.getSubtaskStates().size());
    List<String> remarks = new ArrayList<>();
    java.util.Map<String, String> declared = SavepointHeader.states(found, remarks);
    System.err.printf("harness: %s: keyed state declares %d state(s): %s%n", tag, declared.size(),
        abbreviate(declared.size() > 4 ? declared.keySet().toString() : declared.toString()));
    List<String> planNames = SavepointHeader.names(plan.states);
    List<String> missing = new ArrayList<>();
    for (String n : planNames) {
      if (!declared.containsKey(n)) {
        missing.add(n);
      }
    }
    List<String> extra = new ArrayList<>();
    for (String n : declared.keySet()) {
      if (!planNames.contains(n)) {
        extra.add(n);
      }
    }
    if (!missing.isEmpty()) {
      remarks.add(missing.size() + " plan state(s) not in the savepoint (no output for them): "
          + abbreviate(missing.toString()));
    }
    if (!extra.isEmpty()) {
      remarks.add(extra.size() + " savepoint state(s) not in the plan (not checked): "
          + abbreviate(extra.toString()));
    }
    for (String r : remarks) {
      System.err.println("harness: " + tag + ": note: " + r);
    }
    if (plan.maxParallelism > 0 && found.getMaxParallelism() != plan.maxParallelism) {
      throw new IllegalStateException(
          "max parallelism mismatch: savepoint has "
              + found.getMaxParallelism()
              + ", plan says "
              + plan.maxParallelism);
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= 300 ? s : s.substring(0, 297) + "...";
  }

  private static Throwable find(Throwable t, Class<? extends Throwable> type) {
    for (int i = 0; t != null && i < 64; i++, t = t.getCause()) {
      if (type.isInstance(t)) {
        return t;
      }
    }
    return null;
  }

  private static void checkUnique(List<Tuple4<String, String, String, String>> rows, String backend) {
    for (int i = 1; i < rows.size(); i++) {
      if (ROW_ORDER.compare(rows.get(i - 1), rows.get(i)) == 0) {
        throw new IllegalStateException(
            backend + " backend returned (function, state, id) twice: " + rows.get(i).f3);
      }
    }
  }

  private static String firstDifference(List<String> a, List<String> b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      if (!a.get(i).equals(b.get(i))) {
        return "line " + (i + 1) + ": " + a.get(i) + " <> " + b.get(i);
      }
    }
    return "line counts " + a.size() + " vs " + b.size();
  }

  /**
   * Sort by (function, state, id) comparing Unicode code points, which is the same order as
   * comparing the UTF-8 bytes (what a C++ std::string sort gives).
   */
  static final Comparator<String> CODE_POINT_ORDER =
      (x, y) -> {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
          int cx = x.codePointAt(i);
          int cy = y.codePointAt(j);
          if (cx != cy) {
            return Integer.compare(cx, cy);
          }
          i += Character.charCount(cx);
          j += Character.charCount(cy);
        }
        return Integer.compare(x.length() - i, y.length() - j);
      };

  static final Comparator<Tuple4<String, String, String, String>> ROW_ORDER =
      Comparator.<Tuple4<String, String, String, String>, String>comparing(t -> t.f0, CODE_POINT_ORDER)
          .thenComparing(t -> t.f1, CODE_POINT_ORDER)
          .thenComparing(t -> t.f2, CODE_POINT_ORDER);

  static double secondsSince(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
