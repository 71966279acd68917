// Copyright 2026 The bouncekit authors.
//
// Tests for smtp_status.h: strict and lenient enhanced-status parsing, the
// IANA registry, reply-code cells and finding codes inside diagnostic text.

#include "bouncekit/smtp_status.h"

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

EnhancedStatus Status(int klass, int subject, int detail) {
  EnhancedStatus s;
  s.klass = static_cast<int8_t>(klass);
  s.subject = static_cast<int16_t>(subject);
  s.detail = static_cast<int16_t>(detail);
  return s;
}

// ---------------------------------------------------------------- strict

TEST(ParseEnhancedStatusTest, AcceptsWellFormedCodes) {
  struct Case {
    const char* text;
    EnhancedStatus want;
  };
  const Case cases[] = {
      {"5.1.1", Status(5, 1, 1)},
      {" 4.7.650 ", Status(4, 7, 650)},
      {"2.0.0", Status(2, 0, 0)},
      {"\t5.7.509\n", Status(5, 7, 509)},
      {"4.999.999", Status(4, 999, 999)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<EnhancedStatus> got = ParseEnhancedStatus(c.text);
    ASSERT_TRUE(got.ok()) << "'" << c.text << "': " << got.status();
    EXPECT_EQ(*got, c.want) << "'" << c.text << "' -> " << got->ToString();
  }
}

TEST(ParseEnhancedStatusTest, RejectsMalformedCodesWithInvalidArgument) {
  const char* const bad[] = {"",      "   ",     "5.1",   "5.1.1.1", "6.0.0", "5.x.1",
                             "5.1.1000", "5..1", "5.1.",  ".1.1",    "55.1.1", "5.1.1 x",
                             "3.0.0", "5,1,1",   "1.1.1", "5.1.-1"};
  for (const char* text : bad) {
    absl::StatusOr<EnhancedStatus> got = ParseEnhancedStatus(text);
    EXPECT_FALSE(got.ok()) << "'" << text << "' parsed as " << got->ToString();
    if (!got.ok()) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << "'" << text << "'";
      EXPECT_FALSE(got.status().message().empty());
    }
  }
}

TEST(ParseEnhancedStatusTest, MessagesSayWhatIsWrong) {
  absl::Status two = ParseEnhancedStatus("5.1").status();
  EXPECT_NE(two.message().find("2 part"), absl::string_view::npos) << two;
  absl::Status four = ParseEnhancedStatus("5.1.1.1").status();
  EXPECT_NE(four.message().find("4 part"), absl::string_view::npos) << four;
  absl::Status six = ParseEnhancedStatus("6.0.0").status();
  EXPECT_NE(six.message().find("class 6"), absl::string_view::npos) << six;
}

TEST(EnhancedStatusTest, ToStringAndGeneric) {
  EXPECT_EQ(Status(5, 1, 1).ToString(), "5.1.1");
  EXPECT_EQ(Status(4, 7, 650).ToString(), "4.7.650");
  EXPECT_EQ(EnhancedStatus().ToString(), "");
  EXPECT_FALSE(EnhancedStatus().present());
  EXPECT_FALSE(EnhancedStatus().generic());
  EXPECT_TRUE(Status(5, 0, 0).generic());
  EXPECT_TRUE(Status(4, 7, 0).generic());
  EXPECT_FALSE(Status(5, 1, 1).generic());
  EXPECT_NE(Status(5, 1, 1), Status(5, 1, 10));
}

// --------------------------------------------------------------- lenient

TEST(ParseEnhancedStatusLenientTest, AcceptsStatusFollowedByText) {
  EXPECT_EQ(ParseEnhancedStatusLenient("5.1.1 (user unknown)"), Status(5, 1, 1));
  EXPECT_EQ(ParseEnhancedStatusLenient("  4.2.2"), Status(4, 2, 2));
  EXPECT_EQ(ParseEnhancedStatusLenient("5.7.1;blocked"), Status(5, 7, 1));
  EXPECT_EQ(ParseEnhancedStatusLenient("2.0.0"), Status(2, 0, 0));
}

