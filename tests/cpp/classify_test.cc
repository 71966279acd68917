// Copyright 2026 The bouncekit authors.
//
// Tests for classify.h and column.h: single responses under the built-in
// rules and their profiles, the W1 rule set against the bench's hand-made
// cases, column batches (layouts, nulls, threads, batch splits, errors),
// and the double-encoding repair.

#include "bouncekit/classify.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bouncekit/column.h"
#include "bouncekit/error_location.h"
#include "bouncekit/rules.h"
#include "bouncekit/smtp_status.h"
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

const RuleSet& BuiltinRules() {
  static const RuleSet* const rules = [] {
    absl::StatusOr<RuleSet> rs = RuleSet::Parse(ReadFile(BOUNCEKIT_BUILTIN_RULES), "rules.toml");
    EXPECT_TRUE(rs.ok()) << rs.status();
    return new RuleSet(rs.ok() ? *std::move(rs) : RuleSet());
  }();
  return *rules;
}

const RuleSet& BenchRules() {
  static const RuleSet* const rules = [] {
    absl::StatusOr<RuleSet> rs =
        RuleSet::Parse(ReadFile(std::string(BOUNCEKIT_SHARED_DIR) + "/bench/rules.tsv"));
    EXPECT_TRUE(rs.ok()) << rs.status();
    return new RuleSet(rs.ok() ? *std::move(rs) : RuleSet());
  }();
  return *rules;
}

