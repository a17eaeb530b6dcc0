package io.statefunbootstrap.restore;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.statefun.flink.core.StatefulFunctionsConfig;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverse;
import org.apache.flink.statefun.flink.core.StatefulFunctionsUniverseProvider;
import org.apache.flink.statefun.flink.core.spi.Modules;
import org.apache.flink.statefun.flink.io.datastream.SinkFunctionSpec;
import org.apache.flink.statefun.flink.io.datastream.SourceFunctionSpec;
import org.apache.flink.statefun.sdk.Address;
import org.apache.flink.statefun.sdk.FunctionType;
import org.apache.flink.statefun.sdk.io.EgressIdentifier;
import org.apache.flink.statefun.sdk.io.IngressIdentifier;
import org.apache.flink.statefun.sdk.io.Router;
import org.apache.flink.statefun.sdk.reqreply.generated.TypedValue;
import org.apache.flink.streaming.api.functions.sink.SinkFunction;
import org.apache.flink.streaming.api.functions.source.SourceFunction;

/**
 * The probe wiring around the application's own modules: an ingress that sends one message to each
 * test address of one function type, and an egress ({@code restore/seen} by default) where the
 * remote probe function reports the state it saw. Messages and reports are statefun {@code
 * TypedValue}s, the only payload remote functions exchange with the runtime.
 */
final class Probe {

  static final IngressIdentifier<TypedValue> INGRESS =
      new IngressIdentifier<>(TypedValue.class, "io.statefunbootstrap.restore", "probe-ingress");
  static final String MESSAGE_TYPE = "io.statefunbootstrap.restore/Probe";

  /** Reports received by the egress sinks (the MiniCluster runs in this JVM). */
  static final ConcurrentLinkedQueue<String> REPORTS = new ConcurrentLinkedQueue<>();

  private Probe() {}

  static final class Provider implements StatefulFunctionsUniverseProvider {
    private static final long serialVersionUID = 1L;
    private final String functionNamespace;
    private final String functionName;
    private final String egressNamespace;
    private final String egressName;
    private final ArrayList<String> ids;

    Provider(String function, String egress, List<String> ids) {
      String[] f = function.split("/", -1);
      String[] e = egress.split("/", -1);
      if (f.length != 2 || e.length != 2) {
        throw new IllegalArgumentException("function and egress must be namespace/name");
      }
      this.functionNamespace = f[0];
      this.functionName = f[1];
      this.egressNamespace = e[0];
      this.egressName = e[1];
      this.ids = new ArrayList<>(ids);
    }

    @Override
    public StatefulFunctionsUniverse get(ClassLoader cl, StatefulFunctionsConfig config) {
      StatefulFunctionsUniverse universe =
          Modules.loadFromClassPath(config).createStatefulFunctionsUniverse();
      universe.bindIngress(new SourceFunctionSpec<>(INGRESS, new IdSource(ids)));
      universe.bindIngressRouter(
          INGRESS, new ToFunction(new FunctionType(functionNamespace, functionName)));
      EgressIdentifier<TypedValue> egress =
          new EgressIdentifier<>(egressNamespace, egressName, TypedValue.class);
      universe.bindEgress(new SinkFunctionSpec<>(egress, new ReportSink()));
      return universe;
    }
  }

  /**
   * Emits one message per id (the id as the message's bytes), then idles until cancelled (a
   * finished source would end the job). Statefun chains a source to its ingress router, so the
   * messages are never serialized here.
   */
  static final class IdSource implements SourceFunction<TypedValue> {
    private static final long serialVersionUID = 1L;
    private final ArrayList<String> ids;
    private volatile boolean running = true;

    IdSource(ArrayList<String> ids) {
      this.ids = ids;
    }

    @Override
    public void run(SourceContext<TypedValue> ctx) throws Exception {
      for (String id : ids) {
        TypedValue message =
            TypedValue.newBuilder()
                .setTypename(MESSAGE_TYPE)
                .setHasValue(true)
                .setValue(ByteString.copyFromUtf8(id))
                .build();
        synchronized (ctx.getCheckpointLock()) {
          ctx.collect(message);
        }
      }
      while (running) {
        Thread.sleep(50);
      }
    }

