// Copyright 2026 The bouncekit authors.
//
// Internal containers of the history engine (history.cc): a growable buffer
// of trivially copyable values, the recipient interner, the W3 group table
// and the per-partition event lists. They are tuned for 10^8 rows: compact
// slots, no per-element allocation, and prefetch hooks so that the ingest
// loop can have many cache misses in flight at once.

#ifndef BOUNCEKIT_SRC_INTERNAL_HISTORY_TABLES_H_
#define BOUNCEKIT_SRC_INTERNAL_HISTORY_TABLES_H_

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"

namespace bouncekit::internal {

// Cache prefetch hints. GCC deletes a loop whose only effect is
// __builtin_prefetch, so on x86 the instruction is emitted as volatile asm.
inline void PrefetchRead(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}
inline void PrefetchWrite(const void* p) { PrefetchRead(p); }

// Keeps the reads that computed `v` from being optimised away.
inline void KeepValue(uint64_t v) {
#if defined(__GNUC__)
  asm volatile("" : : "r"(v));
#else
  static volatile uint64_t sink;
  sink = v;
#endif
}

// 64-bit finalizer (from MurmurHash3): a good mix for integer keys.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb93fe53e87e5ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// 64x64 -> 128-bit multiply, folded to 64 bits.
inline uint64_t MulFold(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// A fast, well-mixed hash of a byte string, inlined into the ingest loop
// (the wyhash construction: 16 bytes per multiply, short strings read as
// overlapping words). Fixed seed: ids and results never depend on it.
inline uint64_t HashBytes(const char* p, size_t n) {
  constexpr uint64_t k0 = 0x2d358dccaa6c78a5ULL, k1 = 0x8bb84b93962eacc9ULL;
  uint64_t seed = MulFold(k0 ^ 0x4b33a62ed433d4a3ULL, k1);
  uint64_t a, b;
  if (n <= 16) {
    if (n >= 4) {
      const size_t q = (n >> 3) << 2;
      a = (Load32(p) << 32) | Load32(p + q);
      b = (Load32(p + n - 4) << 32) | Load32(p + n - 4 - q);
    } else if (n > 0) {
      a = (uint64_t{static_cast<uint8_t>(p[0])} << 16) | (uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8) |
          static_cast<uint8_t>(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = n;
    while (i > 16) {
      seed = MulFold(Load64(p) ^ k1, Load64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = Load64(p + i - 16);
    b = Load64(p + i - 8);
  }
  a ^= k1;
  b ^= seed;
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return MulFold(static_cast<uint64_t>(r) ^ k0 ^ n, static_cast<uint64_t>(r >> 64) ^ k1);
}

// Byte equality of two buffers of length n, inlined for short strings.
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (Load64(a + i) != Load64(b + i)) return false;
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// A std::vector-like buffer of trivially copyable T that grows with
// realloc(): large buffers are moved by the kernel (mremap) instead of being
// copied, so growing never holds two copies. Allocation failure is reported
// by Grow() returning false.
template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PodVector() = default;
  ~PodVector() { std::free(data_); }
  PodVector(const PodVector&) = delete;
  PodVector& operator=(const PodVector&) = delete;
  PodVector(PodVector&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  PodVector& operator=(PodVector&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Makes room for at least `n` elements in total.
  bool Reserve(size_t n) {
    if (n <= capacity_) return true;
    size_t cap = capacity_ < 16 ? 16 : capacity_ + capacity_ / 2;
    if (cap < n) cap = n;
    void* p = std::realloc(data_, cap * sizeof(T));
    if (p == nullptr) return false;
    data_ = static_cast<T*>(p);
    capacity_ = cap;
    return true;
  }
  // Appends `n` uninitialised elements; returns a pointer to the first one,
  // or nullptr when memory runs out.
  T* Extend(size_t n) {
    if (size_ + n > capacity_ && !Reserve(size_ + n)) return nullptr;
    T* p = data_ + size_;
    size_ += n;
    return p;
  }
  bool PushBack(const T& v) {
    T* p = Extend(1);
    if (p == nullptr) return false;
    *p = v;
    return true;
  }
  // Resizes; new elements are zero.
  bool ResizeZeroed(size_t n) {
    if (n > size_) {
      if (!Reserve(n)) return false;
      std::memset(static_cast<void*>(data_ + size_), 0, (n - size_) * sizeof(T));
    }
    size_ = n;
    return true;
  }
  void Clear() {
    std::free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
  }
  // Empties the buffer but keeps its memory for reuse.
  void ClearKeepCapacity() { size_ = 0; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Interns strings into dense ids 0, 1, 2, ... in first-seen order, with a
// 32-bit payload fixed when the string is first seen. Each distinct string is
// copied once into an arena as [u32 length][u32 id][u32 payload][bytes]; the
// hash table is open addressing (linear probing) over 8-byte slots holding a
// 24-bit hash tag and the entry's arena offset, so a lookup touches one slot
// and one arena entry, and both can be prefetched.
class StringInterner {
 public:
  struct Entry {
    uint32_t id;
    uint32_t payload;
  };
  static constexpr size_t kMaxLength = 0xffffffffu;

  StringInterner() { Rehash(kInitialCapacity); }
  // Starts with room for `capacity` slots (a power of two).
  explicit StringInterner(size_t capacity) { Rehash(capacity); }

  static uint64_t Hash(absl::string_view s) { return HashBytes(s.data(), s.size()); }

  void PrefetchSlot(uint64_t hash) const { PrefetchRead(&slots_[hash & mask_]); }
  // Reads the home slot of `hash` (prefetch it first) and, when the tag
  // matches, prefetches the arena entry it points to, assumed `length` bytes.
  void PrefetchEntry(uint64_t hash, size_t length) const {
    const uint64_t slot = slots_[hash & mask_];
    if (slot != 0 && (slot >> kTagShift) == (hash >> kTagShift)) {
      const char* e = arena_.data() + (slot & kOffsetMask) - 1;
      PrefetchRead(e);
      PrefetchRead(e + kHeader + length - 1);  // an entry may straddle two lines
    }
  }

  // Finds `s` (with hash Hash(s)) or inserts it with payload make_payload().
  // Returns false when memory runs out or `s` is longer than kMaxLength.
  template <typename MakePayload>
  bool FindOrInsert(absl::string_view s, uint64_t hash, MakePayload&& make_payload, Entry* out) {
    const uint64_t tag = hash >> kTagShift;
    size_t i = hash & mask_;
    for (;;) {
      const uint64_t slot = slots_[i];
      if (slot == 0) break;
      if ((slot >> kTagShift) == tag) {
        const char* e = arena_.data() + (slot & kOffsetMask) - 1;
        uint32_t len;
        std::memcpy(&len, e, 4);
        if (len == s.size() && BytesEqual(e + kHeader, s.data(), len)) {
          std::memcpy(&out->id, e + 4, 4);
          std::memcpy(&out->payload, e + 8, 4);
          return true;
        }
      }
      i = (i + 1) & mask_;
    }
    if (s.size() > kMaxLength) return false;
    const uint32_t payload = make_payload();
    const size_t off = arena_.size();
    const size_t need = (kHeader + s.size() + 3) & ~size_t{3};  // 4-byte aligned entries
    if (off + need >= kOffsetMask) return false;
    char* e = arena_.Extend(need);
    if (e == nullptr || !offsets_.PushBack(off)) return false;
    const uint32_t len = static_cast<uint32_t>(s.size());
    const uint32_t id = static_cast<uint32_t>(size_);
    std::memcpy(e, &len, 4);
    std::memcpy(e + 4, &id, 4);
    std::memcpy(e + 8, &payload, 4);
    if (len > 0) std::memcpy(e + kHeader, s.data(), len);
    slots_[i] = (tag << kTagShift) | (off + 1);
    ++size_;
    out->id = id;
    out->payload = payload;
    if (size_ * 4 > capacity_ * 3 && !Rehash(capacity_ * 2)) return false;  // load <= 3/4
    return true;
  }

  // Reads the whole table and arena once, in address order (which the
  // hardware prefetches well), before a burst of lookups into it: cheaper
  // than meeting each line by a random miss when most lines will be hit.
  uint64_t Warm() const {
    uint64_t sum = 0;
    for (size_t i = 0; i < capacity_; i += 8) sum += slots_[i];
    const char* a = arena_.data();
    for (size_t i = 0; i + 8 <= arena_.size(); i += 64) sum += Load64(a + i);
    return sum;
  }

  size_t size() const { return size_; }
  absl::string_view Get(uint32_t id) const {
    const char* e = arena_.data() + offsets_[id];
    uint32_t len;
    std::memcpy(&len, e, 4);
    return absl::string_view(e + kHeader, len);
  }
  uint32_t Payload(uint32_t id) const {
    uint32_t p;
    std::memcpy(&p, arena_.data() + offsets_[id] + 8, 4);
    return p;
  }
  // Frees the hash table; Get() and Payload() keep working.
  void DropIndex() {
    slots_.Clear();
    capacity_ = 0;
    mask_ = 0;
  }
  int64_t MemoryUsage() const {
    return static_cast<int64_t>(slots_.capacity() * 8 + arena_.capacity() + offsets_.capacity() * 8);
  }

 private:
  static constexpr size_t kInitialCapacity = 1024;
  static constexpr size_t kHeader = 12;
  static constexpr int kTagShift = 40;
  static constexpr uint64_t kOffsetMask = (uint64_t{1} << kTagShift) - 1;

  bool Rehash(size_t capacity) {
    PodVector<uint64_t> slots;
    if (!slots.ResizeZeroed(capacity)) return false;
    const size_t mask = capacity - 1;
    // Entries lie in the arena in id order: a sequential scan.
    for (size_t k = 0; k < size_; ++k) {
      const char* e = arena_.data() + offsets_[k];
      uint32_t len;
      std::memcpy(&len, e, 4);
      const uint64_t h = Hash(absl::string_view(e + kHeader, len));
      size_t i = h & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = ((h >> kTagShift) << kTagShift) | (offsets_[k] + 1);
    }
    slots_ = std::move(slots);
    capacity_ = capacity;
    mask_ = mask;
    return true;
  }

  PodVector<uint64_t> slots_;
  size_t capacity_ = 0;
  size_t mask_ = 0;
  size_t size_ = 0;
  PodVector<char> arena_;
  PodVector<uint64_t> offsets_;  // id -> arena offset of its entry
};

// W3 counters of one (campaign index, domain id) group, by EventClass.
struct GroupCounts {
  uint32_t campaign;  // dense campaign index
  uint32_t domain;    // domain id
  uint32_t counts[5];
};

// (campaign index, domain id) -> GroupCounts, open addressing over 4-byte
// slots (group index + 1); the key lives in the group itself.
class GroupTable {
 public:
  GroupTable() { Rehash(kInitialCapacity); }

  static uint64_t Hash(uint32_t campaign, uint32_t domain) {
    return Mix64((uint64_t{campaign} << 32) | domain);
  }
  void PrefetchSlot(uint64_t hash) const { PrefetchRead(&slots_[hash & mask_]); }
  void PrefetchGroup(uint64_t hash) const {
    const uint32_t s = slots_[hash & mask_];
    if (s != 0) PrefetchWrite(&groups_[s - 1]);
  }

  // The group's counters (created at zero when new); nullptr when memory runs out.
  GroupCounts* FindOrInsert(uint32_t campaign, uint32_t domain, uint64_t hash) {
    size_t i = hash & mask_;
    for (;;) {
      const uint32_t s = slots_[i];
      if (s == 0) break;
      GroupCounts& g = groups_[s - 1];
      if (g.campaign == campaign && g.domain == domain) return &g;
      i = (i + 1) & mask_;
    }
    GroupCounts* g = groups_.Extend(1);
    if (g == nullptr) return nullptr;
    *g = GroupCounts{campaign, domain, {0, 0, 0, 0, 0}};
    slots_[i] = static_cast<uint32_t>(groups_.size());
    if (groups_.size() * 2 > capacity_) {  // load <= 1/2
      if (!Rehash(capacity_ * 2)) return nullptr;
      return &groups_[groups_.size() - 1];
    }
    return g;
  }

  size_t size() const { return groups_.size(); }
  const GroupCounts& group(size_t i) const { return groups_[i]; }
  void DropIndex() {
    slots_.Clear();
    capacity_ = mask_ = 0;
  }
  void Clear() {
    DropIndex();
    groups_.Clear();
  }
  int64_t MemoryUsage() const {
    return static_cast<int64_t>(slots_.capacity() * 4 + groups_.capacity() * sizeof(GroupCounts));
  }

 private:
  static constexpr size_t kInitialCapacity = 1024;

  bool Rehash(size_t capacity) {
    PodVector<uint32_t> slots;
    if (!slots.ResizeZeroed(capacity)) return false;
    const size_t mask = capacity - 1;
    for (size_t k = 0; k < groups_.size(); ++k) {
      size_t i = Hash(groups_[k].campaign, groups_[k].domain) & mask;
      while (slots[i] != 0) i = (i + 1) & mask;
      slots[i] = static_cast<uint32_t>(k + 1);
    }
    slots_ = std::move(slots);
    capacity_ = capacity;
    mask_ = mask;
    return true;
  }

  PodVector<uint32_t> slots_;
  size_t capacity_ = 0;
  size_t mask_ = 0;
  PodVector<GroupCounts> groups_;
};

// Streams one 64-byte line (both 64-byte aligned) to memory with
// non-temporal stores: the destination line is not read first.
inline void StreamLine(char* dst, const char* src) {
#if defined(__SSE2__)
  const __m128i* in = reinterpret_cast<const __m128i*>(src);
  __m128i* out = reinterpret_cast<__m128i*>(dst);
  _mm_stream_si128(out, _mm_load_si128(in));
  _mm_stream_si128(out + 1, _mm_load_si128(in + 1));
  _mm_stream_si128(out + 2, _mm_load_si128(in + 2));
  _mm_stream_si128(out + 3, _mm_load_si128(in + 3));
#else
  std::memcpy(dst, src, 64);
#endif
}

// Orders earlier non-temporal stores before what follows.
inline void StreamFence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

class BlockArena;
void* ArenaAllocate(BlockArena* arena, size_t bytes);

// A byte buffer whose start is 64-byte aligned and whose size is a whole
// number of 64-byte lines, filled by WriteCombiner. Growing copies (it is
// reused, so it grows rarely). With an arena (set_arena) the first block
// comes from it, later (outgrowing) ones from the heap.
class LineBuffer {
 public:
  static constexpr size_t kLine = 64;
  LineBuffer() = default;
  ~LineBuffer() { Clear(); }
  LineBuffer(const LineBuffer&) = delete;
  LineBuffer& operator=(const LineBuffer&) = delete;

  void set_arena(BlockArena* arena) { arena_ = arena; }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Appends `lines` lines; returns the first, or nullptr when memory runs out.
  char* ExtendLines(size_t lines) {
    const size_t need = size_ + lines * kLine;
    if (need > capacity_) {
      size_t cap = capacity_ < 4096 ? 4096 : capacity_ + capacity_ / 2;
      if (!Reserve(cap < need ? need : cap)) return nullptr;
    }
    char* out = data_ + size_;
    size_ = need;
    return out;
  }
  // Makes room for `bytes` in all.
  bool Reserve(size_t bytes) {
    if (bytes <= capacity_) return true;
    const size_t cap = (bytes + kLine - 1) & ~(kLine - 1);
    const bool from_arena = arena_ != nullptr && data_ == nullptr;
    char* p = static_cast<char*>(from_arena ? ArenaAllocate(arena_, cap) : std::aligned_alloc(kLine, cap));
    if (p == nullptr) return false;
    if (size_ > 0) std::memcpy(p, data_, size_);
    if (!in_arena_) std::free(data_);
    in_arena_ = from_arena;
    data_ = p;
    capacity_ = cap;
    return true;
  }
  void ClearKeepCapacity() { size_ = 0; }
  void Clear() {
    if (!in_arena_) std::free(data_);
    data_ = nullptr;
    in_arena_ = false;
    size_ = capacity_ = 0;
  }

 private:
  BlockArena* arena_ = nullptr;
  bool in_arena_ = false;  // data_ belongs to arena_
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Software write-combining into many LineBuffer regions at once (a radix
// scatter): the 8-byte words of each stream collect in a cache-resident
// 64-byte line, which goes out whole with non-temporal stores, so the
// destinations are never read and the store buffer does not fill with
// misses. Words are stored and reloaded at the same size and address, so
// the reload is forwarded from the store buffer. Each stream writes into a
// region reserved for it (whole lines). A stream's buffer holds two lines,
// so that a whole record of up to 8 words (PutRecord) is stored without a
// check per word; the second line moves down once the first has gone out.
class WriteCombiner {
 public:
  explicit WriteCombiner(size_t streams) : lines_(streams), fill_(streams, 0), dst_(streams, nullptr) {}

  // Appends head[0..3) and then n bytes zero-padded to a multiple of 8.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void PutRecord(size_t stream, const uint64_t (&head)[3], const char* src, size_t n) {
    uint32_t f = fill_[stream];
    const size_t words = (n + 7) / 8;
    if (words > 5) {  // a long string: word by word
      for (uint64_t w : head) PutWord(stream, w);
      PutBytes(stream, src, n);
      return;
    }
    uint64_t* const line = lines_[stream].words;  // f < 8, so f + 3 + words <= 16
    line[f] = head[0];
    line[f + 1] = head[1];
    line[f + 2] = head[2];
    f += 3;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) line[f++] = Load64(src + i);
    if (i < n) {
      const size_t r = n - i;
      uint64_t w;
      if (n >= 8) {
        w = Load64(src + n - 8) >> (8 * (8 - r));  // the last r bytes, little-endian
      } else {
        w = 0;
        std::memcpy(&w, src, r);
      }
      line[f++] = w;
    }
    if (f >= 8) {
      Flush(stream);
      f -= 8;
      std::memcpy(line, line + 8, 64);  // fixed size: a few vector moves
    }
    fill_[stream] = f;
  }

  void Start(size_t stream, char* region) {
    dst_[stream] = region;
    fill_[stream] = 0;
  }
  void PutWord(size_t stream, uint64_t w) {
    uint32_t fill = fill_[stream];
    lines_[stream].words[fill] = w;
    if (++fill == 8) {
      Flush(stream);
      fill = 0;
    }
    fill_[stream] = fill;
  }
  // Appends n bytes, zero-padded to a multiple of 8.
  void PutBytes(size_t stream, const char* src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) PutWord(stream, Load64(src + i));
    const size_t r = n - i;
    if (r == 0) return;
    uint64_t w;
    if (n >= 8) {
      w = Load64(src + n - 8) >> (8 * (8 - r));  // the last r bytes, little-endian
    } else {
      w = 0;
      std::memcpy(&w, src + i, r);
    }
    PutWord(stream, w);
  }
  // 8-byte words in the stream's current, unfinished line.
  uint32_t fill(size_t stream) const { return fill_[stream]; }
  // Writes out the stream's unfinished line (its unused words are undefined).
  void Finish(size_t stream) {
    if (fill_[stream] > 0) {
      Flush(stream);
      fill_[stream] = 0;
    }
  }

 private:
  struct alignas(64) Line {
    uint64_t words[16];  // the line being filled, and what overflows it
  };
  void Flush(size_t stream) {
    const uint64_t* w = lines_[stream].words;
    char* dst = dst_[stream];
#if defined(__SSE2__) && defined(__x86_64__)
    for (int k = 0; k < 8; ++k) {
      _mm_stream_si64(reinterpret_cast<long long*>(dst + 8 * k), static_cast<long long>(w[k]));
    }
#else
    std::memcpy(dst, w, 64);
#endif
    dst_[stream] = dst + 64;
  }

  std::vector<Line> lines_;
  std::vector<uint32_t> fill_;
  std::vector<char*> dst_;
};

// A bump allocator for big, long-lived blocks (W2 event lists, staging
// buffers): chunks from 256 KiB doubling to 32 MiB, from 4 MiB on 2 MiB
// aligned. Transparent huge pages (MADV_HUGEPAGE) are asked for only once
// the arena holds kHugePagesFrom: they save TLB misses over big tables,
// but on virtual machines that hand free memory back to the host (balloon
// free page reporting, e.g. Firecracker) a fresh huge page is often one the
// host must back again, and faulting it in cost 2-5x more per byte than
// 4 KiB pages. On the 2-core benchmark VM, W2 end to end: at 10^7 rows
// (arenas of 40-80 MiB) median 1.29 s wall / 2.06 s CPU with huge pages
// throughout, 1.13 s / 1.76 s without (8 alternating runs, each after a
// DuckDB run as in bench_history.py); at 10^8 rows (arenas of 300-400 MiB)
// 9.5-10.5 s with them, 9.9-11.4 s without.
// Everything is freed at once when the arena goes. Not thread-safe.
class BlockArena {
 public:
  BlockArena() = default;
  ~BlockArena() {
    for (const Chunk& c : chunks_) Release(c);
  }
  BlockArena(const BlockArena&) = delete;
  BlockArena& operator=(const BlockArena&) = delete;

  // `bytes` (64-byte aligned), or nullptr when memory runs out.
  void* Allocate(size_t bytes) {
    bytes = (bytes + 63) & ~size_t{63};
    if (bytes > static_cast<size_t>(end_ - next_)) {
      size_t size = chunks_.empty() ? kFirstChunk : std::min(kChunk, 2 * chunks_.back().size);
      if (size < bytes) size = (bytes + kHuge - 1) & ~(kHuge - 1);
      Chunk c = Map(size, mapped_ >= kHugePagesFrom);
      if (c.base == nullptr) return nullptr;
      chunks_.push_back(c);
      mapped_ += size;
      next_ = c.data;
      end_ = c.data + size;
    }
    void* out = next_;
    next_ += bytes;
    return out;
  }
  int64_t MemoryUsage() const {
    int64_t n = 0;
    for (const Chunk& c : chunks_) n += static_cast<int64_t>(c.size);
    return n;
  }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  static constexpr size_t kChunk = size_t{32} << 20;
  static constexpr size_t kFirstChunk = size_t{256} << 10;
  static constexpr size_t kHugePagesFrom = size_t{128} << 20;
  struct Chunk {
    void* base;    // what to release
    size_t bytes;  // how much was mapped
    char* data;    // 2 MiB aligned start
    size_t size;   // usable bytes from data
  };

  static Chunk Map(size_t size, bool huge_pages) {
#if defined(__linux__)
    if (size < 2 * kHuge) {  // small: not aligned
      void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return Chunk{nullptr, 0, nullptr, 0};
      return Chunk{p, size, static_cast<char*>(p), size};
    }
    const size_t bytes = size + kHuge;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return Chunk{nullptr, 0, nullptr, 0};
    char* data = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1));
#if defined(MADV_HUGEPAGE)
    if (huge_pages) madvise(data, size, MADV_HUGEPAGE);  // a hint: nothing changes where THP is off
#endif
    return Chunk{p, bytes, data, size};
#else
    (void)huge_pages;
    void* p = std::aligned_alloc(64, size);
    return Chunk{p, size, static_cast<char*>(p), p == nullptr ? 0 : size};
#endif
  }
  static void Release(const Chunk& c) {
#if defined(__linux__)
    munmap(c.base, c.bytes);
#else
    std::free(c.base);
#endif
  }

  std::vector<Chunk> chunks_;
  char* next_ = nullptr;
  char* end_ = nullptr;
  size_t mapped_ = 0;  // bytes of all chunks
};

inline void* ArenaAllocate(BlockArena* arena, size_t bytes) { return arena->Allocate(bytes); }

// One W2 event as stored by the accumulator, in 8 bytes: the recipient's
// index inside its partition with the event's PolicyClass (local << 2 |
// class), and its ts as an offset from the accumulator's ts base. A soft
// event's campaign index goes to a list of its own (only soft events need
// it, and they are a few percent of a history); events whose ts is outside
// the base's 32-bit window, or whose recipient index needs more than 30
// bits, are kept whole as EventRecords instead.
struct NarrowRecord {
  uint32_t local_class;
  uint32_t ts_offset;
};
static_assert(sizeof(NarrowRecord) == 8);

// One W2 event, whole: the recipient's index inside its partition, its
// campaign index and class (campaign << 2 | PolicyClass), and its ts.
struct EventRecord {
  uint32_t local;
  uint32_t campaign_class;
  int64_t ts;
};
static_assert(sizeof(EventRecord) == 16);

// An append-only list of records of type T (4, 8 or 16 bytes) in 64-byte
// aligned blocks (16 KiB first, doubling up to 64 KiB): no reallocation,
// little slack (at most one part-filled block per list).
// Blocks come from the heap (freed by Clear) or from an arena. Appends are
// staged in one cache line and written out a full line at a time with
// non-temporal stores, so that the destination lines are never read from
// memory.
template <typename T>
class RecordList {
 public:
  static_assert(64 % sizeof(T) == 0);
  RecordList() = default;
  ~RecordList() { Clear(); }
  RecordList(const RecordList&) = delete;
  RecordList& operator=(const RecordList&) = delete;

  bool Append(const T& r) {
    staged_[num_staged_++] = r;
    ++size_;
    return num_staged_ < kLine || WriteLine();
  }

  size_t size() const { return size_; }

  // Calls f(const T&) for every record in insertion order.
  template <typename F>
  void ForEach(F&& f) const {
    size_t cap = kFirstBlock;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const size_t n = b + 1 == blocks_.size() ? last_fill_ : cap;
      const T* p = blocks_[b];
      for (size_t i = 0; i < n; ++i) f(p[i]);
      cap = cap >= kMaxBlock ? kMaxBlock : cap * 2;
    }
    for (uint32_t i = 0; i < num_staged_; ++i) f(staged_[i]);
  }

  // Blocks come from `arena` (which must outlive the list) instead of the heap.
  void set_arena(BlockArena* arena) { arena_ = arena; }

  void Clear() {
    if (arena_ == nullptr) {
      for (T* b : blocks_) std::free(b);
    }
    blocks_.clear();
    blocks_.shrink_to_fit();
    last_fill_ = last_capacity_ = size_ = 0;
    num_staged_ = 0;
  }

  int64_t MemoryUsage() const {
    int64_t bytes = 0;
    size_t cap = kFirstBlock;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      bytes += static_cast<int64_t>(cap * sizeof(T));
      cap = cap >= kMaxBlock ? kMaxBlock : cap * 2;
    }
    return bytes;
  }

  // Orders the non-temporal stores of all lists before what follows.
  static void Fence() { StreamFence(); }

 private:
  static constexpr size_t kFirstBlock = (size_t{16} << 10) / sizeof(T);
  static constexpr size_t kMaxBlock = (size_t{64} << 10) / sizeof(T);
  static constexpr uint32_t kLine = 64 / sizeof(T);

  // Moves the full staging line to the last block.
  bool WriteLine() {
    if (last_fill_ == last_capacity_) {
      const size_t cap = last_capacity_ == 0 ? kFirstBlock
                         : last_capacity_ >= kMaxBlock ? kMaxBlock
                                                       : last_capacity_ * 2;
      auto* b = static_cast<T*>(arena_ != nullptr ? arena_->Allocate(cap * sizeof(T))
                                                  : std::aligned_alloc(64, cap * sizeof(T)));
      if (b == nullptr) return false;
      blocks_.push_back(b);
      last_capacity_ = cap;
      last_fill_ = 0;
    }
    static_assert(sizeof(staged_) == 64);
    StreamLine(reinterpret_cast<char*>(blocks_.back() + last_fill_), reinterpret_cast<const char*>(staged_));
    last_fill_ += kLine;
    num_staged_ = 0;
    return true;
  }

  alignas(64) T staged_[kLine];
  uint32_t num_staged_ = 0;
  std::vector<T*> blocks_;
  BlockArena* arena_ = nullptr;
  size_t last_fill_ = 0;
  size_t last_capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_HISTORY_TABLES_H_
