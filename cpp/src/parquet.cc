// Copyright 2026 The bouncekit authors.
//
// Parquet's metadata is Thrift's compact protocol; pages are decompressed
// whole, then levels and values decoded from them. Every read is bounds-
// checked against its buffer: a truncated or corrupt file is an error status.

#include "bouncekit/parquet.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/parquet_hybrid.h"

#define BOUNCEKIT_PQ_RETURN(expr)                  \
  do {                                             \
    const absl::Status bk_pq_status_ = (expr);     \
    if (!bk_pq_status_.ok()) return Located(bk_pq_status_); \
  } while (0)

namespace bouncekit::parquet {
namespace {

// ------------------------------------------------------------ Thrift compact

enum : uint8_t {
  kStop = 0, kTrue = 1, kFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6,
  kDouble = 7, kBinary = 8, kList = 9, kSet = 10, kMap = 11, kStruct = 12
};

class Thrift {
 public:
  Thrift(const uint8_t* p, size_t n) : p_(p), end_(p + n), begin_(p) {}

  bool ok() const { return ok_; }
  size_t consumed() const { return static_cast<size_t>(p_ - begin_); }

  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) return Fail();
      const uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }
  int64_t Zigzag() {
    const uint64_t v = Varint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  absl::string_view Binary() {
    const uint64_t n = Varint();
    if (!ok_ || n > static_cast<uint64_t>(end_ - p_)) {
      Fail();
      return {};
    }
    absl::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  // Next field of a struct: false at its end. `last` holds the previous id.
  bool Field(int16_t* last, int16_t* id, uint8_t* type) {
    if (p_ >= end_) {
      Fail();
      return false;
    }
    const uint8_t b = *p_++;
    if (b == kStop) return false;
    *type = b & 0x0f;
    const int delta = b >> 4;
    *id = delta != 0 ? static_cast<int16_t>(*last + delta) : static_cast<int16_t>(Zigzag());
    *last = *id;
    return ok_;
  }
  // A list header: element count and type.
  bool List(int64_t* size, uint8_t* elem) {
    if (p_ >= end_) return Fail() != 0;
    const uint8_t b = *p_++;
    *elem = b & 0x0f;
    const int n = b >> 4;
    *size = n == 15 ? static_cast<int64_t>(Varint()) : n;
    if (*size < 0 || *size > (end_ - p_)) Fail();  // every element takes >= 1 byte
    return ok_;
  }
  bool Bool(uint8_t type) { return type == kTrue; }
  int64_t Int(uint8_t type) {
    if (type == kByte) {
      if (p_ >= end_) return static_cast<int64_t>(Fail());
      return static_cast<int8_t>(*p_++);
    }
    if (type == kI16 || type == kI32 || type == kI64) return Zigzag();
    Fail();
    return 0;
  }
  void Skip(uint8_t type, int depth = 0) {
    if (depth > 32) {
      Fail();
      return;
    }
    switch (type) {
      case kTrue:
      case kFalse:
        return;
      case kByte:
        if (p_ >= end_) Fail(); else ++p_;
        return;
      case kI16:
      case kI32:
      case kI64:
        Varint();
        return;
      case kDouble:
        if (end_ - p_ < 8) Fail(); else p_ += 8;
        return;
      case kBinary:
        Binary();
        return;
      case kList:
      case kSet: {
        int64_t n;
        uint8_t elem;
        if (!List(&n, &elem)) return;
        for (int64_t i = 0; i < n && ok_; ++i) {
          if (elem == kTrue || elem == kFalse) {  // booleans in lists take a byte each
            if (p_ >= end_) Fail(); else ++p_;
          } else {
            Skip(elem, depth + 1);
          }
        }
        return;
      }
      case kMap: {
        const uint64_t n = Varint();
        if (n == 0 || !ok_) return;
        if (p_ >= end_ || n > static_cast<uint64_t>(end_ - p_)) {
          Fail();
          return;
        }
        const uint8_t kv = *p_++;
        for (uint64_t i = 0; i < n && ok_; ++i) {
          Skip(kv >> 4, depth + 1);
          Skip(kv & 0x0f, depth + 1);
        }
        return;
      }
      case kStruct: {
        int16_t last = 0, id;
        uint8_t t;
        while (ok_ && Field(&last, &id, &t)) Skip(t, depth + 1);
        return;
      }
      default:
        Fail();
    }
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  bool ok_ = true;
};

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("Parquet: ", what));
}

struct SchemaElement {
  int32_t type = -1;
  int32_t repetition = 0;
  std::string name;
  int32_t num_children = 0;
  int32_t converted_type = -1;
  int32_t logical_type = 0;
  int32_t int_bits = 0;
  bool is_signed = true;
};

// LogicalType is a union: which member is set (its field id), and for
// IntType (10: {1: bitWidth i8, 2: isSigned bool}) the width and sign.
void ReadLogicalType(Thrift& t, SchemaElement* e) {
  int16_t last = 0, id;
  uint8_t type;
  while (t.Field(&last, &id, &type)) {
    e->logical_type = id;
    if (id == 10 && type == kStruct) {
      int16_t l2 = 0, id2;
      uint8_t t2;
      while (t.Field(&l2, &id2, &t2)) {
        if (id2 == 1) {
          e->int_bits = static_cast<int32_t>(t.Int(t2));
        } else if (id2 == 2) {
          e->is_signed = t.Bool(t2);
        } else {
          t.Skip(t2);
        }
      }
    } else {
      t.Skip(type);
    }
  }
}

SchemaElement ReadSchemaElement(Thrift& t) {
  SchemaElement e;
  int16_t last = 0, id;
  uint8_t type;
  while (t.Field(&last, &id, &type)) {
    switch (id) {
      case 1: e.type = static_cast<int32_t>(t.Int(type)); break;
      case 3: e.repetition = static_cast<int32_t>(t.Int(type)); break;
      case 4: e.name = std::string(t.Binary()); break;
      case 5: e.num_children = static_cast<int32_t>(t.Int(type)); break;
      case 6: e.converted_type = static_cast<int32_t>(t.Int(type)); break;
      case 10:
        if (type == kStruct) ReadLogicalType(t, &e); else t.Skip(type);
        break;
      default: t.Skip(type);
    }
  }
  return e;
}

ChunkInfo ReadColumnChunk(Thrift& t, bool* external) {
  ChunkInfo c;
  int64_t data_page = -1, dict_page = -1;
  int16_t last = 0, id;
  uint8_t type;
  while (t.Field(&last, &id, &type)) {
    if (id == 1 && type == kBinary) {
      if (!t.Binary().empty()) *external = true;  // data in another file
    } else if (id == 3 && type == kStruct) {
      int16_t l2 = 0, id2;
      uint8_t t2;
      while (t.Field(&l2, &id2, &t2)) {
        switch (id2) {
          case 4: c.codec = static_cast<int32_t>(t.Int(t2)); break;
          case 5: c.num_values = t.Int(t2); break;
          case 7: c.length = t.Int(t2); break;
          case 9: data_page = t.Int(t2); break;
          case 11: dict_page = t.Int(t2); break;
          default: t.Skip(t2);
        }
      }
    } else {
      t.Skip(type);
    }
  }
  // Some writers leave dictionary_page_offset at 0 when there is none.
  c.start = (dict_page > 0 && dict_page < data_page) ? dict_page : data_page;
  return c;
}

// ------------------------------------------------------------ decompression

// Before a page's memory is taken: whether `in` (the page as stored) can
// hold `out_size` bytes as its header claims. Uncompressed and snappy data
// state their exact size, zstd frames usually do; deflate cannot expand
// more than 1032:1. A damaged header claiming up to the 1 GiB page cap for
// a few bytes of data is refused here instead of being allocated.
absl::Status CheckPageSize(int32_t codec, absl::string_view in, size_t out_size) {
  switch (codec) {
    case 0:
      if (in.size() != out_size) return Corrupt("uncompressed page size does not match its header");
      return absl::OkStatus();
    case 1: {
      size_t n = 0;
      if (snappy_uncompressed_length(in.data(), in.size(), &n) != SNAPPY_OK || n != out_size) {
        return Corrupt("snappy data does not decompress to the page size");
      }
      return absl::OkStatus();
    }
    case 2:
      if (out_size / 1032 > in.size()) return Corrupt("gzip data does not decompress to the page size");
      return absl::OkStatus();
    case 6: {
      // A page that is one frame stating its size must state this one (a
      // page of several frames is left to the decompressor's own check).
      // Data that is not a frame at all (or none: an empty page) is left to
      // it too.
      const unsigned long long n = ZSTD_getFrameContentSize(in.data(), in.size());
      if (n != ZSTD_CONTENTSIZE_ERROR && n != ZSTD_CONTENTSIZE_UNKNOWN &&
          ZSTD_findFrameCompressedSize(in.data(), in.size()) == in.size() && n != out_size) {
        return Corrupt("zstd data does not decompress to the page size");
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();  // Decompress says it is not supported
  }
}

absl::Status Decompress(int32_t codec, absl::string_view in, size_t out_size, char* out) {
  switch (codec) {
    case 0:  // UNCOMPRESSED
      if (in.size() != out_size) return Corrupt("uncompressed page size does not match its header");
      std::memcpy(out, in.data(), out_size);
      return absl::OkStatus();
    case 1: {  // SNAPPY
      size_t n = out_size;
      if (snappy_uncompress(in.data(), in.size(), out, &n) != SNAPPY_OK || n != out_size) {
        return Corrupt("snappy data does not decompress to the page size");
      }
      return absl::OkStatus();
    }
    case 2: {  // GZIP
      z_stream z{};
      if (inflateInit2(&z, 15 + 32) != Z_OK) return absl::InternalError("zlib init failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(out_size);
      const int rc = inflate(&z, Z_FINISH);
      const size_t produced = out_size - z.avail_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END || produced != out_size) {
        return Corrupt("gzip data does not decompress to the page size");
      }
      return absl::OkStatus();
    }
    case 6: {  // ZSTD, with one decompression context per thread
      struct FreeDCtx {
        void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
      };
      thread_local std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx(ZSTD_createDCtx());
      if (dctx == nullptr) return absl::ResourceExhaustedError("cannot create a zstd context");
      const size_t n = ZSTD_decompressDCtx(dctx.get(), out, out_size, in.data(), in.size());
      if (ZSTD_isError(n) || n != out_size) return Corrupt("zstd data does not decompress to the page size");
      return absl::OkStatus();
    }
    default:
      return absl::UnimplementedError(absl::StrCat("Parquet codec ", codec, " is not supported here"));
  }
}

// ------------------------------------------------------------ RLE / bit-packed hybrid

// Sets bits [first, first + n) of an Arrow bitmap.
void SetBitRange(uint8_t* bits, int64_t first, int64_t n) {
  int64_t i = first;
  const int64_t stop = first + n;
  for (; i < stop && (i & 7) != 0; ++i) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
  const int64_t whole = (stop - i) >> 3;
  if (whole > 0) {
    std::memset(bits + (i >> 3), 0xff, static_cast<size_t>(whole));
    i += whole * 8;
  }
  for (; i < stop; ++i) bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
}

}  // namespace

namespace internal {

bool DecodeHybrid(const uint8_t* p, size_t n, int bit_width, int64_t count, uint32_t* out) {
  if (bit_width < 0 || bit_width > 32) return false;
  const uint8_t* end = p + n;
  int64_t produced = 0;
  const uint32_t mask = bit_width == 32 ? 0xffffffffu : ((1u << bit_width) - 1);
  while (produced < count) {
    uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      if (p >= end || shift > 63) return false;
      const uint8_t b = *p++;
      header |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (header & 1) {  // bit-packed: (header >> 1) groups of 8
      const uint64_t groups = header >> 1;
      // The groups' bytes must be in the data, checked without forming
      // groups * bit_width (a damaged header overflows it).
      if (bit_width > 0 && groups > static_cast<uint64_t>(end - p) / static_cast<uint64_t>(bit_width)) {
        return false;
      }
      const uint64_t bytes = groups * static_cast<uint64_t>(bit_width);
      // Only the values still wanted are decoded: a run's value count is not
      // bounded by its bytes when bit_width is 0 (a damaged header's huge
      // count of zero-bit values took forever to skip one by one).
      const uint64_t left = static_cast<uint64_t>(count - produced);
      const uint64_t wanted = groups >= (left + 7) / 8 ? left : groups * 8;
      uint64_t v = 0;
      // While 8 bytes can be loaded at any value's first byte, each value is
      // one unaligned load, a shift and a mask (bit_width <= 32 < 57).
      if (bit_width > 0 && static_cast<uint64_t>(end - p) >= bytes + 8) {
        uint32_t* o = out + produced;
        for (; v < wanted; ++v) {
          const uint64_t bit = v * static_cast<uint64_t>(bit_width);
          uint64_t w;
          std::memcpy(&w, p + (bit >> 3), 8);
          o[v] = static_cast<uint32_t>(w >> (bit & 7)) & mask;
        }
        produced += static_cast<int64_t>(wanted);
        p += bytes;
        continue;
      }
      uint64_t buffer = 0;
      int have = 0;
      const uint8_t* q = p;
      for (; v < wanted; ++v) {
        while (have < bit_width) {
          buffer |= static_cast<uint64_t>(*q++) << have;
          have += 8;
        }
        out[produced++] = static_cast<uint32_t>(buffer) & mask;
        buffer >>= bit_width;
        have -= bit_width;
      }
      p += bytes;
    } else {  // run: (header >> 1) copies of one value
      const uint64_t run = header >> 1;
      const int bytes = (bit_width + 7) / 8;
      if (bytes > end - p) return false;
      uint32_t value = 0;
      for (int k = 0; k < bytes; ++k) value |= static_cast<uint32_t>(p[k]) << (8 * k);
      p += bytes;
      if (run == 0) return false;
      const int64_t take = static_cast<int64_t>(std::min<uint64_t>(run, static_cast<uint64_t>(count - produced)));
      std::fill_n(out + produced, take, value);
      produced += take;
    }
  }
  return true;
}

}  // namespace internal

namespace {
using internal::DecodeHybrid;

uint32_t Le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ------------------------------------------------------------ column decoding

struct PageHeader {
  int32_t type = -1;
  int32_t uncompressed = -1;
  int32_t compressed = -1;
  int32_t num_values = 0;
  int32_t encoding = 0;
  int32_t def_encoding = 3;  // RLE
  // v2
  int32_t num_nulls = 0;
  int32_t def_bytes = 0;
  int32_t rep_bytes = 0;
  bool v2_compressed = true;
};

PageHeader ReadPageHeader(Thrift& t) {
  PageHeader h;
  int16_t last = 0, id;
  uint8_t type;
  while (t.Field(&last, &id, &type)) {
    switch (id) {
      case 1: h.type = static_cast<int32_t>(t.Int(type)); break;
      case 2: h.uncompressed = static_cast<int32_t>(t.Int(type)); break;
      case 3: h.compressed = static_cast<int32_t>(t.Int(type)); break;
      case 5:    // DataPageHeader
      case 7:    // DictionaryPageHeader
      case 8: {  // DataPageHeaderV2
        if (type != kStruct) {
          t.Skip(type);
          break;
        }
        int16_t l2 = 0, id2;
        uint8_t t2;
        while (t.Field(&l2, &id2, &t2)) {
          if (id2 == 1) {
            h.num_values = static_cast<int32_t>(t.Int(t2));
          } else if (id == 5 && id2 == 2) {
            h.encoding = static_cast<int32_t>(t.Int(t2));
          } else if (id == 5 && id2 == 3) {
            h.def_encoding = static_cast<int32_t>(t.Int(t2));
          } else if (id == 7 && id2 == 2) {
            h.encoding = static_cast<int32_t>(t.Int(t2));
          } else if (id == 8 && id2 == 2) {
            h.num_nulls = static_cast<int32_t>(t.Int(t2));
          } else if (id == 8 && id2 == 4) {
            h.encoding = static_cast<int32_t>(t.Int(t2));
          } else if (id == 8 && id2 == 5) {
            h.def_bytes = static_cast<int32_t>(t.Int(t2));
          } else if (id == 8 && id2 == 6) {
            h.rep_bytes = static_cast<int32_t>(t.Int(t2));
          } else if (id == 8 && id2 == 7) {
            h.v2_compressed = t.Bool(t2);
          } else {
            t.Skip(t2);
          }
        }
        break;
      }
      default: t.Skip(type);
    }
  }
  return h;
}

static_assert(std::endian::native == std::endian::little, "Arrow views are little-endian");

// Writes the 16-byte Arrow view of the `len` bytes at `s` (which lie in
// buffer `buffer` at `offset`; `limit` is the end of that buffer), with the
// inline bytes of short strings zero-padded as the format requires.
inline void SetView(uint8_t* view, const char* s, uint32_t len, const char* limit, int32_t buffer,
                    int32_t offset) {
  uint64_t lo, hi;
  if (len <= 12) {
    uint8_t tmp[12] = {0};
    const char* src = s;
    if (limit - s < 12) {  // near the buffer's end: copy only what is there
      std::memcpy(tmp, s, len);
      src = reinterpret_cast<const char*>(tmp);
    }
    uint64_t a;
    uint32_t c;
    std::memcpy(&a, src, 8);
    std::memcpy(&c, src + 8, 4);
    lo = uint64_t{len} | (a << 32);
    hi = (a >> 32) | (uint64_t{c} << 32);
    if (len < 4) lo &= (uint64_t{1} << (8 * (4 + len))) - 1;
    if (len <= 4) {
      hi = 0;
    } else if (len < 12) {
      hi &= (uint64_t{1} << (8 * (len - 4))) - 1;
    }
  } else {
    uint32_t prefix;
    std::memcpy(&prefix, s, 4);
    lo = uint64_t{len} | (uint64_t{prefix} << 32);
    hi = uint64_t{static_cast<uint32_t>(buffer)} | (uint64_t{static_cast<uint32_t>(offset)} << 32);
  }
  std::memcpy(view, &lo, 8);
  std::memcpy(view + 8, &hi, 8);
}

class ChunkDecoder {
 public:
  // `file` holds the file's bytes from absolute offset `base` on.
  ChunkDecoder(absl::string_view file, int64_t base, const ColumnInfo& col, const ChunkInfo& chunk, int64_t rows,
               std::string where, BufferPool* pool)
      : file_(file), base_(base), col_(col), chunk_(chunk), rows_(rows), where_(std::move(where)), pool_(pool) {}

  absl::StatusOr<Column> Run(bool prefer_dictionary) {
    prefer_dictionary_ = prefer_dictionary;
    Column out;
    switch (col_.type) {
      case PhysicalType::kByteArray: out.kind = Column::Kind::kStringViews; break;
      case PhysicalType::kInt32: out.kind = Column::Kind::kInt32; break;
      case PhysicalType::kInt64: out.kind = Column::Kind::kInt64; break;
      default:
        return absl::UnimplementedError(absl::StrCat(where_, ": Parquet type ", static_cast<int>(col_.type),
                                                     " is not read here"));
    }
    out.length = rows_;
    if (chunk_.start < base_ || chunk_.length < 0 || chunk_.start - base_ > static_cast<int64_t>(file_.size()) ||
        chunk_.length > static_cast<int64_t>(file_.size()) - (chunk_.start - base_)) {
      return Error("column chunk lies outside the file");
    }
    if (chunk_.num_values != rows_) {
      return absl::UnimplementedError(absl::StrCat(where_, ": ", chunk_.num_values, " values for ", rows_,
                                                   " rows (nested data is not read here)"));
    }
    if (out.kind == Column::Kind::kStringViews) {
      // Asked for a dictionary, the views may never be needed: EnsureViews
      // takes them from the pool when a page needs them after all.
      if (!prefer_dictionary) BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 16, &out.views));
    } else if (out.kind == Column::Kind::kInt32) {
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 4, &out.values));
    } else {
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 8, &out.values));
    }
    if (col_.optional) {
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>((rows_ + 7) / 8), &out.validity));
      std::memset(out.validity.data(), 0, out.validity.size());
    }
    int64_t pos = chunk_.start;
    const int64_t end = chunk_.start + chunk_.length;
    int64_t row = 0;
    bool all_dictionary = true;
    // Scratch for one page's levels and dictionary indices (pool memory:
    // plain vectors this size went back to the kernel after every chunk).
    Buffer levels_buf, idx_buf;
    BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 4, &levels_buf));
    BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 4, &idx_buf));
    uint32_t* const levels = levels_buf.as<uint32_t>();
    uint32_t* const idx = idx_buf.as<uint32_t>();
    while (row < rows_) {
      if (pos >= end) return Error(absl::StrCat("pages end after ", row, " of ", rows_, " values"));
      Thrift t(reinterpret_cast<const uint8_t*>(file_.data()) + (pos - base_), static_cast<size_t>(end - pos));
      const PageHeader h = ReadPageHeader(t);
      if (!t.ok() || h.compressed < 0 || h.uncompressed < 0) return Error(absl::StrCat("bad page header at byte ", pos));
      if (h.uncompressed > kMaxPageBytes) {
        return Error(absl::StrCat("page at byte ", pos, " claims ", h.uncompressed, " bytes uncompressed"));
      }
      const int64_t body = pos + static_cast<int64_t>(t.consumed());
      if (h.compressed > end - body) return Error(absl::StrCat("page at byte ", pos, " runs past its column chunk"));
      const absl::string_view raw(file_.data() + (body - base_), static_cast<size_t>(h.compressed));
      pos = body + h.compressed;
      if (h.type == 2) {  // dictionary page
        if (h.encoding != 0 && h.encoding != 2) return Unsupported(absl::StrCat("dictionary encoding ", h.encoding));
        Buffer page;
        BOUNCEKIT_PQ_RETURN(ReadPage(raw, static_cast<size_t>(h.uncompressed), &page));
        BOUNCEKIT_PQ_RETURN(LoadDictionary(std::move(page), h.num_values, &out));
        continue;
      }
      if (h.type == 1) continue;  // index page
      if (h.type != 0 && h.type != 3) return Unsupported(absl::StrCat("page type ", h.type));
      const int64_t n = h.num_values;
      if (n <= 0 || n > rows_ - row) return Error(absl::StrCat("page at byte ", pos, " has ", n, " values"));
      // Levels, then values.
      Buffer page;
      const uint8_t* lv = nullptr;
      size_t lv_size = 0;
      absl::string_view values;
      if (h.type == 0) {
        BOUNCEKIT_PQ_RETURN(ReadPage(raw, static_cast<size_t>(h.uncompressed), &page));
        const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
        size_t left = page.size();
        if (col_.optional) {
          if (h.def_encoding != 3) return Unsupported("definition levels not RLE-encoded");
          if (left < 4 || Le32(p) > left - 4) return Error("definition levels run past the page");
          lv = p + 4;
          lv_size = Le32(p);
          p += 4 + lv_size;
          left -= 4 + lv_size;
        }
        values = absl::string_view(reinterpret_cast<const char*>(p), left);
      } else {
        if (h.rep_bytes != 0) return Unsupported("repetition levels");
        if (h.def_bytes < 0 || h.def_bytes > h.compressed) return Error("bad level lengths in a v2 page");
        lv = reinterpret_cast<const uint8_t*>(raw.data());
        lv_size = static_cast<size_t>(h.def_bytes);
        const absl::string_view rest = raw.substr(static_cast<size_t>(h.def_bytes));
        if (h.v2_compressed) {
          const int64_t want = static_cast<int64_t>(h.uncompressed) - h.def_bytes;
          if (want < 0) return Error("bad v2 page sizes");
          BOUNCEKIT_PQ_RETURN(ReadPage(rest, static_cast<size_t>(want), &page));
        } else {
          BOUNCEKIT_PQ_RETURN(Take(rest.size(), &page));
          if (!rest.empty()) std::memcpy(page.data(), rest.data(), rest.size());
        }
        values = absl::string_view(page.data(), page.size());
      }
      // Which rows of this page hold a value.
      // row_levels stays null when every row has one (a required column, or
      // an optional one without nulls on this page, the common case).
      int64_t present = n;
      const uint32_t* row_levels = nullptr;
      if (col_.optional) {
        if (!DecodeHybrid(lv, lv_size, 1, n, levels)) return Error("bad definition levels");
        uint32_t any_bits = 0;
        int64_t ones = 0;
        for (int64_t k = 0; k < n; ++k) {  // vectorised; no branch per row
          any_bits |= levels[k];
          ones += levels[k];
        }
        if (any_bits > 1) return Error("definition level above 1 in a flat column");
        present = ones;
        uint8_t* const validity = out.validity.as<uint8_t>();
        if (present == n) {
          SetBitRange(validity, row, n);
        } else {
          row_levels = levels;
          for (int64_t k = 0; k < n; ++k) {
            validity[(row + k) >> 3] |= static_cast<uint8_t>(levels[k] << ((row + k) & 7));
          }
        }
        out.null_count += n - present;
      }
      const bool dict = h.encoding == 2 || h.encoding == 8;
      if (!dict && h.encoding != 0) return Unsupported(absl::StrCat("encoding ", h.encoding));
      all_dictionary = all_dictionary && dict;
      if (dict) {
        if (!have_dict_) return Error("dictionary-encoded page without a dictionary page");
        if (values.empty()) {
          if (present != 0) return Error("empty dictionary-encoded page");
        } else {
          const int width = static_cast<uint8_t>(values[0]);
          if (!DecodeHybrid(reinterpret_cast<const uint8_t*>(values.data()) + 1, values.size() - 1, width,
                            present, idx)) {
            return Error("bad dictionary indices");
          }
        }
        BOUNCEKIT_PQ_RETURN(PlaceDictionary(idx, present, row, n, row_levels, &out));
      } else {
        const int32_t buffer = static_cast<int32_t>(out.buffers.size());
        // View offsets count from the start of the page buffer.
        const int64_t base = values.empty() ? 0 : values.data() - page.data();
        BOUNCEKIT_PQ_RETURN(PlacePlain(values, buffer, base, present, row, n, row_levels, &out));
      }
      if (!values.empty() && !dict && out.kind == Column::Kind::kStringViews) {
        out.buffers.push_back(std::move(page));  // views point into it
      }
      row += n;
    }
    if (prefer_dictionary && all_dictionary && out.kind == Column::Kind::kStringViews && have_dict_) {
      ToDictionary(&out);
    } else if (out.kind == Column::Kind::kStringViews) {
      BOUNCEKIT_PQ_RETURN(PlaceDeferredViews(&out));
    }
    if (out.kind == Column::Kind::kStringViews && have_dict_) {
      out.buffers.push_back(std::move(dict_page_));
      // Views into the dictionary page used a placeholder buffer index.
      const int32_t real = static_cast<int32_t>(out.buffers.size() - 1);
      for (int64_t i = 0; i < rows_; ++i) {
        uint8_t* v = out.views.as<uint8_t>() + 16 * i;
        int32_t len, b;
        std::memcpy(&len, v, 4);
        if (len <= 12) continue;
        std::memcpy(&b, v + 8, 4);
        if (b == kDictBuffer) std::memcpy(v + 8, &real, 4);
      }
    }
    return out;
  }

 private:
  static constexpr int32_t kDictBuffer = -1;
  static constexpr int32_t kMaxPageBytes = 1 << 30;

  // A page's `size` bytes, decompressed from `raw` into pool memory taken
  // only once the data is known to be able to hold them.
  absl::Status ReadPage(absl::string_view raw, size_t size, Buffer* page) {
    BOUNCEKIT_PQ_RETURN(CheckPageSize(chunk_.codec, raw, size));
    BOUNCEKIT_PQ_RETURN(Take(size, page));
    return Decompress(chunk_.codec, raw, page->size(), page->data());
  }

  absl::Status Take(size_t n, Buffer* b) {
    *b = pool_->Get(n);
    if (b->size() != n) return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", n, " bytes"));
    return absl::OkStatus();
  }

  absl::Status Located(const absl::Status& st) const {
    if (absl::StartsWith(st.message(), where_)) return st;
    return absl::Status(st.code(), absl::StrCat(where_, ": ", st.message()));
  }

  absl::Status Error(absl::string_view what) const {
    return absl::DataLossError(absl::StrCat(where_, ": ", what));
  }
  absl::Status Unsupported(absl::string_view what) const {
    return absl::UnimplementedError(absl::StrCat(where_, ": ", what, " is not read here"));
  }

  // A null row: empty view, or 0 (its value is undefined for Arrow, but
  // nothing uninitialised leaves here).
  static void Null(Column* out, int64_t r) {
    switch (out->kind) {
      case Column::Kind::kStringViews:  // (no views yet: EnsureViews zeroes them)
        if (!out->views.empty()) std::memset(out->views.as<uint8_t>() + 16 * r, 0, 16);
        break;
      case Column::Kind::kInt32: out->values.as<int32_t>()[r] = 0; break;
      case Column::Kind::kInt64: out->values.as<int64_t>()[r] = 0; break;
      default: break;
    }
  }

  absl::Status LoadDictionary(Buffer page, int64_t n, Column* out) {
    if (have_dict_) return Error("a second dictionary page");
    if (n < 0) return Error("negative dictionary size");
    const uint8_t* p = reinterpret_cast<const uint8_t*>(page.data());
    const size_t size = page.size();
    if (col_.type == PhysicalType::kByteArray) {
      // Each entry takes at least its 4-byte length: a count the page cannot
      // hold is refused before memory is taken for it (a damaged header
      // claiming 2^30 entries asked for 8 GiB).
      if (static_cast<uint64_t>(n) > size / 4) return Error("dictionary page runs short");
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(n) * sizeof(DictString), &dict_strings_));
      DictString* d = dict_strings_.as<DictString>();
      size_t off = 0;
      for (int64_t k = 0; k < n; ++k) {
        if (size - off < 4 || Le32(p + off) > size - off - 4) return Error("dictionary page runs short");
        const uint32_t len = Le32(p + off);
        d[k] = DictString{static_cast<uint32_t>(off + 4), len};
        off += 4 + len;
      }
    } else {
      const size_t w = col_.type == PhysicalType::kInt32 ? 4 : 8;
      if (size < static_cast<size_t>(n) * w) return Error("dictionary page runs short");
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(n) * 8, &dict_ints_buf_));
      int64_t* const dict_ints_ = dict_ints_buf_.as<int64_t>();
      for (int64_t k = 0; k < n; ++k) {
        if (w == 4) {
          int32_t v;
          std::memcpy(&v, p + k * 4, 4);
          dict_ints_[k] = v;
        } else {
          std::memcpy(&dict_ints_[k], p + k * 8, 8);
        }
      }
    }
    dict_page_ = std::move(page);
    dict_size_ = n;
    have_dict_ = true;
    (void)out;
    return absl::OkStatus();
  }

  // Rows row..row+n-1; `present` values; levels[k] says whether row+k has one.
  absl::Status PlaceDictionary(const uint32_t* idx, int64_t present, int64_t row, int64_t n,
                               const uint32_t* levels, Column* out) {
    const size_t dict_size = static_cast<size_t>(dict_size_);
    uint32_t largest = 0;
    for (int64_t v = 0; v < present; ++v) largest = std::max(largest, idx[v]);  // vectorised
    if (present > 0 && largest >= dict_size) {
      for (int64_t v = 0; v < present; ++v) {
        if (idx[v] >= dict_size) return Error(absl::StrCat("dictionary index ", idx[v], " out of range"));
      }
    }
    // Each row's dictionary index is kept only when the chunk may come back
    // as a dictionary.
    const bool keep_rows = prefer_dictionary_ && col_.type == PhysicalType::kByteArray;
    if (keep_rows && dict_rows_.empty()) {
      BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 4, &dict_rows_));
      std::memset(dict_rows_.data(), 0, dict_rows_.size());
    }
    if (levels == nullptr) {  // every row has a value: idx[k] is row (row + k)'s
      switch (out->kind) {
        case Column::Kind::kStringViews: {
          if (keep_rows) {  // the views wait: the chunk may come back as a dictionary
            std::memcpy(dict_rows_.as<int32_t>() + row, idx, static_cast<size_t>(n) * 4);
            deferred_views_.emplace_back(row, n);
            break;
          }
          PlaceViews(idx, row, n, out);
          break;
        }
        case Column::Kind::kInt32: {
          const int64_t* const d = dict_ints_buf_.as<int64_t>();
          int32_t* const o = out->values.as<int32_t>() + row;
          for (int64_t k = 0; k < n; ++k) o[k] = static_cast<int32_t>(d[idx[k]]);
          break;
        }
        case Column::Kind::kInt64: {
          const int64_t* const d = dict_ints_buf_.as<int64_t>();
          int64_t* const o = out->values.as<int64_t>() + row;
          for (int64_t k = 0; k < n; ++k) o[k] = d[idx[k]];
          break;
        }
        default: break;
      }
      return absl::OkStatus();
    }
    int64_t v = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (!levels[k]) {
        Null(out, row + k);
        continue;
      }
      const uint32_t i = idx[v++];
      const int64_t r = row + k;
      switch (out->kind) {
        case Column::Kind::kStringViews: {
          if (keep_rows) {
            dict_rows_.as<int32_t>()[r] = static_cast<int32_t>(i);
          } else {
            PlaceViews(&i, r, 1, out);
          }
          break;
        }
        case Column::Kind::kInt32:
          out->values.as<int32_t>()[r] = static_cast<int32_t>(dict_ints_buf_.as<int64_t>()[i]);
          break;
        case Column::Kind::kInt64: out->values.as<int64_t>()[r] = dict_ints_buf_.as<int64_t>()[i]; break;
        default: break;
      }
    }
    if (keep_rows && levels != nullptr) deferred_views_.emplace_back(row, n);
    return absl::OkStatus();
  }

  // Views of rows row..row+n-1 from their dictionary indices idx[0..n).
  void PlaceViews(const uint32_t* idx, int64_t row, int64_t n, Column* out) const {
    const DictString* const strings = dict_strings_.as<DictString>();
    const char* const page = dict_page_.data();
    const char* const limit = page + dict_page_.size();
    uint8_t* const views = out->views.as<uint8_t>() + 16 * row;
    for (int64_t k = 0; k < n; ++k) {
      const auto [off, len] = strings[idx[k]];
      SetView(views + 16 * k, page + off, len, limit, kDictBuffer, static_cast<int32_t>(off));
    }
  }

  // The views buffer of a chunk that was to come back as a dictionary,
  // taken when a page needs it after all; zeroed, so that rows not written
  // (nulls, and dictionary rows until PlaceDeferredViews) are empty views.
  absl::Status EnsureViews(Column* out) {
    if (!out->views.empty() || rows_ == 0) return absl::OkStatus();
    BOUNCEKIT_PQ_RETURN(Take(static_cast<size_t>(rows_) * 16, &out->views));
    std::memset(out->views.data(), 0, out->views.size());
    return absl::OkStatus();
  }

  // The views PlaceDictionary left for later, when the chunk stays views
  // after all (a page of it was not dictionary-encoded). Null rows keep the
  // zero view EnsureViews gave them.
  absl::Status PlaceDeferredViews(Column* out) {
    BOUNCEKIT_PQ_RETURN(EnsureViews(out));
    const uint32_t* const rows = dict_rows_.as<uint32_t>();
    const uint8_t* const validity = out->validity.empty() ? nullptr : out->validity.as<uint8_t>();
    for (const auto& [row, n] : deferred_views_) {
      if (validity == nullptr) {
        PlaceViews(rows + row, row, n, out);
        continue;
      }
      for (int64_t r = row; r < row + n; ++r) {
        if ((validity[r >> 3] >> (r & 7)) & 1) PlaceViews(rows + r, r, 1, out);
      }
    }
    deferred_views_.clear();
    return absl::OkStatus();
  }

  absl::Status PlacePlain(absl::string_view values, int32_t buffer, int64_t base, int64_t present, int64_t row,
                          int64_t n,
                          const uint32_t* levels, Column* out) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(values.data());
    const size_t size = values.size();
    size_t off = 0;
    if (out->kind != Column::Kind::kStringViews) {
      const size_t w = out->kind == Column::Kind::kInt32 ? 4 : 8;
      if (size < static_cast<size_t>(present) * w) return Error("plain values run short");
    }
    if (out->kind == Column::Kind::kStringViews) {
      BOUNCEKIT_PQ_RETURN(EnsureViews(out));
      uint8_t* const views = out->views.as<uint8_t>();
      const char* const limit = values.data() + size;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t r = row + k;
        if (levels != nullptr && !levels[k]) {
          std::memset(views + 16 * r, 0, 16);
          continue;
        }
        if (size - off < 4) return Error("plain strings run short");
        const uint32_t len = Le32(p + off);
        if (len > size - off - 4) return Error("plain strings run short");
        SetView(views + 16 * r, values.data() + off + 4, len, limit, buffer,
                static_cast<int32_t>(base + static_cast<int64_t>(off) + 4));
        off += 4 + len;
      }
      return absl::OkStatus();
    }
    if (levels == nullptr) {  // every row has a value: one copy
      const size_t w = out->kind == Column::Kind::kInt32 ? 4 : 8;
      std::memcpy(out->values.data() + w * static_cast<size_t>(row), p, w * static_cast<size_t>(n));
      return absl::OkStatus();
    }
    int64_t v = 0;
    for (int64_t k = 0; k < n; ++k) {
      const int64_t r = row + k;
      if (!levels[k]) {
        Null(out, r);
        continue;
      }
      if (out->kind == Column::Kind::kInt32) {
        std::memcpy(out->values.as<int32_t>() + r, p + 4 * v, 4);
      } else {
        std::memcpy(out->values.as<int64_t>() + r, p + 8 * v, 8);
      }
      ++v;
    }
    return absl::OkStatus();
  }

  void ToDictionary(Column* out) {
    out->kind = Column::Kind::kStringDictionary;
    out->indices = std::move(dict_rows_);
    const DictString* const strings = dict_strings_.as<DictString>();
    size_t total = 0;
    for (int64_t k = 0; k < dict_size_; ++k) total += strings[k].length;
    out->dict_offsets.resize(static_cast<size_t>(dict_size_) + 1);
    out->dict_data.resize(total);
    int32_t* const offsets = out->dict_offsets.data();
    char* const data = out->dict_data.data();
    size_t at = 0;
    offsets[0] = 0;
    for (int64_t k = 0; k < dict_size_; ++k) {
      std::memcpy(data + at, dict_page_.data() + strings[k].offset, strings[k].length);
      at += strings[k].length;
      offsets[k + 1] = static_cast<int32_t>(at);
    }
    deferred_views_.clear();
    out->views = Buffer();
    out->buffers.clear();
    have_dict_ = false;  // nothing points into the page any more
  }

  absl::string_view file_;
  int64_t base_;
  const ColumnInfo& col_;
  const ChunkInfo& chunk_;
  int64_t rows_;
  std::string where_;
  bool have_dict_ = false;
  BufferPool* pool_;
  Buffer dict_page_;
  struct DictString {
    uint32_t offset;  // in dict_page_
    uint32_t length;
  };
  int64_t dict_size_ = 0;
  Buffer dict_strings_;  // DictString per entry
  Buffer dict_ints_buf_;  // int64 per entry
  bool prefer_dictionary_ = false;
  Buffer dict_rows_;  // dictionary index per row (strings; 0 where null)
  // (row, n): rows whose views PlaceDictionary left to PlaceDeferredViews.
  std::vector<std::pair<int64_t, int64_t>> deferred_views_;
};

}  // namespace

