// Copyright 2026 The bouncekit authors.
//
// Inline ASCII helpers for the parsers' hot loops. absl's StripAsciiWhitespace
// walks the text through a function pointer (std::find_if with
// absl::ascii_isspace), which the parsers call for every line and field.

#ifndef BOUNCEKIT_SRC_INTERNAL_ASCII_H_
#define BOUNCEKIT_SRC_INTERNAL_ASCII_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace bouncekit::internal {

// The bytes absl::ascii_isspace accepts: space, \t, \n, \v, \f, \r.
inline bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline absl::string_view TrimAsciiLeft(absl::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsAsciiSpace(s[i])) ++i;
  return s.substr(i);
}

inline absl::string_view TrimAsciiRight(absl::string_view s) {
  size_t n = s.size();
  while (n > 0 && IsAsciiSpace(s[n - 1])) --n;
  return s.substr(0, n);
}

// Same result as absl::StripAsciiWhitespace.
inline absl::string_view TrimAscii(absl::string_view s) { return TrimAsciiRight(TrimAsciiLeft(s)); }

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_ASCII_H_
