#include "formats/avro_resolution.h"

#include <algorithm>
#include <cstring>

#include "common/str_cat.h"
#include "formats/avro_binary.h"
#include "formats/avro_schema_node.h"

namespace sfb {

using Node = AvroSchema::Node;

// What to do with one writer value to give the reader's: compiled once per (writer type, reader type).
struct AvroResolution::Step {
  enum class Kind { kNull, kBoolean, kInt, kLong, kIntToFloat, kIntToDouble, kLongToFloat, kLongToDouble, kFloat,
                    kDouble, kFloatToDouble, kBytes, kFixed, kEnum, kRecord, kArray, kMap, kWriterUnion,
                    kToReaderBranch, kUnresolvable };
  Kind kind = Kind::kUnresolvable;
  const Node* writer = nullptr;
  const Node* reader = nullptr;
  std::string where;   // the value's place, for messages ("User.address.zip")
  std::string error;   // kUnresolvable: why
  bool failed = false;  // Compile gave up on this pair (a step still being built is not failed)
  size_t size = 0;     // kFixed
  std::vector<int64_t> symbols;  // kEnum: the reader's index of each writer symbol, -1 when it has none
  // kRecord: the writer's fields in order (step null: dropped), and per reader field its encoded default.
  struct Field {
    const Node* writer;
    const Step* step;
    size_t reader_index;
  };
  std::vector<Field> fields;
  std::vector<std::string> defaults;
  std::vector<bool> from_writer;
  bool in_order = true;  // the writer's kept fields come in the reader's order: no reordering needed
  const Step* item = nullptr;           // kArray, kMap
  std::vector<const Step*> branches;    // kWriterUnion: per writer branch
  int64_t reader_branch = 0;            // kToReaderBranch
  const Step* branch = nullptr;         // kToReaderBranch
};

namespace {

using Step = AvroResolution::Step;

bool IsNamed(const Node* n) {
  return n->type == Node::Type::kRecord || n->type == Node::Type::kEnum || n->type == Node::Type::kFixed;
}

std::string_view Unqualified(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? std::string_view(name) : std::string_view(name).substr(dot + 1);
}

bool NamesMatch(const Node* writer, const Node* reader) {
  if (writer->name == reader->name || Unqualified(writer->name) == Unqualified(reader->name)) return true;
  return std::find(reader->aliases.begin(), reader->aliases.end(), writer->name) != reader->aliases.end();
}

// Same type (and for named types the same name): the first choice among a reader union's branches.
bool SameType(const Node* writer, const Node* reader) {
  return writer->type == reader->type && (!IsNamed(writer) || NamesMatch(writer, reader));
}

// UTF-8 text whose code points are 0-255 -> those bytes (how Avro's JSON defaults spell bytes and fixed).
Status DefaultBytes(const std::string& text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c & 0xE0) == 0xC0 && i + 1 < text.size() && c <= 0xC3) {
      out->push_back(static_cast<char>(((c & 0x1F) << 6) | (static_cast<uint8_t>(text[++i]) & 0x3F)));
    } else {
      return Status::InvalidSpec("a bytes or fixed default may hold code points 0-255 only (\"\\u00ff\")");
    }
  }
  return Status::OK();
}

