#include "checkpoint/h5.h"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <regex>
#include <type_traits>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace llmsrec::checkpoint::h5 {

static_assert(std::is_same<hid_t, Id>::value, "h5::Id must be hid_t");

namespace {

// The innermost message of HDF5's error stack (the most specific one).
herr_t collect_error(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && err->desc) *out = err->desc;
  return 0;
}

// The errno that a failed system call deep in HDF5 reported ("..., errno = 28,
// error message = 'No space left on device', ..." from the sec2 driver), or 0.
herr_t collect_errno(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<int*>(data);
  if (*out == 0 && err->desc) {
    if (const char* at = std::strstr(err->desc, "errno = ")) *out = std::atoi(at + 8);
  }
  return 0;
}

// A checksum message anywhere in the stack ("data error detected by Fletcher32
// checksum", "incorrect metadata checksum after all read attempts"): the cause
// to name, though the innermost message is a generic "can't read data".
herr_t collect_checksum(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (out->empty() && err->desc && std::strstr(err->desc, "checksum")) *out = err->desc;
  return 0;
}

std::string library_error() {
  std::string msg, checksum;
  int os_errno = 0;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &msg);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_errno, &os_errno);
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_checksum, &checksum);
  H5Eclear2(H5E_DEFAULT);
  if (!checksum.empty()) return fmt::format("damaged: checksum mismatch, {}", checksum);
  if (msg.empty()) msg = "unknown HDF5 error";
  // A full disk or a read-only mount is the cause to name, not "can't write data".
  return os_errno > 0 ? fmt::format("{}: {}", msg, os_error(os_errno)) : msg;
}

// Every message of HDF5's error stack, outermost first, joined by "; " (the
// open-failure classifier below looks for specific inner messages).
herr_t collect_all_errors(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (err->desc && *err->desc) *out += (out->empty() ? "" : "; ") + std::string(err->desc);
  return 0;
}

std::string library_error_stack() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_all_errors, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg;
}

// HDF5 (1.10+) writers hold flock(LOCK_EX) on a file for as long as they have
// it open (unless HDF5_USE_FILE_LOCKING=FALSE). A non-blocking shared probe
// tells "another process is writing it" apart from a damaged file.
bool locked_by_writer(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the probe's lock
  return locked;
}

IoError being_written_error(const std::string& path) {
  return IoError(fmt::format("'{}' is incomplete: being written by another process (it holds the HDF5 file lock); "
                             "read it once the writer has closed it",
                             path));
}

// Why `path` cannot be opened, in words a user can act on. `hdf5_stack` is
// empty when the file has no HDF5 signature at all. (The lock probe is safe
// here: this process failed to open the file, so it is not its writer.)
IoError open_error(const std::string& path, const std::string& hdf5_stack) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (locked_by_writer(path)) return being_written_error(path);
  if (hdf5_stack.empty()) {
    return IoError(fmt::format("'{}' is truncated or not an HDF5 file: no HDF5 signature in its {} bytes", path,
                               ec ? 0 : size));
  }
  std::smatch m;
  static const std::regex stored_eof(R"(truncated file: eof = (\d+).*stored_eof = (\d+))");
  if (std::regex_search(hdf5_stack, m, stored_eof)) {
    return IoError(fmt::format("'{}' is truncated or not an HDF5 file: it has {} bytes, its HDF5 superblock says {}",
                               path, m[1].str(), m[2].str()));
  }
  if (hdf5_stack.find("checksum") != std::string::npos) {
    return IoError(fmt::format("'{}' is damaged: an HDF5 metadata checksum does not match (bytes flipped or "
                               "overwritten) (HDF5: {})",
                               path, hdf5_stack));
  }
  if (hdf5_stack.find("already open for write") != std::string::npos) {
    return IoError(fmt::format("'{}' is incomplete: marked as open for writing by another process, or its writer "
                               "crashed (`h5clear -s FILE` clears the mark once no writer is left)",
                               path));
  }
  return IoError(fmt::format("'{}' cannot be opened as HDF5 (truncated, damaged or still being written?) (HDF5: {})",
                             path, hdf5_stack));
}

