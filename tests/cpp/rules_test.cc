// Copyright 2026 The bouncekit authors.
//
// Tests for rules.h: code and status patterns, TOML and TSV rule files, the
// built-in rule file, and rule-file errors with their locations.

#include "bouncekit/rules.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bouncekit/config.h"
#include "bouncekit/error_location.h"
#include "bouncekit/taxonomy.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BenchRulesPath() { return std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv"; }

constexpr absl::string_view kTsvHeader =
    "rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tnote\n";

// ---------------------------------------------------------- code patterns

TEST(ParseCodePatternTest, Valid) {
  struct Case {
    const char* text;
    int lo;
    int hi;
  };
  const Case cases[] = {
      {"421", 421, 421}, {"45x", 450, 459}, {"5xx", 500, 599}, {"5XX", 500, 599},
      {" 250 ", 250, 250}, {"none", 0, 0},  {"2xx", 200, 299},
  };
  for (const Case& c : cases) {
    absl::StatusOr<CodePattern> p = ParseCodePattern(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status();
    EXPECT_EQ(p->lo, c.lo) << c.text;
    EXPECT_EQ(p->hi, c.hi) << c.text;
  }
}

TEST(ParseCodePatternTest, Invalid) {
  for (const char* text :
       {"4x5", "5", "55", "x5x", "5555", "", "abc", "4 5", "xxx", "5x", "none5"}) {
    absl::StatusOr<CodePattern> p = ParseCodePattern(text);
    ASSERT_FALSE(p.ok()) << "'" << text << "' -> " << p->lo << ".." << p->hi;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(p.status().message(), "bad reply-code pattern"))
        << p.status();
  }
}

// Regression (found by the bad-input catalogue): a pattern outside 200..599
// was accepted and its rule could never match.
TEST(ParseCodePatternTest, OutsideReplyCodeRange) {
  for (const char* text : {"6xx", "1xx", "0xx", "999", "199", "600", "9xx"}) {
    absl::StatusOr<CodePattern> p = ParseCodePattern(text);
    ASSERT_FALSE(p.ok()) << "'" << text << "' -> " << p->lo << ".." << p->hi;
    EXPECT_TRUE(absl::StrContains(p.status().message(), "reply codes run from 200 to 599"))
        << p.status();
  }
}

// -------------------------------------------------------- status patterns

TEST(ParseStatusPatternTest, Valid) {
  struct Case {
    const char* text;
    int parts;
    int klass;
    int subject;
    int detail;
    int detail_hi;
  };
  const Case cases[] = {
      {"5", 1, 5, 0, 0, 0},
      {"5.7", 2, 5, 7, 0, 0},
      {"5.1.1", 3, 5, 1, 1, 1},
      {"x.7.26", 3, -1, 7, 26, 26},
      {"X.1.1", 3, -1, 1, 1, 1},
      {"x.7", 2, -1, 7, 0, 0},
      {"4.7.5xx", 3, 4, 7, 500, 599},
      {"5.7.50x", 3, 5, 7, 500, 509},
      {"4.7.6XX", 3, 4, 7, 600, 699},
      {"5.1.10", 3, 5, 1, 10, 10},
      {"2.0.0", 3, 2, 0, 0, 0},
      {"none", 0, 0, 0, 0, 0},
  };
  for (const Case& c : cases) {
    absl::StatusOr<StatusPattern> p = ParseStatusPattern(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status();
    EXPECT_EQ(p->parts, c.parts) << c.text;
    if (c.parts > 0) EXPECT_EQ(p->klass, c.klass) << c.text;
    if (c.parts > 1) EXPECT_EQ(p->subject, c.subject) << c.text;
    if (c.parts > 2) {
      EXPECT_EQ(p->detail, c.detail) << c.text;
      EXPECT_EQ(p->detail_hi, c.detail_hi) << c.text;
    }
  }
}

TEST(ParseStatusPatternTest, Invalid) {
  // 'x' is allowed as the whole class, or in the detail after a digit.
  for (const char* text : {"x", "X", "5.1.1.1", "6.1.1", "5.1.x", "4.7.x5", "4.7.5x5", "5.x.1",
                           "55.1", "5.", ".5", "", "5..1", "5.1.1000", "5.1000", "a.1.1", "5 .1"}) {
    absl::StatusOr<StatusPattern> p = ParseStatusPattern(text);
    ASSERT_FALSE(p.ok()) << "'" << text << "' -> " << p->ToString();
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(p.status().message(), "bad status pattern")) << p.status();
  }
}

