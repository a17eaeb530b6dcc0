package io.statefunbootstrap.harness;

import java.io.Serializable;
import java.util.Objects;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.time.Time;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.statefun.flink.core.types.remote.RemoteValueTypeInfo;
import org.apache.flink.statefun.sdk.TypeName;

/**
 * One state listed in a plan, and the Flink {@link ValueStateDescriptor} StateFun 3.3 would register
 * for it.
 */
final class StateSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  enum Kind {
    REMOTE,
    EMBEDDED
  }

  enum TtlMode {
    NONE,
    AFTER_WRITE,
    AFTER_INVOKE
  }

  final String function;
  final String state;
  final String flinkName;
  final Kind kind;
  final String type;
  /** null, "json", "raw", "protobuf" or something else (treated like raw). */
  final String codec;

  final TtlMode ttlMode;
  final long ttlMillis;

  /** For remote states: the StateFun TypeName (namespace, name). */
  final String typeNamespace;

  final String typeName;

  StateSpec(
      String function,
      String state,
      String flinkName,
      Kind kind,
      String type,
      String codec,
      TtlMode ttlMode,
      long ttlMillis) {
    this.function = Objects.requireNonNull(function);
    this.state = Objects.requireNonNull(state);
    this.flinkName = Objects.requireNonNull(flinkName);
    this.kind = Objects.requireNonNull(kind);
    this.type = Objects.requireNonNull(type);
    this.codec = codec;
    this.ttlMode = ttlMode;
    this.ttlMillis = ttlMillis;
    if (kind == Kind.REMOTE) {
      // Same parse rule the StateFun 3.3 runtime applies to a remote ValueSpec's type
      // (TypeName.parseFrom: split at '/', exactly two parts).
      TypeName tn = TypeName.parseFrom(type);
      this.typeNamespace = tn.namespace();
      this.typeName = tn.name();
    } else {
      this.typeNamespace = null;
      this.typeName = null;
      embeddedTypeInfo(type); // validates
    }
    if (ttlMode != TtlMode.NONE && ttlMillis <= 0) {
      throw new IllegalArgumentException(
          "state " + function + "/" + state + ": ttl.millis must be > 0, got " + ttlMillis);
    }
  }

  String label() {
    return function + " " + state + " (" + flinkName + ")";
  }

  static TypeInformation<?> embeddedTypeInfo(String type) {
    switch (type) {
      case "java.lang.Long":
        return Types.LONG;
      case "java.lang.Integer":
        return Types.INT;
      case "java.lang.String":
        return Types.STRING;
      case "java.lang.Boolean":
        return Types.BOOLEAN;
      case "java.lang.Double":
        return Types.DOUBLE;
      case "byte[]":
        return PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO;
      default:
        throw new IllegalArgumentException(
            "unsupported embedded type '"
                + type
                + "' (supported: java.lang.Long, java.lang.Integer, java.lang.String,"
                + " java.lang.Boolean, java.lang.Double, byte[])");
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  ValueStateDescriptor<Object> descriptor() {
    TypeInformation<?> ti;
    if (kind == Kind.REMOTE) {
      ti = new RemoteValueTypeInfo(new TypeName(typeNamespace, typeName));
    } else {
      ti = embeddedTypeInfo(type);
    }
    ValueStateDescriptor<Object> d = new ValueStateDescriptor(flinkName, ti);
    if (ttlMode != TtlMode.NONE) {
      // Mirrors statefun-flink-core's expiration handling: processing-time TTL, never return
      // expired values; AFTER_WRITE -> OnCreateAndWrite, AFTER_READ_OR_WRITE -> OnReadAndWrite.
      StateTtlConfig.Builder b = StateTtlConfig.newBuilder(Time.milliseconds(ttlMillis));
      b.setTtlTimeCharacteristic(StateTtlConfig.TtlTimeCharacteristic.ProcessingTime);
      b.setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired);
      b.setUpdateType(
          ttlMode == TtlMode.AFTER_WRITE
              ? StateTtlConfig.UpdateType.OnCreateAndWrite
              : StateTtlConfig.UpdateType.OnReadAndWrite);
      d.enableTimeToLive(b.build());
    }
    return d;
  }
}
