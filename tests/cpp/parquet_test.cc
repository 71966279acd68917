// Copyright 2026 The bouncekit authors.
//
// The Parquet reader on the small seed files of its fuzz target (pyarrow-
// written: every codec, data page v1 and v2, with and without dictionaries;
// 15 rows in row groups of 8, columns r (strings with nulls, one longer than
// a view's 12 inline bytes), n (int64 with nulls), c (int16 with nulls)),
// and on damaged copies of them. The wide differential tests against pyarrow
// are in tests/python/test_parquet_reader.py.

#include "bouncekit/parquet.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "internal/parquet_hybrid.h"
#include "test_files.h"

namespace bouncekit::parquet {
namespace {

using testing::Slurp;

std::string Seed(int i) {
  return Slurp(std::string(BOUNCEKIT_PARQUET_SEEDS) + "/seed_" + std::to_string(i) + ".parquet");
}

// The string in row i of a views column, or "<null>".
std::string ViewAt(const Column& c, int64_t i) {
  if (!c.validity.empty() && ((c.validity.as<uint8_t>()[i >> 3] >> (i & 7)) & 1) == 0) return "<null>";
  const uint8_t* v = c.views.as<uint8_t>() + 16 * i;
  int32_t len, buf, off;
  std::memcpy(&len, v, 4);
  if (len <= 12) return std::string(reinterpret_cast<const char*>(v + 4), len);
  std::memcpy(&buf, v + 8, 4);
  std::memcpy(&off, v + 12, 4);
  return std::string(c.buffers[buf].data() + off, len);
}

const char* const kStrings[] = {"a@b.example", "<null>", "xxxxxxxxxxxxxxxxxxxx", "", "a@b.example"};
const int64_t kInts[] = {1, -1, 3, 4, 5};           // -1: null
const int64_t kCodes[] = {550, 421, -1, 250, 452};  // -1: null

TEST(ParquetTest, EverySeedFileDecodesToItsRows) {
  for (int s = 0; s < 16; ++s) {
    SCOPED_TRACE(s);
    const std::string file = Seed(s);
    ASSERT_FALSE(file.empty());
    absl::StatusOr<FileInfo> info = ReadFileInfo(file);
    ASSERT_TRUE(info.ok()) << info.status();
    ASSERT_EQ(info->num_rows, 15);
    ASSERT_EQ(info->columns.size(), 3u);
    EXPECT_EQ(info->columns[0].type, PhysicalType::kByteArray);
    EXPECT_EQ(info->columns[1].type, PhysicalType::kInt64);
    EXPECT_EQ(info->columns[2].type, PhysicalType::kInt32);
    EXPECT_EQ(info->columns[2].int_bits, 16);
    EXPECT_TRUE(info->columns[0].optional);
    BufferPool pool;
    int64_t row0 = 0;
    int64_t nulls = 0;
    for (int g = 0; g < static_cast<int>(info->row_groups.size()); ++g) {
      const int64_t rows = info->row_groups[g].num_rows;
      absl::StatusOr<Column> r = ReadColumn(file, *info, g, 0, false, &pool);
      absl::StatusOr<Column> n = ReadColumn(file, *info, g, 1, false, &pool);
      absl::StatusOr<Column> c = ReadColumn(file, *info, g, 2, false, &pool);
      ASSERT_TRUE(r.ok() && n.ok() && c.ok()) << r.status() << n.status() << c.status();
      ASSERT_EQ(r->kind, Column::Kind::kStringViews);
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t k = (row0 + i) % 5;
        EXPECT_EQ(ViewAt(*r, i), kStrings[k]) << "row " << row0 + i;
        const bool n_valid = (n->validity.as<uint8_t>()[i >> 3] >> (i & 7)) & 1;
        EXPECT_EQ(n_valid ? n->values.as<int64_t>()[i] : -1, kInts[k]);
        const bool c_valid = (c->validity.as<uint8_t>()[i >> 3] >> (i & 7)) & 1;
        EXPECT_EQ(c_valid ? c->values.as<int32_t>()[i] : -1, kCodes[k]);
      }
      nulls += r->null_count + n->null_count + c->null_count;
      row0 += rows;
    }
    EXPECT_EQ(nulls, 9);  // three per column
  }
}

TEST(ParquetTest, DictionaryEncodedStringsAsADictionary) {
  // Seeds with an even number were written with dictionaries.
  const std::string file = Seed(0);
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  absl::StatusOr<Column> r = ReadColumn(file, *info, 0, 0, /*prefer_dictionary=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kind, Column::Kind::kStringDictionary);
  EXPECT_EQ(r->null_count, 2);  // rows 1 and 6 of the first 8
  const int32_t* idx = r->indices.as<int32_t>();
  auto entry = [&](int64_t i) {
    const int32_t k = idx[i];
    return r->dict_data.substr(r->dict_offsets[k], r->dict_offsets[k + 1] - r->dict_offsets[k]);
  };
  EXPECT_EQ(entry(0), "a@b.example");
  EXPECT_EQ(entry(2), "xxxxxxxxxxxxxxxxxxxx");
  EXPECT_EQ(entry(3), "");
  EXPECT_EQ(entry(4), entry(0));
}

TEST(ParquetTest, AChunkWhoseDictionaryFallsBackToPlainPagesIsViewsEitherWay) {
  // pyarrow-written, 300 rows of strings (a fifth null) whose dictionary page
  // overflows, so the chunk goes on in PLAIN pages. Asked for a dictionary,
  // the reader leaves the dictionary pages' views for later and builds them
  // once a PLAIN page shows the chunk cannot be one: the rows must be those
  // of the plain read, nulls included.
  const std::string file = Slurp(std::string(BOUNCEKIT_PARQUET_SEEDS) + "/dictionary-fallback-to-plain.parquet");
  ASSERT_FALSE(file.empty());
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  BufferPool pool;
  absl::StatusOr<Column> plain = ReadColumn(file, *info, 0, 0, /*prefer_dictionary=*/false, &pool);
  absl::StatusOr<Column> dict = ReadColumn(file, *info, 0, 0, /*prefer_dictionary=*/true, &pool);
  ASSERT_TRUE(plain.ok() && dict.ok()) << plain.status() << dict.status();
  ASSERT_EQ(dict->kind, Column::Kind::kStringViews);
  ASSERT_EQ(dict->length, 300);
  EXPECT_GT(plain->null_count, 30);
  EXPECT_EQ(dict->null_count, plain->null_count);
  int64_t nulls = 0;
  for (int64_t i = 0; i < 300; ++i) {
    EXPECT_EQ(ViewAt(*dict, i), ViewAt(*plain, i)) << "row " << i;
    nulls += ViewAt(*dict, i) == "<null>";
  }
  EXPECT_EQ(nulls, plain->null_count);
}

TEST(ParquetTest, AllNullRowGroupHasAnEmptyDictionary) {
  // pyarrow-written, dictionary-encoded: r is null in the 5 rows of row group
  // 0 (its dictionary page has no entry) and "a@b.example" in the 3 of row
  // group 1. Null rows hold index 0 even where the dictionary is empty; the
  // fuzz target once took that for an out-of-range index.
  const std::string file = Slurp(std::string(BOUNCEKIT_PARQUET_SEEDS) + "/all-null-row-group.parquet");
  ASSERT_FALSE(file.empty());
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->row_groups.size(), 2u);
  absl::StatusOr<Column> r = ReadColumn(file, *info, 0, 0, /*prefer_dictionary=*/true);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kind, Column::Kind::kStringDictionary);
  EXPECT_EQ(r->length, 5);
  EXPECT_EQ(r->null_count, 5);
  EXPECT_EQ(r->dict_offsets, std::vector<int32_t>{0});
  EXPECT_TRUE(r->dict_data.empty());
  ASSERT_EQ(r->indices.size(), 5u * 4);
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ((r->validity.as<uint8_t>()[0] >> i) & 1, 0) << i;
    EXPECT_EQ(r->indices.as<int32_t>()[i], 0) << i;
  }
  absl::StatusOr<Column> views = ReadColumn(file, *info, 0, 0, /*prefer_dictionary=*/false);
  ASSERT_TRUE(views.ok()) << views.status();
  EXPECT_EQ(views->null_count, 5);
  for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(ViewAt(*views, i), "<null>");
  absl::StatusOr<Column> g1 = ReadColumn(file, *info, 1, 0, /*prefer_dictionary=*/true);
  ASSERT_TRUE(g1.ok()) << g1.status();
  ASSERT_EQ(g1->kind, Column::Kind::kStringDictionary);
  EXPECT_EQ(g1->null_count, 0);
  EXPECT_EQ(g1->dict_data, "a@b.example");
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(g1->indices.as<int32_t>()[i], 0);
}