// ------------------------------------------------------------ buffers

struct PoolState {
  std::mutex mu;
  size_t max_free = 0;
  size_t free_bytes = 0;
  size_t out_bytes = 0;   // capacity of the buffers handed out now
  size_t peak_out = 0;    // the most ever out at once
  std::multimap<size_t, char*> free;  // capacity -> memory
  int64_t allocated = 0;  // buffers made
  int64_t reused = 0;     // buffers handed out again
};

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    Release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    pool_ = std::move(o.pool_);
  }
  return *this;
}

void Buffer::Release() {
  if (data_ == nullptr) return;
  bool kept = false;
  if (pool_ != nullptr) {
    std::lock_guard<std::mutex> lock(pool_->mu);
    pool_->out_bytes -= capacity_;
    // Keep what a steady stream needs again: as much as was ever out at
    // once (read-ahead holds several row groups), within 4 x max_free.
    const size_t keep = std::min(std::max(pool_->max_free, pool_->peak_out), 4 * pool_->max_free);
    if (pool_->free_bytes + capacity_ <= keep) {
      pool_->free.emplace(capacity_, data_);
      pool_->free_bytes += capacity_;
      kept = true;
    }
  }
  if (!kept) std::free(data_);
  data_ = nullptr;
  size_ = capacity_ = 0;
  pool_.reset();
}

