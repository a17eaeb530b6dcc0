package io.statefunbootstrap.flinkcommon;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.client.deployment.executors.PipelineExecutorUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.PipelineExecutor;
import org.apache.flink.core.execution.PipelineExecutorFactory;
import org.apache.flink.core.execution.PipelineExecutorServiceLoader;
import org.apache.flink.runtime.jobgraph.JobGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.runtime.minicluster.MiniClusterJobClient;

/**
 * One small in-process Flink cluster (a JobManager and one TaskManager with {@code slots} slots),
 * shared by every job of one invocation, so several jobs pay cluster start-up once. Jobs are
 * submitted through {@link #executorLoader()}, so an environment built on it turns a pipeline into a
 * JobGraph exactly as {@code flink run} does, savepoint restore settings included.
 */
public final class LocalCluster implements AutoCloseable {

  /** What differs between the harnesses that use it. */
  public static final class Settings {
    /** Names the executor, and the system property {@code <name>.tmpdir} the launcher sets. */
    public String name = "local";
    public int slots = 1;
    public String managedMemory = "128m";
    public String networkMemory = "32m";
    /** 0 keeps Flink's default (the number of slots). */
    public int defaultParallelism = 0;
  }

  private final MiniCluster miniCluster;
  private final Configuration config;
  private final String name;

  public LocalCluster(Settings s) throws Exception {
    this.name = s.name;
    Configuration c = new Configuration();
    c.set(TaskManagerOptions.NUM_TASK_SLOTS, s.slots);
    // small footprint: 2 cores shared with other test runs
    c.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(s.managedMemory));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse(s.networkMemory));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse(s.networkMemory));
    // never collide with another run (or anything else) on a fixed REST port
    c.set(RestOptions.BIND_PORT, "0");
    c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    c.set(RestOptions.ADDRESS, "127.0.0.1");
    if (s.defaultParallelism > 0) {
      c.set(CoreOptions.DEFAULT_PARALLELISM, s.defaultParallelism);
    }
    c.setString("restart-strategy", "none");
    // the launcher hands every run its own temporary directory and deletes it afterwards
    String tmp = System.getProperty(s.name + ".tmpdir");
    if (tmp != null && !tmp.isEmpty()) {
      c.set(CoreOptions.TMP_DIRS, tmp);
    }
    this.config = c;
    MiniClusterConfiguration mcc =
        new MiniClusterConfiguration.Builder()
            .setConfiguration(c)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(s.slots)
            .build();
    this.miniCluster = new MiniCluster(mcc);
    this.miniCluster.start();
  }

  /** The cluster itself, for what the executor does not cover (a job's execution graph, say). */
  public MiniCluster miniCluster() {
    return miniCluster;
  }

  /** Configuration for environments that submit to this cluster. */
  public Configuration clientConfiguration() {
    Configuration c = new Configuration(config);
    c.setString("execution.target", executorName());
    c.setBoolean("execution.attached", true);
    return c;
  }

  private String executorName() {
    return name + "-minicluster";
  }

  public PipelineExecutorServiceLoader executorLoader() {
    final PipelineExecutor executor =
        (pipeline, configuration, userClassLoader) -> {
          // applies execution.savepoint.path (SavepointRestoreSettings) to the JobGraph
          JobGraph jobGraph =
              PipelineExecutorUtils.getJobGraph(pipeline, configuration, userClassLoader);
          return miniCluster
              .submitJob(jobGraph)
              .thenApply(
                  result ->
                      (JobClient)
                          new MiniClusterJobClient(
                              result.getJobID(),
                              miniCluster,
                              userClassLoader,
                              MiniClusterJobClient.JobFinalizationBehavior.NOTHING));
        };
    final String executorName = executorName();
    final PipelineExecutorFactory factory =
        new PipelineExecutorFactory() {
          @Override
          public String getName() {
            return executorName;
          }

          @Override
          public boolean isCompatibleWith(Configuration configuration) {
            return true;
          }

          @Override
          public PipelineExecutor getExecutor(Configuration configuration) {
            return executor;
          }
        };
    return new PipelineExecutorServiceLoader() {
      @Override
      public PipelineExecutorFactory getExecutorFactory(Configuration configuration) {
        return factory;
      }

      @Override
      public Stream<String> getExecutorNames() {
        return Stream.of(factory.getName());
      }
    };
  }

  @Override
  public void close() {
    CompletableFuture<Void> f = miniCluster.closeAsync();
    try {
      f.get(15, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // shutting down; nothing useful to do
    }
  }
}
