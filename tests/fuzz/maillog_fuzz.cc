// Copyright 2026 The bouncekit authors.
//
// libFuzzer target: Postfix / Exim log lines. The input is split into lines;
// every line must be accounted for (events + errors + skipped). The lines
// are also read in three batches by one MailLogReader (as parse_maillog
// reads a log), cut where the input's size says: the events (every field)
// and errors must be those of one batch, numbered from each batch's start,
// and a reader that keeps a handful of queues must still account for every
// line.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "bouncekit/maillog.h"
#include "fuzz_input.h"

namespace {

bool Accounted(const bouncekit::ParseBatch& b, size_t lines) {
  return b.records == static_cast<int64_t>(lines) &&
         b.records == b.records_with_events + static_cast<int64_t>(b.errors.size()) + b.records_skipped;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= in.size(); ++i) {
    if (i == in.size() || in[i] == '\n') {
      lines.push_back(in.substr(start, i - start));
      start = i + 1;
    }
  }
  const size_t n = lines.size();
  const size_t cut1 = size % (n + 1);
  const size_t cut2 = cut1 + (size / 7) % (n - cut1 + 1);
  for (absl::string_view format : {"auto", "postfix", "exim"}) {
    const bouncekit::ParseBatch whole = bouncekit::ParseMailLog(lines, format);
    BK_FUZZ_CHECK(Accounted(whole, n));
    bouncekit::MailLogReader reader(format);
    bouncekit::MailLogReader small(format, 3);
    size_t next_event = 0, next_error = 0;
    int64_t with_events = 0, skipped = 0;
    for (auto [b, e] : {std::pair<size_t, size_t>{0, cut1}, {cut1, cut2}, {cut2, n}}) {
      const std::vector<absl::string_view> part(lines.begin() + b, lines.begin() + e);
      const bouncekit::ParseBatch got = reader.Read(part);
      BK_FUZZ_CHECK(Accounted(got, part.size()));
      BK_FUZZ_CHECK(Accounted(small.Read(part), part.size()));
      with_events += got.records_with_events;
      skipped += got.records_skipped;
      for (const bouncekit::BounceEvent& ev : got.events) {
        BK_FUZZ_CHECK(next_event < whole.events.size());
        const bouncekit::BounceEvent& want = whole.events[next_event++];
        BK_FUZZ_CHECK(ev.record + static_cast<int64_t>(b) == want.record && bouncekit_fuzz::SameEvent(ev, want));
      }
      for (const bouncekit::RecordError& er : got.errors) {
        BK_FUZZ_CHECK(next_error < whole.errors.size());
        const bouncekit::RecordError& want = whole.errors[next_error++];
        BK_FUZZ_CHECK(er.record + static_cast<int64_t>(b) == want.record && er.message == want.message);
      }
    }
    BK_FUZZ_CHECK(next_event == whole.events.size() && next_error == whole.errors.size());
    BK_FUZZ_CHECK(with_events == whole.records_with_events && skipped == whole.records_skipped);
  }
  return 0;
}
