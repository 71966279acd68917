// Copyright 2026 The bouncekit authors.
//
// bouncekit._core.ParquetFile: the core's Parquet reader. Column chunks are
// read with pread into recycled buffers; each decoded column chunk comes back as NumPy arrays that own
// (through a capsule) the decompressed pages its string views point into, so
// Python builds Arrow arrays over them without copying.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "absl/strings/str_cat.h"
#include "bouncekit/parquet.h"
#include "errors.h"
#include "parquet_source.h"

namespace py = pybind11;

namespace bouncekit::python {
namespace {

// An open file read with pread: column chunks are read into pool buffers
// (reused from row group to row group), so the process's resident memory
// holds only the chunks being decoded, not the file.
class OpenFile {
 public:
  static absl::StatusOr<std::unique_ptr<OpenFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return absl::NotFoundError(absl::StrCat(path, ": ", std::strerror(errno)));
    auto f = std::unique_ptr<OpenFile>(new OpenFile(fd));
    struct stat st;
    if (::fstat(fd, &st) != 0) return absl::InternalError(absl::StrCat(path, ": ", std::strerror(errno)));
    f->size_ = static_cast<uint64_t>(st.st_size);
    return f;
  }
  ~OpenFile() { ::close(fd_); }
  uint64_t size() const { return size_; }
  // Reads [offset, offset + n) into `out` (all of it, or an error).
  absl::Status Read(uint64_t offset, size_t n, char* out) const {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return absl::InternalError(absl::StrCat("read failed: ", std::strerror(errno)));
      if (r == 0) return absl::DataLossError("the file ends early (truncated?)");
      done += static_cast<size_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  explicit OpenFile(int fd) : fd_(fd) {}
  int fd_;
  uint64_t size_ = 0;
};

// A NumPy array over memory owned by `owner` (a capsule around the column).
template <typename T>
py::array_t<T> Over(const T* data, size_t n, const py::object& owner) {
  return py::array_t<T>({static_cast<py::ssize_t>(n)}, {static_cast<py::ssize_t>(sizeof(T))}, data, owner);
}

class PyParquetFile final : public ParquetChunkSource {
 public:
  explicit PyParquetFile(const std::string& path) : path_(path) {
    file_ = ValueOrThrow(OpenFile::Open(path));
    ThrowIfError(Located(ReadInfo()));
  }

  int64_t num_rows() const { return info_.num_rows; }
  int num_row_groups() const override { return static_cast<int>(info_.row_groups.size()); }
  int64_t row_group_rows(int g) const override {
    if (g < 0 || g >= num_row_groups()) throw py::index_error("no such row group");
    return info_.row_groups[g].num_rows;
  }
  absl::StatusOr<parquet::Column> ReadChunk(int row_group, int column, bool prefer_dictionary) const override {
    absl::StatusOr<parquet::Column> col = ReadChunkUnlocated(row_group, column, prefer_dictionary);
    if (!col.ok()) return Located(col.status());
    return col;
  }
  // (name, physical type, optional, integer width or 0, converted type or -1,
  // logical type id or 0, signed) per column.
  py::list columns() const {
    py::list out;
    for (const parquet::ColumnInfo& c : info_.columns) {
      out.append(py::make_tuple(c.name, static_cast<int>(c.type), c.optional, c.int_bits, c.converted_type,
                                c.logical_type, c.is_signed));
    }
    return out;
  }

  // (buffers made, buffers reused, bytes kept) of the buffer pool.
  py::tuple pool_stats() const {
    const parquet::BufferPool::Stats s = pool_->stats();
    return py::make_tuple(s.allocated, s.reused, s.free_bytes);
  }

  py::dict read(int row_group, int column, bool prefer_dictionary) const {
    absl::StatusOr<parquet::Column> col;
    {
      py::gil_scoped_release release;
      col = ReadChunk(row_group, column, prefer_dictionary);
    }
    ThrowIfError(col.status());
    auto* owned = new parquet::Column(*std::move(col));
    py::capsule owner(owned, [](void* p) { delete static_cast<parquet::Column*>(p); });
    py::dict d;
    d["length"] = owned->length;
    d["null_count"] = owned->null_count;
    d["validity"] = owned->validity.empty()
                        ? py::object(py::none())
                        : py::object(Over(owned->validity.as<uint8_t>(), owned->validity.size(), owner));
    switch (owned->kind) {
      case parquet::Column::Kind::kStringViews: {
        d["kind"] = "views";
        d["views"] = Over(owned->views.as<uint8_t>(), owned->views.size(), owner);
        py::list buffers;
        for (const parquet::Buffer& b : owned->buffers) buffers.append(Over(b.as<uint8_t>(), b.size(), owner));
        d["buffers"] = buffers;
        break;
      }
      case parquet::Column::Kind::kStringDictionary:
        d["kind"] = "dictionary";
        d["indices"] = Over(owned->indices.as<int32_t>(), owned->indices.size() / 4, owner);
        d["offsets"] = Over(owned->dict_offsets.data(), owned->dict_offsets.size(), owner);
        d["data"] = Over(reinterpret_cast<const uint8_t*>(owned->dict_data.data()), owned->dict_data.size(), owner);
        break;
      case parquet::Column::Kind::kInt32:
        d["kind"] = "int32";
        d["values"] = Over(owned->values.as<int32_t>(), owned->values.size() / 4, owner);
        break;
      case parquet::Column::Kind::kInt64:
        d["kind"] = "int64";
        d["values"] = Over(owned->values.as<int64_t>(), owned->values.size() / 8, owner);
        break;
    }
    return d;
  }

