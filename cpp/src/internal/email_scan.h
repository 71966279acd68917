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
#include <string>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "absl/strings/string_view.h"
#include "internal/ascii.h"

namespace bouncekit::internal {

// s.find(c), without absl's out-of-line call in front of memchr.
inline size_t FindChar(absl::string_view s, char c, size_t from = 0) {
  if (from >= s.size()) return absl::string_view::npos;
  const void* f = std::memchr(s.data() + from, c, s.size() - from);
  return f == nullptr ? absl::string_view::npos : static_cast<size_t>(static_cast<const char*>(f) - s.data());
}

// First byte equal to `a` or `b` in [p, end), or end; sixteen at a time.
inline const char* FindEither(const char* p, const char* end, char a, char b) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
    if (m != 0) return p + __builtin_ctz(static_cast<unsigned>(m));
    p += 16;
  }
#endif
  while (p < end && *p != a && *p != b) ++p;
  return p;
}

// First CR or LF in [p, end), or end. Lines are looked at 64 bytes at a
// time: most lines of an e-mail are shorter, so the loop's exit is taken
// on its first test and predicted (with 16 bytes at a time it came after
// a varying number of blocks, and was mispredicted about once a line).
inline const char* FindEol(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  auto eol16 = [&](const char* at) -> uint64_t {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    return static_cast<uint32_t>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr))));
  };
  while (end - p >= 64) {
    const uint64_t m = eol16(p) | (eol16(p + 16) << 16) | (eol16(p + 32) << 32) | (eol16(p + 48) << 48);
    if (m != 0) return p + __builtin_ctzll(m);
    p += 64;
  }
#endif
  return FindEither(p, end, '\n', '\r');
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

// The start of the first line at or after `pos` (a line start of `text`)
// that does not begin with a space or a tab: past the continuation lines of
// a header field, which a reader that skips the field need not look at one
// by one (Received, DKIM-Signature and ARC fields are folded over several
// lines each). An empty line counts as such a line; the text's size when
// there is none. Lines end as NextLineFast ends them (CRLF, LF or CR).
inline size_t SkipContinuationLines(absl::string_view text, size_t pos) {
  const size_t n = text.size();
  if (pos >= n || (text[pos] != ' ' && text[pos] != '\t')) return pos;
  const char* const base = text.data();
  // Per 64-byte block: the bytes that follow a line terminator (LF; CR
  // not followed by LF) and are not a space or tab. `prev_lf` / `prev_cr`:
  // the previous block's last byte was LF / CR.
  uint64_t prev_lf = 0, prev_cr = 0;
  for (size_t block = pos; block < n; block += 64) {
    const char* p = base + block;
    const size_t left = n - block;
    char tail[64];
    if (left < 64) {
      std::memset(tail, 0, sizeof(tail));  // (NUL: neither a terminator nor a blank)
      std::memcpy(tail, p, left);
      p = tail;
    }
    uint64_t lf = 0, cr = 0, blank = 0;
#if defined(__SSE2__)
    for (int k = 0; k < 4; ++k) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      const auto bits = [&](char c) {
        return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)))))
               << (16 * k);
      };
      lf |= bits('\n');
      cr |= bits('\r');
      blank |= bits(' ') | bits('\t');
    }
#else
    for (int i = 0; i < 64; ++i) {
      lf |= uint64_t{p[i] == '\n'} << i;
      cr |= uint64_t{p[i] == '\r'} << i;
      blank |= uint64_t{p[i] == ' ' || p[i] == '\t'} << i;
    }
#endif
    const uint64_t after_lf = (lf << 1) | prev_lf;
    const uint64_t after_cr = (cr << 1) | prev_cr;
    uint64_t starts = (after_lf | (after_cr & ~lf)) & ~blank;
    if (block == pos) starts &= ~uint64_t{1};  // `pos` itself begins with a blank
    if (starts != 0) {
      const size_t at = block + static_cast<size_t>(__builtin_ctzll(starts));
      return at < n ? at : n;  // (a terminator at the text's end: no line follows)
    }
    prev_lf = lf >> 63;
    prev_cr = cr >> 63;
  }
  return n;
}

