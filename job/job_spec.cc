#include "job/job_spec.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/duration.h"
#include "common/file_io.h"
#include "common/str_cat.h"
#include "connectors/registry.h"
#include "job/spec_node.h"
#include "router/template.h"
#include "writer/memory_budget.h"

namespace sfb {
namespace {

using Ctx = SpecContext;

Result<nlohmann::ordered_json> ToJsonShape(const Ctx& ctx, const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::ordered_json o = nlohmann::ordered_json::object();
    for (auto it = n.begin(); it != n.end(); ++it) {
      SFB_ASSIGN_OR_RETURN(o[it->first.as<std::string>()], ToJsonShape(ctx, it->second));
    }
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& item : n) {
      SFB_ASSIGN_OR_RETURN(nlohmann::ordered_json v, ToJsonShape(ctx, item));
      a.push_back(std::move(v));
    }
    return a;
  }
  if (n.IsNull()) return nlohmann::ordered_json(nullptr);
  SFB_ASSIGN_OR_RETURN(std::string s, ctx.Scalar(n, "a value"));
  // Quoted scalars and anything with a template are strings; plain numbers and booleans stay literal.
  if (n.Tag() != "!" && s.find('{') == std::string::npos) {
    if (s == "true" || s == "false") return nlohmann::ordered_json(s == "true");
    auto num = nlohmann::ordered_json::parse(s, nullptr, false);
    if (!num.is_discarded() && num.is_number()) return num;
  }
  return nlohmann::ordered_json(s);
}

Result<OnExisting> ParseOnExistingNode(const Ctx& ctx, const YAML::Node& n, const std::string& what) {
  SFB_ASSIGN_OR_RETURN(std::string text, ctx.Scalar(n, "on_existing"));
  OnExisting mode;
  if (!ParseOnExisting(text, &mode)) {
    return ctx.Error(n, StrCat("on_existing of ", what, " is '", text, "'"),
                     "on_existing is replace (the job's values win where it writes), keep (the base's win where it "
                     "has one) or merge (the job's rules start from the base's value)");
  }
  return mode;
}

Result<StateSpecYaml> ParseState(const Ctx& ctx, const std::string& fn, const std::string& name, const YAML::Node& n) {
  StateSpecYaml s;
  s.name = name;
  s.where = ctx.Where(n);
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, "state " + fn + "." + name,
                                {"type", "codec", "kind", "expire_after_write", "expire_after_invoke",
                                 "descriptor_set", "message", "scale", "on_existing"}));
  if (!n["type"]) {
    return ctx.Error(n, "state " + name + " of " + fn + " has no type",
                     "add type: io.statefun.types/int (or long, float, double, bool, string), a custom "
                     "typename with a codec, or a Java type such as java.lang.Long");
  }
  SFB_ASSIGN_OR_RETURN(s.type, ctx.Scalar(n["type"], "type"));
  const bool java = s.type.rfind("java.lang.", 0) == 0 || s.type == "byte[]";
  s.kind = java ? StateKind::kEmbedded : StateKind::kRemote;
  if (n["kind"]) {
    SFB_ASSIGN_OR_RETURN(std::string kind, ctx.Scalar(n["kind"], "kind"));
    if (kind == "embedded") s.kind = StateKind::kEmbedded;
    else if (kind == "remote") s.kind = StateKind::kRemote;
    else return ctx.Error(n["kind"], "kind must be remote or embedded, not '" + kind + "'");
  }
  if (n["codec"]) {
    SFB_ASSIGN_OR_RETURN(std::string codec, ctx.Scalar(n["codec"], "codec"));
    if (codec == "json") s.codec = Codec::kJson;
    else if (codec == "raw") s.codec = Codec::kRaw;
    else if (codec == "protobuf") s.codec = Codec::kProtobuf;
    else return ctx.Error(n["codec"], "unknown codec '" + codec + "'", "codec is json, raw or protobuf");
  }
  for (const char* key : {"expire_after_write", "expire_after_invoke"}) {
    if (!n[key]) continue;
    if (s.ttl_mode != TtlMode::kNone) {
      return ctx.Error(n[key], "state " + name + " has both expire_after_write and expire_after_invoke",
                       "statefun allows one expiration mode per state; keep the one the application declares");
    }
    SFB_ASSIGN_OR_RETURN(s.ttl_millis, ctx.DurationMillis(n[key], key));
    s.ttl_mode = std::string(key) == "expire_after_write" ? TtlMode::kAfterWrite : TtlMode::kAfterInvoke;
  }
  if (n["on_existing"]) {
    SFB_ASSIGN_OR_RETURN(s.on_existing, ParseOnExistingNode(ctx, n["on_existing"], StrCat("state ", fn, ".", name)));
  }
  if (n["scale"]) {
    // 18: a long holds 18 digits in full, so 1 at scale 18 still fits.
    SFB_ASSIGN_OR_RETURN(int64_t scale, ctx.Integer(n["scale"], StrCat("state ", fn, ".", name, " scale"), 0, 18,
                                                    "scale is the number of decimal places kept: 0..18 (2 for cents)"));
    s.scale = static_cast<int>(scale);
  }
  if (s.codec == Codec::kProtobuf) {
    if (!n["descriptor_set"] || !n["message"]) {
      return ctx.Error(n, "state " + name + " has codec protobuf but no descriptor_set and message",
                       "add descriptor_set: path/to/file.desc (protoc --include_imports --descriptor_set_out) "
                       "and message: package.MessageName");
    }
    SFB_ASSIGN_OR_RETURN(s.descriptor_set, ctx.Scalar(n["descriptor_set"], "descriptor_set"));
    s.descriptor_set = ctx.Path(s.descriptor_set);
    SFB_ASSIGN_OR_RETURN(s.message, ctx.Scalar(n["message"], "message"));
  } else if (n["descriptor_set"] || n["message"]) {
    return ctx.Error(n, "descriptor_set and message only apply to codec: protobuf");
  }
  return s;
}

