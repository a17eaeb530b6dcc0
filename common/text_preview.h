// PreviewText: how a piece of input (a Kafka key or value, a line of a file, a value a database sent)
// is quoted inside a message.
//
// Contract:
//   - Well-formed UTF-8 is shown as it is: "Zoë" stays "Zoë", "中文" and "🚀" too. Users search their
//     data for what the message shows, so it must be their text, not a mangled copy.
//   - Control characters are escaped, so a message stays on one line whatever the input holds:
//     \n, \r and \t as such, other C0 characters and DEL as \xNN, C1 characters (U+0080..U+009F) as \uNNNN.
//   - A byte that is not part of well-formed UTF-8 is escaped as \xNN, so the message itself is always
//     valid UTF-8 (dead-letter lines and JSON summaries carry it as a JSON string).
//   - At most `max_bytes` bytes of the input are shown, cut before a character that would not fit
//     whole (never inside one), and "..." follows when anything was left out.
// Backslashes are not escaped: previews are read by people (a JSON value's escapes read as written),
// and are not meant to be parsed back.

#ifndef SFB_COMMON_TEXT_PREVIEW_H_
#define SFB_COMMON_TEXT_PREVIEW_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace sfb {

std::string PreviewText(std::string_view bytes, size_t max_bytes);

// The bytes of the one character at the start of `bytes` (one byte when they are not well-formed UTF-8,
// empty when `bytes` is): what a parser quotes when it names the character it stopped at.
std::string_view FirstCharacter(std::string_view bytes);

}  // namespace sfb

#endif  // SFB_COMMON_TEXT_PREVIEW_H_
