#include "router/rule_router.h"

#include <cmath>

#include "common/java_string.h"
#include "common/str_cat.h"
#include "common/text_preview.h"
#include "formats/json_fields.h"
#include "router/decimal.h"
#include "router/value_conversion.h"
#include "savepoint/entry_json.h"

namespace sfb {

const char* MergeOpName(MergeOp op) {
  switch (op) {
    case MergeOp::kLast: return "last";
    case MergeOp::kFirst: return "first";
    case MergeOp::kSum: return "sum";
    case MergeOp::kMin: return "min";
    case MergeOp::kMax: return "max";
    case MergeOp::kCount: return "count";
    case MergeOp::kAppend: return "append";
  }
  return "?";
}

std::string CompiledRoute::Describe() const {
  return "route #" + std::to_string(index + 1) + " (" + source + " -> " + function_type + ")";
}

Result<Condition> ParseCondition(const std::string& text) {
  Condition c;
  c.text = text;
  std::string lhs = text, rhs;
  for (const char* op : {"==", "!="}) {
    const auto p = text.find(op);
    if (p == std::string::npos) continue;
    c.op = op[0] == '=' ? Condition::Op::kEquals : Condition::Op::kNotEquals;
    lhs = text.substr(0, p);
    rhs = text.substr(p + 2);
    break;
  }
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  lhs = trim(lhs);
  rhs = trim(rhs);
  SFB_ASSIGN_OR_RETURN(c.lhs, Template::Parse(lhs));
  if (c.lhs.is_constant()) {
    return Status::InvalidSpec("condition '" + text + "' does not refer to any field")
        .WithHint("write a condition such as \"{status} == 'active'\", \"{deleted} != true\" or \"{email}\"");
  }
  if (c.op != Condition::Op::kTruthy) {
    if (rhs.empty()) return Status::InvalidSpec("condition '" + text + "' has nothing to compare with");
    if (rhs == "null") {
      c.literal = std::nullopt;
    } else if (rhs.size() >= 2 && (rhs.front() == '\'' || rhs.front() == '"') && rhs.back() == rhs.front()) {
      c.literal = rhs.substr(1, rhs.size() - 2);
    } else {
      c.literal = rhs;
    }
  }
  return c;
}

bool NamesFieldOrSubField(const Template& t, const std::string& field) {
  for (const auto& f : t.fields()) {
    if (f.compare(0, field.size(), field) == 0 && (f.size() == field.size() || f[field.size()] == '.')) return true;
  }
  return false;
}

namespace {

// A template's value without copying it when the template is one field the record has (nearly every
// id and operand); otherwise Evaluate's value, kept in *holder, or its error.
Result<const Value*> TemplateValue(const Template& t, const Record& record, Value* holder) {
  if (t.is_single_field()) {
    if (const Value* v = record.Find(t.fields()[0])) return v;
  }
  SFB_ASSIGN_OR_RETURN(*holder, t.Evaluate(record));
  return holder;
}

Result<bool> Holds(const Condition& c, const Record& record) {
  Value holder;
  SFB_ASSIGN_OR_RETURN(const Value* value, TemplateValue(c.lhs, record, &holder));
  const Value& v = *value;
  switch (c.op) {
    case Condition::Op::kTruthy: {
      if (v.is_null()) return false;
      const std::string t = v.ToText();
      return !(t.empty() || t == "false" || t == "0");
    }
    case Condition::Op::kEquals:
      return c.literal ? (!v.is_null() && v.ToText() == *c.literal) : v.is_null();
    case Condition::Op::kNotEquals:
      return c.literal ? (v.is_null() || v.ToText() != *c.literal) : !v.is_null();
  }
  return false;
}

nlohmann::ordered_json LeafJson(const Template& t, const Value& v) {
  if (!t.is_single_field()) return v.ToText();
  switch (v.kind()) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kDouble: return v.as_double();
    case Value::Kind::kText: return v.as_string();
    case Value::Kind::kBytes: return Base64Encode(v.as_string());
  }
  return nullptr;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A field's JSON text (checked) into `out` without the whitespace between tokens, digits exactly as
// written: 12345678901234567890.0123456789 stays that number, which no double could hold.
Status AppendEmbeddedJson(const Template& t, const std::string& text, std::string* out) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
    return Status::BadRecord(StrCat("the value of '", t.text(), "' is ", text,
                                    ", which JSON cannot hold (it would be stored as null)"))
        .WithHint("skip such records with where:, or keep such columns as strings in JSON objects: "
                  "in_json_objects: text on the source");
  }
  std::string why;
  if (!IsJsonText(text, &why)) {
    return Status::BadRecord(StrCat("the value of '", t.text(), "' is no JSON to embed (", why, "): '",
                                    PreviewText(text, 60), "'"));
  }
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (IsJsonSpace(c)) {
      continue;
    }
    out->push_back(c);
  }
  return Status::OK();
}