[[noreturn]] void fail(const std::string& what) { throw IoError(fmt::format("{} (HDF5: {})", what, library_error())); }

template <typename R>
R check(R rc, const std::string& what) {
  if (rc < 0) fail(what);
  return rc;
}

int close_file(Id id) { return H5Fclose(id); }
int close_group(Id id) { return H5Gclose(id); }
int close_dataset(Id id) { return H5Dclose(id); }
int close_space(Id id) { return H5Sclose(id); }
int close_type(Id id) { return H5Tclose(id); }
int close_plist(Id id) { return H5Pclose(id); }
int close_attr(Id id) { return H5Aclose(id); }
int close_object(Id id) { return H5Oclose(id); }

template <typename T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, uint8_t>) return H5T_NATIVE_UINT8;
  else if constexpr (std::is_same_v<T, int8_t>) return H5T_NATIVE_INT8;
  else if constexpr (std::is_same_v<T, int32_t>) return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, int64_t>) return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, uint64_t>) return H5T_NATIVE_UINT64;
  else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else static_assert(sizeof(T) == 0, "unsupported HDF5 element type");
}

Handle string_type() {
  Handle t(H5Tcopy(H5T_C_S1), close_type);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

DType classify(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: {
      size_t size = H5Tget_size(type);
      bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
      if (size == 1) return is_signed ? DType::kInt8 : DType::kUInt8;
      if (size == 4 && is_signed) return DType::kInt32;
      if (size == 8) return is_signed ? DType::kInt64 : DType::kUInt64;
      return DType::kOther;
    }
    case H5T_FLOAT: {
      size_t size = H5Tget_size(type);
      if (size == 2) return DType::kFloat16;
      if (size == 4) return DType::kFloat32;
      if (size == 8) return DType::kFloat64;
      return DType::kOther;
    }
    case H5T_STRING: return DType::kString;
    default: return DType::kOther;
  }
}

std::string join(const std::string& base, const std::string& name) {
  if (base.empty() || base == "/") return "/" + name;
  return base + "/" + name;
}

}  // namespace

void silence_library_errors() {
  // Per thread: a thread-safe HDF5 keeps one error stack (and its printing) per thread,
  // and background writers (checkpoint/row_stream_writer.h) open files on their own thread.
  static thread_local bool silenced = false;
  if (!silenced) H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  silenced = true;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kUInt64: return "uint64";
    case DType::kFloat16: return "float16";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kString: return "string";
    default: return "other";
  }
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

// ---------------------------------------------------------------- attributes

std::string Object::where(const std::string& child) const {
  return fmt::format("{}:{}", file_, child.empty() ? path_ : join(path_, child));
}

namespace {
void write_attr(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, const void* value,
                const std::string& where) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle space(check(H5Screate(H5S_SCALAR), "create dataspace"), close_space);
  Handle attr(H5Acreate2(obj, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), close_attr);
  if (!attr) fail(fmt::format("create attribute '{}' on {}", name, where));
  check(H5Awrite(attr.get(), mem_type, value), fmt::format("write attribute '{}' on {}", name, where));
}
}  // namespace

// Fixed-length, so the text sits in the object header, which HDF5 checksums
// (a variable-length string would live in the unchecksummed global heap).
void Object::set_attr(const std::string& name, const std::string& value) {
  Handle t(H5Tcopy(H5T_C_S1), close_type);
  H5Tset_size(t.get(), value.size() + 1);
  H5Tset_strpad(t.get(), H5T_STR_NULLTERM);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  write_attr(id(), name, t.get(), t.get(), value.c_str(), where());
}
void Object::set_attr(const std::string& name, int64_t value) {
  write_attr(id(), name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value, where());
}
void Object::set_attr(const std::string& name, double value) {
  write_attr(id(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value, where());
}

bool Object::has_attr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

namespace {
Handle open_attr(hid_t obj, const std::string& name, const std::string& where) {
  if (H5Aexists(obj, name.c_str()) <= 0) {
    throw IoError(fmt::format("{}: attribute '{}' is missing", where, name));
  }
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), close_attr);
  if (!a) fail(fmt::format("open attribute '{}' on {}", name, where));
  return a;
}
}  // namespace