TEST(ParseStatusPatternTest, ToStringRoundTrips) {
  for (const char* text : {"5", "5.7", "5.1.1", "x.7.26", "4.7.5xx", "5.7.50x", "none", "x.1",
                           "4.7.650"}) {
    absl::StatusOr<StatusPattern> p = ParseStatusPattern(text);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->ToString(), text);
    absl::StatusOr<StatusPattern> again = ParseStatusPattern(p->ToString());
    ASSERT_TRUE(again.ok()) << p->ToString();
    EXPECT_EQ(again->detail_hi, p->detail_hi);
  }
}

// ------------------------------------------------------------ Rule methods

TEST(RuleTest, ActiveInAndHasCondition) {
  Rule r;
  EXPECT_TRUE(r.ActiveIn("default"));
  EXPECT_FALSE(r.HasCondition());
  r.not_profiles = {"ses"};
  EXPECT_TRUE(r.ActiveIn("default"));
  EXPECT_FALSE(r.ActiveIn("ses"));
  r.profiles = {"sisimai", "ses"};
  EXPECT_TRUE(r.ActiveIn("sisimai"));
  EXPECT_FALSE(r.ActiveIn("default"));
  EXPECT_FALSE(r.ActiveIn("ses"));  // not_profiles wins
  r.destination = "example";
  EXPECT_TRUE(r.HasCondition());
}

// ----------------------------------------------------------- TSV rule sets

TEST(RuleSetTsvTest, BenchRules) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(ReadFile(BenchRulesPath()), "rules.tsv");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rules().size(), 37u);
  EXPECT_FALSE(rs->infer_codes_from_text());
  EXPECT_EQ(rs->ClassLabel(BounceClass::kUndetermined), "unknown");
  EXPECT_EQ(rs->ClassLabel(BounceClass::kHard), "hard");
  ASSERT_EQ(rs->profiles().size(), 1u);
  EXPECT_EQ(rs->profiles()[0].name, "default");
  EXPECT_NE(rs->FindProfile("default"), nullptr);
  EXPECT_EQ(rs->FindProfile("sisimai"), nullptr);

  for (size_t i = 0; i < rs->rules().size(); ++i) {
    const Rule& r = rs->rules()[i];
    EXPECT_EQ(r.id, absl::StrCat(i + 1));
    EXPECT_EQ(r.source_line, static_cast<int32_t>(i + 2)) << r.id;
    EXPECT_TRUE(r.bounce_class.has_value()) << r.id;
    EXPECT_FALSE(r.why.empty()) << r.id;
    EXPECT_EQ(r.HasCondition(), i + 1 != 37) << r.id;
  }
  const Rule& first = rs->rules()[0];
  ASSERT_EQ(first.codes.size(), 1u);
  EXPECT_EQ(first.codes[0].lo, 200);
  EXPECT_EQ(first.codes[0].hi, 299);
  EXPECT_EQ(first.category, "delivered");
  EXPECT_EQ(first.bounce_class, BounceClass::kDelivered);

  const Rule& greylist = rs->rules()[1];
  EXPECT_EQ(greylist.text, "gr[ae]y[ -]?list");
  EXPECT_EQ(greylist.category, "greylisted");

  const Rule& auth = rs->rules()[3];
  ASSERT_EQ(auth.statuses.size(), 9u);
  EXPECT_EQ(auth.statuses[0].ToString(), "5.7.26");
  EXPECT_EQ(auth.statuses[6].ToString(), "5.7.509");

  const Rule& last = rs->rules()[36];
  EXPECT_EQ(last.bounce_class, BounceClass::kUndetermined);
  EXPECT_EQ(last.category, "unknown");
}

