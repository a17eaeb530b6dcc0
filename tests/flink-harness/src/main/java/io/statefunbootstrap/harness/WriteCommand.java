package io.statefunbootstrap.harness;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.statefunbootstrap.flinkcommon.LocalCluster;
import io.statefunbootstrap.harness.Main.UsageException;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.TreeSet;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.java.DataSet;
import org.apache.flink.api.java.ExecutionEnvironment;
import org.apache.flink.statefun.flink.state.processor.StatefulFunctionsSavepointCreator;

/**
 * {@code write}: Flink + StateFun's own StatefulFunctionsSavepointCreator write a savepoint from
 * RECORDS_JSONL (streamed by Flink's text input format, never held in memory).
 */
final class WriteCommand {
  private WriteCommand() {}

  static int run(String[] argv) throws Exception {
    String output = null;
    String input = null;
    String usersCsv = null;
    String eventsCsv = null;
    int maxParallelism = -1;
    int parallelism = 1;
    String stateBackend = "rocksdb";
    TreeSet<String> functions = null;
    String managedMemory = "256m";
    boolean rocksManagedMemory = true;
    Args a = new Args(argv);
    while (a.hasNext()) {
      String opt = a.next();
      switch (opt) {
        case "--output":
          output = a.value(opt);
          break;
        case "--input":
          input = a.value(opt);
          break;
        case "--users":
          usersCsv = a.value(opt);
          break;
        case "--events":
          eventsCsv = a.value(opt);
          break;
        case "--max-parallelism":
          maxParallelism = a.intValue(opt, 1);
          break;
        case "--parallelism":
          parallelism = a.intValue(opt, 1);
          break;
        case "--state-backend":
          stateBackend = a.value(opt);
          if (!stateBackend.equals("rocksdb") && !stateBackend.equals("hashmap")) {
            throw new UsageException("--state-backend must be rocksdb or hashmap");
          }
          break;
        case "--managed-memory":
          managedMemory = a.value(opt);
          break;
        case "--rocksdb-unmanaged-memory":
          rocksManagedMemory = false;
          break;
        case "--functions":
          functions = new TreeSet<>(Arrays.asList(a.value(opt).split(",")));
          break;
        default:
          throw new UsageException("write: unknown argument '" + opt + "'");
      }
    }
    boolean eventsJob = usersCsv != null || eventsCsv != null;
    if (eventsJob && (usersCsv == null || eventsCsv == null || input != null)) {
      throw new UsageException("write: the events job takes --users and --events, and no --input");
    }
    if (output == null || (input == null && !eventsJob) || maxParallelism < 0) {
      throw new UsageException("write: --output, --max-parallelism and --input (or --users and --events) are required");
    }
    if (parallelism > maxParallelism) {
      throw new UsageException("write: --parallelism must be <= --max-parallelism");
    }
    File in = new File(eventsJob ? eventsCsv : input);
    File users = eventsJob ? new File(usersCsv) : null;
    for (File f : eventsJob ? new File[] {in, users} : new File[] {in}) {
      if (!f.isFile()) {
        throw new IOException("input " + f + " is not a readable file");
      }
    }
    File out = new File(output).getAbsoluteFile();
    String[] existing = out.list();
    if (out.exists() && (!out.isDirectory() || (existing != null && existing.length > 0))) {
      throw new IOException("output " + out + " exists and is not an empty directory");
    }

    long t0 = System.nanoTime();
    long scanNanos = 0;
    if (eventsJob) {
      functions = new TreeSet<>(Arrays.asList("bench/user"));
    } else if (functions == null) {
      functions = scanFunctionTypes(in);
      scanNanos = System.nanoTime() - t0;
    }
    for (String f : functions) {
      RecordRouter.functionType(f); // validate
    }
    if (functions.isEmpty()) {
      throw new IOException("input " + input + " has no records");
    }

    long jobStart = System.nanoTime();
    JobExecutionResult result;
    try (LocalCluster cluster = Main.cluster(parallelism, managedMemory)) {
      ExecutionEnvironment env =
          new ExecutionEnvironment(
              cluster.executorLoader(),
              cluster.clientConfiguration(),
              WriteCommand.class.getClassLoader());
      env.setParallelism(parallelism);

      StatefulFunctionsSavepointCreator creator =
          new StatefulFunctionsSavepointCreator(maxParallelism);
      if (stateBackend.equals("hashmap")) {
        creator = creator.withFsStateBackend();
      } else if (!rocksManagedMemory) {
        unmanagedRocksDb(creator);
      }
      if (eventsJob) {
        DataSet<EventRecord> records =
            env.readTextFile(users.getAbsolutePath(), "UTF-8")
                .name("users " + users.getName())
                .flatMap(new EventRecord.Parser(true))
                .returns(EventRecord.class)
                .name("parse users")
                .union(
                    env.readTextFile(in.getAbsolutePath(), "UTF-8")
                        .name("events " + in.getName())
                        .flatMap(new EventRecord.Parser(false))
                        .returns(EventRecord.class)
                        .name("parse events"));
        creator = creator.withBootstrapData(records, new EventsBootstrapFunction.RouterProvider());
        creator =
            creator.withStateBootstrapFunctionProvider(
                EventsBootstrapFunction.TYPE, new EventsBootstrapFunction.Provider());
      } else {
        DataSet<BootstrapRecord> records =
            env.readTextFile(in.getAbsolutePath(), "UTF-8")
                .name("records " + in.getName())
                .flatMap(new RecordParser())
                .returns(BootstrapRecord.class)
                .name("parse");
        creator = creator.withBootstrapData(records, new RecordRouter.Provider());
        for (String f : functions) {
          creator =
              creator.withStateBootstrapFunctionProvider(
                  RecordRouter.functionType(f), new HarnessBootstrapFunction.Provider());
        }
      }
      creator.write(out.toURI().toString());
      result = env.execute("harness write " + out);
    }
    long end = System.nanoTime();

    if (!new File(out, "_metadata").isFile()) {
      throw new IOException("Flink finished but " + out + "/_metadata was not written");
    }
    long records = 0;
    for (String suffix : new String[] {"", "-users", "-events"}) {
      Long n = result.getAccumulatorResult(RecordParser.RECORDS_ACCUMULATOR + suffix);
      records += n == null ? 0 : n;
    }
    double total = (end - t0) / 1e9;
    double job = (end - jobStart) / 1e9;
    System.err.printf(
        "harness: write: %d records, %d function type(s), max parallelism %d, parallelism %d,"
            + " %s backend%n",
        records, functions.size(), maxParallelism, parallelism, stateBackend);
    System.err.printf(
        "harness: write: elapsed %.3fs total (function-type scan %.3fs, Flink job incl. cluster"
            + " start %.3fs); %.0f records/s overall, %.0f records/s in the job%n",
        total, scanNanos / 1e9, job, records / total, records / job);
    System.out.println(out.getPath());
    return 0;
  }

