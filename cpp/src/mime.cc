// Copyright 2026 The bouncekit authors.

#include "bouncekit/mime.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/ascii.h"

namespace bouncekit::mime {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t'; }

void AsciiLowerInPlace(char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] >= 'A' && p[i] <= 'Z') p[i] = static_cast<char>(p[i] + ('a' - 'A'));
  }
}

absl::string_view Trim(absl::string_view s) { return internal::TrimAscii(s); }

// True when `s` contains "=?" (the start of an RFC 2047 encoded word).
bool HasEncodedWord(absl::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const void* eq = std::memchr(p, '=', static_cast<size_t>(end - p));
    if (eq == nullptr) return false;
    p = static_cast<const char*>(eq) + 1;
    if (p < end && *p == '?') return true;
  }
  return false;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int B64Val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// A field name: printable ASCII without spaces or colon, non-empty.
bool LooksLikeFieldName(absl::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  for (char c : name) {
    if (c <= 32 || c >= 127 || c == ':') return false;
  }
  return true;
}

class Walker {
 public:
  Walker(absl::string_view raw, const MimeOptions& options, Message* out)
      : raw_(raw), options_(options), out_(out) {}

  // Parses an entity (header block + body) spanning [begin, end) of raw_.
  void Entity(size_t begin, size_t end, int depth, bool in_attached, int parent,
              absl::string_view default_type) {
    if (static_cast<int>(out_->parts.size()) >= options_.max_parts) {
      out_->depth_limited = true;
      return;
    }
    absl::string_view text = raw_.substr(begin, end - begin);
    size_t body_start = 0;
    Part part;
    part.headers = ParseHeaders(text, &body_start);
    part.offset = static_cast<int64_t>(begin);
    part.body_offset = static_cast<int64_t>(begin + body_start);
    part.depth = depth;
    part.in_attached = in_attached;
    part.parent = parent;
    std::string ctype(default_type);
    if (auto ct = FindHeader(part.headers, "content-type")) {
      absl::string_view v = *ct;
      size_t semi = v.find(';');
      std::string t = absl::AsciiStrToLower(Trim(v.substr(0, semi)));
      if (t.find('/') != std::string::npos) ctype = std::move(t);
      part.boundary = HeaderParam(v, "boundary");
      part.report_type = absl::AsciiStrToLower(HeaderParam(v, "report-type"));
    }
    part.content_type = ctype;
    absl::string_view body = text.substr(body_start);
    const int index = static_cast<int>(out_->parts.size());

    if (absl::StartsWith(ctype, "multipart/") && part.boundary.empty()) {
      ctype = "text/plain";  // no boundary: readable as text at least
      part.content_type = ctype;
    }
    if (absl::StartsWith(ctype, "multipart/") && !part.boundary.empty()) {
      // Inside an attached message only a forwarded report is worth
      // walking; other attached multiparts (the original's alternatives
      // and attachments) are left as one undecoded body.
      if (in_attached && ctype != "multipart/report" &&
          !absl::StrContains(body, "delivery-status")) {
        part.body = body;
        out_->parts.push_back(std::move(part));
        return;
      }
      out_->parts.push_back(std::move(part));
      if (depth >= options_.max_depth) {
        out_->depth_limited = true;
        return;
      }
      Multipart(begin + body_start, end, out_->parts[index].boundary, depth + 1, in_attached,
                index, ctype == "multipart/digest" ? "message/rfc822" : "text/plain");
      return;
    }
    if (ctype == "message/rfc822" || ctype == "message/global") {
      std::string enc = TransferEncoding(part.headers);
      out_->parts.push_back(std::move(part));
      if (depth >= options_.max_depth) {
        out_->depth_limited = true;
        return;
      }
      if (enc == "base64" || enc == "quoted-printable") {
        // Rare: an encoded attached message. Decode it into storage and
        // walk it as a separate buffer would lose offsets; keep it as body.
        out_->parts[index].body = Decode(body, enc);
        return;
      }
      out_->parts[index].body = body;
      Entity(begin + body_start, end, depth + 1, true, index, "text/plain");
      return;
    }
    // Inside an attached message only the parts the readers look at are
    // decoded (a forwarded DSN); other bodies stay as they are, undecoded.
    if (!in_attached || absl::StartsWith(ctype, "message/") ||
        ctype == "text/rfc822-headers") {
      part.body = Decode(body, TransferEncoding(part.headers));
    } else {
      part.body = body;
    }
    out_->parts.push_back(std::move(part));
  }

