package io.statefunbootstrap.restore.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.apache.flink.statefun.sdk.java.Context;
import org.apache.flink.statefun.sdk.java.StatefulFunction;
import org.apache.flink.statefun.sdk.java.StatefulFunctionSpec;
import org.apache.flink.statefun.sdk.java.StatefulFunctions;
import org.apache.flink.statefun.sdk.java.TypeName;
import org.apache.flink.statefun.sdk.java.ValueSpec;
import org.apache.flink.statefun.sdk.java.handler.RequestReplyHandler;
import org.apache.flink.statefun.sdk.java.message.EgressMessageBuilder;
import org.apache.flink.statefun.sdk.java.message.Message;
import org.apache.flink.statefun.sdk.java.message.MessageBuilder;
import org.apache.flink.statefun.sdk.java.slice.Slice;
import org.apache.flink.statefun.sdk.java.slice.Slices;
import org.apache.flink.statefun.sdk.java.types.SimpleType;
import org.apache.flink.statefun.sdk.java.types.Type;

/**
 * A remote probe function, served over HTTP with statefun's Java SDK (RequestReplyHandler).
 *
 * <pre>
 *   restore.sh probe-functions --plan PLAN_JSON [--port 0] [--port-file F] [--egress restore/seen]
 * </pre>
 *
 * PLAN_JSON is {@code statefun-bootstrap validate --json} of a job spec: for every remote function
 * type in it, the probe registers a function that declares exactly the job spec's states as SDK
 * {@code ValueSpec}s (same name, same type name, TTL or not), as an application would. Each
 * invocation reads every value and sends one report to the egress:
 *
 * <pre>
 *   {"function":"ns/name","id":"alice","message_type":"...","states":{"count":3,"name":"Alice","gone":null}}
 * </pre>
 *
 * Values: io.statefun.types/int, long, float, double, bool, string as JSON numbers, booleans and
 * strings (decoded by the SDK's own types); any other type's bytes as a UTF-8 string, or {@code
 * {"base64": ...}} when they are not UTF-8; absent state as null. The function changes no state.
 * The server listens on 127.0.0.1; the chosen port goes to stdout (and --port-file).
 *
 * <p>With {@code --count-type NS/TYPE}, a message of that type is not probed but counted: every
 * declared {@code io.statefun.types/int} state of the addressed function goes up by one (absent
 * counts as 0), no report is sent, and the running total of counted messages is written to {@code
 * --count-file} (replaced atomically). This is how a test lets an application build state of its own
 * before it is stopped with a savepoint.
 *
 * <p>With {@code --delayed-type NS/TYPE} too, a counted message whose value is a JSON object with an
 * integer {@code "delay_ms"} also sends its own address a message of that type after that delay
 * ({@code context.sendAfter}: statefun keeps it, and its processing-time timer, in the function
 * operator's keyed state until it fires). Such a delayed message is counted as well, and schedules
 * nothing. This is how a test leaves timers pending in a savepoint and sees them fire after a restore.
 */
public final class ProbeServer {

  /**
   * The listen backlog. statefun's async transport opens many connections per function type and
   * subtask at once (a restore opens them in a burst); when the accept queue is full the kernel drops
   * the SYNs, and each client retries on TCP back-off (1, 3, 7, 15, 31 s) with nothing logged at WARN,
   * so a test stalls or times out at random. 4096 is Linux's default net.core.somaxconn, the most a
   * listen(2) backlog gets (the JDK's default is 50).
   */
  static final int LISTEN_BACKLOG = 4096;

  private static final ObjectMapper JSON = new ObjectMapper();
  static final TypeName REPORT_TYPE = TypeName.typeNameFromString("io.statefunbootstrap.restore/Report");
  static final Type<String> REPORT =
      SimpleType.simpleImmutableTypeFrom(
          REPORT_TYPE, s -> s.getBytes(StandardCharsets.UTF_8), b -> new String(b, StandardCharsets.UTF_8));

  private ProbeServer() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    if (args.length % 2 != 0 || !opts.containsKey("--plan")) {
      System.err.println(
          "usage: restore.sh probe-functions --plan PLAN_JSON [--port 0] [--port-file F]"
              + " [--egress restore/seen] [--count-type NS/TYPE [--count-file F] [--delayed-type NS/TYPE]]");
      System.exit(2);
    }
    JsonNode plan = JSON.readTree(Files.readAllBytes(Paths.get(opts.get("--plan"))));
    TypeName egress = TypeName.typeNameFromString(opts.getOrDefault("--egress", "restore/seen"));
    String countFile = opts.get("--count-file");
    Counter counter =
        new Counter(
            opts.get("--count-type"),
            opts.get("--delayed-type"),
            countFile == null ? null : Paths.get(countFile));

