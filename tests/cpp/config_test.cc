// Copyright 2026 The bouncekit authors.
//
// Tests for config.h: the TOML-subset parser and its error locations.

#include "bouncekit/config.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bouncekit/error_location.h"
#include "gtest/gtest.h"

namespace bouncekit {
namespace {

// Parses `text`, failing the test on error.
ConfigValue MustParse(absl::string_view text) {
  absl::StatusOr<ConfigValue> doc = ParseToml(text);
  EXPECT_TRUE(doc.ok()) << doc.status() << "\n--- input ---\n" << text;
  if (!doc.ok()) return ConfigValue::Table();
  EXPECT_TRUE(doc->is_table());
  return *std::move(doc);
}

// Follows a dotted path of table keys; nullptr when absent.
const ConfigValue* At(const ConfigValue& root, std::vector<absl::string_view> path) {
  const ConfigValue* v = &root;
  for (absl::string_view key : path) {
    v = v->Find(key);
    if (v == nullptr) return nullptr;
  }
  return v;
}

std::vector<std::string> Keys(const ConfigValue& table) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : table.entries()) keys.push_back(k);
  return keys;
}

// ---------------------------------------------------------------- tables

TEST(ParseTomlTest, EmptyAndCommentOnlyDocuments) {
  for (absl::string_view text : {"", "\n\n", "# only a comment\n  # another\n", "\r\n"}) {
    ConfigValue doc = MustParse(text);
    EXPECT_TRUE(doc.is_table());
    EXPECT_TRUE(doc.entries().empty());
  }
}

TEST(ParseTomlTest, TablesAndDottedHeaders) {
  ConfigValue doc = MustParse(
      "# leading comment\n"
      "title = \"bounces\"\n"
      "\n"
      "[server]\n"
      "host = 'mx.example'  # trailing comment\n"
      "port = 25\n"
      "[server.tls]\n"
      "enabled = true\n"
      "[ a . b . c ]\n"
      "d = 1\n"
      "[a]\n"
      "e = 2\n");
  EXPECT_EQ(Keys(doc), (std::vector<std::string>{"title", "server", "a"}));
  ASSERT_NE(At(doc, {"title"}), nullptr);
  EXPECT_EQ(At(doc, {"title"})->string_value(), "bounces");
  ASSERT_NE(At(doc, {"server", "host"}), nullptr);
  EXPECT_EQ(At(doc, {"server", "host"})->string_value(), "mx.example");
  ASSERT_NE(At(doc, {"server", "port"}), nullptr);
  EXPECT_TRUE(At(doc, {"server", "port"})->is_int());
  EXPECT_EQ(At(doc, {"server", "port"})->int_value(), 25);
  ASSERT_NE(At(doc, {"server", "tls", "enabled"}), nullptr);
  EXPECT_TRUE(At(doc, {"server", "tls", "enabled"})->bool_value());
  ASSERT_NE(At(doc, {"a", "b", "c", "d"}), nullptr);
  EXPECT_EQ(At(doc, {"a", "b", "c", "d"})->int_value(), 1);
  // [a] after [a.b.c] defines the implicitly created table once.
  ASSERT_NE(At(doc, {"a", "e"}), nullptr);
  EXPECT_EQ(At(doc, {"a", "e"})->int_value(), 2);
  // Key order is kept.
  EXPECT_EQ(Keys(*At(doc, {"server"})), (std::vector<std::string>{"host", "port", "tls"}));
}

TEST(ParseTomlTest, QuotedDotsAreNotPathSeparators) {
  ConfigValue doc = MustParse("[\"a.b\"]\nx = 1\n[a.b]\ny = 2\n");
  ASSERT_NE(At(doc, {"a.b", "x"}), nullptr);
  EXPECT_EQ(At(doc, {"a.b", "x"})->int_value(), 1);
  EXPECT_EQ(At(doc, {"a.b", "y"}), nullptr);
  ASSERT_NE(At(doc, {"a", "b", "y"}), nullptr);
  EXPECT_EQ(At(doc, {"a", "b", "y"})->int_value(), 2);
}