// The reader's default `value` for a value of `n`, in the binary encoding.
Status EncodeDefault(const Node* n, const nlohmann::json& value, const std::string& where, std::string* out) {
  auto wrong = [&](const char* want) {
    return Status::InvalidSpec(StrCat("the default of ", where, " is ", value.dump(), ", not ", want));
  };
  switch (n->type) {
    case Node::Type::kNull:
      if (!value.is_null()) return wrong("null");
      return Status::OK();
    case Node::Type::kBoolean:
      if (!value.is_boolean()) return wrong("a boolean");
      out->push_back(value.get<bool>() ? 1 : 0);
      return Status::OK();
    case Node::Type::kInt:
    case Node::Type::kLong:
      if (!value.is_number_integer()) return wrong("an integer");
      AppendAvroLong(value.get<int64_t>(), out);
      return Status::OK();
    case Node::Type::kFloat:
      if (!value.is_number()) return wrong("a number");
      AppendAvroFloat(value.get<float>(), out);
      return Status::OK();
    case Node::Type::kDouble:
      if (!value.is_number()) return wrong("a number");
      AppendAvroDouble(value.get<double>(), out);
      return Status::OK();
    case Node::Type::kString:
      if (!value.is_string()) return wrong("a string");
      AppendAvroBytes(value.get<std::string>(), out);
      return Status::OK();
    case Node::Type::kBytes:
    case Node::Type::kFixed: {
      if (!value.is_string()) return wrong("a string of bytes");
      std::string bytes;
      SFB_RETURN_IF_ERROR(DefaultBytes(value.get<std::string>(), &bytes).WithContext(where));
      if (n->type == Node::Type::kFixed) {
        if (bytes.size() != n->size) return wrong(StrCat(std::to_string(n->size), " bytes").c_str());
        out->append(bytes);
      } else {
        AppendAvroBytes(bytes, out);
      }
      return Status::OK();
    }
    case Node::Type::kEnum: {
      if (!value.is_string()) return wrong("a symbol");
      auto it = std::find(n->symbols.begin(), n->symbols.end(), value.get<std::string>());
      if (it == n->symbols.end()) return wrong(StrCat("one of the symbols of ", n->name).c_str());
      AppendAvroLong(it - n->symbols.begin(), out);
      return Status::OK();
    }
    case Node::Type::kArray:
      if (!value.is_array()) return wrong("an array");
      if (!value.empty()) {
        AppendAvroLong(static_cast<int64_t>(value.size()), out);
        for (const auto& item : value) SFB_RETURN_IF_ERROR(EncodeDefault(n->children[0], item, where, out));
      }
      out->push_back(0);
      return Status::OK();
    case Node::Type::kMap:
      if (!value.is_object()) return wrong("an object");
      if (!value.empty()) {
        AppendAvroLong(static_cast<int64_t>(value.size()), out);
        for (const auto& [key, item] : value.items()) {
          AppendAvroBytes(key, out);
          SFB_RETURN_IF_ERROR(EncodeDefault(n->children[0], item, where, out));
        }
      }
      out->push_back(0);
      return Status::OK();
    case Node::Type::kUnion: {
      // The specification's default is of the first branch; one of a later branch is taken too.
      Status first;
      for (size_t b = 0; b < n->children.size(); ++b) {
        std::string encoded;
        AppendAvroLong(static_cast<int64_t>(b), &encoded);
        Status st = EncodeDefault(n->children[b], value, where, &encoded);
        if (st.ok()) {
          out->append(encoded);
          return Status::OK();
        }
        if (b == 0) first = st;
      }
      return n->children.empty() ? wrong("a value of an empty union") : first;
    }
    case Node::Type::kRecord: {
      if (!value.is_object()) return wrong("an object");
      for (size_t i = 0; i < n->children.size(); ++i) {
        const std::string field_where = StrCat(where, ".", n->field_names[i]);
        if (value.contains(n->field_names[i])) {
          SFB_RETURN_IF_ERROR(EncodeDefault(n->children[i], value[n->field_names[i]], field_where, out));
        } else if (n->field_defaults[i]) {
          SFB_RETURN_IF_ERROR(EncodeDefault(n->children[i], *n->field_defaults[i], field_where, out));
        } else {
          return Status::InvalidSpec(StrCat("the default of ", where, " has no value for field ",
                                            n->field_names[i], ", which has no default of its own"));
        }
      }
      return Status::OK();
    }
  }
  return Status::Internal("unknown Avro type");
}