BufferPool::BufferPool(size_t max_free_bytes) : state_(std::make_shared<PoolState>()) {
  state_->max_free = max_free_bytes;
}

BufferPool::~BufferPool() {
  std::lock_guard<std::mutex> lock(state_->mu);
  for (auto& [cap, p] : state_->free) std::free(p);
  state_->free.clear();
  state_->free_bytes = 0;
  state_->max_free = 0;  // buffers still out are freed when they come back
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return Stats{state_->allocated, state_->reused, state_->free_bytes, state_->peak_out};
}

namespace {
// Capacities are powers of two: the sizes of one column's chunks vary from
// row group to row group, and a class this wide lets the next chunk take the
// buffer the last one gave back. Pages of a buffer that are never written are
// never faulted in, so the slack costs address space, not memory.
size_t SizeClass(size_t size) { return std::bit_ceil(std::max<size_t>(64, size)); }
}  // namespace

Buffer BufferPool::Get(size_t size) {
  Buffer b;
  b.size_ = size;
  b.pool_ = state_;
  const size_t cap = SizeClass(size);
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    // A kept buffer of this class or the next one up (taking much larger
    // ones would leave their own requests to allocate anew).
    auto it = state_->free.lower_bound(cap);
    if (it != state_->free.end() && it->first <= 2 * cap) {
      b.capacity_ = it->first;
      b.data_ = it->second;
      state_->free_bytes -= it->first;
      state_->free.erase(it);
      ++state_->reused;
      state_->out_bytes += b.capacity_;
      state_->peak_out = std::max(state_->peak_out, state_->out_bytes);
      return b;
    }
    ++state_->allocated;
    state_->out_bytes += cap;
    state_->peak_out = std::max(state_->peak_out, state_->out_bytes);
  }
  b.capacity_ = cap;
  b.data_ = static_cast<char*>(std::aligned_alloc(64, b.capacity_));
  if (b.data_ == nullptr) {  // out of memory: an empty buffer, callers check
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->out_bytes -= cap;
    b.size_ = b.capacity_ = 0;
    b.pool_.reset();
  }
  return b;
}