// internal::TrimAscii, always inlined: GCC keeps the out-of-line copy for
// the dozens of per-line and per-field call sites otherwise, and the call
// costs more than the trim (usually one leading space).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::string_view TrimAsciiInline(absl::string_view s) {
  const char* b = s.data();
  const char* e = b + s.size();
  while (b < e && IsAsciiSpace(*b)) ++b;
  while (e > b && IsAsciiSpace(e[-1])) --e;
  return absl::string_view(b, static_cast<size_t>(e - b));
}

// Does `s` contain "=?" (an RFC 2047 encoded word's start)? Sixteen
// positions at a time.
inline bool HasEncodedWordFast(absl::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
#if defined(__SSE2__)
  if (s.size() >= 17) {
    const __m128i eq = _mm_set1_epi8('=');
    const __m128i q = _mm_set1_epi8('?');
    // Start positions p .. p + 15 (reads p[0 .. 16]).
    auto block = [&](const char* at) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + 1));
      return _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, eq), _mm_cmpeq_epi8(b, q))) != 0;
    };
    for (; end - p >= 17; p += 16) {
      if (block(p)) return true;
    }
    // The last start positions, in one block that overlaps the previous one.
    return p < end - 1 && block(end - 17);
  }
#endif
  for (; p + 1 < end; ++p) {
    if (p[0] == '=' && p[1] == '?') return true;
  }
  return false;
}

// Length of the field name at the start of `line` when it is the common
// kind: 1 .. 76 bytes of printable ASCII other than ':' and then a ':';
// 0 otherwise (the caller then applies the general rules). `text_end` is
// the end of the buffer holding the line, which may be read up to.
inline size_t SimpleFieldNameLength(absl::string_view line, const char* text_end) {
  const size_t scan_max = line.size() < 77 ? line.size() : 77;
  const char* const p = line.data();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space_plus_one = _mm_set1_epi8(33), del = _mm_set1_epi8(127), colon = _mm_set1_epi8(':');
  // Bytes <= 32 or >= 127 (negative as signed bytes) or ':' end a name; the
  // line's terminator is such a byte, so a block never reads past the
  // text; blocks that would (a last line without terminator) go byte-wise.
  while (i < scan_max && text_end - (p + i) >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i stop = _mm_or_si128(_mm_cmplt_epi8(v, space_plus_one),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, colon)));
    const int bits = _mm_movemask_epi8(stop);
    if (bits != 0) {
      i += static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(bits)));
      break;
    }
    i += 16;
  }
#endif
  while (i < scan_max) {
    const unsigned char c = static_cast<unsigned char>(p[i]);
    if (c <= 32 || c >= 127 || c == ':') break;
    ++i;
  }
  if (i == 0 || i >= scan_max || p[i] != ':') return 0;
  return i;
}

// Byte classes of scan::IsLocalChar / scan::IsDomainChar as one table
// (bit 1: local part, bit 2: domain); parse_test checks that they agree.
struct AddressCharTable {
  uint8_t bits[256] = {};
  constexpr AddressCharTable() {
    for (int c = 0; c < 256; ++c) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      bool local = alnum;
      for (char x : {'.', '_', '-', '+', '=', '%', '!', '#', '$', '&', '\'', '*', '/', '?', '^', '`',
                     '{', '|', '}', '~'}) {
        local = local || c == x;
      }
      const bool domain = alnum || c == '.' || c == '-';
      bits[c] = static_cast<uint8_t>((local ? 1 : 0) | (domain ? 2 : 0));
    }
  }
};
inline constexpr AddressCharTable kAddressChars;
inline bool IsLocalCharFast(char c) { return (kAddressChars.bits[static_cast<unsigned char>(c)] & 1) != 0; }
inline bool IsDomainCharFast(char c) { return (kAddressChars.bits[static_cast<unsigned char>(c)] & 2) != 0; }