TEST(ParseTomlTest, ArrayOfTables) {
  ConfigValue doc = MustParse(
      "[[rules]]\n"
      "id = \"r1\"\n"
      "[[rules]]\n"
      "id = \"r2\"\n"
      "[rules.meta]\n"
      "note = \"belongs to r2\"\n"
      "[[rules.sub]]\n"
      "x = 1\n"
      "[[rules.sub]]\n"
      "x = 2\n"
      "[[rules]]\n"
      "id = \"r3\"\n");
  const ConfigValue* rules = At(doc, {"rules"});
  ASSERT_NE(rules, nullptr);
  ASSERT_TRUE(rules->is_array());
  ASSERT_EQ(rules->items().size(), 3u);
  EXPECT_EQ(rules->items()[0].Find("id")->string_value(), "r1");
  EXPECT_EQ(rules->items()[1].Find("id")->string_value(), "r2");
  EXPECT_EQ(rules->items()[2].Find("id")->string_value(), "r3");
  EXPECT_EQ(rules->items()[0].Find("meta"), nullptr);
  ASSERT_NE(At(rules->items()[1], {"meta", "note"}), nullptr);
  EXPECT_EQ(At(rules->items()[1], {"meta", "note"})->string_value(), "belongs to r2");
  const ConfigValue* sub = rules->items()[1].Find("sub");
  ASSERT_NE(sub, nullptr);
  ASSERT_TRUE(sub->is_array());
  ASSERT_EQ(sub->items().size(), 2u);
  EXPECT_EQ(sub->items()[1].Find("x")->int_value(), 2);
  EXPECT_EQ(rules->items()[2].Find("sub"), nullptr);
  // Each [[rules]] table remembers its header's line.
  EXPECT_EQ(rules->items()[0].line(), 1);
  EXPECT_EQ(rules->items()[1].line(), 3);
  EXPECT_EQ(rules->items()[2].line(), 11);
}

TEST(ParseTomlTest, DottedAndQuotedKeys) {
  ConfigValue doc = MustParse(
      "a.b.c = 1\n"
      "a.b.d = 2\n"
      "\"quoted key\".x = 3\n"
      "site.\"google.com\" = true\n"
      "'lit.key' = 4\n"
      "a . e = 5\n"
      "1234 = \"numeric bare key\"\n"
      "dash-and_under = 6\n");
  EXPECT_EQ(At(doc, {"a", "b", "c"})->int_value(), 1);
  EXPECT_EQ(At(doc, {"a", "b", "d"})->int_value(), 2);
  EXPECT_EQ(At(doc, {"a", "e"})->int_value(), 5);
  EXPECT_EQ(At(doc, {"quoted key", "x"})->int_value(), 3);
  ASSERT_NE(At(doc, {"site", "google.com"}), nullptr);
  EXPECT_TRUE(At(doc, {"site", "google.com"})->bool_value());
  EXPECT_EQ(At(doc, {"site", "google"}), nullptr);
  EXPECT_EQ(At(doc, {"lit.key"})->int_value(), 4);
  EXPECT_EQ(At(doc, {"1234"})->string_value(), "numeric bare key");
  EXPECT_EQ(At(doc, {"dash-and_under"})->int_value(), 6);
}

// --------------------------------------------------------------- strings

TEST(ParseTomlTest, BasicStringEscapes) {
  ConfigValue doc = MustParse(
      "s = \"tab\\there\\nq\\\"x\\\" back\\\\slash \\u00e9 \\U0001F600 \\b\\f\\r\\e\"\n");
  EXPECT_EQ(At(doc, {"s"})->string_value(),
            "tab\there\nq\"x\" back\\slash \xC3\xA9 \xF0\x9F\x98\x80 \b\f\r\x1B");
  ConfigValue euro = MustParse("s = \"\\u20AC\\u0041\"");
  EXPECT_EQ(At(euro, {"s"})->string_value(), "\xE2\x82\xAC" "A");
}