absl::StatusOr<FileInfo> ReadFileInfo(absl::string_view file) {
  if (file.size() < 12 || file.substr(0, 4) != "PAR1") {
    return absl::InvalidArgumentError("not a Parquet file (no PAR1 magic at its start)");
  }
  return ReadFileInfoTail(file, file.size());
}

uint32_t FooterLength(absl::string_view last8) {
  return last8.size() == 8 && last8.substr(4) == "PAR1" ? Le32(reinterpret_cast<const uint8_t*>(last8.data())) : 0;
}

absl::StatusOr<FileInfo> ReadFileInfoTail(absl::string_view tail, uint64_t file_size) {
  if (file_size < 12 || tail.size() < 8 || tail.size() > file_size || tail.substr(tail.size() - 4) != "PAR1") {
    return absl::InvalidArgumentError("not a Parquet file (no PAR1 magic at its end)");
  }
  const uint32_t meta_len = Le32(reinterpret_cast<const uint8_t*>(tail.data()) + tail.size() - 8);
  if (meta_len > file_size - 12) return Corrupt("footer length larger than the file");
  if (meta_len > tail.size() - 8) return absl::InvalidArgumentError("the footer is longer than the bytes given");
  const uint8_t* meta = reinterpret_cast<const uint8_t*>(tail.data()) + tail.size() - 8 - meta_len;
  Thrift t(meta, meta_len);
  FileInfo info;
  std::vector<SchemaElement> schema;
  bool external = false;
  int16_t last = 0, id;
  uint8_t type;
  while (t.Field(&last, &id, &type)) {
    if (id == 2 && type == kList) {
      int64_t n;
      uint8_t elem;
      if (!t.List(&n, &elem) || elem != kStruct) return Corrupt("bad schema list");
      for (int64_t k = 0; k < n && t.ok(); ++k) schema.push_back(ReadSchemaElement(t));
    } else if (id == 3) {
      info.num_rows = t.Int(type);
    } else if (id == 4 && type == kList) {
      int64_t n;
      uint8_t elem;
      if (!t.List(&n, &elem) || elem != kStruct) return Corrupt("bad row group list");
      for (int64_t k = 0; k < n && t.ok(); ++k) {
        RowGroupInfo rg;
        int16_t l2 = 0, id2;
        uint8_t t2;
        while (t.Field(&l2, &id2, &t2)) {
          if (id2 == 1 && t2 == kList) {
            int64_t m;
            uint8_t e2;
            if (!t.List(&m, &e2) || e2 != kStruct) break;
            for (int64_t c = 0; c < m && t.ok(); ++c) rg.chunks.push_back(ReadColumnChunk(t, &external));
          } else if (id2 == 3) {
            rg.num_rows = t.Int(t2);
          } else {
            t.Skip(t2);
          }
        }
        info.row_groups.push_back(std::move(rg));
      }
    } else if (id == 6 && type == kBinary) {
      info.created_by = std::string(t.Binary());
    } else {
      t.Skip(type);
    }
  }
  if (!t.ok()) return Corrupt("the footer (file metadata) is damaged");
  if (external) return absl::UnimplementedError("Parquet column chunks in other files are not read here");
  if (schema.empty() || schema[0].num_children != static_cast<int32_t>(schema.size()) - 1) {
    return absl::UnimplementedError("nested Parquet schemas are not read here");
  }
  for (size_t k = 1; k < schema.size(); ++k) {
    const SchemaElement& e = schema[k];
    ColumnInfo c;
    c.name = e.name;
    if (e.num_children != 0 || e.repetition == 2) {
      return absl::UnimplementedError(absl::StrCat("Parquet column '", e.name, "' is nested or repeated"));
    }
    c.type = static_cast<PhysicalType>(e.type < 0 || e.type > 7 ? 0 : e.type);
    c.optional = e.repetition == 1;
    c.converted_type = e.converted_type;
    c.logical_type = e.logical_type;
    c.int_bits = e.int_bits;
    c.is_signed = e.is_signed && !(e.converted_type >= 11 && e.converted_type <= 14);  // UINT_8..UINT_64
    if (c.int_bits == 0) {
      switch (e.converted_type) {
        case 15: case 11: c.int_bits = 8; break;   // INT_8 / UINT_8
        case 16: case 12: c.int_bits = 16; break;  // INT_16 / UINT_16
        default: break;
      }
    }
    info.columns.push_back(std::move(c));
  }
  int64_t rows = 0;
  for (size_t g = 0; g < info.row_groups.size(); ++g) {
    if (info.row_groups[g].chunks.size() != info.columns.size()) {
      return Corrupt(absl::StrCat("row group ", g, " has ", info.row_groups[g].chunks.size(), " column chunks for ",
                                  info.columns.size(), " columns"));
    }
    if (info.row_groups[g].num_rows < 0) return Corrupt("negative row count");
    rows += info.row_groups[g].num_rows;
  }
  if (rows != info.num_rows) return Corrupt("row groups do not add up to the file's row count");
  return info;
}