std::unique_ptr<Classifier> MakeClassifier(const RuleSet& rules, absl::string_view profile,
                                           std::optional<bool> infer = std::nullopt) {
  ClassifierOptions options;
  options.profile = std::string(profile);
  options.infer_codes_from_text = infer;
  absl::StatusOr<std::unique_ptr<Classifier>> c = Classifier::Create(rules, options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

const Classifier& Builtin(absl::string_view profile) {
  static const Classifier* const def = MakeClassifier(BuiltinRules(), "default").release();
  static const Classifier* const sisimai = MakeClassifier(BuiltinRules(), "sisimai").release();
  static const Classifier* const ses = MakeClassifier(BuiltinRules(), "ses").release();
  static const Classifier* const strict = MakeClassifier(BuiltinRules(), "strict_rfc").release();
  static const Classifier* const mailgun = MakeClassifier(BuiltinRules(), "mailgun").release();
  if (profile == "sisimai") return *sisimai;
  if (profile == "ses") return *ses;
  if (profile == "strict_rfc") return *strict;
  if (profile == "mailgun") return *mailgun;
  return *def;
}

absl::string_view CategoryName(const Classifier& c, const Classification& r) {
  return c.category_names()[r.category];
}

std::string RuleId(const Classifier& c, const Classification& r) {
  return r.rule < 0 ? "-" : c.rule_set().rules()[r.rule].id;
}

// ------------------------------------------------------- built-in classes

struct Expectation {
  const char* profile;
  int code;
  const char* status;
  const char* diagnostic;
  const char* command;
  BounceClass klass;
  const char* category;
};

void ExpectClass(const Expectation& e) {
  const Classifier& c = Builtin(e.profile);
  Response r;
  r.reply_code = e.code;
  r.enhanced_status = e.status;
  r.diagnostic = e.diagnostic;
  r.smtp_command = e.command;
  const Classification got = c.Classify(r);
  EXPECT_EQ(BounceClassName(got.bounce_class), BounceClassName(e.klass))
      << e.profile << " | " << e.code << " " << e.status << " " << e.diagnostic
      << " | rule " << RuleId(c, got);
  EXPECT_EQ(CategoryName(c, got), e.category)
      << e.profile << " | " << e.code << " " << e.status << " " << e.diagnostic
      << " | rule " << RuleId(c, got);
}

TEST(BuiltinClassifyTest, RepresentativeResponses) {
  using BC = BounceClass;
  const Expectation cases[] = {
      {"default", 550, "5.1.1", "550 5.1.1 <a@example.com>: user unknown", "", BC::kHard,
       "user_unknown"},
      {"default", 452, "4.2.2", "452 4.2.2 mailbox full", "", BC::kSoft, "mailbox_full"},
      {"default", 552, "5.2.2",
       "552 5.2.2 The email account that you tried to reach is over quota", "", BC::kSoft,
       "mailbox_full"},
      {"default", 550, "5.7.1", "550 5.7.1 blocked using zen.spamhaus.org", "", BC::kBlock,
       "blocklisted"},
      {"default", 451, "4.7.1", "451 4.7.1 Client host blocked using bl.spamcop.net", "",
       BC::kBlock, "blocklisted"},
      {"default", 550, "5.7.1",
       "550 5.7.1 Unauthenticated email from example.com is not accepted due to domain's DMARC "
       "policy",
       "", BC::kBlock, "auth_dmarc"},
      {"default", 550, "5.7.509", "550 5.7.509 Access denied, sending domain does not pass", "",
       BC::kBlock, "auth_dmarc"},
      {"default", 421, "4.7.28",
       "421 4.7.28 Our system has detected an unusual rate of mail from your IP", "", BC::kSoft,
       "rate_limited"},
      {"default", 451, "4.7.1", "451 4.7.1 Greylisted, please try again in 300 seconds", "",
       BC::kSoft, "greylisted"},
      {"default", 250, "2.0.0", "250 2.0.0 OK queued as ABC123", "", BC::kDelivered, "delivered"},
      {"default", 250, "", "user unknown", "", BC::kDelivered, "delivered"},
      {"default", 0, "2.0.0", "", "", BC::kDelivered, "delivered"},
      {"default", 0, "4.4.7", "Delivery time expired", "", BC::kSoft, "expired"},
      {"default", 0, "", "", "", BC::kUndetermined, "undetermined"},
      {"default", 554, "5.7.1", "554 5.7.1 <x@example.com>: Relay access denied", "", BC::kBlock,
       "relay_denied"},
      {"default", 452, "4.5.3", "452 4.5.3 Too many recipients", "", BC::kSoft,
       "too_many_recipients"},
      {"default", 554, "5.7.1", "554 5.7.1 Message rejected: virus found in attachment", "",
       BC::kBlock, "virus"},
      {"default", 550, "5.1.2", "550 5.1.2 Host unknown", "", BC::kHard, "bad_domain"},
      {"default", 556, "5.1.10", "556 5.1.10 Recipient address has null MX", "", BC::kHard,
       "domain_rejects_mail"},
      {"default", 550, "", "550 Mailbox unavailable", "", BC::kHard, "user_unknown"},
      {"default", 550, "", "550 no reason that any rule knows", "", BC::kHard,
       "generic_permanent"},
      {"default", 451, "", "451 nothing recognisable", "", BC::kSoft, "generic_transient"},
  };
  for (const Expectation& e : cases) ExpectClass(e);
}

TEST(BuiltinClassifyTest, ProfilesChangeClasses) {
  using BC = BounceClass;
  const char* const kFull552 = "552 5.2.2 mailbox full";
  const char* const kFull452 = "452 4.2.2 mailbox full";
  const char* const kExpired = "554 5.4.7 Delivery time expired";
  const char* const kUnknown450 =
      "450 4.1.1 <a@example.com>: Recipient address rejected: User unknown";
  const char* const kDisabled = "550 5.2.1 The email account that you tried to reach is disabled";
  const char* const kSpamhaus = "550 5.7.1 blocked using zen.spamhaus.org";
  const Expectation cases[] = {
      // Mailbox full: soft (RFC 3463) except under mailgun, whatever the code.
      {"default", 552, "5.2.2", kFull552, "", BC::kSoft, "mailbox_full"},
      {"mailgun", 552, "5.2.2", kFull552, "", BC::kHard, "mailbox_full"},
      {"mailgun", 452, "4.2.2", kFull452, "", BC::kHard, "mailbox_full"},
      {"strict_rfc", 552, "5.2.2", kFull552, "", BC::kSoft, "mailbox_full"},
      {"ses", 552, "5.2.2", kFull552, "", BC::kSoft, "mailbox_full"},
      {"sisimai", 552, "5.2.2", kFull552, "", BC::kSoft, "mailbox_full"},
      // class_from_reply_code: a soft category with a 5xx reply is hard.
      {"default", 554, "5.4.7", kExpired, "", BC::kSoft, "expired"},
      {"strict_rfc", 554, "5.4.7", kExpired, "", BC::kHard, "expired"},
      {"ses", 554, "5.4.7", kExpired, "", BC::kHard, "expired"},
      // A hard verdict on a 4xx reply: softened unless the profile says not.
      {"default", 450, "4.1.1", kUnknown450, "", BC::kSoft, "user_unknown"},
      {"mailgun", 450, "4.1.1", kUnknown450, "", BC::kSoft, "user_unknown"},
      {"sisimai", 450, "4.1.1", kUnknown450, "", BC::kHard, "user_unknown"},
      {"strict_rfc", 450, "4.1.1", kUnknown450, "", BC::kSoft, "user_unknown"},
      {"ses", 450, "4.1.1", kUnknown450, "", BC::kSoft, "user_unknown"},
      // Disabled mailboxes: hard, but soft for Sisimai.
      {"default", 550, "5.2.1", kDisabled, "", BC::kHard, "mailbox_disabled"},
      {"sisimai", 550, "5.2.1", kDisabled, "", BC::kSoft, "mailbox_disabled"},
      // Blocks are not soft/hard: class_from_reply_code leaves them alone.
      {"strict_rfc", 550, "5.7.1", kSpamhaus, "", BC::kBlock, "blocklisted"},
      {"ses", 550, "5.7.1", kSpamhaus, "", BC::kBlock, "blocklisted"},
      // Profile-only rules: Sisimai reads 'user unknown' not at RCPT as a filter.
      {"default", 550, "", "550 user unknown", "", BC::kHard, "user_unknown"},
      {"sisimai", 550, "", "550 user unknown", "", BC::kBlock, "recipient_filtered"},
      {"sisimai", 550, "", "550 user unknown", "DATA", BC::kBlock, "recipient_filtered"},
      {"sisimai", 550, "", "550 user unknown", "RCPT TO:<a@example.com>", BC::kHard,
       "user_unknown"},
  };
  for (const Expectation& e : cases) ExpectClass(e);
}

TEST(BuiltinClassifyTest, ResultDetails) {
  const Classifier& c = Builtin("default");
  EXPECT_EQ(c.profile().name, "default");
  EXPECT_TRUE(c.infer_codes_from_text());
  ASSERT_GE(c.category_names().size(), Categories().size());
  for (size_t i = 0; i < Categories().size(); ++i) {
    EXPECT_EQ(c.category_names()[i], Categories()[i].name);
    EXPECT_EQ(c.category_info(static_cast<int32_t>(i)), &Categories()[i]);
  }
  EXPECT_EQ(c.category_info(-1), nullptr);
  EXPECT_EQ(c.category_info(100000), nullptr);

  Response r;
  r.reply_code = 550;
  r.enhanced_status = "5.1.1";
  r.diagnostic = "550 5.1.1 <a@example.com>: user unknown";
  Classification got = c.Classify(r);
  EXPECT_EQ(RuleId(c, got), "user_unknown.status");
  EXPECT_EQ(got.blame, Blame::kRecipient);
  EXPECT_FALSE(got.retryable);
  EXPECT_EQ(got.reply_code, 550);
  EXPECT_EQ(got.reply_code_source, CodeSource::kGiven);
  EXPECT_EQ(got.status.ToString(), "5.1.1");
  EXPECT_EQ(got.status_source, CodeSource::kGiven);
  EXPECT_EQ(got.match_begin, -1);  // a status rule has no text span
  EXPECT_EQ(got.match_end, -1);

  // Blocklist: retryable follows the reply class.
  r.reply_code = 451;
  r.enhanced_status = "4.7.1";
  r.diagnostic = "451 4.7.1 Client host blocked using bl.spamcop.net";
  got = c.Classify(r);
  EXPECT_EQ(got.bounce_class, BounceClass::kBlock);
  EXPECT_TRUE(got.retryable);
  EXPECT_EQ(got.blame, Blame::kSender);
  ASSERT_GE(got.match_begin, 0);
  EXPECT_EQ(r.diagnostic.substr(got.match_begin, got.match_end - got.match_begin), "spamcop");
  r.reply_code = 550;
  r.enhanced_status = "5.7.1";
  r.diagnostic = "550 5.7.1 blocked using zen.spamhaus.org";
  got = c.Classify(r);
  EXPECT_FALSE(got.retryable);
  EXPECT_EQ(r.diagnostic.substr(got.match_begin, got.match_end - got.match_begin), "spamhaus");

  // Mailbox full is retryable; the empty response is not.
  r = Response();
  r.reply_code = 452;
  r.enhanced_status = "4.2.2";
  EXPECT_TRUE(c.Classify(r).retryable);
  got = c.Classify(Response());
  EXPECT_FALSE(got.retryable);
  EXPECT_EQ(got.reply_code, 0);
  EXPECT_EQ(got.reply_code_source, CodeSource::kNone);
  EXPECT_FALSE(got.status.present());
  EXPECT_EQ(got.status_source, CodeSource::kNone);
  EXPECT_EQ(RuleId(c, got), "fallback.undetermined");
}

TEST(BuiltinClassifyTest, CodesAreReadFromTheTextWhenMissing) {
  const Classifier& c = Builtin("default");
  Response r;
  r.diagnostic = "smtp; 550 5.1.1 <a@example.com>: user unknown";
  Classification got = c.Classify(r);
  EXPECT_EQ(got.bounce_class, BounceClass::kHard);
  EXPECT_EQ(CategoryName(c, got), "user_unknown");
  EXPECT_EQ(got.reply_code, 550);
  EXPECT_EQ(got.reply_code_source, CodeSource::kText);
  EXPECT_EQ(got.status.ToString(), "5.1.1");
  EXPECT_EQ(got.status_source, CodeSource::kText);
  const std::string why = c.Explain(r, got);
  EXPECT_TRUE(absl::StrContains(why, "reply code 550 read from the text")) << why;
  EXPECT_TRUE(absl::StrContains(why, "status 5.1.1 read from the text")) << why;

  // A generic given status gives way to a specific one of the same class.
  r.reply_code = 550;
  r.enhanced_status = "5.0.0";
  r.diagnostic = "550 5.1.1 user unknown";
  got = c.Classify(r);
  EXPECT_EQ(got.reply_code_source, CodeSource::kGiven);
  EXPECT_EQ(got.status.ToString(), "5.1.1");
  EXPECT_EQ(got.status_source, CodeSource::kText);

  // ... but not to one of another class, and a specific one is kept.
  r.enhanced_status = "4.0.0";
  got = c.Classify(r);
  EXPECT_EQ(got.status.ToString(), "4.0.0");
  EXPECT_EQ(got.status_source, CodeSource::kGiven);
  r.enhanced_status = "5.1.2";
  got = c.Classify(r);
  EXPECT_EQ(got.status.ToString(), "5.1.2");
  EXPECT_EQ(got.status_source, CodeSource::kGiven);
  EXPECT_EQ(CategoryName(c, got), "bad_domain");

  // The given code wins over the text's.
  r = Response();
  r.reply_code = 451;
  r.diagnostic = "said: 550 5.1.1 user unknown";
  got = c.Classify(r);
  EXPECT_EQ(got.reply_code, 451);
  EXPECT_EQ(got.status.ToString(), "5.1.1");
  EXPECT_EQ(got.bounce_class, BounceClass::kSoft);  // hard on a 4xx reply, softened

  // With inference off, nothing is taken from the text.
  std::unique_ptr<Classifier> literal = MakeClassifier(BuiltinRules(), "default", false);
  ASSERT_NE(literal, nullptr);
  EXPECT_FALSE(literal->infer_codes_from_text());
  r = Response();
  r.diagnostic = "smtp; 550 5.1.1 <a@example.com>: user unknown";
  got = literal->Classify(r);
  EXPECT_EQ(got.reply_code, 0);
  EXPECT_EQ(got.reply_code_source, CodeSource::kNone);
  EXPECT_FALSE(got.status.present());
}

TEST(BuiltinClassifyTest, UnknownProfileIsNotFound) {
  ClassifierOptions options;
  options.profile = "no_such_profile";
  absl::StatusOr<std::unique_ptr<Classifier>> c = Classifier::Create(BuiltinRules(), options);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "unknown profile 'no_such_profile'"));
  EXPECT_TRUE(absl::StrContains(c.status().message(), "strict_rfc"));
  EXPECT_EQ(GetErrorLocation(c.status()).field, std::optional<std::string>("profile"));
}

