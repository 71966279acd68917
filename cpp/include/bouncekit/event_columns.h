// Copyright 2026 The bouncekit authors.
//
// EventColumns: the events of a batch of bounce e-mails as Arrow columns
// (int64 columns, and large_string columns: int64 offsets and the bytes),
// built e-mail by e-mail as ParseBounceEmails reads (it is an
// EmailEventSink), so each event's fields are copied out while they are
// still in cache and no batch of events is kept. The buffers are plain
// heap blocks that a caller can take over (ByteBuffer::Release): the
// Python binding hands them to Arrow without a copy.

#ifndef BOUNCEKIT_EVENT_COLUMNS_H_
#define BOUNCEKIT_EVENT_COLUMNS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/dsn.h"
#include "bouncekit/parse.h"

namespace bouncekit {

// A growable byte buffer. Append is inline: a short piece (the common case:
// most fields are a few dozen bytes) is copied as two overlapping moves of
// 4, 8 or 16 bytes rather than by a call to memcpy with a variable length;
// longer ones with memcpy. It grows by doubling.
//
// Its memory comes in blocks that a caller can take over (Release) and
// must give back with FreeBlock. Large blocks (64 KiB and up) are not
// returned to the C library when freed but kept in a small process-wide
// pool (at most 64 MiB) for the next buffers: a batch's columns are
// megabytes, and glibc maps such blocks afresh for each batch and unmaps
// them when they are freed, so every page of every batch's columns was a
// page fault (~2 of ~45 ms for bench_parse's 10,350 e-mails).
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&& o) noexcept : data_(o.data_), size_(o.size_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.size_ = o.capacity_ = 0;
  }
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    if (this != &o) {
      FreeBlock(data_);
      data_ = o.data_;
      size_ = o.size_;
      capacity_ = o.capacity_;
      o.data_ = nullptr;
      o.size_ = o.capacity_ = 0;
    }
    return *this;
  }
  ~ByteBuffer() { FreeBlock(data_); }

  size_t size() const { return size_; }
  const char* data() const { return data_; }
  char* data() { return data_; }
  void Reserve(size_t n) {
    if (n > capacity_) Grow(n - size_);
  }
  void Append(const void* p, size_t n) {
    if (n > capacity_ - size_) Grow(n);
    char* const out = data_ + size_;
    const char* const in = static_cast<const char*>(p);
    if (n <= 16) {
      CopyShort(out, in, n);
    } else if (n <= 32) {
      std::memcpy(out, in, 16);
      std::memcpy(out + n - 16, in + n - 16, 16);
    } else {
      std::memcpy(out, in, n);
    }
    size_ += n;
  }
  void Append(absl::string_view s) { Append(s.data(), s.size()); }
  template <typename T>
  void AppendValue(T v) {
    if (sizeof(T) > capacity_ - size_) Grow(sizeof(T));
    std::memcpy(data_ + size_, &v, sizeof(T));
    size_ += sizeof(T);
  }
  // The memory (size() bytes), for the caller to give back with FreeBlock;
  // the buffer is left empty. Never null.
  char* Release();
  // Gives back a block from Release (null: nothing).
  static void FreeBlock(char* data);
  // Bytes kept in the pool (tests).
  static size_t PooledBytes();

 private:
  // n <= 16 bytes, every byte read and written inside [in, in + n) and
  // [out, out + n).
  static void CopyShort(char* out, const char* in, size_t n) {
    if (n >= 8) {
      std::memcpy(out, in, 8);
      std::memcpy(out + n - 8, in + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(out, in, 4);
      std::memcpy(out + n - 4, in + n - 4, 4);
    } else if (n > 0) {
      out[0] = in[0];
      out[n / 2] = in[n / 2];
      out[n - 1] = in[n - 1];
    }
  }
  // Room for `need` more bytes.
  void Grow(size_t need);

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// One large_string column: offsets (int64, one more than strings) and bytes.
struct StringColumnBuffers {
  ByteBuffer offsets;
  ByteBuffer bytes;
  size_t size() const { return offsets.size() / sizeof(int64_t) - 1; }
  void Append(absl::string_view s) {
    bytes.Append(s);
    offsets.AppendValue(static_cast<int64_t>(bytes.size()));
  }
};

// "<input>[i]", the name of item i of a caller's list of raw records, into
// `out` (at least EventColumns::kInputNameMax bytes); returns its length.
size_t FormatInputName(int64_t i, char* out);

class EventColumns final : public EmailEventSink {
 public:
  // The string columns, in the order of BounceEvent's fields.
  static constexpr int kStrings = 16;
  static constexpr std::array<const char*, kStrings> kStringNames = {
      "kind",        "recipient",    "time",          "message_id", "enhanced_status", "diagnostic",
      "diagnostic_type", "action",   "remote_host",   "smtp_command", "source_format",  "sender",
      "campaign",    "esp_event",    "esp_class",     "esp_subclass"};

  // Room for `expected_events` events in the offsets and integer columns.
  // With name_base >= 0 there is also a column `source`, each event's
  // record named "<input>[name_base + record]".
  explicit EventColumns(size_t expected_events, int64_t name_base = -1);
  // Room FormatInputName needs.
  static constexpr size_t kInputNameMax = 40;

  // EmailEventSink: appends the events (an event's empty time, message_id
  // or sender takes the e-mail's shared value). The source names assume the
  // events of one record per call, as ParseBounceEmails gives them.
  void Take(absl::Span<const BounceEvent> events, absl::string_view message_id, absl::string_view time,
            absl::string_view sender) override;

  size_t num_events() const { return record.size() / sizeof(int64_t); }

  // The columns (the caller may Release their buffers once done).
  ByteBuffer record, offset, reply_code;  // int64 each
  std::array<StringColumnBuffers, kStrings> strings;
  StringColumnBuffers destination;  // the recipient's part after its last '@'
  StringColumnBuffers source;       // with name_base >= 0 only
  bool has_source() const { return name_base_ >= 0; }

 private:
  int64_t name_base_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_EVENT_COLUMNS_H_
