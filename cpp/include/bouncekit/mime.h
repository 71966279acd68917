// Copyright 2026 The bouncekit authors.
//
// A small, linear-time MIME walker for bounce e-mails: header blocks with
// folded lines, multipart bodies (nested, with a depth limit), attached
// messages (message/rfc822, text/rfc822-headers), base64 and
// quoted-printable bodies, RFC 2047 encoded words, and CRLF / LF / CR line
// endings. Nothing throws; malformed input yields what could be read plus a
// flag (`truncated`) rather than an error, so that a bounce with a cut-off
// attachment still gives its recipients.

#ifndef BOUNCEKIT_MIME_H_
#define BOUNCEKIT_MIME_H_

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bouncekit::mime {

// A header field. Both views point into the parsed input or into the
// storage of the HeaderList that holds the field.
struct Header {
  absl::string_view name;   // field name as written: compare with absl::EqualsIgnoreCase
  absl::string_view value;  // unfolded, encoded words decoded, trimmed
};

// The fields of a header block, in order, and the text they do not share
// with the input (lower-cased names, unfolded or decoded values), kept in
// a few large chunks instead of a string per field. Moving a list keeps its
// fields' views valid (they never point into the list object itself); a
// list cannot be copied.
class HeaderList {
 public:
  HeaderList() = default;
  HeaderList(HeaderList&& other) noexcept { Take(&other); }
  HeaderList& operator=(HeaderList&& other) noexcept {
    if (this != &other) {
      FreeChunks();
      Take(&other);
    }
    return *this;
  }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { FreeChunks(); }

  using const_iterator = std::vector<Header>::const_iterator;
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  size_t size() const { return fields_.size(); }
  // No field listed, and none left out (MimeOptions::list_only_decoded_fields).
  bool empty() const { return fields_.empty() && skipped_ == 0; }
  // Fields of the block not listed (MimeOptions::list_only_decoded_fields).
  size_t skipped() const { return skipped_; }
  void Skipped() { ++skipped_; }
  const Header& operator[](size_t i) const { return fields_[i]; }
  void reserve(size_t n) { fields_.reserve(n); }

  // Adds a field whose views are already valid for the list's lifetime.
  void Add(absl::string_view name, absl::string_view value) { fields_.push_back(Header{name, value}); }
  // Adds the fields of `other` (which must outlive this list).
  void AddAll(const HeaderList& other) { fields_.insert(fields_.end(), other.begin(), other.end()); }
  // A copy of `s` in the list's storage (lower-cased with `lower`).
  absl::string_view Keep(absl::string_view s, bool lower = false);
  // Removes the fields and frees the storage, but for one chunk that the
  // next fields fill (a list reused for one header block after another
  // then allocates none for the common block).
  void clear() {
    fields_.clear();
    skipped_ = 0;
    KeepOneChunk();
  }

 private:
  // Storage chunks form a list through their first bytes (no vector of
  // pointers to allocate); the text follows the link.
  struct Chunk {
    Chunk* next;
    size_t size;  // bytes of text after the header
  };
  static constexpr size_t kChunkBytes = 1024 - sizeof(Chunk);  // with its header: within malloc's thread cache
  void KeepOneChunk();
  void Take(HeaderList* other) {
    fields_ = std::move(other->fields_);
    other->fields_.clear();
    skipped_ = other->skipped_;
    other->skipped_ = 0;
    chunks_ = other->chunks_;
    next_ = other->next_;
    left_ = other->left_;
    other->chunks_ = nullptr;
    other->next_ = nullptr;
    other->left_ = 0;
  }
  void FreeChunks() {
    while (chunks_ != nullptr) {
      Chunk* next = chunks_->next;
      ::operator delete(chunks_);
      chunks_ = next;
    }
    next_ = nullptr;
    left_ = 0;
  }

  std::vector<Header> fields_;
  size_t skipped_ = 0;
  Chunk* chunks_ = nullptr;
  char* next_ = nullptr;
  size_t left_ = 0;
};

// First value of field `lower_name` (matched ignoring case), if any.
std::optional<absl::string_view> FindHeader(const HeaderList& headers,
                                            absl::string_view lower_name);

// (Walker::NewPart in mime.cc resets every field below when it reuses a
// previous parse's Part: a field added here must be reset there too.)
struct Part {
  HeaderList headers;
  std::string content_type = "text/plain";  // lower-case type/subtype
  std::string boundary;                     // multipart boundary parameter
  std::string report_type;                  // multipart/report report-type
  absl::string_view body;    // decoded body (into the input or Message storage)
  int64_t offset = 0;        // byte offset of this part's header block in the input
  int64_t body_offset = 0;   // byte offset of the (encoded) body in the input
  int depth = 0;             // nesting level (0: the message itself)
  bool in_attached = false;  // inside an attached message (message/rfc822)
  bool undecoded = false;    // body left in its transfer encoding (see DecodedBody)
  int parent = -1;           // index of the enclosing part, -1 for the root
};

struct Message {
  // Parts in document order; parts[0] is the message itself. Multipart
  // containers are listed too (with an empty body).
  std::vector<Part> parts;
  // Owns decoded bodies that do not live in the input. A list: elements
  // never move, and an empty one allocates nothing, even when moved (a
  // deque allocates on construction and on every move).
  std::list<std::string> storage;
  bool truncated = false;    // a multipart lacked its closing delimiter
  bool depth_limited = false;
  // Not part of the result: a previous parse's parts, kept by ParseInto so
  // that the next parse reuses their allocations (header lists, strings).
  std::vector<Part> recycled;
  // Not part of the result either: the header parser's buffer for folded
  // values, kept (with its capacity) from one parse to the next.
  std::string folded;
};

struct MimeOptions {
  int max_depth = 24;
  int max_parts = 4096;
  // Which header fields of the parts get their values unfolded, trimmed and
  // decoded (RFC 2047): those whose name this returns true for (all when
  // null). The others are still listed, in order, with their first line's
  // text as written (untrimmed, undecoded): a reader that looks at a few
  // fields skips the work on the rest (Received, DKIM-Signature, ...).
  bool (*decode_field)(absl::string_view name) = nullptr;
  // The same for the parts inside attached messages (message/rfc822 and
  // what it holds), whose header blocks a reader often needs less of (an
  // original's Received, DKIM and Subject fields); decode_field when null.
  bool (*decode_attached_field)(absl::string_view name) = nullptr;
  // Which parts (outside attached messages) get their body decoded from its
  // transfer encoding: those whose content type this returns true for (all
  // when null). The others keep the body as written, with Part::undecoded
  // set; DecodedBody decodes one when it is wanted after all.
  bool (*decode_part)(absl::string_view content_type) = nullptr;
  // List only the fields that decode_field (inside attached messages:
  // decode_attached_field) accepts; the others are counted
  // (HeaderList::skipped), not listed. For a reader that looks up a few
  // fields and walks no others (Received, DKIM, ARC, ... fields are most of
  // a header block). The walker still lists each part's Content-Type and
  // Content-Transfer-Encoding, which it reads itself.
  bool list_only_decoded_fields = false;
};

// Parses `raw` (which must outlive the result). Fails only when the input
// has no header block at all (InvalidArgument).
absl::StatusOr<Message> Parse(absl::string_view raw, const MimeOptions& options = {});
// Parse into `*msg`, replacing what it held; a message reused across calls
// (one per batch) saves most of the allocations. On error `*msg` holds
// whatever was parsed.
absl::Status ParseInto(absl::string_view raw, const MimeOptions& options, Message* msg);

// Header block parsing on its own (e.g. text/rfc822-headers bodies).
// `*body_start` receives the offset just past the blank line (or the end).
HeaderList ParseHeaders(absl::string_view text, size_t* body_start);
// The same, decoding only the fields `decode_field` accepts (see
// MimeOptions::decode_field); all fields are still listed.
HeaderList ParseHeaders(absl::string_view text, size_t* body_start,
                        bool (*decode_field)(absl::string_view name));
// The same into `*out` (cleared first; a list reused across calls keeps its
// allocations); `*folded` is a buffer for folded values (kept likewise).
void ParseHeadersInto(absl::string_view text, size_t* body_start,
                      bool (*decode_field)(absl::string_view name), HeaderList* out,
                      std::string* folded);

// The body of `part` decoded from its Content-Transfer-Encoding as Parse
// would have decoded it: part.body itself unless part.undecoded; a decoded
// copy is kept in `*storage`.
absl::string_view DecodedBody(const Part& part, std::string* storage);

// Content decoding helpers (lenient: invalid characters are skipped).
std::string DecodeBase64(absl::string_view in);
std::string DecodeQuotedPrintable(absl::string_view in);
// Does `s` contain "=?" (the start of an RFC 2047 encoded word)? Without
// one, DecodeEncodedWords returns its input unchanged.
bool HasEncodedWord(absl::string_view s);
// RFC 2047 encoded words -> bytes (charset is not converted).
std::string DecodeEncodedWords(absl::string_view in);

// Next line of `text` from `*pos` without its terminator (CRLF, LF or CR);
// advances `*pos` past it. Returns false at the end.
bool NextLine(absl::string_view text, size_t* pos, absl::string_view* line);

// A header parameter (e.g. "boundary") of a structured field value.
std::string HeaderParam(absl::string_view value, absl::string_view lower_name);

}  // namespace bouncekit::mime

#endif  // BOUNCEKIT_MIME_H_