TEST(BuiltinClassifyTest, ExplainNamesTheRule) {
  const Classifier& c = Builtin("default");
  Response r;
  r.reply_code = 550;
  r.enhanced_status = "5.1.1";
  r.diagnostic = "550 5.1.1 user unknown";
  Classification got = c.Classify(r);
  std::string why = c.Explain(r, got);
  EXPECT_TRUE(absl::StartsWith(why, "hard/user_unknown by rule 'user_unknown.status'")) << why;
  EXPECT_TRUE(absl::StrContains(why, "status 5.1.1")) << why;
  EXPECT_TRUE(absl::StrContains(why, c.RuleExplanation(got.rule))) << why;
  EXPECT_FALSE(c.RuleExplanation(got.rule).empty());

  r.enhanced_status = "5.7.1";
  r.diagnostic = "550 5.7.1 blocked using zen.spamhaus.org";
  got = c.Classify(r);
  why = c.Explain(r, got);
  EXPECT_TRUE(absl::StrContains(why, "'blocklist.text'")) << why;
  EXPECT_TRUE(absl::StrContains(why, "text 'spamhaus'")) << why;
  EXPECT_EQ(c.RuleExplanation(-1), "no rule matched: undetermined");
}

// A double-encoded text is matched after repair (the Greek wording of
// Google Groups' refusal is only in the rule in its proper UTF-8 form).
TEST(BuiltinClassifyTest, DoubleEncodedTextIsRepairedBeforeMatching) {
  const std::string greek = "\xCE\xB4\xCE\xB9\xCE\xBA\xCE\xB1\xCE\xAF\xCF\x89\xCE\xBC\xCE\xB1 "
                            "\xCE\xB1\xCE\xBD\xCE\xAC\xCF\x81\xCF\x84\xCE\xB7\xCF\x83\xCE\xB7"
                            "\xCF\x82";  // "δικαίωμα ανάρτησης"
  std::string mojibake;  // each byte read as Latin-1 and encoded again
  for (unsigned char b : greek) {
    if (b < 0x80) {
      mojibake.push_back(static_cast<char>(b));
    } else {
      mojibake.push_back(static_cast<char>(0xC0 | (b >> 6)));
      mojibake.push_back(static_cast<char>(0x80 | (b & 0x3F)));
    }
  }
  std::string repaired;
  ASSERT_TRUE(RepairDoubleEncodedUtf8(mojibake, &repaired));
  EXPECT_EQ(repaired, greek);

  const Classifier& c = Builtin("default");
  for (const std::string& text : {greek, mojibake}) {
    Response r;
    r.reply_code = 550;
    const std::string diagnostic = "550 " + text;
    r.diagnostic = diagnostic;
    const Classification got = c.Classify(r);
    EXPECT_EQ(CategoryName(c, got), "sender_rejected") << RuleId(c, got);
    EXPECT_EQ(RuleId(c, got), "sender.list_post");
    if (text == mojibake) {
      EXPECT_EQ(got.match_begin, -1);  // spans would refer to the repaired text
    } else {
      EXPECT_EQ(got.match_begin, 4);
    }
  }
}

TEST(BuiltinClassifyTest, OddBytesAndLargeTexts) {
  const Classifier& c = Builtin("default");
  Response r;
  r.reply_code = 550;
  const std::string broken("\xff\xfe broken \xc3\x00 \x80", 14);
  r.diagnostic = broken;
  Classification got = c.Classify(r);
  EXPECT_EQ(got.bounce_class, BounceClass::kHard);
  EXPECT_EQ(CategoryName(c, got), "generic_permanent");

  std::string big(1 << 20, 'x');
  r.diagnostic = big;
  got = c.Classify(r);
  EXPECT_EQ(CategoryName(c, got), "generic_permanent");

  // A reason at the very end of a large text is still found, with its span.
  big += " user unknown";
  r.diagnostic = big;
  got = c.Classify(r);
  EXPECT_EQ(CategoryName(c, got), "user_unknown") << RuleId(c, got);
  EXPECT_EQ(got.match_begin, (1 << 20) + 1);
  EXPECT_EQ(got.match_end, (1 << 20) + 13);

  // Mixed large text with many code-like numbers.
  std::string noisy;
  while (noisy.size() < (1 << 20)) noisy += "5.5.5.5 192.0.2.1 in 840 minutes \xc3\xa9 ";
  r = Response();
  r.diagnostic = noisy;
  got = c.Classify(r);
  EXPECT_EQ(got.reply_code, 0);
  EXPECT_FALSE(got.status.present());
}

// ---------------------------------------------------- rule sets of one's own

TEST(ClassifierTest, RuleSetWithoutCatchAll) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTomlText(
      "[[rules]]\nid = \"only\"\ncode = \"5xx\"\ncategory = \"user_unknown\"\n");
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::unique_ptr<Classifier> c = MakeClassifier(*rs, "default");
  ASSERT_NE(c, nullptr);
  Response r;
  r.reply_code = 451;
  r.diagnostic = "whatever";
  const Classification got = c->Classify(r);
  EXPECT_EQ(got.rule, -1);
  EXPECT_EQ(got.bounce_class, BounceClass::kUndetermined);
  EXPECT_EQ(CategoryName(*c, got), "undetermined");
  EXPECT_TRUE(got.retryable);  // a 4xx reply
  EXPECT_TRUE(absl::StrContains(c->Explain(r, got), "no rule matched")) << c->Explain(r, got);
  r.reply_code = 550;
  EXPECT_EQ(c->Classify(r).rule, 0);
}

