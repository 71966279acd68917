// Copyright 2026 The bouncekit authors.

#include "bouncekit/csv_writer.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bouncekit/error_location.h"

namespace bouncekit {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
std::atomic<int> g_tmp_counter{0};

absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path) {
  std::string msg = absl::StrCat(what, " '", path, "': ", std::strerror(err));
  absl::Status st;
  switch (err) {
    case ENOENT:
    case ENOTDIR: st = absl::NotFoundError(msg); break;
    case EACCES:
    case EPERM:
    case EROFS: st = absl::PermissionDeniedError(msg); break;
    case ENOSPC:
    case EDQUOT: st = absl::ResourceExhaustedError(msg); break;
    default: st = absl::UnavailableError(msg); break;
  }
  return WithSource(std::move(st), path);
}

inline bool IsValid(const CsvColumn& c, int64_t i) {
  return c.validity == nullptr || ArrowBitIsSet(c.validity, c.offset + i);
}

int64_t ReadInt(const CsvColumn& c, int64_t i) {
  const int64_t j = c.offset + i;
  switch (c.width) {
    case 1: return static_cast<const int8_t*>(c.values)[j];
    case 2: return static_cast<const int16_t*>(c.values)[j];
    case 4: return static_cast<const int32_t*>(c.values)[j];
    default: return static_cast<const int64_t*>(c.values)[j];
  }
}

uint64_t ReadUInt(const CsvColumn& c, int64_t i) {
  const int64_t j = c.offset + i;
  switch (c.width) {
    case 1: return static_cast<const uint8_t*>(c.values)[j];
    case 2: return static_cast<const uint16_t*>(c.values)[j];
    case 4: return static_cast<const uint32_t*>(c.values)[j];
    default: return static_cast<const uint64_t*>(c.values)[j];
  }
}

}  // namespace

void AppendCsvField(absl::string_view field, std::string* out) {
  bool quote = false;
  for (char c : field) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

absl::StatusOr<std::unique_ptr<CsvFileWriter>> CsvFileWriter::Open(
    absl::string_view path, absl::Span<const std::string> header, bool durable) {
  std::unique_ptr<CsvFileWriter> w(new CsvFileWriter());
  w->path_ = std::string(path);
  w->durable_ = durable;
  w->tmp_path_ = absl::StrCat(path, ".tmp-", ::getpid(), "-", g_tmp_counter.fetch_add(1));
  w->file_ = std::fopen(w->tmp_path_.c_str(), "wb");
  if (w->file_ == nullptr) return ErrnoStatus(errno, "cannot create output", path);
  w->num_columns_ = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    if (i) w->buffer_.push_back(',');
    AppendCsvField(header[i], &w->buffer_);
  }
  w->buffer_.push_back('\n');
  return w;
}

CsvFileWriter::~CsvFileWriter() { Abort(); }

void CsvFileWriter::Abort() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!committed_ && !tmp_path_.empty()) {
    std::remove(tmp_path_.c_str());
    tmp_path_.clear();
  }
}

