#include "job/job_builder.h"

#include <algorithm>
#include <map>
#include <thread>

#include "common/byte_size.h"
#include "common/str_cat.h"
#include "job/python_state_names.h"
#include "router/combinable_rules.h"
#include "router/rule_function.h"
#include "router/rule_router.h"
#include "savepoint/key_groups.h"
#include "writer/memory_budget.h"

namespace sfb {
namespace {

const char* TtlModeName(TtlMode m) {
  switch (m) {
    case TtlMode::kNone: return "none";
    case TtlMode::kAfterWrite: return "after_write";
    case TtlMode::kAfterInvoke: return "after_invoke";
  }
  return "?";
}

bool IsNumeric(ValueRepr r) {
  return r == ValueRepr::kInt32 || r == ValueRepr::kInt64 || r == ValueRepr::kFloat || r == ValueRepr::kDouble;
}

struct MergeRule {
  MergeOp op;
  std::string field;  // empty: no field given
};

Result<MergeRule> ParseMergeRule(const std::string& text) {
  static const std::pair<const char*, MergeOp> kOps[] = {{"last", MergeOp::kLast}, {"first", MergeOp::kFirst},
                                                        {"sum", MergeOp::kSum},   {"min", MergeOp::kMin},
                                                        {"max", MergeOp::kMax},   {"count", MergeOp::kCount},
                                                        {"append", MergeOp::kAppend}};
  const auto paren = text.find('(');
  const std::string name = text.substr(0, paren);
  std::string field;
  if (paren != std::string::npos) {
    if (text.back() != ')') return Status::InvalidSpec("merge rule '" + text + "' is missing its closing ')'");
    field = text.substr(paren + 1, text.size() - paren - 2);
    if (field.size() >= 2 && field.front() == '{' && field.back() == '}') field = field.substr(1, field.size() - 2);
    if (field.empty()) return Status::InvalidSpec("merge rule '" + text + "' names no field");
  }
  for (const auto& [n, op] : kOps) {
    if (name == n) {
      if (op == MergeOp::kCount && !field.empty()) {
        return Status::InvalidSpec("count takes no field").WithHint("write count, or sum(field) to add up a field");
      }
      return MergeRule{op, field};
    }
  }
  return Status::InvalidSpec("unknown merge rule '" + text + "'")
      .WithHint("merge rules are count, sum(field), min(field), max(field), last(field), first(field), "
                "append(field), or sum/min/max/first/last/append combined with a set: value for the same state");
}

Result<Operand> CompileOperand(const nlohmann::ordered_json& value, const StateDescriptor& d) {
  Operand o;
  if (value.is_string()) {
    o.kind = Operand::Kind::kTemplate;
    SFB_ASSIGN_OR_RETURN(o.tmpl, Template::Parse(value.get<std::string>()));
    return o;
  }
  if (value.is_null()) {
    return Status::InvalidSpec("the value for state " + d.state_name + " is empty")
        .WithHint("write a template such as \"{column}\"");
  }
  if (d.codec != Codec::kJson && d.codec != Codec::kProtobuf) {
    return Status::InvalidSpec("state " + d.state_name + " has type " + d.type_name +
                               ", so its value must be a single template, not an object or list")
        .WithHint("objects build JSON or protobuf values: declare the state with codec: json or codec: protobuf");
  }
  o.kind = Operand::Kind::kObject;
  o.shape = value;
  std::vector<const nlohmann::ordered_json*> stack;
  std::function<Status(const nlohmann::ordered_json&)> collect = [&](const nlohmann::ordered_json& j) -> Status {
    if (j.is_object() || j.is_array()) {
      for (const auto& item : j) SFB_RETURN_IF_ERROR(collect(item));
    } else if (j.is_string()) {
      SFB_ASSIGN_OR_RETURN(Template t, Template::Parse(j.get<std::string>()));
      o.leaf_templates.push_back(std::move(t));
    }
    return Status::OK();
  };
  SFB_RETURN_IF_ERROR(collect(o.shape));
  return o;
}

// An append operand is always a JSON shape: one template becomes a shape of that one leaf, so a field's value
// is appended as its JSON value (text as a JSON string) rather than having to be JSON text itself, as the
// template of a codec json state's set: must be.
Operand AppendOperand(Operand o) {
  if (o.kind != Operand::Kind::kTemplate) return o;
  Operand leaf;
  leaf.kind = Operand::Kind::kObject;
  leaf.shape = nlohmann::ordered_json(o.tmpl.text());
  leaf.leaf_templates.push_back(std::move(o.tmpl));
  return leaf;
}

std::vector<std::string> OperandFields(const Operand& o) {
  std::vector<std::string> out;
  if (o.kind == Operand::Kind::kTemplate) out = o.tmpl.fields();
  for (const auto& t : o.leaf_templates) out.insert(out.end(), t.fields().begin(), t.fields().end());
  return out;
}

// `tombstone_field` is the route's source's (SourceDefinition::tombstone_field()); what the route may not
// mean is added to `warnings`.
Result<std::shared_ptr<CompiledRoute>> CompileRoute(const RouteSpecYaml& r, int index, const FunctionSpecYaml& fn,
                                                    const std::vector<StateDescriptor>& fn_states,
                                                    const std::map<std::string, std::shared_ptr<const ProtobufCodec>>& codecs,
                                                    const std::string& tombstone_field,
                                                    std::vector<SpecWarning>* warnings) {
  auto route = std::make_shared<CompiledRoute>();
  route->index = index;
  route->source = r.from;
  route->function_type = r.to;
  auto at = [&](const std::string& key) {
    auto it = r.field_where.find(key);
    return it == r.field_where.end() ? r.where : it->second;
  };
  {
    auto id = Template::Parse(r.id);
    if (!id.ok()) return Status(id.status()).WithContext(at("id"));
    route->id = std::move(id).value();
  }
  for (const auto& c : r.where_conditions) {
    auto cond = ParseCondition(c);
    if (!cond.ok()) return Status(cond.status()).WithContext(at("where"));
    route->where.push_back(std::move(cond).value());
  }
  for (const auto& c : r.delete_when) {
    auto cond = ParseCondition(c);
    if (!cond.ok()) return Status(cond.status()).WithContext(at("delete_when"));
    route->delete_when.push_back(std::move(cond).value());
  }
  // Tombstones (router/rules.h): where conditions on the field they lack are skipped for them, and the
  // id must come from what they carry, or the route could not delete what it set.
  route->tombstone_field = tombstone_field;
  for (const auto& c : route->where) {
    route->where_reads_tombstone_field.push_back(!tombstone_field.empty() && NamesFieldOrSubField(c.lhs, tombstone_field));
  }
  // An events topic may be keyed by anything and never hold a tombstone, so this is a warning; a
  // tombstone that does arrive fails as a bad record saying the same.
  route->id_reads_tombstone_field =
      !tombstone_field.empty() && !route->delete_when.empty() && NamesFieldOrSubField(route->id, tombstone_field);
  if (route->id_reads_tombstone_field) {
    warnings->push_back(SpecWarning{
        at("id"),
        route->Describe() + ": the id '" + r.id + "' is taken from the " + tombstone_field +
            ", but a tombstone has no " + tombstone_field + " (only a key): a tombstone in the topic would fail the run",
        "address the records by their key (id: \"{key}\", or \"{key.<field>}\" for a json key) so tombstones "
        "delete, or, if the topic has no tombstones, say so on the source: tombstones: skip"});
  }
  std::vector<std::string> state_names;
  for (const auto& s : fn.states) state_names.push_back(s.name);
  auto scale_of = [&](const std::string& name) {
    for (const auto& s : fn.states) if (s.name == name) return s.scale;
    return 0;
  };
  auto find_state = [&](const std::string& name, const std::string& key) -> Result<size_t> {
    for (size_t i = 0; i < fn_states.size(); ++i) if (fn_states[i].state_name == name) return i;
    const std::string suggestion = SuggestName(name, state_names);
    return Status::InvalidSpec("function " + fn.type + " has no state '" + name + "'")
        .WithContext(at(key))
        .WithHint(suggestion.empty() ? "declare it under functions: " + fn.type + ": states:"
                                     : "did you mean '" + suggestion + "'?");
  };
  // Order rules as the states are declared, so payloads are laid out the same way for every record.
  std::map<size_t, StateRule> rules;
  for (const auto& [name, value] : r.set) {
    SFB_ASSIGN_OR_RETURN(size_t slot, find_state(name, "set." + name));
    const StateDescriptor& d = fn_states[slot];
    StateRule rule;
    rule.slot = slot;
    rule.state_name = name;
    rule.repr = d.repr();
    rule.text = d.type_name == "io.statefun.types/string" || d.type_name == "java.lang.String";
    rule.codec = d.codec;
    rule.scale = scale_of(name);
    rule.op = MergeOp::kLast;
    auto operand = CompileOperand(value, d);
    if (!operand.ok()) return Status(operand.status()).WithContext(at("set." + name));
    rule.operand = std::move(operand).value();
    if (d.codec == Codec::kProtobuf) rule.protobuf = codecs.at(d.FlinkName());
    rules[slot] = std::move(rule);
  }
  for (const auto& merge_entry : r.merge) {
    // Plain copies: the lambda below cannot capture structured bindings in C++20 with clang 14.
    const std::string name = merge_entry.first;
    const std::string text = merge_entry.second;
    SFB_ASSIGN_OR_RETURN(size_t slot, find_state(name, "merge." + name));
    const StateDescriptor& d = fn_states[slot];
    auto parsed = ParseMergeRule(text);
    if (!parsed.ok()) return Status(parsed.status()).WithContext(at("merge." + name));
    const MergeRule m = *parsed;
    const bool has_set = rules.count(slot) > 0;
    auto fail = [&](const std::string& what, const std::string& fix) {
      return Status::InvalidSpec(what).WithContext(at("merge." + name)).WithHint(fix);
    };
    if (m.op == MergeOp::kCount && has_set) {
      return fail("state " + name + " has both a set value and merge: count", "count needs no value: drop the set entry");
    }
    if (m.op != MergeOp::kCount && has_set && !m.field.empty()) {
      return fail("state " + name + " has a set value and merge " + text + " with its own field",
                  "write either set: {" + name + ": \"{" + m.field + "}\"} with merge: {" + name + ": " +
                      MergeOpName(m.op) + "}, or merge: {" + name + ": " + text + "} alone");
    }
    if (m.op != MergeOp::kCount && !has_set && m.field.empty()) {
      return fail("merge " + text + " for state " + name + " has no value to merge",
                  "name a field, " + std::string(MergeOpName(m.op)) + "(column), or give the value under set:");
    }
    if ((m.op == MergeOp::kCount || m.op == MergeOp::kSum) && !IsNumeric(d.repr())) {
      return fail(std::string(MergeOpName(m.op)) + " needs a numeric state, but " + name + " is " + d.type_name,
                  "declare the state as io.statefun.types/int, long, float or double (or java.lang.Long, Integer, Double)");
    }
    if ((m.op == MergeOp::kMin || m.op == MergeOp::kMax) && (d.repr() == ValueRepr::kBool || d.codec != Codec::kBuiltin)) {
      return fail(std::string(MergeOpName(m.op)) + " needs a numeric or string state, but " + name + " is " + d.type_name, "");
    }
    if (m.op == MergeOp::kAppend && d.codec != Codec::kJson) {
      return fail("append needs a state with codec: json (it holds a JSON array), but " + name + " is " + d.type_name +
                      (d.codec == Codec::kBuiltin ? "" : StrCat(" with codec ", CodecName(d.codec))),
                  "declare the state with a type of your own and codec json, e.g. " + name +
                      ": { type: example/Visits, codec: json }");
    }
    if (has_set) {
      rules[slot].op = m.op;
      if (m.op == MergeOp::kAppend) rules[slot].operand = AppendOperand(std::move(rules[slot].operand));
      continue;
    }
    StateRule rule;
    rule.slot = slot;
    rule.state_name = name;
    rule.repr = d.repr();
    rule.text = d.type_name == "io.statefun.types/string" || d.type_name == "java.lang.String";
    rule.codec = d.codec;
    rule.scale = scale_of(name);
    rule.op = m.op;
    if (m.op != MergeOp::kCount) {
      auto operand = CompileOperand(nlohmann::ordered_json("{" + m.field + "}"), d);
      if (!operand.ok()) return Status(operand.status()).WithContext(at("merge." + name));
      rule.operand = std::move(operand).value();
      if (m.op == MergeOp::kAppend) rule.operand = AppendOperand(std::move(rule.operand));
    }
    if (d.codec == Codec::kProtobuf) rule.protobuf = codecs.at(d.FlinkName());
    rules[slot] = std::move(rule);
  }
  std::vector<std::string> payload_names{"route"};
  for (auto& [slot, rule] : rules) {
    payload_names.push_back(rule.state_name);
    route->rules.push_back(std::move(rule));
  }
  route->payload_schema = std::make_shared<const Schema>(std::move(payload_names));
  return route;
}

// Every field the route's templates name, with where it is used.
std::vector<std::pair<std::string, std::string>> RouteFields(const CompiledRoute& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : r.id.fields()) out.emplace_back(f, "id '" + r.id.text() + "'");
  for (const auto& c : r.where) for (const auto& f : c.lhs.fields()) out.emplace_back(f, "where '" + c.text + "'");
  for (const auto& c : r.delete_when) for (const auto& f : c.lhs.fields()) out.emplace_back(f, "delete_when '" + c.text + "'");
  for (const auto& rule : r.rules) for (const auto& f : OperandFields(rule.operand)) out.emplace_back(f, "state " + rule.state_name);
  return out;
}

}  // namespace