std::string Object::attr_string(const std::string& name) const {
  Handle a = open_attr(id(), name, where());
  Handle ftype(H5Aget_type(a.get()), close_type);
  if (H5Tget_class(ftype.get()) != H5T_STRING) {
    throw IoError(fmt::format("{}: attribute '{}' is not a string", where(), name));
  }
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Handle mt = string_type();
    char* p = nullptr;
    check(H5Aread(a.get(), mt.get(), &p), fmt::format("read attribute '{}' on {}", name, where()));
    std::string out = p ? p : "";
    H5free_memory(p);
    return out;
  }
  size_t n = H5Tget_size(ftype.get());
  std::string out(n, '\0');
  Handle mt(H5Tcopy(ftype.get()), close_type);  // same size, padding and character set
  check(H5Aread(a.get(), mt.get(), out.data()), fmt::format("read attribute '{}' on {}", name, where()));
  out.resize(std::strlen(out.c_str()));
  return out;
}

int64_t Object::attr_int(const std::string& name) const {
  Handle a = open_attr(id(), name, where());
  int64_t v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_INT64, &v), fmt::format("read attribute '{}' on {} as integer", name, where()));
  return v;
}

double Object::attr_double(const std::string& name) const {
  Handle a = open_attr(id(), name, where());
  double v = 0;
  check(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v), fmt::format("read attribute '{}' on {} as number", name, where()));
  return v;
}

std::vector<std::string> Object::attr_names() const {
  std::vector<std::string> names;
  H5O_info_t info;
  check(H5Oget_info2(id(), &info, H5O_INFO_NUM_ATTRS), fmt::format("get info of {}", where()));
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    ssize_t len = H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(fmt::format("list attributes of {}", where()));
    std::string n(static_cast<size_t>(len) + 1, '\0');
    H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, n.data(), n.size(), H5P_DEFAULT);
    n.resize(static_cast<size_t>(len));
    names.push_back(n);
  }
  return names;
}

std::string Object::attr_as_text(const std::string& name) const {
  Handle a = open_attr(id(), name, where());
  Handle t(H5Aget_type(a.get()), close_type);
  switch (H5Tget_class(t.get())) {
    case H5T_STRING: return attr_string(name);
    case H5T_INTEGER: return std::to_string(attr_int(name));
    case H5T_FLOAT: return fmt::format("{}", attr_double(name));
    default: return "<unsupported attribute type>";
  }
}

// ---------------------------------------------------------------- groups