Result<SourceSpecYaml> ParseSource(const Ctx& ctx, const std::string& name, const YAML::Node& n) {
  SourceSpecYaml s;
  s.name = name;
  s.where = ctx.Where(n);
  SFB_ASSIGN_OR_RETURN(std::unique_ptr<SourceDefinition> d, ParseSourceDefinition(ctx, name, n));
  s.definition = std::move(d);
  return s;
}

Result<RouteSpecYaml> ParseRoute(const Ctx& ctx, const YAML::Node& n, size_t index,
                                 const std::vector<SourceSpecYaml>& sources) {
  RouteSpecYaml r;
  r.where = ctx.Where(n);
  const std::string what = "route #" + std::to_string(index + 1);
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(n, what, {"from", "to", "id", "where", "delete_when", "set", "merge"}));
  for (const char* key : {"from", "to"}) {
    if (!n[key]) {
      return ctx.Error(n, what + " has no " + std::string(key),
                       "a route needs from: <source>, to: <namespace/function> and id: \"{field}\"");
    }
  }
  SFB_ASSIGN_OR_RETURN(r.from, ctx.Scalar(n["from"], "from"));
  SFB_ASSIGN_OR_RETURN(r.to, ctx.Scalar(n["to"], "to"));
  // The source may give defaults (a kafka source: id "{key}", delete_when "{value} == null").
  const SourceDefinition* source = nullptr;
  for (const auto& s : sources) if (s.name == r.from) source = s.definition.get();
  if (n["id"]) {
    SFB_ASSIGN_OR_RETURN(r.id, ctx.Scalar(n["id"], "id"));
    r.field_where["id"] = ctx.Where(n["id"]);
  } else if (source && !source->default_route_id().empty()) {
    r.id = source->default_route_id();
  } else {
    return ctx.Error(n, what + " has no id",
                     "a route needs from: <source>, to: <namespace/function> and id: \"{field}\"");
  }
  if (n["delete_when"]) {
    r.field_where["delete_when"] = ctx.Where(n["delete_when"]);
    SFB_ASSIGN_OR_RETURN(r.delete_when, ctx.StringList(n["delete_when"], "delete_when condition"));
  } else if (source && !source->default_delete_when().empty()) {
    r.delete_when.push_back(source->default_delete_when());
  }
  if (n["where"]) {
    r.field_where["where"] = ctx.Where(n["where"]);
    if (n["where"].IsSequence()) {
      for (const auto& c : n["where"]) {
        SFB_ASSIGN_OR_RETURN(std::string cond, ctx.Scalar(c, "where condition"));
        r.where_conditions.push_back(cond);
      }
    } else {
      SFB_ASSIGN_OR_RETURN(std::string cond, ctx.Scalar(n["where"], "where"));
      r.where_conditions.push_back(cond);
    }
  }
  if (n["set"]) {
    if (!n["set"].IsMap()) return ctx.Error(n["set"], "set must map state names to values");
    for (auto it = n["set"].begin(); it != n["set"].end(); ++it) {
      const std::string state = it->first.as<std::string>();
      SFB_ASSIGN_OR_RETURN(nlohmann::ordered_json v, ToJsonShape(ctx, it->second));
      // A plain scalar is a constant template; typed states convert it like any other value.
      if (it->second.IsScalar() && v.is_boolean()) v = v.get<bool>() ? "true" : "false";
      if (it->second.IsScalar() && v.is_number()) v = v.dump();
      r.set.emplace_back(state, std::move(v));
      r.field_where["set." + state] = ctx.Where(it->second);
    }
  }
  if (n["merge"]) {
    if (!n["merge"].IsMap()) return ctx.Error(n["merge"], "merge must map state names to rules such as count or sum(field)");
    for (auto it = n["merge"].begin(); it != n["merge"].end(); ++it) {
      const std::string state = it->first.as<std::string>();
      SFB_ASSIGN_OR_RETURN(std::string rule, ctx.Scalar(it->second, "merge rule"));
      r.merge.emplace_back(state, rule);
      r.field_where["merge." + state] = ctx.Where(it->second);
    }
  }
  if (r.set.empty() && r.merge.empty()) {
    return ctx.Error(n, what + " sets no state", "add set: {state: \"{field}\"} or merge: {state: count}");
  }
  return r;
}

}  // namespace

