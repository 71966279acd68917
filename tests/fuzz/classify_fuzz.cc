// Copyright 2026 The bouncekit authors.
//
// Fuzz target: classification of arbitrary responses with the built-in rule
// set (python/bouncekit/data/rules.toml), default profile. The input is
// rows separated by 0x1e, each row fields separated by 0x1f:
//   reply_code, enhanced_status, diagnostic, smtp_command, remote_host,
//   action, destination   (missing fields are empty = absent)
// Every row is classified one at a time (Classify + Explain) and all rows as
// two column batches (ClassifyBatches); the two must agree row by row. Also
// runs the double-encoded UTF-8 repair on each diagnostic.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/classify.h"
#include "bouncekit/column.h"
#include "bouncekit/rules.h"
#include "bouncekit/smtp_status.h"
#include "fuzz_input.h"

namespace {

using namespace bouncekit;  // NOLINT

constexpr int kFields = 7;

const Classifier& Builtin() {
  static const Classifier* const c = [] {
    absl::StatusOr<RuleSet> rs =
        RuleSet::Parse(bouncekit_fuzz::ReadFileOrDie(BOUNCEKIT_BUILTIN_RULES), "rules.toml");
    BK_FUZZ_CHECK(rs.ok());
    absl::StatusOr<std::unique_ptr<Classifier>> cl = Classifier::Create(*std::move(rs));
    BK_FUZZ_CHECK(cl.ok());
    return cl->release();
  }();
  return *c;
}

// One string column (large_utf8 layout) built from owned strings.
struct OwnedColumn {
  std::vector<int64_t> offsets{0};
  std::string data;
  void Add(absl::string_view s) {
    data.append(s.data(), s.size());
    offsets.push_back(static_cast<int64_t>(data.size()));
  }
  StringColumn View(int64_t begin, int64_t n) const {
    return StringColumn::LargeUtf8(offsets.data(), data.data(), nullptr, begin, n);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 1 << 20) return 0;
  const Classifier& cl = Builtin();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<absl::string_view> rows = bouncekit_fuzz::Split(input, '\x1e');
  if (rows.size() > 64) rows.resize(64);
  const int64_t n = static_cast<int64_t>(rows.size());

  OwnedColumn cols[kFields];
  std::vector<Classification> single;
  std::string repaired;
  for (absl::string_view row : rows) {
    std::vector<absl::string_view> f = bouncekit_fuzz::Split(row, '\x1f');
    f.resize(kFields);
    for (int k = 0; k < kFields; ++k) cols[k].Add(f[k]);
    Response r;
    r.reply_code = ParseReplyCode(f[0]).value_or(0);
    r.enhanced_status = f[1];
    r.diagnostic = f[2];
    r.smtp_command = f[3];
    r.remote_host = f[4];
    r.action = f[5];
    r.destination = f[6];
    Classification c = cl.Classify(r);
    BK_FUZZ_CHECK(c.category >= 0 &&
                  static_cast<size_t>(c.category) < cl.category_names().size());
    BK_FUZZ_CHECK(c.rule >= -1 && c.rule < static_cast<int32_t>(cl.rule_set().rules().size()));
    if (c.match_begin >= 0) {
      BK_FUZZ_CHECK(c.match_begin <= c.match_end);
    }
    BK_FUZZ_CHECK(!cl.Explain(r, c).empty());
    if (c.rule >= 0) BK_FUZZ_CHECK(!cl.RuleExplanation(c.rule).empty());
    single.push_back(c);
    if (RepairDoubleEncodedUtf8(f[2], &repaired)) {
      BK_FUZZ_CHECK(repaired.size() < f[2].size());
    }
  }

  // The same rows as two batches (split in the middle).
  const int64_t half = n / 2;
  ClassifyInput in[2];
  for (int b = 0; b < 2; ++b) {
    const int64_t begin = b == 0 ? 0 : half;
    const int64_t len = b == 0 ? half : n - half;
    in[b].num_rows = len;
    in[b].reply_code = CodeColumn::Strings(cols[0].View(begin, len));
    in[b].enhanced_status = cols[1].View(begin, len);
    in[b].diagnostic = cols[2].View(begin, len);
    in[b].smtp_command = cols[3].View(begin, len);
    in[b].remote_host = cols[4].View(begin, len);
    in[b].action = cols[5].View(begin, len);
    in[b].destination = cols[6].View(begin, len);
  }
  std::vector<uint8_t> klass(n), blame(n), retry(n), code_src(n), status_src(n);
  std::vector<int32_t> category(n), rule(n), status(n);
  std::vector<int16_t> code(n);
  ClassifyOutput out;
  out.bounce_class = absl::MakeSpan(klass);
  out.category = absl::MakeSpan(category);
  out.blame = absl::MakeSpan(blame);
  out.retryable = absl::MakeSpan(retry);
  out.rule = absl::MakeSpan(rule);
  out.reply_code = absl::MakeSpan(code);
  out.reply_code_source = absl::MakeSpan(code_src);
  out.status = absl::MakeSpan(status);
  out.status_source = absl::MakeSpan(status_src);
  StatusDictionary dict;
  absl::Status st = cl.ClassifyBatches(absl::MakeConstSpan(in, 2), 1, out, &dict);
  BK_FUZZ_CHECK(st.ok());
  for (int64_t i = 0; i < n; ++i) {
    const Classification& c = single[i];
    BK_FUZZ_CHECK(klass[i] == static_cast<uint8_t>(c.bounce_class));
    BK_FUZZ_CHECK(category[i] == c.category);
    BK_FUZZ_CHECK(rule[i] == c.rule);
    BK_FUZZ_CHECK(blame[i] == static_cast<uint8_t>(c.blame));
    BK_FUZZ_CHECK(retry[i] == (c.retryable ? 1 : 0));
    BK_FUZZ_CHECK(code[i] == c.reply_code);
    if (c.status.present()) {
      BK_FUZZ_CHECK(status[i] >= 0 && static_cast<size_t>(status[i]) < dict.statuses.size());
      BK_FUZZ_CHECK(dict.statuses[status[i]] == c.status);
    } else {
      BK_FUZZ_CHECK(status[i] == -1);
    }
  }
  return 0;
}