bool Group::exists(const std::string& path) const {
  // Check each prefix: H5Lexists fails (not false) when an intermediate link is missing.
  size_t pos = 0;
  while (true) {
    size_t slash = path.find('/', pos);
    std::string prefix = path.substr(0, slash);
    if (H5Lexists(id(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    pos = slash + 1;
  }
}

bool Group::is_group(const std::string& path) const {
  if (!exists(path)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(id(), path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  H5G_info_t info;
  check(H5Gget_info(id(), &info), fmt::format("get info of {}", where()));
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) fail(fmt::format("list {}", where()));
    std::string n(static_cast<size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, n.data(), n.size(), H5P_DEFAULT);
    n.resize(static_cast<size_t>(len));
    names.push_back(n);
  }
  return names;
}

Group Group::create_group(const std::string& name) {
  Handle g(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), close_group);
  if (!g) fail(fmt::format("create group {}", where(name)));
  return Group(std::move(g), file_, join(path_, name));
}

Group Group::open_group(const std::string& name) const {
  if (!exists(name)) throw IoError(fmt::format("{}: group is missing", where(name)));
  Handle g(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), close_group);
  if (!g) fail(fmt::format("open group {}", where(name)));
  return Group(std::move(g), file_, join(path_, name));
}

Object Group::open_object(const std::string& name) const {
  if (!exists(name)) throw IoError(fmt::format("{}: object is missing", where(name)));
  Handle o(H5Oopen(id(), name.c_str(), H5P_DEFAULT), close_object);
  if (!o) fail(fmt::format("open {}", where(name)));
  return Object(std::move(o), file_, join(path_, name));
}

namespace {
// Every dataset with data is chunked and Fletcher32-checksummed, so a flipped or
// overwritten byte is an error on read (HDF5 verifies each chunk), never a silent
// wrong value. Without an explicit chunking, chunks of about kChecksumChunkBytes.
constexpr uint64_t kChecksumChunkBytes = uint64_t{1} << 20;

Handle make_create_plist(const std::vector<uint64_t>& dims, size_t element_bytes, const WriteOptions& opt,
                         const std::string& where) {
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), close_plist);
  uint64_t count = 1;
  for (auto d : dims) count *= d;
  if (dims.empty() || count == 0) return plist;  // scalars and empty datasets hold no chunk to check
  uint64_t row_bytes = element_bytes;
  for (size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
  const uint64_t rows =
      opt.chunk_rows > 0 ? opt.chunk_rows : std::max<uint64_t>(1, kChecksumChunkBytes / std::max<uint64_t>(1, row_bytes));
  std::vector<hsize_t> chunk(dims.begin(), dims.end());
  chunk[0] = std::min<hsize_t>(rows, dims[0]);
  check(H5Pset_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data()), "set chunk for " + where);
  if (opt.gzip_level > 0) {
    check(H5Pset_shuffle(plist.get()), "set shuffle for " + where);
    check(H5Pset_deflate(plist.get(), static_cast<unsigned>(opt.gzip_level)), "set gzip for " + where);
  }
  if (element_bytes > 0) check(H5Pset_fletcher32(plist.get()), "set Fletcher32 checksum for " + where);
  return plist;
}


Handle open_dataset(hid_t loc, const std::string& name, const std::string& where) {
  if (H5Lexists(loc, name.c_str(), H5P_DEFAULT) <= 0 && name.find('/') == std::string::npos) {
    throw IoError(fmt::format("{}: dataset is missing", where));
  }
  Handle d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), close_dataset);
  if (!d) fail(fmt::format("open dataset {}", where));
  return d;
}

std::vector<uint64_t> dataset_dims(hid_t dset, const std::string& where) {
  Handle space(H5Dget_space(dset), close_space);
  int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail("get rank of " + where);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return std::vector<uint64_t>(dims.begin(), dims.end());
}

// Creates a numeric dataset of `dims` (contiguous or chunked per `opt`).
Handle create_numeric(hid_t loc, hid_t type, const std::string& name, const std::vector<uint64_t>& dims,
                      const WriteOptions& opt, const std::string& where) {
  std::vector<hsize_t> hd(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(hd.size()), hd.data(), nullptr), close_space);
  if (!space) fail("create dataspace for " + where);
  Handle plist = make_create_plist(dims, H5Tget_size(type), opt, where);
  Handle d(H5Dcreate2(loc, name.c_str(), type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT), close_dataset);
  if (!d) fail(fmt::format("create dataset {}", where));
  return d;
}

// File and memory dataspaces selecting rows [row_begin, row_begin + rows) of `dset`.
struct RowSelection {
  Handle file_space, mem_space;
};
RowSelection select_rows(hid_t dset, const std::vector<uint64_t>& dims, uint64_t row_begin, uint64_t rows,
                         const std::string& where) {
  std::vector<hsize_t> start(dims.size(), 0), count(dims.begin(), dims.end());
  start[0] = row_begin;
  count[0] = rows;
  RowSelection sel{Handle(H5Dget_space(dset), close_space), Handle()};
  check(H5Sselect_hyperslab(sel.file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "select rows of " + where);
  sel.mem_space = Handle(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), close_space);
  return sel;
}
}  // namespace

