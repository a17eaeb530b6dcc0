package io.statefunbootstrap.restore;

import io.statefunbootstrap.flinkcommon.LocalCluster;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.jobgraph.SavepointConfigOptions;
import org.apache.flink.runtime.state.storage.FileSystemCheckpointStorage;
import org.apache.flink.statefun.flink.core.StatefulFunctionsConfig;
import org.apache.flink.statefun.flink.core.StatefulFunctionsConfigValidator;
import org.apache.flink.statefun.flink.core.StatefulFunctionsJob;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverse;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverseProvider;
import org.apache.flink.statefun.flink.core.spi.Modules;
import org.apache.flink.streaming.api.environment.ExecutionCheckpointingOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Starts a Stateful Functions application the way the statefun distribution does:
 * {@code StatefulFunctionsJob.main(env, config)} builds the pipeline from the modules on the class
 * path (ServiceLoader) and the remote module file ({@code statefun.remote.module-name}, a
 * module.yaml), and the job graph is submitted with the savepoint restore settings of {@code
 * execution.savepoint.path} (what {@code flink run -s} and the image's {@code -s} set).
 */
final class StatefunApp {

  private StatefunApp() {}

  /** What one application run needs. */
  static final class Settings {
    Path moduleYaml;
    String savepoint; // null: start empty
    int parallelism = 1;
    int maxParallelism = 128;
    String stateBackend = "rocksdb";
    String jobName = "statefun-restore";
    // Where checkpoint storage keeps state (null: the JobManager's memory, all state inline in
    // _metadata), streams below inlineThreshold bytes are inlined in _metadata either way.
    String checkpointDir;
    int inlineThreshold = 20 * 1024;
    boolean snapshotCompression = false;
    // state.backend.rocksdb.timer-service.factory: where the RocksDB backend keeps timers (ROCKSDB or HEAP)
    String timerService = "rocksdb";
  }

  /** Submits the application and returns as soon as the job is submitted. */
  static JobClient start(
      LocalCluster cluster, Settings s, StatefulFunctionsUniverseProvider provider)
      throws Exception {
    Configuration conf = cluster.clientConfiguration();
    conf.set(CoreOptions.DEFAULT_PARALLELISM, s.parallelism);
    conf.set(PipelineOptions.MAX_PARALLELISM, s.maxParallelism);
    conf.set(StateBackendOptions.STATE_BACKEND, s.stateBackend);
    conf.setString("state.backend.rocksdb.timer-service.factory", s.timerService.toUpperCase(Locale.ROOT));
    if (s.savepoint != null) {
      conf.set(SavepointConfigOptions.SAVEPOINT_PATH, s.savepoint);
      // strict: every piece of state in the savepoint must be claimed by the job
      conf.set(SavepointConfigOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, false);
    }
    // what statefun's StatefulFunctionsConfigValidator demands of a flink-conf.yaml
    conf.set(
        CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL,
        StatefulFunctionsConfigValidator.PARENT_FIRST_CLASSLOADER_PATTERNS);
    conf.set(
        ExecutionCheckpointingOptions.MAX_CONCURRENT_CHECKPOINTS,
        StatefulFunctionsConfigValidator.MAX_CONCURRENT_CHECKPOINTS);
    conf.set(StatefulFunctionsConfig.REMOTE_MODULE_NAME, s.moduleYaml.toUri().toString());
    conf.set(StatefulFunctionsConfig.FLINK_JOB_NAME, s.jobName);
    conf.set(
        StatefulFunctionsConfig.TOTAL_MEMORY_USED_FOR_FEEDBACK_CHECKPOINTING,
        MemorySize.parse("8m"));

    AsyncEnvironment env =
        new AsyncEnvironment(
            cluster.executorLoader(), conf, Thread.currentThread().getContextClassLoader());
    if (s.checkpointDir != null) {
      env.getCheckpointConfig()
          .setCheckpointStorage(
              new FileSystemCheckpointStorage(
                  Paths.get(s.checkpointDir).toUri(), s.inlineThreshold));
    }
    env.getConfig().setUseSnapshotCompression(s.snapshotCompression);
    StatefulFunctionsConfig statefun = StatefulFunctionsConfig.fromFlinkConfiguration(conf);
    statefun.setProvider(provider);
    StatefulFunctionsJob.main(env, statefun);
    if (env.client == null) {
      throw new IllegalStateException("StatefulFunctionsJob did not submit a job");
    }
    return env.client;
  }

  /** The universe exactly as the statefun distribution builds it: class-path and module.yaml modules. */
  static final class ClassPathProvider implements StatefulFunctionsUniverseProvider {
    private static final long serialVersionUID = 1L;

    @Override
    public StatefulFunctionsUniverse get(ClassLoader cl, StatefulFunctionsConfig config) {
      return Modules.loadFromClassPath(config).createStatefulFunctionsUniverse();
    }
  }

  /**
   * {@code StatefulFunctionsJob.main} ends with {@code env.execute(name)}, which blocks until the
   * job ends; this environment submits instead and keeps the client, so the job can be watched and
   * cancelled.
   */
  static final class AsyncEnvironment extends StreamExecutionEnvironment {
    volatile JobClient client;

    AsyncEnvironment(PipelineExecutorServiceLoader loader, Configuration conf, ClassLoader cl) {
      super(loader, conf, cl);
    }

    @Override
    public JobExecutionResult execute(String jobName) throws Exception {
      client = executeAsync(jobName);
      return null;
    }
  }
}
