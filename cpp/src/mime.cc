// Copyright 2026 The bouncekit authors.

#include "bouncekit/mime.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>  // AVX2, in functions compiled for it only
#define BOUNCEKIT_MIME_AVX2 1
#endif

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "internal/ascii.h"
#include "internal/email_scan.h"
#include "internal/mime_simd.h"

namespace bouncekit::mime {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t'; }

void AsciiLowerInPlace(char* p, size_t n) { internal::LowerAsciiInPlace(p, n); }

inline absl::string_view Trim(absl::string_view s) { return internal::TrimAsciiInline(s); }

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr int B64Val(unsigned char c) {
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

}  // namespace

// Where the walker's two fields are in a parsed block (-1: absent): the
// first Content-Type and Content-Transfer-Encoding, as FindHeader finds them.
struct WalkerFields {
  int content_type = -1;
  int transfer_encoding = -1;
};

namespace {
// Which of the walker's two fields a field name is. (A parsed name is
// printable ASCII without ':', so FieldNameIs applies.)
enum class WalkerField { kNone, kContentType, kTransferEncoding };
WalkerField WalkerFieldOf(absl::string_view name) {
  if (name.size() == 12 && internal::FieldNameIs(name, "content-type")) return WalkerField::kContentType;
  if (name.size() == 25 && internal::FieldNameIs(name, "content-transfer-encoding")) {
    return WalkerField::kTransferEncoding;
  }
  return WalkerField::kNone;
}
}  // namespace

// ParseHeaders with MimeOptions::decode_field into `*out` (cleared first;
// its capacity is reused); fills `*walker` if given. `*folded` is scratch
// for folded values.
void ParseHeaderBlock(absl::string_view text, size_t* body_start,
                      bool (*decode_field)(absl::string_view name), HeaderList* out,
                      std::string* folded, WalkerFields* walker = nullptr, bool skip_undecoded = false);

namespace {

// Position of `needle` in `hay` from `from` on, or npos. glibc's memmem
// skips ahead by up to the needle's length per step; string_view::find
// stops at every occurrence of the first byte ('-' for a MIME delimiter).
size_t FindBytes(absl::string_view hay, absl::string_view needle, size_t from) {
  if (from > hay.size()) return absl::string_view::npos;
  if (needle.empty()) return from;
  const void* f = memmem(hay.data() + from, hay.size() - from, needle.data(), needle.size());
  return f == nullptr ? absl::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(f) - hay.data());
}

bool ContainsBytes(absl::string_view hay, absl::string_view needle) {
  return FindBytes(hay, needle, 0) != absl::string_view::npos;
}

// Longest delimiter FindDelimiterLine searches with SSE2: each candidate is
// confirmed with a memcmp of at most this many bytes, which keeps the
// search linear in the text whatever the text holds.
constexpr size_t kSimdDelimiterMax = 128;

// Does `delim` found at h begin a line of `base` (see FindDelimiterLine)?
inline bool StartsLine(const char* base, size_t h, size_t line_floor) {
  return h <= line_floor || base[h - 1] == '\n' || base[h - 1] == '\r';
}

// The first of the candidate positions i + (bits of m) where `delim`
// really is, at the start of a line; npos when none is.
inline size_t FirstDelimiterOf(unsigned m, size_t i, const char* base, absl::string_view delim, size_t line_floor) {
  for (; m != 0; m &= m - 1) {
    const size_t h = i + static_cast<size_t>(__builtin_ctz(m));
    if (std::memcmp(base + h, delim.data(), delim.size()) == 0 && StartsLine(base, h, line_floor)) return h;
  }
  return absl::string_view::npos;
}

#if defined(BOUNCEKIT_MIME_AVX2)
// (Set while the library's static objects are built: __builtin_cpu_init
// first, as GCC asks of code that may run before the CPU model is known.)
bool wide_delimiter_search = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();

// FindDelimiterLine's blocks, 32 candidate positions at a time, from *io on
// while a whole block fits; *io is left where the blocks stopped.
__attribute__((target("avx2"))) size_t DelimiterBlocksAvx2(const char* base, size_t n, absl::string_view delim,
                                                            size_t line_floor, size_t* io) {
  const size_t k = delim.size();
  const __m256i first = _mm256_set1_epi8(delim[0]);
  const __m256i second = _mm256_set1_epi8(delim[1]);
  const __m256i last = _mm256_set1_epi8(delim[k - 1]);
  size_t i = *io;
  while (i + 31 + k <= n) {
    const char* p = base + i;
    const __m256i a = _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), first);
    const __m256i b = _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1)), second);
    const __m256i c = _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + k - 1)), last);
    const unsigned m = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_and_si256(_mm256_and_si256(a, b), c)));
    const size_t h = FirstDelimiterOf(m, i, base, delim, line_floor);
    if (h != absl::string_view::npos) {
      *io = i;
      return h;
    }
    i += 32;
  }
  *io = i;
  return absl::string_view::npos;
}
#endif

