// Copyright 2026 The bouncekit authors.
//
// Inline scanning helpers for the e-mail reader's hot loops (MIME walker,
// DSN fields, text scans). They replace library calls made once per line or
// per field: a memchr call costs a few dozen instructions before it reads a
// byte, and most lines of an e-mail are shorter than 80 bytes.

#ifndef BOUNCEKIT_SRC_INTERNAL_EMAIL_SCAN_H_
#define BOUNCEKIT_SRC_INTERNAL_EMAIL_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/string_view.h"

namespace bouncekit::internal {

// First CR or LF in [p, end), or end. Sixteen bytes at a time; never reads
// past `end`.
inline const char* FindEol(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (p < end && *p != '\n' && *p != '\r') ++p;
  return p;
}

// Same contract as mime::NextLine: the next line of `text` from `*pos`
// without its terminator (CRLF, LF or CR); false at the end.
inline bool NextLineFast(absl::string_view text, size_t* pos, absl::string_view* line) {
  const size_t p = *pos;
  const size_t n = text.size();
  if (p >= n) return false;
  const char* const base = text.data();
  size_t i = static_cast<size_t>(FindEol(base + p, base + n) - base);
  *line = absl::string_view(base + p, i - p);
  if (i < n) i += (base[i] == '\r' && i + 1 < n && base[i + 1] == '\n') ? 2 : 1;
  *pos = i;
  return true;
}

inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// Does `s` equal `lower` (lower-case ASCII) ignoring ASCII case? Inline
// instead of absl::EqualsIgnoreCase's out-of-line memcasecmp: header names
// are compared by the dozen per part.
inline bool EqualsLower(absl::string_view s, absl::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (LowerAscii(s[i]) != lower[i]) return false;
  }
  return true;
}

// absl::EqualsIgnoreCase, inline (both sides folded).
inline bool EqualsIgnoreCaseAscii(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

// absl::StartsWithIgnoreCase, inline.
inline bool StartsWithIgnoreCaseAscii(absl::string_view s, absl::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCaseAscii(s.substr(0, prefix.size()), prefix);
}

inline bool StartsWithLower(absl::string_view s, absl::string_view lower) {
  return s.size() >= lower.size() && EqualsLower(s.substr(0, lower.size()), lower);
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_EMAIL_SCAN_H_
