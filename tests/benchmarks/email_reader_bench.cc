// Copyright 2026 The bouncekit authors.
//
// The e-mail reader alone (ParseBounceEmails into EventColumns, as the
// Python binding reads; no Python), for A/B timing of
// changes to the C++ core: bench_parse.py's core figure includes the Python
// binding and moves by a few percent from one run to the next on a shared
// VM; this one, timed as the best of many passes in one process, by about
// one percent. It prints no ratio to a peer: bench_parse.py does that.
//
//   cmake --build build/cpp --target bouncekit_email_bench
//   build/cpp/tests/cpp/bouncekit_email_bench [maildir] [passes]
//
// The Sisimai DEV e-mails (../shared/corpora/sisimai/emails/maildir by
// default) are read once and parsed in three orders, each the best CPU ms
// of `passes` (default 25) over the same 50 copies:
//   mixed:   the corpus 50 times over, as bench_parse.py parses it;
//   grouped: each e-mail 50 times in a row (the same bytes);
//   copies:  each e-mail 50 times in a row, each time its own copy.
// mixed against copies is what the CPU's branch predictors (and
// instruction caches) lose to e-mails of different kinds following each
// other; grouped against copies, what the data caches add.
// BOUNCEKIT_BENCH_ORDER=mixed (or grouped, copies) times that order alone,
// for profilers (perf, callgrind) that should see one order only.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/dsn.h"
#include "bouncekit/event_columns.h"

namespace {

double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Best CPU ms of `passes` parses of `records`, in batches of 4096 e-mails
// as the Python binding makes them, into EventColumns as the binding's
// parse_emails does; *events: events of the last pass.
double BestMs(const std::vector<absl::string_view>& records, int passes, size_t* events) {
  bouncekit::EmailParseOptions options;
  options.share_record_fields = true;  // as the binding parses
  double best = 1e300;
  for (int k = 0; k < passes; ++k) {
    const double t = CpuSeconds();
    size_t n = 0;
    for (size_t i = 0; i < records.size(); i += 4096) {
      const std::vector<absl::string_view> batch(records.begin() + static_cast<std::ptrdiff_t>(i),
                                                 records.begin() + static_cast<std::ptrdiff_t>(
                                                                       std::min(records.size(), i + 4096)));
      bouncekit::EventColumns sink(batch.size() + batch.size() / 4 + 16, static_cast<int64_t>(i));
      bouncekit::ParseBounceEmails(batch, options, &sink);
      n += sink.num_events();
    }
    best = std::min(best, CpuSeconds() - t);
    *events = n;
  }
  return best * 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 && *argv[1] != '\0' ? argv[1] : BOUNCEKIT_SHARED_DIR "/corpora/sisimai/emails/maildir";
  const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 25;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::fprintf(stderr, "email_reader_bench: no folder %s\n", dir.c_str());
    return 2;
  }
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());  // the order bench_parse.py reads them in
  std::vector<std::string> mails;
  size_t bytes = 0;
  for (const std::string& p : paths) {
    std::ifstream in(p, std::ios::binary);
    mails.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    bytes += mails.back().size();
  }
  constexpr int kCopies = 50;
  std::vector<absl::string_view> mixed, grouped, copied;
  std::vector<std::string> copies;
  copies.reserve(mails.size() * kCopies);
  for (int r = 0; r < kCopies; ++r) {
    for (const std::string& m : mails) mixed.push_back(m);
  }
  for (const std::string& m : mails) {
    for (int r = 0; r < kCopies; ++r) {
      grouped.push_back(m);
      copies.push_back(m);
    }
  }
  for (const std::string& c : copies) copied.push_back(c);
  size_t events_mixed = 0, events_grouped = 0, events_copied = 0;
  const char* only = std::getenv("BOUNCEKIT_BENCH_ORDER");
  if (only != nullptr && *only != '\0') {
    const std::string order = only;
    const std::vector<absl::string_view>* records =
        order == "mixed" ? &mixed : order == "grouped" ? &grouped : order == "copies" ? &copied : nullptr;
    if (records == nullptr) {
      std::fprintf(stderr, "email_reader_bench: BOUNCEKIT_BENCH_ORDER is mixed, grouped or copies\n");
      return 2;
    }
    const double ms = BestMs(*records, passes, &events_mixed);
    std::printf("%zu e-mails, %s order, best of %d passes: %.2f CPU ms (events %zu)\n", records->size(),
                order.c_str(), passes, ms, events_mixed);
    return 0;
  }
  const double ms_mixed = BestMs(mixed, passes, &events_mixed);
  const double ms_grouped = BestMs(grouped, passes, &events_grouped);
  const double ms_copied = BestMs(copied, passes, &events_copied);
  std::printf("%zu e-mails (%zu files, %.2f MB, x%d), best of %d passes, CPU ms: mixed %.2f, grouped %.2f, copies %.2f"
              " (events %zu %zu %zu); mixed: %.0f e-mails/s\n",
              mixed.size(), mails.size(), static_cast<double>(bytes) / 1e6, kCopies, passes, ms_mixed, ms_grouped,
              ms_copied, events_mixed, events_grouped, events_copied,
              static_cast<double>(mixed.size()) / (ms_mixed / 1e3));
  // The same e-mails in any order give the same events.
  return events_mixed == events_grouped && events_grouped == events_copied ? 0 : 1;
}