Result<BuiltJob> BuildJob(const JobSpec& spec, const JobOverrides& o, bool connect_remote) {
  BuiltJob job;
  job.output = o.output.empty() ? spec.savepoint_path : o.output;
  job.max_parallelism = spec.max_parallelism;
  job.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  job.parallelism = o.parallelism ? *o.parallelism : spec.parallelism ? *spec.parallelism : job.threads;
  if (job.parallelism > job.max_parallelism && !o.parallelism && !spec.parallelism) job.parallelism = job.max_parallelism;
  SFB_RETURN_IF_ERROR(ValidateParallelism(job.max_parallelism, job.parallelism));
  if (o.memory) {
    job.memory_budget = *o.memory;
    job.memory_from = "--memory";
  } else if (spec.memory) {
    job.memory_budget = *spec.memory;
    job.memory_from = "savepoint.memory";
  } else {
    const AvailableMemory available = ReadAvailableMemory();
    job.memory_budget = DefaultMemoryBudget(available);
    job.memory_from = available.bytes == 0 ? "default (available memory unknown)"
                                           : "default: half of " + available.source + " " +
                                                 FormatByteSize(available.bytes) + ", at most " +
                                                 FormatByteSize(kMaxDefaultMemoryBudget);
  }
  job.dead_letter.path = o.dead_letter_path.empty() ? spec.dead_letter_path : o.dead_letter_path;
  job.dead_letter.max_bad_records = o.max_bad_records ? *o.max_bad_records : spec.max_bad_records;
  if (!o.dead_letter_path.empty() && !o.max_bad_records && spec.dead_letter_path.empty()) {
    return Status::InvalidSpec("--dead-letter needs --max-bad-records N: how many bad records the run may set aside")
        .WithHint("add --max-bad-records 100, say, or errors: { dead_letter: ..., max_bad_records: ... } to the job");
  }
  if (o.max_bad_records && job.dead_letter.path.empty()) {
    return Status::InvalidSpec("--max-bad-records needs a dead-letter file for the bad records")
        .WithHint("add --dead-letter FILE, or errors.dead_letter to the job");
  }

  // States and protobuf codecs.
  std::map<std::string, std::vector<StateDescriptor>> fn_states;
  std::map<std::string, std::shared_ptr<const ProtobufCodec>> codecs;
  for (const auto& f : spec.functions) {
    for (const auto& s : f.states) {
      auto d = StateDescriptor::Make(f.type, s.name, s.kind, s.type, s.codec, s.ttl_mode, s.ttl_millis);
      if (!d.ok()) return Status(d.status()).WithContext(s.where);
      if (s.scale > 0 && (d->codec != Codec::kBuiltin || (d->repr() != ValueRepr::kInt32 && d->repr() != ValueRepr::kInt64))) {
        return Status::InvalidSpec(StrCat("state ", s.name, " of ", f.type, " has scale: ", std::to_string(s.scale),
                                          ", but scale applies to int and long states only, and ", s.name, " is ",
                                          d->type_name))
            .WithContext(s.where)
            .WithHint("declare the state as io.statefun.types/long (or java.lang.Long) to store scaled integers "
                      "such as cents, or drop scale: a double state takes decimals as they are");
      }
      if (s.codec == Codec::kProtobuf) {
        auto codec = ProtobufCodec::Load(s.descriptor_set, s.message);
        if (!codec.ok()) return Status(codec.status()).WithContext(s.where);
        codecs[d->FlinkName()] = std::move(codec).value();
      }
      if (s.kind == StateKind::kRemote) {
        const std::string problem = PythonStateNameProblem(s.name);
        if (!problem.empty()) {
          job.warnings.push_back(SpecWarning{
              s.where,
              "function " + f.type + " state '" + s.name + "': a function using statefun's Python SDK cannot declare "
                  "this state, because " + problem + " (its ValueSpec names must be lower-case Python identifiers "
                  "that are not keywords), so it could never read the bootstrapped values",
              "if a Python function reads this state, rename it (e.g. " + PythonStateNameSuggestion(s.name) +
                  ") here and in the function; the Java, Go and JavaScript SDKs accept the name as it is"});
        }
      }
      fn_states[f.type].push_back(*d);
      job.states.push_back(std::move(d).value());
    }
  }

  // Routes.
  std::map<std::string, const SourceSpecYaml*> sources;
  std::vector<std::string> source_names;
  for (const auto& s : spec.sources) {
    sources[s.name] = &s;
    source_names.push_back(s.name);
  }
  std::vector<std::string> function_names;
  for (const auto& f : spec.functions) function_names.push_back(f.type);
  std::map<std::string, std::vector<std::shared_ptr<const CompiledRoute>>> routes_by_source;
  std::map<std::string, std::vector<std::shared_ptr<CompiledRoute>>> compiled_by_source;  // completed below
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    const RouteSpecYaml& r = spec.routes[i];
    if (!sources.count(r.from)) {
      const std::string s = SuggestName(r.from, source_names);
      return Status::InvalidSpec("route #" + std::to_string(i + 1) + " reads from '" + r.from + "', which is not a source")
          .WithContext(r.where)
          .WithHint(s.empty() ? "declare it under sources:" : "did you mean '" + s + "'?");
    }
    const FunctionSpecYaml* fn = nullptr;
    for (const auto& f : spec.functions) if (f.type == r.to) fn = &f;
    if (!fn) {
      const std::string s = SuggestName(r.to, function_names);
      return Status::InvalidSpec("route #" + std::to_string(i + 1) + " goes to '" + r.to + "', which is not a declared function")
          .WithContext(r.where)
          .WithHint(s.empty() ? "declare it under functions: with its states" : "did you mean '" + s + "'?");
    }
    SFB_ASSIGN_OR_RETURN(auto route, CompileRoute(r, static_cast<int>(i), *fn, fn_states[r.to], codecs,
                                                  sources[r.from]->definition->tombstone_field(), &job.warnings));
    job.routes.push_back(route);
    routes_by_source[r.from].push_back(route);
    compiled_by_source[r.from].push_back(route);
  }
  auto all_routes = std::make_shared<const std::vector<std::shared_ptr<const CompiledRoute>>>(job.routes);

  job.creator = std::make_unique<SavepointCreator>(job.max_parallelism);
  if (o.cancel) job.creator->SetCancelFlag(o.cancel);
  job.creator->WithParallelism(job.parallelism).WithThreads(job.threads).WithMemoryBudget(job.memory_budget);
  job.creator->WithCombinableRoutes(FindCombinableRoutes(job.routes));
  const std::optional<int64_t> ttl = o.ttl_timestamp ? o.ttl_timestamp : spec.ttl_timestamp;
  if (ttl) job.creator->WithTtlTimestamp(*ttl);
  for (const auto& f : spec.functions) {
    std::vector<StateSpec> specs;
    for (const auto& d : fn_states[f.type]) {
      specs.push_back(StateSpec{d.state_name, StateType{d.kind, d.type_name, d.codec, d.repr()},
                                Expiration{d.ttl_mode, d.ttl_millis}});
    }
    job.creator->WithStateBootstrapFunctionProvider(
        f.type, [specs, all_routes] { return std::make_unique<RuleFunction>(specs, all_routes); });
    for (const auto& st : f.states) {
      if (st.on_existing != OnExisting::kUnset) job.creator->WithOnExisting(f.type, st.name, st.on_existing);
    }
  }
  std::vector<std::pair<const SourceSpecYaml*, Source*>> prepared;
  for (const auto& s : spec.sources) {
    auto it = routes_by_source.find(s.name);
    if (it == routes_by_source.end()) {
      return Status::InvalidSpec("source " + s.name + " is not read by any route").WithContext(s.where)
          .WithHint("add a route from: " + s.name + ", or remove the source");
    }
    auto source = s.definition->Create();
    if (!source.ok()) return Status(source.status()).WithContext("source " + s.name);
    // The spec's routes are the only readers of its records (the rule functions read the routed
    // payloads), unless a dead letter file is written: a record the routes reject goes there whole.
    if (job.dead_letter.path.empty()) {
      std::vector<std::string> fields_read;
      std::map<std::string, size_t> uses, null_tests;
      for (const auto& route : it->second) {
        for (auto& [field, used_in] : RouteFields(*route)) {
          ++uses[field];
          fields_read.push_back(std::move(field));
        }
        for (const auto* conditions : {&route->where, &route->delete_when}) {
          for (const Condition& c : *conditions) {
            if (c.op != Condition::Op::kTruthy && !c.literal && c.lhs.is_single_field()) ++null_tests[c.lhs.fields()[0]];
          }
        }
      }
      (*source)->set_fields_read(fields_read);
      std::vector<std::string> only_null_tested;
      for (const auto& [field, n] : null_tests) {
        if (uses[field] == n) only_null_tested.push_back(field);
      }
      (*source)->set_fields_only_null_tested(only_null_tested);
    }
    if (connect_remote || !s.definition->remote()) prepared.emplace_back(&s, source->get());
    job.creator->WithBootstrapData(s.name, std::move(source).value(), std::make_shared<RuleRouter>(it->second));
  }
  if (!connect_remote) {
    for (const auto& [s, source] : prepared) {
      if (o.cancel) source->set_interrupt(o.cancel);
      SFB_RETURN_IF_ERROR(source->Prepare().WithContext("source " + s->name));
    }
  } else {
    SFB_RETURN_IF_ERROR(job.creator->PrepareSources());
  }
  // Leaves of json objects that are one field holding JSON text (a numeric or jsonb column) embed it.
  // Nothing has been routed yet, so the compiled routes can still be completed.
  for (const auto& [s, source] : prepared) {
    const std::vector<std::string> json_fields = source->json_text_fields();
    if (json_fields.empty()) continue;
    for (const auto& route : compiled_by_source[s->name]) {
      for (StateRule& rule : route->rules) {
        if (rule.operand.kind != Operand::Kind::kObject || rule.codec != Codec::kJson) continue;
        rule.operand.leaf_embeds_json.clear();
        for (const Template& t : rule.operand.leaf_templates) {
          const bool embeds = t.is_single_field() &&
                              std::find(json_fields.begin(), json_fields.end(), t.fields()[0]) != json_fields.end();
          rule.operand.leaf_embeds_json.push_back(embeds);
        }
      }
    }
  }
  // Fields named by templates must exist in fixed schemas (CSV headers, table columns); fields of
  // JSON records are checked per record.
  for (const auto& [s, source] : prepared) {
    const Schema* schema = source->fixed_schema();
    if (!schema) continue;
    for (const auto& route : routes_by_source[s->name]) {
      for (const auto& [field, used_in] : RouteFields(*route)) {
        if (schema->IndexOf(field) >= 0) continue;
        std::string columns;
        for (const auto& n : schema->names()) columns += (columns.empty() ? "" : ", ") + n;
        const std::string suggestion = SuggestName(field, schema->names());
        return Status::InvalidSpec(route->Describe() + ": " + used_in + " refers to column '" + field +
                                   "', which source " + s->name + " does not have (columns: " + columns + ")")
            .WithContext(spec.routes[static_cast<size_t>(route->index)].where)
            .WithHint(suggestion.empty() ? "use one of the file's columns" : "did you mean '" + suggestion + "'?");
      }
    }
  }
  if (job.output.empty()) {
    return Status::InvalidSpec("no output path").WithHint("set savepoint.path in the job file or pass --output DIR");
  }
  return job;
}

