// Copyright 2026 The bouncekit authors.
//
// The classifier: a rule set + a profile, compiled once, then applied to one
// response or to column batches (multi-threaded; results do not depend on the
// thread count).

#ifndef BOUNCEKIT_CLASSIFY_H_
#define BOUNCEKIT_CLASSIFY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"
#include "bouncekit/rules.h"
#include "bouncekit/smtp_status.h"
#include "bouncekit/taxonomy.h"

namespace bouncekit {

// One delivery result to classify. Empty strings mean "absent".
struct Response {
  int reply_code = 0;  // 0 = absent
  absl::string_view enhanced_status;
  absl::string_view diagnostic;
  absl::string_view smtp_command;
  absl::string_view remote_host;
  absl::string_view action;
  absl::string_view destination;
};

// Where the effective reply code / status came from.
enum class CodeSource : uint8_t { kNone = 0, kGiven = 1, kText = 2 };

// Category of a result as an index into Classifier::category_names().
struct Classification {
  BounceClass bounce_class = BounceClass::kUndetermined;
  int32_t category = 0;
  Blame blame = Blame::kUnknown;
  bool retryable = false;
  int32_t rule = -1;  // index into Classifier::rules(); -1 = no rule matched
  int16_t reply_code = 0;  // effective code; 0 = none
  CodeSource reply_code_source = CodeSource::kNone;
  EnhancedStatus status;  // effective status
  CodeSource status_source = CodeSource::kNone;
  // Byte range of the `text` regex match in the diagnostic (-1 when the
  // deciding rule has no text condition). Filled by Classify() and by
  // batches that ask for spans.
  int32_t match_begin = -1;
  int32_t match_end = -1;
};

// Column batch input. Every column has `num_rows` rows; absent optional
// columns are AllNull.
struct ClassifyInput {
  int64_t num_rows = 0;
  CodeColumn reply_code;
  StringColumn enhanced_status;
  StringColumn diagnostic;
  StringColumn smtp_command;
  StringColumn remote_host;
  StringColumn action;
  StringColumn destination;
};

// Caller-allocated outputs, one element per row (spans of the full output;
// a batch writes at its row offset). Optional spans may be empty.
struct ClassifyOutput {
  absl::Span<uint8_t> bounce_class;    // BounceClass
  absl::Span<int32_t> category;        // index into category_names()
  absl::Span<uint8_t> blame;           // Blame
  absl::Span<uint8_t> retryable;       // 0/1
  absl::Span<int32_t> rule;            // rule index, -1 = none
  absl::Span<int16_t> reply_code;      // 0 = none
  absl::Span<uint8_t> reply_code_source;  // CodeSource
  absl::Span<int32_t> status;          // index into status_dictionary, -1 = none
  absl::Span<uint8_t> status_source;   // CodeSource
  absl::Span<int8_t> status_class;     // optional: 0 = none
  absl::Span<int16_t> status_subject;  // optional
  absl::Span<int16_t> status_detail;   // optional
  absl::Span<uint8_t> status_registered;  // optional: IANA registry
  absl::Span<int32_t> match_begin;     // optional
  absl::Span<int32_t> match_end;       // optional
};

// Effective statuses seen in a batch call, as a dictionary (index -> status);
// the classifier fills it in first-seen order per call.
struct StatusDictionary {
  std::vector<EnhancedStatus> statuses;
};

struct ClassifierOptions {
  std::string profile = "default";
  // Overrides the rule set's infer_codes_from_text when set.
  std::optional<bool> infer_codes_from_text;
};

// Texts extracted from bounces are often UTF-8 that was decoded as Latin-1 or
// Windows-1252 and encoded again ("mÃ¶chten" for "möchten"). When `text`
// is such a double encoding, writes the original bytes to *out and returns
// true; otherwise returns false. The classifier matches rules against the
// repaired text.
bool RepairDoubleEncodedUtf8(absl::string_view text, std::string* out);

class Classifier {
 public:
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Compiles the rule set's regexes for `options.profile`. Fails with
  // NotFound for an unknown profile, InvalidArgument for a bad regex.
  static absl::StatusOr<std::unique_ptr<Classifier>> Create(
      RuleSet rules, const ClassifierOptions& options = {});

