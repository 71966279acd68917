// Copyright 2026 The bouncekit authors.
//
// A small Parquet reader for flat files of strings and integers: the columns
// bounce histories and delivery logs are made of. It decodes a column chunk
// straight into the layouts the engine reads (Arrow string views pointing into
// the decompressed pages, integer arrays, dictionary indices), without the
// per-value string copies of a general reader.
//
// What it reads: flat schemas (no nesting, no repeated fields), required or
// optional columns of BYTE_ARRAY, INT32 or INT64; PLAIN and dictionary
// (PLAIN_DICTIONARY / RLE_DICTIONARY) encodings; data pages v1 and v2;
// UNCOMPRESSED, SNAPPY, GZIP and ZSTD. Anything else is refused with
// absl::StatusCode::kUnimplemented so that callers can fall back to a general
// reader; a damaged file gives kInvalidArgument / kDataLoss naming the row
// group, column and byte offset. Nothing here throws.

#ifndef BOUNCEKIT_PARQUET_H_
#define BOUNCEKIT_PARQUET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bouncekit::parquet {

enum class PhysicalType : int8_t {
  kBoolean = 0, kInt32 = 1, kInt64 = 2, kInt96 = 3, kFloat = 4, kDouble = 5,
  kByteArray = 6, kFixedLenByteArray = 7
};

struct ColumnInfo {
  std::string name;
  PhysicalType type = PhysicalType::kByteArray;
  bool optional = false;
  int32_t converted_type = -1;  // Parquet ConvertedType, -1 when absent
  int32_t logical_type = 0;     // field id of the LogicalType union member, 0 when absent
  int32_t int_bits = 0;         // INT_8/16/32/64 (or logical Int) width when given
  bool is_signed = true;        // false for unsigned integer annotations
};

struct ChunkInfo {
  int64_t start = 0;        // first page (dictionary page when there is one)
  int64_t length = 0;       // total_compressed_size
  int64_t num_values = 0;
  int32_t codec = 0;        // Parquet CompressionCodec
};

struct RowGroupInfo {
  int64_t num_rows = 0;
  std::vector<ChunkInfo> chunks;  // one per column, in schema order
};

struct FileInfo {
  int64_t num_rows = 0;
  std::vector<ColumnInfo> columns;
  std::vector<RowGroupInfo> row_groups;
  std::string created_by;
};

// Parses the footer of a whole Parquet file held in memory.
absl::StatusOr<FileInfo> ReadFileInfo(absl::string_view file);
// The footer's length from the file's last 8 bytes (0 when they are not a
// Parquet ending); then the footer from the file's last `tail.size()` bytes
// (at least 8 + that length) of a file of `file_size` bytes.
uint32_t FooterLength(absl::string_view last8);
absl::StatusOr<FileInfo> ReadFileInfoTail(absl::string_view tail, uint64_t file_size);

class BufferPool;

// A block of memory from a BufferPool (contents undefined until written).
// Destroying it hands the memory back to its pool for the next column chunk:
// streaming a file then reuses the same pages instead of faulting fresh ones
// in for every row group.
class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&& o) noexcept { *this = std::move(o); }
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { Release(); }

  char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  template <typename T>
  T* as() const { return reinterpret_cast<T*>(data_); }

 private:
  friend class BufferPool;
  void Release();
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  std::shared_ptr<struct PoolState> pool_;
};

// Recycles large buffers between column chunks (thread-safe). Keeps as much
// returned memory as was ever handed out at once (what the next row groups
// of a stream will ask for again), at least `max_free_bytes` and at most four
// times that; the rest goes back to the allocator.
class BufferPool {
 public:
  explicit BufferPool(size_t max_free_bytes = size_t{64} << 20);
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  Buffer Get(size_t size);

  struct Stats {
    int64_t allocated;  // buffers made
    int64_t reused;     // buffers handed out again
    size_t free_bytes;  // kept for reuse now
    size_t peak_bytes;  // the most ever handed out at once (requests that failed included)
  };
  Stats stats() const;

 private:
  std::shared_ptr<struct PoolState> state_;
};

// One decoded column chunk. Buffers are owned here; views point into them.
struct Column {
  enum class Kind : uint8_t { kStringViews, kStringDictionary, kInt32, kInt64 };
  Kind kind = Kind::kStringViews;
  int64_t length = 0;
  int64_t null_count = 0;
  Buffer validity;  // Arrow bitmap; empty when the column is required
  // kStringViews: 16-byte Arrow binary views over `buffers`.
  Buffer views;
  std::vector<Buffer> buffers;
  // kStringDictionary: int32 indices (0 where null) into the dictionary,
  // given as Arrow utf8 offsets + data. As in Arrow, only a valid row's index
  // is sure to be inside the dictionary: a chunk whose rows are all null has
  // an empty one (dict_offsets = {0}).
  Buffer indices;
  std::vector<int32_t> dict_offsets;
  std::string dict_data;
  // kInt32 / kInt64 (0 where null).
  Buffer values;
};

// Decodes column `column` of row group `row_group`. With `prefer_dictionary`
// a string chunk whose data pages are all dictionary-encoded comes back as
// kStringDictionary (otherwise, and for mixed chunks, as kStringViews).
// Memory comes from `pool` (a private one when null).
absl::StatusOr<Column> ReadColumn(absl::string_view file, const FileInfo& info, int row_group,
                                  int column, bool prefer_dictionary = false,
                                  BufferPool* pool = nullptr);

// Like ReadColumn, from the chunk's own bytes (file offsets
// [start, start + length) of its ChunkInfo), e.g. read with pread.
absl::StatusOr<Column> ReadColumnChunk(absl::string_view chunk, const FileInfo& info, int row_group,
                                       int column, bool prefer_dictionary = false,
                                       BufferPool* pool = nullptr);

}  // namespace bouncekit::parquet

#endif  // BOUNCEKIT_PARQUET_H_
