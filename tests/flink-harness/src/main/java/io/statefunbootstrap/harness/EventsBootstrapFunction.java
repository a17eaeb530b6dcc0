package io.statefunbootstrap.harness;

import org.apache.flink.statefun.flink.state.processor.BootstrapDataRouterProvider;
import org.apache.flink.statefun.flink.state.processor.Context;
import org.apache.flink.statefun.flink.state.processor.StateBootstrapFunction;
import org.apache.flink.statefun.flink.state.processor.StateBootstrapFunctionProvider;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.annotations.Persisted;
import org.apache.flink.statefun.sdk.io.Router;
import org.apache.flink.statefun.sdk.state.PersistedValue;

/**
 * The benchmark's events job done by StateFun's own creator: for bench/user, the same merges as
 * bench/run.py's EVENTS_JOB (events: count, amount: sum(amount), last_ts: max(ts), page: last(page),
 * name set from the users file), in the same embedded states (Flink names bench.user.events ...).
 * The creator gives a function its records in no defined order, so "last page" is the page of the
 * greatest ts: the generator's ts grows with the file position, so that is the file's last one, as
 * statefun-bootstrap's last(page) takes it.
 */
public final class EventsBootstrapFunction implements StateBootstrapFunction {
  static final FunctionType TYPE = new FunctionType("bench", "user");

  @Persisted private final PersistedValue<Long> events = PersistedValue.of("events", Long.class);
  @Persisted private final PersistedValue<Long> amount = PersistedValue.of("amount", Long.class);
  @Persisted private final PersistedValue<Long> lastTs = PersistedValue.of("last_ts", Long.class);
  @Persisted private final PersistedValue<String> page = PersistedValue.of("page", String.class);
  @Persisted private final PersistedValue<String> name = PersistedValue.of("name", String.class);

  @Override
  public void bootstrap(Context context, Object bootstrapData) {
    EventRecord r = (EventRecord) bootstrapData;
    if (r.isUser) {
      name.set(r.name);
      return;
    }
    events.set(events.getOrDefault(0L) + 1);
    amount.set(Math.addExact(amount.getOrDefault(0L), r.amount));
    Long ts = lastTs.get();
    if (ts == null || r.ts >= ts) {
      lastTs.set(r.ts);
      page.set(r.page);
    }
  }

  static final class Provider implements StateBootstrapFunctionProvider {
    private static final long serialVersionUID = 1L;

    @Override
    public StateBootstrapFunction bootstrapFunctionOfType(FunctionType type) {
      return new EventsBootstrapFunction();
    }
  }

  /** Routes every record to bench/user at its id. */
  static final class RouterProvider implements BootstrapDataRouterProvider<EventRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public Router<EventRecord> provide() {
      return (record, downstream) -> downstream.forward(TYPE, record.id, record);
    }
  }
}
