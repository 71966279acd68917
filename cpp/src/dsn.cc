// Copyright 2026 The bouncekit authors.

#include "bouncekit/dsn.h"

#include <algorithm>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bouncekit/esp_json.h"
#include "bouncekit/mime.h"
#include "internal/ascii.h"
#include "internal/cutoff_phrases.h"
#include "internal/email_scan.h"
#include "internal/phrase_set.h"

namespace bouncekit {
namespace {

using mime::HeaderList;
using mime::Message;
using mime::Part;

// Always inlined: called per line and per field, and the call costs more than
// the trim.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::string_view Trim(absl::string_view s) {
  return internal::TrimAsciiInline(s);
}

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

// Position of `needle` (lower-case ASCII) in `text` from `from` on, ignoring
// ASCII case, or npos; linear: candidates are found with memchr on both
// cases of the first byte, each searched for once, then compared.
size_t FindLower(absl::string_view text, absl::string_view needle, size_t from = 0) {
  if (needle.empty()) return from <= text.size() ? from : absl::string_view::npos;
  if (from >= text.size() || text.size() - from < needle.size()) return absl::string_view::npos;
  const char lo = needle[0];
  const char up = (lo >= 'a' && lo <= 'z') ? static_cast<char>(lo - ('a' - 'A')) : lo;
  const char* const base = text.data();
  const char* const last = base + (text.size() - needle.size());  // last possible start
  const char* p = base + from;
  const char* next_lo = nullptr;  // next occurrence at or after p, or last + 1
  const char* next_up = up == lo ? last + 1 : nullptr;
  auto next = [&](char c, const char* at) -> const char* {
    const void* f = std::memchr(at, c, static_cast<size_t>(last - at + 1));
    return f == nullptr ? last + 1 : static_cast<const char*>(f);
  };
  while (p <= last) {
    if (next_lo == nullptr || next_lo < p) next_lo = next(lo, p);
    if (next_up == nullptr || next_up < p) next_up = next(up, p);
    const char* c = next_lo < next_up ? next_lo : next_up;
    if (c > last) break;
    if (internal::EqualsLower(absl::string_view(c + 1, needle.size() - 1), needle.substr(1))) {
      return static_cast<size_t>(c - base);
    }
    p = c + 1;
  }
  return absl::string_view::npos;
}

// The last start of `needle` (lower-case ASCII) at or before `before`, ignoring case.
size_t RFindLower(absl::string_view text, absl::string_view needle, size_t before) {
  if (needle.size() > text.size()) return absl::string_view::npos;
  size_t i = std::min(before, text.size() - needle.size()) + 1;
  while (i-- > 0) {
    if (internal::EqualsIgnoreCaseAscii(text.substr(i, needle.size()), needle)) return i;
  }
  return absl::string_view::npos;
}

// The field's value (a view into `h`'s storage), or "" when absent.
absl::string_view HeaderOr(const HeaderList& h, absl::string_view name) {
  auto v = mime::FindHeader(h, name);
  return v ? *v : absl::string_view();
}

// Drops parenthesised comments from a date ("... +0900 (JST)"), into
// `*out` (its buffer is reused: the reader keeps one date per e-mail).
void CleanDateInto(absl::string_view d, std::string* out_string) {
  // One pass into a buffer of the input's size, trimmed in place.
  std::string& out = *out_string;
  out.resize(d.size());
  char* o = out.data();
  // Up to the first parenthesis at once (most dates have none, or a
  // comment at the end); a ')' is dropped even outside a comment.
  const size_t head = static_cast<size_t>(internal::FindEither(d.data(), d.data() + d.size(), '(', ')') - d.data());
  if (head > 0) std::memcpy(o, d.data(), head);  // (d.data() may be null when empty)
  o += head;
  int depth = 0;
  for (char c : d.substr(head)) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      *o++ = c;
    }
  }
  const absl::string_view t = Trim(absl::string_view(out.data(), static_cast<size_t>(o - out.data())));
  if (t.data() != out.data()) std::memmove(out.data(), t.data(), t.size());
  out.resize(t.size());
}

std::string CleanDate(absl::string_view d) {
  std::string out;
  CleanDateInto(d, &out);
  return out;
}

// The first address scan::FindAddresses would give (lower-cased), or "",
// into `*out` (its buffer is reused).
void FirstAddressInto(absl::string_view v, bool allow_dotless, std::string* out) {
  out->clear();
  internal::ForEachAddress(v, allow_dotless, [&](size_t b, size_t e) {
    internal::AssignLower(v.substr(b, e - b), out);
    return false;
  });
}

// Every address scan::FindAddresses would give, lower-cased, to fn(address),
// each in turn in `*scratch` (the caller's kept buffer: no new string per
// address).
template <typename Fn>
void EachAddress(absl::string_view v, bool allow_dotless, std::string* scratch, Fn fn) {
  internal::ForEachAddress(v, allow_dotless, [&](size_t b, size_t e) {
    internal::AssignLower(v.substr(b, e - b), scratch);
    fn(*scratch);
    return true;
  });
}

// "rfc822; <User@Example.COM>" -> "user@example.com" (empty if no address),
// into `*out` (its buffer is reused).
void AddressOfFieldInto(absl::string_view v, std::string* out) {
  size_t semi = internal::FindChar(v, ';');
  if (semi != absl::string_view::npos) v = v.substr(semi + 1);
  FirstAddressInto(v, /*allow_dotless=*/true, out);
}

std::string AddressOfField(absl::string_view v) {
  std::string out;
  AddressOfFieldInto(v, &out);
  return out;
}

// A DSN field "type; value" split into its type (as written: the caller
// lower-cases it) and its value, both trimmed views into `v`; the type is
// empty when there is none.
std::pair<absl::string_view, absl::string_view> TypedValueView(absl::string_view v) {
  size_t semi = internal::FindChar(v, ';');
  if (semi == absl::string_view::npos) return {absl::string_view(), Trim(v)};
  absl::string_view type = Trim(v.substr(0, semi));
  // Only a short atom is a type ("smtp", "X-Postfix"); otherwise it's text.
  bool atom = !type.empty() && type.size() <= 20 &&
              std::all_of(type.begin(), type.end(), [](char c) {
                return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
              });
  if (!atom) return {absl::string_view(), Trim(v)};
  return {type, Trim(v.substr(semi + 1))};
}

// The address scan::FindAddresses(t) gives as its first hit when that hit
// starts at offset 0, for a `t` whose first '@' is at `at` with only
// local-part bytes before it; false when it would give no such hit. Same
// rules (and so the same address), without a vector of strings per line.
bool AddressAtStart(absl::string_view t, size_t at, std::string* out) {
  // FindAddresses skips these at the start of a local part.
  if (t[0] == '.' || t[0] == '\'' || t[0] == '=' || t[0] == '/') return false;
  size_t e = at + 1;
  while (e < t.size() && internal::IsDomainCharFast(t[e])) ++e;
  while (e > at + 1 && (t[e - 1] == '.' || t[e - 1] == '-')) --e;
  if (e == at + 1) return false;
  const absl::string_view domain = t.substr(at + 1, e - at - 1);
  if (internal::FindChar(domain, '.') == absl::string_view::npos) return false;
  if (at > 128 || domain.size() > 255) return false;
  out->assign(t.data(), e);
  for (char& c : *out) c = internal::LowerAscii(c);
  return true;
}

// Message-ids and UUIDs look like addresses: a long local part made of
// digits, hex letters, dots and dashes only.
bool IsIdLike(absl::string_view address) {
  absl::string_view local = address.substr(0, internal::FindChar(address, '@'));
  if (local.size() < 16) return false;
  int digits = 0;
  for (char c : local) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
      return false;
    }
  }
  return digits >= 8;
}

bool IsSystemLocal(absl::string_view address) {
  size_t at = internal::FindChar(address, '@');
  absl::string_view local = address.substr(0, at);
  return local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon" ||
         local == "mailerdaemon" || local == "nobody" || absl::StartsWith(local, "bounce") ||
         local == "root";
}

// A continued multi-line SMTP reply repeats its code on each line
// ("550-5.7.1 text", "550 5.7.1 text"): keep the text only.
absl::string_view StripReplyPrefix(absl::string_view line) {
  if (line.size() < 4 || !absl::ascii_isdigit(line[0]) || !absl::ascii_isdigit(line[1]) ||
      !absl::ascii_isdigit(line[2]) || (line[3] != '-' && line[3] != ' ')) {
    return line;
  }
  if (line[0] != '2' && line[0] != '4' && line[0] != '5') return line;
  absl::string_view rest = internal::TrimAsciiLeft(line.substr(4));
  std::string st = scan::FindEnhancedStatus(rest.substr(0, 12));
  if (!st.empty() && absl::StartsWith(rest, st)) rest = Trim(rest.substr(st.size()));
  return rest;
}

