package io.statefunbootstrap.restore;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code produce --brokers B --topic T --file F [--key-field user] [--partitions 2]}: creates the
 * topic when it does not exist, then produces every non-blank line of F as a record (the line as the
 * value, the JSON field as the key, Kafka's default partitioner), as {@code
 * kafka-console-producer.sh --property parse.key=true} does in the docker compose demo. Prints
 * {@code {"produced": N, "end_offsets": {"0": n, ...}}}.
 */
final class KafkaProduce {

  private KafkaProduce() {}

  static int run(Main.Args a) throws Exception {
    String brokers = a.required("--brokers");
    String topic = a.required("--topic");
    Path file = a.path("--file");
    String keyField = a.get("--key-field", "id");
    int partitions = a.integer("--partitions", 2);
    ObjectMapper json = new ObjectMapper();

    Properties admin = new Properties();
    admin.put("bootstrap.servers", brokers);
    try (AdminClient client = AdminClient.create(admin)) {
      try {
        client
            .createTopics(Collections.singleton(new NewTopic(topic, partitions, (short) 1)))
            .all()
            .get(60, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }

    Properties p = new Properties();
    p.put("bootstrap.servers", brokers);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("acks", "all");
    p.put("enable.idempotence", "false");
    Map<Integer, Long> ends = new TreeMap<>();
    int n = 0;
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (String line : lines) {
        if (line.isBlank()) {
          continue;
        }
        String key = json.readTree(line).path(keyField).asText();
        RecordMetadata m = producer.send(new ProducerRecord<>(topic, key, line)).get(60, TimeUnit.SECONDS);
        ends.merge(m.partition(), m.offset() + 1, Math::max);
        n++;
      }
    }
    System.out.println(
        json.writeValueAsString(Map.of("topic", topic, "produced", n, "end_offsets", ends)));
    return 0;
  }
}
