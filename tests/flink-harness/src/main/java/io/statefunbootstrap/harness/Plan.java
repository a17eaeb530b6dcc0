package io.statefunbootstrap.harness;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The PLAN_JSON of a read case: which states to register, and how to decode them. */
final class Plan implements Serializable {
  private static final long serialVersionUID = 1L;

  final int maxParallelism;
  final List<StateSpec> states;
  /** Non-fatal remarks found while loading (printed to stderr by the caller). */
  final List<String> warnings;

  private Plan(int maxParallelism, List<StateSpec> states, List<String> warnings) {
    this.maxParallelism = maxParallelism;
    this.states = states;
    this.warnings = warnings;
  }

  static Plan load(String path) throws IOException {
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(new File(path));
    } catch (IOException e) {
      throw new IOException("cannot read plan " + path + ": " + e.getMessage(), e);
    }
    try {
      return parse(root);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid plan " + path + ": " + e.getMessage(), e);
    }
  }

  static Plan parse(JsonNode root) {
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("top level must be a JSON object");
    }
    JsonNode mp = root.get("max_parallelism");
    int maxP = -1;
    if (mp != null && !mp.isNull()) {
      if (!mp.canConvertToInt() || !mp.isIntegralNumber() || mp.intValue() <= 0) {
        throw new IllegalArgumentException("max_parallelism must be a positive integer");
      }
      maxP = mp.intValue();
    }
    JsonNode arr = root.get("states");
    if (arr == null || !arr.isArray()) {
      throw new IllegalArgumentException("\"states\" must be an array");
    }
    List<StateSpec> states = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Set<String> flinkNames = new HashSet<>();
    int i = 0;
    for (JsonNode s : arr) {
      String where = "states[" + i++ + "]";
      if (!s.isObject()) {
        throw new IllegalArgumentException(where + " must be an object");
      }
      String function = text(s, "function", where, true);
      String state = text(s, "state", where, true);
      String kindText = text(s, "kind", where, true);
      String type = text(s, "type", where, true);
      String codec = text(s, "codec", where, false);
      String expectedFlinkName = flinkStateName(function, state, where);
      String flinkName = text(s, "flink_name", where, false);
      if (flinkName == null) {
        flinkName = expectedFlinkName;
      } else if (!flinkName.equals(expectedFlinkName)) {
        warnings.add(
            where
                + ": flink_name '"
                + flinkName
                + "' differs from the name StateFun derives ('"
                + expectedFlinkName
                + "'); using the plan's flink_name");
      }
      if (!flinkNames.add(flinkName)) {
        throw new IllegalArgumentException(where + ": duplicate flink_name '" + flinkName + "'");
      }
      StateSpec.Kind kind;
      switch (kindText) {
        case "remote":
          kind = StateSpec.Kind.REMOTE;
          break;
        case "embedded":
          kind = StateSpec.Kind.EMBEDDED;
          break;
        default:
          throw new IllegalArgumentException(
              where + ": kind must be \"remote\" or \"embedded\", got '" + kindText + "'");
      }
      if (codec != null
          && !codec.equals("json")
          && !codec.equals("raw")
          && !codec.equals("protobuf")) {
        warnings.add(where + ": unknown codec '" + codec + "', decoding it like \"raw\"");
      }
      StateSpec.TtlMode ttlMode = StateSpec.TtlMode.NONE;
      long ttlMillis = 0;
      JsonNode ttl = s.get("ttl");
      if (ttl != null && !ttl.isNull()) {
        if (!ttl.isObject()) {
          throw new IllegalArgumentException(where + ": ttl must be null or an object");
        }
        String mode = text(ttl, "mode", where + ".ttl", true);
        switch (mode) {
          case "none":
            ttlMode = StateSpec.TtlMode.NONE;
            break;
          case "after_write":
            ttlMode = StateSpec.TtlMode.AFTER_WRITE;
            break;
          case "after_invoke":
          case "after_read_or_write":
          case "after_call":
            ttlMode = StateSpec.TtlMode.AFTER_INVOKE;
            break;
          default:
            throw new IllegalArgumentException(
                where + ".ttl: mode must be after_write or after_invoke, got '" + mode + "'");
        }
        JsonNode millis = ttl.get("millis");
        if (ttlMode != StateSpec.TtlMode.NONE) {
          if (millis == null || !millis.isIntegralNumber() || !millis.canConvertToLong()) {
            throw new IllegalArgumentException(where + ".ttl: millis must be an integer");
          }
          ttlMillis = millis.longValue();
        }
      }
      try {
        states.add(new StateSpec(function, state, flinkName, kind, type, codec, ttlMode, ttlMillis));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    if (states.isEmpty()) {
      warnings.add("plan lists no states; the output will be empty");
    }
    return new Plan(maxP, states, warnings);
  }

  /** "<fn-namespace>.<fn-name>.<state>", the name StateFun gives the Flink state. */
  static String flinkStateName(String function, String state, String where) {
    // Function types follow the same "namespace/name" rule as TypeName.parseFrom.
    String[] parts = function.split("/");
    if (parts.length != 2) {
      throw new IllegalArgumentException(
          where + ": function '" + function + "' is not of the form <namespace>/<name>");
    }
    return parts[0] + "." + parts[1] + "." + state;
  }

  private static String text(JsonNode o, String field, String where, boolean required) {
    JsonNode v = o.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(where + ": missing \"" + field + "\"");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw new IllegalArgumentException(where + ": \"" + field + "\" must be a string");
    }
    return v.textValue();
  }
}
