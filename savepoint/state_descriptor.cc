#include "savepoint/state_descriptor.h"

#include <bit>
#include <vector>

#include "common/byte_writer.h"
#include "common/java_string.h"
#include "common/str_cat.h"

namespace sfb {
namespace {

constexpr int32_t kTopLevelSnapshotVersion = 2;   // TypeSerializerSnapshotSerializationProxy.VERSION
constexpr int32_t kSimpleSnapshotVersion = 3;     // SimpleTypeSerializerSnapshot
constexpr int32_t kCompositeSnapshotVersion = 3;  // CompositeTypeSerializerSnapshot
constexpr int32_t kCompositeOuterMagic = 911108;
constexpr int32_t kNestedDelegateMagic = 1333245;
constexpr int32_t kNestedDelegateVersion = 1;
constexpr int32_t kTtlOuterVersion = 2;
constexpr int32_t kRemoteValueSnapshotVersion = 1;
constexpr int32_t kKeyValueStateType = 0;

struct EmbeddedType {
  const char* java_name;
  const char* snapshot_class;
  ValueRepr repr;
};
constexpr EmbeddedType kEmbeddedTypes[] = {
    {"java.lang.Long", snapshot_class::kLong, ValueRepr::kInt64},
    {"java.lang.Integer", snapshot_class::kInt, ValueRepr::kInt32},
    {"java.lang.String", snapshot_class::kString, ValueRepr::kBytes},
    {"java.lang.Boolean", snapshot_class::kBoolean, ValueRepr::kBool},
    {"java.lang.Double", snapshot_class::kDouble, ValueRepr::kDouble},
    {"byte[]", snapshot_class::kBytes, ValueRepr::kBytes},
};

const EmbeddedType* FindEmbeddedByName(std::string_view name) {
  for (const auto& t : kEmbeddedTypes) if (name == t.java_name) return &t;
  return nullptr;
}
const EmbeddedType* FindEmbeddedByClass(std::string_view cls) {
  for (const auto& t : kEmbeddedTypes) if (cls == t.snapshot_class) return &t;
  return nullptr;
}

Status AppendUtf(std::string* out, std::string_view s) { return AppendJavaUtf(out, s); }

Status AppendSimpleSnapshot(std::string* out, const char* cls) {
  SFB_RETURN_IF_ERROR(AppendUtf(out, cls));
  ByteWriter(out).I32(kSimpleSnapshotVersion);
  return Status::OK();
}

// The versioned snapshot of the serializer for the state's values, without TTL.
Status AppendInnerValueSnapshot(std::string* out, const StateDescriptor& d) {
  if (d.kind == StateKind::kEmbedded) return AppendSimpleSnapshot(out, FindEmbeddedByName(d.type_name)->snapshot_class);
  SFB_RETURN_IF_ERROR(AppendUtf(out, snapshot_class::kRemoteValue));
  ByteWriter(out).I32(kRemoteValueSnapshotVersion);
  const auto slash = d.type_name.find('/');
  SFB_RETURN_IF_ERROR(AppendUtf(out, d.type_name.substr(0, slash)));
  return AppendUtf(out, d.type_name.substr(slash + 1));
}

Status AppendValueSnapshot(std::string* out, const StateDescriptor& d) {
  if (!d.has_ttl()) return AppendInnerValueSnapshot(out, d);
  SFB_RETURN_IF_ERROR(AppendUtf(out, snapshot_class::kTtl));
  ByteWriter w(out);
  w.I32(kCompositeSnapshotVersion);
  w.I32(kCompositeOuterMagic);
  w.I32(kTtlOuterVersion);  // the outer snapshot has no payload of its own
  w.I32(kNestedDelegateMagic);
  w.I32(kNestedDelegateVersion);
  w.I32(2);  // [timestamp serializer, value serializer]
  SFB_RETURN_IF_ERROR(AppendSimpleSnapshot(out, snapshot_class::kLong));
  return AppendInnerValueSnapshot(out, d);
}

// A parsed serializer snapshot tree, for the shapes we know.
struct SnapshotNode {
  std::string cls;
  int32_t version = 0;
  std::vector<std::string> payload;  // RemoteValue: {namespace, name}
  std::vector<SnapshotNode> nested;  // composites
};

bool IsKnownSimple(std::string_view cls) {
  static const char* const kOthers[] = {
      snapshot_class::kString, snapshot_class::kVoidNamespace, snapshot_class::kFloat,
      "org.apache.flink.api.common.typeutils.base.ShortSerializer$ShortSerializerSnapshot",
      "org.apache.flink.api.common.typeutils.base.ByteSerializer$ByteSerializerSnapshot",
      "org.apache.flink.api.common.typeutils.base.CharSerializer$CharSerializerSnapshot",
      "org.apache.flink.api.common.typeutils.base.BigIntSerializer$BigIntSerializerSnapshot",
      "org.apache.flink.api.common.typeutils.base.BigDecSerializer$BigDecSerializerSnapshot",
      "org.apache.flink.api.common.typeutils.base.array.StringArraySerializer$StringArraySerializerSnapshot",
  };
  if (FindEmbeddedByClass(cls)) return true;
  for (const char* c : kOthers) if (cls == c) return true;
  return false;
}

// statefun's protobuf-typed internal state (a remote function's pending request batch).
constexpr char kStatefunProtobufSnapshot[] =
    "org.apache.flink.statefun.flink.common.protobuf.ProtobufTypeSerializerSnapshot";

Status ReadVersionedSnapshot(ByteReader* in, int depth, SnapshotNode* node) {
  if (depth > 8) return Status::Corruption("serializer snapshots nested too deeply");
  SFB_RETURN_IF_ERROR(in->Utf("serializer snapshot class", &node->cls));
  SFB_RETURN_IF_ERROR(in->I32("serializer snapshot version", &node->version));
  if (IsKnownSimple(node->cls)) return Status::OK();  // empty payload
  if (node->cls == snapshot_class::kRemoteValue) {
    node->payload.resize(2);
    SFB_RETURN_IF_ERROR(in->Utf("remote value type namespace", &node->payload[0]));
    return in->Utf("remote value type name", &node->payload[1]);
  }
  if (node->cls == snapshot_class::kStatefunMessage) {
    // v2 payload: utf message factory type, bool has-custom-payload-serializer, [utf its class name]
    if (node->version != 2) {
      return Status::Corruption(StrCat("statefun message serializer snapshot version ", std::to_string(node->version),
                                       " is not supported (statefun 3.3 writes 2)"));
    }
    node->payload.resize(1);
    SFB_RETURN_IF_ERROR(in->Utf("statefun message factory type", &node->payload[0]));
    bool has_custom;
    SFB_RETURN_IF_ERROR(in->Bool("statefun custom payload serializer flag", &has_custom));
    if (has_custom) {
      node->payload.emplace_back();
      SFB_RETURN_IF_ERROR(in->Utf("statefun custom payload serializer class", &node->payload[1]));
    }
    return Status::OK();
  }
  if (node->cls == kStatefunProtobufSnapshot) {
    // v1 payload: i32 length + a serialized protobuf descriptor set (remote functions' pending batches)
    if (node->version != 1) {
      return Status::Corruption(StrCat("statefun protobuf serializer snapshot version ",
                                       std::to_string(node->version), " is not supported (statefun 3.3 writes 1)"));
    }
    std::string_view descriptor;
    return in->LengthPrefixed("statefun protobuf type descriptor", &descriptor);
  }
  if (node->cls == snapshot_class::kTtl || node->cls == snapshot_class::kList || node->cls == snapshot_class::kMap ||
      node->cls == snapshot_class::kTimer) {
    int32_t magic, outer_version, nested_magic, nested_version, n;
    SFB_RETURN_IF_ERROR(in->I32("composite snapshot magic", &magic));
    if (magic != kCompositeOuterMagic) return Status::Corruption("composite serializer snapshot magic mismatch in " + node->cls);
    SFB_RETURN_IF_ERROR(in->I32("composite outer version", &outer_version));
    SFB_RETURN_IF_ERROR(in->I32("nested snapshot magic", &nested_magic));
    if (nested_magic != kNestedDelegateMagic) return Status::Corruption("nested serializer snapshot magic mismatch in " + node->cls);
    SFB_RETURN_IF_ERROR(in->I32("nested snapshot version", &nested_version));
    SFB_RETURN_IF_ERROR(in->I32("nested snapshot count", &n));
    if (nested_version != kNestedDelegateVersion || n < 0 || n > 16) {
      return Status::Corruption("unexpected nested snapshot header in " + node->cls);
    }
    node->nested.resize(static_cast<size_t>(n));
    for (auto& child : node->nested) SFB_RETURN_IF_ERROR(ReadVersionedSnapshot(in, depth + 1, &child));
    return Status::OK();
  }
  return Status::Corruption("serializer snapshot class " + node->cls + " is not one statefun-bootstrap can read")
      .WithHint("this savepoint holds state types other than statefun function values and basic embedded types");
}

Status ReadTopLevelSnapshot(ByteReader* in, SnapshotNode* node) {
  int32_t proxy_version;
  SFB_RETURN_IF_ERROR(in->I32("serializer snapshot proxy version", &proxy_version));
  if (proxy_version != kTopLevelSnapshotVersion) {
    return Status::Corruption("serializer snapshot proxy version " + std::to_string(proxy_version) +
                              " is not supported (expected 2, Flink 1.7+)");
  }
  return ReadVersionedSnapshot(in, 0, node);
}

std::string Describe(const SnapshotNode& n) {
  std::string shortname = n.cls.substr(n.cls.find_last_of('.') + 1);
  if (n.cls == snapshot_class::kRemoteValue && n.payload.size() == 2) {
    return "RemoteValue(" + n.payload[0] + "/" + n.payload[1] + ")";
  }
  if (const auto* e = FindEmbeddedByClass(n.cls)) return e->java_name;
  if (!n.nested.empty()) {
    std::string s = shortname + "<";
    for (size_t i = 0; i < n.nested.size(); ++i) s += (i ? ", " : "") + Describe(n.nested[i]);
    return s + ">";
  }
  return shortname;
}

}  // namespace

const char* CodecName(Codec codec) {
  switch (codec) {
    case Codec::kBuiltin: return "builtin";
    case Codec::kJson: return "json";
    case Codec::kRaw: return "raw";
    case Codec::kProtobuf: return "protobuf";
  }
  return "?";
}

Result<StateDescriptor> StateDescriptor::Make(std::string function_type, std::string state_name, StateKind kind,
                                              std::string type_name, Codec codec, TtlMode ttl_mode,
                                              int64_t ttl_millis) {
  StateDescriptor d;
  d.function_type = std::move(function_type);
  d.state_name = std::move(state_name);
  d.kind = kind;
  d.type_name = std::move(type_name);
  d.codec = codec;
  d.ttl_mode = ttl_mode;
  d.ttl_millis = ttl_millis;
  const auto slash = d.function_type.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == d.function_type.size() ||
      d.function_type.find('/', slash + 1) != std::string::npos) {
    return Status::InvalidSpec("function type '" + d.function_type + "' is not of the form namespace/name")
        .WithHint("write the function type as in the application's module.yaml, e.g. example/greeter");
  }
  if (d.state_name.empty() || d.state_name.find_first_of("./ ") != std::string::npos) {
    return Status::InvalidSpec("state name '" + d.state_name + "' of " + d.function_type + " is not valid")
        .WithHint("state names are the SDK's ValueSpec names: letters, digits and '_' (no dots, slashes or spaces)");
  }
  if (kind == StateKind::kEmbedded) {
    const EmbeddedType* t = FindEmbeddedByName(d.type_name);
    if (!t) {
      return Status::InvalidSpec("unknown embedded type '" + d.type_name + "' for state " + d.FlinkName())
          .WithHint("embedded function states take java.lang.Long, java.lang.Integer, java.lang.String, "
                    "java.lang.Boolean, java.lang.Double or byte[]");
    }
    d.repr_ = t->repr;
    return d;
  }
  const auto ts = d.type_name.find('/');
  if (ts == std::string::npos || ts == 0 || ts + 1 == d.type_name.size() ||
      d.type_name.find('/', ts + 1) != std::string::npos) {
    return Status::InvalidSpec("type '" + d.type_name + "' of state " + d.FlinkName() + " is not a typename")
        .WithHint("write a typename namespace/name, e.g. io.statefun.types/int or example/Profile; "
                  "embedded Java states use kind: embedded with a type such as java.lang.Long");
  }
  ValueRepr builtin;
  if (IsStatefunBuiltinType(d.type_name, &builtin)) {
    if (codec != Codec::kBuiltin) {
      return Status::InvalidSpec("state " + d.FlinkName() + " has built-in type " + d.type_name + " and codec " +
                                 CodecName(codec))
          .WithHint("remove the codec: built-in io.statefun.types are encoded as the SDKs do");
    }
    d.repr_ = builtin;
  } else if (d.type_name.rfind(std::string(kStatefunTypesNamespace) + "/", 0) == 0) {
    return Status::InvalidSpec("unknown typename '" + d.type_name + "' for state " + d.FlinkName())
        .WithHint("io.statefun.types has int, long, float, double, bool and string; for your own type use "
                  "your own namespace (e.g. example/Profile) with codec json, raw or protobuf");
  } else {
    if (codec == Codec::kBuiltin) {
      return Status::InvalidSpec("state " + d.FlinkName() + " has custom type " + d.type_name + " but no codec")
          .WithHint("add codec: json, raw or protobuf");
    }
    d.repr_ = ValueRepr::kBytes;
  }
  return d;
}

