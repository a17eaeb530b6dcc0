package io.statefunbootstrap.restore;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
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
 * shared by every job of one invocation. Jobs are submitted through {@link #executorLoader()}, so a
 * {@code StreamExecutionEnvironment} built on it turns {@code StatefulFunctionsJob}'s pipeline into
 * a JobGraph exactly as {@code flink run} does, savepoint restore settings included.
 */
final class LocalCluster implements AutoCloseable {

  private final MiniCluster miniCluster;
  private final Configuration config;

  LocalCluster(int slots, String managedMemory) throws Exception {
    Configuration c = new Configuration();
    c.set(TaskManagerOptions.NUM_TASK_SLOTS, slots);
    // small footprint: 2 cores shared with other test runs
    c.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse(managedMemory));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MIN, MemorySize.parse("32m"));
    c.set(TaskManagerOptions.NETWORK_MEMORY_MAX, MemorySize.parse("32m"));
    c.set(RestOptions.BIND_PORT, "0");
    c.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    c.set(RestOptions.ADDRESS, "127.0.0.1");
    c.setString("restart-strategy", "none");
    // restore.sh hands every run its own temporary directory and deletes it afterwards
    String tmp = System.getProperty("restore.tmpdir");
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
    c.setString("execution.target", "restore-minicluster");
    c.setBoolean("execution.attached", true);
    return c;
  }

  PipelineExecutorServiceLoader executorLoader() {
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
    final PipelineExecutorFactory factory =
        new PipelineExecutorFactory() {
          @Override
          public String getName() {
            return "restore-minicluster";
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

  /** Every task of the job is RUNNING: its state is restored and its operators are open. */
  boolean allTasksRunning(JobID jobId) {
    try {
      return Main.allRunning(
          miniCluster.getArchivedExecutionGraph(jobId).get(10, TimeUnit.SECONDS));
    } catch (Exception e) {
      return false;
    }
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