TEST(ParseTomlTest, LiteralStringsKeepBackslashes) {
  ConfigValue doc = MustParse("re = '\\bdmarc\\b|5\\.7\\.1'\npath = 'C:\\Users\\x'\n");
  EXPECT_EQ(At(doc, {"re"})->string_value(), "\\bdmarc\\b|5\\.7\\.1");
  EXPECT_EQ(At(doc, {"path"})->string_value(), "C:\\Users\\x");
}

TEST(ParseTomlTest, MultiLineStrings) {
  ConfigValue doc = MustParse(
      "a = \"\"\"\n"
      "line one\n"
      "line two\"\"\"\n"
      "b = \"\"\"joined \\\n"
      "      together\"\"\"\n"
      "c = '''\n"
      "raw \\n text\n"
      "'''\n"
      "d = \"\"\"two quotes at the end\"\"\"\"\"\n"
      "e = \"\"\"escape \\u0041 and \"quotes\" inside\"\"\"\n"
      "after = 1\n");
  EXPECT_EQ(At(doc, {"a"})->string_value(), "line one\nline two");
  EXPECT_EQ(At(doc, {"b"})->string_value(), "joined together");
  EXPECT_EQ(At(doc, {"c"})->string_value(), "raw \\n text\n");
  EXPECT_EQ(At(doc, {"d"})->string_value(), "two quotes at the end\"\"");
  EXPECT_EQ(At(doc, {"e"})->string_value(), "escape A and \"quotes\" inside");
  // Lines after multi-line strings are counted correctly.
  ASSERT_NE(At(doc, {"after"}), nullptr);
  EXPECT_EQ(At(doc, {"after"})->line(), 11);
  EXPECT_EQ(At(doc, {"after"})->column(), 9);
}

TEST(ParseTomlTest, CrLfLineEndings) {
  ConfigValue doc = MustParse("a = 1\r\n[t]\r\nb = \"x\"\r\nc = \"\"\"\r\ny\"\"\"\r\n");
  EXPECT_EQ(At(doc, {"a"})->int_value(), 1);
  EXPECT_EQ(At(doc, {"t", "b"})->string_value(), "x");
  EXPECT_EQ(At(doc, {"t", "c"})->string_value(), "y");
}

// --------------------------------------------------------------- numbers