// The address-like tokens user@domain.tld of `t`, in order: calls
// fn(begin, end) with the token's byte range (not lower-cased) until fn
// returns false. The scanner behind scan::FindAddresses (which lower-cases
// and collects); callers that want one address, or only to test or insert
// them, use it without a vector of strings.
template <typename Fn>
void ForEachAddress(absl::string_view t, bool allow_dotless, Fn fn) {
  size_t last_end = 0;
  const char* const p = t.data();
  const size_t n = t.size();
  for (size_t at = 0;; ++at) {
    const void* f = at < n ? std::memchr(p + at, '@', n - at) : nullptr;
    if (f == nullptr) return;
    at = static_cast<size_t>(static_cast<const char*>(f) - p);
    if (at < last_end) continue;
    size_t b = at;
    while (b > last_end && IsLocalCharFast(p[b - 1])) --b;
    while (b < at && (p[b] == '.' || p[b] == '\'' || p[b] == '=' || p[b] == '/')) ++b;
    size_t e = at + 1;
    while (e < n && IsDomainCharFast(p[e])) ++e;
    while (e > at + 1 && (p[e - 1] == '.' || p[e - 1] == '-')) --e;
    if (b == at || e == at + 1) continue;
    const absl::string_view domain(p + at + 1, e - at - 1);
    if (!allow_dotless && FindChar(domain, '.') == absl::string_view::npos) continue;
    if (at - b > 128 || domain.size() > 255) continue;
    if (!fn(b, e)) return;
    last_end = e;
  }
}

// The first position p >= from of `text` where one of "ori", "mes", "cop"
// or "hea" starts (ASCII case ignored: bytes compared as (byte | 0x20)),
// npos when none: where one of the words that every cut-off phrase of the
// e-mail reader names ("origin", "message", "copy", "header") may start.
// Sixteen positions at a time; always inlined (the reader calls it for
// every line of a text, and the call cost a sixth of the scan). `readable_end` (at or past the end of
// `text`, or null for that end) says how far the blocks may read: a line
// of a larger buffer is then scanned in whole blocks, the positions past
// the line masked out, without a byte-wise tail.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline size_t FindCutoffWordStart(absl::string_view text, size_t from,
                                                             const char* readable_end = nullptr) {
  const auto* const p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  if (n < 3 || from > n - 3) return absl::string_view::npos;
  const size_t last = n - 3;  // the last start
  const auto* const limit =
      readable_end == nullptr ? p + n : reinterpret_cast<const unsigned char*>(readable_end);
  size_t i = from;
#if defined(__SSE2__)
  const __m128i lower = _mm_set1_epi8(0x20);
  auto eq = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
  // First and third letters sixteen starts at a time (two loads, not
  // three: the pairs o.i, m.s, c.p, h.a are rare in text), then the middle
  // letter of each start found.
  for (; i <= last && limit - (p + i) >= 18; i += 16) {  // starts i .. i + 15 (reads p[i .. i + 17])
    const __m128i a = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), lower);
    const __m128i c = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 2)), lower);
    const __m128i pairs = _mm_or_si128(
        _mm_or_si128(_mm_and_si128(eq(a, 'o'), eq(c, 'i')), _mm_and_si128(eq(a, 'm'), eq(c, 's'))),
        _mm_or_si128(_mm_and_si128(eq(a, 'c'), eq(c, 'p')), _mm_and_si128(eq(a, 'h'), eq(c, 'a'))));
    unsigned bits = static_cast<unsigned>(_mm_movemask_epi8(pairs));
    if (last - i < 15) bits &= (2u << (last - i)) - 1;  // starts past `last` read beyond the text
    while (bits != 0) {
      const size_t k = i + static_cast<size_t>(__builtin_ctz(bits));
      bits &= bits - 1;
      const unsigned first = p[k] | 0x20u, middle = p[k + 1] | 0x20u;
      if (middle == (first == 'o' ? 'r' : first == 'c' ? 'o' : 'e')) return k;
    }
  }
#endif
  for (; i <= last; ++i) {
    const unsigned a = p[i] | 0x20u, b = p[i + 1] | 0x20u, c = p[i + 2] | 0x20u;
    if ((a == 'o' && b == 'r' && c == 'i') || (a == 'm' && b == 'e' && c == 's') ||
        (a == 'c' && b == 'o' && c == 'p') || (a == 'h' && b == 'e' && c == 'a')) {
      return i;
    }
  }
  return absl::string_view::npos;
}

