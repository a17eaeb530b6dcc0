// StrCat joins pieces of text (anything a std::string_view can view) into one std::string, sized once.
//
//   StrCat("'", text, "' is not a duration")      StrCat("(", std::to_string(page), ",", std::to_string(row), ")")
//
// Why not `"literal" + std::string(x)`: that operator inserts the literal at the front of the temporary,
// one allocation per `+`; and GCC 12 at -O2/-O3 reports a false -Wrestrict overlap inside that insert
// (GCC bug 105651), which breaks -Werror builds. StrCat appends into one reserved buffer instead.
#ifndef SFB_COMMON_STR_CAT_H_
#define SFB_COMMON_STR_CAT_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sfb {

inline std::string StrCatViews(std::initializer_list<std::string_view> pieces) {
  size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string out;
  out.reserve(size);
  for (std::string_view piece : pieces) out.append(piece);
  return out;
}

template <typename... Pieces>
std::string StrCat(const Pieces&... pieces) {
  return StrCatViews({std::string_view(pieces)...});
}

}  // namespace sfb

#endif  // SFB_COMMON_STR_CAT_H_