TEST(ClassifierTest, CustomCategoriesAndProfiles) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTomlText(
      "[categories.vip_block]\n"
      "class = \"block\"\n"
      "retryable = true\n"
      "[profiles.strict]\n"
      "classes = { vip_block = \"hard\" }\n"
      "[[rules]]\n"
      "id = \"vip\"\n"
      "text = 'vip'\n"
      "category = \"vip_block\"\n"
      "[[rules]]\n"
      "id = \"adhoc\"\n"
      "text = 'adhoc'\n"
      "category = \"ad_hoc\"\n"
      "class = \"hard\"\n"
      "[[rules]]\n"
      "id = \"host\"\n"
      "remote_host = '\\.example\\.net$'\n"
      "destination = '^example\\.org$'\n"
      "category = \"policy\"\n"
      "[[rules]]\n"
      "id = \"strict_only\"\n"
      "profiles = \"strict\"\n"
      "code = \"4xx\"\n"
      "category = \"generic_permanent\"\n"
      "[[rules]]\n"
      "id = \"rest\"\n"
      "category = \"undetermined\"\n");
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::unique_ptr<Classifier> def = MakeClassifier(*rs, "default");
  std::unique_ptr<Classifier> strict = MakeClassifier(*rs, "strict");
  ASSERT_NE(def, nullptr);
  ASSERT_NE(strict, nullptr);
  const size_t n = Categories().size();
  ASSERT_GE(def->category_names().size(), n + 2);
  EXPECT_EQ(def->category_names()[n], "vip_block");
  EXPECT_EQ(def->category_names()[n + 1], "ad_hoc");
  EXPECT_EQ(def->category_info(static_cast<int32_t>(n)), nullptr);

  Response r;
  r.reply_code = 550;
  r.diagnostic = "VIP list only";
  Classification got = def->Classify(r);
  EXPECT_EQ(CategoryName(*def, got), "vip_block");
  EXPECT_EQ(got.bounce_class, BounceClass::kBlock);
  EXPECT_TRUE(got.retryable);
  EXPECT_EQ(got.blame, Blame::kSender);  // a custom block category's default
  got = strict->Classify(r);
  EXPECT_EQ(got.bounce_class, BounceClass::kHard);
  EXPECT_FALSE(got.retryable);

  r.diagnostic = "adhoc";
  got = def->Classify(r);
  EXPECT_EQ(CategoryName(*def, got), "ad_hoc");
  EXPECT_EQ(got.bounce_class, BounceClass::kHard);
  EXPECT_EQ(got.blame, Blame::kRecipient);

  r.diagnostic = "nothing";
  r.remote_host = "mx1.example.net";
  r.destination = "example.org";
  EXPECT_EQ(RuleId(*def, def->Classify(r)), "host");
  r.destination = "sub.example.org";
  EXPECT_EQ(RuleId(*def, def->Classify(r)), "rest");

  r = Response();
  r.reply_code = 451;
  EXPECT_EQ(RuleId(*def, def->Classify(r)), "rest");
  EXPECT_EQ(RuleId(*strict, strict->Classify(r)), "strict_only");
}

TEST(ClassifierTest, CommandAndActionConditions) {
  absl::StatusOr<RuleSet> rs = RuleSet::ParseTomlText(
      "[[rules]]\nid = \"rcpt\"\ncommand = \"RCPT\"\ncategory = \"user_unknown\"\n"
      "[[rules]]\nid = \"failed\"\naction = \"failed\"\ncategory = \"generic_permanent\"\n"
      "[[rules]]\nid = \"rest\"\ncategory = \"undetermined\"\n");
  ASSERT_TRUE(rs.ok()) << rs.status();
  std::unique_ptr<Classifier> c = MakeClassifier(*rs, "default");
  ASSERT_NE(c, nullptr);
  Response r;
  r.smtp_command = "  rcpt to:<a@example.com>";
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "rcpt");
  r.smtp_command = "RCPTX";
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "rest");
  r.smtp_command = "";
  r.action = " Failure ";  // RFC 3464 says "failed"; some MTAs write "failure"
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "failed");
  r.action = "FAILED";
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "failed");
  r.action = "delayed";
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "rest");
}

// -------------------------------------------------------------- W1 (TSV)

// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF or LF.
std::vector<std::vector<std::string>> ParseCsv(absl::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false;
  bool any = false;  // the current row has content
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field.push_back(c);
      any = true;
    }
  }
  if (any) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

TEST(CsvReaderTest, Rfc4180) {
  const auto rows = ParseCsv("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\n\"multi\nline\",,z");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"x, y", "say \"hi\"", ""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"multi\nline", "", "z"}));
}

TEST(W1Test, BenchRulesReproduceTheHandMadeCases) {
  const std::string dir = std::string(BOUNCEKIT_SHARED_DIR) + "/bench/tests/";
  const auto input = ParseCsv(ReadFile(dir + "w1_cases.csv"));
  const auto expected = ParseCsv(ReadFile(dir + "w1_cases.expected_w1.csv"));
  ASSERT_GT(input.size(), 1u);
  ASSERT_EQ(input.size(), expected.size());
  const std::vector<std::string>& header = input[0];
  auto column = [&](absl::string_view name) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no column " << name;
    return 0;
  };
  const int code_col = column("reply_code");
  const int status_col = column("enhanced_status");
  const int diag_col = column("diagnostic");
  EXPECT_EQ(expected[0], (std::vector<std::string>{"bounce_class", "category", "rule_id"}));

  std::unique_ptr<Classifier> c = MakeClassifier(BenchRules(), "default");
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->infer_codes_from_text());
  int checked = 0;
  for (size_t i = 1; i < input.size(); ++i) {
    const std::vector<std::string>& row = input[i];
    ASSERT_EQ(row.size(), header.size()) << "row " << i;
    ASSERT_EQ(expected[i].size(), 3u) << "row " << i;
    Response r;
    r.reply_code = std::stoi(row[code_col]);
    r.enhanced_status = row[status_col];
    r.diagnostic = row[diag_col];
    const Classification got = c->Classify(r);
    const std::vector<std::string> actual = {std::string(c->class_label(got.bounce_class)),
                                             std::string(CategoryName(*c, got)),
                                             RuleId(*c, got)};
    EXPECT_EQ(actual, expected[i]) << "row " << i << ": " << row[code_col] << " | "
                                   << row[status_col] << " | " << row[diag_col];
    ++checked;
  }
  EXPECT_EQ(checked, 57);
}

TEST(W1Test, StatusCellsAreMatchedAsText) {
  std::unique_ptr<Classifier> c = MakeClassifier(BenchRules(), "default");
  ASSERT_NE(c, nullptr);
  struct Case {
    int code;
    const char* status;
    const char* rule;
  };
  const Case cases[] = {
      {550, "5.1.1", "23"},   {550, "5.1.1.1", "23"}, {550, "5.1.10", "23"},
      {550, "5.1.100", "31"}, {550, "5.1", "31"},     {550, "5.1.", "31"},
      {550, "", "33"},        {0, "5", "35"},         {0, "5.", "35"},
      {0, "50", "37"},        {0, "x.1.1", "37"},     {0, "4.7.26", "4"},
      {451, "4.7.650", "9"},  {451, "4.7.6500", "30"},
  };
  for (const Case& k : cases) {
    Response r;
    r.reply_code = k.code;
    r.enhanced_status = k.status;
    EXPECT_EQ(RuleId(*c, c->Classify(r)), k.rule) << k.code << " '" << k.status << "'";
  }
  // Turning inference on reads the codes from the text.
  std::unique_ptr<Classifier> inferring = MakeClassifier(BenchRules(), "default", true);
  ASSERT_NE(inferring, nullptr);
  Response r;
  r.diagnostic = "smtp; 550 5.1.1 user unknown";
  EXPECT_EQ(RuleId(*c, c->Classify(r)), "37");
  const Classification got = inferring->Classify(r);
  EXPECT_EQ(RuleId(*inferring, got), "23");
  EXPECT_EQ(inferring->class_label(got.bounce_class), "hard");
  EXPECT_EQ(c->class_label(BounceClass::kUndetermined), "unknown");
}

// --------------------------------------------------------------- columns