 private:
  std::string TransferEncoding(const HeaderList& headers) {
    auto te = FindHeader(headers, "content-transfer-encoding");
    return te ? absl::AsciiStrToLower(Trim(*te)) : std::string();
  }

  absl::string_view Decode(absl::string_view body, const std::string& enc) {
    if (enc == "base64") {
      out_->storage.push_back(DecodeBase64(body));
      return out_->storage.back();
    }
    if (enc == "quoted-printable") {
      out_->storage.push_back(DecodeQuotedPrintable(body));
      return out_->storage.back();
    }
    return body;
  }

  // Splits [begin, end) at delimiter lines "--boundary" and walks each part.
  void Multipart(size_t begin, size_t end, const std::string& boundary, int depth,
                 bool in_attached, int parent, absl::string_view default_type) {
    const std::string delim = absl::StrCat("--", boundary);
    absl::string_view region = raw_.substr(0, end);
    size_t pos = begin;
    size_t part_begin = std::string::npos;
    bool closed = false;
    absl::string_view line;
    while (pos < end) {
      // Jump to the next occurrence of the delimiter that starts a line
      // (a substring search, not a line-by-line walk).
      size_t hit = region.find(delim, pos);
      while (hit != absl::string_view::npos && hit > begin && raw_[hit - 1] != '\n' &&
             raw_[hit - 1] != '\r') {
        hit = region.find(delim, hit + 1);
      }
      if (hit == absl::string_view::npos) break;
      size_t line_start = hit;
      pos = hit;
      if (!NextLine(region, &pos, &line)) break;
      absl::string_view rest = line.substr(delim.size());
      bool closing = absl::StartsWith(rest, "--");
      if (!closing && !Trim(rest).empty()) continue;  // a longer boundary
      if (part_begin != std::string::npos) {
        // The line break before the delimiter belongs to the delimiter.
        size_t part_end = line_start;
        if (part_end > part_begin && raw_[part_end - 1] == '\n') --part_end;
        if (part_end > part_begin && raw_[part_end - 1] == '\r') --part_end;
        Entity(part_begin, part_end, depth, in_attached, parent, default_type);
      }
      if (closing) {
        closed = true;
        break;
      }
      part_begin = pos;
    }
    if (!closed) {
      out_->truncated = true;
      if (part_begin != std::string::npos && part_begin < end) {
        Entity(part_begin, end, depth, in_attached, parent, default_type);
      } else if (part_begin == std::string::npos) {
        // No delimiter at all: keep the body readable as text.
        Part p;
        p.body = raw_.substr(begin, end - begin);
        p.offset = p.body_offset = static_cast<int64_t>(begin);
        p.depth = depth;
        p.in_attached = in_attached;
        p.parent = parent;
        out_->parts.push_back(std::move(p));
      }
    }
  }

  absl::string_view raw_;
  const MimeOptions& options_;
  Message* out_;
};

}  // namespace

bool NextLine(absl::string_view text, size_t* pos, absl::string_view* line) {
  size_t p = *pos;
  if (p >= text.size()) return false;
  // memchr is vectorised: find the next LF within a window, then any CR
  // before it. Without an LF in the window (CR-only text, very long lines)
  // a plain byte loop keeps the whole scan linear.
  const char* base = text.data();
  const size_t window = std::min<size_t>(text.size() - p, 8192);
  const void* lf = std::memchr(base + p, '\n', window);
  size_t i;
  if (lf != nullptr) {
    size_t end = static_cast<size_t>(static_cast<const char*>(lf) - base);
    const void* cr = std::memchr(base + p, '\r', end - p);
    i = cr ? static_cast<size_t>(static_cast<const char*>(cr) - base) : end;
  } else {
    i = p;
    while (i < text.size() && text[i] != '\n' && text[i] != '\r') ++i;
  }
  *line = text.substr(p, i - p);
  if (i < text.size()) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      i += 2;
    } else {
      ++i;
    }
  }
  *pos = i;
  return true;
}