const char* TypeName(const Node* n) {
  switch (n->type) {
    case Node::Type::kNull: return "null";
    case Node::Type::kBoolean: return "boolean";
    case Node::Type::kInt: return "int";
    case Node::Type::kLong: return "long";
    case Node::Type::kFloat: return "float";
    case Node::Type::kDouble: return "double";
    case Node::Type::kBytes: return "bytes";
    case Node::Type::kString: return "string";
    case Node::Type::kRecord: return "record";
    case Node::Type::kEnum: return "enum";
    case Node::Type::kArray: return "array";
    case Node::Type::kMap: return "map";
    case Node::Type::kUnion: return "union";
    case Node::Type::kFixed: return "fixed";
  }
  return "?";
}

std::string Describe(const Node* n) {
  return IsNamed(n) ? StrCat(TypeName(n), " ", n->name) : std::string(TypeName(n));
}

class Compiler {
 public:
  explicit Compiler(std::vector<std::unique_ptr<Step>>* steps) : steps_(steps) {}

  // The step reading writer values of `w` as reader values of `r`; InvalidSpec when none can be.
  Result<const Step*> Compile(const Node* w, const Node* r, const std::string& where) {
    if (auto it = memo_.find({w, r}); it != memo_.end()) {
      if (it->second->failed) return Status::InvalidSpec(it->second->error);
      return static_cast<const Step*>(it->second);
    }
    steps_->push_back(std::make_unique<Step>());
    Step* s = steps_->back().get();
    s->writer = w;
    s->reader = r;
    s->where = where;
    memo_[{w, r}] = s;  // before the children: recursive types reach this pair again
    Status built = Build(s);
    if (!built.ok()) {
      s->kind = Step::Kind::kUnresolvable;
      s->failed = true;
      s->error = built.message();
      return built;
    }
    return static_cast<const Step*>(s);
  }

 private:
  Status Mismatch(const Step* s) {
    return Status::InvalidSpec(StrCat(s->where, ": the writer's ", Describe(s->writer), " cannot be read as the reader's ",
                                      Describe(s->reader)));
  }

