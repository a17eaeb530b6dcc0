// FieldSelection: the field names whatever reads a source's records can look up (its routes'
// templates), so a decoder can leave the others out instead of building values nobody reads.
//
// A name is a whole field name as decoders give it ("value.address.city", "offset"). A decoder
// walking nested data asks two questions of a path: is it selected (give it), and does a selected
// name lie beneath it ("value.address" for "value.address.city": walk into it). A path that is
// neither is skipped; a decoder still checks that what it skips is well formed, so a selection
// never turns a rejected record into an accepted one.
//
// Some names may be marked as only ever compared with NULL: for those, any non-NULL value will do in
// place of the real one (a decoder then gives a marker instead of copying a whole message's text).
//
// Immutable after construction; safe to share between reader threads.

#ifndef SFB_FORMATS_FIELD_SELECTION_H_
#define SFB_FORMATS_FIELD_SELECTION_H_

#include <string>
#include <string_view>
#include <vector>

namespace sfb {

class FieldSelection {
 public:
  // `only_null_tested`: names (among `names`) whose readers only compare them with NULL.
  explicit FieldSelection(std::vector<std::string> names, std::vector<std::string> only_null_tested = {});

  // Whether `path` is one of the names.
  bool Selects(std::string_view path) const;
  // Whether some name starts with `path` followed by '.'.
  bool SelectsBeneath(std::string_view path) const;
  // Selects(path) || SelectsBeneath(path): whether a decoder must look at `path` at all.
  bool Touches(std::string_view path) const { return Selects(path) || SelectsBeneath(path); }
  // Whether `path` is selected and only compared with NULL.
  bool OnlyNullTested(std::string_view path) const;

  const std::vector<std::string>& names() const { return names_; }  // sorted, unique

 private:
  std::vector<std::string> names_;
  std::vector<std::string> only_null_tested_;  // sorted, unique, each one of names_
  std::vector<std::string> parents_;  // every dotted proper prefix of a name ("value.address"), sorted, unique
};

}  // namespace sfb

#endif  // SFB_FORMATS_FIELD_SELECTION_H_
