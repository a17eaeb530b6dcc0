// The snappy framing format as Flink's snapshot compression writes it: streams built here chunk by chunk
// (with libsnappy for compressed blocks) decode to their bytes; damaged ones fail naming the chunk.
// savepoint/base_savepoint_test.cc decodes the real compressed base Flink wrote.

#include "savepoint/snappy_framed.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <string>

#include "common/crc32c.h"

namespace sfb {
namespace {

const std::string kIdentifier("\xff\x06\0\0sNaPpY", 10);

void AppendLittleEndian(std::string* out, uint32_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// One data chunk holding `bytes`, compressed with snappy when `compress`.
std::string DataChunk(const std::string& bytes, bool compress) {
  std::string body;
  AppendLittleEndian(&body, MaskCrc32c(Crc32c(bytes)), 4);
  if (compress) {
    std::string c;
    snappy::Compress(bytes.data(), bytes.size(), &c);
    body += c;
  } else {
    body += bytes;
  }
  std::string chunk(1, compress ? '\x00' : '\x01');
  AppendLittleEndian(&chunk, static_cast<uint32_t>(body.size()), 3);
  return chunk + body;
}

std::string Repeated(const std::string& piece, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += piece;
  return s;
}

TEST(SnappyFramed, DecodesUncompressedAndCompressedChunksUpToTheNextStream) {
  const std::string a = "\x00\x07 the first block";
  const std::string b = Repeated("user-42 ", 8000);  // 64000 bytes: compresses well
  std::string data = "prefix";
  const size_t start = data.size();
  data += kIdentifier + DataChunk(a, false) + std::string("\xfe\x02\0\0zz", 6) + DataChunk(b, true);
  data += kIdentifier + DataChunk("next key group", false);
  std::string out;
  ASSERT_TRUE(DecodeSnappyFramedStream(data, start, &out).ok());
  EXPECT_EQ(out, a + b);
  ASSERT_LT(data.find(kIdentifier, start + 1), data.size());
  out.clear();
  ASSERT_TRUE(DecodeSnappyFramedStream(data, data.find(kIdentifier, start + 1), &out).ok());
  EXPECT_EQ(out, "next key group");
}

TEST(SnappyFramed, AFlippedCrcByteIsCorruption) {
  std::string data = kIdentifier + DataChunk("some state bytes", false);
  data[10 + 4 + 2] = static_cast<char>(data[10 + 4 + 2] ^ 0x40);
  std::string out;
  Status st = DecodeSnappyFramedStream(data, 0, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
  EXPECT_NE(st.ToString().find("CRC mismatch"), std::string::npos) << st.ToString();
  EXPECT_NE(st.ToString().find("chunk at offset 10"), std::string::npos) << st.ToString();
}

TEST(SnappyFramed, ACorruptCompressedBlockFailsItsCrcOrDecompression) {
  std::string data = kIdentifier + DataChunk(Repeated("abcdefgh", 1000), true);
  data[data.size() - 3] = static_cast<char>(data[data.size() - 3] ^ 0x55);
  std::string out;
  Status st = DecodeSnappyFramedStream(data, 0, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Status::Code::kCorruption);
}

TEST(SnappyFramed, TruncatedChunksAreCorruption) {
  const std::string whole = kIdentifier + DataChunk("0123456789abcdef", false);
  for (size_t cut : {whole.size() - 1, size_t{10} + 6, size_t{10} + 2, size_t{5}}) {
    std::string out;
    Status st = DecodeSnappyFramedStream(whole.substr(0, cut), 0, &out);
    ASSERT_FALSE(st.ok()) << cut;
    EXPECT_EQ(st.code(), Status::Code::kCorruption) << cut;
    EXPECT_NE(st.ToString().find("truncated"), std::string::npos) << cut << ": " << st.ToString();
  }
}

TEST(SnappyFramed, RefusesAMissingIdentifierAndReservedChunks) {
  std::string out;
  EXPECT_FALSE(DecodeSnappyFramedStream(DataChunk("x", false), 0, &out).ok());
  Status st = DecodeSnappyFramedStream(kIdentifier + std::string("\x05\x01\0\0q", 5), 0, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("reserved"), std::string::npos) << st.ToString();
  EXPECT_FALSE(DecodeSnappyFramedStream("", 0, &out).ok());
}

TEST(SnappyFramed, RefusesBlocksOverSixtyFourKiB) {
  std::string out;
  EXPECT_FALSE(DecodeSnappyFramedStream(kIdentifier + DataChunk(std::string(65537, 'a'), true), 0, &out).ok());
  EXPECT_FALSE(DecodeSnappyFramedStream(kIdentifier + DataChunk(std::string(65537, 'a'), false), 0, &out).ok());
  EXPECT_TRUE(DecodeSnappyFramedStream(kIdentifier + DataChunk(std::string(65536, 'a'), true), 0, &out).ok());
}

}  // namespace
}  // namespace sfb