  const RuleSet& rule_set() const { return rules_; }
  const Profile& profile() const { return profile_; }
  bool infer_codes_from_text() const { return infer_; }

  // Category names used by results: the built-in taxonomy first, then any
  // category a rule file added or used. Stable for the classifier's life.
  const std::vector<std::string>& category_names() const { return category_names_; }
  // Built-in info for a category index (nullptr for custom categories).
  const CategoryInfo* category_info(int32_t category) const;
  absl::string_view class_label(BounceClass c) const { return rules_.ClassLabel(c); }

  // Classifies one response (thread-safe).
  Classification Classify(const Response& response) const;

  // Classifies `inputs` (consecutive batches; batch k's rows start at
  // sum of earlier num_rows in the outputs) on `threads` threads.
  // Results are identical for every thread count.
  absl::Status ClassifyBatches(absl::Span<const ClassifyInput> inputs,
                               int threads, const ClassifyOutput& output,
                               StatusDictionary* statuses) const;

  // A sentence saying which rule decided and what matched.
  std::string Explain(const Response& response, const Classification& result) const;
  // The rule's own explanation (its `why`, or one generated from its
  // conditions) — the per-rule text used for batch explanation columns.
  std::string RuleExplanation(int32_t rule) const;

  class Matcher;  // per-thread regex state (internal)

 private:
  struct CompiledRule;
  Classifier() = default;
  Classification ClassifyWith(Matcher& m, const Response& r, bool spans) const;
  Classification ClassifyParsed(Matcher& m, const Response& r, EnhancedStatus status,
                                bool spans) const;
  bool CodeAndStatusHold(const CompiledRule& cr, int code, const EnhancedStatus& status,
                         absl::string_view raw_status) const;
  // The outcome every row with this reply code and status gets, when nothing
  // else about the row can change it (see classify.cc).
  bool FixedOutcome(int reply_code, const EnhancedStatus& status, const std::vector<int32_t>& plan,
                    Classification* out) const;
  bool MayReadCodesFromText(int code, const EnhancedStatus& status) const;
  bool PlanFor(int reply_code, const EnhancedStatus& status, absl::string_view raw_status,
               std::vector<int32_t>* plan) const;
  Classification ClassifyPlanned(Matcher& m, const Response& r, const EnhancedStatus& status,
                                 const int32_t* rules, size_t n_rules, bool spans) const;
  // The command, action, remote host and destination conditions of `cr`
  // (the normalized command/action computed on first need).
  bool OtherConditionsHold(Matcher& m, const Response& r, const CompiledRule& cr, std::string* command,
                           bool* have_command, std::string* action, bool* have_action) const;
  // The class, category, blame, retryable and rule of rule `cr` deciding.
  void Verdict(const CompiledRule& cr, int code, const EnhancedStatus& status, Classification* out) const;
  // Tries `rules` (indices into compiled_, in order; their code and status
  // conditions hold) on the row's other conditions; the first that holds decides.
  Classification Decide(Matcher& m, const Response& r, int code, const EnhancedStatus& status,
                        const int32_t* rules, size_t n_rules, bool spans, Classification out) const;
  std::unique_ptr<Matcher> AcquireMatcher() const;
  void ReleaseMatcher(std::unique_ptr<Matcher> m) const;

  RuleSet rules_;
  Profile profile_;
  bool infer_ = true;
  std::vector<CompiledRule> compiled_;
  struct RuleBrief {
    int32_t text = -1;
    int32_t not_text = -1;
    bool simple = true;  // no command, action, remote host or destination condition
  };
  std::vector<RuleBrief> briefs_;  // parallel to compiled_
  std::vector<std::string> category_names_;
  std::vector<const CategoryInfo*> category_infos_;
  std::vector<std::string> text_patterns_;   // patterns searched in diagnostic
  std::vector<std::string> other_patterns_;  // remote_host / destination patterns
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_CLASSIFY_H_
