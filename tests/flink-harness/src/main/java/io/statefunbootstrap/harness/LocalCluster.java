package io.statefunbootstrap.harness;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.time.Time;
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
 * One small MiniCluster for the whole invocation, shared by every job the harness runs (so a
 * read of several cases with two backends pays cluster start-up once).
 */
final class LocalCluster implements AutoCloseable {

  private final MiniCluster miniCluster;
  private final Configuration config;

  LocalCluster(int slots, String managedMemory) throws Exception {
    Configuration c = new Configuration();
    c.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    // keep the footprint small: 2 cores, many concurrent test runs
    c.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(managedMemory));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("16m"));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("16m"));
    // never collide with another harness (or anything else) on a fixed REST port
    c.set(RestOptions.BIND_PORT, "0");
    c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    c.set(RestOptions.ADDRESS, "127.0.0.1");
    c.set(CoreOptions.DEFAULT_PARALLELISM, 1);
    c.setString("restart-strategy", "none");
    // harness.sh hands every run its own temporary directory and deletes it afterwards
    String tmp = System.getProperty("harness.tmpdir");
    if (tmp != null && !tmp.isEmpty()) {
      c.set(CoreOptions.TMP_DIRS, tmp);
    }
    this.config = c;
    MiniClusterConfiguration mcc =
        new MiniClusterConfiguration.Builder()
            .setConfiguration(c)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(slots)
            .build();
    this.miniCluster = new MiniCluster(mcc);
    this.miniCluster.start();
  }

  /** Configuration for environments that submit to this cluster. */
  Configuration clientConfiguration() {
    Configuration c = new Configuration(config);
    c.setString("execution.target", "harness-minicluster");
    c.setBoolean("execution.attached", true);
    return c;
  }

  PipelineExecutorServiceLoader executorLoader() {
    final PipelineExecutor executor =
        (pipeline, configuration, userClassLoader) -> {
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
    final PipelineExecutorFactory factory =
        new PipelineExecutorFactory() {
          @Override
          public String getName() {
            return "harness-minicluster";
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
  public void close() throws Exception {
    CompletableFuture<Void> f = miniCluster.closeAsync();
    try {
      f.get(Time.seconds(10).toMilliseconds(), TimeUnit.MILLISECONDS);
    } catch (Exception ignored) {
      // shutting down; nothing useful to do
    }
  }
}