TEST(RuleSetTsvTest, OptionalColumnsAndCommentsAndCrLf) {
  const std::string text = absl::StrCat(
      "# a comment before the header\r\n",
      "rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tcommand\tretryable\tprofiles\r\n",
      "\r\n",
      "a\t45x, 55x\t5.1.1,x.7.26\tmailbox\tsoft\tmailbox_full\trcpt,data\ttrue\tdefault\r\n",
      "b\t\t\t\t\tundetermined\r\n");
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(text);
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->rules().size(), 2u);
  const Rule& a = rs->rules()[0];
  ASSERT_EQ(a.codes.size(), 2u);
  EXPECT_EQ(a.codes[1].lo, 550);
  EXPECT_EQ(a.codes[1].hi, 559);
  ASSERT_EQ(a.statuses.size(), 2u);
  EXPECT_EQ(a.statuses[1].klass, -1);
  EXPECT_EQ(a.commands, (std::vector<std::string>{"RCPT", "DATA"}));
  EXPECT_EQ(a.retryable, std::optional<bool>(true));
  EXPECT_EQ(a.profiles, (std::vector<std::string>{"default"}));
  EXPECT_EQ(a.source_line, 4);
  const Rule& b = rs->rules()[1];
  EXPECT_FALSE(b.bounce_class.has_value());  // a built-in category's class applies
  EXPECT_FALSE(b.HasCondition());
  EXPECT_EQ(rs->ClassLabel(BounceClass::kUndetermined), "undetermined");
}

TEST(RuleSetParseTest, DetectsFormat) {
  const std::string tsv = ReadFile(BenchRulesPath());
  absl::StatusOr<RuleSet> from_tsv = RuleSet::Parse(tsv);
  ASSERT_TRUE(from_tsv.ok()) << from_tsv.status();
  EXPECT_EQ(from_tsv->rules().size(), 37u);
  EXPECT_FALSE(from_tsv->infer_codes_from_text());

  absl::StatusOr<RuleSet> with_comment =
      RuleSet::Parse(absl::StrCat("# generated\n\n", kTsvHeader,
                                  "r\t5xx\t\t\thard\tuser_unknown\tx\n"));
  ASSERT_TRUE(with_comment.ok()) << with_comment.status();
  EXPECT_EQ(with_comment->rules().size(), 1u);
  EXPECT_FALSE(with_comment->infer_codes_from_text());

  const std::string toml =
      "# rules\n[ruleset]\nname = \"mine\"\n[[rules]]\nid = \"r\"\ncategory = \"undetermined\"\n";
  absl::StatusOr<RuleSet> from_toml = RuleSet::Parse(toml);
  ASSERT_TRUE(from_toml.ok()) << from_toml.status();
  EXPECT_EQ(from_toml->name(), "mine");
  EXPECT_TRUE(from_toml->infer_codes_from_text());

  // A TOML file is not mistaken for TSV because a key is named rule_id.
  absl::StatusOr<RuleSet> not_tsv = RuleSet::Parse("rule_id = 1\n");
  ASSERT_FALSE(not_tsv.ok());
  EXPECT_TRUE(absl::StrContains(not_tsv.status().message(), "unknown top-level key 'rule_id'"))
      << not_tsv.status();
}

// ------------------------------------------------------- built-in rule file

class BuiltinRulesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<RuleSet> rs =
        RuleSet::Parse(ReadFile(BOUNCEKIT_BUILTIN_RULES), "rules.toml");
    ASSERT_TRUE(rs.ok()) << rs.status();
    rules_ = new RuleSet(*std::move(rs));
  }
  static void TearDownTestSuite() {
    delete rules_;
    rules_ = nullptr;
  }
  static RuleSet* rules_;
};
RuleSet* BuiltinRulesTest::rules_ = nullptr;

TEST_F(BuiltinRulesTest, Metadata) {
  ASSERT_NE(rules_, nullptr);
  EXPECT_EQ(rules_->name(), "bouncekit-builtin");
  EXPECT_FALSE(rules_->version().empty());
  EXPECT_FALSE(rules_->description().empty());
  EXPECT_TRUE(rules_->infer_codes_from_text());
  EXPECT_GT(rules_->rules().size(), 50u);
  EXPECT_EQ(rules_->ClassLabel(BounceClass::kUndetermined), "undetermined");
  EXPECT_TRUE(rules_->custom_categories().empty());
}