TEST(ParseTomlTest, Integers) {
  struct Case {
    const char* text;
    int64_t want;
  };
  const Case cases[] = {
      {"0", 0},
      {"-0", 0},
      {"+17", 17},
      {"-17", -17},
      {"1_000_000", 1000000},
      {"0xDEAD_beef", 0xDEADBEEF},
      {"0o755", 0755},
      {"0b1101", 13},
      {"9223372036854775807", std::numeric_limits<int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
      {"0x7fffffffffffffff", std::numeric_limits<int64_t>::max()},
  };
  for (const Case& c : cases) {
    ConfigValue doc = MustParse(absl::StrCat("n = ", c.text));
    const ConfigValue* n = At(doc, {"n"});
    ASSERT_NE(n, nullptr) << c.text;
    EXPECT_TRUE(n->is_int()) << c.text << " is a " << n->TypeName();
    EXPECT_EQ(n->int_value(), c.want) << c.text;
  }
}

TEST(ParseTomlTest, Floats) {
  struct Case {
    const char* text;
    double want;
  };
  const Case cases[] = {
      {"3.14", 3.14},         {"-0.5", -0.5}, {"+1.5", 1.5},      {"1e3", 1000.0},
      {"6.02e+23", 6.02e23},  {"1E-2", 0.01}, {"1_000.25", 1000.25},
  };
  for (const Case& c : cases) {
    ConfigValue doc = MustParse(absl::StrCat("f = ", c.text));
    const ConfigValue* f = At(doc, {"f"});
    ASSERT_NE(f, nullptr) << c.text;
    EXPECT_TRUE(f->is_double()) << c.text << " is a " << f->TypeName();
    EXPECT_DOUBLE_EQ(f->number_value(), c.want) << c.text;
  }
  ConfigValue special = MustParse("a = inf\nb = -inf\nc = +inf\nd = nan\n");
  EXPECT_TRUE(std::isinf(At(special, {"a"})->number_value()));
  EXPECT_GT(At(special, {"a"})->number_value(), 0);
  EXPECT_LT(At(special, {"b"})->number_value(), 0);
  EXPECT_TRUE(std::isinf(At(special, {"b"})->number_value()));
  EXPECT_GT(At(special, {"c"})->number_value(), 0);
  EXPECT_TRUE(std::isnan(At(special, {"d"})->number_value()));
  EXPECT_TRUE(At(special, {"d"})->is_double());
}

TEST(ParseTomlTest, Booleans) {
  ConfigValue doc = MustParse("t = true\nf = false\n");
  EXPECT_TRUE(At(doc, {"t"})->is_bool());
  EXPECT_TRUE(At(doc, {"t"})->bool_value());
  EXPECT_TRUE(At(doc, {"f"})->is_bool());
  EXPECT_FALSE(At(doc, {"f"})->bool_value());
}

// ------------------------------------------------ arrays and inline tables

TEST(ParseTomlTest, Arrays) {
  ConfigValue doc = MustParse(
      "arr = [\n"
      "  1,   # one\n"
      "  2,\n"
      "  # a comment line\n"
      "\n"
      "  3,\n"
      "]\n"
      "nested = [[1, 2], [\"a\", 'b'], []]\n"
      "mixed = [1, \"x\", true, 2.5, {k = 1}]\n"
      "empty = []\n"
      "spaced = [ 'a' , 'b' ]\n");
  const ConfigValue* arr = At(doc, {"arr"});
  ASSERT_NE(arr, nullptr);
  ASSERT_TRUE(arr->is_array());
  ASSERT_EQ(arr->items().size(), 3u);
  EXPECT_EQ(arr->items()[2].int_value(), 3);
  EXPECT_EQ(arr->items()[2].line(), 6);
  EXPECT_EQ(arr->items()[2].column(), 3);

  const ConfigValue* nested = At(doc, {"nested"});
  ASSERT_EQ(nested->items().size(), 3u);
  EXPECT_EQ(nested->items()[0].items()[1].int_value(), 2);
  EXPECT_EQ(nested->items()[1].items()[1].string_value(), "b");
  EXPECT_TRUE(nested->items()[2].is_array());
  EXPECT_TRUE(nested->items()[2].items().empty());

  const ConfigValue* mixed = At(doc, {"mixed"});
  ASSERT_EQ(mixed->items().size(), 5u);
  EXPECT_TRUE(mixed->items()[1].is_string());
  EXPECT_TRUE(mixed->items()[2].is_bool());
  EXPECT_TRUE(mixed->items()[3].is_double());
  ASSERT_TRUE(mixed->items()[4].is_table());
  EXPECT_EQ(mixed->items()[4].Find("k")->int_value(), 1);

  EXPECT_TRUE(At(doc, {"empty"})->items().empty());
  ASSERT_EQ(At(doc, {"spaced"})->items().size(), 2u);
  EXPECT_EQ(At(doc, {"spaced"})->items()[1].string_value(), "b");
}

TEST(ParseTomlTest, InlineTables) {
  ConfigValue doc = MustParse(
      "point = { x = 1, y = -2, nested.z = 'deep', inner = { q = true } }\n"
      "empty = {}\n"
      "[profiles.sisimai]\n"
      "classes = { mailbox_disabled = \"soft\", suppressed = \"soft\" }\n");
  EXPECT_EQ(At(doc, {"point", "x"})->int_value(), 1);
  EXPECT_EQ(At(doc, {"point", "y"})->int_value(), -2);
  EXPECT_EQ(At(doc, {"point", "nested", "z"})->string_value(), "deep");
  EXPECT_TRUE(At(doc, {"point", "inner", "q"})->bool_value());
  EXPECT_TRUE(At(doc, {"empty"})->is_table());
  EXPECT_TRUE(At(doc, {"empty"})->entries().empty());
  const ConfigValue* classes = At(doc, {"profiles", "sisimai", "classes"});
  ASSERT_NE(classes, nullptr);
  EXPECT_EQ(Keys(*classes), (std::vector<std::string>{"mailbox_disabled", "suppressed"}));
}

TEST(ParseTomlTest, ValuePositions) {
  ConfigValue doc = MustParse("[t]\n  key   =   \"v\"\nn = [1,\n     22]\n");
  const ConfigValue* v = At(doc, {"t", "key"});
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->line(), 2);
  EXPECT_EQ(v->column(), 13);
  const ConfigValue* n = At(doc, {"t", "n"});
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->line(), 3);
  EXPECT_EQ(n->column(), 5);
  EXPECT_EQ(n->items()[1].line(), 4);
  EXPECT_EQ(n->items()[1].column(), 6);
}