  /**
   * The creator hard-wires {@code new RocksDBStateBackend("file:///tmp/ignored")} with Flink-managed
   * memory, which makes RocksDB flush an SST file every few dozen writes once there are several
   * states. This swaps in the same backend with RocksDB's own memory defaults (reflection on a
   * private field of StateFun 3.3.0's creator; opt-in via --rocksdb-unmanaged-memory).
   */
  @SuppressWarnings("deprecation")
  private static void unmanagedRocksDb(StatefulFunctionsSavepointCreator creator) throws Exception {
    org.apache.flink.configuration.Configuration conf =
        new org.apache.flink.configuration.Configuration();
    conf.setString("state.backend.rocksdb.memory.managed", "false");
    org.apache.flink.contrib.streaming.state.RocksDBStateBackend rocks =
        new org.apache.flink.contrib.streaming.state.RocksDBStateBackend("file:///tmp/ignored")
            .configure(conf, WriteCommand.class.getClassLoader());
    java.lang.reflect.Field f =
        StatefulFunctionsSavepointCreator.class.getDeclaredField("stateBackend");
    f.setAccessible(true);
    f.set(creator, rocks);
  }

  /** Streams the input once to find the function types (they must be registered up front). */
  private static TreeSet<String> scanFunctionTypes(File in) throws IOException {
    TreeSet<String> types = new TreeSet<>();
    try (BufferedReader r = Files.newBufferedReader(Paths.get(in.getPath()), StandardCharsets.UTF_8)) {
      String line;
      long lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        String f = functionOf(line);
        if (f == null) {
          throw new IOException(in + ":" + lineNo + ": no string \"function\" field");
        }
        types.add(f);
      }
    }
    return types;
  }

  private static String functionOf(String line) throws IOException {
    try (JsonParser p = Json.MAPPER.getFactory().createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.getCurrentName();
        JsonToken v = p.nextToken();
        if (name.equals("function") && v == JsonToken.VALUE_STRING) {
          return p.getText();
        }
        p.skipChildren();
      }
      return null;
    }
  }
}