  Status Build(Step* s) {
    const Node* w = s->writer;
    const Node* r = s->reader;
    using T = Node::Type;
    using K = Step::Kind;
    if (w->type == T::kUnion) {
      s->kind = K::kWriterUnion;
      for (const Node* branch : w->children) {
        Result<const Step*> step = Compile(branch, r, s->where);
        if (step.ok()) {
          s->branches.push_back(*step);
          continue;
        }
        steps_->push_back(std::make_unique<Step>());  // only datums of this branch fail
        steps_->back()->where = s->where;
        steps_->back()->error = step.status().message();
        s->branches.push_back(steps_->back().get());
      }
      return Status::OK();
    }
    if (r->type == T::kUnion) {
      s->kind = K::kToReaderBranch;
      for (int pass = 0; pass < 2; ++pass) {
        for (size_t b = 0; b < r->children.size(); ++b) {
          if (pass == 0 && !SameType(w, r->children[b])) continue;
          Result<const Step*> step = Compile(w, r->children[b], s->where);
          if (!step.ok()) {
            if (pass == 0) return step.status();
            continue;
          }
          s->reader_branch = static_cast<int64_t>(b);
          s->branch = *step;
          return Status::OK();
        }
      }
      return Status::InvalidSpec(StrCat(s->where, ": the writer's ", Describe(w),
                                        " matches no branch of the reader's union"));
    }
    switch (r->type) {
      case T::kNull: s->kind = K::kNull; return w->type == T::kNull ? Status::OK() : Mismatch(s);
      case T::kBoolean: s->kind = K::kBoolean; return w->type == T::kBoolean ? Status::OK() : Mismatch(s);
      case T::kInt: s->kind = K::kInt; return w->type == T::kInt ? Status::OK() : Mismatch(s);
      case T::kLong:
        s->kind = w->type == T::kInt ? K::kInt : K::kLong;
        return w->type == T::kInt || w->type == T::kLong ? Status::OK() : Mismatch(s);
      case T::kFloat:
        s->kind = w->type == T::kInt ? K::kIntToFloat : w->type == T::kLong ? K::kLongToFloat : K::kFloat;
        return w->type == T::kInt || w->type == T::kLong || w->type == T::kFloat ? Status::OK() : Mismatch(s);
      case T::kDouble:
        s->kind = w->type == T::kInt     ? K::kIntToDouble
                  : w->type == T::kLong  ? K::kLongToDouble
                  : w->type == T::kFloat ? K::kFloatToDouble
                                         : K::kDouble;
        return w->type == T::kInt || w->type == T::kLong || w->type == T::kFloat || w->type == T::kDouble
                   ? Status::OK()
                   : Mismatch(s);
      case T::kString:
      case T::kBytes:
        s->kind = K::kBytes;
        return w->type == T::kString || w->type == T::kBytes ? Status::OK() : Mismatch(s);
      case T::kFixed:
        s->kind = K::kFixed;
        s->size = r->size;
        if (w->type != T::kFixed || !NamesMatch(w, r)) return Mismatch(s);
        if (w->size != r->size) {
          return Status::InvalidSpec(StrCat(s->where, ": the writer's fixed ", w->name, " has ", std::to_string(w->size),
                                            " bytes, the reader's ", std::to_string(r->size)));
        }
        return Status::OK();
      case T::kEnum: {
        s->kind = K::kEnum;
        if (w->type != T::kEnum || !NamesMatch(w, r)) return Mismatch(s);
        int64_t fallback = -1;
        if (r->enum_default) {
          auto it = std::find(r->symbols.begin(), r->symbols.end(), *r->enum_default);
          if (it != r->symbols.end()) fallback = it - r->symbols.begin();
        }
        for (const std::string& symbol : w->symbols) {
          auto it = std::find(r->symbols.begin(), r->symbols.end(), symbol);
          s->symbols.push_back(it == r->symbols.end() ? fallback : it - r->symbols.begin());
        }
        return Status::OK();
      }
      case T::kArray:
      case T::kMap: {
        s->kind = r->type == T::kArray ? K::kArray : K::kMap;
        if (w->type != r->type) return Mismatch(s);
        SFB_ASSIGN_OR_RETURN(s->item, Compile(w->children[0], r->children[0], StrCat(s->where, "[]")));
        return Status::OK();
      }
      case T::kRecord:
        s->kind = K::kRecord;
        if (w->type != T::kRecord || !NamesMatch(w, r)) return Mismatch(s);
        return BuildRecord(s);
      case T::kUnion: break;  // above
    }
    return Status::Internal("unknown Avro type");
  }

  Status BuildRecord(Step* s) {
    const Node* w = s->writer;
    const Node* r = s->reader;
    const size_t n = r->children.size();
    s->defaults.assign(n, std::string());
    s->from_writer.assign(n, false);
    // The reader field each writer field fills: by name first, then by a reader field's alias.
    std::vector<int64_t> reader_of(w->children.size(), -1);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < w->children.size(); ++j) {
        if (reader_of[j] < 0 && w->field_names[j] == r->field_names[i]) reader_of[j] = static_cast<int64_t>(i);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (std::find(reader_of.begin(), reader_of.end(), static_cast<int64_t>(i)) != reader_of.end()) continue;
      for (size_t j = 0; j < w->children.size(); ++j) {
        const auto& aliases = r->field_aliases[i];
        if (reader_of[j] < 0 && std::find(aliases.begin(), aliases.end(), w->field_names[j]) != aliases.end()) {
          reader_of[j] = static_cast<int64_t>(i);
          break;
        }
      }
    }
    int64_t last = -1;
    for (size_t j = 0; j < w->children.size(); ++j) {
      Step::Field field{w->children[j], nullptr, 0};
      if (reader_of[j] >= 0) {
        const auto i = static_cast<size_t>(reader_of[j]);
        SFB_ASSIGN_OR_RETURN(field.step, Compile(w->children[j], r->children[i], StrCat(s->where, ".", r->field_names[i])));
        field.reader_index = i;
        s->from_writer[i] = true;
        if (reader_of[j] < last) s->in_order = false;
        last = reader_of[j];
      }
      s->fields.push_back(field);
    }
    for (size_t i = 0; i < n; ++i) {
      if (s->from_writer[i]) continue;
      const std::string field_where = StrCat(s->where, ".", r->field_names[i]);
      if (!r->field_defaults[i]) {
        return Status::InvalidSpec(StrCat("the reader's field ", field_where, " has no default and the writer's record ",
                                          w->name, " has no such field"));
      }
      SFB_RETURN_IF_ERROR(EncodeDefault(r->children[i], *r->field_defaults[i], field_where, &s->defaults[i]));
    }
    return Status::OK();
  }

  std::vector<std::unique_ptr<Step>>* steps_;
  std::map<std::pair<const Node*, const Node*>, Step*> memo_;
};

