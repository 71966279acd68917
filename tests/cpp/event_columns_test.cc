// Copyright 2026 The bouncekit authors.

#include "bouncekit/event_columns.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bouncekit/dsn.h"
#include "test_files.h"

namespace bouncekit {
namespace {

// Appends of every length from 0 to 100 (the short-copy paths: 1-3, 4-7,
// 8-16, 17-32 bytes, and memcpy), from sources at every alignment, in a
// random order, give the bytes a std::string gives; the buffer grows many
// times on the way.
TEST(ByteBuffer, AppendsLikeAString) {
  std::mt19937 rng(5);
  std::string source(300, '\0');
  for (char& c : source) c = static_cast<char>(rng());
  ByteBuffer b;
  std::string want;
  for (int i = 0; i < 20000; ++i) {
    const size_t n = rng() % 101;
    const size_t at = rng() % (source.size() - n + 1);
    b.Append(source.data() + at, n);
    want.append(source, at, n);
    if (i % 7 == 0) {
      const int64_t v = static_cast<int64_t>(rng()) - (int64_t{1} << 31);
      b.AppendValue(v);
      want.append(reinterpret_cast<const char*>(&v), sizeof(v));
    }
  }
  ASSERT_EQ(b.size(), want.size());
  EXPECT_EQ(absl::string_view(b.data(), b.size()), want);
  // Released memory keeps the bytes; the buffer starts again empty.
  const size_t n = b.size();
  char* p = b.Release();
  EXPECT_EQ(absl::string_view(p, n), want);
  EXPECT_EQ(b.size(), 0u);
  b.Append("abc");
  EXPECT_EQ(absl::string_view(b.data(), b.size()), "abc");
  ByteBuffer::FreeBlock(p);
}

// A large block given back is kept and handed to the next buffer that
// needs that much (no new mapping of pages for every batch); small ones go
// back to the C library.
TEST(ByteBuffer, LargeBlocksAreReused) {
  // 5 MiB: larger than any block the other tests leave in the pool, so the
  // first buffer gets a new one.
  constexpr size_t kBig = size_t{5} << 20;
  ByteBuffer big;
  big.Reserve(kBig);
  big.Append("x");
  char* p = big.Release();
  const size_t before = ByteBuffer::PooledBytes();
  ByteBuffer::FreeBlock(p);
  const size_t pooled = ByteBuffer::PooledBytes();
  EXPECT_GE(pooled, before + kBig);
  ByteBuffer again;
  again.Reserve(size_t{4} << 20);
  EXPECT_EQ(again.data(), p);  // the same block
  EXPECT_EQ(ByteBuffer::PooledBytes(), before);
  ByteBuffer small;
  small.Append("tiny");
  char* q = small.Release();
  const size_t with_small_out = ByteBuffer::PooledBytes();
  ByteBuffer::FreeBlock(q);
  EXPECT_EQ(ByteBuffer::PooledBytes(), with_small_out);
}

absl::string_view StringAt(const StringColumnBuffers& c, size_t i) {
  int64_t b, e;
  std::memcpy(&b, c.offsets.data() + i * 8, 8);
  std::memcpy(&e, c.offsets.data() + (i + 1) * 8, 8);
  return absl::string_view(c.bytes.data() + b, static_cast<size_t>(e - b));
}

int64_t IntAt(const ByteBuffer& c, size_t i) {
  int64_t v;
  std::memcpy(&v, c.data() + i * 8, 8);
  return v;
}

// EventColumns as the batch reader's sink: every column of every event is
// what the batch reader without a sink gives, with the shared fields filled
// in, the destination the recipient's domain and the source its record's
// name, over the Sisimai corpus with bad records among the e-mails.
TEST(EventColumns, HoldTheBatchEvents) {
  std::vector<std::string> paths;
  const std::string dir = std::string(BOUNCEKIT_SHARED_DIR) + "/corpora/sisimai/emails/maildir";
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  ASSERT_GT(paths.size(), 100u) << dir;
  std::vector<std::string> files;
  for (const std::string& p : paths) files.push_back(testing::Slurp(p));
  std::vector<absl::string_view> recs;
  for (size_t i = 0; i < files.size(); ++i) {
    recs.push_back(files[i]);
    if (i % 40 == 5) recs.push_back("not an e-mail");
  }
  EmailParseOptions opts;
  opts.share_record_fields = true;
  const ParseBatch want = ParseBounceEmails(recs, opts);
  EventColumns cols(4, /*name_base=*/1000);  // (room for 4 events: the columns grow)
  const ParseBatch got = ParseBounceEmails(recs, opts, &cols);
  EXPECT_EQ(got.errors.size(), want.errors.size());
  ASSERT_EQ(cols.num_events(), want.events.size());
  ASSERT_GT(want.events.size(), 150u);
  for (const StringColumnBuffers& c : cols.strings) ASSERT_EQ(c.size(), want.events.size());
  ASSERT_EQ(cols.destination.size(), want.events.size());
  ASSERT_EQ(cols.source.size(), want.events.size());
  for (size_t k = 0; k < want.events.size(); ++k) {
    const BounceEvent& e = want.events[k];
    SCOPED_TRACE(absl::StrCat("event ", k));
    auto shared = [&](const std::string& own, RecordFields::Field f) {
      return own.empty() ? std::string(want.shared.Get(e.record, f)) : own;
    };
    EXPECT_EQ(IntAt(cols.record, k), e.record);
    EXPECT_EQ(IntAt(cols.offset, k), e.offset);
    EXPECT_EQ(IntAt(cols.reply_code, k), e.reply_code);
    const std::string fields[EventColumns::kStrings] = {
        e.kind, e.recipient, shared(e.time, RecordFields::kTime), shared(e.message_id, RecordFields::kMessageId),
        e.enhanced_status, e.diagnostic, e.diagnostic_type, e.action, e.remote_host, e.smtp_command,
        e.source_format, shared(e.sender, RecordFields::kSender), e.campaign, e.esp_event, e.esp_class,
        e.esp_subclass};
    for (int f = 0; f < EventColumns::kStrings; ++f) {
      EXPECT_EQ(StringAt(cols.strings[static_cast<size_t>(f)], k), fields[f]) << EventColumns::kStringNames[f];
    }
    const size_t at = e.recipient.rfind('@');
    EXPECT_EQ(StringAt(cols.destination, k), at == std::string::npos ? e.recipient : e.recipient.substr(at + 1));
    EXPECT_EQ(StringAt(cols.source, k), absl::StrCat("<input>[", 1000 + e.record, "]"));
  }
}

}  // namespace
}  // namespace bouncekit
