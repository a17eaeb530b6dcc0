package demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.apache.flink.statefun.sdk.java.Context;
import org.apache.flink.statefun.sdk.java.StatefulFunction;
import org.apache.flink.statefun.sdk.java.StatefulFunctionSpec;
import org.apache.flink.statefun.sdk.java.StatefulFunctions;
import org.apache.flink.statefun.sdk.java.TypeName;
import org.apache.flink.statefun.sdk.java.ValueSpec;
import org.apache.flink.statefun.sdk.java.handler.RequestReplyHandler;
import org.apache.flink.statefun.sdk.java.message.Message;
import org.apache.flink.statefun.sdk.java.slice.Slice;
import org.apache.flink.statefun.sdk.java.slice.Slices;
import org.apache.flink.statefun.sdk.java.types.SimpleType;
import org.apache.flink.statefun.sdk.java.types.Type;

/**
 * demo/greeter: greets every user who shows up on the events topic, with what it knows about them.
 *
 * <p>Its state was bootstrapped by statefun-bootstrap (demo/job.yaml) before the application ever
 * ran: the profile from PostgreSQL's users table, the visit count and last visit from the history
 * of the Kafka topic. The ValueSpecs below are the job spec's states: same names, same type names,
 * the same TTL presence.
 */
public final class GreeterServer {

  static final TypeName GREETER = TypeName.typeNameFromString("demo/greeter");

  /** A Kafka record's value, as the module's Kafka ingress delivers it: the JSON bytes. */
  static final Type<byte[]> EVENT =
      SimpleType.simpleImmutableTypeFrom(TypeName.typeNameFromString("demo/Event"), b -> b, b -> b);

  /** job.yaml: profile: { type: demo/Profile, codec: json } */
  static final ValueSpec<byte[]> PROFILE =
      ValueSpec.named("profile")
          .withCustomType(
              SimpleType.simpleImmutableTypeFrom(
                  TypeName.typeNameFromString("demo/Profile"), b -> b, b -> b));

  /** job.yaml: visits: { type: io.statefun.types/int } */
  static final ValueSpec<Integer> VISITS = ValueSpec.named("visits").withIntType();

  /** job.yaml: last_seen: { type: io.statefun.types/long, expire_after_write: 30d } */
  static final ValueSpec<Long> LAST_SEEN =
      ValueSpec.named("last_seen").thatExpireAfterWrite(Duration.ofDays(30)).withLongType();

  private static final ObjectMapper JSON = new ObjectMapper();

  private GreeterServer() {}

  static final class Greeter implements StatefulFunction {
    @Override
    public CompletableFuture<Void> apply(Context context, Message message) throws Exception {
      String user = context.self().id();
      JsonNode event = JSON.readTree(message.as(EVENT));
      int before = context.storage().get(VISITS).orElse(0);
      String lastSeen =
          context.storage().get(LAST_SEEN).map(ms -> Instant.ofEpochMilli(ms).toString()).orElse(null);
      JsonNode profile =
          context.storage().get(PROFILE).map(GreeterServer::parse).orElse(null);

      StringBuilder greeting = new StringBuilder("greeter: Hello ");
      if (profile != null) {
        greeting.append(profile.path("name").asText(user));
        if (profile.hasNonNull("city")) {
          greeting.append(" from ").append(profile.path("city").asText());
        }
        greeting.append("!");
      } else {
        greeting.append(user).append(", nice to meet you!");
      }
      greeting.append(" Visit #").append(before + 1).append(" (");
      greeting.append(before == 0 ? "no earlier visits" : before + " earlier");
      if (lastSeen != null) {
        greeting.append(", last seen ").append(lastSeen);
      }
      greeting.append(") [").append(user).append(" ").append(event.path("page").asText("?")).append("]");
      System.out.println(greeting);
      System.out.flush();

      context.storage().set(VISITS, before + 1);
      if (event.hasNonNull("ts")) {
        context.storage().set(LAST_SEEN, event.get("ts").asLong());
      }
      return context.done();
    }
  }

  private static JsonNode parse(byte[] json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      return null;
    }
  }

  /** The listen backlog (see main). */
  static final int LISTEN_BACKLOG = 4096;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8000"));
    String bind = System.getenv().getOrDefault("BIND", "0.0.0.0");

    StatefulFunctions functions = new StatefulFunctions();
    functions.withStatefulFunction(
        StatefulFunctionSpec.builder(GREETER)
            .withValueSpecs(PROFILE, VISITS, LAST_SEEN)
            .withSupplier(Greeter::new));
    RequestReplyHandler handler = functions.requestReplyHandler();

    // statefun's async transport opens many connections per function type and subtask at once; with a
    // small listen backlog the kernel drops SYNs when the accept queue is full and every client waits on
    // TCP back-off (1, 3, 7, 15, 31 s), so greetings stall with nothing logged at WARN. 4096 is Linux's
    // default net.core.somaxconn, the most listen(2) grants (the JDK's default is 50).
    HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), LISTEN_BACKLOG);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext(
        "/",
        exchange -> {
          try (InputStream in = exchange.getRequestBody()) {
            Slice reply = handler.handle(Slices.wrap(in.readAllBytes())).join();
            byte[] body = reply.toByteArray();
            exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          } catch (Throwable t) {
            System.err.println("greeter: request failed: " + t);
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
    System.out.println(
        "greeter: serving demo/greeter on http://"
            + bind
            + ":"
            + server.getAddress().getPort()
            + "/{function.name}");
    System.out.flush();
  }
}
