package io.statefunbootstrap.harness;

import java.util.List;
import org.apache.flink.statefun.flink.state.processor.Context;
import org.apache.flink.statefun.flink.state.processor.StateBootstrapFunction;
import org.apache.flink.statefun.flink.state.processor.StateBootstrapFunctionProvider;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.annotations.Persisted;
import org.apache.flink.statefun.sdk.state.PersistedValue;

/**
 * The one embedded bootstrap function of {@code write}: six typed values; each record sets one of
 * them for (function, id). Flink state names are "&lt;ns&gt;.&lt;name&gt;.long_value" etc.
 */
public final class HarnessBootstrapFunction implements StateBootstrapFunction {

  static final List<String> STATES =
      List.of("long_value", "int_value", "string_value", "bool_value", "double_value", "bytes_value");

  @Persisted
  private final PersistedValue<Long> longValue = PersistedValue.of("long_value", Long.class);

  @Persisted
  private final PersistedValue<Integer> intValue = PersistedValue.of("int_value", Integer.class);

  @Persisted
  private final PersistedValue<String> stringValue =
      PersistedValue.of("string_value", String.class);

  @Persisted
  private final PersistedValue<Boolean> boolValue = PersistedValue.of("bool_value", Boolean.class);

  @Persisted
  private final PersistedValue<Double> doubleValue =
      PersistedValue.of("double_value", Double.class);

  @Persisted
  private final PersistedValue<byte[]> bytesValue = PersistedValue.of("bytes_value", byte[].class);

  @Override
  public void bootstrap(Context context, Object bootstrapData) {
    BootstrapRecord r = (BootstrapRecord) bootstrapData;
    switch (r.state) {
      case "long_value":
        longValue.set(r.longValue);
        break;
      case "int_value":
        intValue.set((int) r.longValue);
        break;
      case "string_value":
        stringValue.set(r.stringValue);
        break;
      case "bool_value":
        boolValue.set(r.boolValue);
        break;
      case "double_value":
        doubleValue.set(r.doubleValue);
        break;
      case "bytes_value":
        bytesValue.set(r.bytesValue);
        break;
      default:
        throw new IllegalArgumentException("unknown state " + r.state);
    }
  }

  /** Same function class for every function type. */
  static final class Provider implements StateBootstrapFunctionProvider {
    private static final long serialVersionUID = 1L;

    @Override
    public StateBootstrapFunction bootstrapFunctionOfType(FunctionType type) {
      return new HarnessBootstrapFunction();
    }
  }
}