// Position of the first occurrence of `delim` (a MIME delimiter, "--" +
// boundary) in `hay` at or after `from` that begins a line: preceded by CR
// or LF, or at `from` itself when `from` is `line_floor` (the start of the
// multipart body). npos when there is none. Same answer as a FindBytes
// loop that skips hits in mid-line; for delimiters of up to
// kSimdDelimiterMax bytes it looks at 32 (AVX2) or 16 (SSE2) positions at
// a time, keeping those whose first two bytes and last byte match, before
// comparing the rest (memmem looks at most bytes one at a time).
size_t FindDelimiterLine(absl::string_view hay, absl::string_view delim, size_t from, size_t line_floor) {
  const size_t n = hay.size();
  const size_t k = delim.size();
  const char* const base = hay.data();
  auto starts_line = [&](size_t h) { return StartsLine(base, h, line_floor); };
#if defined(__SSE2__)
  if (k >= 2 && k <= kSimdDelimiterMax && from <= n) {
    const __m128i first = _mm_set1_epi8(delim[0]);
    const __m128i second = _mm_set1_epi8(delim[1]);
    const __m128i last = _mm_set1_epi8(delim[k - 1]);
    size_t i = from;
#if defined(BOUNCEKIT_MIME_AVX2)
    if (wide_delimiter_search) {
      const size_t h = DelimiterBlocksAvx2(base, n, delim, line_floor, &i);
      if (h != absl::string_view::npos) return h;
    }
#endif
    // Blocks whose every candidate ends inside the text: i + 15 + k <= n.
    while (i + 15 + k <= n) {
      const char* p = base + i;
      const __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), first);
      const __m128i b = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1)), second);
      const __m128i c = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k - 1)), last);
      const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(a, b), c)));
      const size_t h = FirstDelimiterOf(m, i, base, delim, line_floor);
      if (h != absl::string_view::npos) return h;
      i += 16;
    }
    // The last few positions one by one.
    for (; i + k <= n; ++i) {
      if (base[i] == delim[0] && std::memcmp(base + i, delim.data(), k) == 0 && starts_line(i)) return i;
    }
    return absl::string_view::npos;
  }
#endif
  size_t hit = FindBytes(hay, delim, from);
  while (hit != absl::string_view::npos && !starts_line(hit)) hit = FindBytes(hay, delim, hit + 1);
  return hit;
}

// A parameter to look for in a structured field value: `lower_name`
// (matched ignoring case); its first value goes to `*out` (untouched when
// absent) and `found` says whether there was one.
struct ParamWant {
  absl::string_view lower_name;
  std::string* out;
  bool found = false;
};