TEST(ParseEnhancedStatusLenientTest, ReturnsAbsentForNonStatuses) {
  const char* const bad[] = {"5.1.1a", "5.1.1.1", "5.1", "6.0.0", "", "garbage",
                             "x5.1.1", "5.1.1000", "5.1.10x", "550"};
  for (const char* text : bad) {
    EXPECT_FALSE(ParseEnhancedStatusLenient(text).present())
        << "'" << text << "' -> " << ParseEnhancedStatusLenient(text).ToString();
  }
}

// -------------------------------------------------------------- registry

TEST(DescribeStatusTest, RegisteredFlags) {
  struct Case {
    EnhancedStatus status;
    bool registered;
  };
  const Case cases[] = {
      {Status(5, 1, 1), true},   {Status(4, 7, 650), false}, {Status(5, 7, 27), true},
      {Status(5, 7, 30), true},  {Status(5, 1, 10), true},   {Status(5, 8, 1), false},
      {Status(4, 7, 31), false}, {Status(2, 0, 0), true},    {Status(5, 3, 7), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DescribeStatus(c.status).registered, c.registered) << c.status.ToString();
  }
}

TEST(DescribeStatusTest, Names) {
  StatusDescription d = DescribeStatus(Status(5, 1, 1));
  EXPECT_EQ(d.class_name, "Permanent Failure");
  EXPECT_EQ(d.subject_name, "Addressing Status");
  EXPECT_EQ(d.detail_name, "Bad destination mailbox address");

  d = DescribeStatus(Status(4, 2, 2));
  EXPECT_EQ(d.class_name, "Persistent Transient Failure");
  EXPECT_EQ(d.detail_name, "Mailbox full");

  d = DescribeStatus(Status(2, 0, 0));
  EXPECT_EQ(d.class_name, "Success");

  // An unregistered detail keeps the class and subject names.
  d = DescribeStatus(Status(4, 7, 650));
  EXPECT_EQ(d.subject_name, "Security or Policy Status");
  EXPECT_TRUE(d.detail_name.empty());

  // An unknown subject has no subject name.
  d = DescribeStatus(Status(5, 8, 1));
  EXPECT_TRUE(d.subject_name.empty());

  d = DescribeStatus(EnhancedStatus());
  EXPECT_FALSE(d.registered);
  EXPECT_TRUE(d.class_name.empty());
}

// Every code of the reference copy of the IANA registry is registered, with
// the reference's subject name; nothing outside it is.
TEST(DescribeStatusTest, MatchesReferenceRegistry) {
  const std::string path =
      std::string(BOUNCEKIT_SHARED_DIR) + "/reference/enhanced-status-codes.tsv";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  std::getline(in, line);  // header
  ASSERT_EQ(line.rfind("code_suffix\tsubject\tname", 0), 0u) << line;
  int count = 0;
  bool registered[8][40] = {};
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '\t');
    ASSERT_GE(cells.size(), 3u) << line;
    std::vector<std::string> code = absl::StrSplit(cells[0], '.');
    ASSERT_EQ(code.size(), 2u) << line;
    int subject = 0, detail = 0;
    ASSERT_TRUE(absl::SimpleAtoi(code[0], &subject)) << line;
    ASSERT_TRUE(absl::SimpleAtoi(code[1], &detail)) << line;
    ASSERT_LT(subject, 8);
    ASSERT_LT(detail, 40);
    registered[subject][detail] = true;
    for (int klass : {4, 5}) {
      StatusDescription d = DescribeStatus(Status(klass, subject, detail));
      EXPECT_TRUE(d.registered) << klass << "." << cells[0];
      EXPECT_EQ(d.subject_name, cells[1]) << cells[0];
      EXPECT_FALSE(d.detail_name.empty()) << cells[0];
    }
    ++count;
  }
  EXPECT_EQ(count, 81);
  for (int subject = 0; subject < 8; ++subject) {
    for (int detail = 0; detail < 40; ++detail) {
      EXPECT_EQ(DescribeStatus(Status(5, subject, detail)).registered,
                registered[subject][detail])
          << "5." << subject << "." << detail;
    }
  }
}