template <typename T>
void Group::write(const std::string& name, const T* data, const std::vector<uint64_t>& dims, const WriteOptions& opt) {
  Handle d = create_numeric(id(), native_type<T>(), name, dims, opt, where(name));
  uint64_t count = 1;
  for (auto x : dims) count *= x;
  if (count > 0) {
    check(H5Dwrite(d.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          fmt::format("write dataset {}", where(name)));
  }
}

template <typename T>
void Group::create_dataset(const std::string& name, const std::vector<uint64_t>& dims, const WriteOptions& opt) {
  Handle d = create_numeric(id(), native_type<T>(), name, dims, opt, where(name));
}

template <typename T>
void Group::write_rows(const std::string& name, uint64_t row_begin, const T* data, uint64_t rows) {
  Handle d = open_dataset(id(), name, where(name));
  auto dims = dataset_dims(d.get(), where(name));
  if (dims.empty() || row_begin + rows > dims[0]) {
    throw IoError(fmt::format("{}: cannot write rows [{}, {}): dataset has {} rows", where(name), row_begin,
                              row_begin + rows, dims.empty() ? 0 : dims[0]));
  }
  if (rows == 0) return;
  RowSelection sel = select_rows(d.get(), dims, row_begin, rows, where(name));
  check(H5Dwrite(d.get(), native_type<T>(), sel.mem_space.get(), sel.file_space.get(), H5P_DEFAULT, data),
        fmt::format("write rows [{}, {}) of {}", row_begin, row_begin + rows, where(name)));
}

// Fixed-length (width = the longest), gzip-compressed and Fletcher32-checked like
// numbers. Not variable-length: those live in HDF5's global heap, which has no
// checksum, and HDF5 1.10 reads a damaged heap length past its buffer (SIGSEGV
// in H5HG_read, found by DataDatasetIo.FlippedBytesAreAnErrorOrHarmless).
void Group::write_strings(const std::string& name, const std::vector<std::string>& v, const WriteOptions& opt) {
  size_t width = 1;
  for (const auto& s : v) {
    if (s.find('\0') != std::string::npos) {
      throw IoError(fmt::format("{}: string {} contains a NUL byte (not storable)", where(name), &s - v.data()));
    }
    width = std::max(width, s.size());
  }
  std::vector<char> buf(v.size() * width, '\0');
  for (size_t i = 0; i < v.size(); ++i) std::memcpy(buf.data() + i * width, v[i].data(), v[i].size());
  hsize_t n = v.size();
  Handle space(H5Screate_simple(1, &n, nullptr), close_space);
  Handle t(H5Tcopy(H5T_C_S1), close_type);
  H5Tset_size(t.get(), width);
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  WriteOptions o = opt;
  if (o.gzip_level == 0) o.gzip_level = 4;  // the padding of short strings compresses away
  Handle plist = make_create_plist({n}, width, o, where(name));
  Handle d(H5Dcreate2(id(), name.c_str(), t.get(), space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT), close_dataset);
  if (!d) fail(fmt::format("create dataset {}", where(name)));
  if (n > 0) {
    check(H5Dwrite(d.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
          fmt::format("write dataset {}", where(name)));
  }
}

template <typename T>
std::vector<T> Group::read(const std::string& name, std::vector<uint64_t>* dims_out) const {
  Handle d = open_dataset(id(), name, where(name));
  auto dims = dataset_dims(d.get(), where(name));
  uint64_t count = 1;
  for (auto x : dims) count *= x;
  Handle ftype(H5Dget_type(d.get()), close_type);
  H5T_class_t cls = H5Tget_class(ftype.get());
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
    throw IoError(fmt::format("{}: expected a numeric dataset, found {}", where(name),
                              dtype_name(classify(ftype.get()))));
  }
  std::vector<T> out(count);
  if (count > 0) {
    check(H5Dread(d.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
          fmt::format("read dataset {}", where(name)));
  }
  if (dims_out) *dims_out = dims;
  return out;
}

template <typename T>
std::vector<T> Group::read_rows(const std::string& name, uint64_t row_begin, uint64_t rows) const {
  Handle d = open_dataset(id(), name, where(name));
  auto dims = dataset_dims(d.get(), where(name));
  if (dims.empty() || row_begin + rows > dims[0]) {
    throw IoError(fmt::format("{}: rows [{}, {}) out of range (dataset has {} rows)", where(name), row_begin,
                              row_begin + rows, dims.empty() ? 0 : dims[0]));
  }
  uint64_t row_elems = 1;
  for (size_t i = 1; i < dims.size(); ++i) row_elems *= dims[i];
  std::vector<T> out(rows * row_elems);
  if (rows == 0) return out;
  RowSelection sel = select_rows(d.get(), dims, row_begin, rows, where(name));
  check(H5Dread(d.get(), native_type<T>(), sel.mem_space.get(), sel.file_space.get(), H5P_DEFAULT, out.data()),
        fmt::format("read rows of {}", where(name)));
  return out;
}

std::vector<std::string> Group::read_strings(const std::string& name) const {
  Handle d = open_dataset(id(), name, where(name));
  auto dims = dataset_dims(d.get(), where(name));
  Handle ftype(H5Dget_type(d.get()), close_type);
  if (H5Tget_class(ftype.get()) != H5T_STRING) {
    throw IoError(fmt::format("{}: expected a string dataset, found {}", where(name), dtype_name(classify(ftype.get()))));
  }
  uint64_t n = dims.empty() ? 1 : dims[0];
  std::vector<std::string> out;
  out.reserve(n);
  if (H5Tis_variable_str(ftype.get()) > 0) {
    std::vector<char*> ptrs(n, nullptr);
    Handle mt = string_type();
    if (n > 0) {
      check(H5Dread(d.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
            fmt::format("read dataset {}", where(name)));
    }
    for (auto* p : ptrs) out.emplace_back(p ? p : "");
    Handle space(H5Dget_space(d.get()), close_space);
    if (n > 0) H5Dvlen_reclaim(mt.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    size_t width = H5Tget_size(ftype.get());
    std::vector<char> buf(n * width);
    Handle mt(H5Tcopy(ftype.get()), close_type);  // same width, padding and character set
    if (n > 0) {
      check(H5Dread(d.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()),
            fmt::format("read dataset {}", where(name)));
    }
    for (uint64_t i = 0; i < n; ++i) {
      const char* p = buf.data() + i * width;
      out.emplace_back(p, strnlen(p, width));
    }
  }
  return out;
}

DatasetInfo Group::info(const std::string& name) const {
  Handle d = open_dataset(id(), name, where(name));
  DatasetInfo info;
  Handle space(H5Dget_space(d.get()), close_space);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0))), maxd(dims.size());
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), maxd.data());
  for (size_t i = 0; i < dims.size(); ++i) {
    info.dims.push_back(dims[i]);
    info.max_dims.push_back(maxd[i] == H5S_UNLIMITED ? UINT64_MAX : maxd[i]);
  }
  Handle t(H5Dget_type(d.get()), close_type);
  info.dtype = classify(t.get());
  Handle plist(H5Dget_create_plist(d.get()), close_plist);
  if (H5Pget_layout(plist.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(dims.size());
    H5Pget_chunk(plist.get(), static_cast<int>(chunk.size()), chunk.data());
    info.chunk.assign(chunk.begin(), chunk.end());
    int nfilters = H5Pget_nfilters(plist.get());
    for (int i = 0; i < nfilters; ++i) {
      unsigned flags = 0, cd[8] = {0};
      size_t ncd = 8;
      H5Z_filter_t f = H5Pget_filter2(plist.get(), static_cast<unsigned>(i), &flags, &ncd, cd, 0, nullptr, nullptr);
      std::string part = f == H5Z_FILTER_DEFLATE ? fmt::format("gzip-{}", ncd > 0 ? cd[0] : 0)
                         : f == H5Z_FILTER_SHUFFLE ? "shuffle"
                         : f == H5Z_FILTER_FLETCHER32 ? "fletcher32"
                                                   : fmt::format("filter-{}", f);
      info.compression += (info.compression.empty() ? "" : "+") + part;
    }
  }
  info.storage_bytes = H5Dget_storage_size(d.get());
  return info;
}

