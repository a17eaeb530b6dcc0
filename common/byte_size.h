// Sizes as written in job specs and on the command line: "64MB", "512KiB", "4GB", or a plain number of
// bytes. KB, MB and GB are binary (1024-based) like KiB, MiB and GiB: these are buffer sizes, not disks.

#ifndef SFB_COMMON_BYTE_SIZE_H_
#define SFB_COMMON_BYTE_SIZE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sfb {

// A positive size; InvalidSpec "... must be a size such as 64MB, not '...'" (naming `what`) otherwise.
Result<uint64_t> ParseByteSize(std::string_view text, const std::string& what);

// "1.5 GB", "640 MB", "12 KB", "100 B": for messages and plans.
std::string FormatByteSize(uint64_t bytes);

}  // namespace sfb

#endif  // SFB_COMMON_BYTE_SIZE_H_
