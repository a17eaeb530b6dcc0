package io.statefunbootstrap.harness;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.statefun.flink.state.processor.BootstrapDataRouterProvider;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.io.Router;

/** Routes each record to (its function type, its id). */
final class RecordRouter implements Router<BootstrapRecord> {

  private final Map<String, FunctionType> types = new HashMap<>();

  @Override
  public void route(BootstrapRecord record, Downstream<BootstrapRecord> downstream) {
    FunctionType t = types.computeIfAbsent(record.function, RecordRouter::functionType);
    downstream.forward(t, record.id, record);
  }

  /** "ns/name" -> FunctionType, with the same two-part rule StateFun uses for type names. */
  static FunctionType functionType(String s) {
    String[] parts = s.split("/");
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      throw new IllegalArgumentException("function '" + s + "' is not of the form <namespace>/<name>");
    }
    return new FunctionType(parts[0], parts[1]);
  }

  /** Serializable provider, as StatefulFunctionsSavepointCreator requires. */
  static final class Provider implements BootstrapDataRouterProvider<BootstrapRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public Router<BootstrapRecord> provide() {
      return new RecordRouter();
    }
  }
}
