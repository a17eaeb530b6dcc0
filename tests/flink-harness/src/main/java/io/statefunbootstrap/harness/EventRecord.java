package io.statefunbootstrap.harness;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.Collector;

/**
 * One line of the benchmark's events workload for {@code write --users U --events E}: a user of
 * bench/generate-users.sh ("id,name,visits") or an event of bench/generate-events.sh
 * ("user,amount,ts,page"). A Flink POJO (public fields, no-arg constructor).
 */
public class EventRecord {
  public boolean isUser;
  public String id;
  public String name;
  public long amount;
  public long ts;
  public String page;

  public EventRecord() {}

  /** Parses one CSV file's lines, skipping its header; counts records into the write accumulator. */
  static final class Parser extends RichFlatMapFunction<String, EventRecord> {
    private static final long serialVersionUID = 1L;

    private final boolean users;
    private transient LongCounter records;

    Parser(boolean users) {
      this.users = users;
    }

    @Override
    public void open(Configuration parameters) {
      records = new LongCounter();
      getRuntimeContext().addAccumulator(RecordParser.RECORDS_ACCUMULATOR + (users ? "-users" : "-events"), records);
    }

    @Override
    public void flatMap(String line, Collector<EventRecord> out) {
      if (line.isEmpty() || line.startsWith(users ? "id," : "user,")) {
        return;
      }
      String[] f = line.split(",", -1);
      EventRecord r = new EventRecord();
      r.isUser = users;
      r.id = f[0];
      if (users) {
        r.name = f[1];
      } else {
        r.amount = Long.parseLong(f[1]);
        r.ts = Long.parseLong(f[2]);
        r.page = f[3];
      }
      records.add(1L);
      out.collect(r);
    }
  }
}