// ------------------------------------------------------------ reply code

TEST(ParseReplyCodeTest, ThreeDigitCodes) {
  EXPECT_EQ(ParseReplyCode("550"), std::optional<int>(550));
  EXPECT_EQ(ParseReplyCode(" 421 "), std::optional<int>(421));
  EXPECT_EQ(ParseReplyCode("250"), std::optional<int>(250));
  EXPECT_EQ(ParseReplyCode("200"), std::optional<int>(200));
  EXPECT_EQ(ParseReplyCode("599"), std::optional<int>(599));
}

TEST(ParseReplyCodeTest, NonCodes) {
  const char* const bad[] = {"abc", "999", "1234", "", "55", "199", "600",
                             "550.0", "5xx", "-550", " ", "55 0", "0550"};
  for (const char* text : bad) {
    EXPECT_EQ(ParseReplyCode(text), std::nullopt) << "'" << text << "'";
  }
}

TEST(IsValidReplyCodeTest, Range) {
  EXPECT_TRUE(IsValidReplyCode(200));
  EXPECT_TRUE(IsValidReplyCode(599));
  EXPECT_FALSE(IsValidReplyCode(199));
  EXPECT_FALSE(IsValidReplyCode(600));
  EXPECT_FALSE(IsValidReplyCode(0));
  EXPECT_FALSE(IsValidReplyCode(-550));
}

// ---------------------------------------------------------- text scanning

struct TextCase {
  const char* text;
  int reply_code;
  const char* status;  // "" = absent
};

void ExpectCodes(const TextCase& c) {
  const TextCodes got = FindCodesInText(c.text);
  EXPECT_EQ(got.reply_code, c.reply_code) << "text: " << c.text;
  EXPECT_EQ(got.status.ToString(), c.status) << "text: " << c.text;
  if (got.reply_code != 0) {
    ASSERT_GE(got.reply_code_pos, 0) << c.text;
    EXPECT_EQ(absl::string_view(c.text).substr(got.reply_code_pos, 3),
              std::to_string(got.reply_code))
        << c.text;
  } else {
    EXPECT_EQ(got.reply_code_pos, -1) << c.text;
  }
  if (got.status.present()) {
    ASSERT_GE(got.status_pos, 0) << c.text;
    const std::string s = got.status.ToString();
    EXPECT_EQ(absl::string_view(c.text).substr(got.status_pos, s.size()), s) << c.text;
  } else {
    EXPECT_EQ(got.status_pos, -1) << c.text;
  }
}

TEST(FindCodesInTextTest, RealWorldShapes) {
  const TextCase cases[] = {
      {"smtp; 550 5.1.1 <a@b>: Recipient address rejected", 550, "5.1.1"},
      {"550-5.1.1 The email account that you tried to reach does not exist. Please try\n"
       "550-5.1.1 double-checking the recipient's email address for typos or\n"
       "550 5.1.1 unnecessary spaces.",
       550, "5.1.1"},
      {"452-4.2.2 The email account that you tried to reach is over quota.", 452, "4.2.2"},
      {"Sorry, I couldn't find any host named nosuch.example. (#5.1.2)", 0, "5.1.2"},
      {"Message deferred [#4.1.9]", 0, "4.1.9"},
      {"host mx.example.com[192.0.2.5] said: 554 Transaction failed (in reply to end of DATA "
       "command)",
       554, ""},
      {"550: 5.7.1 Message rejected", 550, "5.7.1"},
      {"Remote server returned '550 5.7.509 Access denied'", 550, "5.7.509"},
      {"<<< 421 Too many connections", 421, ""},
      {"421 Service not available", 421, ""},
      {"error 451 try later", 451, ""},
      {"Status: 5.0.0", 0, "5.0.0"},
      {"smtp; 452 4.3.1 Insufficient system storage", 452, "4.3.1"},
      {"lmtp; 552 5.2.2 Mailbox full", 552, "5.2.2"},
      {"", 0, ""},
      {"no codes here at all", 0, ""},
  };
  for (const TextCase& c : cases) ExpectCodes(c);
}

