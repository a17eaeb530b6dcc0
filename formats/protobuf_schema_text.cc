#include "formats/protobuf_schema_text.h"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>

#include "common/str_cat.h"

namespace sfb {
namespace {

namespace pb = google::protobuf;

// Keeps the first error the tokenizer or parser reports (the later ones follow from it).
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (!message_.empty()) return;
    message_ = StrCat("line ", std::to_string(line + 1), ", column ", std::to_string(column + 1), ": ", message);
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;  // standard and URL-safe alphabets
  if (c == '/' || c == '_') return 63;
  return -1;
}

// The bytes `text` spells in base64 (padding optional, line breaks ignored); false when it is not base64.
bool DecodeBase64(std::string_view text, std::string* out) {
  uint32_t bits = 0;
  int held = 0;
  bool padded = false;
  bool any = false;
  for (char c : text) {
    if (c == '\n' || c == '\r') continue;
    if (c == '=') {
      padded = true;
      continue;
    }
    const int v = Base64Value(c);
    if (v < 0 || padded) return false;
    any = true;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out->push_back(static_cast<char>((bits >> held) & 0xff));
    }
  }
  return any && held < 6;
}

}  // namespace

Result<pb::FileDescriptorProto> ParseProtobufSchema(std::string_view schema, const std::string& file_name) {
  pb::FileDescriptorProto file;
  std::string bytes;
  if (DecodeBase64(schema, &bytes)) {
    if (bytes.size() > INT_MAX || !file.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return Status::InvalidSpec(
          StrCat("the Protobuf schema ", file_name, " is base64 but not a serialized FileDescriptorProto"));
    }
    file.set_name(file_name);
    return file;
  }
  pb::io::ArrayInputStream input(schema.data(), static_cast<int>(std::min<size_t>(schema.size(), INT_MAX)));
  FirstError errors;
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.Parse(&tokenizer, &file) || !errors.message().empty()) {
    return Status::InvalidSpec(StrCat("the Protobuf schema ", file_name, " does not parse: ",
                                      errors.message().empty() ? std::string("a syntax error") : errors.message()));
  }
  file.set_name(file_name);
  return file;
}

}  // namespace sfb