// Owns Arrow-layout buffers for a string column (int32 or int64 offsets).
class StringBuffers {
 public:
  void Append(std::optional<absl::string_view> s) {
    if (size_ % 8 == 0) validity_.push_back(0);
    if (s.has_value()) {
      validity_[size_ / 8] |= static_cast<uint8_t>(1u << (size_ % 8));
      data_.append(s->data(), s->size());
    }
    offsets32_.push_back(static_cast<int32_t>(data_.size()));
    offsets64_.push_back(static_cast<int64_t>(data_.size()));
    ++size_;
  }
  int64_t size() const { return size_; }
  StringColumn Utf8(int64_t offset, int64_t length) const {
    return StringColumn::Utf8(offsets32_.data(), data_.data(), validity_.data(), offset, length);
  }
  StringColumn LargeUtf8(int64_t offset, int64_t length) const {
    return StringColumn::LargeUtf8(offsets64_.data(), data_.data(), validity_.data(), offset,
                                   length);
  }

 private:
  int64_t size_ = 0;
  std::vector<int32_t> offsets32_{0};
  std::vector<int64_t> offsets64_{0};
  std::string data_;
  std::vector<uint8_t> validity_;
};

// Owns Arrow utf8_view buffers: 16-byte views, strings of up to 12 bytes
// inline, longer ones in two data buffers (alternately).
class ViewBuffers {
 public:
  void Append(std::optional<absl::string_view> s) {
    if (size_ % 8 == 0) validity_.push_back(0);
    uint8_t view[16] = {};
    if (s.has_value()) {
      validity_[size_ / 8] |= static_cast<uint8_t>(1u << (size_ % 8));
      const int32_t len = static_cast<int32_t>(s->size());
      std::memcpy(view, &len, 4);
      if (len <= 12) {
        std::memcpy(view + 4, s->data(), s->size());
      } else {
        const int32_t buf = static_cast<int32_t>(long_count_++ % 2);
        std::string& data = buffers_[buf];
        const int32_t off = static_cast<int32_t>(data.size());
        data.append(s->data(), s->size());
        std::memcpy(view + 4, s->data(), 4);
        std::memcpy(view + 8, &buf, 4);
        std::memcpy(view + 12, &off, 4);
      }
    } else {
      // A null's view may hold anything; make it look like a long string.
      const int32_t len = 1000;
      std::memcpy(view, &len, 4);
    }
    views_.insert(views_.end(), view, view + 16);
    ++size_;
  }
  StringColumn Column(int64_t offset, int64_t length) {
    pointers_[0] = buffers_[0].data();
    pointers_[1] = buffers_[1].data();
    return StringColumn::Utf8View(views_.data(), pointers_, 2, validity_.data(), offset, length);
  }

 private:
  int64_t size_ = 0;
  int64_t long_count_ = 0;
  std::vector<uint8_t> views_;
  std::vector<uint8_t> validity_;
  std::string buffers_[2];
  const char* pointers_[2] = {nullptr, nullptr};
};

TEST(StringColumnTest, OffsetLayoutsAndNulls) {
  StringBuffers b;
  const std::vector<std::optional<absl::string_view>> values = {
      "alpha", std::nullopt, "", "550 5.1.1 user unknown", std::nullopt, "z"};
  for (const auto& v : values) b.Append(v);
  for (const StringColumn& col : {b.Utf8(0, 6), b.LargeUtf8(0, 6)}) {
    ASSERT_EQ(col.size(), 6);
    for (size_t i = 0; i < values.size(); ++i) {
      EXPECT_EQ(col.IsNull(i), !values[i].has_value()) << i;
      EXPECT_EQ(col.Get(i), values[i].value_or("")) << i;
    }
  }
  // An Arrow array offset shifts both the offsets and the validity bits.
  const StringColumn sliced = b.Utf8(3, 3);
  EXPECT_EQ(sliced.Get(0), "550 5.1.1 user unknown");
  EXPECT_TRUE(sliced.IsNull(1));
  EXPECT_EQ(sliced.Get(2), "z");

  const StringColumn nulls = StringColumn::AllNull(4);
  EXPECT_EQ(nulls.size(), 4);
  EXPECT_TRUE(nulls.IsNull(3));
  EXPECT_EQ(nulls.Get(3), "");

  // Without a validity bitmap every row is valid.
  const int32_t offsets[] = {0, 2, 2, 5};
  const StringColumn no_bitmap = StringColumn::Utf8(offsets, "abcde", nullptr, 0, 3);
  EXPECT_FALSE(no_bitmap.IsNull(1));
  EXPECT_EQ(no_bitmap.Get(0), "ab");
  EXPECT_EQ(no_bitmap.Get(1), "");
  EXPECT_EQ(no_bitmap.Get(2), "cde");
}

TEST(StringColumnTest, Utf8ViewLayout) {
  ViewBuffers v;
  const std::vector<std::optional<absl::string_view>> values = {
      "",
      "short",
      "exactly12byt",
      "thirteen byte",
      std::nullopt,
      "a much longer string that lives in a data buffer",
      "another long string, in the second buffer",
      "452 4.2.2 mailbox full",
      absl::string_view("nul\0inline", 10),
  };
  for (const auto& s : values) v.Append(s);
  const StringColumn col = v.Column(0, static_cast<int64_t>(values.size()));
  EXPECT_EQ(col.layout(), StringColumn::Layout::kViews);
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(col.IsNull(i), !values[i].has_value()) << i;
    EXPECT_EQ(col.Get(i), values[i].value_or("")) << i;
  }
  const StringColumn sliced = v.Column(3, 3);
  EXPECT_EQ(sliced.Get(0), "thirteen byte");
  EXPECT_TRUE(sliced.IsNull(1));
  EXPECT_EQ(sliced.Get(2), "a much longer string that lives in a data buffer");
}

TEST(CodeColumnTest, IntegerWidthsStringsAndNulls) {
  const int16_t i16[] = {550, 250, 999, -550, 0, 421};
  const uint8_t validity[] = {0b00111011};  // row 2 is null
  const CodeColumn c16 =
      CodeColumn::Integers(CodeColumn::Layout::kInt16, i16, validity, 0, 6);
  EXPECT_EQ(c16.Get(0), 550);
  EXPECT_EQ(c16.Get(1), 250);
  EXPECT_EQ(c16.Get(2), 0);  // null
  EXPECT_EQ(c16.Raw(2), -1);
  EXPECT_EQ(c16.Get(3), 0);  // not a reply code
  EXPECT_EQ(c16.Raw(3), -550);
  EXPECT_EQ(c16.Get(4), 0);
  EXPECT_EQ(c16.Get(5), 421);
  const CodeColumn shifted =
      CodeColumn::Integers(CodeColumn::Layout::kInt16, i16, validity, 1, 5);
  EXPECT_EQ(shifted.Get(0), 250);
  EXPECT_EQ(shifted.Get(1), 0);
  EXPECT_EQ(shifted.Get(4), 421);

  const uint64_t u64[] = {550, 0xFFFFFFFFFFFFFFFFull, 4294967846ull /* 2^32 + 550 */};
  const CodeColumn cu64 = CodeColumn::Integers(CodeColumn::Layout::kUInt64, u64, nullptr, 0, 3);
  EXPECT_EQ(cu64.Get(0), 550);
  EXPECT_EQ(cu64.Get(1), 0);
  EXPECT_EQ(cu64.Get(2), 0);
  const int8_t i8[] = {55, -1};
  EXPECT_EQ(CodeColumn::Integers(CodeColumn::Layout::kInt8, i8, nullptr, 0, 2).Get(0), 0);
  const int64_t i64[] = {(int64_t{1} << 40) + 550, 599};
  const CodeColumn c64 = CodeColumn::Integers(CodeColumn::Layout::kInt64, i64, nullptr, 0, 2);
  EXPECT_EQ(c64.Get(0), 0);
  EXPECT_EQ(c64.Get(1), 599);
  const uint32_t u32[] = {421};
  EXPECT_EQ(CodeColumn::Integers(CodeColumn::Layout::kUInt32, u32, nullptr, 0, 1).Get(0), 421);

  StringBuffers s;
  for (const auto& v : std::vector<std::optional<absl::string_view>>{
           "550", " 421 ", "abc", std::nullopt, "999", "5xx", "550.0"}) {
    s.Append(v);
  }
  const CodeColumn strings = CodeColumn::Strings(s.Utf8(0, 7));
  EXPECT_EQ(strings.size(), 7);
  const int want[] = {550, 421, 0, 0, 0, 0, 0};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(strings.Get(i), want[i]) << i;
  EXPECT_EQ(strings.Raw(0), -1);

  const CodeColumn nulls = CodeColumn::AllNull(3);
  EXPECT_EQ(nulls.size(), 3);
  EXPECT_EQ(nulls.Get(2), 0);
}