TEST_F(BuiltinRulesTest, Profiles) {
  ASSERT_NE(rules_, nullptr);
  std::vector<std::string> names;
  for (const Profile& p : rules_->profiles()) names.push_back(p.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"default", "sisimai", "ses", "strict_rfc", "mailgun"}));
  for (const Profile& p : rules_->profiles()) EXPECT_FALSE(p.description.empty()) << p.name;

  const Profile* def = rules_->FindProfile("default");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(def->soften_transient);
  EXPECT_FALSE(def->class_from_reply_code);
  EXPECT_TRUE(def->classes.empty());

  const Profile* sisimai = rules_->FindProfile("sisimai");
  ASSERT_NE(sisimai, nullptr);
  EXPECT_FALSE(sisimai->soften_transient);
  ASSERT_TRUE(sisimai->classes.contains("mailbox_disabled"));
  EXPECT_EQ(sisimai->classes.at("mailbox_disabled"), BounceClass::kSoft);

  const Profile* ses = rules_->FindProfile("ses");
  ASSERT_NE(ses, nullptr);
  EXPECT_TRUE(ses->class_from_reply_code);
  EXPECT_EQ(ses->classes.at("mailbox_full"), BounceClass::kSoft);

  const Profile* strict = rules_->FindProfile("strict_rfc");
  ASSERT_NE(strict, nullptr);
  EXPECT_TRUE(strict->class_from_reply_code);
  EXPECT_EQ(strict->classes.at("mailbox_full"), BounceClass::kSoft);
  EXPECT_EQ(strict->classes.at("too_many_recipients"), BounceClass::kSoft);

  const Profile* mailgun = rules_->FindProfile("mailgun");
  ASSERT_NE(mailgun, nullptr);
  EXPECT_EQ(mailgun->classes.at("mailbox_full"), BounceClass::kHard);
  EXPECT_EQ(rules_->FindProfile("no_such_profile"), nullptr);
}

TEST_F(BuiltinRulesTest, RulesAreWellFormed) {
  ASSERT_NE(rules_, nullptr);
  const std::vector<Rule>& rules = rules_->rules();
  EXPECT_EQ(rules.front().id, "delivered.reply");
  EXPECT_EQ(rules.back().id, "fallback.undetermined");
  EXPECT_FALSE(rules.back().HasCondition());
  absl::flat_hash_set<std::string> ids;
  int32_t previous_line = 0;
  for (const Rule& r : rules) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    // Every category the built-in rules use is in the taxonomy.
    EXPECT_NE(FindCategory(r.category), nullptr) << r.id << ": " << r.category;
    EXPECT_FALSE(r.why.empty()) << r.id;
    EXPECT_GT(r.source_line, previous_line) << r.id;
    previous_line = r.source_line;
    for (const std::string& p : r.profiles) EXPECT_NE(rules_->FindProfile(p), nullptr) << r.id;
    // Only the last rule is a catch-all; any earlier one would hide the rest.
    if (&r != &rules.back()) EXPECT_TRUE(r.HasCondition()) << r.id;
  }
}

// Every category of the taxonomy can be the answer of some built-in rule.
// Exception: "suppressed" (the sending platform's own suppression list) is
// not decided by any built-in rule; it is reported as a known gap.
TEST_F(BuiltinRulesTest, EveryCategoryIsUsed) {
  ASSERT_NE(rules_, nullptr);
  absl::flat_hash_set<std::string> used;
  for (const Rule& r : rules_->rules()) used.insert(r.category);
  for (const CategoryInfo& c : Categories()) {
    if (c.name == "suppressed") continue;
    EXPECT_TRUE(used.contains(c.name)) << "no built-in rule decides " << c.name;
  }
}

// ---------------------------------------------------------- rule-file errors

struct RuleErrorCase {
  std::string text;
  std::optional<std::string> field;
  std::optional<int64_t> line;
  const char* message_part;
};

void ExpectRuleError(const RuleErrorCase& c) {
  SCOPED_TRACE(absl::StrCat("input:\n", c.text));
  absl::StatusOr<RuleSet> rs = RuleSet::Parse(c.text);
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument) << rs.status();
  EXPECT_TRUE(absl::StrContains(rs.status().message(), c.message_part)) << rs.status();
  const ErrorLocation loc = GetErrorLocation(rs.status());
  EXPECT_EQ(loc.field, c.field) << rs.status();
  EXPECT_EQ(loc.line, c.line) << rs.status();
}

constexpr absl::string_view kRuleHead = "[[rules]]\nid = \"a\"\ncategory = \"user_unknown\"\n";

