// Copyright 2026 The bouncekit authors.
//
// libFuzzer target: bounce e-mails (MIME walker, DSN fields, ARF, RFC 3834,
// heuristic text path). Any input must give events or an error status,
// never a crash, a sanitizer report or a hang.

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "bouncekit/dsn.h"
#include "bouncekit/mime.h"

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
  return 0;
}
