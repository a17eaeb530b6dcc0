package io.statefunbootstrap.harness;

import java.util.List;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.util.Collector;

/**
 * Registers one ValueState per plan entry and emits (function, state, id, json line) for every
 * non-null value.
 */
final class PlanReaderFunction
    extends KeyedStateReaderFunction<String, Tuple4<String, String, String, String>> {
  private static final long serialVersionUID = 1L;

  private final List<StateSpec> specs;
  private transient ValueState<Object>[] handles;

  PlanReaderFunction(List<StateSpec> specs) {
    this.specs = specs;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void open(Configuration parameters) {
    handles = new ValueState[specs.size()];
    for (int i = 0; i < handles.length; i++) {
      handles[i] = getRuntimeContext().getState(specs.get(i).descriptor());
    }
  }

  @Override
  public void readKey(
      String id, Context ctx, Collector<Tuple4<String, String, String, String>> out)
      throws Exception {
    boolean any = false;
    for (int i = 0; i < handles.length; i++) {
      Object v = handles[i].value();
      if (v == null) {
        continue;
      }
      any = true;
      StateSpec spec = specs.get(i);
      ValueCodec.Decoded d = ValueCodec.decode(spec, id, v);
      out.collect(
          Tuple4.of(
              spec.function,
              spec.state,
              id,
              Json.line(spec.function, id, spec.state, d.field, d.node)));
    }
    if (!any) {
      // Flink listed this key for one of the plan's states, yet no state has a value for it
      // under Flink's own key-group assignment: stored in the wrong key group, or TTL-expired.
      out.collect(Tuple4.of(UNREACHABLE, "", id, ""));
    }
  }

  /** Marker in f0 of rows that report an unreachable key (see readKey). */
  static final String UNREACHABLE = "\u0000unreachable";
}