TEST(RuleSetErrorTest, TomlRuleErrors) {
  const std::string head(kRuleHead);
  const RuleErrorCase cases[] = {
      {head + "foo = 1\n", "foo", 4, "unknown key 'foo'"},
      {head + "class = \"permanent\"\n", "class", 4, "unknown class 'permanent'"},
      {head + "text = '(unclosed'\n", "text", 4, "not a valid RE2 regex: missing )"},
      {head + "not_text = '[a-'\n", "not_text", 4, "not a valid RE2 regex"},
      {head + "remote_host = '*x'\n", "remote_host", 4, "not a valid RE2 regex"},
      {head + head, "id", 5, "duplicate rule id 'a'"},
      {"[[rules]]\nid = \"a\"\ncategory = \"mystery\"\n", "class", 1,
       "category 'mystery' is not built in"},
      {"[profiles.p]\nclasses = { nosuch = \"hard\" }\n" + head, "nosuch", 2,
       "'classes' names unknown category 'nosuch'"},
      {head + "profiles = [\"nosuch\"]\n", "profiles", 1, "names unknown profile 'nosuch'"},
      {head + "not_profiles = \"ses\"\n", "not_profiles", 1, "names unknown profile 'ses'"},
      {head + "code = \"5x1\"\n", "code", 4, "bad reply-code pattern '5x1'"},
      {head + "status = [\"5.1.1\", \"5.1.1.1\"]\n", "status", 4, "bad status pattern '5.1.1.1'"},
      {head + "blame = \"nobody\"\n", "blame", 4, "unknown blame 'nobody'"},
      {head + "retryable = \"yes\"\n", "retryable", 4, "'retryable' must be true or false"},
      {head + "text = 5\n", "text", 4, "'text' must be a string, not a integer"},
      {head + "code = [550]\n", "code", 4, "items must be strings"},
      {"[[rules]]\ncategory = \"user_unknown\"\n", "id", 1, "has no 'id'"},
      {"[[rules]]\nid = \"\"\ncategory = \"user_unknown\"\n", "id", 2, "rule id is empty"},
      {"[[rules]]\nid = \"a\"\ncode = \"550\"\n", "category", 1, "needs a 'category'"},
      {"[ruleset]\nnam = \"x\"\n" + head, "nam", 2, "unknown [ruleset] key 'nam'"},
      {"[ruleset]\ninfer_codes_from_text = \"yes\"\n" + head, "infer_codes_from_text", 2,
       "must be true or false"},
      {"[rule]\nid = 1\n", "rule", 1, "unknown top-level key 'rule'"},
      {"[ruleset]\nname = \"x\"\n", "rules", 1, "needs at least one [[rules]]"},
      {"rules = []\n", "rules", 1, "the rule list is empty"},
      {"rules = 5\n", "rules", 1, "must be an array of tables"},
      {"[categories.user_unknown]\nclass = \"hard\"\n" + head, "user_unknown", 1,
       "is a built-in category"},
      {"[categories.mine]\nblame = \"sender\"\n" + head, "class", 1, "needs a 'class'"},
      {"[categories.mine]\nclass = \"hard\"\ncolour = 1\n" + head, "colour", 3,
       "unknown key 'colour'"},
      {"[profiles.p]\nstrict = true\n" + head, "strict", 2, "unknown key 'strict'"},
      {"[profiles.p]\nsoften_transient = 1\n" + head, "soften_transient", 2,
       "must be true or false"},
      {"[profiles.p]\nclasses = { user_unknown = \"firm\" }\n" + head, "user_unknown", 2,
       "unknown class 'firm'"},
      // TOML syntax errors come through with their position.
      {head + "why = \"x\n", std::nullopt, 4, "unterminated string"},
  };
  for (const RuleErrorCase& c : cases) ExpectRuleError(c);
}

TEST(RuleSetErrorTest, RuleErrorColumnAndSource) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTomlText(
      "[[rules]]\nid = \"a\"\ncategory = \"user_unknown\"\nclas = \"hard\"\n", "mine.toml");
  ASSERT_FALSE(rs.ok());
  const ErrorLocation loc = GetErrorLocation(rs.status());
  EXPECT_EQ(loc.line, std::optional<int64_t>(4));
  EXPECT_EQ(loc.text_column, std::optional<int64_t>(8));
  EXPECT_EQ(loc.field, std::optional<std::string>("clas"));
  EXPECT_EQ(loc.source, std::optional<std::string>("mine.toml"));
  EXPECT_TRUE(absl::StartsWith(rs.status().message(), "mine.toml:4:8: ")) << rs.status();
}