TEST(ParseTomlTest, NestingUpToTheLimitIsFine) {
  const std::string text =
      absl::StrCat("a = ", std::string(64, '['), std::string(64, ']'), "\n");
  ConfigValue doc = MustParse(text);
  const ConfigValue* v = At(doc, {"a"});
  int depth = 0;
  while (v != nullptr && v->is_array()) {
    ++depth;
    v = v->items().empty() ? nullptr : &v->items()[0];
  }
  EXPECT_EQ(depth, 64);
}

// ---------------------------------------------------------------- errors

struct ErrorCase {
  std::string text;
  int line;
  int column;
  const char* message_part;  // must appear in the message
};

void ExpectError(const ErrorCase& c) {
  SCOPED_TRACE(absl::StrCat("input: ", c.text));
  absl::StatusOr<ConfigValue> doc = ParseToml(c.text);
  ASSERT_FALSE(doc.ok());
  const absl::Status& st = doc.status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  const ErrorLocation loc = GetErrorLocation(st);
  ASSERT_TRUE(loc.line.has_value()) << st;
  ASSERT_TRUE(loc.text_column.has_value()) << st;
  EXPECT_EQ(*loc.line, c.line) << st;
  EXPECT_EQ(*loc.text_column, c.column) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), absl::StrCat(c.line, ":", c.column, ": ")))
      << st;
  EXPECT_TRUE(absl::StrContains(st.message(), c.message_part)) << st;
  EXPECT_FALSE(loc.source.has_value());
}

TEST(ParseTomlErrorTest, DuplicateKeys) {
  ExpectError({"a = 1\nb = 2\na = 3\n", 3, 1, "duplicate key 'a'"});
  ExpectError({"x.y = 1\n  x.y = 2\n", 2, 3, "duplicate key 'x.y'"});
  ExpectError({"[t]\nk = 1\nk = 2\n", 3, 1, "duplicate key"});
  ExpectError({"p = { a = 1, a = 2 }\n", 1, 14, "duplicate key 'a'"});
}

TEST(ParseTomlErrorTest, TableConflicts) {
  ExpectError({"[a]\nx = 1\n[a]\n", 3, 1, "defined twice"});
  ExpectError({"[a.b]\n[a.b]\n", 2, 1, "defined twice"});
  ExpectError({"[a]\n[\"a\"]\n", 2, 1, "defined twice"});
  ExpectError({"[a]\n[a.'b']\nx = 1\n[ a . b ]\n", 4, 1, "table [a.b] is defined twice"});
  ExpectError({"[[r]]\n[r.t]\n[[r]]\n[r.t]\n[r.t]\n", 5, 1, "defined twice"});
  ExpectError({"a = 1\n[a]\n", 2, 1, "already a integer"});
  ExpectError({"a = 1\n[a.b]\n", 2, 1, "not a table"});
  ExpectError({"a = [1]\n[[a]]\n", 2, 1, "not an array of tables"});
  ExpectError({"[a]\n[[a]]\n", 2, 1, "not an array of tables"});
  ExpectError({"[[a]]\n[a]\n", 2, 1, "not a table"});
  ExpectError({"a = 'x'\na.b = 1\n", 2, 1, "already a string"});
}