    Map<String, List<StateDecl>> functions = new LinkedHashMap<>();
    for (JsonNode s : plan.path("states")) {
      if (!"remote".equals(s.path("kind").asText())) {
        continue; // embedded (Java) function state: not a remote function's business
      }
      functions
          .computeIfAbsent(s.path("function").asText(), k -> new ArrayList<>())
          .add(StateDecl.of(s));
    }
    if (functions.isEmpty()) {
      System.err.println("probe-functions: the plan has no remote function states");
      System.exit(2);
    }

    StatefulFunctions fns = new StatefulFunctions();
    for (Map.Entry<String, List<StateDecl>> f : functions.entrySet()) {
      List<StateDecl> states = f.getValue();
      List<ValueSpec<?>> specs = new ArrayList<>();
      for (StateDecl d : states) {
        specs.add(d.spec);
      }
      fns.withStatefulFunction(
          StatefulFunctionSpec.builder(TypeName.typeNameFromString(f.getKey()))
              .withValueSpecs(specs.toArray(new ValueSpec<?>[0]))
              .withSupplier(() -> new ProbeFunction(f.getKey(), states, egress, counter)));
      StringBuilder desc = new StringBuilder();
      for (StateDecl d : states) {
        desc.append(desc.length() == 0 ? "" : ", ").append(d.describe());
      }
      System.err.println("probe-functions: " + f.getKey() + " declares " + desc);
    }
    RequestReplyHandler handler = fns.requestReplyHandler();