// Fills `wants` (the first value of each) in one pass over the ; name=value
// pairs, honouring quotes; the same scan as HeaderParam, without building
// the names and values it skips. Linear.
void FindParams(absl::string_view value, ParamWant* wants, int num_wants) {
  int left = num_wants;
  size_t i = internal::FindChar(value, ';');
  while (i != absl::string_view::npos && i < value.size()) {
    ++i;
    while (i < value.size() && (IsWs(value[i]) || value[i] == ';')) ++i;
    size_t name_start = i;
    i = static_cast<size_t>(internal::FindEither(value.data() + i, value.data() + value.size(), '=', ';') -
                            value.data());
    if (i >= value.size() || value[i] == ';') continue;
    const absl::string_view name = Trim(value.substr(name_start, i - name_start));
    ParamWant* want = nullptr;
    for (int k = 0; k < num_wants; ++k) {
      if (!wants[k].found && internal::EqualsLower(name, wants[k].lower_name)) {
        want = &wants[k];
        break;
      }
    }
    std::string* out = want != nullptr ? want->out : nullptr;
    ++i;  // '='
    while (i < value.size() && IsWs(value[i])) ++i;
    if (i < value.size() && value[i] == '"') {
      ++i;
      if (out != nullptr) out->clear();
      // Runs without a quote or backslash at once; a backslash takes the
      // next byte as it is.
      while (i < value.size() && value[i] != '"') {
        // (Sixteen bytes at a time: a boundary is often 30-70 bytes.)
        const size_t j = static_cast<size_t>(
            internal::FindEither(value.data() + i, value.data() + value.size(), '"', '\\') - value.data());
        if (out != nullptr) out->append(value.data() + i, j - i);
        i = j;
        if (i < value.size() && value[i] == '\\') {
          if (i + 1 < value.size()) ++i;
          if (out != nullptr) out->push_back(value[i]);
          ++i;
        }
      }
      if (i < value.size()) ++i;
      i = internal::FindChar(value, ';', i);
    } else {
      size_t e = internal::FindChar(value, ';', i);
      if (out != nullptr) {
        const absl::string_view v = Trim(value.substr(i, e == absl::string_view::npos ? e : e - i));
        out->assign(v.data(), v.size());
      }
      i = e;
    }
    if (want != nullptr) {
      want->found = true;
      if (--left == 0) return;
    }
  }
}

enum class Encoding { kNone, kBase64, kQuotedPrintable };

Encoding EncodingOf(absl::string_view value) {
  const absl::string_view t = Trim(value);
  if (internal::EqualsLower(t, "base64")) return Encoding::kBase64;
  if (internal::EqualsLower(t, "quoted-printable")) return Encoding::kQuotedPrintable;
  return Encoding::kNone;
}

Encoding TransferEncoding(const HeaderList& headers) {
  auto te = FindHeader(headers, "content-transfer-encoding");
  return te ? EncodingOf(*te) : Encoding::kNone;
}

std::string DecodeTransfer(absl::string_view body, Encoding enc) {
  return enc == Encoding::kBase64 ? DecodeBase64(body) : DecodeQuotedPrintable(body);
}

class Walker {
 public:
  Walker(absl::string_view raw, const MimeOptions& options, Message* out)
      : raw_(raw), options_(options), out_(out) {}