// The JSON of leaf `leaf` of `operand`, whose template gave `v`, into `out`.
Status AppendLeaf(const Operand& operand, size_t leaf, const Value& v, std::string* out) {
  const Template& t = operand.leaf_templates[leaf];
  if (!v.is_null() && v.kind() != Value::Kind::kBytes && !IsValidUtf8(v.ToText())) {
    return Status::BadRecord(StrCat("the value of '", t.text(), "' is not UTF-8 text, so it cannot go into JSON"))
        .WithHint("fix the input's encoding");
  }
  if (v.kind() == Value::Kind::kDouble && !std::isfinite(v.as_double())) {
    // JSON has no NaN or Infinity: nlohmann would write null, and the value would be lost unseen.
    return Status::BadRecord(StrCat("the value of '", t.text(), "' is ", v.ToText(),
                                    ", which JSON cannot hold (it would be stored as null)"))
        .WithHint("skip such records with where:, or convert the value in the source (in a query: "
                  "CASE WHEN ... = 'Infinity' THEN ... END, or ::text to keep it as text)");
  }
  if (v.kind() == Value::Kind::kText && leaf < operand.leaf_embeds_json.size() && operand.leaf_embeds_json[leaf]) {
    return AppendEmbeddedJson(t, v.as_string(), out);
  }
  out->append(LeafJson(t, v).dump());
  return Status::OK();
}

// Writes `shape` as JSON with its string leaves replaced by their templates' values (the same text
// nlohmann's dump() gives for the filled shape, except that embedded JSON leaves keep their digits).
Status AppendShape(const nlohmann::ordered_json& shape, const Operand& operand, size_t* next, const Record& record,
                   std::string* out) {
  if (shape.is_object()) {
    out->push_back('{');
    bool first = true;
    for (auto it = shape.begin(); it != shape.end(); ++it) {
      if (!first) out->push_back(',');
      first = false;
      out->append(nlohmann::ordered_json(it.key()).dump()).push_back(':');
      SFB_RETURN_IF_ERROR(AppendShape(it.value(), operand, next, record, out));
    }
    out->push_back('}');
  } else if (shape.is_array()) {
    out->push_back('[');
    bool first = true;
    for (const auto& item : shape) {
      if (!first) out->push_back(',');
      first = false;
      SFB_RETURN_IF_ERROR(AppendShape(item, operand, next, record, out));
    }
    out->push_back(']');
  } else if (shape.is_string()) {
    const size_t leaf = (*next)++;
    SFB_ASSIGN_OR_RETURN(Value v, operand.leaf_templates[leaf].Evaluate(record));
    return AppendLeaf(operand, leaf, v, out);
  } else {
    out->append(shape.dump());  // numbers, bools, null written literally in the spec
  }
  return Status::OK();
}

}  // namespace

