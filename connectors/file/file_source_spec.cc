#include "connectors/file/file_source_spec.h"

namespace sfb {

Result<std::unique_ptr<Source>> FileSourceDefinition::Create() const {
  return std::unique_ptr<Source>(std::make_unique<FileSource>(config_));
}

nlohmann::ordered_json FileSourceDefinition::Describe() const {
  const bool csv = config_.format == FileSourceConfig::Format::kCsv;
  nlohmann::ordered_json j{{"kind", "file"}, {"path", config_.path}, {"format", csv ? "csv" : "jsonl"}};
  if (csv && config_.csv.delimiter != ',') j["delimiter"] = std::string(1, config_.csv.delimiter);
  if (csv && config_.csv.allow_multiline) j["multiline"] = true;
  return j;
}

Result<std::unique_ptr<SourceDefinition>> ParseFileSourceSpec(const SpecContext& ctx, const std::string& name,
                                                              const YAML::Node& f) {
  FileSourceConfig c;
  SFB_RETURN_IF_ERROR(ctx.CheckKeys(f, "file source " + name,
                                    {"path", "format", "delimiter", "header", "columns", "multiline", "split_size"}));
  if (!f["path"]) return ctx.Error(f, "file source " + name + " has no path", "add path: data/your-file.csv");
  SFB_ASSIGN_OR_RETURN(std::string path, ctx.Scalar(f["path"], "path"));
  c.path = ctx.Path(path);
  std::string format;
  if (f["format"]) {
    SFB_ASSIGN_OR_RETURN(format, ctx.Scalar(f["format"], "format"));
  } else {
    const auto dot = path.rfind('.');
    format = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (format == "ndjson" || format == "json") format = "jsonl";
  }
  if (format == "csv") {
    c.format = FileSourceConfig::Format::kCsv;
  } else if (format == "jsonl") {
    c.format = FileSourceConfig::Format::kJsonl;
  } else {
    return ctx.Error(f["format"] ? f["format"] : f, "unknown file format '" + format + "'", "format is csv or jsonl");
  }
  const bool csv = c.format == FileSourceConfig::Format::kCsv;
  if (!csv && (f["delimiter"] || f["header"] || f["columns"] || f["multiline"])) {
    return ctx.Error(f, "delimiter, header, columns and multiline apply to csv files only");
  }
  if (f["delimiter"]) {
    SFB_ASSIGN_OR_RETURN(std::string d, ctx.Scalar(f["delimiter"], "delimiter"));
    if (d == "\\t" || d == "tab") d = "\t";
    if (d.size() != 1 || d[0] == '"' || d[0] == '\n') {
      return ctx.Error(f["delimiter"], "delimiter must be one character (or \\t), not '" + d + "'");
    }
    c.csv.delimiter = d[0];
  }
  if (f["header"]) {
    SFB_ASSIGN_OR_RETURN(c.header, ctx.Boolean(f["header"], "header"));
  }
  if (f["multiline"]) {
    SFB_ASSIGN_OR_RETURN(c.csv.allow_multiline, ctx.Boolean(f["multiline"], "multiline"));
  }
  if (f["columns"]) {
    if (!f["columns"].IsSequence()) return ctx.Error(f["columns"], "columns must be a list of names");
    SFB_ASSIGN_OR_RETURN(c.columns, ctx.StringList(f["columns"], "column name"));
  }
  if (f["split_size"]) {
    SFB_ASSIGN_OR_RETURN(c.split_bytes, ctx.ByteSize(f["split_size"], "split_size"));
  }
  return std::unique_ptr<SourceDefinition>(std::make_unique<FileSourceDefinition>(std::move(c)));
}

}  // namespace sfb