#define LLMSREC_H5_INSTANTIATE(T)                                                                                   \
  template void Group::write<T>(const std::string&, const T*, const std::vector<uint64_t>&, const WriteOptions&);   \
  template std::vector<T> Group::read<T>(const std::string&, std::vector<uint64_t>*) const;                         \
  template std::vector<T> Group::read_rows<T>(const std::string&, uint64_t, uint64_t) const;                    \
  template void Group::create_dataset<T>(const std::string&, const std::vector<uint64_t>&, const WriteOptions&);   \
  template void Group::write_rows<T>(const std::string&, uint64_t, const T*, uint64_t);
LLMSREC_H5_INSTANTIATE(uint8_t)
LLMSREC_H5_INSTANTIATE(int8_t)
LLMSREC_H5_INSTANTIATE(int32_t)
LLMSREC_H5_INSTANTIATE(int64_t)
LLMSREC_H5_INSTANTIATE(uint64_t)
LLMSREC_H5_INSTANTIATE(float)
LLMSREC_H5_INSTANTIATE(double)
#undef LLMSREC_H5_INSTANTIATE

// ---------------------------------------------------------------- files

File File::create(const std::string& path) {
  silence_library_errors();
  // Strong close: closing the file closes every object still open in it, so a
  // commit() really has the bytes on disk before the rename.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), close_plist);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  // The 1.10 file format checksums all metadata (superblock, object headers with
  // their attributes, chunk indexes): a damaged file fails to open or read.
  check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_LATEST), "set HDF5 format for " + path);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), close_file);
  if (!f) fail(fmt::format("create HDF5 file '{}'", path));
  return File(std::move(f), path, "/");
}

