// Copyright 2026 The bouncekit authors.
//
// UTF-8 encoding of one code point, for the escape sequences of the TOML
// (config.cc) and JSON (esp_json.cc) readers. The callers check the range
// (surrogates, > U+10FFFF) before calling.

#ifndef BOUNCEKIT_SRC_INTERNAL_UTF8_H_
#define BOUNCEKIT_SRC_INTERNAL_UTF8_H_

#include <cstdint>
#include <string>

namespace bouncekit::internal {

inline void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace bouncekit::internal

#endif  // BOUNCEKIT_SRC_INTERNAL_UTF8_H_