// Multi-line replies wrapped by the reporting MTA leave "550 5.7.1" (or
// "550-5.7.1") inside the text; drop the repeats after the first one.
// Returns the cleaned text (`*text` as it is without a code).
// With `unchanged` (false on entry): when the cleaned text is `*text`
// itself, sets it and returns "" (no copy made); otherwise the result is
// as without.
std::string RemoveRepeatedReply(const std::string* text, int code, const std::string& status,
                                bool* unchanged = nullptr) {
  if (code == 0) return *text;
  const std::string c = absl::StrCat(code);
  // Is there a repeat at all (a second code below)? Most texts have one
  // code or none: then nothing is dropped but spaces next to spaces, and
  // CollapseSpace alone gives the same text.
  {
    // (std::string_view: its find is inlined, Debian's absl::string_view's
    // is a call into libabsl_strings.)
    const std::string_view t = *text;
    int found = 0;
    size_t i = t.find(c);
    while (i != std::string_view::npos && found < 2) {
      size_t next = i + 1;
      if (i + 4 <= t.size() && (i == 0 || t[i - 1] == ' ') && (t[i + 3] == ' ' || t[i + 3] == '-')) {
        size_t j = i + 4;
        const bool status_ok =
            status.empty() || std::string_view(t.data() + j, std::min(status.size(), t.size() - j)) == status;
        if (status_ok) {
          j += status.size();
          if (j >= t.size() || t[j] == ' ') {
            ++found;
            next = j;
          }
        }
      }
      i = t.find(c, next);
    }
    if (found < 2) {
      if (unchanged != nullptr && internal::IsCollapsed(*text)) {
        *unchanged = true;  // CollapseSpace would give the text itself
        return std::string();
      }
      return scan::CollapseSpace(*text);
    }
  }
  std::string out;
  out.reserve(text->size());
  bool first = true;
  size_t i = 0;
  while (i < text->size()) {
    // Copy the stretch up to the next possible reply code in one go.
    const size_t next = text->find(c[0], i);
    if (next == std::string::npos) {
      out.append(*text, i, std::string::npos);
      break;
    }
    out.append(*text, i, next - i);
    i = next;
    if (i + 4 <= text->size() && text->compare(i, 3, c) == 0 &&
        (i == 0 || (*text)[i - 1] == ' ') && ((*text)[i + 3] == ' ' || (*text)[i + 3] == '-')) {
      size_t j = i + 4;
      if (!status.empty() && text->compare(j, status.size(), status) == 0) {
        j += status.size();
      } else if (!status.empty()) {
        out.push_back((*text)[i]);
        ++i;
        continue;
      }
      if (j < text->size() && (*text)[j] != ' ') {  // not followed by a word break
        out.push_back((*text)[i]);
        ++i;
        continue;
      }
      if (first) {
        first = false;
        out.append(*text, i, j - i);
      }
      i = j;
      while (i < text->size() && (*text)[i] == ' ' && !out.empty() && out.back() == ' ') ++i;
      continue;
    }
    out.push_back((*text)[i]);
    ++i;
  }
  return scan::CollapseSpace(out);
}

// The DSN fields DsnBody reads.
enum DsnField { kFinal, kOriginal, kActual, kAction, kStatus, kRemoteMta, kDiagnostic,
                kLastAttempt, kArrival, kNumDsnFields };

// Which of them `name` is (ignoring ASCII case), or -1.
int DsnFieldOf(absl::string_view n) {
  using internal::EqualsLower;
  switch (n.size()) {
    case 6: return EqualsLower(n, "action") ? kAction : EqualsLower(n, "status") ? kStatus : -1;
    case 10: return EqualsLower(n, "remote-mta") ? kRemoteMta : -1;
    case 12: return EqualsLower(n, "arrival-date") ? kArrival : -1;
    case 15:
      return EqualsLower(n, "final-recipient") ? kFinal
             : EqualsLower(n, "diagnostic-code") ? kDiagnostic : -1;
    case 17: return EqualsLower(n, "last-attempt-date") ? kLastAttempt : -1;
    case 18:
      return EqualsLower(n, "original-recipient") ? kOriginal
             : EqualsLower(n, "x-actual-recipient") ? kActual : -1;
    default: return -1;
  }
}

// One group of DSN fields: the first value of each field DsnBody reads (as
// a header lookup would find it: unfolded, trimmed, encoded words decoded).
struct GroupFields {
  absl::string_view value[kNumDsnFields];  // "" when absent
  unsigned present = 0;                    // bit per DsnField
  bool has(DsnField f) const { return (present >> f) & 1; }
};

struct DsnGroupList {
  std::vector<GroupFields> groups;
  std::list<std::string> owned;  // values that are not views into the body
};

// Groups of DSN fields separated by blank lines; a group that repeats a
// recipient field is split there (some MTAs omit the blank lines). Only
// the fields DsnBody reads are kept (a group of other fields only is kept
// too, empty: it has no effect there).
void DsnGroups(absl::string_view body, DsnGroupList* out) {
  GroupFields cur;
  bool cur_nonempty = false;
  // The current field: name and first-line value are views into `body`;
  // only a value continued on more lines is assembled in `value`.
  absl::string_view first;
  std::string value;
  bool folded = false;
  bool have = false;
  int field = -1;  // DsnField of the current field, -1 when not read
  auto end_group = [&]() {
    if (cur_nonempty) out->groups.push_back(cur);
    cur = GroupFields();
    cur_nonempty = false;
  };
  auto append = [&](absl::string_view more) {
    if (field < 0) return;  // not kept: no need to assemble it
    if (!folded) {
      value.assign(first.data(), first.size());
      folded = true;
    }
    value.push_back(' ');
    value.append(more.data(), more.size());
  };
  auto flush_field = [&]() {
    if (!have) return;
    if ((field == kFinal && cur.has(kFinal)) || (field == kOriginal && cur.has(kOriginal))) end_group();
    cur_nonempty = true;
    if (field >= 0 && !((cur.present >> field) & 1)) {
      cur.present |= 1u << field;
      // The value stays a view into `body` unless it was continued or has
      // encoded words.
      const absl::string_view v = Trim(folded ? absl::string_view(value) : first);
      if (internal::HasEncodedWordFast(v)) {
        out->owned.push_back(mime::DecodeEncodedWords(v));
        cur.value[field] = out->owned.back();
      } else if (folded) {
        out->owned.emplace_back(v);
        cur.value[field] = out->owned.back();
      } else {
        cur.value[field] = v;
      }
    }
    have = false;
    folded = false;
  };
  size_t pos = 0;
  absl::string_view line;
  while (internal::NextLineFast(body, &pos, &line)) {
    if (Trim(line).empty()) {
      flush_field();
      end_group();
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && have) {
      if (field >= 0) append(StripReplyPrefix(Trim(line)));
      continue;
    }
    size_t colon = internal::FindChar(line, ':');
    if (colon == absl::string_view::npos || colon == 0 ||
        internal::FindChar(Trim(line.substr(0, colon)), ' ') != absl::string_view::npos) {
      if (have) append(Trim(line));  // a continuation line without indentation
      continue;
    }
    flush_field();
    field = DsnFieldOf(Trim(line.substr(0, colon)));
    first = line.substr(colon + 1);
    have = true;
  }
  flush_field();
  end_group();
}