absl::string_view HeaderList::Keep(absl::string_view s, bool lower) {
  if (s.empty()) return absl::string_view();
  if (s.size() > left_) {
    constexpr size_t kChunk = 2048;
    const size_t size = s.size() > kChunk / 4 ? s.size() : kChunk;  // big values get their own chunk
    chunks_.push_back(std::make_unique<char[]>(size));
    if (size == s.size()) {
      char* out = chunks_.back().get();
      std::memcpy(out, s.data(), s.size());
      if (lower) AsciiLowerInPlace(out, s.size());
      // Keep filling the previous chunk, if any.
      if (chunks_.size() >= 2) std::swap(chunks_[chunks_.size() - 1], chunks_[chunks_.size() - 2]);
      return absl::string_view(out, s.size());
    }
    next_ = chunks_.back().get();
    left_ = size;
  }
  char* out = next_;
  std::memcpy(out, s.data(), s.size());
  if (lower) AsciiLowerInPlace(out, s.size());
  next_ += s.size();
  left_ -= s.size();
  return absl::string_view(out, s.size());
}

std::optional<absl::string_view> FindHeader(const HeaderList& headers,
                                            absl::string_view lower_name) {
  for (const Header& h : headers) {
    if (h.name.size() == lower_name.size() && absl::EqualsIgnoreCase(h.name, lower_name)) return h.value;
  }
  return std::nullopt;
}

HeaderList ParseHeaders(absl::string_view text, size_t* body_start) {
  HeaderList out;
  out.reserve(24);
  size_t pos = 0;
  absl::string_view line;
  // The current field: its name and first-line value point into `text`;
  // only a folded (multi-line) value is assembled in `folded`.
  absl::string_view name, first_value;
  std::string folded;
  bool is_folded = false;
  bool have = false;
  auto flush = [&]() {
    if (have) {
      // The name stays a view into `text`, and so does the value unless it
      // was folded or has encoded words.
      const absl::string_view lname = name;
      const absl::string_view v = Trim(is_folded ? absl::string_view(folded) : first_value);
      if (HasEncodedWord(v)) {
        out.Add(lname, out.Keep(DecodeEncodedWords(v)));
      } else {
        out.Add(lname, is_folded ? out.Keep(v) : v);
      }
    }
    have = false;
    is_folded = false;
  };
  auto fold = [&](absl::string_view continuation) {
    if (!is_folded) {
      folded.assign(first_value.data(), first_value.size());
      is_folded = true;
    }
    folded.push_back(' ');
    const absl::string_view t = Trim(continuation);
    folded.append(t.data(), t.size());
  };
  bool first = true;
  while (true) {
    size_t line_start = pos;
    if (!NextLine(text, &pos, &line)) {
      pos = text.size();
      break;
    }
    if (line.empty()) break;
    if (first && absl::StartsWith(line, "From ")) {  // mbox separator line
      first = false;
      continue;
    }
    first = false;
    if (IsWs(line[0])) {
      if (have) {
        fold(line);
        continue;
      }
      // Continuation with no field: not a header block.
      pos = line_start;
      break;
    }
    size_t colon = line.find(':');
    if (have && colon == absl::string_view::npos && absl::StrContains(line, "=") &&
        absl::StartsWithIgnoreCase(name, "content-type")) {
      // A parameter line that forgot its indentation ("boundary=...").
      fold(line);
      continue;
    }
    if (colon == absl::string_view::npos || !LooksLikeFieldName(Trim(line.substr(0, colon)))) {
      pos = line_start;  // body starts here (no blank separator line)
      break;
    }
    flush();
    name = Trim(line.substr(0, colon));
    first_value = line.substr(colon + 1);
    have = true;
  }
  flush();
  *body_start = pos;
  return out;
}

std::string HeaderParam(absl::string_view value, absl::string_view lower_name) {
  // Scan ; name=value pairs, honouring quotes. Linear.
  size_t i = value.find(';');
  while (i != absl::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (IsWs(value[i]) || value[i] == ';')) ++i;
    size_t name_start = i;
    while (i < value.size() && value[i] != '=' && value[i] != ';') ++i;
    if (i >= value.size() || value[i] == ';') continue;
    std::string name = absl::AsciiStrToLower(Trim(value.substr(name_start, i - name_start)));
    ++i;  // '='
    while (i < value.size() && IsWs(value[i])) ++i;
    std::string v;
    if (i < value.size() && value[i] == '"') {
      ++i;
      while (i < value.size() && value[i] != '"') {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        v.push_back(value[i]);
        ++i;
      }
      if (i < value.size()) ++i;
      i = value.find(';', i);
    } else {
      size_t e = value.find(';', i);
      v = std::string(Trim(value.substr(i, e == absl::string_view::npos ? e : e - i)));
      i = e;
    }
    if (name == lower_name) return v;
  }
  return std::string();
}

