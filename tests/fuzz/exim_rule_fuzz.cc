// Copyright 2026 The bouncekit authors.
//
// libFuzzer target for the Exim retry-rule parser (outside data: users paste
// their `begin retry` sections). The input is tried as a bare rule list and as
// configuration lines; a parsed rule list is also turned into a schedule and
// its timeline generated, which must end (bounded attempts) and be ordered.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/error_location.h"
#include "bouncekit/retry.h"

namespace retry = bouncekit::retry;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<retry::EximRule>> rules = retry::ParseEximRules(text);
  if (!rules.ok()) {
    // Errors carry a column inside the text (1-based, at most one past the end).
    bouncekit::ErrorLocation loc = bouncekit::GetErrorLocation(rules.status());
    if (!loc.text_column || *loc.text_column < 1 || *loc.text_column > static_cast<int64_t>(size) + 1) abort();
  } else {
    retry::ScheduleSpec spec;
    spec.family = retry::Family::kExim;
    spec.exim.rules = *rules;
    absl::StatusOr<retry::Schedule> s = retry::Schedule::Create(spec);
    if (s.ok()) {
      const std::vector<double>& a = s->timeline().attempts;
      for (size_t i = 1; i < a.size(); ++i) {
        if (!(a[i] > a[i - 1])) abort();
      }
      if (s->timeline().expire_time < a.back()) abort();
    }
  }
  absl::StatusOr<std::vector<retry::EximRetryLine>> lines = retry::ParseEximRetryConfig(text);
  if (lines.ok()) {
    (void)retry::SelectEximRetryLine(*lines, "mx.example.com", "rcpt_451", "user");
  }
  return 0;
}
