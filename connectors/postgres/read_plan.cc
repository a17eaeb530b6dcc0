#include "connectors/postgres/read_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/str_cat.h"

namespace sfb {

std::string ReadPlan::ChunkSql(size_t i) const {
  if (!query.empty()) return query;
  std::string sql = "SELECT ";
  for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + columns[c];
  if (!position_column.empty()) sql += (columns.empty() ? "" : ", ") + position_column;
  sql += " FROM " + relation;
  if (!chunks[i].where.empty()) sql += " WHERE " + chunks[i].where;
  if (!order_by.empty()) sql += " ORDER BY " + order_by;
  return sql;
}

uint64_t ChunkCount(double estimated_rows, uint64_t chunk_rows, uint64_t limit) {
  if (!(estimated_rows > 0) || chunk_rows == 0) return 1;
  const double n = std::ceil(estimated_rows / static_cast<double>(chunk_rows));
  return std::clamp<uint64_t>(n > 1e12 ? limit : static_cast<uint64_t>(n), 1, std::max<uint64_t>(limit, 1));
}

std::vector<Chunk> CtidChunks(uint64_t pages, uint64_t n) {
  n = std::clamp<uint64_t>(n, 1, std::max<uint64_t>(pages, 1));
  if (n == 1) return {Chunk{"", "all pages"}};
  const uint64_t per = (pages + n - 1) / n;
  std::vector<Chunk> out;
  for (uint64_t start = 0; start < pages; start += per) {
    const uint64_t end = start + per;
    const std::string lo = "ctid >= '(" + std::to_string(start) + ",0)'::tid";
    const std::string hi = "ctid < '(" + std::to_string(end) + ",0)'::tid";
    if (start == 0) {
      out.push_back(Chunk{hi, "pages 0-" + std::to_string(end - 1)});
    } else if (end >= pages) {
      out.push_back(Chunk{lo, "pages " + std::to_string(start) + "-end"});
    } else {
      out.push_back(Chunk{lo + " AND " + hi, "pages " + std::to_string(start) + "-" + std::to_string(end - 1)});
    }
  }
  return out;
}

std::vector<Chunk> IntKeyChunks(const std::string& quoted_key, const std::string& key_label, int64_t min,
                                int64_t max, uint64_t n) {
  if (max < min) return {Chunk{"", "all rows"}};
  // Unsigned arithmetic: max - min may not fit an int64.
  const uint64_t diff = static_cast<uint64_t>(max) - static_cast<uint64_t>(min);  // span - 1
  n = std::max<uint64_t>(n, 1);
  if (diff < n - 1) n = diff + 1;
  const uint64_t width = diff / n + 1;  // n * width > diff: n ranges cover min..max
  std::vector<std::string> starts;  // chunk k covers [starts[k], starts[k + 1])
  for (uint64_t i = 0; i < n && i <= diff / width; ++i) {
    starts.push_back(std::to_string(static_cast<int64_t>(static_cast<uint64_t>(min) + i * width)));
  }
  if (starts.size() == 1) return {Chunk{"", "all rows"}};
  std::vector<Chunk> out;
  for (size_t k = 0; k < starts.size(); ++k) {
    const bool first = k == 0, last = k + 1 == starts.size();
    Chunk c;
    if (!first) c.where = quoted_key + " >= " + starts[k];
    if (!last) c.where += (first ? "" : " AND ") + quoted_key + " < " + starts[k + 1];
    if (first) c.label = key_label + " < " + starts[k + 1];
    else if (last) c.label = key_label + " >= " + starts[k];
    else c.label = starts[k] + " <= " + key_label + " < " + starts[k + 1];
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

std::string UuidBound(uint64_t prefix) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-0000-000000000000", static_cast<unsigned>(prefix >> 32),
                static_cast<unsigned>((prefix >> 16) & 0xFFFF), static_cast<unsigned>(prefix & 0xFFFF));
  return buf;
}

}  // namespace

std::vector<Chunk> UuidKeyChunks(const std::string& quoted_key, const std::string& key_label, uint64_t n) {
  n = std::clamp<uint64_t>(n, 1, 1u << 20);
  if (n == 1) return {Chunk{"", "all rows"}};
  std::vector<Chunk> out;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t step = ~uint64_t{0} / n;
    const uint64_t lo = i * step, hi = (i + 1) * step;
    const std::string lower = quoted_key + " >= '" + UuidBound(lo) + "'::uuid";
    const std::string upper = quoted_key + " < '" + UuidBound(hi) + "'::uuid";
    if (i == 0) out.push_back(Chunk{upper, key_label + " < " + UuidBound(hi)});
    else if (i + 1 == n) out.push_back(Chunk{lower, key_label + " >= " + UuidBound(lo)});
    else out.push_back(Chunk{lower + " AND " + upper, UuidBound(lo) + " <= " + key_label + " < " + UuidBound(hi)});
  }
  return out;
}

uint64_t IntKeyPosition(int64_t key) { return static_cast<uint64_t>(key) ^ (uint64_t{1} << 63); }
int64_t IntKeyFromPosition(uint64_t position) { return static_cast<int64_t>(position ^ (uint64_t{1} << 63)); }

bool ParseCtid(std::string_view t, uint64_t* position) {
  if (t.size() < 5 || t.front() != '(' || t.back() != ')') return false;
  uint64_t block = 0, offset = 0;
  size_t i = 1;
  size_t digits = 0;
  for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
    block = block * 10 + static_cast<uint64_t>(t[i] - '0');
  }
  if (digits == 0 || digits > 10 || i >= t.size() || t[i] != ',') return false;
  digits = 0;
  for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
    offset = offset * 10 + static_cast<uint64_t>(t[i] - '0');
  }
  if (digits == 0 || digits > 5 || i + 1 != t.size() || block > 0xFFFFFFFFu || offset > 0xFFFF) return false;
  *position = block << 16 | offset;
  return true;
}

std::string CtidText(uint64_t position) {
  return StrCat("(", std::to_string(position >> 16), ",", std::to_string(position & 0xFFFF), ")");
}

}  // namespace sfb