Result<std::string> ExpandEnvironment(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    if (text[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out.push_back('$');
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string::npos) {
      return Status::InvalidSpec("'${' without a closing '}'").WithHint("write ${VARIABLE}, or $$ for a literal $");
    }
    std::string name = text.substr(i + 2, close - i - 2);
    std::optional<std::string> fallback;
    const auto dflt = name.find(":-");
    if (dflt != std::string::npos) {
      fallback = name.substr(dflt + 2);
      name = name.substr(0, dflt);
    }
    const char* v = std::getenv(name.c_str());
    if (v && *v) {
      out += v;
    } else if (fallback) {
      out += *fallback;
    } else if (v) {
      return Status::InvalidSpec("environment variable " + name + " is set but empty")
          .WithHint("export " + name + "=... with a value, or write ${" + name + ":-} where an empty value is meant");
    } else {
      return Status::InvalidSpec("environment variable " + name + " is not set")
          .WithHint("export " + name + "=... before running, or write ${" + name + ":-default}");
    }
    i = close;
  }
  return out;
}

Result<JobSpec> ParseJobSpec(const std::string& text, const std::string& file_name, const std::string& base_dir,
                             JobSpecParts parts) {
  Ctx ctx(file_name, base_dir, text);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return Status::InvalidSpec("YAML syntax error: " + e.msg)
        .WithContext(file_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1))
        .WithHint("check indentation (spaces, not tabs) and that every ':' in a value is quoted");
  }
  try {
    JobSpec job;
    job.file = file_name;
    if (!root.IsMap()) return Status::InvalidSpec("the job file must be a mapping with savepoint, functions, sources and routes").WithContext(file_name);
    // Top-level keys starting with x- are the user's own and ignored (the Compose convention: a place
    // for YAML anchors that the sections below refer to).
    SFB_RETURN_IF_ERROR(
        ctx.CheckKeys(root, "the job file", {"savepoint", "functions", "sources", "routes", "errors", "x-*"}));
    for (const char* key : {"savepoint", "functions", "sources", "routes"}) {
      if (!root[key]) {
        return Status::InvalidSpec("the job file has no " + std::string(key) + " section").WithContext(file_name)
            .WithHint("see README.md, 'Job spec reference', for a complete example");
      }
    }
    const bool all = parts == JobSpecParts::kAll;
    const YAML::Node sp = all ? root["savepoint"] : YAML::Node(YAML::NodeType::Map);
    SFB_RETURN_IF_ERROR(ctx.CheckKeys(sp, "savepoint", {"path", "base", "max_parallelism", "parallelism", "ttl_timestamp", "memory"}));
    if (sp["path"]) {
      SFB_ASSIGN_OR_RETURN(std::string p, ctx.Scalar(sp["path"], "savepoint.path"));
      job.savepoint_path = ctx.Path(p);
    }
    if (sp["base"]) {
      SFB_ASSIGN_OR_RETURN(std::string p, ctx.Scalar(sp["base"], "savepoint.base"));
      job.base_path = ctx.Path(p);
    }
    if (sp["max_parallelism"]) {
      SFB_ASSIGN_OR_RETURN(int64_t v, ctx.Integer(sp["max_parallelism"], "savepoint.max_parallelism", 1, 32768,
                                              "use the application's max parallelism: 1..32768 (Flink's default is 128)"));
      job.max_parallelism = static_cast<int>(v);
    }
    if (sp["parallelism"]) {
      SFB_ASSIGN_OR_RETURN(int64_t v, ctx.Integer(sp["parallelism"], "savepoint.parallelism", 1, job.max_parallelism,
                                              "parallelism must be between 1 and max_parallelism"));
      job.parallelism = static_cast<int>(v);
    }
    if (sp["ttl_timestamp"]) {
      SFB_ASSIGN_OR_RETURN(std::string t, ctx.Scalar(sp["ttl_timestamp"], "ttl_timestamp"));
      if (t != "now") {
        SFB_ASSIGN_OR_RETURN(int64_t v, ctx.Integer(sp["ttl_timestamp"], "savepoint.ttl_timestamp", 0, INT64_MAX,
                                                "write now, or epoch milliseconds"));
        job.ttl_timestamp = v;
      }
    }

    if (sp["memory"]) {
      SFB_ASSIGN_OR_RETURN(uint64_t v, ctx.ByteSize(sp["memory"], "savepoint.memory"));
      if (v < kMinMemoryBudget) {
        return ctx.Error(sp["memory"], "savepoint.memory must be at least 1MB",
                         "it bounds the routed records held in memory; what exceeds it spills to disk");
      }
      job.memory = v;
    }

    if (const YAML::Node errors = root["errors"]; all && errors) {
      SFB_RETURN_IF_ERROR(ctx.CheckKeys(errors, "errors", {"dead_letter", "max_bad_records"}));
      if (!errors["dead_letter"]) {
        return ctx.Error(errors, "errors: needs dead_letter: the file where bad records go",
                         "errors: { dead_letter: bad-records.jsonl, max_bad_records: 100 }; without an errors: "
                         "section the first bad record fails the run");
      }
      if (!errors["max_bad_records"]) {
        return ctx.Error(errors, "errors: needs max_bad_records: how many bad records the run may set aside "
                                 "before it fails",
                         "errors: { dead_letter: ..., max_bad_records: 100 }");
      }
      SFB_ASSIGN_OR_RETURN(std::string dl, ctx.Scalar(errors["dead_letter"], "errors.dead_letter"));
      job.dead_letter_path = ctx.Path(dl);
      SFB_ASSIGN_OR_RETURN(int64_t n, ctx.Integer(errors["max_bad_records"], "errors.max_bad_records", 0, INT64_MAX,
                                              "a count of records: 0 or more"));
      job.max_bad_records = static_cast<uint64_t>(n);
    }

    const YAML::Node fns = root["functions"];
    if (!fns.IsMap() || fns.size() == 0) return ctx.Error(fns, "functions must map function types to their states");
    for (auto it = fns.begin(); it != fns.end(); ++it) {
      FunctionSpecYaml f;
      f.type = it->first.as<std::string>();
      f.where = ctx.Where(it->first);
      SFB_RETURN_IF_ERROR(ctx.CheckKeys(it->second, "function " + f.type, {"states", "on_existing"}));
      if (it->second["on_existing"]) {
        SFB_ASSIGN_OR_RETURN(f.on_existing,
                             ParseOnExistingNode(ctx, it->second["on_existing"], StrCat("function ", f.type)));
      }
      const YAML::Node states = it->second["states"];
      if (!states || !states.IsMap() || states.size() == 0) {
        return ctx.Error(it->second, "function " + f.type + " declares no states",
                         "add states: { name: { type: io.statefun.types/int } }");
      }
      for (auto s = states.begin(); s != states.end(); ++s) {
        SFB_ASSIGN_OR_RETURN(StateSpecYaml st, ParseState(ctx, f.type, s->first.as<std::string>(), s->second));
        if (st.on_existing == OnExisting::kUnset) st.on_existing = f.on_existing;  // the state's own wins
        f.states.push_back(std::move(st));
      }
      job.functions.push_back(std::move(f));
    }

    if (!all) return job;

    const YAML::Node srcs = root["sources"];
    if (!srcs.IsMap() || srcs.size() == 0) return ctx.Error(srcs, "sources must map source names to connectors");
    for (auto it = srcs.begin(); it != srcs.end(); ++it) {
      SFB_ASSIGN_OR_RETURN(SourceSpecYaml s, ParseSource(ctx, it->first.as<std::string>(), it->second));
      job.sources.push_back(std::move(s));
    }

    const YAML::Node routes = root["routes"];
    if (!routes.IsSequence() || routes.size() == 0) {
      return ctx.Error(routes, "routes must be a list", "write each route as a list item: - from: ...");
    }
    for (size_t i = 0; i < routes.size(); ++i) {
      SFB_ASSIGN_OR_RETURN(RouteSpecYaml r, ParseRoute(ctx, routes[i], i, job.sources));
      job.routes.push_back(std::move(r));
    }
    return job;
  } catch (const YAML::Exception& e) {
    return Status::InvalidSpec("cannot read the job file: " + e.msg)
        .WithContext(file_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1));
  }
}

Result<JobSpec> LoadJobSpec(const std::string& path, JobSpecParts parts) {
  if (!PathExists(path)) {
    return Status::NotFound("job file " + path + " does not exist").WithHint("pass the path of your job YAML file");
  }
  std::string text;
  SFB_RETURN_IF_ERROR(ReadFileToString(path, &text));
  const std::string base = std::filesystem::path(path).parent_path().string();
  return ParseJobSpec(text, path, base.empty() ? "." : base, parts);
}

}  // namespace sfb