std::string DecodeBase64(absl::string_view in) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    if (c == '=') break;
    int v = B64Val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string DecodeQuotedPrintable(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '=') {
      // Copy the run up to the next '=' at once.
      const void* eq = std::memchr(in.data() + i, '=', in.size() - i);
      size_t e = eq ? static_cast<size_t>(static_cast<const char*>(eq) - in.data()) : in.size();
      out.append(in.data() + i, e - i);
      i = e - 1;
      continue;
    }
    if (i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {  // soft break
      ++i;
      if (in[i] == '\r' && i + 1 < in.size() && in[i + 1] == '\n') ++i;
      continue;
    }
    if (i + 2 < in.size() && HexVal(in[i + 1]) >= 0 && HexVal(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(in[i + 1]) * 16 + HexVal(in[i + 2])));
      i += 2;
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string DecodeEncodedWords(absl::string_view in) {
  if (!HasEncodedWord(in)) return std::string(in);
  std::string out;
  size_t i = 0;
  size_t pending_ws_start = std::string::npos;  // whitespace between two encoded words
  bool last_was_word = false;
  while (i < in.size()) {
    if (in[i] == '=' && i + 1 < in.size() && in[i + 1] == '?') {
      // =?charset?X?text?= ; searches are bounded so that the scan stays
      // linear on headers full of "=?" with no end.
      absl::string_view window = in.substr(0, std::min(in.size(), i + 600));
      size_t q1 = window.find('?', i + 2);
      if (q1 != absl::string_view::npos && q1 + 2 < window.size() && in[q1 + 2] == '?') {
        char enc = absl::ascii_tolower(in[q1 + 1]);
        size_t end = window.find("?=", q1 + 3);
        if ((enc == 'b' || enc == 'q') && end != absl::string_view::npos) {
          absl::string_view payload = in.substr(q1 + 3, end - (q1 + 3));
          if (!last_was_word && pending_ws_start != std::string::npos) {
            absl::StrAppend(&out, in.substr(pending_ws_start, i - pending_ws_start));
          }
          if (enc == 'b') {
            out += DecodeBase64(payload);
          } else {
            for (size_t k = 0; k < payload.size(); ++k) {
              char c = payload[k];
              if (c == '_') {
                out.push_back(' ');
              } else if (c == '=' && k + 2 < payload.size() + 0 && HexVal(payload[k + 1]) >= 0 &&
                         HexVal(payload[k + 2]) >= 0) {
                out.push_back(static_cast<char>(HexVal(payload[k + 1]) * 16 +
                                                HexVal(payload[k + 2])));
                k += 2;
              } else {
                out.push_back(c);
              }
            }
          }
          i = end + 2;
          last_was_word = true;
          pending_ws_start = std::string::npos;
          continue;
        }
      }
    }
    if (IsWs(in[i])) {
      if (pending_ws_start == std::string::npos) pending_ws_start = i;
      ++i;
      continue;
    }
    if (pending_ws_start != std::string::npos) {
      absl::StrAppend(&out, in.substr(pending_ws_start, i - pending_ws_start));
      pending_ws_start = std::string::npos;
    }
    out.push_back(in[i]);
    last_was_word = false;
    ++i;
  }
  if (pending_ws_start != std::string::npos && !last_was_word) {
    absl::StrAppend(&out, in.substr(pending_ws_start));
  }
  return out;
}

absl::StatusOr<Message> Parse(absl::string_view raw, const MimeOptions& options) {
  Message msg;
  Walker walker(raw, options, &msg);
  walker.Entity(0, raw.size(), 0, false, -1, "text/plain");
  if (msg.parts.empty() || msg.parts[0].headers.empty()) {
    return absl::InvalidArgumentError("not an e-mail: no header block at the start");
  }
  return msg;
}

}  // namespace bouncekit::mime