Status Bad(const Step* s, const std::string& what) { return Status::BadRecord(StrCat("Avro value ", s->where, ": ", what)); }

Status At(Status st, const Step* s) {
  if (st.ok()) return st;
  return Bad(s, st.message());
}

Status Run(const Step* s, AvroBinaryInput* in, std::string* out, int depth, int64_t* empty_items) {
  using K = Step::Kind;
  if (depth > kMaxAvroDepth) return Bad(s, "nested deeper than a datum may be");
  int64_t v = 0;
  std::string_view bytes;
  switch (s->kind) {
    case K::kNull: return Status::OK();
    case K::kBoolean:
      SFB_RETURN_IF_ERROR(At(in->ReadFixed(1, &bytes), s));
      out->append(bytes);
      return Status::OK();
    case K::kInt:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      if (v < INT32_MIN || v > INT32_MAX) return Bad(s, StrCat("the int ", std::to_string(v), " is out of range"));
      AppendAvroLong(v, out);
      return Status::OK();
    case K::kLong:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      AppendAvroLong(v, out);
      return Status::OK();
    case K::kIntToFloat:
    case K::kLongToFloat:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      AppendAvroFloat(static_cast<float>(v), out);
      return Status::OK();
    case K::kIntToDouble:
    case K::kLongToDouble:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      AppendAvroDouble(static_cast<double>(v), out);
      return Status::OK();
    case K::kFloat:
      SFB_RETURN_IF_ERROR(At(in->ReadFixed(4, &bytes), s));
      out->append(bytes);
      return Status::OK();
    case K::kDouble:
      SFB_RETURN_IF_ERROR(At(in->ReadFixed(8, &bytes), s));
      out->append(bytes);
      return Status::OK();
    case K::kFloatToDouble: {
      SFB_RETURN_IF_ERROR(At(in->ReadFixed(4, &bytes), s));
      uint32_t bits = 0;
      for (int i = 0; i < 4; ++i) bits |= uint32_t{static_cast<uint8_t>(bytes[static_cast<size_t>(i)])} << (8 * i);
      float f = 0;
      std::memcpy(&f, &bits, sizeof(f));
      AppendAvroDouble(static_cast<double>(f), out);
      return Status::OK();
    }
    case K::kBytes:
      SFB_RETURN_IF_ERROR(At(in->ReadBytes(&bytes), s));
      AppendAvroBytes(bytes, out);
      return Status::OK();
    case K::kFixed:
      SFB_RETURN_IF_ERROR(At(in->ReadFixed(s->size, &bytes), s));
      out->append(bytes);
      return Status::OK();
    case K::kEnum: {
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      if (v < 0 || static_cast<uint64_t>(v) >= s->symbols.size()) return Bad(s, "the enum symbol is out of range");
      const int64_t symbol = s->symbols[static_cast<size_t>(v)];
      if (symbol < 0) {
        return Bad(s, StrCat("the writer's symbol ", s->writer->symbols[static_cast<size_t>(v)],
                             " is not one of the reader's enum ", s->reader->name, ", which has no default"));
      }
      AppendAvroLong(symbol, out);
      return Status::OK();
    }
    case K::kRecord: {
      std::string where;
      if (s->in_order) {
        size_t next = 0;  // the reader field to write next
        for (const Step::Field& f : s->fields) {
          if (!f.step) {
            where = s->where;
            SFB_RETURN_IF_ERROR(SkipAvroValue(f.writer, in, &where, depth + 1));
            continue;
          }
          for (; next < f.reader_index; ++next) out->append(s->defaults[next]);
          SFB_RETURN_IF_ERROR(Run(f.step, in, out, depth + 1, empty_items));
          next = f.reader_index + 1;
        }
        for (; next < s->defaults.size(); ++next) out->append(s->defaults[next]);
        return Status::OK();
      }
      std::vector<std::string> parts(s->defaults.size());
      for (const Step::Field& f : s->fields) {
        if (!f.step) {
          where = s->where;
          SFB_RETURN_IF_ERROR(SkipAvroValue(f.writer, in, &where, depth + 1));
          continue;
        }
        SFB_RETURN_IF_ERROR(Run(f.step, in, &parts[f.reader_index], depth + 1, empty_items));
      }
      for (size_t i = 0; i < parts.size(); ++i) out->append(s->from_writer[i] ? parts[i] : s->defaults[i]);
      return Status::OK();
    }
    case K::kArray:
    case K::kMap:
      for (;;) {
        int64_t count = 0;
        SFB_RETURN_IF_ERROR(ReadAvroBlockCount(s->writer->children[0], in, s->where, empty_items, &count));
        AppendAvroLong(count, out);
        if (count == 0) return Status::OK();
        for (int64_t i = 0; i < count; ++i) {
          if (s->kind == K::kMap) {
            SFB_RETURN_IF_ERROR(At(in->ReadBytes(&bytes), s));
            AppendAvroBytes(bytes, out);
          }
          SFB_RETURN_IF_ERROR(Run(s->item, in, out, depth + 1, empty_items));
        }
      }
    case K::kWriterUnion:
      SFB_RETURN_IF_ERROR(At(in->ReadLong(&v), s));
      if (v < 0 || static_cast<uint64_t>(v) >= s->branches.size()) return Bad(s, "the union branch is out of range");
      return Run(s->branches[static_cast<size_t>(v)], in, out, depth + 1, empty_items);
    case K::kToReaderBranch:
      AppendAvroLong(s->reader_branch, out);
      return Run(s->branch, in, out, depth + 1, empty_items);
    case K::kUnresolvable: return Status::BadRecord(s->error);
  }
  return Status::Internal("unknown resolution step");
}

}  // namespace