TEST(RuleSetErrorTest, HandBuiltDocumentsHaveNoLine) {
  ConfigValue doc = ConfigValue::Table();
  ConfigValue& rules = doc.Set("rules", ConfigValue::Array());
  ConfigValue rule = ConfigValue::Table();
  rule.Set("id", ConfigValue::String("a"));
  rule.Set("category", ConfigValue::String("user_unknown"));
  rule.Set("class", ConfigValue::String("bogus"));
  rules.mutable_items().push_back(std::move(rule));
  absl::StatusOr<RuleSet> rs = RuleSet::FromConfig(doc);
  ASSERT_FALSE(rs.ok());
  EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument);
  const ErrorLocation loc = GetErrorLocation(rs.status());
  EXPECT_EQ(loc.field, std::optional<std::string>("class"));
  EXPECT_FALSE(loc.line.has_value());
  EXPECT_TRUE(absl::StartsWith(rs.status().message(), "rule 'a': unknown class 'bogus'"))
      << rs.status();
}

TEST(RuleSetTomlTest, CustomCategoriesAndIntegerIds) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTomlText(
      "[categories.vip_block]\n"
      "class = \"block\"\n"
      "blame = \"sender\"\n"
      "retryable = false\n"
      "sisimai_reason = \"blocked\"\n"
      "[profiles.strict]\n"
      "class_from_reply_code = true\n"
      "classes = { vip_block = \"hard\" }\n"
      "[[rules]]\n"
      "id = 7\n"
      "text = 'vip'\n"
      "category = \"vip_block\"\n"
      "[[rules]]\n"
      "id = \"other\"\n"
      "category = \"ad_hoc\"\n"
      "class = \"unknown\"\n"
      "command = \"rcpt\"\n"
      "action = [\"FAILED\"]\n");
  ASSERT_TRUE(rs.ok()) << rs.status();
  ASSERT_EQ(rs->custom_categories().size(), 1u);
  const CustomCategory& c = rs->custom_categories()[0];
  EXPECT_EQ(c.name, "vip_block");
  EXPECT_EQ(c.default_class, BounceClass::kBlock);
  EXPECT_EQ(c.blame, std::optional<Blame>(Blame::kSender));
  EXPECT_EQ(c.retryable, std::optional<bool>(false));
  EXPECT_EQ(c.sisimai_reason, "blocked");
  ASSERT_EQ(rs->rules().size(), 2u);
  EXPECT_EQ(rs->rules()[0].id, "7");
  EXPECT_EQ(rs->rules()[0].source_line, 9);
  EXPECT_EQ(rs->rules()[1].commands, (std::vector<std::string>{"RCPT"}));
  EXPECT_EQ(rs->rules()[1].actions, (std::vector<std::string>{"failed"}));
  // "unknown" is accepted as a class and becomes the label of kUndetermined.
  EXPECT_EQ(rs->ClassLabel(BounceClass::kUndetermined), "unknown");
  // The profiles: "default" is added in front.
  ASSERT_EQ(rs->profiles().size(), 2u);
  EXPECT_EQ(rs->profiles()[0].name, "default");
  EXPECT_EQ(rs->profiles()[1].name, "strict");
  EXPECT_EQ(rs->profiles()[1].classes.at("vip_block"), BounceClass::kHard);
}

