// Copyright 2026 The bouncekit authors.

#include "bouncekit/event_columns.h"

#include <charconv>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace bouncekit {
namespace {

// A block: a header of kHeader bytes (its capacity), then the data.
constexpr size_t kHeader = 64;
constexpr size_t kPoolMinBlock = size_t{64} << 10;
constexpr size_t kPoolMaxBytes = size_t{64} << 20;
constexpr size_t kPoolMaxBlocks = 64;

size_t CapacityOf(const char* data) {
  size_t c;
  std::memcpy(&c, data - kHeader, sizeof(c));
  return c;
}

struct BlockPool {
  absl::Mutex mu;
  std::vector<char*> blocks ABSL_GUARDED_BY(mu);  // data pointers
  size_t bytes ABSL_GUARDED_BY(mu) = 0;
};

BlockPool& Pool() {
  static BlockPool* const pool = new BlockPool;  // (never destroyed: blocks may come back at exit)
  return *pool;
}

// A block of at least `min` bytes: the smallest pooled one that fits and
// wastes no more than 3/4 of itself, else a new one.
char* AllocateBlock(size_t min) {
  if (min >= kPoolMinBlock) {
    BlockPool& pool = Pool();
    absl::MutexLock lock(&pool.mu);
    size_t best = pool.blocks.size();
    for (size_t i = 0; i < pool.blocks.size(); ++i) {
      const size_t c = CapacityOf(pool.blocks[i]);
      if (c >= min && c / 4 <= min && (best == pool.blocks.size() || c < CapacityOf(pool.blocks[best]))) best = i;
    }
    if (best < pool.blocks.size()) {
      char* data = pool.blocks[best];
      pool.blocks[best] = pool.blocks.back();
      pool.blocks.pop_back();
      pool.bytes -= CapacityOf(data);
      return data;
    }
  }
  // (operator new: out of memory ends the batch as it would for any
  // std::string of the reader.)
  char* block = static_cast<char*>(::operator new(kHeader + min));
  std::memcpy(block, &min, sizeof(min));
  return block + kHeader;
}

}  // namespace

void ByteBuffer::FreeBlock(char* data) {
  if (data == nullptr) return;
  const size_t c = CapacityOf(data);
  if (c >= kPoolMinBlock) {
    BlockPool& pool = Pool();
    absl::MutexLock lock(&pool.mu);
    if (pool.blocks.size() < kPoolMaxBlocks && pool.bytes + c <= kPoolMaxBytes) {
      pool.blocks.push_back(data);
      pool.bytes += c;
      return;
    }
  }
  ::operator delete(data - kHeader);
}

size_t ByteBuffer::PooledBytes() {
  BlockPool& pool = Pool();
  absl::MutexLock lock(&pool.mu);
  return pool.bytes;
}

void ByteBuffer::Grow(size_t need) {
  size_t cap = capacity_ < 256 ? 256 : capacity_ * 2;
  while (cap - size_ < need) cap *= 2;
  char* data = AllocateBlock(cap);
  if (size_ > 0) std::memcpy(data, data_, size_);
  FreeBlock(data_);
  data_ = data;
  capacity_ = CapacityOf(data);
}

char* ByteBuffer::Release() {
  if (data_ == nullptr) Grow(0);
  char* data = data_;
  data_ = nullptr;
  size_ = capacity_ = 0;
  return data;
}

size_t FormatInputName(int64_t i, char* out) {
  std::memcpy(out, "<input>[", 8);
  char* end = std::to_chars(out + 8, out + EventColumns::kInputNameMax - 1, i).ptr;
  *end++ = ']';
  return static_cast<size_t>(end - out);
}

EventColumns::EventColumns(size_t expected_events, int64_t name_base) : name_base_(name_base) {
  const size_t offsets = (expected_events + 1) * sizeof(int64_t);
  for (ByteBuffer* b : {&record, &offset, &reply_code}) b->Reserve(expected_events * sizeof(int64_t));
  auto start = [&](StringColumnBuffers* c) {
    c->offsets.Reserve(offsets);
    c->offsets.AppendValue(int64_t{0});
  };
  for (StringColumnBuffers& c : strings) start(&c);
  start(&destination);
  if (has_source()) start(&source);
}

void EventColumns::Take(absl::Span<const BounceEvent> events, absl::string_view message_id,
                        absl::string_view time, absl::string_view sender) {
  auto own_or = [](const std::string& own, absl::string_view shared) {
    return own.empty() ? shared : absl::string_view(own);
  };
  // "<input>[i]": all of an e-mail's events have its record.
  char name[kInputNameMax];
  size_t name_size = 0;
  if (has_source() && !events.empty()) name_size = FormatInputName(name_base_ + events.front().record, name);
  for (const BounceEvent& e : events) {
    if (has_source()) source.Append(absl::string_view(name, name_size));
    record.AppendValue(e.record);
    offset.AppendValue(e.offset);
    reply_code.AppendValue(int64_t{e.reply_code});
    strings[0].Append(e.kind);
    strings[1].Append(e.recipient);
    strings[2].Append(own_or(e.time, time));
    strings[3].Append(own_or(e.message_id, message_id));
    strings[4].Append(e.enhanced_status);
    strings[5].Append(e.diagnostic);
    strings[6].Append(e.diagnostic_type);
    strings[7].Append(e.action);
    strings[8].Append(e.remote_host);
    strings[9].Append(e.smtp_command);
    strings[10].Append(e.source_format);
    strings[11].Append(own_or(e.sender, sender));
    strings[12].Append(e.campaign);
    strings[13].Append(e.esp_event);
    strings[14].Append(e.esp_class);
    strings[15].Append(e.esp_subclass);
    const absl::string_view r = e.recipient;
    const size_t at = r.rfind('@');
    destination.Append(at == absl::string_view::npos ? r : r.substr(at + 1));
  }
}

}  // namespace bouncekit
