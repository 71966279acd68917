// Copyright 2026 The bouncekit authors.
//
// Fuzzes the policy file reader: any bytes must give a policy that
// validates, or an error; never a crash or a hang.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/string_view.h"
#include "bouncekit/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<bouncekit::Policy> p = bouncekit::ParsePolicyToml(text, "fuzz.toml");
  if (p.ok() && !p->Validate().ok()) std::abort();  // the reader only returns valid policies
  if (p.ok() && !bouncekit::PolicyEngine::Create(*p).ok()) std::abort();
  return 0;
}