absl::Status CsvFileWriter::Flush() {
  if (buffer_.empty()) return absl::OkStatus();
  if (file_ == nullptr) return absl::FailedPreconditionError("the CSV writer is closed");
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return ErrnoStatus(errno, "cannot write", path_);
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status CsvFileWriter::Write(absl::Span<const CsvColumn> columns, int64_t num_rows) {
  if (file_ == nullptr) return absl::FailedPreconditionError("the CSV writer is closed");
  if (columns.size() != num_columns_) {
    return absl::InvalidArgumentError(absl::StrCat("a batch has ", columns.size(),
                                                   " columns but the header has ", num_columns_));
  }
  // Dictionary columns: each entry is escaped once per batch, not per row
  // (dictionaries of class, category and rule names are small; a dictionary
  // much larger than the batch is escaped row by row instead).
  std::vector<std::vector<std::string>> escaped(columns.size());
  for (size_t k = 0; k < columns.size(); ++k) {
    const CsvColumn& c = columns[k];
    if (c.kind != CsvColumn::Kind::kDictionary) continue;
    const int64_t n = c.strings.size();
    if (n > 65536 && n > 4 * num_rows) continue;
    escaped[k].resize(static_cast<size_t>(n));
    for (int64_t d = 0; d < n; ++d) AppendCsvField(c.strings.Get(d), &escaped[k][static_cast<size_t>(d)]);
  }
  // Every column a dictionary without nulls (W1's output): whole lines are
  // put together from the escaped entries, a block of rows at a time.
  bool all_dictionaries = !columns.empty();
  for (size_t k = 0; k < columns.size(); ++k) {
    all_dictionaries = all_dictionaries && columns[k].kind == CsvColumn::Kind::kDictionary &&
                       columns[k].validity == nullptr && !escaped[k].empty();
  }
  if (all_dictionaries) return WriteDictionaries(columns, num_rows, escaped);
  char num[64];
  for (int64_t i = 0; i < num_rows; ++i) {
    for (size_t k = 0; k < columns.size(); ++k) {
      if (k) buffer_.push_back(',');
      const CsvColumn& c = columns[k];
      switch (c.kind) {
        case CsvColumn::Kind::kNull:
          break;
        case CsvColumn::Kind::kString:
          if (!c.strings.IsNull(i)) AppendCsvField(c.strings.Get(i), &buffer_);
          break;
        case CsvColumn::Kind::kDictionary:
          if (IsValid(c, i)) {
            const int64_t idx = ReadInt(c, i);
            if (idx < 0 || idx >= c.strings.size()) {
              return absl::InvalidArgumentError(
                  absl::StrCat("column ", k, " row ", rows_ + i, ": dictionary index ", idx,
                               " out of range"));
            }
            if (!escaped[k].empty()) {
              buffer_.append(escaped[k][static_cast<size_t>(idx)]);
            } else {
              AppendCsvField(c.strings.Get(idx), &buffer_);
            }
          }
          break;
        case CsvColumn::Kind::kInt:
          if (IsValid(c, i)) {
            auto r = std::to_chars(num, num + sizeof(num), ReadInt(c, i));
            buffer_.append(num, r.ptr);
          }
          break;
        case CsvColumn::Kind::kUInt:
          if (IsValid(c, i)) {
            auto r = std::to_chars(num, num + sizeof(num), ReadUInt(c, i));
            buffer_.append(num, r.ptr);
          }
          break;
        case CsvColumn::Kind::kBool:
          if (IsValid(c, i)) {
            const bool b = ArrowBitIsSet(static_cast<const uint8_t*>(c.values), c.offset + i);
            buffer_.append(b ? "true" : "false");
          }
          break;
        case CsvColumn::Kind::kDouble:
          if (IsValid(c, i)) {
            const double d = static_cast<const double*>(c.values)[c.offset + i];
            auto r = std::to_chars(num, num + sizeof(num), d, std::chars_format::fixed, c.float_digits);
            if (r.ec != std::errc()) {
              std::snprintf(num, sizeof(num), "%.*f", c.float_digits, d);
              buffer_.append(num);
            } else {
              buffer_.append(num, r.ptr);
            }
          }
          break;
      }
    }
    buffer_.push_back('\n');
    if (buffer_.size() >= kFlushBytes) {
      absl::Status st = Flush();
      if (!st.ok()) return st;
    }
  }
  rows_ += num_rows;
  return absl::OkStatus();
}

absl::Status CsvFileWriter::WriteDictionaries(absl::Span<const CsvColumn> columns, int64_t num_rows,
                                              const std::vector<std::vector<std::string>>& escaped) {
  const size_t nc = columns.size();
  size_t max_line = nc;  // the commas and the newline
  for (size_t k = 0; k < nc; ++k) {
    size_t longest = 0;
    for (const std::string& e : escaped[k]) longest = std::max(longest, e.size());
    max_line += longest;
  }
  constexpr int64_t kBlock = 4096;
  for (int64_t first = 0; first < num_rows; first += kBlock) {
    const int64_t last = std::min(num_rows, first + kBlock);
    const size_t before = buffer_.size();
    buffer_.resize(before + static_cast<size_t>(last - first) * max_line);
    char* w = buffer_.data() + before;
    for (int64_t i = first; i < last; ++i) {
      for (size_t k = 0; k < nc; ++k) {
        const CsvColumn& c = columns[k];
        const int64_t idx = ReadInt(c, i);
        if (idx < 0 || idx >= static_cast<int64_t>(escaped[k].size())) {
          buffer_.resize(before);
          return absl::InvalidArgumentError(
              absl::StrCat("column ", k, " row ", rows_ + i, ": dictionary index ", idx, " out of range"));
        }
        const std::string& e = escaped[k][static_cast<size_t>(idx)];
        std::memcpy(w, e.data(), e.size());
        w += e.size();
        *w++ = k + 1 < nc ? ',' : '\n';
      }
    }
    buffer_.resize(static_cast<size_t>(w - buffer_.data()));
    if (buffer_.size() >= kFlushBytes) {
      absl::Status st = Flush();
      if (!st.ok()) return st;
    }
  }
  rows_ += num_rows;
  return absl::OkStatus();
}

absl::Status CsvFileWriter::Commit() {
  absl::Status st = Flush();
  if (!st.ok()) return st;
  if (std::fflush(file_) != 0) return ErrnoStatus(errno, "cannot write", path_);
  if (durable_ && ::fsync(::fileno(file_)) != 0) return ErrnoStatus(errno, "cannot fsync", path_);
  if (std::fclose(file_) != 0) {
    file_ = nullptr;
    return ErrnoStatus(errno, "cannot close", path_);
  }
  file_ = nullptr;
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot move the finished file to", path_);
  }
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace bouncekit
