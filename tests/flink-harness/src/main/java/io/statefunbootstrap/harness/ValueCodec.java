package io.statefunbootstrap.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.apache.flink.statefun.sdk.types.generated.BooleanWrapper;
import org.apache.flink.statefun.sdk.types.generated.DoubleWrapper;
import org.apache.flink.statefun.sdk.types.generated.FloatWrapper;
import org.apache.flink.statefun.sdk.types.generated.IntWrapper;
import org.apache.flink.statefun.sdk.types.generated.LongWrapper;
import org.apache.flink.statefun.sdk.types.generated.StringWrapper;

/** Turns a state value read by Flink into the JSON "value" / "value_base64" of an output line. */
final class ValueCodec {
  private ValueCodec() {}

  static final String BUILTIN_NAMESPACE = "io.statefun.types";

  /** The decoded value and the field it goes into ("value" or "value_base64"). */
  static final class Decoded {
    final String field;
    final JsonNode node;

    Decoded(String field, JsonNode node) {
      this.field = field;
      this.node = node;
    }
  }

  /** Thrown when the bytes do not match what the plan says they are. */
  static final class DecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DecodeException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static Decoded decode(StateSpec spec, String id, Object value) {
    try {
      return spec.kind == StateSpec.Kind.REMOTE
          ? decodeRemote(spec, (byte[]) value)
          : decodeEmbedded(spec, value);
    } catch (RuntimeException | IOException e) {
      throw new DecodeException(
          "cannot decode value of "
              + spec.label()
              + " for id '"
              + id
              + "' as "
              + spec.type
              + (spec.codec == null ? "" : " (codec " + spec.codec + ")")
              + ": "
              + e,
          e);
    }
  }

  private static Decoded decodeRemote(StateSpec spec, byte[] bytes) throws IOException {
    if (BUILTIN_NAMESPACE.equals(spec.typeNamespace)) {
      switch (spec.typeName) {
        case "int":
          return value(IntNode.valueOf(known(IntWrapper.parseFrom(bytes)).getValue()));
        case "long":
          return value(LongNode.valueOf(known(LongWrapper.parseFrom(bytes)).getValue()));
        case "float":
          return value(floatNode(known(FloatWrapper.parseFrom(bytes)).getValue()));
        case "double":
          return value(doubleNode(known(DoubleWrapper.parseFrom(bytes)).getValue()));
        case "bool":
          return value(BooleanNode.valueOf(known(BooleanWrapper.parseFrom(bytes)).getValue()));
        case "string":
          return value(TextNode.valueOf(parseStringWrapper(bytes)));
        default:
          break; // e.g. io.statefun.types/unset: fall through to the codec rules
      }
    }
    String codec = spec.codec == null ? "raw" : spec.codec;
    switch (codec) {
      case "json":
        {
          String text = strictUtf8(bytes);
          if (text == null) {
            throw new IOException("bytes are not valid UTF-8");
          }
          JsonNode n = Json.MAPPER.readTree(text);
          if (n == null || n.isMissingNode()) {
            throw new IOException("empty JSON document");
          }
          return value(n);
        }
      case "protobuf":
        return base64(bytes);
      default:
        {
          String text = strictUtf8(bytes);
          return text != null ? value(TextNode.valueOf(text)) : base64(bytes);
        }
    }
  }

  private static String parseStringWrapper(byte[] bytes) throws InvalidProtocolBufferException {
    StringWrapper w = known(StringWrapper.parseFrom(bytes));
    // proto3 string fields must hold valid UTF-8; protobuf-java 3.7 does not check on parse.
    if (!w.getValueBytes().isValidUtf8()) {
      throw new InvalidProtocolBufferException("StringWrapper.value is not valid UTF-8");
    }
    return w.getValue();
  }

  /**
   * Protobuf parsing silently keeps fields it does not know, including field 1 with the wrong wire
   * type (which then reads as the default value). The SDKs never write such bytes, so treat any
   * unknown field as a decoding error instead of reporting a bogus 0/false/"".
   */
  private static <M extends com.google.protobuf.Message> M known(M m)
      throws InvalidProtocolBufferException {
    if (!m.getUnknownFields().asMap().isEmpty()) {
      throw new InvalidProtocolBufferException(
          m.getDescriptorForType().getName()
              + " has unexpected fields (wrong type or wire type?): "
              + m.getUnknownFields().asMap().keySet());
    }
    return m;
  }

  private static Decoded decodeEmbedded(StateSpec spec, Object v) {
    switch (spec.type) {
      case "java.lang.Long":
        return value(LongNode.valueOf((Long) v));
      case "java.lang.Integer":
        return value(IntNode.valueOf((Integer) v));
      case "java.lang.Double":
        return value(doubleNode((Double) v));
      case "java.lang.String":
        return value(TextNode.valueOf((String) v));
      case "java.lang.Boolean":
        return value(BooleanNode.valueOf((Boolean) v));
      case "byte[]":
        return base64((byte[]) v);
      default:
        throw new IllegalStateException("unsupported embedded type " + spec.type);
    }
  }

  /** A JSON number written with Float.toString's shortest digits; NaN/Infinity as strings. */
  static JsonNode floatNode(float f) {
    if (Float.isNaN(f)) {
      return TextNode.valueOf("NaN");
    }
    if (Float.isInfinite(f)) {
      return TextNode.valueOf(f > 0 ? "Infinity" : "-Infinity");
    }
    return FloatNode.valueOf(f);
  }

  static JsonNode doubleNode(double d) {
    if (Double.isNaN(d)) {
      return TextNode.valueOf("NaN");
    }
    if (Double.isInfinite(d)) {
      return TextNode.valueOf(d > 0 ? "Infinity" : "-Infinity");
    }
    return DoubleNode.valueOf(d);
  }

  /** The bytes as a String if they are well-formed UTF-8, else null. */
  static String strictUtf8(byte[] bytes) {
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

  private static Decoded value(JsonNode n) {
    return new Decoded("value", n);
  }

  private static Decoded base64(byte[] bytes) {
    return new Decoded("value_base64", TextNode.valueOf(Base64.getEncoder().encodeToString(bytes)));
  }
}
