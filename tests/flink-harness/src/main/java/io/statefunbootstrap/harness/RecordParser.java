package io.statefunbootstrap.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.util.Collector;

/**
 * Parses RECORDS_JSONL lines {"function":"ns/name","id":"x","state":"long_value","value":123}
 * (bytes_value takes "value_base64"). Blank lines are skipped.
 */
final class RecordParser extends RichFlatMapFunction<String, BootstrapRecord> {
  private static final long serialVersionUID = 1L;

  static final String RECORDS_ACCUMULATOR = "harness-records";

  private transient LongCounter records;

  @Override
  public void open(Configuration parameters) {
    records = new LongCounter();
    getRuntimeContext().addAccumulator(RECORDS_ACCUMULATOR, records);
  }

  @Override
  public void flatMap(String line, Collector<BootstrapRecord> out) throws Exception {
    if (line.isBlank()) {
      return;
    }
    try {
      out.collect(parse(Json.MAPPER.readTree(line)));
    } catch (Exception e) {
      String shown = line.length() > 200 ? line.substring(0, 200) + "..." : line;
      throw new IllegalArgumentException("bad input record " + shown + ": " + e.getMessage(), e);
    }
    records.add(1L);
  }

  static BootstrapRecord parse(JsonNode n) {
    if (!n.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    BootstrapRecord r = new BootstrapRecord();
    r.function = text(n, "function");
    r.id = text(n, "id");
    r.state = text(n, "state");
    RecordRouter.functionType(r.function); // validate early
    JsonNode v = n.get("value");
    switch (r.state) {
      case "long_value":
        r.longValue = integral(v, Long.MIN_VALUE, Long.MAX_VALUE);
        break;
      case "int_value":
        r.longValue = integral(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
        break;
      case "string_value":
        if (v == null || !v.isTextual()) {
          throw new IllegalArgumentException("string_value needs a string \"value\"");
        }
        r.stringValue = v.textValue();
        break;
      case "bool_value":
        if (v == null || !v.isBoolean()) {
          throw new IllegalArgumentException("bool_value needs a boolean \"value\"");
        }
        r.boolValue = v.booleanValue();
        break;
      case "double_value":
        r.doubleValue = dbl(v);
        break;
      case "bytes_value":
        {
          JsonNode b = n.get("value_base64");
          if (b == null || !b.isTextual()) {
            throw new IllegalArgumentException("bytes_value needs a string \"value_base64\"");
          }
          r.bytesValue = Base64.getDecoder().decode(b.textValue());
          break;
        }
      default:
        throw new IllegalArgumentException(
            "unknown state '" + r.state + "' (known: " + String.join(", ", HarnessBootstrapFunction.STATES) + ")");
    }
    return r;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("missing string \"" + field + "\"");
    }
    return v.textValue();
  }

  private static long integral(JsonNode v, long min, long max) {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException("\"value\" must be an integer");
    }
    long l = v.longValue();
    if (l < min || l > max) {
      throw new IllegalArgumentException("\"value\" out of range: " + l);
    }
    return l;
  }

  private static double dbl(JsonNode v) {
    if (v != null && v.isNumber()) {
      return v.doubleValue();
    }
    if (v != null && v.isTextual()) {
      switch (v.textValue()) {
        case "NaN":
          return Double.NaN;
        case "Infinity":
          return Double.POSITIVE_INFINITY;
        case "-Infinity":
          return Double.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw new IllegalArgumentException(
        "double_value needs a number or \"NaN\"/\"Infinity\"/\"-Infinity\"");
  }
}