TEST(FindCodesInTextTest, IgnoresAddressesDatesAndSizes) {
  const TextCase cases[] = {
      {"192.0.2.5", 0, ""},
      {"connect from [192.0.2.22 18] refused", 0, ""},
      {"version 4.16.55.1", 0, ""},
      {"4.16.55.1", 0, ""},
      {"4.2.2.1 is a resolver", 0, ""},
      {"5.1.1.1", 0, ""},
      {"please try again in 840 minutes", 0, ""},
      {"please try again in 450 minutes", 0, ""},
      {"message size (10485760) exceeds the limit", 0, ""},
      {"size limit (524288) reached", 0, ""},
      {"Date: Mon, 25 Nov 2024 14:22:05 +0000", 0, ""},
      {"queued since 2024-05-21", 0, ""},
      {"connection from 203.0.113.250 timed out", 0, ""},
      {"550,000 users", 0, ""},
      {"load 45% on 250/ok", 0, ""},
      {"id=550abc", 0, ""},
  };
  for (const TextCase& c : cases) ExpectCodes(c);
}

TEST(FindCodesInTextTest, PairIsPreferredOverEarlierBareCodeOrStatus) {
  ExpectCodes({"said: 421 try later; final answer 550 5.1.1 user unknown", 550, "5.1.1"});
  ExpectCodes({"(#4.4.1) then: 550-5.1.1 no such user", 550, "5.1.1"});
  // Without a pair, the first bare code in a reply position is kept.
  ExpectCodes({"said: 421 busy; said: 451 later", 421, ""});
  // The first delimited status is kept.
  ExpectCodes({"(#4.4.1) and (#5.1.1)", 0, "4.4.1"});
}

TEST(FindCodesInTextTest, StatusWithUnregisteredSubjectIsNotTaken) {
  // Subjects above 7 are no RFC 3463 subjects: such dotted numbers are
  // versions or addresses.
  ExpectCodes({"running 5.9.2 now", 0, ""});
}

TEST(FindCodesInTextTest, LargeTextWithoutCodesIsLinear) {
  const std::string chunk =
      "x 5.5.5.5.5 192.0.2.55 in 840 minutes (10485760) 2024-05-21 555555 4.4.4.4 ";
  std::string text;
  text.reserve((1 << 20) + chunk.size());
  while (text.size() < (1 << 20)) text += chunk;
  const auto start = std::chrono::steady_clock::now();
  const TextCodes got = FindCodesInText(text);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.reply_code, 0);
  EXPECT_FALSE(got.status.present()) << got.status.ToString();
  // Generous bound: a linear scan of 1 MiB takes milliseconds even under
  // sanitizers; a quadratic one would take minutes.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count(), 10);

  // A code at the very end of the large text is still found.
  const TextCodes tail = FindCodesInText(text + " smtp; 550 5.1.1 unknown");
  EXPECT_EQ(tail.reply_code, 550);
  EXPECT_EQ(tail.status.ToString(), "5.1.1");
  EXPECT_EQ(tail.status_pos, static_cast<int64_t>(text.size() + 11));
}

TEST(FindCodesInTextTest, DegenerateInputsDoNotCrash) {
  // Truncated codes and statuses at the end of the text.
  const char* const texts[] = {"5", "55", "550", "5.", "5.1", "5.1.", "550-", "550 5",
                               "550 5.1", "550 5.1.", "#", "(#5.1.", "\xff\xfe\xc3"};
  for (const char* t : texts) {
    const TextCodes got = FindCodesInText(t);
    EXPECT_FALSE(got.status.present()) << t;
  }
  EXPECT_EQ(FindCodesInText("550").reply_code, 550);
  EXPECT_EQ(FindCodesInText("550 5.1").reply_code, 550);
  // Embedded NULs are ordinary bytes.
  const std::string with_nul("\0smtp; 550 5.1.1", 16);
  EXPECT_EQ(FindCodesInText(with_nul).status.ToString(), "5.1.1");
}

}  // namespace
}  // namespace bouncekit