namespace {

// Decodes the chunk of (row_group, column) from `bytes`: the whole file, or
// only the chunk's own bytes.
absl::StatusOr<Column> Decode(absl::string_view bytes, bool whole_file, const FileInfo& info, int row_group,
                              int column, bool prefer_dictionary, BufferPool* pool) {
  if (row_group < 0 || row_group >= static_cast<int>(info.row_groups.size()) || column < 0 ||
      column >= static_cast<int>(info.columns.size())) {
    return absl::OutOfRangeError(absl::StrCat("no row group ", row_group, " / column ", column));
  }
  const ColumnInfo& col = info.columns[column];
  const ChunkInfo& c = info.row_groups[row_group].chunks[column];
  BufferPool private_pool(0);
  ChunkDecoder d(bytes, whole_file ? 0 : c.start, col, c, info.row_groups[row_group].num_rows,
                 absl::StrCat("row group ", row_group, ", column '", col.name, "'"),
                 pool != nullptr ? pool : &private_pool);
  return d.Run(prefer_dictionary);
}

}  // namespace

absl::StatusOr<Column> ReadColumn(absl::string_view file, const FileInfo& info, int row_group, int column,
                                  bool prefer_dictionary, BufferPool* pool) {
  return Decode(file, /*whole_file=*/true, info, row_group, column, prefer_dictionary, pool);
}

absl::StatusOr<Column> ReadColumnChunk(absl::string_view chunk, const FileInfo& info, int row_group, int column,
                                       bool prefer_dictionary, BufferPool* pool) {
  return Decode(chunk, /*whole_file=*/false, info, row_group, column, prefer_dictionary, pool);
}

}  // namespace bouncekit::parquet
