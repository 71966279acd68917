// Copyright 2026 The bouncekit authors.
//
// Classification rules as data. A rule set is an ordered list of rules; the
// first rule whose conditions all hold decides a response's class and
// category. Rule sets are read from two formats:
//
//  * TOML rule files (the built-in set, python/bouncekit/data/rules.toml, is
//    one): a [ruleset] table, optional [profiles.NAME] and
//    [categories.NAME] tables, and [[rules]] entries;
//  * the tab-separated format of ../shared/bench/rules.tsv (header
//    "rule_id code status diag_regex bounce_class category [note]", plus any
//    of the optional TOML condition names as extra columns).
//
// Conditions (all optional; an absent condition always holds):
//   code        reply-code patterns: "550", "45x", "5xx" (any matches);
//               "none" matches a response without a reply code
//   status      enhanced-status prefixes by dot component: "5", "5.7",
//               "5.1.1", "x.7.26" for any class, "4.7.5xx" / "5.7.50x" for a
//               range of details ("5.1.1" is not "5.1.10"); "none" matches a
//               response without a status
//   text        RE2 regex searched case-insensitively in the diagnostic text
//   not_text    RE2 regex that must NOT be found in the diagnostic text
//   command     SMTP commands the failure happened at (CONN HELO EHLO MAIL
//               RCPT DATA BDAT AUTH STARTTLS ...), case-insensitive
//   action      DSN actions (failed delayed delivered relayed expanded)
//   remote_host RE2 regex searched in the remote host name
//   destination RE2 regex searched in the recipient's domain
//   profiles    the rule is active only under these profiles
//   not_profiles  the rule is inactive under these profiles
// Results: category (required), class, blame, retryable, why (explanation).

#ifndef BOUNCEKIT_RULES_H_
#define BOUNCEKIT_RULES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bouncekit/config.h"
#include "bouncekit/taxonomy.h"

namespace bouncekit {

// Inclusive reply-code range: "45x" is 450..459, "5xx" is 500..599;
// "none" is {0, 0} and matches a missing code.
struct CodePattern {
  int16_t lo = 0;
  int16_t hi = 0;
};
absl::StatusOr<CodePattern> ParseCodePattern(absl::string_view text);

// Enhanced-status prefix: `parts` leading components must be equal (the
// detail within [detail, detail_hi]). klass == -1 means any class ("x.7.26");
// parts == 0 is "none" and matches a missing status.
struct StatusPattern {
  int8_t parts = 0;
  int8_t klass = 0;
  int16_t subject = 0;
  int16_t detail = 0;
  int16_t detail_hi = 0;
  int8_t detail_width = 0;  // characters in the detail as written ("0x" is 2)
  std::string ToString() const;
};
absl::StatusOr<StatusPattern> ParseStatusPattern(absl::string_view text);

struct Rule {
  std::string id;
  std::vector<CodePattern> codes;
  std::vector<StatusPattern> statuses;
  std::string text;      // regex on the diagnostic; "" = no condition
  std::string not_text;  // regex that must not match; "" = no condition
  std::vector<std::string> commands;  // upper-case
  std::vector<std::string> actions;   // lower-case
  std::string remote_host;  // regex; "" = no condition
  std::string destination;  // regex; "" = no condition
  std::vector<std::string> profiles;
  std::vector<std::string> not_profiles;

  std::string category;
  std::optional<BounceClass> bounce_class;  // else the category's class
  std::optional<Blame> blame;               // else the category's blame
  std::optional<bool> retryable;            // else the category's rule
  std::string why;                          // human explanation

  int32_t source_line = 0;  // where the rule starts in its file (0 = unknown)

  bool ActiveIn(absl::string_view profile) const;
  bool HasCondition() const;
};

// A category defined by a rule file (beyond the built-in taxonomy).
struct CustomCategory {
  std::string name;
  BounceClass default_class = BounceClass::kUndetermined;
  std::optional<Blame> blame;
  std::optional<bool> retryable;
  std::string sisimai_reason;
  std::string description;
};

// How a profile turns a rule's verdict into the final class.
// Order: `classes` override > class_from_reply_code > soften_transient >
// the rule's class > the category's default class.
struct Profile {
  std::string name;
  std::string description;
  // category name -> class, applied last.
  absl::flat_hash_map<std::string, BounceClass> classes;
  // soft/hard follow the reply class (5 -> hard, 4 -> soft), as RFC 5321
  // reads; categories in `classes` keep their override.
  bool class_from_reply_code = false;
  // A "hard" verdict on a 4xx / 4.x.x reply becomes "soft" (the receiver
  // itself said it is temporary; a history policy can still count repeats).
  bool soften_transient = true;
};

class RuleSet {
 public:
  // Reads either format: text whose first non-comment line starts with
  // "rule_id<TAB>" is TSV, anything else TOML.
  static absl::StatusOr<RuleSet> Parse(absl::string_view text,
                                       absl::string_view source_name = "");
  static absl::StatusOr<RuleSet> ParseTsv(absl::string_view text,
                                          absl::string_view source_name = "");
  static absl::StatusOr<RuleSet> ParseTomlText(absl::string_view text,
                                               absl::string_view source_name = "");
  // From an already parsed document (TOML, or a dict from Python).
  static absl::StatusOr<RuleSet> FromConfig(const ConfigValue& doc,
                                            absl::string_view source_name = "");

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<Profile>& profiles() const { return profiles_; }
  const std::vector<CustomCategory>& custom_categories() const { return custom_categories_; }
  // Whether missing reply codes / statuses are looked for in the text. When
  // false (the default for TSV files), columns are taken exactly as given:
  // the status cell is matched as a string by dot-separated components, as
  // SPEC.md's W1 defines ("5.1" matches pattern "5.1", "5.1.1.1" matches
  // "5.1.1").
  bool infer_codes_from_text() const { return infer_codes_from_text_; }
  const Profile* FindProfile(absl::string_view name) const;
  // The label written for each class (a TSV file that says "unknown" keeps
  // that spelling for kUndetermined).
  absl::string_view ClassLabel(BounceClass c) const;

 private:
  std::string name_;
  std::string version_;
  std::string description_;
  bool infer_codes_from_text_ = true;
  std::vector<Rule> rules_;
  std::vector<Profile> profiles_;
  std::vector<CustomCategory> custom_categories_;
  std::array<std::string, kNumBounceClasses> class_labels_;
  friend class RuleSetBuilder;
};

}  // namespace bouncekit

#endif  // BOUNCEKIT_RULES_H_