// A sub-table defined twice is caught even when many tables were opened in
// between (the parent's storage has grown and moved meanwhile).
TEST(ParseTomlErrorTest, SubTableDefinedTwiceAfterManyTables) {
  std::string text = "[a.b]\nx = 1\n";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&text, "[t", i, "]\nv = ", i, "\n");
  const int line = 2 + 2 * 40 + 1;
  absl::StrAppend(&text, "[a.b]\ny = 2\n");
  ExpectError({text, line, 1, "table [a.b] is defined twice"});
}

TEST(ParseTomlErrorTest, Strings) {
  ExpectError({"a = \"abc\nb = 1\n", 1, 5, "unterminated string"});
  ExpectError({"a = 'abc", 1, 5, "unterminated string"});
  ExpectError({"x = 1\na = \"\"\"never closed\n\n", 2, 5, "unterminated multi-line string"});
  ExpectError({"a = \"x\\q\"\n", 1, 7, "unknown escape"});
  ExpectError({"a = \"\\uD800\"\n", 1, 6, "not a valid code point"});
  ExpectError({"a = \"\\u12\"\n", 1, 10, "bad hex digit"});
  ExpectError({"a = \"\\U00110000\"\n", 1, 6, "not a valid code point"});
  ExpectError({std::string("a = \"x\x01y\"\n"), 1, 7, "control character"});
  ExpectError({"\"\"\"k\"\"\" = 1\n", 1, 1, "multi-line strings cannot be keys"});
}

TEST(ParseTomlErrorTest, DatesAndTimesAreRejected) {
  ExpectError({"d = 2024-01-01\n", 1, 5, "dates and times are not supported"});
  ExpectError({"d = 1979-05-27T07:32:00Z\n", 1, 5, "dates and times are not supported"});
  ExpectError({"t = 07:32:00\n", 1, 5, "times are not supported"});
}

TEST(ParseTomlErrorTest, BadNumbers) {
  ExpectError({"n = 007\n", 1, 5, "leading zeros"});
  ExpectError({"n = -01\n", 1, 5, "leading zeros"});
  ExpectError({"n = 0_1\n", 1, 5, "leading zeros"});
  ExpectError({"n = 1__0\n", 1, 6, "'_' in a number"});
  ExpectError({"n = 1_\n", 1, 6, "'_' in a number"});
  ExpectError({"n = 9223372036854775808\n", 1, 5, "out-of-range"});
  ExpectError({"n = 0x8000000000000000\n", 1, 5, "out of range"});
  ExpectError({"n = 0b102\n", 1, 5, "bad number"});
  ExpectError({"n = 0xfg\n", 1, 5, "bad number"});
  ExpectError({"n = 1.\n", 1, 5, "bad number"});
  ExpectError({"n = .5\n", 1, 5, "bad number"});
  ExpectError({"n = 1e\n", 1, 5, "bad number"});
  ExpectError({"n = 01.5\n", 1, 5, "leading zeros"});
}

TEST(ParseTomlErrorTest, UnexpectedCharacters) {
  ExpectError({"a = 1 2\n", 1, 7, "unexpected '2'"});
  ExpectError({"a = @\n", 1, 5, "unexpected '@'"});
  ExpectError({"@x = 1\n", 1, 1, "unexpected '@' where a key was expected"});
  ExpectError({"a = hello\n", 1, 5, "strings need quotes"});
  ExpectError({"a = truex\n", 1, 9, "unexpected 'x'"});
  ExpectError({"a 1\n", 1, 3, "expected '='"});
  ExpectError({"a =\n", 1, 4, "unexpected"});
  ExpectError({"a = ", 1, 5, "expected a value"});
  ExpectError({"[a\nb = 1\n", 1, 3, "expected ']'"});
  ExpectError({"[[a]\n", 1, 4, "expected ']]'"});
  ExpectError({"[a] x\n", 1, 5, "unexpected 'x'"});
  ExpectError({"[]\n", 1, 2, "where a key was expected"});
  ExpectError({"a = [1 2]\n", 1, 8, "expected ',' or ']'"});
  ExpectError({"a = [1,\n2\n", 3, 1, "unterminated array"});
  ExpectError({"a = {x = 1\n", 2, 1, "unterminated inline table"});
  ExpectError({"a = {x = 1 y = 2}\n", 1, 12, "expected ',' or '}'"});
  ExpectError({"ok = 1\n\n   # comment\nbad = ?\n", 4, 7, "unexpected '?'"});
  ExpectError({"a = \"\"\"\nmulti\nline\"\"\" junk\n", 3, 9, "unexpected 'j'"});
}