TEST(RuleSetErrorTest, TsvErrors) {
  {
    // Unknown column: line 1, its column number, the column as the field.
    absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(
        "rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tcolour\n"
        "1\t\t\t\tsoft\tx\t\n",
        "r.tsv");
    ASSERT_FALSE(rs.ok());
    EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument);
    const ErrorLocation loc = GetErrorLocation(rs.status());
    EXPECT_EQ(loc.field, std::optional<std::string>("colour"));
    EXPECT_EQ(loc.line, std::optional<int64_t>(1));
    EXPECT_EQ(loc.text_column, std::optional<int64_t>(7));
    EXPECT_EQ(loc.source, std::optional<std::string>("r.tsv"));
    EXPECT_TRUE(absl::StrContains(rs.status().message(), "unknown column 'colour'"));
  }
  {
    // Too many cells: the line and the first extra cell.
    absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(
        absl::StrCat(kTsvHeader, "1\t5xx\t\t\thard\tuser_unknown\tnote\n",
                     "2\t4xx\t\t\tsoft\tgeneric_transient\tnote\textra\n"));
    ASSERT_FALSE(rs.ok());
    EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument);
    const ErrorLocation loc = GetErrorLocation(rs.status());
    EXPECT_EQ(loc.line, std::optional<int64_t>(3));
    EXPECT_EQ(loc.text_column, std::optional<int64_t>(8));
    EXPECT_FALSE(loc.field.has_value());
    EXPECT_TRUE(absl::StrContains(rs.status().message(), "8 cells but the header has 7"))
        << rs.status();
  }
  {
    // A bad regex: the field is the rule key, the position its cell.
    absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(
        absl::StrCat(kTsvHeader, "1\t4xx\t\t(\tsoft\tx\tn\n"));
    ASSERT_FALSE(rs.ok());
    const ErrorLocation loc = GetErrorLocation(rs.status());
    EXPECT_EQ(loc.field, std::optional<std::string>("text"));
    EXPECT_EQ(loc.line, std::optional<int64_t>(2));
    EXPECT_EQ(loc.text_column, std::optional<int64_t>(4));
  }
  const RuleErrorCase cases[] = {
      {"rule_id\tcode\tstatus\tdiag_regex\tbounce_class\n1\t\t\t\tsoft\n", "category", 1,
       "no 'category' column"},
      {"rule_id\tcode\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\n", "code", 1,
       "column 'code' appears twice"},
      {absl::StrCat(kTsvHeader), std::nullopt, 1, "no rules after the header"},
      {absl::StrCat(kTsvHeader, "1\t5xx\t\t\thard\t\tnote\n"), "category", 2,
       "every rule needs a category"},
      {absl::StrCat(kTsvHeader, "1\t5x5\t\t\thard\tuser_unknown\tnote\n"), "code", 2,
       "bad reply-code pattern"},
      {absl::StrCat(kTsvHeader, "1\t\t6.1.1\t\thard\tuser_unknown\tnote\n"), "status", 2,
       "bad status pattern"},
      {absl::StrCat(kTsvHeader, "1\t\t\t\tfirm\tuser_unknown\tnote\n"), "class", 2,
       "unknown class 'firm'"},
      {absl::StrCat(kTsvHeader, "1\t\t\t\t\tmystery\tnote\n"), "class", 2, "not built in"},
      {absl::StrCat(kTsvHeader, "1\t\t\t\thard\tuser_unknown\tn\n1\t\t\t\thard\tx\tn\n"), "id", 3,
       "duplicate rule id '1'"},
      {"rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tretryable\n"
       "1\t\t\t\thard\tuser_unknown\tmaybe\n",
       "retryable", 2, "retryable is 'true' or 'false'"},
      // A TSV file defines only the default profile: naming another one is
      // an error, as in TOML files (the rule could never be active).
      {"rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tprofiles\n"
       "1\t\t\t\thard\tuser_unknown\tsisimai\n",
       "profiles", 2, "names unknown profile 'sisimai'"},
  };
  for (const RuleErrorCase& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<RuleSet> rs = RuleSet::ParseTsv(c.text);
    ASSERT_FALSE(rs.ok());
    EXPECT_EQ(rs.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(rs.status().message(), c.message_part)) << rs.status();
    const ErrorLocation loc = GetErrorLocation(rs.status());
    EXPECT_EQ(loc.field, c.field) << rs.status();
    EXPECT_EQ(loc.line, c.line) << rs.status();
  }
  absl::StatusOr<RuleSet> empty = RuleSet::ParseTsv("");
  ASSERT_FALSE(empty.ok());
  EXPECT_TRUE(absl::StrContains(empty.status().message(), "empty rule file"));
}

}  // namespace
}  // namespace bouncekit

namespace bouncekit {
namespace {

TEST(StatusPatternRoundTrip, WildcardDetailsPrintAsWritten) {
  for (const char* text : {"5.1.0x", "4.7.5xx", "5.7.50x", "x.7.26", "5.1.1", "5", "5.7", "none"}) {
    absl::StatusOr<StatusPattern> p = ParseStatusPattern(text);
    ASSERT_TRUE(p.ok()) << text;
    EXPECT_EQ(p->ToString(), text);
    absl::StatusOr<StatusPattern> q = ParseStatusPattern(p->ToString());
    ASSERT_TRUE(q.ok()) << text;
    EXPECT_EQ(q->detail, p->detail);
    EXPECT_EQ(q->detail_hi, p->detail_hi);
  }
}

}  // namespace
}  // namespace bouncekit