std::string StateDescriptor::FlinkName() const {
  std::string name = function_type;
  const auto slash = name.find('/');
  if (slash != std::string::npos) name[slash] = '.';
  return name + "." + state_name;
}

Status StateDescriptor::AppendMetaInfo(std::string* out) const {
  ByteWriter w(out);
  SFB_RETURN_IF_ERROR(AppendUtf(out, FlinkName()));
  w.I32(kKeyValueStateType);
  w.I32(1);
  SFB_RETURN_IF_ERROR(AppendUtf(out, "KEYED_STATE_TYPE"));
  SFB_RETURN_IF_ERROR(AppendUtf(out, "VALUE"));
  w.I32(2);
  // Flink writes VALUE_SERIALIZER first (HashMap order); the reader accepts either order.
  SFB_RETURN_IF_ERROR(AppendUtf(out, "VALUE_SERIALIZER"));
  w.I32(kTopLevelSnapshotVersion);
  SFB_RETURN_IF_ERROR(AppendValueSnapshot(out, *this));
  SFB_RETURN_IF_ERROR(AppendUtf(out, "NAMESPACE_SERIALIZER"));
  w.I32(kTopLevelSnapshotVersion);
  return AppendSimpleSnapshot(out, snapshot_class::kVoidNamespace);
}