// ---------------------------------------------------------------- batches

struct Row {
  std::optional<int32_t> code;
  std::optional<std::string> status;
  std::optional<std::string> diagnostic;
  std::optional<std::string> command;
  std::optional<std::string> action;
};

// Representative rows, cycled and varied to fill large batches.
std::vector<Row> MakeRows(int64_t n) {
  const std::vector<Row> base = {
      {250, "2.0.0", "250 2.0.0 OK", std::nullopt, "delivered"},
      {550, "5.1.1", "550 5.1.1 <a@example.com>: user unknown", "RCPT", "failed"},
      {452, "4.2.2", "452 4.2.2 mailbox full", std::nullopt, std::nullopt},
      {421, "4.7.0", "421 4.7.0 try again later", "CONN", std::nullopt},
      {std::nullopt, "", "smtp; 550 5.1.2 Host unknown", std::nullopt, "failed"},
      {550, "5.7.1", "550 5.7.1 blocked using zen.spamhaus.org", "MAIL", std::nullopt},
      {451, "4.7.1", "451 4.7.1 greylisted", std::nullopt, std::nullopt},
      {554, "5.7.26", "554 5.7.26 unauthenticated", "DATA", std::nullopt},
      {std::nullopt, std::nullopt, "smtp; 550-5.1.1 The email account that you tried to reach "
                                   "does not exist",
       std::nullopt, std::nullopt},
      {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt},
      {0, "", "some text with no code at all", std::nullopt, std::nullopt},
      {421, "4.7.28", "421 4.7.28 rate limited", std::nullopt, "delayed"},
      {552, "5.3.4", "552 5.3.4 message too large", std::nullopt, std::nullopt},
      {550, "5.1.10", "550 5.1.10 RESOLVER.ADR.RecipientNotFound", std::nullopt, std::nullopt},
      {999, "6.0.0", "\xff\xfe broken \xc3", std::nullopt, std::nullopt},
      {550, "5.7.509", "Access denied, DMARC", std::nullopt, std::nullopt},
      {451, "4.7.650", "451 4.7.650 throttled", std::nullopt, std::nullopt},
      {0, "4.4.7", "Delivery time expired", std::nullopt, "failed"},
  };
  std::vector<Row> rows;
  rows.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    Row r = base[i % base.size()];
    // Vary the rows so that neighbouring batches differ.
    if (i % 7 == 3) r.status = std::nullopt;
    if (i % 13 == 5 && r.diagnostic.has_value()) *r.diagnostic += " mailbox full";
    if (i % 101 == 0) r.code = 400 + static_cast<int32_t>(i % 200);
    rows.push_back(std::move(r));
  }
  return rows;
}

// The columns of `rows` in Arrow layout.
struct Columns {
  explicit Columns(const std::vector<Row>& rows) {
    for (const Row& r : rows) {
      if (codes.size() % 8 == 0) code_validity.push_back(0);
      if (r.code.has_value()) {
        code_validity[codes.size() / 8] |= static_cast<uint8_t>(1u << (codes.size() % 8));
      }
      codes.push_back(r.code.value_or(12345));  // garbage under nulls
      status.Append(r.status);
      diagnostic.Append(r.diagnostic);
      diagnostic_views.Append(r.diagnostic);
      command.Append(r.command);
      action.Append(r.action);
    }
  }

  ClassifyInput Input(int64_t offset, int64_t length, bool views = false) {
    ClassifyInput in;
    in.num_rows = length;
    in.reply_code = CodeColumn::Integers(CodeColumn::Layout::kInt32, codes.data(),
                                         code_validity.data(), offset, length);
    in.enhanced_status = status.Utf8(offset, length);
    in.diagnostic = views ? diagnostic_views.Column(offset, length)
                          : diagnostic.LargeUtf8(offset, length);
    in.smtp_command = command.Utf8(offset, length);
    in.remote_host = StringColumn::AllNull(length);
    in.action = action.Utf8(offset, length);
    in.destination = StringColumn::AllNull(length);
    return in;
  }

  std::vector<int32_t> codes;
  std::vector<uint8_t> code_validity;
  StringBuffers status;
  StringBuffers diagnostic;
  ViewBuffers diagnostic_views;
  StringBuffers command;
  StringBuffers action;
};

// Caller-owned output arrays.
struct Outputs {
  explicit Outputs(int64_t n, bool spans = true)
      : bounce_class(n), category(n), blame(n), retryable(n), rule(n), reply_code(n),
        reply_code_source(n), status(n), status_source(n), match_begin(spans ? n : 0),
        match_end(spans ? n : 0) {}

  ClassifyOutput View() {
    ClassifyOutput o;
    o.bounce_class = absl::MakeSpan(bounce_class);
    o.category = absl::MakeSpan(category);
    o.blame = absl::MakeSpan(blame);
    o.retryable = absl::MakeSpan(retryable);
    o.rule = absl::MakeSpan(rule);
    o.reply_code = absl::MakeSpan(reply_code);
    o.reply_code_source = absl::MakeSpan(reply_code_source);
    o.status = absl::MakeSpan(status);
    o.status_source = absl::MakeSpan(status_source);
    o.match_begin = absl::MakeSpan(match_begin);
    o.match_end = absl::MakeSpan(match_end);
    return o;
  }

  bool operator==(const Outputs& o) const {
    return bounce_class == o.bounce_class && category == o.category && blame == o.blame &&
           retryable == o.retryable && rule == o.rule && reply_code == o.reply_code &&
           reply_code_source == o.reply_code_source && status == o.status &&
           status_source == o.status_source && match_begin == o.match_begin &&
           match_end == o.match_end;
  }

  std::vector<uint8_t> bounce_class;
  std::vector<int32_t> category;
  std::vector<uint8_t> blame;
  std::vector<uint8_t> retryable;
  std::vector<int32_t> rule;
  std::vector<int16_t> reply_code;
  std::vector<uint8_t> reply_code_source;
  std::vector<int32_t> status;
  std::vector<uint8_t> status_source;
  std::vector<int32_t> match_begin;
  std::vector<int32_t> match_end;
};