    @Override
    public void cancel() {
      running = false;
    }
  }

  /**
   * For {@code serve --messages}: the application's own modules plus an ingress that sends each
   * line of a file (a JSON object) to {@code to/<the line's idField>} as a TypedValue of {@code
   * type} holding the line's bytes, as a module.yaml Kafka ingress would deliver a record's value.
   */
  static final class MessagesProvider implements StatefulFunctionsUniverseProvider {
    private static final long serialVersionUID = 1L;
    private static final IngressIdentifier<TypedValue> MESSAGES =
        new IngressIdentifier<>(TypedValue.class, "io.statefunbootstrap.restore", "messages");
    private final String to;
    private final String type;
    private final String idField;
    private final ArrayList<String> lines;

    MessagesProvider(String to, String type, String idField, List<String> lines) {
      if (to.split("/", -1).length != 2 || type.split("/", -1).length != 2) {
        throw new IllegalArgumentException("--messages-to and --messages-type must be namespace/name");
      }
      this.to = to;
      this.type = type;
      this.idField = idField;
      this.lines = new ArrayList<>(lines);
    }

    @Override
    public StatefulFunctionsUniverse get(ClassLoader cl, StatefulFunctionsConfig config) {
      StatefulFunctionsUniverse universe =
          Modules.loadFromClassPath(config).createStatefulFunctionsUniverse();
      universe.bindIngress(new SourceFunctionSpec<>(MESSAGES, new LineSource(lines, type)));
      String[] t = to.split("/", -1);
      universe.bindIngressRouter(
          MESSAGES, new ByJsonField(new FunctionType(t[0], t[1]), idField));
      return universe;
    }
  }

  /** Emits each line as a TypedValue of the given type, then idles until cancelled. */
  static final class LineSource implements SourceFunction<TypedValue> {
    private static final long serialVersionUID = 1L;
    private final ArrayList<String> lines;
    private final String type;
    private volatile boolean running = true;

    LineSource(ArrayList<String> lines, String type) {
      this.lines = lines;
      this.type = type;
    }

    @Override
    public void run(SourceContext<TypedValue> ctx) throws Exception {
      for (String line : lines) {
        TypedValue message =
            TypedValue.newBuilder()
                .setTypename(type)
                .setHasValue(true)
                .setValue(ByteString.copyFromUtf8(line))
                .build();
        synchronized (ctx.getCheckpointLock()) {
          ctx.collect(message);
        }
      }
      while (running) {
        Thread.sleep(50);
      }
    }

    @Override
    public void cancel() {
      running = false;
    }
  }

  /** A JSON message -> the address (function type, the message's idField). */
  static final class ByJsonField implements Router<TypedValue> {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
        new com.fasterxml.jackson.databind.ObjectMapper();
    private final FunctionType type;
    private final String field;

    ByJsonField(FunctionType type, String field) {
      this.type = type;
      this.field = field;
    }

    @Override
    public void route(TypedValue message, Downstream<TypedValue> downstream) {
      String id;
      try {
        id = JSON.readTree(message.getValue().toByteArray()).path(field).asText();
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("a message is not JSON: " + message.getValue().toStringUtf8(), e);
      }
      downstream.forward(new Address(type, id), message);
    }
  }

  /** A probe message -> the address (function type, the message's id). */
  static final class ToFunction implements Router<TypedValue> {
    private final FunctionType type;

    ToFunction(FunctionType type) {
      this.type = type;
    }

    @Override
    public void route(TypedValue message, Downstream<TypedValue> downstream) {
      downstream.forward(new Address(type, message.getValue().toStringUtf8()), message);
    }
  }

  static final class ReportSink implements SinkFunction<TypedValue> {
    private static final long serialVersionUID = 1L;

    @Override
    public void invoke(TypedValue value, Context context) {
      REPORTS.add(value.getValue().toStringUtf8());
    }
  }
}