void StateDescriptor::AppendValue(std::string* out, const StateValue& value, int64_t ttl_timestamp) const {
  ByteWriter w(out);
  if (has_ttl()) w.I64(ttl_timestamp);
  if (kind == StateKind::kRemote) {
    if (codec == Codec::kBuiltin) {
      w.LengthPrefixed(EncodeStatefunBuiltin(value));
    } else {
      w.LengthPrefixed(std::get<std::string>(value));
    }
    return;
  }
  // Dispatched on the value's alternative, which for embedded types is one per type name (Long: int64,
  // Integer: int32, Boolean: bool, Double: double, String and byte[]: text): comparing the type name
  // for every value cost about 2 % of a users job's instructions.
  switch (ReprOf(value)) {
    case ValueRepr::kInt64: w.I64(std::get<int64_t>(value)); break;
    case ValueRepr::kInt32: w.I32(std::get<int32_t>(value)); break;
    case ValueRepr::kBool: w.Bool(std::get<bool>(value)); break;
    case ValueRepr::kDouble: w.U64(std::bit_cast<uint64_t>(std::get<double>(value))); break;
    default:
      if (type_name == "java.lang.String") {
        std::u16string scratch;
        AppendStringValueUtf8(out, std::get<std::string>(value), &scratch);  // validated when the value was set
      } else {  // byte[]
        w.LengthPrefixed(std::get<std::string>(value));
      }
  }
}