// Does scan::CollapseSpace(s) give `s` itself? True when `s` neither
// starts nor ends with whitespace (space, \t .. \r) and its only
// whitespace is single spaces. Sixteen bytes at a time.
inline bool IsCollapsed(absl::string_view s) {
  const size_t n = s.size();
  if (n == 0) return true;
  if (IsAsciiSpace(s[0]) || IsAsciiSpace(s[n - 1])) return false;
  const char* p = s.data();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i sp = _mm_set1_epi8(' ');
  const __m128i below_tab = _mm_set1_epi8('\t' - 1), above_cr = _mm_set1_epi8('\r' + 1);
  bool prev_space = false;  // the byte before the block is a space
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i ctrl = _mm_and_si128(_mm_cmpgt_epi8(v, below_tab), _mm_cmplt_epi8(v, above_cr));
    if (_mm_movemask_epi8(ctrl) != 0) return false;
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, sp)));
    if ((m & (m >> 1)) != 0 || (prev_space && (m & 1) != 0)) return false;  // two spaces in a row
    prev_space = (m & 0x8000) != 0;
  }
  if (i > 0 && i < n && prev_space && p[i] == ' ') return false;
#endif
  for (; i < n; ++i) {
    const char c = p[i];
    if (c >= '\t' && c <= '\r') return false;
    if (c == ' ' && i + 1 < n && p[i + 1] == ' ') return false;
  }
  return true;
}

inline char LowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// ASCII lower-casing of p[0 .. n), sixteen bytes at a time (a last block
// overlaps the one before: lower-casing twice changes nothing).
inline void LowerAsciiInPlace(char* p, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  if (n >= 16) {
    const __m128i before_a = _mm_set1_epi8('A' - 1), after_z = _mm_set1_epi8('Z' + 1);
    const __m128i bit = _mm_set1_epi8(0x20);
    auto block = [&](char* q) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
      // Signed compares: bytes >= 0x80 are negative, below 'A'.
      const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, before_a), _mm_cmplt_epi8(v, after_z));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm_or_si128(v, _mm_and_si128(upper, bit)));
    };
    for (; i + 16 <= n; i += 16) block(p + i);
    if (i < n) block(p + n - 16);
    return;
  }
#endif
  for (; i < n; ++i) p[i] = LowerAscii(p[i]);
}

// `s` lower-cased (ASCII) into `*out`.
inline void AssignLower(absl::string_view s, std::string* out) {
  out->assign(s.data(), s.size());
  LowerAsciiInPlace(out->data(), out->size());
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
// EqualsLower for a header field name (bytes 33..126, as the header parser
// accepts them) and a literal of lower-case letters and '-': eight bytes
// per compare. For such bytes (c | 0x20) equals a letter exactly for its two
// cases and equals '-' only for '-' itself (0x0d, the other byte that
// gives 0x2d, is not in a name).
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool FieldNameIs(absl::string_view name, absl::string_view literal) {
  const size_t n = name.size();
  if (n != literal.size()) return false;
  if (n < 8) return EqualsLower(name, literal);
  constexpr uint64_t kFold = 0x2020202020202020ull;
  uint64_t a, b;
  for (size_t i = 0; i + 8 < n; i += 8) {
    std::memcpy(&a, name.data() + i, 8);
    std::memcpy(&b, literal.data() + i, 8);
    if ((a | kFold) != b) return false;
  }
  std::memcpy(&a, name.data() + n - 8, 8);  // the last eight, overlapping
  std::memcpy(&b, literal.data() + n - 8, 8);
  return (a | kFold) == b;
}

inline bool StartsWithIgnoreCaseAscii(absl::string_view s, absl::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCaseAscii(s.substr(0, prefix.size()), prefix);
}

inline bool StartsWithLower(absl::string_view s, absl::string_view lower) {
  return s.size() >= lower.size() && EqualsLower(s.substr(0, lower.size()), lower);
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_EMAIL_SCAN_H_