File File::open(const std::string& path, bool writable) {
  silence_library_errors();
  FILE* probe = std::fopen(path.c_str(), "rb");
  if (!probe) throw IoError(fmt::format("'{}': cannot open: {}", path, std::strerror(errno)));
  std::fclose(probe);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw open_error(path, "");
  }
  Handle f(H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT), close_file);
  if (!f) throw open_error(path, library_error_stack());
  return File(std::move(f), path, "/");
}

void check_not_being_written(const std::string& path) {
  if (locked_by_writer(path)) throw being_written_error(path);
}

void File::flush() { check(H5Fflush(id(), H5F_SCOPE_GLOBAL), fmt::format("flush '{}'", file_)); }

struct AtomicFile::Impl {
  core::AtomicOutput out;
  std::unique_ptr<File> file;
  explicit Impl(const std::string& path) : out(path) {}
};

AtomicFile::AtomicFile(const std::string& path) : impl_(std::make_unique<Impl>(path)) {
  impl_->file = std::make_unique<File>(File::create(impl_->out.tmp_path()));
}

AtomicFile::~AtomicFile() = default;

Group& AtomicFile::root() {
  LLMSREC_ASSERT(impl_->file, "AtomicFile used after commit");
  return *impl_->file;
}

const std::string& AtomicFile::path() const { return impl_->out.path(); }

void AtomicFile::commit() {
  LLMSREC_ASSERT(impl_->file, "AtomicFile committed twice");
  impl_->file->flush();
  impl_->file.reset();  // closes every handle of the file
  impl_->out.commit();
}

}  // namespace llmsrec::checkpoint::h5