TEST(ParseTomlErrorTest, DeepNestingFailsCleanly) {
  for (char open : {'[', '{'}) {
    SCOPED_TRACE(std::string(1, open));
    std::string text = "a = ";
    for (int i = 0; i < 100; ++i) text += open == '[' ? "[" : "{b = ";
    text += open == '[' ? "" : "1";
    for (int i = 0; i < 100; ++i) text += open == '[' ? ']' : '}';
    absl::StatusOr<ConfigValue> doc = ParseToml(text);
    ASSERT_FALSE(doc.ok());
    EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(doc.status().message(), "nested too deeply")) << doc.status();
    const ErrorLocation loc = GetErrorLocation(doc.status());
    ASSERT_TRUE(loc.line.has_value());
    EXPECT_EQ(*loc.line, 1);
    ASSERT_TRUE(loc.text_column.has_value());
    EXPECT_GT(*loc.text_column, 5);
    EXPECT_LT(*loc.text_column, static_cast<int64_t>(text.size()));
  }
  // Far deeper than the stack would allow without a limit.
  const std::string huge = absl::StrCat("a = ", std::string(200000, '['));
  absl::StatusOr<ConfigValue> doc = ParseToml(huge);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseTomlErrorTest, SourceNameIsInMessageAndPayload) {
  absl::StatusOr<ConfigValue> doc = ParseToml("a = 1\na = 2\n", "rules.toml");
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(absl::StartsWith(doc.status().message(), "rules.toml:2:1: ")) << doc.status();
  const ErrorLocation loc = GetErrorLocation(doc.status());
  ASSERT_TRUE(loc.source.has_value());
  EXPECT_EQ(*loc.source, "rules.toml");
  EXPECT_EQ(loc.line, std::optional<int64_t>(2));
  EXPECT_EQ(loc.text_column, std::optional<int64_t>(1));
  EXPECT_FALSE(loc.row.has_value());
  EXPECT_FALSE(loc.column.has_value());
}

// ------------------------------------------------------ hand-built values

TEST(ConfigValueTest, BuildByHand) {
  ConfigValue t = ConfigValue::Table();
  t.Set("n", ConfigValue::Int(7));
  ConfigValue& arr = t.Set("a", ConfigValue::Array());
  arr.mutable_items().push_back(ConfigValue::String("x"));
  EXPECT_EQ(t.Find("n")->int_value(), 7);
  EXPECT_DOUBLE_EQ(t.Find("n")->number_value(), 7.0);
  EXPECT_TRUE(t.Find("n")->is_number());
  EXPECT_EQ(t.Find("a")->items().size(), 1u);
  EXPECT_EQ(t.Find("missing"), nullptr);
  EXPECT_EQ(t.Find("n")->Find("n"), nullptr);  // not a table
  EXPECT_EQ(t.Find("n")->line(), 0);
  EXPECT_EQ(ConfigValue::Double(1.5).TypeName(), "float");
  EXPECT_EQ(ConfigValue().TypeName(), "null");
  EXPECT_TRUE(ConfigValue().is_null());
  ConfigValue* m = t.FindMutable("n");
  ASSERT_NE(m, nullptr);
  m->set_position(3, 4);
  EXPECT_EQ(t.Find("n")->line(), 3);
  EXPECT_EQ(t.Find("n")->column(), 4);
}

}  // namespace
}  // namespace bouncekit