AvroResolution::~AvroResolution() = default;

Result<std::unique_ptr<const AvroResolution>> AvroResolution::Compile(std::shared_ptr<const AvroSchema> writer,
                                                                      std::shared_ptr<const AvroSchema> reader) {
  std::unique_ptr<AvroResolution> r(new AvroResolution());
  r->writer_ = std::move(writer);
  r->reader_ = std::move(reader);
  Compiler compiler(&r->steps_);
  Result<const Step*> root = compiler.Compile(r->writer_->root(), r->reader_->root(), r->reader_->name());
  if (!root.ok()) {
    return Status::InvalidSpec(StrCat("the writer schema ", r->writer_->name(), " cannot be read with the reader schema ",
                                      r->reader_->name(), ": ", root.status().message()));
  }
  r->root_ = *root;
  return std::unique_ptr<const AvroResolution>(std::move(r));
}

Status AvroResolution::Resolve(std::string_view bytes, std::string* out) const {
  AvroBinaryInput in(bytes);
  int64_t empty_items = 0;
  SFB_RETURN_IF_ERROR(Run(root_, &in, out, 0, &empty_items));
  if (in.left() > 0) {
    return Status::BadRecord(StrCat(std::to_string(in.left()), " bytes are left over after an Avro datum of ",
                                    writer_->name()));
  }
  return Status::OK();
}

}  // namespace sfb