std::string Uleb(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

bool Hybrid(const std::string& data, int bit_width, int64_t count, std::vector<uint32_t>* out) {
  out->assign(static_cast<size_t>(count), 0xdeadbeefu);
  return parquet::internal::DecodeHybrid(reinterpret_cast<const uint8_t*>(data.data()), data.size(), bit_width,
                                         count, out->data());
}

TEST(ParquetHybridTest, DecodesRunsAndBitPackedGroups) {
  // A run of 5 copies of 9 (width 4: one value byte), then one bit-packed
  // group of the eight 3-bit values 0..7 (24 bits, little-endian).
  std::string data = Uleb(5 << 1) + std::string(1, '\x09');
  data += Uleb((1 << 1) | 1);
  uint64_t bits = 0;
  for (uint64_t v = 0; v < 8; ++v) bits |= v << (3 * v);
  for (int k = 0; k < 3; ++k) data.push_back(static_cast<char>((bits >> (8 * k)) & 0xff));
  std::vector<uint32_t> out;
  ASSERT_TRUE(Hybrid(data, 3, 13, &out));
  EXPECT_EQ(out, (std::vector<uint32_t>{9, 9, 9, 9, 9, 0, 1, 2, 3, 4, 5, 6, 7}));
  // Fewer values wanted than the group holds: the rest are skipped.
  ASSERT_TRUE(Hybrid(data, 3, 8, &out));
  EXPECT_EQ(out, (std::vector<uint32_t>{9, 9, 9, 9, 9, 0, 1, 2}));
  // More wanted than there are: the data runs short.
  EXPECT_FALSE(Hybrid(data, 3, 14, &out));
}

TEST(ParquetHybridTest, AZeroWidthGroupCountIsBoundedByTheValuesWanted) {
  // A fuzz finding (tests/fuzz/corpus/parquet/hybrid-zero-width-huge-run.parquet):
  // dictionary indices of bit width 0 in a bit-packed run whose header
  // claims an enormous group count (2^61 here). Zero-width groups take no
  // bytes, so the byte check
  // passed, and the decoder stepped through all 2^64 values to skip the ones
  // past `count` (libFuzzer's timeout; forever in practice). Now only the
  // wanted values are produced.
  const std::string data = Uleb((uint64_t{1} << 62) | 1);
  std::vector<uint32_t> out;
  ASSERT_TRUE(Hybrid(data, 0, 100, &out));
  EXPECT_EQ(out, std::vector<uint32_t>(100, 0));
}

TEST(ParquetHybridTest, AGroupCountWhoseBytesOverflowIsRefused) {
  // 2^59 groups of 32-bit values: groups * bit_width wraps to 0 in 64 bits,
  // which passed the check that the bytes are present, and the decoder then
  // read past the data. The count is now checked against the bytes by
  // division.
  const std::string data = Uleb((uint64_t{1} << 60) | 1) + std::string(16, '\x01');
  std::vector<uint32_t> out;
  EXPECT_FALSE(Hybrid(data, 32, 64, &out));
}

TEST(ParquetTest, TheZeroWidthHugeRunFileIsReadOrRefusedWithoutHanging) {
  const std::string file = Slurp(std::string(BOUNCEKIT_PARQUET_SEEDS) + "/hybrid-zero-width-huge-run.parquet");
  ASSERT_FALSE(file.empty());
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  int columns_read = 0;
  for (int g = 0; g < static_cast<int>(info->row_groups.size()); ++g) {
    for (int c = 0; c < static_cast<int>(info->columns.size()); ++c) {
      for (bool dict : {false, true}) {
        absl::StatusOr<Column> col = ReadColumn(file, *info, g, c, dict);
        ++columns_read;  // ok or an error: either way it returned
      }
    }
  }
  EXPECT_GT(columns_read, 0);
}

TEST(ParquetTest, ADictionaryCountThePageCannotHoldIsRefusedBeforeAllocating) {
  // A fuzz finding: a string column's dictionary page header claims about
  // 2^30 entries for a page of a few bytes. Each entry needs at least its
  // 4-byte length, so the count is refused before the 8-byte-per-entry index
  // is allocated (it asked for 8 GiB). Nothing that large reaches the pool.
  const std::string file = Slurp(std::string(BOUNCEKIT_PARQUET_SEEDS) + "/dictionary-count-too-large.parquet");
  ASSERT_FALSE(file.empty());
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  BufferPool pool;
  int refused = 0;
  for (int g = 0; g < static_cast<int>(info->row_groups.size()); ++g) {
    for (int c = 0; c < static_cast<int>(info->columns.size()); ++c) {
      for (bool dict : {false, true}) {
        absl::StatusOr<Column> col = ReadColumn(file, *info, g, c, dict, &pool);
        if (!col.ok() && absl::StrContains(col.status().message(), "dictionary page runs short")) ++refused;
      }
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_LT(pool.stats().peak_bytes, size_t{1} << 24);
}

// A one-page INT64 column chunk holding the value 7, snappy-compressed (one
// literal), whose page header claims `claimed` bytes uncompressed.
std::string SnappyInt64Chunk(uint32_t claimed) {
  std::string body;
  body += Uleb(8);                 // snappy: 8 bytes uncompressed
  body.push_back(7 << 2);           // a literal of 8 bytes
  body.append("\x07\0\0\0\0\0\0\0", 8);
  std::string h;                    // Thrift compact PageHeader
  h += "\x15";                      // 1: type = DATA_PAGE
  h.push_back(0);
  h += "\x15";                      // 2: uncompressed_page_size (zigzag)
  h += Uleb(uint64_t{claimed} * 2);
  h += "\x15";                      // 3: compressed_page_size
  h += Uleb(body.size() * 2);
  h += "\x2c";                      // 5: data_page_header
  h += "\x15\x02\x15";            //   num_values = 1, encoding = PLAIN
  h.push_back(0);
  h += "\x15\x06\x15\x06";        //   level encodings RLE
  h.push_back(0);                   //   end of data_page_header
  h.push_back(0);                   // end of PageHeader
  return h + body;
}

TEST(ParquetTest, APageSizeItsDataCannotHaveIsRefusedBeforeAllocating) {
  FileInfo info;
  info.num_rows = 1;
  info.columns.push_back(ColumnInfo{"n", PhysicalType::kInt64, false});
  for (uint32_t claimed : {8u, 400u << 20}) {
    SCOPED_TRACE(claimed);
    const std::string chunk = SnappyInt64Chunk(claimed);
    info.row_groups = {RowGroupInfo{1, {ChunkInfo{0, static_cast<int64_t>(chunk.size()), 1, /*codec=*/1}}}};
    BufferPool pool;
    absl::StatusOr<Column> c = ReadColumnChunk(chunk, info, 0, 0, false, &pool);
    if (claimed == 8) {  // the well-formed page reads
      ASSERT_TRUE(c.ok()) << c.status();
      EXPECT_EQ(c->values.as<int64_t>()[0], 7);
    } else {             // 400 MiB claimed for 10 bytes of snappy data
      ASSERT_FALSE(c.ok());
      EXPECT_TRUE(absl::StrContains(c.status().message(), "snappy data does not decompress to the page size"))
          << c.status();
      EXPECT_LT(pool.stats().peak_bytes, size_t{1} << 20);
    }
  }
}

TEST(ParquetTest, ChunkBytesAloneDecodeTheSame) {
  const std::string file = Seed(6);
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  const ChunkInfo& ci = info->row_groups[1].chunks[0];
  absl::StatusOr<Column> whole = ReadColumn(file, *info, 1, 0);
  absl::StatusOr<Column> alone = ReadColumnChunk(absl::string_view(file).substr(ci.start, ci.length), *info, 1, 0);
  ASSERT_TRUE(whole.ok() && alone.ok()) << whole.status() << alone.status();
  for (int64_t i = 0; i < whole->length; ++i) EXPECT_EQ(ViewAt(*whole, i), ViewAt(*alone, i));
  // The footer alone (file's tail) gives the same layout.
  const uint32_t n = FooterLength(absl::string_view(file).substr(file.size() - 8));
  ASSERT_GT(n, 0u);
  absl::StatusOr<FileInfo> tail = ReadFileInfoTail(absl::string_view(file).substr(file.size() - 8 - n), file.size());
  ASSERT_TRUE(tail.ok()) << tail.status();
  EXPECT_EQ(tail->row_groups.size(), info->row_groups.size());
  EXPECT_EQ(tail->row_groups[1].chunks[0].start, ci.start);
}

TEST(ParquetTest, DamagedFilesAreErrorsNamingWhere) {
  const std::string file = Seed(7);  // snappy, data page v2, no dictionary
  // Truncated anywhere: the footer is gone or does not parse.
  for (size_t cut : {size_t{0}, size_t{4}, size_t{11}, file.size() / 2, file.size() - 1}) {
    EXPECT_FALSE(ReadFileInfo(file.substr(0, cut)).ok()) << cut;
  }
  absl::StatusOr<FileInfo> info = ReadFileInfo(file);
  ASSERT_TRUE(info.ok()) << info.status();
  // Every single-byte change inside the first column chunk: an error or a
  // column, never a crash (the fuzz target does this at scale).
  const ChunkInfo& ci = info->row_groups[0].chunks[0];
  int errors = 0;
  for (int64_t p = ci.start; p < ci.start + ci.length; ++p) {
    std::string bad = file;
    bad[p] = static_cast<char>(bad[p] ^ 0xff);
    absl::StatusOr<Column> c = ReadColumn(bad, *info, 0, 0);
    if (!c.ok()) {
      ++errors;
      EXPECT_NE(c.status().message().find("row group 0, column 'r'"), absl::string_view::npos) << c.status();
    } else {
      EXPECT_EQ(c->length, info->row_groups[0].num_rows);
    }
  }
  EXPECT_GT(errors, 0);
  // A chunk said to lie outside the file.
  FileInfo moved = *info;
  moved.row_groups[0].chunks[0].start = static_cast<int64_t>(file.size());
  absl::StatusOr<Column> c = ReadColumn(file, moved, 0, 0);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss) << c.status();
  EXPECT_EQ(ReadColumn(file, *info, 5, 0).status().code(), absl::StatusCode::kOutOfRange);
}

TEST(ParquetTest, PoolHandsBuffersBack) {
  BufferPool pool(1 << 20);
  { Buffer a = pool.Get(100000); Buffer b = pool.Get(5000); }
  Buffer c = pool.Get(100000);
  Buffer d = pool.Get(100);
  const BufferPool::Stats s = pool.stats();
  EXPECT_EQ(s.allocated, 3);  // a, b, and d (no kept buffer of its class)
  EXPECT_EQ(s.reused, 1);     // c took a's memory
  EXPECT_EQ(c.size(), 100000u);
  Buffer big = pool.Get(size_t{2} << 20);  // larger than the pool keeps
  EXPECT_EQ(big.size(), size_t{2} << 20);
}

}  // namespace
}  // namespace bouncekit::parquet
