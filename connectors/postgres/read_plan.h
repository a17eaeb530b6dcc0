// ReadPlan: how a postgres source is read — the SQL of each chunk, and what a record's position is.
//
// Chunks. A table is cut into chunks that workers read independently, each with one
// `COPY (SELECT ...) TO STDOUT`:
//   ctid ranges   pages [a, b) of the heap (`ctid >= '(a,0)' AND ctid < '(b,0)'`, a TID range scan on
//                 PostgreSQL 14+): even chunks whatever the keys look like, and each page is read once.
//   key ranges    an integer primary key cut into equal ranges between its min and max, or a uuid
//                 primary key cut into equal ranges of the uuid space (index range scans, ordered).
//   whole         one chunk: views, queries, small tables.
// The first and last chunks are open-ended so no row can fall outside every chunk.
//
// Positions. A record's position must be a function of the data, never of the chunking or of the
// worker that read it, so that the savepoint does not depend on `workers` or --threads:
//   integer primary key   the key (order-preserving map of int64 to uint64): records in key order
//   ctid                  block << 16 | offset: records in physical order (tables without one)
//   ordinal               chunk << 40 | the row's index in the chunk: for queries and views (one
//                         chunk, the server's order) and uuid-keyed tables without ctid (key-ordered chunks)
// Each chunk's SELECT carries the position column last (the key or ctid) when it needs one.

#ifndef SFB_CONNECTORS_POSTGRES_READ_PLAN_H_
#define SFB_CONNECTORS_POSTGRES_READ_PLAN_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfb {

enum class PositionKind { kIntKey, kCtid, kOrdinal };

struct Chunk {
  std::string where;  // SQL condition; empty: every row
  std::string label;  // for messages and the plan: "pages 0-127", "1000 <= id < 2000"
};

struct ReadPlan {
  // Table sources: the quoted relation and columns. Query sources: `query` instead.
  std::string relation;
  std::vector<std::string> columns;  // quoted
  std::string query;
  PositionKind position = PositionKind::kOrdinal;
  std::string position_column;  // quoted key column or "ctid"; empty for ordinals
  std::string order_by;         // quoted key for key ranges: ordered output lets a chunk resume
  std::vector<Chunk> chunks;

  // The SELECT whose COPY reads chunk `i`.
  std::string ChunkSql(size_t i) const;
};

// How many chunks to cut `estimated_rows` into: about `chunk_rows` each, at least 1, at most `limit`.
uint64_t ChunkCount(double estimated_rows, uint64_t chunk_rows, uint64_t limit);
// `pages` heap pages in `n` ctid ranges.
std::vector<Chunk> CtidChunks(uint64_t pages, uint64_t n);
// Keys min..max in `n` ranges of equal width.
std::vector<Chunk> IntKeyChunks(const std::string& quoted_key, const std::string& key_label, int64_t min,
                                int64_t max, uint64_t n);
// The uuid space in `n` ranges of equal width (by the first 64 bits).
std::vector<Chunk> UuidKeyChunks(const std::string& quoted_key, const std::string& key_label, uint64_t n);

uint64_t IntKeyPosition(int64_t key);
int64_t IntKeyFromPosition(uint64_t position);
// "(12,5)" -> 12 << 16 | 5
bool ParseCtid(std::string_view text, uint64_t* position);
std::string CtidText(uint64_t position);

}  // namespace sfb

#endif  // SFB_CONNECTORS_POSTGRES_READ_PLAN_H_
