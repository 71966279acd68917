// Copyright 2026 The bouncekit authors.
//
// Fuzz target: rule files. The input is parsed as a TOML document
// (ParseToml) and as a rule set (RuleSet::Parse: TOML or TSV, whichever the
// text looks like). A rule set that parses (up to 24 rules) is compiled into
// a classifier for each of its profiles and used once, so every accepted
// file is usable.
// Errors must carry a message.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/classify.h"
#include "bouncekit/config.h"
#include "bouncekit/rules.h"
#include "fuzz_input.h"

using namespace bouncekit;  // NOLINT

namespace {

// Walks a parsed document (bounded depth is the parser's job: a deep
// document must come back as an error, not blow the stack here either).
size_t CountValues(const ConfigValue& v, int depth) {
  BK_FUZZ_CHECK(depth < 10000);
  size_t n = 1;
  for (const ConfigValue& item : v.items()) n += CountValues(item, depth + 1);
  for (const auto& [key, value] : v.entries()) n += CountValues(value, depth + 1);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<ConfigValue> doc = ParseToml(text, "fuzz.toml");
  if (doc.ok()) {
    BK_FUZZ_CHECK(doc->is_table());
    CountValues(*doc, 0);
  } else {
    BK_FUZZ_CHECK(!doc.status().message().empty());
  }

  absl::StatusOr<RuleSet> rs = RuleSet::Parse(text, "fuzz");
  if (!rs.ok()) {
    BK_FUZZ_CHECK(!rs.status().message().empty());
    return 0;
  }
  // Compiling hundreds of regexes per input would make the target crawl on
  // mutations of the full rules.toml; small rule sets (what mutations of
  // single-rule seeds give) are compiled, big ones only parsed.
  if (rs->rules().size() > 24) return 0;
  Response r;
  r.reply_code = 550;
  r.enhanced_status = "5.1.1";
  r.diagnostic = "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown";
  std::vector<std::string> profiles{"default"};
  for (const Profile& p : rs->profiles()) profiles.push_back(p.name);
  for (const std::string& name : profiles) {
    ClassifierOptions opt;
    opt.profile = name;
    absl::StatusOr<std::unique_ptr<Classifier>> cl = Classifier::Create(*rs, opt);
    if (!cl.ok()) {
      BK_FUZZ_CHECK(!cl.status().message().empty());
      continue;
    }
    Classification c = (*cl)->Classify(r);
    BK_FUZZ_CHECK(c.category >= 0 &&
                  static_cast<size_t>(c.category) < (*cl)->category_names().size());
    (*cl)->Explain(r, c);
  }
  return 0;
}