nlohmann::ordered_json BuiltJob::PlanJson(const JobSpec& spec) const {
  nlohmann::ordered_json plan;
  plan["savepoint"] = {{"path", output}, {"max_parallelism", max_parallelism}, {"parallelism", parallelism}};
  plan["max_parallelism"] = max_parallelism;
  plan["threads"] = threads;
  plan["memory"] = {{"budget", memory_budget}, {"from", memory_from}};
  plan["errors"] = dead_letter.path.empty()
                       ? nlohmann::ordered_json{{"on_bad_record", "fail"}}
                       : nlohmann::ordered_json{{"on_bad_record", "dead_letter"},
                                                {"dead_letter", dead_letter.path},
                                                {"max_bad_records", dead_letter.max_bad_records}};
  plan["states"] = nlohmann::ordered_json::array();
  for (const auto& d : states) {
    nlohmann::ordered_json s;
    s["function"] = d.function_type;
    s["state"] = d.state_name;
    s["flink_name"] = d.FlinkName();
    s["kind"] = d.kind == StateKind::kRemote ? "remote" : "embedded";
    s["type"] = d.type_name;
    s["codec"] = d.kind == StateKind::kRemote && d.codec != Codec::kBuiltin ? nlohmann::ordered_json(CodecName(d.codec))
                                                                             : nlohmann::ordered_json(nullptr);
    s["ttl"] = d.has_ttl() ? nlohmann::ordered_json{{"mode", TtlModeName(d.ttl_mode)}, {"millis", d.ttl_millis}}
                           : nlohmann::ordered_json(nullptr);
    for (const auto& f : spec.functions) {
      for (const auto& st : f.states) {
        if (f.type == d.function_type && st.name == d.state_name && st.on_existing != OnExisting::kUnset) {
          s["on_existing"] = OnExistingName(st.on_existing);  // only when set: plans without a base keep their shape
        }
      }
    }
    plan["states"].push_back(std::move(s));
  }
  plan["sources"] = nlohmann::ordered_json::array();
  for (const auto& s : spec.sources) {
    nlohmann::ordered_json d{{"name", s.name}};
    const nlohmann::ordered_json described = s.definition->Describe();
    for (auto it = described.begin(); it != described.end(); ++it) d[it.key()] = it.value();
    plan["sources"].push_back(std::move(d));
  }
  plan["routes"] = nlohmann::ordered_json::array();
  for (const auto& r : routes) {
    nlohmann::ordered_json rules = nlohmann::ordered_json::object();
    for (const auto& rule : r->rules) rules[rule.state_name] = MergeOpName(rule.op);
    nlohmann::ordered_json route{{"from", r->source}, {"to", r->function_type}, {"id", r->id.text()}, {"rules", rules}};
    for (const auto& c : r->delete_when) route["delete_when"].push_back(c.text);
    plan["routes"].push_back(std::move(route));
  }
  plan["warnings"] = nlohmann::ordered_json::array();
  for (const auto& w : warnings) {
    plan["warnings"].push_back({{"location", w.location}, {"message", w.message}, {"hint", w.hint}});
  }
  return plan;
}

}  // namespace sfb
