// Copyright 2026 The bouncekit authors.
//
// Tests for taxonomy.h: the categories, class and blame names, and the
// mappings to Sisimai reasons, Amazon SES bounce types and SparkPost classes,
// checked against the reference material in ../shared.

#include "bouncekit/taxonomy.h"

#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

std::string ReadShared(absl::string_view relative) {
  const std::string path = std::string(BOUNCEKIT_SHARED_DIR) + "/" + std::string(relative);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The reason names listed under "## Reason names (Sisimai 5)" in the Sisimai
// corpus README: "name (explanation), name, ...; and not bounces: ...".
std::set<std::string> SisimaiReasons() {
  const std::string readme = ReadShared("corpora/sisimai/README.md");
  const size_t start = readme.find("## Reason names");
  EXPECT_NE(start, std::string::npos);
  if (start == std::string::npos) return {};
  size_t body = readme.find('\n', start);
  size_t end = readme.find("\n#", body);
  absl::string_view section(readme.data() + body,
                            (end == std::string::npos ? readme.size() : end) - body);
  // Drop the parenthesised explanations.
  std::string flat;
  int depth = 0;
  for (char c : section) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (depth == 0) {
      flat.push_back(c);
    }
  }
  std::set<std::string> reasons;
  for (absl::string_view item : absl::StrSplit(flat, absl::ByAnyChar(",;:"))) {
    item = absl::StripAsciiWhitespace(item);
    item = absl::StripSuffix(item, ".");
    if (item.empty() || absl::StrContains(item, " ")) continue;  // "and not bounces"
    reasons.emplace(item);
  }
  return reasons;
}

TEST(SisimaiReasonsTest, ReaderFindsTheList) {
  const std::set<std::string> reasons = SisimaiReasons();
  EXPECT_EQ(reasons.size(), 36u);
  for (const char* r : {"userunknown", "hostunknown", "onhold", "undefined", "vacation",
                        "feedback", "delivered", "failedstarttls"}) {
    EXPECT_EQ(reasons.count(r), 1u) << r;
  }
  for (const std::string& r : reasons) {
    for (char c : r) EXPECT_TRUE(absl::ascii_islower(c)) << "'" << r << "'";
  }
}

// ------------------------------------------------------------ categories

TEST(CategoriesTest, NamesAreUniqueAndFindable) {
  absl::Span<const CategoryInfo> cats = Categories();
  ASSERT_GT(cats.size(), 40u);
  absl::flat_hash_set<absl::string_view> names;
  for (const CategoryInfo& c : cats) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
    EXPECT_EQ(FindCategory(c.name), &c) << c.name;
    EXPECT_FALSE(c.description.empty()) << c.name;
    for (char ch : c.name) {
      EXPECT_TRUE(absl::ascii_islower(ch) || ch == '_') << c.name;
    }
  }
  EXPECT_EQ(FindCategory("no_such_category"), nullptr);
  EXPECT_EQ(FindCategory(""), nullptr);
  EXPECT_EQ(FindCategory("User_Unknown"), nullptr);
  // The categories the classifier and the docs rely on.
  for (const char* name : {"delivered", "user_unknown", "mailbox_full", "blocklisted",
                           "greylisted", "rate_limited", "expired", "generic_transient",
                           "generic_permanent", "undetermined"}) {
    EXPECT_NE(FindCategory(name), nullptr) << name;
  }
}