  // Parses an entity (header block + body) spanning [begin, end) of raw_.
  void Entity(size_t begin, size_t end, int depth, bool in_attached, int parent,
              absl::string_view default_type) {
    if (static_cast<int>(count_) >= options_.max_parts) {
      out_->depth_limited = true;
      return;
    }
    absl::string_view text = raw_.substr(begin, end - begin);
    size_t body_start = 0;
    // The part is filled in place in `parts` (its index is its position in
    // document order: no part is added before this one is done, or before
    // its own parts are walked). `part` is not used once parts are added.
    const int index = static_cast<int>(NewPart());
    Part& part = out_->parts[index];
    WalkerFields fields;
    bool (*const decode_field)(absl::string_view) =
        in_attached && options_.decode_attached_field != nullptr ? options_.decode_attached_field
                                                                : options_.decode_field;
    ParseHeaderBlock(text, &body_start, decode_field, &part.headers, &out_->folded, &fields,
                     options_.list_only_decoded_fields);
    // The transfer encoding, as TransferEncoding(part.headers) gives it.
    const Encoding encoding = fields.transfer_encoding < 0
                                  ? Encoding::kNone
                                  : EncodingOf(part.headers[fields.transfer_encoding].value);
    part.offset = static_cast<int64_t>(begin);
    part.body_offset = static_cast<int64_t>(begin + body_start);
    part.depth = depth;
    part.in_attached = in_attached;
    part.parent = parent;
    // The type is worked out in place (a copy would allocate for the longer
    // types); the branches below read it before the part is moved.
    std::string& ctype = part.content_type;
    ctype.assign(default_type.data(), default_type.size());
    if (fields.content_type >= 0) {
      absl::string_view v = part.headers[fields.content_type].value;
      size_t semi = internal::FindChar(v, ';');
      absl::string_view t = Trim(v.substr(0, semi));
      if (internal::FindChar(t, '/') != absl::string_view::npos) {
        ctype.assign(t.data(), t.size());
        AsciiLowerInPlace(ctype.data(), ctype.size());
      }
      // Both parameters in one pass, without a string per parameter name.
      if (semi != absl::string_view::npos) {
        ParamWant wants[2] = {{"boundary", &part.boundary}, {"report-type", &part.report_type}};
        FindParams(v, wants, 2);
        if (wants[1].found) AsciiLowerInPlace(part.report_type.data(), part.report_type.size());
      }
    }
    absl::string_view body = text.substr(body_start);

    if (absl::StartsWith(ctype, "multipart/") && part.boundary.empty()) {
      ctype = "text/plain";  // no boundary: readable as text at least
    }
    if (absl::StartsWith(ctype, "multipart/") && !part.boundary.empty()) {
      // Inside an attached message only a forwarded report is worth
      // walking; other attached multiparts (the original's alternatives
      // and attachments) are left as one undecoded body.
      if (in_attached && absl::string_view(ctype) != "multipart/report" &&
          !ContainsBytes(body, "delivery-status")) {
        part.body = body;
        return;
      }
      const bool digest = absl::string_view(ctype) == "multipart/digest";
      if (depth >= options_.max_depth) {
        out_->depth_limited = true;
        return;
      }
      Multipart(begin + body_start, end, out_->parts[index].boundary, depth + 1, in_attached,
                index, digest ? "message/rfc822" : "text/plain");
      return;
    }
    if (absl::string_view(ctype) == "message/rfc822" || absl::string_view(ctype) == "message/global") {
      const Encoding enc = encoding;
      if (depth >= options_.max_depth) {
        out_->depth_limited = true;
        return;
      }
      if (enc != Encoding::kNone) {
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
    // Elsewhere the caller may say which types it reads.
    const bool decode = in_attached ? absl::StartsWith(ctype, "message/") ||
                                          absl::string_view(ctype) == "text/rfc822-headers"
                                    : options_.decode_part == nullptr || options_.decode_part(ctype);
    if (decode) {
      part.body = Decode(body, encoding);
    } else {
      part.body = body;
      part.undecoded = true;
    }
  }

  // How many parts the walk has made (the first ones of `parts`).
  size_t count() const { return count_; }

 private:
  // The index of the next part, with default fields: in place, a previous
  // parse's part at that position (ParseInto leaves them in `parts`), else
  // one of `recycled`, so that header lists and strings keep their
  // allocations; a new one when there is none.
  size_t NewPart() {
    std::vector<Part>& parts = out_->parts;
    if (count_ == parts.size()) {
      if (out_->recycled.empty()) {
        parts.emplace_back();
        return count_++;
      }
      parts.push_back(std::move(out_->recycled.back()));
      out_->recycled.pop_back();
    }
    Part& p = parts[count_];
    p.headers.clear();
    p.content_type.assign("text/plain");
    p.boundary.clear();
    p.report_type.clear();
    p.body = absl::string_view();
    p.offset = p.body_offset = 0;
    p.depth = 0;
    p.in_attached = false;
    p.undecoded = false;
    p.parent = -1;
    return count_++;
  }

  absl::string_view Decode(absl::string_view body, Encoding enc) {
    if (enc == Encoding::kNone) return body;
    out_->storage.push_back(DecodeTransfer(body, enc));
    return out_->storage.back();
  }

  // Splits [begin, end) at delimiter lines "--boundary" and walks each part.
  void Multipart(size_t begin, size_t end, const std::string& boundary, int depth,
                 bool in_attached, int parent, absl::string_view default_type) {
    // "--" + boundary, on the stack when it fits (RFC 2046 boundaries have
    // at most 70 bytes).
    char small[128];
    std::string large;
    absl::string_view delim;
    if (boundary.size() + 2 <= sizeof(small)) {
      small[0] = small[1] = '-';
      std::memcpy(small + 2, boundary.data(), boundary.size());
      delim = absl::string_view(small, boundary.size() + 2);
    } else {
      large = absl::StrCat("--", boundary);
      delim = large;
    }
    absl::string_view region = raw_.substr(0, end);
    size_t pos = begin;
    size_t part_begin = std::string::npos;
    bool closed = false;
    absl::string_view line;
    while (pos < end) {
      // Jump to the next occurrence of the delimiter that starts a line
      // (a substring search, not a line-by-line walk).
      const size_t hit = FindDelimiterLine(region, delim, pos, begin);
      if (hit == absl::string_view::npos) break;
      size_t line_start = hit;
      pos = hit;
      if (!internal::NextLineFast(region, &pos, &line)) break;
      // A boundary with a line break in it (decoded from an encoded word)
      // never fits on one line: such a hit is no delimiter.
      if (line.size() < delim.size()) continue;
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
        Part& p = out_->parts[NewPart()];
        p.body = raw_.substr(begin, end - begin);
        p.offset = p.body_offset = static_cast<int64_t>(begin);
        p.depth = depth;
        p.in_attached = in_attached;
        p.parent = parent;
      }
    }
  }

  absl::string_view raw_;
  const MimeOptions& options_;
  Message* out_;
  size_t count_ = 0;  // parts made so far
};

}  // namespace

