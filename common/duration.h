// Durations as written in job specs: "90s", "15m", "7d", "1h30m", "500ms", or a plain number of milliseconds.

#ifndef SFB_COMMON_DURATION_H_
#define SFB_COMMON_DURATION_H_

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace sfb {

Result<int64_t> ParseDurationMillis(std::string_view text);

}  // namespace sfb

#endif  // SFB_COMMON_DURATION_H_