TEST(CategoriesTest, AttributesAreConsistent) {
  const std::set<absl::string_view> groups = {"recipient", "message",  "sender",
                                              "infrastructure", "outcome", "unknown"};
  for (const CategoryInfo& c : Categories()) {
    EXPECT_EQ(groups.count(c.group), 1u) << c.name << ": " << c.group;
    // A hard class says the address is bad: retrying cannot help.
    if (c.default_class == BounceClass::kHard) {
      EXPECT_EQ(c.retry, Retry::kNo) << c.name;
    }
    // Categories of the recipient group blame the recipient, and so on.
    if (c.group == "recipient") EXPECT_EQ(c.blame, Blame::kRecipient) << c.name;
    if (c.group == "message") EXPECT_EQ(c.blame, Blame::kMessage) << c.name;
    if (c.group == "infrastructure") EXPECT_EQ(c.blame, Blame::kInfrastructure) << c.name;
  }
  const CategoryInfo* uu = FindCategory("user_unknown");
  ASSERT_NE(uu, nullptr);
  EXPECT_EQ(uu->default_class, BounceClass::kHard);
  EXPECT_EQ(uu->blame, Blame::kRecipient);
  EXPECT_EQ(uu->sisimai_reason, "userunknown");
  const CategoryInfo* full = FindCategory("mailbox_full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->default_class, BounceClass::kSoft);  // RFC 3463: X.2.2 is transient
  EXPECT_EQ(full->retry, Retry::kYes);
  const CategoryInfo* und = FindCategory("undetermined");
  ASSERT_NE(und, nullptr);
  EXPECT_EQ(und->default_class, BounceClass::kUndetermined);
  EXPECT_EQ(und->sisimai_reason, "undefined");
}

TEST(CategoriesTest, SisimaiReasonsAreSisimaiNamesAndAllReachable) {
  const std::set<std::string> reasons = SisimaiReasons();
  ASSERT_FALSE(reasons.empty());
  std::set<std::string> used;
  for (const CategoryInfo& c : Categories()) {
    ASSERT_FALSE(c.sisimai_reason.empty()) << c.name;
    EXPECT_EQ(reasons.count(std::string(c.sisimai_reason)), 1u)
        << c.name << ": '" << c.sisimai_reason << "' is not a Sisimai 5 reason";
    used.emplace(c.sisimai_reason);
  }
  for (const std::string& r : reasons) {
    EXPECT_EQ(used.count(r), 1u) << "no category maps to Sisimai reason '" << r << "'";
  }
}

// --------------------------------------------------------- class / blame

TEST(BounceClassTest, NamesRoundTrip) {
  std::set<absl::string_view> names;
  for (int i = 0; i < kNumBounceClasses; ++i) {
    const BounceClass c = static_cast<BounceClass>(i);
    const absl::string_view name = BounceClassName(c);
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(ParseBounceClass(name), std::optional<BounceClass>(c)) << name;
  }
  EXPECT_EQ(BounceClassName(BounceClass::kAutoReply), "auto_reply");
  EXPECT_EQ(ParseBounceClass("unknown"), std::optional<BounceClass>(BounceClass::kUndetermined));
  EXPECT_EQ(ParseBounceClass("Hard"), std::nullopt);
  EXPECT_EQ(ParseBounceClass(""), std::nullopt);
  EXPECT_EQ(ParseBounceClass("permanent"), std::nullopt);
  EXPECT_EQ(ParseBounceClass("hard "), std::nullopt);
}

TEST(BlameTest, NamesRoundTrip) {
  std::set<absl::string_view> names;
  for (int i = 0; i < kNumBlames; ++i) {
    const Blame b = static_cast<Blame>(i);
    EXPECT_TRUE(names.insert(BlameName(b)).second);
    EXPECT_EQ(ParseBlame(BlameName(b)), std::optional<Blame>(b));
  }
  EXPECT_EQ(ParseBlame("nobody"), std::nullopt);
  EXPECT_EQ(ParseBlame("Sender"), std::nullopt);
}

// -------------------------------------------------------------------- SES

// (type, subtype) pairs of the SES bounce table in esp-taxonomies.md.
std::set<std::pair<std::string, std::string>> SesPairs() {
  const std::string doc = ReadShared("reference/esp-taxonomies.md");
  std::set<std::pair<std::string, std::string>> pairs;
  for (absl::string_view line : absl::StrSplit(doc, '\n')) {
    if (!absl::StartsWith(line, "| ")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    if (cells.size() < 4) continue;
    const std::string type(absl::StripAsciiWhitespace(cells[1]));
    const std::string subtype(absl::StripAsciiWhitespace(cells[2]));
    if (type == "Undetermined" || type == "Permanent" || type == "Transient") {
      pairs.emplace(type, subtype);
    }
  }
  return pairs;
}

TEST(MapToSesTest, Examples) {
  const CategoryInfo* uu = FindCategory("user_unknown");
  const CategoryInfo* bl = FindCategory("blocklisted");
  const CategoryInfo* full = FindCategory("mailbox_full");
  ASSERT_NE(uu, nullptr);
  ASSERT_NE(bl, nullptr);
  ASSERT_NE(full, nullptr);
  SesBounce s = MapToSes(uu, BounceClass::kHard, 5);
  EXPECT_EQ(s.type, "Permanent");
  EXPECT_EQ(s.subtype, "NoEmail");
  s = MapToSes(bl, BounceClass::kBlock, 4);
  EXPECT_EQ(s.type, "Transient");
  EXPECT_EQ(s.subtype, "General");
  s = MapToSes(bl, BounceClass::kBlock, 5);
  EXPECT_EQ(s.type, "Permanent");
  s = MapToSes(bl, BounceClass::kBlock, 0);
  EXPECT_EQ(s.type, "Undetermined");
  s = MapToSes(full, BounceClass::kHard, 5);  // mailgun's hard: still MailboxFull
  EXPECT_EQ(s.type, "Transient");
  EXPECT_EQ(s.subtype, "MailboxFull");
  s = MapToSes(FindCategory("suppressed"), BounceClass::kHard, 0);
  EXPECT_EQ(s.type, "Permanent");
  EXPECT_EQ(s.subtype, "OnAccountSuppressionList");
  s = MapToSes(FindCategory("delivered"), BounceClass::kDelivered, 2);
  EXPECT_TRUE(s.type.empty());
  s = MapToSes(FindCategory("complaint"), BounceClass::kComplaint, 0);
  EXPECT_TRUE(s.type.empty());
  // Without a category the class and reply class decide.
  s = MapToSes(nullptr, BounceClass::kHard, 0);
  EXPECT_EQ(s.type, "Permanent");
  EXPECT_EQ(s.subtype, "General");
  s = MapToSes(nullptr, BounceClass::kSoft, 0);
  EXPECT_EQ(s.type, "Transient");
  s = MapToSes(nullptr, BounceClass::kHard, 4);
  EXPECT_EQ(s.type, "Transient");
  s = MapToSes(nullptr, BounceClass::kUndetermined, 0);
  EXPECT_EQ(s.type, "Undetermined");
  EXPECT_EQ(s.subtype, "Undetermined");
}

TEST(MapToSesTest, EveryResultIsInTheSesTable) {
  const std::set<std::pair<std::string, std::string>> pairs = SesPairs();
  ASSERT_GE(pairs.size(), 10u);
  ASSERT_EQ(pairs.count({"Permanent", "NoEmail"}), 1u);
  std::vector<const CategoryInfo*> cats = {nullptr};
  for (const CategoryInfo& c : Categories()) cats.push_back(&c);
  for (const CategoryInfo* c : cats) {
    for (int k = 0; k < kNumBounceClasses; ++k) {
      const BounceClass bc = static_cast<BounceClass>(k);
      for (int reply_class : {0, 2, 4, 5}) {
        const SesBounce s = MapToSes(c, bc, reply_class);
        const std::string where = std::string(c == nullptr ? "(none)" : c->name) + " / " +
                                  std::string(BounceClassName(bc)) + " / " +
                                  std::to_string(reply_class);
        if (bc == BounceClass::kDelivered || bc == BounceClass::kComplaint) {
          EXPECT_TRUE(s.type.empty() && s.subtype.empty()) << where;
          continue;
        }
        EXPECT_EQ(pairs.count({std::string(s.type), std::string(s.subtype)}), 1u)
            << where << " -> " << s.type << "/" << s.subtype;
      }
    }
  }
}

// -------------------------------------------------------------- SparkPost

TEST(MapToSparkPostTest, ClassesAreInTheSparkPostTable) {
  const std::string tsv = ReadShared("reference/sparkpost-bounce-classes.tsv");
  std::set<int> classes;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(tsv, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> cells = absl::StrSplit(line, '\t');
    if (header) {
      ASSERT_EQ(cells[0], "classification");
      header = false;
      continue;
    }
    int v = 0;
    ASSERT_TRUE(absl::SimpleAtoi(cells[0], &v)) << line;
    classes.insert(v);
  }
  ASSERT_EQ(classes.count(10), 1u);
  ASSERT_EQ(classes.count(51), 1u);

  for (const CategoryInfo& c : Categories()) {
    EXPECT_TRUE(c.sparkpost_class == 0 || classes.count(c.sparkpost_class) == 1)
        << c.name << ": " << c.sparkpost_class;
    for (int reply_class : {0, 4, 5}) {
      EXPECT_EQ(MapToSparkPost(&c, c.default_class, reply_class), c.sparkpost_class) << c.name;
    }
  }
  // Failures have a class; only delivered and complaints have none.
  for (const CategoryInfo& c : Categories()) {
    if (c.default_class != BounceClass::kDelivered && c.default_class != BounceClass::kComplaint) {
      EXPECT_NE(c.sparkpost_class, 0) << c.name;
    }
  }
  // Fallbacks for categories outside the taxonomy.
  for (int k = 0; k < kNumBounceClasses; ++k) {
    for (int reply_class : {0, 4, 5}) {
      const int v = MapToSparkPost(nullptr, static_cast<BounceClass>(k), reply_class);
      EXPECT_TRUE(v == 0 || classes.count(v) == 1) << k << " " << reply_class << ": " << v;
    }
  }
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kHard, 5), 10);
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kBlock, 5), 50);
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kSoft, 4), 20);
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kSoft, 5), 40);
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kUndetermined, 0), 1);
  EXPECT_EQ(MapToSparkPost(nullptr, BounceClass::kDelivered, 2), 0);
  EXPECT_EQ(MapToSparkPost(FindCategory("blocklisted"), BounceClass::kBlock, 5), 51);
  EXPECT_EQ(MapToSparkPost(FindCategory("user_unknown"), BounceClass::kHard, 5), 10);
  EXPECT_EQ(MapToSparkPost(FindCategory("mailbox_full"), BounceClass::kSoft, 4), 22);
}

}  // namespace
}  // namespace bouncekit