Result<Value> EvaluateOperand(const StateRule& rule, const Record& record) {
  switch (rule.operand.kind) {
    case Operand::Kind::kNone:
      return Value::Null();
    case Operand::Kind::kTemplate: {
      Value holder;
      SFB_ASSIGN_OR_RETURN(const Value* value, TemplateValue(rule.operand.tmpl, record, &holder));
      const Value& v = *value;
      if (v.is_null()) return Value::Null();
      if (rule.codec == Codec::kJson) {
        const std::string text = v.ToText();
        std::string why;
        if (!IsJsonText(text, &why)) {
          return Status::BadRecord("value '" + PreviewText(text, 60) + "' is not JSON (state " + rule.state_name +
                                   " has codec json: " + why + ")")
              .WithHint("give the state an object (set: {state: {field: \"{column}\"}}) or a field holding JSON text");
        }
        return Value::Bytes(text);
      }
      if (rule.codec == Codec::kProtobuf) {
        SFB_ASSIGN_OR_RETURN(std::string bytes, rule.protobuf->FromJson(v.ToText()));
        return Value::Bytes(std::move(bytes));
      }
      if (rule.ExactDecimalSum() && v.kind() == Value::Kind::kText) {
        Decimal exact;
        if (Decimal::Parse(v.as_string(), &exact)) return Value(v);  // summed exactly by RuleFunction
      }
      auto converted = ConvertToStateValue(v, rule.repr, rule.scale);
      if (!converted.ok()) {
        // The field the value came from, after the message (the router's context names the state).
        const Status& e = converted.status();
        Status named(e.code(), StrCat(e.message(), " (from ", rule.operand.tmpl.text(), ")"));
        if (!e.hint().empty()) named.WithHint(e.hint());
        return named;
      }
      StateValue sv = std::move(converted).value();
      if (rule.text && !IsValidUtf8(std::get<std::string>(sv))) {
        return Status::BadRecord(StrCat("the value for state ", rule.state_name, " is not UTF-8 text"))
            .WithHint("fix the input's encoding; to keep raw bytes, give the state a custom type with codec: raw "
                      "(e.g. { type: example/Blob, codec: raw }) or, for an embedded function, type: byte[]");
      }
      // Text and bytes move into the routed value rather than being copied once more.
      if (auto* bytes = std::get_if<std::string>(&sv)) return Value::Bytes(std::move(*bytes));
      return StateValueToValue(sv);
    }
    case Operand::Kind::kObject: {
      if (rule.op == MergeOp::kAppend && rule.operand.shape.is_string()) {
        // One field appended: a NULL one is skipped, as every merge rule skips NULL operands.
        // The template is evaluated once: its value is both the NULL check and the element.
        SFB_ASSIGN_OR_RETURN(Value v, rule.operand.leaf_templates[0].Evaluate(record));
        if (v.is_null()) return Value::Null();
        std::string json;
        SFB_RETURN_IF_ERROR(AppendLeaf(rule.operand, 0, v, &json));
        return Value::Bytes(std::move(json));
      }
      std::string json;
      size_t next = 0;
      SFB_RETURN_IF_ERROR(AppendShape(rule.operand.shape, rule.operand, &next, record, &json));
      if (rule.codec == Codec::kProtobuf) {
        SFB_ASSIGN_OR_RETURN(std::string bytes, rule.protobuf->FromJson(json));
        return Value::Bytes(std::move(bytes));
      }
      return Value::Bytes(json);
    }
  }
  return Status::Internal("unknown operand kind");
}

