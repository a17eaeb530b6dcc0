// The compiled form of a job spec's routes: what RuleRouter evaluates on reader threads and what
// RuleFunction applies per address.
//
// Semantics of `set` and `merge` (documented for users in README.md, "Combining set and merge"):
//   - Every routed record carries one operand per rule, already converted to the state's type (an int
//     or long with a scale: times 10^scale), except the operands of an exact decimal sum into a double
//     (StateRule::ExactDecimalSum), which stay decimal text until RuleFunction adds them.
//   - An address's records are applied in the defined order (sources in spec order, then position).
//   - set: s = operand (the last record wins).
//   - merge op on its own: count -> s + 1; sum(f)/min(f)/max(f) -> combine s with field f;
//     last(f) -> s = f; first(f) -> s = f only while s is unset.
//   - set AND merge of the same state in one route: the set expression is the operand and the merge
//     names the combination (sum, min, max, first, last), e.g. set total "{amount}" + merge total: sum.
//   - A NULL operand leaves the state as it is (count still counts the record).
//   - Rules of different routes on the same state simply apply in record order, so a base value from
//     one source (set) can be followed by increments from another (merge count).
//   - delete_when: a record for which the route's delete_when condition holds (after `where`)
//     deletes every state the route sets or merges at its address instead: the states are unset, as
//     if never written, until a later record sets them again. A Kafka tombstone ("{value} == null",
//     the default for kafka sources) is the typical case; "last" still means last in record order.
//   - Tombstones (documented for users in connectors/kafka/README.md, "Tombstones and ordering"): a
//     source may have records that carry no payload, only a key (SourceDefinition::tombstone_field():
//     a Kafka record whose `value` is NULL has no `value.<f>` fields either). When a route's
//     delete_when holds for such a tombstone, the route deletes the address its id gives, and
//       * `where` conditions that name the tombstone field or its sub-fields are not evaluated: a
//         tombstone has nothing to evaluate them on, and a changelog filtered on its values must
//         still delete (an address the filter kept out has nothing to delete, so nothing changes);
//       * the other `where` conditions (on the key, headers, topic...) are evaluated as for any record;
//       * no set or merge operand is evaluated.
//     So for a tombstone the order is: where without the tombstone field, delete_when, and only when
//     it does not delete, the rest of where. An id that names the tombstone field cannot address a
//     tombstone: such a tombstone is a bad record saying so (and the job builder warns of the route).
//     A tombstone for which delete_when does not hold (delete_when: [], tombstones: keep) is an
//     ordinary record.

#ifndef SFB_ROUTER_RULES_H_
#define SFB_ROUTER_RULES_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/record.h"
#include "router/protobuf_codec.h"
#include "router/template.h"
#include "savepoint/state_descriptor.h"

namespace sfb {

// kAppend: the state (codec json) holds a JSON array of the operands, in the records' order; an operand that
// is one field is that field's JSON value (text a string, numbers numbers), NULL operands are skipped.
enum class MergeOp { kLast, kFirst, kSum, kMin, kMax, kCount, kAppend };
const char* MergeOpName(MergeOp op);

// How one operand is computed from a record.
struct Operand {
  enum class Kind { kNone, kTemplate, kObject };
  Kind kind = Kind::kNone;
  Template tmpl;             // kTemplate
  nlohmann::ordered_json shape;  // kObject: YAML mapping/sequence whose string leaves are templates
  std::vector<Template> leaf_templates;  // parsed string leaves of `shape`, in traversal order
  // By leaf: the leaf is one field whose text is JSON (Source::json_text_fields), embedded as that JSON.
  // Empty: no leaf is. Set once the source is prepared.
  std::vector<bool> leaf_embeds_json;
};

struct StateRule {
  size_t slot = 0;            // state index within the function
  std::string state_name;
  ValueRepr repr = ValueRepr::kBytes;
  Codec codec = Codec::kBuiltin;
  std::shared_ptr<const ProtobufCodec> protobuf;
  MergeOp op = MergeOp::kLast;
  Operand operand;
  // int and long states: values are stored times 10^scale, exactly (router/value_conversion.h).
  int scale = 0;
  // A sum into a double state: operands that are exact decimal text (PostgreSQL numeric) are carried
  // as that text and summed exactly, the state holding the exact sum rounded once to a double
  // (rule_function.h). Other operands are doubles, added as doubles.
  bool ExactDecimalSum() const { return op == MergeOp::kSum && repr == ValueRepr::kDouble && codec == Codec::kBuiltin; }
  // The state holds text (io.statefun.types/string, java.lang.String): values must be UTF-8, which the
  // SDKs and Flink's StringSerializer require to read them back.
  bool text = false;
};

struct Condition {
  Template lhs;
  enum class Op { kTruthy, kEquals, kNotEquals } op = Op::kTruthy;
  std::optional<std::string> literal;  // nullopt: compare with NULL
  std::string text;
};

struct CompiledRoute {
  int index = 0;  // position in the spec's routes list
  std::string source;
  std::string function_type;
  Template id;
  std::vector<Condition> where;
  std::vector<Condition> delete_when;  // all hold: delete the states of `rules` (empty: never)
  // The source's tombstone field (empty: its records are never tombstones) and, for each `where`
  // condition, whether it names that field or one of its sub-fields (so a tombstone skips it).
  std::string tombstone_field;
  std::vector<bool> where_reads_tombstone_field;
  bool id_reads_tombstone_field = false;  // and delete_when is set: a tombstone cannot be addressed
  std::vector<StateRule> rules;
  std::shared_ptr<const Schema> payload_schema;  // "route", then one field per rule
  // A deletion's payload: one field "route" holding DeletionIndex(index), which is negative.
  std::shared_ptr<const Schema> deletion_schema = std::make_shared<const Schema>(std::vector<std::string>{"route"});
  static int64_t DeletionIndex(int index) { return -1 - static_cast<int64_t>(index); }
  std::string Describe() const;
};

Result<Condition> ParseCondition(const std::string& text);

// True when `t` names `field` or one of its flattened sub-fields (`field.<f>`).
bool NamesFieldOrSubField(const Template& t, const std::string& field);

}  // namespace sfb

#endif  // SFB_ROUTER_RULES_H_