absl::string_view DecodedBody(const Part& part, std::string* storage) {
  if (!part.undecoded) return part.body;
  const Encoding enc = TransferEncoding(part.headers);
  if (enc == Encoding::kNone) return part.body;
  *storage = DecodeTransfer(part.body, enc);
  return *storage;
}

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

bool NextLine(absl::string_view text, size_t* pos, absl::string_view* line) {
  return internal::NextLineFast(text, pos, line);
}

absl::string_view HeaderList::Keep(absl::string_view s, bool lower) {
  if (s.empty()) return absl::string_view();
  if (s.size() > left_) {
    const size_t size = s.size() > kChunkBytes / 4 ? s.size() : kChunkBytes;  // big values get their own chunk
    // Not zero-filled: every byte is written before it is read.
    Chunk* chunk = static_cast<Chunk*>(::operator new(sizeof(Chunk) + size));
    chunk->next = chunks_;
    chunk->size = size;
    chunks_ = chunk;
    char* data = reinterpret_cast<char*>(chunk + 1);
    if (size == s.size()) {
      // A value of its own; the previous chunk, if any, keeps filling.
      std::memcpy(data, s.data(), s.size());
      if (lower) AsciiLowerInPlace(data, s.size());
      return absl::string_view(data, s.size());
    }
    next_ = data;
    left_ = size;
  }
  char* out = next_;
  std::memcpy(out, s.data(), s.size());
  if (lower) AsciiLowerInPlace(out, s.size());
  next_ += s.size();
  left_ -= s.size();
  return absl::string_view(out, s.size());
}

void HeaderList::KeepOneChunk() {
  // The first standard chunk found is kept (emptied); the others are freed.
  Chunk* kept = nullptr;
  while (chunks_ != nullptr) {
    Chunk* next = chunks_->next;
    if (kept == nullptr && chunks_->size == kChunkBytes) {
      kept = chunks_;
    } else {
      ::operator delete(chunks_);
    }
    chunks_ = next;
  }
  chunks_ = kept;
  if (kept != nullptr) {
    kept->next = nullptr;
    next_ = reinterpret_cast<char*>(kept + 1);
    left_ = kChunkBytes;
  } else {
    next_ = nullptr;
    left_ = 0;
  }
}

std::optional<absl::string_view> FindHeader(const HeaderList& headers,
                                            absl::string_view lower_name) {
  for (const Header& h : headers) {
    if (internal::EqualsIgnoreCaseAscii(h.name, lower_name)) return h.value;
  }
  return std::nullopt;
}

HeaderList ParseHeaders(absl::string_view text, size_t* body_start) {
  return ParseHeaders(text, body_start, nullptr);
}

