// StateDescriptor: one function state as Flink stores it, and its serializer snapshot.
//
// A statefun function state lives in the `functions_uid1` operator as a Flink ValueState named
// "<function namespace>.<function name>.<state name>" with a VoidNamespace. What Flink needs to restore it
// is written once per state in the keyed-state file header (StateMetaInfoSnapshot, meta-info version 6):
//
//   utf   state name
//   i32   0                         backend state type KEY_VALUE
//   i32   1                         one option:
//   utf   "KEYED_STATE_TYPE"  utf "VALUE"
//   i32   2                         two serializer snapshots:
//   utf   "VALUE_SERIALIZER"      + top-level snapshot of the value serializer
//   utf   "NAMESPACE_SERIALIZER"  + top-level snapshot of VoidNamespaceSerializer
//
// A top-level snapshot is `i32 2` followed by a versioned snapshot: `utf class name, i32 version, payload`.
// Value serializers we write:
//   remote (any SDK):  RemoteValueSerializerSnapshot v1, payload utf(type namespace) utf(type name);
//                      record = i32 length + the SDK's bytes.
//   embedded Java:     Long/Integer/String/Boolean/Double/byte[] simple snapshots (v3, empty payload);
//                      record = Flink's own LongSerializer/IntSerializer/... format.
//   with TTL:          TtlStateFactory$TtlSerializerSnapshot v3, a composite of [LongSerializer, inner];
//                      record = i64 last-access timestamp (epoch ms) + inner record.
// TTL mode and duration are not stored: only whether the state has TTL (which must match the job).

#ifndef SFB_SAVEPOINT_STATE_DESCRIPTOR_H_
#define SFB_SAVEPOINT_STATE_DESCRIPTOR_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/byte_reader.h"
#include "common/status.h"
#include "savepoint/typed_value.h"

namespace sfb {

enum class StateKind { kRemote, kEmbedded };
// How a remote state's bytes are produced from record fields (and shown by `dump`).
enum class Codec { kBuiltin, kJson, kRaw, kProtobuf };
enum class TtlMode { kNone, kAfterWrite, kAfterInvoke };

const char* CodecName(Codec codec);

struct StateDescriptor {
  std::string function_type;  // "namespace/name"
  std::string state_name;
  StateKind kind = StateKind::kRemote;
  // Remote: the statefun TypeName "namespace/name". Embedded: "java.lang.Long", "java.lang.Integer",
  // "java.lang.String", "java.lang.Boolean", "java.lang.Double" or "byte[]".
  std::string type_name;
  Codec codec = Codec::kBuiltin;
  TtlMode ttl_mode = TtlMode::kNone;
  int64_t ttl_millis = 0;

  // Fills in codec-independent derived facts and checks names; call after setting the fields above.
  static Result<StateDescriptor> Make(std::string function_type, std::string state_name, StateKind kind,
                                      std::string type_name, Codec codec, TtlMode ttl_mode, int64_t ttl_millis);

  std::string FlinkName() const;
  ValueRepr repr() const { return repr_; }
  bool has_ttl() const { return ttl_mode != TtlMode::kNone; }

  // Appends the StateMetaInfoSnapshot described above.
  Status AppendMetaInfo(std::string* out) const;
  // Appends the value record; `value` must hold repr(). `ttl_timestamp` is used only with TTL.
  void AppendValue(std::string* out, const StateValue& value, int64_t ttl_timestamp) const;
  // Parses a value record (the inverse of AppendValue).
  Status DecodeValue(std::string_view bytes, StateValue* value, int64_t* ttl_timestamp) const;

  ValueRepr repr_ = ValueRepr::kBytes;
};

// Parses a StateMetaInfoSnapshot written by us or by Flink. States we cannot decode (LIST/MAP state,
// timers, serializers other than the ones above) are returned with `supported` false and a description,
// so readers can skip their entries; a snapshot whose payload we cannot even skip is a Corruption.
struct ParsedStateMeta {
  std::string flink_name;
  bool supported = false;
  std::string description;  // e.g. "VALUE RemoteValue(io.statefun.types/int) ttl"
  StateDescriptor descriptor;  // valid when supported
};
Status ParseMetaInfo(ByteReader* in, int meta_info_version, ParsedStateMeta* out);

// Reads and checks a top-level serializer snapshot, returning its class name (for the key serializer).
Status ReadTopLevelSnapshotClass(ByteReader* in, std::string* class_name);

// Splits a Flink state name "a.b.fn.state" into function type "a.b/fn" and state "state".
void SplitFlinkStateName(const std::string& flink_name, std::string* function_type, std::string* state);

namespace snapshot_class {
inline constexpr char kString[] = "org.apache.flink.api.common.typeutils.base.StringSerializer$StringSerializerSnapshot";
inline constexpr char kVoidNamespace[] = "org.apache.flink.runtime.state.VoidNamespaceSerializer$VoidNamespaceSerializerSnapshot";
inline constexpr char kLong[] = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
inline constexpr char kInt[] = "org.apache.flink.api.common.typeutils.base.IntSerializer$IntSerializerSnapshot";
inline constexpr char kBoolean[] = "org.apache.flink.api.common.typeutils.base.BooleanSerializer$BooleanSerializerSnapshot";
inline constexpr char kDouble[] = "org.apache.flink.api.common.typeutils.base.DoubleSerializer$DoubleSerializerSnapshot";
inline constexpr char kFloat[] = "org.apache.flink.api.common.typeutils.base.FloatSerializer$FloatSerializerSnapshot";
inline constexpr char kBytes[] = "org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer$BytePrimitiveArraySerializerSnapshot";
inline constexpr char kRemoteValue[] = "org.apache.flink.statefun.flink.core.types.remote.RemoteValueSerializerSnapshot";
inline constexpr char kTtl[] = "org.apache.flink.runtime.state.ttl.TtlStateFactory$TtlSerializerSnapshot";
inline constexpr char kList[] = "org.apache.flink.api.common.typeutils.base.ListSerializerSnapshot";
inline constexpr char kMap[] = "org.apache.flink.api.common.typeutils.base.MapSerializerSnapshot";
// statefun's own states (delayed messages, async operations) and Flink's timers, found in a running
// application's savepoint (a --base): read only to be skipped and carried over verbatim.
inline constexpr char kStatefunMessage[] = "org.apache.flink.statefun.flink.core.message.MessageTypeSerializer$Snapshot";
inline constexpr char kTimer[] = "org.apache.flink.streaming.api.operators.TimerSerializerSnapshot";
}  // namespace snapshot_class

}  // namespace sfb

#endif  // SFB_SAVEPOINT_STATE_DESCRIPTOR_H_