Status StateDescriptor::DecodeValue(std::string_view bytes, StateValue* value, int64_t* ttl_timestamp) const {
  ByteReader in(bytes);
  *ttl_timestamp = 0;
  if (has_ttl()) SFB_RETURN_IF_ERROR(in.I64("TTL timestamp", ttl_timestamp));
  if (kind == StateKind::kRemote) {
    std::string_view payload;
    SFB_RETURN_IF_ERROR(in.LengthPrefixed("remote value", &payload));
    if (codec == Codec::kBuiltin) {
      SFB_RETURN_IF_ERROR(DecodeStatefunBuiltin(repr_, payload, value));
    } else {
      *value = std::string(payload);
    }
  } else if (type_name == "java.lang.Long") {
    int64_t v;
    SFB_RETURN_IF_ERROR(in.I64("Long value", &v));
    *value = v;
  } else if (type_name == "java.lang.Integer") {
    int32_t v;
    SFB_RETURN_IF_ERROR(in.I32("Integer value", &v));
    *value = v;
  } else if (type_name == "java.lang.Boolean") {
    bool v;
    SFB_RETURN_IF_ERROR(in.Bool("Boolean value", &v));
    *value = v;
  } else if (type_name == "java.lang.Double") {
    int64_t v;
    SFB_RETURN_IF_ERROR(in.I64("Double value", &v));
    *value = std::bit_cast<double>(v);
  } else if (type_name == "java.lang.String") {
    std::u16string u16;
    SFB_RETURN_IF_ERROR(ReadStringValue(&in, &u16));
    *value = Utf16ToUtf8(u16);
  } else {
    std::string_view b;
    SFB_RETURN_IF_ERROR(in.LengthPrefixed("byte[] value", &b));
    *value = std::string(b);
  }
  if (!in.at_end()) {
    return Status::Corruption(std::to_string(in.remaining()) + " unexpected trailing bytes in a value of " +
                              FlinkName());
  }
  return Status::OK();
}