HeaderList ParseHeaders(absl::string_view text, size_t* body_start,
                        bool (*decode_field)(absl::string_view name)) {
  HeaderList out;
  std::string folded;
  ParseHeaderBlock(text, body_start, decode_field, &out, &folded);
  return out;
}

void ParseHeadersInto(absl::string_view text, size_t* body_start,
                      bool (*decode_field)(absl::string_view name), HeaderList* out,
                      std::string* folded) {
  ParseHeaderBlock(text, body_start, decode_field, out, folded);
}

void ParseHeaderBlock(absl::string_view text, size_t* body_start,
                      bool (*decode_field)(absl::string_view name), HeaderList* out_list,
                      std::string* folded_scratch, WalkerFields* walker, bool skip_undecoded) {
  HeaderList& out = *out_list;
  out.clear();
  out.reserve(24);
  size_t pos = 0;
  absl::string_view line;
  // The current field: its name and first-line value point into `text`;
  // only a folded (multi-line) value is assembled in `folded`.
  absl::string_view name, first_value;
  std::string& folded = *folded_scratch;
  bool is_folded = false;
  bool have = false;
  bool decode = true;  // the current field's value is unfolded and decoded
  // Always inlined: it runs once per field, and as a call it reloads every
  // captured variable.
  auto flush = [&]() ABSL_ATTRIBUTE_ALWAYS_INLINE {
    if (have && !decode) {
      // Left out of the list (MimeOptions::list_only_decoded_fields), but
      // for the walker's own two fields.
      if (skip_undecoded && (walker == nullptr || WalkerFieldOf(name) == WalkerField::kNone)) {
        out.Skipped();
        have = false;
        is_folded = false;
        return;
      }
      out.Add(name, first_value);  // as written (see MimeOptions::decode_field)
    } else if (have) {
      // The name stays a view into `text`, and so does the value unless it
      // was folded or has encoded words.
      const absl::string_view lname = name;
      const absl::string_view v = Trim(is_folded ? absl::string_view(folded) : first_value);
      if (internal::HasEncodedWordFast(v)) {
        out.Add(lname, out.Keep(DecodeEncodedWords(v)));
      } else {
        out.Add(lname, is_folded ? out.Keep(v) : v);
      }
    }
    if (have && walker != nullptr) {
      const int index = static_cast<int>(out.size()) - 1;
      const WalkerField field = WalkerFieldOf(name);
      if (field == WalkerField::kContentType && walker->content_type < 0) {
        walker->content_type = index;
      } else if (field == WalkerField::kTransferEncoding && walker->transfer_encoding < 0) {
        walker->transfer_encoding = index;
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
    if (!internal::NextLineFast(text, &pos, &line)) {
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
        if (decode) fold(line);
        continue;
      }
      // Continuation with no field: not a header block.
      pos = line_start;
      break;
    }
    // The common case in one scan: a field name of printable ASCII right
    // up to the colon (what LooksLikeFieldName accepts, with nothing to
    // trim). Anything else takes the general path below.
    size_t colon = internal::SimpleFieldNameLength(line, text.data() + text.size());
    absl::string_view field_name = line.substr(0, colon);  // nothing to trim (the common case)
    if (colon == 0) {
      colon = line.find(':');
      if (have && colon == absl::string_view::npos && absl::StrContains(line, "=") &&
          internal::StartsWithIgnoreCaseAscii(name, "content-type")) {
        // A parameter line that forgot its indentation ("boundary=...").
        fold(line);
        continue;
      }
      if (colon == absl::string_view::npos || !LooksLikeFieldName(Trim(line.substr(0, colon)))) {
        pos = line_start;  // body starts here (no blank separator line)
        break;
      }
      field_name = Trim(line.substr(0, colon));
    }
    flush();
    name = field_name;
    first_value = line.substr(colon + 1);
    have = true;
    decode = decode_field == nullptr || decode_field(name);
    // A field kept as written reads no continuation line: go past them.
    if (!decode) pos = internal::SkipContinuationLines(text, pos);
  }
  flush();
  *body_start = pos;
}

std::string HeaderParam(absl::string_view value, absl::string_view lower_name) {
  std::string v;
  ParamWant want{lower_name, &v};
  FindParams(value, &want, 1);
  return v;
}

std::string DecodeBase64(absl::string_view in) {
  // One table lookup per byte (-1: skipped, -2: '=' ends the data) and
  // writes into a buffer sized once.
  static constexpr auto kTable = [] {
    std::array<int8_t, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = static_cast<int8_t>(B64Val(static_cast<unsigned char>(c)));
    t['='] = -2;
    return t;
  }();
  std::string out(in.size() * 3 / 4 + 3, '\0');
  char* o = out.data();
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    const int v = kTable[c];
    if (v < 0) {
      if (v == -2) break;
      continue;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  out.resize(static_cast<size_t>(o - out.data()));
  return out;
}

std::string DecodeQuotedPrintable(absl::string_view in) {
  // The output is never longer than the input: it is written in place in a
  // string of the input's size, cut at the end.
  std::string out(in.size(), '\0');
  char* const begin = out.data();
  char* o = begin;
  const char* p = in.data();
  const char* const end = p + in.size();
  while (true) {
    // Copy the run up to the next '=': sixteen bytes at a time, each block
    // stored as it is (the output never gets ahead of the input, so a block
    // fits) and the output advanced past its bytes before the '='. (Was
    // memchr + append: on quoted-printable text the runs are short, and
    // memchr's size checks were most of the time.)
#if defined(__SSE2__)
    const __m128i eq = _mm_set1_epi8('=');
    bool found = false;
    while (end - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(o), v);
      const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, eq)));
      if (m != 0) {
        const int k = __builtin_ctz(m);
        p += k;
        o += k;
        found = true;
        break;
      }
      p += 16;
      o += 16;
    }
    if (!found) {
      while (p < end && *p != '=') *o++ = *p++;
    }
