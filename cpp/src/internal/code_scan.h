// Copyright 2026 The bouncekit authors.
//
// The SIMD skip shared by the reply-code / enhanced-status scanners of the
// readers (scan::FindReplyCode, scan::FindEnhancedStatus) and of the
// classifier (FindCodesInText).

#ifndef BOUNCEKIT_SRC_INTERNAL_CODE_SCAN_H_
#define BOUNCEKIT_SRC_INTERNAL_CODE_SCAN_H_

#include <cstddef>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"

namespace bouncekit::internal {

// The first position at or after `i` and before `end` where a reply code or
// enhanced status may start (a '2', '4' or '5'; with `dot`, followed by a
// '.'), or `end`. Texts have few such digits: sixteen positions at a time.
// Reads t[i .. end] (one byte past `end` with `dot`), which must exist.
// Always inlined: the scanners call it once per candidate digit.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t NextCodeStart(absl::string_view t, size_t i, size_t end, bool dot) {
  const char* const p = t.data();
#if defined(__SSE2__)
  const __m128i two = _mm_set1_epi8('2'), four = _mm_set1_epi8('4'), five = _mm_set1_epi8('5');
  const __m128i period = _mm_set1_epi8('.');
  // A block of 16 starts needs bytes up to i + 16 (with `dot`) in the text.
  while (i + 16 <= end) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, two), _mm_cmpeq_epi8(v, four)),
                             _mm_cmpeq_epi8(v, five));
    if (dot) {
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
      m = _mm_and_si128(m, _mm_cmpeq_epi8(w, period));
    }
    const int bits = _mm_movemask_epi8(m);
    if (bits != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
    i += 16;
  }
#endif
  for (; i < end; ++i) {
    const char c = p[i];
    if ((c == '2' || c == '4' || c == '5') && (!dot || p[i + 1] == '.')) return i;
  }
  return end;
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_CODE_SCAN_H_
