// Copyright 2026 The bouncekit authors.
//
// libFuzzer target: bounce e-mails (MIME walker, DSN fields, ARF, RFC 3834,
// heuristic text path). Any input must give events or an error status,
// never a crash, a sanitizer report or a hang.
//
// The input is also read as a batch of e-mails (split at 0x1e bytes; an
// input without one is read as itself, its first half and itself again),
// as parse_emails reads them: one reader for the batch, its events handed
// to a sink and then reused for the next e-mail's. Each e-mail's events
// (every field) and error must be those of the e-mail read alone, so that
// nothing of one e-mail is left over in the next one's.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/dsn.h"
#include "bouncekit/mime.h"
#include "fuzz_input.h"

namespace {

using bouncekit::BounceEvent;

struct Collect : bouncekit::EmailEventSink {
  std::vector<BounceEvent> events;
  void Take(absl::Span<const BounceEvent> got, absl::string_view, absl::string_view, absl::string_view) override {
    BK_FUZZ_CHECK(!got.empty());
    events.insert(events.end(), got.begin(), got.end());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  bouncekit::EmailParseOptions opts;
  opts.max_bytes = 1 << 20;
  auto events = bouncekit::ParseBounceEmail(in, opts);
  if (events.ok()) {
    for (const auto& e : *events) {
      if (e.recipient.empty()) __builtin_trap();  // every event names a recipient
    }
  }
  // The decoders on their own.
  (void)bouncekit::mime::DecodeEncodedWords(in);
  (void)bouncekit::mime::DecodeQuotedPrintable(in);
  (void)bouncekit::mime::DecodeBase64(in);

  // A batch, against each e-mail read alone (fields not shared, so that
  // every event carries all of them).
  if (size > (256 << 10)) return 0;  // (a large input is read once above)
  std::vector<absl::string_view> records;
  if (in.find('\x1e') != absl::string_view::npos) {
    records = absl::StrSplit(in, '\x1e');
    if (records.size() > 8) records.resize(8);
  } else {
    records = {in, in.substr(0, in.size() / 2), in};
  }
  opts.share_record_fields = false;
  Collect sink;
  const bouncekit::ParseBatch batch = bouncekit::ParseBounceEmails(records, opts, &sink);
  BK_FUZZ_CHECK(batch.records == static_cast<int64_t>(records.size()));
  size_t next_event = 0, next_error = 0;
  for (size_t r = 0; r < records.size(); ++r) {
    auto alone = bouncekit::ParseBounceEmail(records[r], opts);
    const bool batch_error =
        next_error < batch.errors.size() && batch.errors[next_error].record == static_cast<int64_t>(r);
    BK_FUZZ_CHECK(batch_error == !alone.ok());
    if (batch_error) {
      BK_FUZZ_CHECK(batch.errors[next_error].message == alone.status().message());
      ++next_error;
      continue;
    }
    for (const BounceEvent& e : *alone) {
      BK_FUZZ_CHECK(next_event < sink.events.size());
      const BounceEvent& b = sink.events[next_event++];
      BK_FUZZ_CHECK(b.record == static_cast<int64_t>(r));
      BK_FUZZ_CHECK(bouncekit_fuzz::SameEvent(b, e));
    }
  }
  BK_FUZZ_CHECK(next_event == sink.events.size() && next_error == batch.errors.size());
  return 0;
}
