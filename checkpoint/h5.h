// A small RAII layer over HDF5's C API (the C++ API is not thread-safe, and
// <hdf5.h> stays out of this header). Every handle is move-only and closed by
// the matching H5?close; every failure throws IoError naming the file, the
// object path and HDF5's own message.
//
// Integrity: files use the HDF5 1.10 format (checksummed metadata: superblock,
// object headers with their attributes, chunk indexes); every dataset with data
// is chunked with a Fletcher32 checksum; strings (attributes and datasets) are
// fixed-length, never in the unchecksummed global heap. A damaged byte is an
// IoError ("damaged: checksum mismatch ..."), not a wrong value or a crash.
//
//   auto out = h5::AtomicFile("runs/demo/dataset.h5");     // writes dataset.h5.tmp
//   out.root().set_attr("llmsrec_schema", "dataset/1");
//   out.root().create_group("users").write("offsets", offsets);
//   out.commit();                                          // fsync + rename
//
//   auto f = h5::File::open("runs/demo/dataset.h5");
//   std::vector<int64_t> offsets = f.root().read<int64_t>("users/offsets");
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmsrec::checkpoint::h5 {

using Id = int64_t;  // hid_t; checked against <hdf5.h> in h5.cpp

// Owns one HDF5 identifier; closes it with `close` on destruction.
class Handle {
 public:
  using CloseFn = int (*)(Id);
  Handle() = default;
  Handle(Id id, CloseFn close) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) { reset(); id_ = o.id_; close_ = o.close_; o.id_ = -1; }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Id get() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }
  void reset();

 private:
  Id id_ = -1;
  CloseFn close_ = nullptr;
};

enum class DType { kUInt8, kInt8, kInt32, kInt64, kUInt64, kFloat16, kFloat32, kFloat64, kString, kOther };
const char* dtype_name(DType t);

struct DatasetInfo {
  std::vector<uint64_t> dims;
  std::vector<uint64_t> max_dims;  // UINT64_MAX = unlimited
  DType dtype = DType::kOther;
  std::vector<uint64_t> chunk;     // empty = contiguous
  std::string compression;         // "", "gzip-4", "shuffle+gzip-4"
  uint64_t storage_bytes = 0;
};

struct WriteOptions {
  uint64_t chunk_rows = 0;  // rows per chunk along dim 0; 0 = chunks of about 1 MiB (always chunked: checksums)
  int gzip_level = 0;       // 0 = no compression (requires chunking)
};

// A group or dataset, for attributes.
class Object {
 public:
  Object(Handle h, std::string file, std::string path) : h_(std::move(h)), file_(std::move(file)), path_(std::move(path)) {}
  Id id() const { return h_.get(); }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }

  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, const char* value) { set_attr(name, std::string(value)); }
  void set_attr(const std::string& name, int64_t value);
  void set_attr(const std::string& name, double value);
  bool has_attr(const std::string& name) const;
  std::string attr_string(const std::string& name) const;
  int64_t attr_int(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::vector<std::string> attr_names() const;
  // Any attribute rendered as text (strings as-is, numbers formatted).
  std::string attr_as_text(const std::string& name) const;

 protected:
  std::string where(const std::string& child = "") const;
  Handle h_;
  std::string file_, path_;
};

class Group : public Object {
 public:
  using Object::Object;

  bool exists(const std::string& path) const;  // link exists (nested paths ok)
  bool is_group(const std::string& path) const;
  std::vector<std::string> children() const;   // link names, in creation/name order
  Group create_group(const std::string& name);
  Group open_group(const std::string& name) const;
  Object open_object(const std::string& name) const;

  template <typename T>
  void write(const std::string& name, const T* data, const std::vector<uint64_t>& dims, const WriteOptions& opt = {});
  template <typename T>
  void write(const std::string& name, const std::vector<T>& v, const WriteOptions& opt = {}) {
    write(name, v.data(), {static_cast<uint64_t>(v.size())}, opt);
  }
  // Creates a dataset of `dims` without writing it (unwritten elements read as 0),
  // to be filled piecewise with write_rows (streamed output with bounded memory).
  template <typename T>
  void create_dataset(const std::string& name, const std::vector<uint64_t>& dims, const WriteOptions& opt = {});
  // Writes rows [row_begin, row_begin + rows) along dim 0 of an existing dataset;
  // `data` holds rows * (product of the other dims) values.
  template <typename T>
  void write_rows(const std::string& name, uint64_t row_begin, const T* data, uint64_t rows);
  // Variable-length UTF-8 strings (h5py reads them as str).
  void write_strings(const std::string& name, const std::vector<std::string>& v, const WriteOptions& opt = {});

  // Reads a whole dataset, converting from the stored numeric type to T.
  template <typename T>
  std::vector<T> read(const std::string& name, std::vector<uint64_t>* dims = nullptr) const;
  // Reads rows [row_begin, row_begin + rows) along dim 0.
  template <typename T>
  std::vector<T> read_rows(const std::string& name, uint64_t row_begin, uint64_t rows) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  DatasetInfo info(const std::string& name) const;
};

class File : public Group {
 public:
  static File create(const std::string& path);  // truncates
  // Throws IoError saying what is wrong: missing, "truncated or not an HDF5 file"
  // (with sizes), "incomplete: being written by another process", ...
  static File open(const std::string& path, bool writable = false);
  void flush();

 private:
  using Group::Group;
};

// Throws IoError "'path' is incomplete: being written by another process" when
// a process holds HDF5's write lock on `path` (HDF5 1.10+ writers hold flock
// LOCK_EX while the file is open; HDF5's own read-only open does not check it).
// Readers that show a file to a user (inspect, diff) call it first. Do not call
// it on a file this process has open for writing: its own lock counts too.
void check_not_being_written(const std::string& path);

// An HDF5 file that appears under its name only when complete (temp + fsync + rename).
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  Group& root();
  const std::string& path() const;
  void commit();  // closes the file, fsyncs, renames

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Turns off HDF5's automatic error printing (errors become IoError instead). Idempotent.
void silence_library_errors();

}  // namespace llmsrec::checkpoint::h5