#else
    while (p < end && *p != '=') *o++ = *p++;
#endif
    if (p >= end) break;
    // At '=': a soft line break, an escaped byte, or a '=' kept as it is.
    const size_t left = static_cast<size_t>(end - p);
    if (left > 1 && (p[1] == '\n' || p[1] == '\r')) {
      p += (p[1] == '\r' && left > 2 && p[2] == '\n') ? 3 : 2;
      continue;
    }
    if (left > 2 && HexVal(p[1]) >= 0 && HexVal(p[2]) >= 0) {
      *o++ = static_cast<char>(HexVal(p[1]) * 16 + HexVal(p[2]));
      p += 3;
      continue;
    }
    *o++ = '=';
    ++p;
  }
  out.resize(static_cast<size_t>(o - begin));
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
  absl::Status status = ParseInto(raw, options, &msg);
  if (!status.ok()) return status;
  return msg;
}

absl::Status ParseInto(absl::string_view raw, const MimeOptions& options, Message* msg) {
  // The previous parts stay in `parts`: the walk reuses them in place, in
  // order (the root's header list, usually the longest, for the root), and
  // those it does not need go to the recycled list.
  msg->storage.clear();
  msg->truncated = false;
  msg->depth_limited = false;
  msg->parts.reserve(16);  // one allocation for most e-mails (and no part moved as it grows)
  Walker walker(raw, options, msg);
  walker.Entity(0, raw.size(), 0, false, -1, "text/plain");
  for (size_t i = msg->parts.size(); i > walker.count(); --i) msg->recycled.push_back(std::move(msg->parts[i - 1]));
  msg->parts.resize(walker.count());
  if (msg->parts.empty() || msg->parts[0].headers.empty()) {
    return absl::InvalidArgumentError("not an e-mail: no header block at the start");
  }
  return absl::OkStatus();
}

}  // namespace bouncekit::mime

namespace bouncekit::internal {

bool MimeWideDelimiterSearch() {
#if defined(BOUNCEKIT_MIME_AVX2)
  return mime::wide_delimiter_search;
#else
  return false;
#endif
}

void SetMimeWideDelimiterSearch(bool on) {
#if defined(BOUNCEKIT_MIME_AVX2)
  __builtin_cpu_init();
  mime::wide_delimiter_search = on && __builtin_cpu_supports("avx2");
#else
  (void)on;
#endif
}

}  // namespace bouncekit::internal