 private:
  absl::Status Located(const absl::Status& st) const {
    if (st.ok()) return st;
    return absl::Status(st.code(), absl::StrCat(path_, ": ", st.message()));
  }

  absl::Status ReadInfo() {
    const uint64_t size = file_->size();
    if (size < 12) return absl::InvalidArgumentError("not a Parquet file (too short)");
    char head[4];
    char last8[8];
    absl::Status st = file_->Read(0, 4, head);
    if (st.ok()) st = file_->Read(size - 8, 8, last8);
    if (!st.ok()) return st;
    const uint32_t n = parquet::FooterLength(absl::string_view(last8, 8));
    if (absl::string_view(head, 4) != "PAR1" || n == 0 || n > size - 12) {
      return absl::InvalidArgumentError("not a Parquet file (no PAR1 magic, or a bad footer length)");
    }
    std::string tail(static_cast<size_t>(n) + 8, '\0');
    st = file_->Read(size - tail.size(), tail.size(), tail.data());
    if (!st.ok()) return st;
    absl::StatusOr<parquet::FileInfo> info = parquet::ReadFileInfoTail(tail, size);
    if (!info.ok()) return info.status();
    info_ = *std::move(info);
    return absl::OkStatus();
  }

  absl::StatusOr<parquet::Column> ReadChunkUnlocated(int row_group, int column, bool prefer_dictionary) const {
    if (row_group < 0 || row_group >= num_row_groups() || column < 0 ||
        column >= static_cast<int>(info_.columns.size())) {
      return absl::OutOfRangeError(absl::StrCat("no row group ", row_group, " / column ", column));
    }
    const parquet::ChunkInfo& c = info_.row_groups[row_group].chunks[column];
    if (c.start < 0 || c.length < 0 || static_cast<uint64_t>(c.start) > file_->size() ||
        static_cast<uint64_t>(c.length) > file_->size() - static_cast<uint64_t>(c.start)) {
      return absl::DataLossError(absl::StrCat("row group ", row_group, ", column '", info_.columns[column].name,
                                              "': column chunk lies outside the file"));
    }
    parquet::Buffer bytes = pool_->Get(static_cast<size_t>(c.length));
    if (bytes.size() != static_cast<size_t>(c.length)) return absl::ResourceExhaustedError("out of memory");
    absl::Status st = file_->Read(static_cast<uint64_t>(c.start), bytes.size(), bytes.data());
    if (!st.ok()) return st;
    return parquet::ReadColumnChunk(absl::string_view(bytes.data(), bytes.size()), info_, row_group, column,
                                    prefer_dictionary, pool_.get());
  }

  std::string path_;
  std::unique_ptr<OpenFile> file_;
  parquet::FileInfo info_;
  // Decoded chunks hand their memory back here when Python drops them.
  std::unique_ptr<parquet::BufferPool> pool_ = std::make_unique<parquet::BufferPool>();
};

}  // namespace

ParquetChunkSource* AsParquetChunkSource(py::handle file) {
  if (!py::isinstance<PyParquetFile>(file)) return nullptr;
  return file.cast<PyParquetFile*>();
}

void RegisterParquet(py::module_& m) {
  py::class_<PyParquetFile>(m, "ParquetFile")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("num_rows", &PyParquetFile::num_rows)
      .def_property_readonly("num_row_groups", &PyParquetFile::num_row_groups)
      .def("row_group_rows", &PyParquetFile::row_group_rows, py::arg("row_group"))
      .def("columns", &PyParquetFile::columns)
      .def("pool_stats", &PyParquetFile::pool_stats)
      .def("read", &PyParquetFile::read, py::arg("row_group"), py::arg("column"),
           py::arg("prefer_dictionary") = false);
}

}  // namespace bouncekit::python