bool SameStatus(const std::vector<EnhancedStatus>& a, const std::vector<EnhancedStatus>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Checks batch outputs row by row against Classify(); reports at most ten
// differing rows.
void ExpectMatchesClassify(const Classifier& c, const std::vector<Row>& rows, const Outputs& out,
                           const StatusDictionary& dict, bool spans) {
  int mismatches = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    Response r;
    r.reply_code = row.code.value_or(0);
    r.enhanced_status = row.status.has_value() ? absl::string_view(*row.status) : "";
    r.diagnostic = row.diagnostic.has_value() ? absl::string_view(*row.diagnostic) : "";
    r.smtp_command = row.command.has_value() ? absl::string_view(*row.command) : "";
    r.action = row.action.has_value() ? absl::string_view(*row.action) : "";
    const Classification want = c.Classify(r);
    const int32_t s = out.status[i];
    const bool status_ok =
        want.status.present()
            ? s >= 0 && s < static_cast<int32_t>(dict.statuses.size()) &&
                  dict.statuses[s] == want.status
            : s == -1;
    const bool same =
        out.bounce_class[i] == static_cast<uint8_t>(want.bounce_class) &&
        out.category[i] == want.category && out.blame[i] == static_cast<uint8_t>(want.blame) &&
        out.retryable[i] == (want.retryable ? 1 : 0) && out.rule[i] == want.rule &&
        out.reply_code[i] == want.reply_code &&
        out.reply_code_source[i] == static_cast<uint8_t>(want.reply_code_source) &&
        out.status_source[i] == static_cast<uint8_t>(want.status_source) && status_ok &&
        (!spans ||
         (out.match_begin[i] == want.match_begin && out.match_end[i] == want.match_end));
    if (!same) {
      ADD_FAILURE() << "row " << i << ": batch gives class " << int{out.bounce_class[i]}
                    << " category " << out.category[i] << " rule " << out.rule[i] << " code "
                    << out.reply_code[i] << " status index " << s << " span "
                    << (spans ? out.match_begin[i] : -2) << "; Classify() gives class "
                    << static_cast<int>(want.bounce_class) << " category " << want.category
                    << " rule " << want.rule << " code " << want.reply_code << " status "
                    << want.status.ToString() << " span " << want.match_begin;
      if (++mismatches == 10) return;
    }
  }
}

// The dictionary is sorted, without duplicates, and every entry is used.
void ExpectDictionaryConsistent(const Outputs& out, const StatusDictionary& dict) {
  for (size_t i = 1; i < dict.statuses.size(); ++i) {
    const EnhancedStatus& a = dict.statuses[i - 1];
    const EnhancedStatus& b = dict.statuses[i];
    EXPECT_TRUE(a.klass < b.klass || (a.klass == b.klass && a.subject < b.subject) ||
                (a.klass == b.klass && a.subject == b.subject && a.detail < b.detail))
        << a.ToString() << " before " << b.ToString();
  }
  std::vector<bool> used(dict.statuses.size(), false);
  for (int32_t s : out.status) {
    ASSERT_GE(s, -1);
    ASSERT_LT(s, static_cast<int32_t>(dict.statuses.size()));
    if (s >= 0) used[s] = true;
  }
  for (size_t i = 0; i < used.size(); ++i) {
    EXPECT_TRUE(used[i]) << dict.statuses[i].ToString() << " is never used";
  }
}

class ClassifyBatchesTest : public ::testing::Test {
 protected:
  static constexpr int64_t kRows = 30000;  // several 8192-row work units
  ClassifyBatchesTest() : rows_(MakeRows(kRows)), columns_(rows_) {}

  const Classifier& classifier() { return Builtin("default"); }

  std::vector<Row> rows_;
  Columns columns_;
};

TEST_F(ClassifyBatchesTest, MatchesClassifyRowByRow) {
  Outputs out(kRows);
  StatusDictionary dict;
  const ClassifyInput in = columns_.Input(0, kRows);
  ASSERT_TRUE(classifier().ClassifyBatches({in}, 1, out.View(), &dict).ok());
  ExpectMatchesClassify(classifier(), rows_, out, dict, /*spans=*/true);
  ExpectDictionaryConsistent(out, dict);
  EXPECT_GE(dict.statuses.size(), 10u);
}

TEST_F(ClassifyBatchesTest, ThreadCountsGiveIdenticalResults) {
  const ClassifyInput in = columns_.Input(0, kRows);
  Outputs reference(kRows);
  StatusDictionary reference_dict;
  ASSERT_TRUE(classifier().ClassifyBatches({in}, 1, reference.View(), &reference_dict).ok());
  for (int threads : {2, 4, 8, 0, -3}) {
    SCOPED_TRACE(absl::StrCat("threads ", threads));
    Outputs out(kRows);
    StatusDictionary dict;
    dict.statuses.push_back(ParseEnhancedStatusLenient("2.0.0"));  // stale, must go
    ASSERT_TRUE(classifier().ClassifyBatches({in}, threads, out.View(), &dict).ok());
    EXPECT_TRUE(out == reference);
    EXPECT_TRUE(SameStatus(dict.statuses, reference_dict.statuses));
  }
}

TEST_F(ClassifyBatchesTest, BatchSplitsGiveIdenticalResults) {
  Outputs reference(kRows);
  StatusDictionary reference_dict;
  ASSERT_TRUE(
      classifier().ClassifyBatches({columns_.Input(0, kRows)}, 2, reference.View(), &reference_dict)
          .ok());
  const std::vector<std::vector<int64_t>> splits = {
      {1, kRows - 1},
      {8191, 8193, kRows - 16384},
      {0, 5000, 0, kRows - 5000},
      {kRows - 7, 7},
  };
  for (const std::vector<int64_t>& split : splits) {
    std::vector<ClassifyInput> inputs;
    int64_t start = 0;
    for (int64_t len : split) {
      inputs.push_back(columns_.Input(start, len));
      start += len;
    }
    ASSERT_EQ(start, kRows);
    for (int threads : {1, 3}) {
      SCOPED_TRACE(absl::StrCat("split of ", split.size(), ", threads ", threads));
      Outputs out(kRows);
      StatusDictionary dict;
      ASSERT_TRUE(classifier().ClassifyBatches(inputs, threads, out.View(), &dict).ok());
      EXPECT_TRUE(out == reference);
      EXPECT_TRUE(SameStatus(dict.statuses, reference_dict.statuses));
    }
  }
  // Many small batches.
  std::vector<ClassifyInput> small;
  for (int64_t s = 0; s < kRows; s += 997) {
    small.push_back(columns_.Input(s, std::min<int64_t>(997, kRows - s)));
  }
  Outputs out(kRows);
  StatusDictionary dict;
  ASSERT_TRUE(classifier().ClassifyBatches(small, 4, out.View(), &dict).ok());
  EXPECT_TRUE(out == reference);
}

TEST_F(ClassifyBatchesTest, Utf8ViewDiagnosticsAndNoSpans) {
  Outputs reference(kRows, /*spans=*/false);
  StatusDictionary reference_dict;
  ASSERT_TRUE(classifier()
                  .ClassifyBatches({columns_.Input(0, kRows)}, 1, reference.View(),
                                   &reference_dict)
                  .ok());
  Outputs out(kRows, /*spans=*/false);
  StatusDictionary dict;
  ASSERT_TRUE(
      classifier().ClassifyBatches({columns_.Input(0, kRows, /*views=*/true)}, 2, out.View(), &dict)
          .ok());
  EXPECT_TRUE(out == reference);
  ExpectMatchesClassify(classifier(), rows_, out, dict, /*spans=*/false);
}

TEST_F(ClassifyBatchesTest, OutputsLargerThanTheInputAreFine) {
  Outputs out(kRows + 5);
  out.rule.back() = 777;
  StatusDictionary dict;
  ASSERT_TRUE(
      classifier().ClassifyBatches({columns_.Input(0, kRows)}, 2, out.View(), &dict).ok());
  EXPECT_EQ(out.rule.back(), 777);  // untouched
}

