package io.statefunbootstrap.harness;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/** Shared Jackson setup. */
final class Json {
  private Json() {}

  /**
   * Parses JSON values without losing number text: decimals become exact BigDecimals (so "1.50"
   * is written back as 1.50), big integers BigIntegers; trailing garbage is an error.
   */
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private static final JsonFactory FACTORY = MAPPER.getFactory();

  /**
   * One output line: {"function":..,"id":..,"state":..,"<valueField>":<value>}, compact, keys in
   * that order, non-ASCII characters written as UTF-8 (not escaped).
   */
  static String line(String function, String id, String state, String valueField, JsonNode value) {
    StringWriter sw = new StringWriter(64);
    try (JsonGenerator g = FACTORY.createGenerator(sw)) {
      g.writeStartObject();
      g.writeStringField("function", function);
      g.writeStringField("id", id);
      g.writeStringField("state", state);
      g.writeFieldName(valueField);
      MAPPER.writeTree(g, value);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }
}
