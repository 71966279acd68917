// Copyright 2026 The bouncekit authors.
//
// Fuzzes the policy state reader: damaged, truncated or forged state bytes
// must be refused (or read into a usable engine), never crash.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "bouncekit/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  static const bouncekit::Policy policy = bouncekit::StandardPolicy();
  auto engine = bouncekit::PolicyEngine::FromState(policy, bytes);
  if (!engine.ok()) return 0;
  // A state that loads must be usable: decisions, features and a re-save.
  (*engine)->Decisions();
  (*engine)->Features();
  auto again = (*engine)->SerializeState();
  if (!again.ok()) std::abort();
  return 0;
}