Status RuleRouter::Route(const Record& record, Downstream& downstream) const {
  // Which `where` conditions to evaluate: all of them, or only those on (or not on) the tombstone field.
  enum class Part { kAll, kTombstoneField, kOtherFields };
  auto where_holds = [&record](const CompiledRoute& route, Part part) -> Result<bool> {
    for (size_t i = 0; i < route.where.size(); ++i) {
      const bool reads = route.where_reads_tombstone_field.size() > i && route.where_reads_tombstone_field[i];
      if ((part == Part::kTombstoneField && !reads) || (part == Part::kOtherFields && reads)) continue;
      auto holds = Holds(route.where[i], record);
      if (!holds.ok()) return Status(holds.status()).WithContext(route.Describe() + " where");
      if (!*holds) return false;
    }
    return true;
  };
  for (const auto& route : routes_) {
    // A tombstone is asked only what it can answer before we know whether it deletes (rules.h).
    bool tombstone = false;
    if (!route->tombstone_field.empty() && !route->delete_when.empty()) {
      const Value* payload = record.Find(route->tombstone_field);
      tombstone = payload && payload->is_null();
    }
    SFB_ASSIGN_OR_RETURN(bool pass, where_holds(*route, tombstone ? Part::kOtherFields : Part::kAll));
    if (!pass) continue;
    bool deletes = !route->delete_when.empty();
    for (const auto& c : route->delete_when) {
      auto holds = Holds(c, record);
      if (!holds.ok()) return Status(holds.status()).WithContext(route->Describe() + " delete_when");
      deletes = deletes && *holds;
    }
    if (tombstone && !deletes) {
      SFB_ASSIGN_OR_RETURN(pass, where_holds(*route, Part::kTombstoneField));
      if (!pass) continue;
    }
    if (tombstone && deletes && route->id_reads_tombstone_field) {
      return Status::BadRecord("a tombstone has no " + route->tombstone_field + ", so the id template '" +
                               route->id.text() + "' cannot say which address it deletes")
          .WithContext(route->Describe())
          .WithHint("address the records by their key (id: \"{key}\", or \"{key.<field>}\" for a json key), or drop "
                    "tombstones before routing: tombstones: skip");
    }
    Value id_holder;
    auto id_value = TemplateValue(route->id, record, &id_holder);
    if (!id_value.ok()) return Status(id_value.status()).WithContext(route->Describe() + " id");
    const Value* id = *id_value;
    if (id->is_null()) {
      return Status::BadRecord("the id template '" + route->id.text() + "' gives NULL")
          .WithContext(route->Describe())
          .WithHint("records without an id cannot be addressed: fix the data, or skip them with where: \"" +
                    route->id.text() + " != null\"");
    }
    // A text id (the common case) is passed as the record holds it, not copied.
    std::string id_rendered;
    if (id->kind() != Value::Kind::kText) id_rendered = id->ToText();
    const std::string& id_text = id->kind() == Value::Kind::kText ? id->as_string() : id_rendered;
    if (id_text.empty()) {
      return Status::BadRecord("the id template '" + route->id.text() + "' gives an empty id")
          .WithContext(route->Describe())
          .WithHint("statefun ids must not be empty: fix the data, or skip such records with where: \"" +
                    route->id.text() + "\"");
    }
    if (deletes) {
      Record deletion(route->deletion_schema, {Value::Int(CompiledRoute::DeletionIndex(route->index))});
      Status s = downstream.Forward(route->function_type, id_text, deletion);
      if (!s.ok()) return s.WithContext(route->Describe() + " id '" + id_text + "'");
      continue;
    }
    // One vector per reader thread, handed to the payload and taken back after Forward: a vector
    // allocated and freed for every routed record cost more than its few values.
    thread_local std::vector<Value> recycled;
    std::vector<Value> values = std::move(recycled);
    values.clear();
    values.reserve(route->rules.size() + 1);
    values.push_back(Value::Int(route->index));
    for (const auto& rule : route->rules) {
      auto v = EvaluateOperand(rule, record);
      if (!v.ok()) {
        return Status(v.status())
            .WithContext(route->Describe() + " state " + rule.state_name)
            .WithHint("fix the value in the input, or skip such records with where:");
      }
      values.push_back(std::move(v).value());
    }
    // The payload borrows the route's schema (the router outlives the run, and the schema registry
    // holds it by this same pointer): an owning copy would touch one reference count shared by every
    // reader thread, twice per record.
    Record payload(std::shared_ptr<const Schema>(std::shared_ptr<const Schema>(), route->payload_schema.get()),
                   std::move(values));
    Status s = downstream.Forward(route->function_type, id_text, payload);
    recycled = std::move(payload.mutable_values());
    if (!s.ok()) return s.WithContext(route->Describe() + " id '" + id_text + "'");
  }
  return Status::OK();
}

}  // namespace sfb
