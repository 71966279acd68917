// Copyright 2026 The bouncekit authors.
//
// Deliberate leak for .ci/sanitize.sh (never shipped): parses a TOML document
// with the real parser and drops the heap copy without deleting it.

#include <cstdint>

#include "bouncekit/config.h"

extern "C" __attribute__((visibility("default"))) int64_t bouncekit_leak_canary() {
  auto parsed = bouncekit::ParseToml("a = \"leaked on purpose by bouncekit_leak_canary\"\n");
  if (!parsed.ok()) return -1;
  auto* leaked = new bouncekit::ConfigValue(*std::move(parsed));
  // Only the address survives, as an integer: nothing references the object.
  return static_cast<int64_t>(reinterpret_cast<uintptr_t>(leaked) & 0xff);
}