Status ReadTopLevelSnapshotClass(ByteReader* in, std::string* class_name) {
  SnapshotNode node;
  SFB_RETURN_IF_ERROR(ReadTopLevelSnapshot(in, &node));
  *class_name = node.cls;
  return Status::OK();
}

void SplitFlinkStateName(const std::string& flink_name, std::string* function_type, std::string* state) {
  const auto last = flink_name.rfind('.');
  const auto prev = last == std::string::npos || last == 0 ? std::string::npos : flink_name.rfind('.', last - 1);
  if (last == std::string::npos || prev == std::string::npos) {
    *function_type = "";
    *state = flink_name;
    return;
  }
  *function_type = flink_name.substr(0, prev) + "/" + flink_name.substr(prev + 1, last - prev - 1);
  *state = flink_name.substr(last + 1);
}

Status ParseMetaInfo(ByteReader* in, int meta_info_version, ParsedStateMeta* out) {
  if (meta_info_version < 6) {
    return Status::Corruption("state meta info version " + std::to_string(meta_info_version) +
                              " (Flink before 1.13) is not supported");
  }
  int32_t state_type, n_options, n_serializers;
  SFB_RETURN_IF_ERROR(in->Utf("state name", &out->flink_name));
  SFB_RETURN_IF_ERROR(in->I32("backend state type", &state_type));
  SFB_RETURN_IF_ERROR(in->I32("option count", &n_options));
  if (n_options < 0 || n_options > 64) return Status::Corruption("implausible option count " + std::to_string(n_options));
  std::string keyed_state_type;
  for (int i = 0; i < n_options; ++i) {
    std::string k, v;
    SFB_RETURN_IF_ERROR(in->Utf("option key", &k));
    SFB_RETURN_IF_ERROR(in->Utf("option value", &v));
    if (k == "KEYED_STATE_TYPE") keyed_state_type = v;
  }
  SFB_RETURN_IF_ERROR(in->I32("serializer count", &n_serializers));
  if (n_serializers < 0 || n_serializers > 16) {
    return Status::Corruption("implausible serializer count " + std::to_string(n_serializers));
  }
  SnapshotNode value, ns;
  bool have_value = false, have_ns = false;
  std::string other;
  for (int i = 0; i < n_serializers; ++i) {
    std::string key;
    SFB_RETURN_IF_ERROR(in->Utf("serializer key", &key));
    SnapshotNode node;
    SFB_RETURN_IF_ERROR(ReadTopLevelSnapshot(in, &node).WithContext("state " + out->flink_name + " " + key));
    if (key == "VALUE_SERIALIZER") value = std::move(node), have_value = true;
    else if (key == "NAMESPACE_SERIALIZER") ns = std::move(node), have_ns = true;
    else other += " " + key + "=" + Describe(node);
  }
  static const char* const kStateTypes[] = {"KEY_VALUE", "OPERATOR", "BROADCAST", "PRIORITY_QUEUE"};
  const std::string type_name = state_type >= 0 && state_type < 4 ? kStateTypes[state_type] : "UNKNOWN";
  out->description = type_name + (keyed_state_type.empty() ? "" : " " + keyed_state_type) +
                     (have_value ? " " + Describe(value) : "") +
                     (have_ns && ns.cls != snapshot_class::kVoidNamespace ? " namespace " + Describe(ns) : "") + other;
  out->supported = false;
  if (state_type != kKeyValueStateType || keyed_state_type != "VALUE" || !have_value || !have_ns ||
      ns.cls != snapshot_class::kVoidNamespace) {
    return Status::OK();
  }
  const bool ttl = value.cls == snapshot_class::kTtl;
  if (ttl && (value.nested.size() != 2 || value.nested[0].cls != snapshot_class::kLong)) return Status::OK();
  const SnapshotNode& inner = ttl ? value.nested[1] : value;
  std::string function_type, state;
  SplitFlinkStateName(out->flink_name, &function_type, &state);
  StateKind kind;
  std::string tname;
  Codec codec = Codec::kBuiltin;
  if (inner.cls == snapshot_class::kRemoteValue) {
    kind = StateKind::kRemote;
    tname = inner.payload[0] + "/" + inner.payload[1];
    ValueRepr r;
    if (!IsStatefunBuiltinType(tname, &r)) codec = Codec::kRaw;  // the bytes' meaning is not in the savepoint
  } else if (const auto* e = FindEmbeddedByClass(inner.cls); e && inner.cls != snapshot_class::kFloat) {
    kind = StateKind::kEmbedded;
    tname = e->java_name;
  } else {
    return Status::OK();
  }
  // Names that do not parse as function/state are still readable; keep them verbatim.
  auto d = StateDescriptor::Make(function_type.empty() ? "unknown/unknown" : function_type, state, kind, tname, codec,
                                 ttl ? TtlMode::kAfterWrite : TtlMode::kNone, 0);
  if (!d.ok()) return Status::OK();
  out->descriptor = std::move(d).value();
  out->supported = true;
  return Status::OK();
}

}  // namespace sfb
