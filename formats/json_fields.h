// FlattenJson: one JSON document -> record fields, in a single pass without building a document.
//
// The Kafka connector decodes every message of a topic, and the router checks every value of a
// json-codec state, so this is on the hot path; a general JSON
// library spends most of its time building a tree and strings that are thrown away. Here:
//   - an object's members become fields named prefix.member (nested objects: prefix.a.b) with their
//     JSON types: string -> text, integer -> int (an integer beyond int64 but within uint64 -> its
//     digits as text; beyond that -> double), other numbers -> double, true/false -> bool, null -> NULL;
//   - an array becomes one text field holding the array's JSON, whitespace outside strings removed;
//   - a document that is not an object is one field named prefix (arrays: their JSON text).
// Objects' own text is not emitted: the caller has the whole document.
//
// With a FieldSelection only the fields it selects are given, in the same order, and only the objects
// it names fields beneath are walked into; the rest of the document is still checked, so the same
// documents are accepted and rejected with the same messages either way.
//
// The document must be RFC 8259 JSON in UTF-8 (one value, nothing after it but whitespace); anything
// else is rejected with "parse error at byte N: ..." naming what was expected.

#ifndef SFB_FORMATS_JSON_FIELDS_H_
#define SFB_FORMATS_JSON_FIELDS_H_

#include <string>
#include <string_view>

#include "formats/field_selection.h"
#include "formats/field_sink.h"

namespace sfb {

// Adds the fields of `text` to `sink` under `prefix` (those `selection` selects, when not null), using
// `path` as scratch. On malformed input returns false and sets *error; fields added before the error
// are the caller's to discard.
bool FlattenJson(std::string_view text, std::string_view prefix, std::string* path, FieldSink* sink, std::string* error,
                 const FieldSelection* selection = nullptr);

// Whether `text` is such a document (the same rules), without keeping its fields; *error says why not.
bool IsJsonText(std::string_view text, std::string* error);

}  // namespace sfb

#endif  // SFB_FORMATS_JSON_FIELDS_H_
