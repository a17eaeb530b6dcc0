#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace sfb {
namespace {

// Check values from RFC 3720 (iSCSI), appendix B.4, and the usual "123456789" check value.
TEST(Crc32c, KnownValues) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Crc32c, MaskRotatesAndAdds) {
  EXPECT_EQ(MaskCrc32c(0), 0xA282EAD8u);
  EXPECT_EQ(MaskCrc32c(1u << 15), 1u + 0xA282EAD8u);
  EXPECT_EQ(MaskCrc32c(1), (1u << 17) + 0xA282EAD8u);
}

}  // namespace
}  // namespace sfb