TEST(ClassifyBatchesErrorTest, ColumnLengthMismatch) {
  const std::vector<Row> rows = MakeRows(3);
  Columns columns(rows);
  Outputs out(3);
  StatusDictionary dict;
  const Classifier& c = Builtin("default");
  {
    ClassifyInput in = columns.Input(0, 3);
    in.diagnostic = columns.diagnostic.Utf8(0, 2);
    const absl::Status st = c.ClassifyBatches({in}, 1, out.View(), &dict);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_EQ(GetErrorLocation(st).column, std::optional<std::string>("diagnostic"));
    EXPECT_TRUE(absl::StrContains(st.message(), "2 rows")) << st;
  }
  {
    ClassifyInput in = columns.Input(0, 3);
    in.reply_code = CodeColumn::AllNull(4);
    const absl::Status st = c.ClassifyBatches({in}, 1, out.View(), &dict);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_EQ(GetErrorLocation(st).column, std::optional<std::string>("reply_code"));
  }
  {
    // An error in the second batch names that column too.
    ClassifyInput bad = columns.Input(1, 2);
    bad.destination = StringColumn::AllNull(1);
    Outputs big(4);
    const absl::Status st = c.ClassifyBatches({columns.Input(0, 1), bad}, 1, big.View(), &dict);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_EQ(GetErrorLocation(st).column, std::optional<std::string>("destination"));
    EXPECT_TRUE(absl::StrContains(st.message(), "batch 1")) << st;
  }
}

// Outputs left empty are not wanted: they are not written, and the others are
// exactly what a call with every output gives.
TEST(ClassifyBatchesTest2, EmptyOutputsAreSkipped) {
  const std::vector<Row> rows = MakeRows(3000);
  Columns columns(rows);
  const Classifier& c = Builtin("default");
  StatusDictionary all_dict, some_dict;
  Outputs all(3000);
  ASSERT_TRUE(c.ClassifyBatches({columns.Input(0, 3000)}, 2, all.View(), &all_dict).ok());
  Outputs some(3000, /*spans=*/false);
  some.blame.clear();
  some.retryable.clear();
  some.reply_code_source.clear();
  some.status.clear();
  ClassifyOutput view = some.View();
  ASSERT_TRUE(c.ClassifyBatches({columns.Input(0, 3000)}, 2, view, &some_dict).ok());
  EXPECT_EQ(some.bounce_class, all.bounce_class);
  EXPECT_EQ(some.category, all.category);
  EXPECT_EQ(some.rule, all.rule);
  EXPECT_EQ(some.reply_code, all.reply_code);
  EXPECT_EQ(some.status_source, all.status_source);
  EXPECT_TRUE(some_dict.statuses.empty());  // no status output, no dictionary
  EXPECT_FALSE(all_dict.statuses.empty());
}

TEST(ClassifyBatchesErrorTest, OutputTooSmall) {
  const std::vector<Row> rows = MakeRows(10);
  Columns columns(rows);
  const Classifier& c = Builtin("default");
  StatusDictionary dict;
  Outputs out(10);
  out.category.resize(9);
  absl::Status st = c.ClassifyBatches({columns.Input(0, 10)}, 1, out.View(), &dict);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "output 'category'")) << st;

  Outputs out2(10);
  out2.status_source.resize(3);
  st = c.ClassifyBatches({columns.Input(0, 10)}, 1, out2.View(), &dict);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "output 'status_source'")) << st;

  // Two batches need the sum of their rows.
  Outputs out3(10);
  st = c.ClassifyBatches({columns.Input(0, 10), columns.Input(0, 1)}, 1, out3.View(), &dict);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
}

TEST(ClassifyBatchesErrorTest, EmptyInputs) {
  const Classifier& c = Builtin("default");
  // A dictionary left over from an earlier call is cleared.
  const EnhancedStatus stale = ParseEnhancedStatusLenient("5.1.1");
  StatusDictionary dict;
  dict.statuses.push_back(stale);
  Outputs out(0);
  EXPECT_TRUE(c.ClassifyBatches({}, 4, out.View(), &dict).ok());
  EXPECT_TRUE(dict.statuses.empty());
  ClassifyInput empty;
  empty.num_rows = 0;
  dict.statuses.push_back(stale);
  EXPECT_TRUE(c.ClassifyBatches({empty}, 4, out.View(), &dict).ok());
  EXPECT_TRUE(dict.statuses.empty());
}

TEST(ClassifyBatchesNullTest, NullStringsReadAsEmpty) {
  // Row 0 holds real bytes under a null bit: they must not be read.
  const int32_t offsets[] = {0, 22, 22};
  const char data[] = "550 5.1.1 user unknown";
  const uint8_t validity[] = {0b10};
  const int32_t codes[] = {550, 550};
  ClassifyInput in;
  in.num_rows = 2;
  in.reply_code = CodeColumn::Integers(CodeColumn::Layout::kInt32, codes, nullptr, 0, 2);
  in.enhanced_status = StringColumn::AllNull(2);
  in.diagnostic = StringColumn::Utf8(offsets, data, validity, 0, 2);
  in.smtp_command = StringColumn::AllNull(2);
  in.remote_host = StringColumn::AllNull(2);
  in.action = StringColumn::AllNull(2);
  in.destination = StringColumn::AllNull(2);
  Outputs out(2);
  StatusDictionary dict;
  const Classifier& c = Builtin("default");
  ASSERT_TRUE(c.ClassifyBatches({in}, 1, out.View(), &dict).ok());
  Response r;
  r.reply_code = 550;
  const Classification want = c.Classify(r);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out.category[i], want.category) << i;
    EXPECT_EQ(out.status[i], -1) << i;
    EXPECT_EQ(c.category_names()[out.category[i]], "generic_permanent");
  }
  EXPECT_TRUE(dict.statuses.empty());
}

// ----------------------------------------------------- double-encoded text

TEST(RepairDoubleEncodedUtf8Test, Repairs) {
  std::string out;
  EXPECT_TRUE(RepairDoubleEncodedUtf8("m\xC3\x83\xC2\xB6" "chten", &out));
  EXPECT_EQ(out, "m\xC3\xB6" "chten");  // möchten
  EXPECT_TRUE(RepairDoubleEncodedUtf8("\xC3\xA2\xE2\x82\xAC\xE2\x84\xA2", &out));  // â€™
  EXPECT_EQ(out, "\xE2\x80\x99");                                                  // ’
  EXPECT_TRUE(RepairDoubleEncodedUtf8("caf\xC3\x83\xC2\xA9 ok", &out));
  EXPECT_EQ(out, "caf\xC3\xA9 ok");  // café ok
}

TEST(RepairDoubleEncodedUtf8Test, LeavesOtherTextsAlone) {
  std::string out = "unchanged";
  EXPECT_FALSE(RepairDoubleEncodedUtf8("plain ASCII text", &out));
  EXPECT_FALSE(RepairDoubleEncodedUtf8("", &out));
  EXPECT_FALSE(RepairDoubleEncodedUtf8("\xC3\x28", &out));        // invalid UTF-8
  EXPECT_FALSE(RepairDoubleEncodedUtf8("bad \xC3", &out));        // cut off
  EXPECT_FALSE(RepairDoubleEncodedUtf8("m\xC3\xB6" "chten", &out));  // proper UTF-8
  EXPECT_FALSE(RepairDoubleEncodedUtf8("\xE2\x82\xAC", &out));     // a real euro sign
  EXPECT_FALSE(RepairDoubleEncodedUtf8("\xC3\x83", &out));         // "Ã" alone
  EXPECT_FALSE(RepairDoubleEncodedUtf8("\xCE\xB4\xCE\xB9", &out));  // Greek, not doubled
  EXPECT_FALSE(RepairDoubleEncodedUtf8("\xC3\x83\xC2", &out));     // truncated double
}

}  // namespace
}  // namespace bouncekit