// Replaces tags by spaces / line breaks and decodes a few entities.
std::string HtmlToText(absl::string_view html) {
  std::string out;
  out.reserve(html.size());
  size_t i = 0;
  while (i < html.size()) {
    // The text up to the next tag or entity in one copy.
    const char* const base = html.data();
    const size_t run = static_cast<size_t>(internal::FindEither(base + i, base + html.size(), '<', '&') - base);
    out.append(base + i, run - i);
    i = run;
    if (i >= html.size()) break;
    char c = html[i];
    if (c == '<') {
      size_t e = internal::FindChar(html, '>', i);
      if (e == absl::string_view::npos) break;
      // Line-breaking tags, by the first (up to) four bytes of the tag,
      // ignoring case.
      const absl::string_view tag = html.substr(i + 1, e - i - 1);
      using internal::StartsWithIgnoreCaseAscii;
      if (StartsWithIgnoreCaseAscii(tag, "br") || StartsWithIgnoreCaseAscii(tag, "/p") ||
          StartsWithIgnoreCaseAscii(tag, "/div") || StartsWithIgnoreCaseAscii(tag, "/tr") ||
          StartsWithIgnoreCaseAscii(tag, "p") || StartsWithIgnoreCaseAscii(tag, "/h") ||
          StartsWithIgnoreCaseAscii(tag, "li")) {
        out.push_back('\n');
      } else {
        out.push_back(' ');
      }
      i = e + 1;
      continue;
    }
    if (c == '&') {
      absl::string_view rest = html.substr(i, 8);
      const std::pair<absl::string_view, char> ents[] = {
          {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&nbsp;", ' '}, {"&quot;", '"'},
          {"&#39;", '\''}};
      bool done = false;
      for (const auto& [ent, ch] : ents) {
        if (internal::StartsWithIgnoreCaseAscii(rest, ent)) {
          out.push_back(ch);
          i += ent.size();
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

// A line without its "> " quoting (forwarded bounces), trimmed.
absl::string_view Unquote(absl::string_view line) {
  absl::string_view t = Trim(line);
  while (!t.empty() && t[0] == '>' && !absl::StartsWith(t, ">>>")) {
    t = internal::TrimAsciiLeft(t.substr(1));
  }
  return t;
}

// Does `l` start with the name of a header field that begins an inline
// copy of the original ("Received: ", ...; with `message_id`, "Message-ID: "
// too), ignoring case? Most lines are ruled out by their first byte.
bool StartsWithCopyHeader(absl::string_view l, bool message_id) {
  using internal::StartsWithIgnoreCaseAscii;
  if (l.size() < 10) return false;  // "received: " is the shortest
  switch (l[0] | 0x20) {  // a filter: only 'R' and 'r' give 'r', and so on
    case 'r': return StartsWithIgnoreCaseAscii(l, "received: ") || StartsWithIgnoreCaseAscii(l, "return-path: ");
    case 'd': return StartsWithIgnoreCaseAscii(l, "dkim-signature: ");
    case 'x': return StartsWithIgnoreCaseAscii(l, "x-received: ");
    case 'a': return StartsWithIgnoreCaseAscii(l, "authentication-results: ");
    case 'm': return message_id && StartsWithIgnoreCaseAscii(l, "message-id: ");
    default: return false;
  }
}

// Is this line where the copy of the original message starts? Only the
// first 128 bytes of the (trimmed) line `t` are looked at; the buffer that
// holds the line may be read up to `readable_end`.
bool IsCutoffLine(absl::string_view line, absl::string_view t, bool seen_text, const char* readable_end) {
  if (t.empty()) return false;
  // The phrases of internal/cutoff_phrases.h. Group 0: every cut-off phrase
  // names the original, a message, a copy or headers, so most lines are
  // ruled out by these four words. Group 1: phrases that start the copy on
  // any line. Group 2: phrases that start it on a ruled line ("----
  // original message ----").
  static const internal::PhraseSet* const kPhrases = [] {
    std::vector<internal::PhraseSet::Phrase> all;
    for (absl::string_view w : internal::kCutoffWords) all.push_back({w, 0});
    for (absl::string_view p : internal::kCutoffPhrases) all.push_back({p, 1});
    for (absl::string_view p : internal::kCutoffRuledPhrases) all.push_back({p, 2});
    return new internal::PhraseSet(all);
  }();
  const absl::string_view l = t.substr(0, 128);
  const bool ruled = t.size() >= 3 && (absl::StartsWith(t, "--") || absl::StartsWith(t, "==") ||
                                       absl::StartsWith(t, "__") || absl::StartsWith(t, "**"));
  // Off a ruled line only groups 0 and 1 matter: found from the words'
  // occurrences (CutoffPhrasesFound gives Find's bits 0 and 1); most lines
  // hold none (not even the first three letters of one).
  uint64_t found;
  if (ruled) {
    found = kPhrases->Find(l, /*stop_mask=*/2);
  } else {
    const size_t first = internal::FindCutoffWordStart(l, 0, readable_end);
    found = first == absl::string_view::npos ? 0 : internal::CutoffPhrasesFound(l, first, readable_end);
  }
  if ((found & 1) == 0 && !ruled) {
    return seen_text && line.size() == t.size() && StartsWithCopyHeader(l, /*message_id=*/false);
  }
  if ((found & 2) != 0) return true;
  if (ruled && (found & 4) != 0) return true;
  // A header line at column 0 after the text: the inline copy begins.
  return seen_text && line.size() == t.size() && StartsWithCopyHeader(l, /*message_id=*/true);
}

struct Text {
  // The human-readable text before the original copy: a view into a part's
  // body (which the reader's Message owns) or into the reader's html_text_.
  absl::string_view body;
  int64_t offset = 0;     // offset of the part in the raw input
};

// The header fields of the parsed parts that the reader looks at (in the
// message's own header block, an attached message's, and each part's):
// only these are unfolded and decoded by the MIME walker. Every name used
// with FindHeader / HeaderOr / a header loop on msg_.parts[*].headers
// below must be listed here.
bool IsReaderField(absl::string_view name) {
  using internal::FieldNameIs;
  switch (name.size()) {
    case 2: return FieldNameIs(name, "to") || FieldNameIs(name, "cc");
    case 4: return FieldNameIs(name, "date") || FieldNameIs(name, "from");
    case 7: return FieldNameIs(name, "subject");
    case 8: return FieldNameIs(name, "reply-to");
    case 10: return FieldNameIs(name, "message-id") || FieldNameIs(name, "precedence");
    case 11:
      return FieldNameIs(name, "return-path") || FieldNameIs(name, "in-reply-to") ||
             FieldNameIs(name, "envelope-to") || FieldNameIs(name, "x-autoreply");
    case 12: return FieldNameIs(name, "content-type") || FieldNameIs(name, "delivered-to");
    case 13: return FieldNameIs(name, "x-original-to") || FieldNameIs(name, "x-autorespond");
    case 14: return FieldNameIs(name, "auto-submitted");
    case 19: return FieldNameIs(name, "x-failed-recipients");
    case 25: return FieldNameIs(name, "content-transfer-encoding");
    default: return false;
  }
}

// The fields of the parts inside attached messages that the reader looks
// at: the original's own header block as TakeOriginal reads it (via
// FindOriginal: To, Cc, From, Message-ID), and the MIME walker's two
// fields (a forwarded report inside is walked and decoded). Every name
// read from an attached part's header list must be listed here.
bool IsAttachedField(absl::string_view name) {
  using internal::FieldNameIs;
  switch (name.size()) {
    case 2: return FieldNameIs(name, "to") || FieldNameIs(name, "cc");
    case 4: return FieldNameIs(name, "from");
    case 10: return FieldNameIs(name, "message-id");
    case 12: return FieldNameIs(name, "content-type");
    case 25: return FieldNameIs(name, "content-transfer-encoding");
    default: return false;
  }
}

// The fields of an original message's header block that TakeOriginal
// reads (the others are only counted).
bool IsOriginalField(absl::string_view name) {
  using internal::EqualsLower;
  return EqualsLower(name, "to") || EqualsLower(name, "cc") || EqualsLower(name, "from") ||
         EqualsLower(name, "message-id");
}

// The parts whose bodies the reader reads as they come from the MIME walker
// (FindText, FindOriginal, FromDsn, FromFeedback): others stay undecoded.
// text/html is read only when there is no text/plain part: FindText
// decodes it then (mime::DecodedBody).
bool IsReaderBody(absl::string_view type) {
  return type == "text/plain" || absl::StartsWith(type, "message/") || type == "text/rfc822-headers";
}

// The fields of the message's own header block that Run reads: one
// compare or two per field (by length) rather than one per name.
enum class TopField { kOther, kDate, kSubject, kFrom, kOwn };

TopField TopFieldOf(absl::string_view n) {
  // Names of a parsed header block: printable ASCII other than ':'.
  using internal::FieldNameIs;
  switch (n.size()) {
    case 2: return FieldNameIs(n, "to") ? TopField::kOwn : TopField::kOther;
    case 4:
      return FieldNameIs(n, "date") ? TopField::kDate : FieldNameIs(n, "from") ? TopField::kFrom : TopField::kOther;
    case 7: return FieldNameIs(n, "subject") ? TopField::kSubject : TopField::kOther;
    case 8: return FieldNameIs(n, "reply-to") ? TopField::kOwn : TopField::kOther;
    case 11:
      return FieldNameIs(n, "return-path") || FieldNameIs(n, "envelope-to") ? TopField::kOwn : TopField::kOther;
    case 12: return FieldNameIs(n, "delivered-to") ? TopField::kOwn : TopField::kOther;
    case 13: return FieldNameIs(n, "x-original-to") ? TopField::kOwn : TopField::kOther;
    default: return TopField::kOther;
  }
}

// The events a reader appends to: a vector whose elements past size() are
// kept for reuse. emplace_back() hands out such an element, cleared, before
// it makes a new one, so a batch that is emptied after each e-mail (the
// batch reader with a sink) reuses the events' strings, capacity and all.
class EventList {
 public:
  size_t size() const { return n_; }
  BounceEvent& operator[](size_t i) { return items_[i]; }
  const BounceEvent& operator[](size_t i) const { return items_[i]; }
  BounceEvent& emplace_back() {
    if (n_ == items_.size()) {
      ++n_;
      return items_.emplace_back();
    }
    BounceEvent& e = items_[n_++];
    e.record = 0;
    e.offset = 0;
    e.reply_code = 0;
    for (std::string* f : {&e.kind, &e.recipient, &e.time, &e.message_id, &e.enhanced_status, &e.diagnostic,
                           &e.diagnostic_type, &e.action, &e.remote_host, &e.smtp_command, &e.source_format,
                           &e.sender, &e.campaign, &e.esp_event, &e.esp_class, &e.esp_subclass}) {
      f->clear();
    }
    return e;
  }
  void push_back(BounceEvent&& e) { emplace_back() = std::move(e); }
  void pop_back() { --n_; }  // (the element stays, for reuse)
  // Fewer events (never more).
  void truncate(size_t n) { n_ = std::min(n, n_); }
  void clear() { n_ = 0; }
  void reserve(size_t n) { items_.reserve(n); }
  absl::Span<const BounceEvent> span() const { return absl::MakeConstSpan(items_.data(), n_); }
  // The events as a vector; the list is left empty.
  std::vector<BounceEvent> Release() {
    items_.resize(n_);
    n_ = 0;
    return std::move(items_);
  }

 private:
  std::vector<BounceEvent> items_;
  size_t n_ = 0;
};

class EmailReader {
 public:
  explicit EmailReader(const EmailParseOptions& options) : options_(options) {}

  // Appends the e-mail's events to `*events`, which may already hold other
  // e-mails' events (the batch reader appends straight into its output):
  // this e-mail's are those from index first_ on. On error none is added.
  // One reader reads a batch: its members keep their allocations from one
  // e-mail to the next (Reset clears them).
  absl::Status Run(absl::string_view raw, EventList* events) {
    Reset(raw);
    first_ = events->size();
    if (static_cast<int64_t>(raw_.size()) > options_.max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat("e-mail of ", raw_.size(), " bytes is larger than the limit of ",
                       options_.max_bytes, " bytes (EmailParseOptions.max_bytes)"));
    }
    mime::MimeOptions mo;
    mo.max_depth = options_.max_depth;
    mo.decode_field = &IsReaderField;
    mo.decode_attached_field = &IsAttachedField;
    mo.list_only_decoded_fields = true;
    mo.decode_part = &IsReaderBody;
    absl::Status parsed = mime::ParseInto(raw_, mo, &msg_);
    if (!parsed.ok()) return parsed;
    const HeaderList& top = msg_.parts[0].headers;
    // One pass over the header block: the first Date and Subject, and the
    // own addresses (the set does not depend on the order; From's first
    // address is the first one found).
    bool have_date = false, have_subject = false;
    absl::string_view date;
    for (const auto& h : top) {
      const TopField kind = TopFieldOf(h.name);
      if (kind == TopField::kDate && !have_date) {
        have_date = true;
        date = h.value;
        continue;
      }
      if (kind == TopField::kSubject && !have_subject) {
        have_subject = true;
        subject_.assign(h.value.data(), h.value.size());
        continue;
      }
      const bool is_from = kind == TopField::kFrom;
      if (!is_from && kind != TopField::kOwn) continue;
      EachAddress(h.value, false, &addr_scratch_, [&](const std::string& a) {
        if (is_from && from_.empty()) from_ = a;
        AddOwn(a);
      });
    }
    CleanDateInto(date, &date_);
    FindOriginal();
    FindText();

    FromDsn(events);
    if (None(*events)) FromEspJson(events);
    if (None(*events)) FromFeedback(events);
    if (None(*events)) FromAutoReply(events);
    if (None(*events)) FromText(events);
    if (None(*events)) {
      if (msg_.truncated) {
        return absl::DataLossError(
            "truncated MIME (a multipart body has no closing boundary) and no recipient found");
      }
      return absl::NotFoundError(
          "no failed recipient, feedback report or auto-reply found in this e-mail");
    }
    if (events->size() - first_ > static_cast<size_t>(std::max(options_.max_recipients, 0))) {
      events->truncate(first_ + static_cast<size_t>(std::max(options_.max_recipients, 0)));
    }
    for (size_t i = first_; i < events->size(); ++i) Finish(&(*events)[i]);
    return absl::OkStatus();
  }

  // The values this e-mail's events share (RecordFields), after Run.
  void AddShared(RecordFields* out) const { out->Add(orig_message_id_, date_, orig_from_); }
  // The e-mail's events to `sink`, with those values.
  void GiveShared(absl::Span<const BounceEvent> events, EmailEventSink* sink) const {
    sink->Take(events, orig_message_id_, date_, orig_from_);
  }

 private:
  // Every member back to its initial state, capacity kept (msg_ is reset
  // by mime::ParseInto).
  void Reset(absl::string_view raw) {
    raw_ = raw;
    facts_.valid = false;
    date_.clear();
    subject_.clear();
    from_.clear();
    own_.clear();
    own_count_ = 0;
    have_original_ = false;
    orig_message_id_.clear();
    orig_from_.clear();
    orig_to_.clear();
    orig_to_fields_.clear();
    orig_to_done_ = false;
    text_ = Text();
    html_text_.clear();
    lines_.clear();
    leading_done_ = false;
    addrs_.clear();
    addr_index_.clear();
    first_line_.clear();
    last_line_.clear();
    line_addr_.clear();
    next_same_.clear();
    whole_done_ = false;
    whole_.clear();
    block_valid_ = false;
  }

  // No event of this e-mail yet.
  bool None(const EventList& events) const { return events.size() == first_; }
  size_t first_ = 0;  // index of this e-mail's first event in Run's vector

  void Finish(BounceEvent* e) {
    if (!options_.share_record_fields) {
      if (e->message_id.empty()) e->message_id = orig_message_id_;
      if (e->time.empty()) e->time = date_;
      if (e->sender.empty()) e->sender = orig_from_;
    }
    // Recipients of one e-mail often share one diagnostic text (the whole
    // body on the heuristic path): scan each distinct text once.
    TextFacts& f = facts_;
    if (!f.valid || f.Raw() != e->diagnostic) {
      f.valid = true;
      f.have_command = false;
      f.command.clear();
      f.have_host = false;
      f.host.clear();
      const std::string& raw = e->diagnostic;
      scan::FindCodes(raw, &f.code, &f.status);
      // The cleaned text goes straight into this event; later events with
      // the same text copy it from here. Most texts come out as they went
      // in (no code repeated, spaces already collapsed, short enough):
      // then the event's text is the raw one too and no copy is kept.
      bool unchanged = f.code == 0;
      std::string cleaned;
      if (!unchanged) cleaned = RemoveRepeatedReply(&raw, f.code, f.status, &unchanged);
      if (unchanged && raw.size() <= 4000) {
        f.raw_in_event = true;
      } else {
        f.raw_in_event = false;
        if (unchanged) {
          f.raw = raw;  // kept whole; the event's copy is cut below
        } else {
          f.raw = std::move(e->diagnostic);
          e->diagnostic = std::move(cleaned);
        }
        if (e->diagnostic.size() > 4000) e->diagnostic.resize(4000);
      }
      f.cleaned_in = e;
    } else {
      e->diagnostic = f.cleaned_in->diagnostic;
    }
    if (e->reply_code == 0) e->reply_code = f.code;
    if (e->enhanced_status.empty()) e->enhanced_status = f.status;
    if (e->smtp_command.empty()) {
      if (!f.have_command) {
        f.command = scan::FindSmtpCommand(f.Raw());
        f.have_command = true;
      }
      e->smtp_command = f.command;
    }
    if (e->remote_host.empty()) {
      if (!f.have_host) {
        f.host = scan::FindRemoteHost(f.Raw());
        f.have_host = true;
      }
      e->remote_host = f.host;
    }
  }

  // What Finish() derives from one diagnostic text.
  struct TextFacts {
    bool valid = false;
    // The raw text: the cleaned one itself (raw_in_event), or `raw`.
    absl::string_view Raw() const {
      return raw_in_event ? absl::string_view(cleaned_in->diagnostic) : absl::string_view(raw);
    }
    bool raw_in_event = false;
    std::string raw;
    int code = 0;
    std::string status;
    // The event of this e-mail that holds the cleaned text (Run finishes an
    // e-mail's events in one loop over a vector that does not change).
    const BounceEvent* cleaned_in = nullptr;
    bool have_command = false;
    std::string command;
    bool have_host = false;
    std::string host;
  };
  TextFacts facts_;

  // The original message: an attached message/rfc822 (its headers),
  // text/rfc822-headers, or the inline copy after the cutoff line.
  void FindOriginal() {
    for (size_t i = 0; i < msg_.parts.size(); ++i) {
      const Part& p = msg_.parts[i];
      const HeaderList* h = nullptr;
      // Header blocks parsed here go to the reader's kept list.
      HeaderList& parsed = orig_headers_;
      if (absl::string_view(p.content_type) == "message/rfc822" || absl::string_view(p.content_type) == "message/global") {
        if (i + 1 < msg_.parts.size() && msg_.parts[i + 1].parent == static_cast<int>(i)) {
          h = &msg_.parts[i + 1].headers;
        } else {
          size_t bs = 0;
          mime::ParseHeadersInto(p.body, &bs, &IsOriginalField, &parsed, &folded_);
          h = &parsed;
        }
      } else if (absl::string_view(p.content_type) == "text/rfc822-headers" ||
                 absl::string_view(p.content_type) == "message/rfc822-headers" ||
                 absl::string_view(p.content_type) == "message/global-headers") {
        size_t bs = 0;
        mime::ParseHeadersInto(Trim(p.body), &bs, &IsOriginalField, &parsed, &folded_);
        h = &parsed;
      }
      if (h == nullptr || h->empty()) continue;
      TakeOriginal(*h);
      return;
    }
  }

  void TakeOriginal(const HeaderList& h) {
    if (have_original_) return;
    have_original_ = true;
    // One pass: the first Message-ID and From, every To and Cc.
    bool have_id = false, have_from = false;
    absl::string_view id, from;
    for (const auto& x : h) {
      const absl::string_view n = x.name;
      if (n.size() == 2 && (internal::EqualsLower(n, "to") || internal::EqualsLower(n, "cc"))) {
        orig_to_fields_.push_back(x.value);  // its addresses: OrigTo(), when asked
      } else if (!have_from && n.size() == 4 && internal::EqualsLower(n, "from")) {
        have_from = true;
        from = x.value;
      } else if (!have_id && n.size() == 10 && internal::EqualsLower(n, "message-id")) {
        have_id = true;
        id = x.value;
      }
    }
    const absl::string_view trimmed_id = Trim(id);
    orig_message_id_.assign(trimmed_id.data(), trimmed_id.size());
    FirstAddressInto(from, /*allow_dotless=*/false, &orig_from_);
  }

  void FindText() {
    const Part* chosen = nullptr;
    const Part* html = nullptr;
    for (const Part& p : msg_.parts) {
      if (p.in_attached) continue;
      if (absl::string_view(p.content_type) == "text/plain" && chosen == nullptr && !Trim(p.body).empty()) {
        chosen = &p;
      }
      if (absl::string_view(p.content_type) == "text/html" && html == nullptr) html = &p;
    }
    absl::string_view b;
    if (chosen != nullptr) {
      b = chosen->body;
      text_.offset = chosen->offset;
    } else if (html != nullptr) {
      std::string decoded;
      html_text_ = HtmlToText(mime::DecodedBody(*html, &decoded));
      b = html_text_;
      text_.offset = html->offset;
    } else {
      return;
    }
    // Cut at the start of the original message copy.
    // Most texts: one allocation for their lines (capped: a long text grows
    // as usual past 4096 lines).
    lines_.reserve(std::min<size_t>(b.size() / 40 + 16, 4096));
    size_t pos = 0;
    absl::string_view line;
    bool seen_text = false;
    size_t cut = b.size();
    absl::string_view rest;
    const char* const b_end = b.data() + b.size();
    while (true) {
      size_t line_start = pos;
      if (!internal::NextLineFast(b, &pos, &line)) break;
      const absl::string_view t = Trim(line);
      if (IsCutoffLine(line, t, seen_text, b_end)) {
        cut = line_start;
        rest = b.substr(pos);
        break;
      }
      // The lines of the text, kept for the recipient scans (the same lines
      // as a walk over text_.body: every one ends before the cut).
      lines_.push_back(line);
      if (!seen_text && !t.empty()) seen_text = true;
    }
    text_.body = b.substr(0, cut);
    if (!have_original_ && !rest.empty()) {
      absl::string_view r = rest;
      // Skip blank lines before the inline header block.
      size_t p2 = 0;
      absl::string_view l2;
      size_t start = 0;
      while (internal::NextLineFast(r, &p2, &l2)) {
        if (!Trim(l2).empty()) break;
        start = p2;
      }
      size_t bs = 0;
      HeaderList& h = orig_headers_;
      mime::ParseHeadersInto(r.substr(start), &bs, &IsOriginalField, &h, &folded_);
      if (h.size() >= 2) TakeOriginal(h);
    }
  }

  // ------------------------------------------------------------------ DSN

  void FromDsn(EventList* events) {
    // Delivery-status parts of the bounce itself; failing those, of an
    // attached message that is itself a bounce (forwarded DSNs).
    for (int pass = 0; pass < 2 && None(*events); ++pass) {
      for (const Part& p : msg_.parts) {
        if (p.in_attached != (pass == 1)) continue;
        if (absl::string_view(p.content_type) != "message/delivery-status" &&
            absl::string_view(p.content_type) != "message/global-delivery-status") {
          continue;
        }
        DsnBody(p.body, p.offset, pass == 0 ? "dsn" : "dsn-attached", events);
      }
    }
    if (!None(*events)) return;
    // DSN fields written inline in the text (no delivery-status part).
    const absl::string_view body = text_.body;
    size_t fr = FindLower(body, "final-recipient:");
    if (fr != absl::string_view::npos && (fr == 0 || body[fr - 1] == '\n' || body[fr - 1] == '\r')) {
      // Include the per-message fields just above, if any.
      size_t start = RFindLower(body, "reporting-mta:", fr);
      if (start == absl::string_view::npos) start = fr;
      DsnBody(absl::string_view(text_.body).substr(start), text_.offset, "dsn-inline", events);
    }
  }

  void DsnBody(absl::string_view body, int64_t offset, absl::string_view format,
               EventList* events) {
    // The reader's list: its vector keeps its capacity from one e-mail to
    // the next.
    DsnGroupList& list = dsn_groups_;
    list.groups.clear();
    list.owned.clear();
    DsnGroups(body, &list);
    // Arrival-Date of the per-message groups seen so far (the first one).
    bool have_arrival = false;
    absl::string_view arrival;
    for (const GroupFields& f : list.groups) {
      if (!f.has(kFinal) && !f.has(kOriginal)) {
        if (!have_arrival && f.has(kArrival)) {
          have_arrival = true;
          arrival = f.value[kArrival];
        }
        continue;
      }
      // Built in place in the output (no move of a finished event); taken
      // back out when it names no recipient.
      BounceEvent& e = events->emplace_back();
      e.offset = offset;
      e.source_format.assign(format.data(), format.size());
      // (The fields are written into the event's strings: a reused event
      // keeps their buffers.)
      AddressOfFieldInto(f.value[kFinal], &e.recipient);
      // A final recipient written as a source route ("@relay:user@host")
      // names less than the original one.
      const absl::string_view final_raw = f.value[kFinal];
      size_t semi = internal::FindChar(final_raw, ';');
      bool routed = absl::StartsWith(
          Trim(semi == std::string::npos ? absl::string_view(final_raw)
                                         : absl::string_view(final_raw).substr(semi + 1)),
          "@");
      if (e.recipient.empty() || routed) {
        std::string original = AddressOfField(f.value[kOriginal]);
        if (!original.empty()) e.recipient = std::move(original);
      }
      if (e.recipient.empty()) AddressOfFieldInto(f.value[kActual], &e.recipient);
      if (e.recipient.empty()) {
        events->pop_back();
        continue;
      }
      internal::AssignLower(Trim(f.value[kAction]), &e.action);
      // "failed (bad destination mailbox address)" -> "failed". (FindEither:
      // std::string::find_first_of calls memchr on the set for every byte.)
      e.action.resize(static_cast<size_t>(
          internal::FindEither(e.action.data(), e.action.data() + e.action.size(), ' ', '(') - e.action.data()));
      e.enhanced_status = scan::FindEnhancedStatus(Trim(f.value[kStatus]));
      internal::AssignLower(TypedValueView(f.value[kRemoteMta]).second, &e.remote_host);
      // "mx.example.jp [192.0.2.1]" -> host name only
      e.remote_host.resize(static_cast<size_t>(
          internal::FindEither(e.remote_host.data(), e.remote_host.data() + e.remote_host.size(), ' ', '[') -
          e.remote_host.data()));
      const auto [dtype, dtext] = TypedValueView(f.value[kDiagnostic]);
      internal::AssignLower(dtype, &e.diagnostic_type);
      scan::CollapseSpaceInto(dtext, &e.diagnostic);
      absl::string_view when = f.value[kLastAttempt];
      if (when.empty()) when = arrival;
      CleanDateInto(when, &e.time);
      if (absl::string_view(e.action) == "delayed") {
        e.kind = "delay";
      } else if (absl::string_view(e.action) == "delivered" || absl::string_view(e.action) == "relayed" || absl::string_view(e.action) == "expanded") {
        e.kind = "delivered";
      } else {
        e.kind = "bounce";
      }
      EnrichFromText(&e);
      if (e.diagnostic.empty() || (e.diagnostic.size() < 12 && scan::FindReplyCode(e.diagnostic) == 0 &&
                                   scan::FindEnhancedStatus(e.diagnostic).empty())) {
        const absl::string_view from_text = DiagnosticFor(e.recipient);
        if (!from_text.empty()) {
          if (e.diagnostic.empty()) {
            e.diagnostic.assign(from_text.data(), from_text.size());
          } else {
            e.diagnostic.push_back(' ');
            e.diagnostic.append(from_text.data(), from_text.size());
          }
        }
      }
    }
  }

  // The human-readable part often says more than the Diagnostic-Code field:
  // Postfix adds "host X said: ... (in reply to RCPT TO command)", Sendmail
  // keeps the whole multi-line reply in its session transcript ("<<< 552-...").
  void EnrichFromText(BounceEvent* e) {
    LeadingAddresses();
    // (The cheap tests first: the scans are the same in either order.)
    const std::string& block = BlockFor(e->recipient);
    if (block.size() > e->diagnostic.size() && scan::FindReplyCode(block) != 0) {
      e->diagnostic = block;
      return;
    }
    if (e->diagnostic.size() < 4 || e->diagnostic[3] != '-') return;
    int code = scan::FindReplyCode(e->diagnostic);
    if (code == 0) return;
    const std::string prefix = absl::StrCat("<<< ", code);
    std::string joined;
    for (absl::string_view line : lines_) {
      if (!absl::StartsWith(line, prefix)) {
        if (!joined.empty()) break;
        continue;
      }
      absl::string_view rest = StripReplyPrefix(Trim(line.substr(4)));
      absl::StrAppend(&joined, joined.empty() ? "" : " ", Trim(rest));
    }
    if (!joined.empty()) {
      std::string status = scan::FindEnhancedStatus(e->diagnostic.substr(0, 16));
      e->diagnostic = status.empty() ? absl::StrCat(code, " ", joined)
                                     : absl::StrCat(code, " ", status, " ", joined);
    }
  }

  // ESP notifications sent by e-mail (Amazon SES over SNS e-mail: the body
  // is the JSON notification).
  void FromEspJson(EventList* events) {
    absl::string_view t = Trim(text_.body);
    if (t.empty() || t[0] != '{') return;
    size_t end = t.rfind('}');
    if (end == absl::string_view::npos) return;
    int64_t skipped = 0;
    auto r = ParseEspEvent(t.substr(0, end + 1), "auto", &skipped);
    if (!r.ok()) return;
    for (BounceEvent& e : *r) {
      e.offset = text_.offset;
      e.source_format = absl::StrCat(e.source_format, "-email");
      events->push_back(std::move(e));
    }
  }

  // ------------------------------------------------------------ feedback

  void FromFeedback(EventList* events) {
    const Part* report = nullptr;
    for (const Part& p : msg_.parts) {
      if (!p.in_attached && absl::string_view(p.content_type) == "message/feedback-report") {
        report = &p;
        break;
      }
    }
    bool by_text = false;
    if (report == nullptr) {
      const absl::string_view l = absl::string_view(text_.body).substr(0, 2000);
      const absl::string_view s = subject_;
      // One pass over each (was four case-insensitive searches).
      static const internal::PhraseSet* const kTextWords =
          new internal::PhraseSet{{"abuse report", 0}, {"feedback-type:", 0}};
      static const internal::PhraseSet* const kSubjectWords =
          new internal::PhraseSet{{"abuse report", 0}, {"complaint about", 0}};
      by_text = kTextWords->Find(l, /*stop_mask=*/1) != 0 || kSubjectWords->Find(s, /*stop_mask=*/1) != 0;
      if (!by_text && msg_.parts[0].report_type != "feedback-report") return;
    }
    HeaderList fields;
    if (report != nullptr) {
      size_t bs = 0;
      fields = mime::ParseHeaders(Trim(report->body), &bs);
    }
    std::vector<std::string> recips;
    for (const auto& h : fields) {
      if (internal::EqualsIgnoreCaseAscii(h.name, "original-rcpt-to") || internal::EqualsIgnoreCaseAscii(h.name, "removal-recipient")) {
        std::string a = AddressOfField(h.value);
        if (!a.empty()) recips.push_back(a);
      }
    }
    if (recips.empty()) recips = OrigTo();
    if (recips.empty()) return;
    std::string diag = scan::CollapseSpace(text_.body);
    for (const std::string& r : recips) {
      BounceEvent& e = events->emplace_back();  // in place (nothing below adds an event)
      e.kind = "complaint";
      e.recipient = r;
      e.offset = report ? report->offset : text_.offset;
      e.source_format = report ? "arf" : "arf-text";
      e.diagnostic = diag;
      e.diagnostic_type = Lower(Trim(HeaderOr(fields, "feedback-type")));
      e.remote_host = std::string(Trim(HeaderOr(fields, "source-ip")));
      absl::string_view when = HeaderOr(fields, "arrival-date");
      if (when.empty()) when = HeaderOr(fields, "received-date");
      e.time = CleanDate(when);
      if (e.remote_host.empty()) {
        // "... received from IP address 192.0.2.1 ..." in the text.
        std::string l = Lower(diag);
        size_t f = l.find(" from ip ");
        if (f == std::string::npos) f = l.find(" from ");
        if (f != std::string::npos) {
          size_t s = diag.find_first_of("0123456789", f);
          if (s != std::string::npos && s < f + 24) {
            size_t t = s;
            while (t < diag.size() && (absl::ascii_isdigit(diag[t]) || diag[t] == '.')) ++t;
            e.remote_host = diag.substr(s, t - s);
            while (!e.remote_host.empty() && e.remote_host.back() == '.') e.remote_host.pop_back();
          }
        }
      }
    }
  }

  // ---------------------------------------------------------- auto-reply

  void FromAutoReply(EventList* events) {
    const HeaderList& top = msg_.parts[0].headers;
    if (from_.empty() || IsSystemLocal(from_)) return;
    std::string as = Lower(HeaderOr(top, "auto-submitted"));
    std::string prec = Lower(HeaderOr(top, "precedence"));
    std::string subj = Lower(subject_);
    bool yes = absl::StartsWith(as, "auto-replied") ||
               mime::FindHeader(top, "x-autoreply").has_value() ||
               mime::FindHeader(top, "x-autorespond").has_value() ||
               prec == "auto_reply" ||
               absl::StartsWith(subj, "auto:") || absl::StartsWith(subj, "automatic reply") ||
               absl::StartsWith(subj, "autoreply") || absl::StartsWith(subj, "auto-reply") ||
               absl::StartsWith(subj, "auto reply") || absl::StrContains(subj, "out of office") ||
               absl::StrContains(subj, "out of the office") ||
               absl::StartsWith(subj, "away from") || absl::StartsWith(subj, "vacation");
    if (!yes) return;
    BounceEvent& e = events->emplace_back();
    e.kind = "auto_reply";
    e.recipient = from_;
    e.offset = text_.offset;
    e.source_format = "rfc3834";
    e.diagnostic = scan::CollapseSpace(text_.body);
    e.message_id = Trim(HeaderOr(top, "in-reply-to")).empty()
                       ? std::string()
                       : std::string(Trim(HeaderOr(top, "in-reply-to")));
  }

  // ------------------------------------------------------------ heuristic

  // Does the text (or headers) say this is a delivery failure?
  bool LooksLikeBounce() const {
    if (!from_.empty() && IsSystemLocal(from_)) return true;
    const absl::string_view body = absl::string_view(text_.body).substr(0, 4000);
    // Any of these words, in one pass over the subject and the body.
    static const internal::PhraseSet* const kWords = new internal::PhraseSet{
        {"undeliver", 0}, {"not be delivered", 0}, {"could not deliver", 0}, {"delivery fail", 0},
        {"failure notice", 0}, {"delivery status", 0}, {"returned mail", 0}, {"unable to deliver", 0},
        {"permanent error", 0}, {"permanent failure", 0}, {"failed permanently", 0}, {"mail delivery", 0},
        {"delivery has failed", 0}, {"not delivered", 0}, {"rejected", 0}, {"user unknown", 0},
        {"does not exist", 0}, {"delivery problem", 0}, {"non remis", 0}, {"failed", 0}, {"error", 0}};
    if (kWords->Find(subject_, /*stop_mask=*/1) != 0 || kWords->Find(body, /*stop_mask=*/1) != 0) return true;
    return mime::FindHeader(msg_.parts[0].headers, "x-failed-recipients").has_value();
  }

  // The e-mail's own addresses (its From, To, Return-Path, ...): usually a
  // handful, kept in strings reused from one e-mail to the next and
  // compared one by one; past kOwnListed also in a hash set.
  static constexpr size_t kOwnListed = 16;
  void AddOwn(const std::string& a) {
    if (own_count_ < own_list_.size()) {
      own_list_[own_count_].assign(a);
    } else {
      own_list_.push_back(a);
    }
    ++own_count_;
    if (own_count_ == kOwnListed + 1) {
      own_.insert(own_list_.begin(), own_list_.begin() + static_cast<ptrdiff_t>(own_count_));  // (with `a`)
    } else if (own_count_ > kOwnListed) {
      own_.insert(a);
    }
  }
  bool Own(const std::string& a) const {
    if (own_count_ > kOwnListed) return own_.contains(a) || IsSystemLocal(a);
    for (size_t i = 0; i < own_count_; ++i) {
      if (own_list_[i] == a) return true;
    }
    return IsSystemLocal(a);
  }

  // Lines of the text that begin with an address (optionally in <> or
  // quotes, or after "To:"/"RCPT TO:"), in order, deduplicated.
  // Addresses at the start of lines of the text (optionally in <> or
  // quotes, or after "To:"/"RCPT TO:"), in order, deduplicated. Worked out
  // once (the text does not change) into addrs_ / line_addr_ / next_same_.
  const std::vector<std::string>& LeadingAddresses() {
    if (leading_done_) return addrs_;
    leading_done_ = true;
    std::string& addr = addr_scratch_;
    line_addr_.assign(lines_.size(), -1);
    next_same_.assign(lines_.size(), -1);
    // A line names an address only when it holds an '@': the next '@' of
    // the text is looked for once (memchr), and the lines before it are
    // skipped with one compare each. (lines_ are views into text_.body, in
    // order, so each search starts past the previous one: one pass.)
    const char* const text_end = text_.body.data() + text_.body.size();
    auto find_at = [text_end](const char* from) {
      const void* f = std::memchr(from, '@', static_cast<size_t>(text_end - from));
      return f == nullptr ? text_end : static_cast<const char*>(f);
    };
    const char* next_at = lines_.empty() ? text_end : find_at(lines_[0].data());
    for (size_t i = 0; i < lines_.size(); ++i) {
      const char* const line_start = lines_[i].data();
      if (next_at < line_start) next_at = find_at(line_start);
      if (next_at >= line_start + lines_[i].size()) continue;
      absl::string_view t = internal::TrimAsciiLeft(lines_[i]);
      while (!t.empty() && (t[0] == '<' || t[0] == '"' || t[0] == '\'' || t[0] == '*' ||
                            t[0] == '-' || t[0] == '>' || t[0] == ' ' || t[0] == '\t')) {
        t.remove_prefix(1);
      }
      if (t.size() >= 7 && (t[0] | 0x20) == 'm' && internal::EqualsLower(t.substr(0, 7), "mailto:")) {
        t.remove_prefix(7);
      }
      // The first '@' must come within 128 bytes, after local-part bytes
      // only: scan those (not the whole line) and stop at anything else.
      size_t at = 0;
      const size_t limit = std::min<size_t>(t.size(), 129);
      while (at < limit && internal::IsLocalCharFast(t[at])) ++at;
      if (at == 0 || at >= limit || t[at] != '@') continue;
      if (!AddressAtStart(t.substr(0, std::min<size_t>(t.size(), at + 260)), at, &addr)) continue;
      if (Own(addr) || IsIdLike(addr)) continue;
      auto [it, added] = addr_index_.try_emplace(addr, static_cast<int>(addrs_.size()));
      const int k = it->second;
      if (added) {
        addrs_.push_back(addr);
        first_line_.push_back(static_cast<int>(i));
        last_line_.push_back(static_cast<int>(i));
      } else {
        next_same_[last_line_[k]] = static_cast<int>(i);
        last_line_[k] = static_cast<int>(i);
      }
      line_addr_[i] = k;
    }
    return addrs_;
  }

  // The text about `recipient`: the rest of each line that names it, and
  // the lines below until a blank line or the next recipient line.
  // ComputeBlockInto, kept for the last recipient asked about: DsnBody asks
  // twice for a recipient whose Diagnostic-Code says little (EnrichFromText,
  // then DiagnosticFor). Only after LeadingAddresses, on which it depends.
  const std::string& BlockFor(const std::string& recipient) {
    if (!block_valid_ || block_recipient_ != recipient) {
      ComputeBlockInto(recipient, &block_);
      block_recipient_ = recipient;
      block_valid_ = true;
    }
    return block_;
  }

  // Into `*out` (cleared first; a member, whose capacity is kept from one
  // e-mail to the next, as is that of the per-line scratch).
  void ComputeBlockInto(const std::string& recipient, std::string* out_string) {
    std::string& out = *out_string;
    out.clear();
    auto it = addr_index_.find(recipient);
    if (it == addr_index_.end()) return;
    for (int li = first_line_[it->second]; li >= 0; li = next_same_[li]) {
      const size_t i = static_cast<size_t>(li);
      absl::string_view line = lines_[i];
      size_t p = FindLower(line, recipient);
      absl::string_view rest =
          p == absl::string_view::npos ? absl::string_view() : line.substr(p + recipient.size());
      // Drop "<mailto:...>" echoes and punctuation after the address.
      if (internal::StartsWithIgnoreCaseAscii(rest, "<mailto:")) {
        size_t gt = rest.find('>');
        rest = gt == absl::string_view::npos ? absl::string_view() : rest.substr(gt + 1);
      }
      while (!rest.empty() && (rest[0] == '>' || rest[0] == ':' || rest[0] == ' ' ||
                               rest[0] == '"' || rest[0] == '\'' || rest[0] == ',' ||
                               rest[0] == '\t')) {
        rest.remove_prefix(1);
      }
      std::string& block = line_block_;
      block.assign(rest.data(), rest.size());
      // Whether `block` holds a reply code, kept up to date as lines are
      // added: a code never straddles the joining space, so the block has
      // one when the old block or the new line has one.
      bool has_code = scan::FindReplyCode(block) != 0;
      for (size_t j = i + 1; j < lines_.size(); ++j) {
        absl::string_view next = Unquote(lines_[j]);
        if (next.empty() || line_addr_[j] >= 0) break;
        if (has_code) next = StripReplyPrefix(next);
        block.push_back(' ');
        block.append(next.data(), next.size());
        if (!has_code) has_code = scan::FindReplyCode(next) != 0;
      }
      if (!internal::IsCollapsed(block)) block = scan::CollapseSpace(block);  // (no copy when it would not change)
      if (!block.empty()) {
        if (!out.empty()) out.push_back(' ');
        out.append(block);
      }
    }
  }

  // The whole text without the lines that only name a recipient.
  const std::string& WholeText() {
    if (whole_done_) return whole_;
    whole_done_ = true;
    std::string& out = whole_scratch_;
    out.clear();
    out.reserve(text_.body.size() + 1);  // each line and a space: at most the text and one byte
    for (size_t i = 0; i < lines_.size(); ++i) {
      absl::string_view t = Trim(lines_[i]);
      if (line_addr_[i] >= 0 && t.size() <= addrs_[line_addr_[i]].size() + 4) continue;
      out.append(t.data(), t.size());
      out.push_back(' ');
    }
    whole_ = scan::CollapseSpace(out);
    return whole_;
  }

  // A view into the reader's buffers, valid until the next call.
  absl::string_view DiagnosticFor(const std::string& recipient) {
    LeadingAddresses();
    // The kept block when it is this recipient's (DsnBody); otherwise one
    // of its own, without keeping it (FromText asks once per recipient).
    const bool kept = block_valid_ && block_recipient_ == recipient;
    if (!kept) ComputeBlockInto(recipient, &other_block_);
    const absl::string_view block = kept ? absl::string_view(block_) : absl::string_view(other_block_);
    // (The length test first, as in DsnBody and EnrichFromText: the same
    // outcome, without the scans for a long block.)
    if (!block.empty() &&
        (block.size() >= 24 || scan::FindReplyCode(block) != 0 || !scan::FindEnhancedStatus(block).empty())) {
      return block;
    }
    return WholeText();
  }

  void FromText(EventList* events) {
    if (text_.body.empty() && OrigTo().empty()) return;
    if (!LooksLikeBounce()) return;
    // The recipients: a list the reader keeps (LeadingAddresses, the
    // original's To) is used where it stands; `found` holds those worked
    // out here.
    std::vector<std::string> found;
    const std::vector<std::string>* recips = &LeadingAddresses();
    const HeaderList& top = msg_.parts[0].headers;
    absl::string_view how = "heuristic";
    if (recips->empty()) {
      for (const auto& h : top) {
        if (!internal::EqualsIgnoreCaseAscii(h.name, "x-failed-recipients")) continue;
        for (auto& a : scan::FindAddresses(h.value, true)) found.push_back(a.address);
      }
      recips = &found;
    }
    if (recips->empty()) {
      absl::flat_hash_set<std::string> seen;
      for (auto& a : scan::FindAddresses(text_.body)) {
        if (Own(a.address) || a.address == orig_from_) continue;
        if (seen.insert(a.address).second) found.push_back(a.address);
      }
      // Addresses in prose are less certain: prefer the original's To when
      // it is among them or when the text names none.
      if (!OrigTo().empty()) {
        const absl::flat_hash_set<absl::string_view> to(orig_to_.begin(), orig_to_.end());
        std::vector<std::string> both;
        for (auto& r : found) {
          if (to.contains(r)) both.push_back(r);
        }
        if (!both.empty()) found = std::move(both);
      }
    }
    if (recips->empty()) {
      recips = &OrigTo();
      how = "heuristic-original-to";
    }
    if (recips->empty()) return;
    const absl::string_view body = text_.body;
    static const internal::PhraseSet* const kDelayed = new internal::PhraseSet{
        {"will continue trying", 0}, {"will keep trying", 0}, {"still trying", 0},
        {"will be retried", 0}, {"will retry", 0}, {"has been delayed", 0},
        {"delivery delayed", 0}, {"not yet been delivered", 0}, {"deferred:", 0}};
    const bool delayed = kDelayed->Find(body, /*stop_mask=*/1) != 0;
    for (const std::string& r : *recips) {
      BounceEvent& e = events->emplace_back();  // in place (DiagnosticFor adds no event)
      e.kind = delayed ? "delay" : "bounce";
      e.action = delayed ? "delayed" : "failed";
      e.recipient = r;
      e.offset = text_.offset;
      e.source_format.assign(how.data(), how.size());
      const absl::string_view d = DiagnosticFor(r);
      e.diagnostic.assign(d.data(), d.size());
    }
  }

  absl::string_view raw_;
  const EmailParseOptions& options_;
  Message msg_;
  std::string date_, subject_, from_;
  std::vector<std::string> own_list_;  // the first own_count_ are this e-mail's
  size_t own_count_ = 0;
  absl::flat_hash_set<std::string> own_;  // all of them, once there are more than kOwnListed
  bool have_original_ = false;
  std::string orig_message_id_, orig_from_;
  // The original's To and Cc addresses (OrigTo), worked out from their
  // fields' values (views into msg_ or orig_headers_) only when a reader
  // asks: most e-mails are read without them.
  const std::vector<std::string>& OrigTo() {
    if (!orig_to_done_) {
      orig_to_done_ = true;
      for (absl::string_view v : orig_to_fields_) {
        EachAddress(v, false, &addr_scratch_, [&](const std::string& a) { orig_to_.push_back(a); });
      }
    }
    return orig_to_;
  }
  std::vector<std::string> orig_to_;
  std::vector<absl::string_view> orig_to_fields_;
  bool orig_to_done_ = false;
  Text text_;
  std::string html_text_;
  std::vector<absl::string_view> lines_;  // of text_.body, filled by FindText
  // LeadingAddresses(): the distinct addresses, in order of their first
  // line; per address its first and last line; per line the address it
  // starts with (index into addrs_, -1: none) and the next line with the
  // same address (-1: none).
  bool leading_done_ = false;
  std::vector<std::string> addrs_;
  absl::flat_hash_map<std::string, int> addr_index_;
  std::vector<int> first_line_, last_line_;
  std::vector<int> line_addr_, next_same_;
  bool whole_done_ = false;
  std::string whole_;
  DsnGroupList dsn_groups_;  // DsnBody's
  std::string addr_scratch_;  // an address being looked at (EachAddress, LeadingAddresses)
  // A header block of the original parsed by the reader itself (FindOriginal,
  // FindText; TakeOriginal copies what it keeps), and the parser's buffer.
  HeaderList orig_headers_;
  std::string folded_;
  std::string line_block_, other_block_, whole_scratch_;  // ComputeBlockInto's, DiagnosticFor's, WholeText's
  bool block_valid_ = false;  // BlockFor's cache
  std::string block_recipient_, block_;
};

std::string CodeName(absl::StatusCode c) { return absl::StatusCodeToString(c); }

}  // namespace

absl::StatusOr<std::vector<BounceEvent>> ParseBounceEmail(absl::string_view raw,
                                                          const EmailParseOptions& options) {
  EventList events;
  EmailReader reader(options);
  absl::Status status = reader.Run(raw, &events);
  if (!status.ok()) return status;
  return events.Release();
}

ParseBatch ParseBounceEmails(const std::vector<absl::string_view>& records,
                             const EmailParseOptions& options) {
  return ParseBounceEmails(records, options, nullptr);
}

ParseBatch ParseBounceEmails(const std::vector<absl::string_view>& records, const EmailParseOptions& options,
                             EmailEventSink* sink) {
  ParseBatch out;
  EventList events;
  if (sink == nullptr) {
    // Most e-mails give one event, some a few: room for a quarter more
    // events than e-mails saves moving every event each time the vector
    // grows (an event is 16 strings). Capped: a huge batch of mostly
    // unreadable records reserves at most 64 Ki events up front.
    events.reserve(std::min<size_t>(records.size() + records.size() / 4 + 16, size_t{1} << 16));
    if (options.share_record_fields) out.shared.bounds.reserve(records.size() * 4);
  }
  EmailReader reader(options);
  for (size_t i = 0; i < records.size(); ++i) {
    ++out.records;
    // The events go straight into the batch (no vector per e-mail to move
    // them out of); with a sink the list holds one e-mail's at a time.
    const size_t first = events.size();
    absl::Status status = reader.Run(records[i], &events);
    if (sink == nullptr && options.share_record_fields) {
      if (status.ok()) {
        reader.AddShared(&out.shared);
      } else {
        out.shared.Add({}, {}, {});
      }
    }
    if (!status.ok()) {
      out.errors.push_back({static_cast<int64_t>(i), 0, CodeName(status.code()),
                            std::string(status.message())});
      continue;
    }
    ++out.records_with_events;
    for (size_t k = first; k < events.size(); ++k) events[k].record = static_cast<int64_t>(i);
    if (sink != nullptr) {
      reader.GiveShared(events.span(), sink);
      events.clear();  // (kept for the next e-mail's events)
    }
  }
  if (sink == nullptr) out.events = events.Release();
  return out;
}

}  // namespace bouncekit