    int port = Integer.parseInt(opts.getOrDefault("--port", "0"));
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), LISTEN_BACKLOG);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext(
        "/",
        exchange -> {
          try (InputStream in = exchange.getRequestBody()) {
            byte[] request = in.readAllBytes();
            Slice reply = handler.handle(Slices.wrap(request)).join();
            byte[] body = reply.toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          } catch (Throwable t) {
            System.err.println("probe-functions: request failed: " + t);
            byte[] body = String.valueOf(t).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(500, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          } finally {
            exchange.close();
          }
        });
    server.start();
    int bound = server.getAddress().getPort();
    if (opts.containsKey("--port-file")) {
      Path tmp = Paths.get(opts.get("--port-file") + ".tmp");
      Files.write(tmp, (bound + "\n").getBytes(StandardCharsets.UTF_8));
      Files.move(tmp, Paths.get(opts.get("--port-file")), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    System.out.println(bound);
    System.out.flush();
    System.err.println("probe-functions: listening on http://127.0.0.1:" + bound + "/{function.name}");
  }

  /** One declared state: the SDK ValueSpec built from a plan entry. */
  static final class StateDecl {
    final String name;
    final String type;
    final JsonNode ttl;
    final ValueSpec<?> spec;

    private StateDecl(String name, String type, JsonNode ttl, ValueSpec<?> spec) {
      this.name = name;
      this.type = type;
      this.ttl = ttl;
      this.spec = spec;
    }

    static StateDecl of(JsonNode s) {
      String name = s.path("state").asText();
      String type = s.path("type").asText();
      JsonNode ttl = s.get("ttl");
      ValueSpec.Untyped u = ValueSpec.named(name);
      if (ttl != null && !ttl.isNull()) {
        Duration d = Duration.ofMillis(ttl.path("millis").asLong());
        String mode = ttl.path("mode").asText();
        if (mode.equals("after_write")) {
          u = u.thatExpireAfterWrite(d);
        } else if (mode.equals("after_invoke")) {
          u = u.thatExpiresAfterCall(d);
        } else {
          throw new IllegalArgumentException("unknown ttl mode " + mode);
        }
      }
      ValueSpec<?> spec;
      switch (type) {
        case "io.statefun.types/int":
          spec = u.withIntType();
          break;
        case "io.statefun.types/long":
          spec = u.withLongType();
          break;
        case "io.statefun.types/float":
          spec = u.withFloatType();
          break;
        case "io.statefun.types/double":
          spec = u.withDoubleType();
          break;
        case "io.statefun.types/bool":
          spec = u.withBooleanType();
          break;
        case "io.statefun.types/string":
          spec = u.withUtf8StringType();
          break;
        default:
          // a user type (json, protobuf, raw codecs): its bytes as they are
          spec =
              u.withCustomType(
                  SimpleType.simpleImmutableTypeFrom(
                      TypeName.typeNameFromString(type), b -> b, b -> b));
      }
      return new StateDecl(name, type, ttl, spec);
    }

    String describe() {
      String t = "";
      if (ttl != null && !ttl.isNull()) {
        t = " ttl " + ttl.path("mode").asText() + " " + ttl.path("millis").asLong() + "ms";
      }
      return name + " (" + type + t + ")";
    }
  }

  /** Which messages are counted instead of probed, and the running total of those counted. */
  static final class Counter {
    private final String type; // null: none
    private final Type<byte[]> delayed; // null: nothing is delayed
    private final Path file; // null: not written
    private long total;

    Counter(String type, String delayedType, Path file) {
      this.type = type;
      this.delayed =
          delayedType == null
              ? null
              : SimpleType.simpleImmutableTypeFrom(
                  TypeName.typeNameFromString(delayedType), b -> b, b -> b);
      this.file = file;
    }

    boolean counts(Message message) {
      String t = message.valueTypeName().asTypeNameString();
      return type != null
          && (t.equals(type) || (delayed != null && t.equals(delayed.typeName().asTypeNameString())));
    }

    /**
     * The delay_ms of a counted message of the count type, or -1: delayed messages and values without
     * one schedule nothing.
     */
    long delayMillis(Message message) {
      if (delayed == null || !message.valueTypeName().asTypeNameString().equals(type)) {
        return -1;
      }
      try {
        JsonNode delay = JSON.readTree(message.rawValue().toByteArray()).path("delay_ms");
        return delay.canConvertToLong() ? delay.asLong() : -1;
      } catch (java.io.IOException e) {
        return -1; // not JSON: nothing to delay
      }
    }

    Message delayedCopy(Context context, Message message) {
      return MessageBuilder.forAddress(context.self())
          .withCustomType(delayed, message.rawValue().toByteArray())
          .build();
    }

    synchronized void counted() {
      total++;
      if (file == null) {
        return;
      }
      try {
        Path tmp = Paths.get(file + ".tmp");
        Files.write(tmp, (total + "\n").getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** Reads every declared value and reports them (or counts a --count-type message). */
  static final class ProbeFunction implements StatefulFunction {
    private final String function;
    private final List<StateDecl> states;
    private final TypeName egress;
    private final Counter counter;

    ProbeFunction(String function, List<StateDecl> states, TypeName egress, Counter counter) {
      this.function = function;
      this.states = states;
      this.egress = egress;
      this.counter = counter;
    }

    @SuppressWarnings("unchecked")
    @Override
    public CompletableFuture<Void> apply(Context context, Message message) {
      if (counter.counts(message)) {
        for (StateDecl d : states) {
          if (d.type.equals("io.statefun.types/int")) {
            ValueSpec<Integer> spec = (ValueSpec<Integer>) d.spec;
            context.storage().set(spec, context.storage().get(spec).orElse(0) + 1);
          }
        }
        long delay = counter.delayMillis(message);
        if (delay >= 0) {
          context.sendAfter(Duration.ofMillis(delay), counter.delayedCopy(context, message));
        }
        counter.counted();
        return context.done();
      }
      ObjectNode report = JSON.createObjectNode();
      report.put("function", function);
      report.put("id", context.self().id());
      report.put("message_type", message.valueTypeName().asTypeNameString());
      ObjectNode seen = report.putObject("states");
      for (StateDecl d : states) {
        Optional<?> v = context.storage().get(d.spec);
        if (v.isEmpty()) {
          seen.putNull(d.name);
        } else if (v.get() instanceof byte[]) {
          byte[] bytes = (byte[]) v.get();
          String text = utf8(bytes);
          if (text != null) {
            seen.put(d.name, text);
          } else {
            seen.putObject(d.name).put("base64", Base64.getEncoder().encodeToString(bytes));
          }
        } else {
          seen.set(d.name, JSON.valueToTree(v.get()));
        }
      }
      String json = report.toString();
      context.send(EgressMessageBuilder.forEgress(egress).withCustomType(REPORT, json).build());
      System.err.println("probe-functions: " + json);
      return context.done();
    }

    private static String utf8(byte[] bytes) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        return null;
      }
    }
  }
}
