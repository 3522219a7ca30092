// Errors, in two tiers (see STYLE.md):
//  - LLMSREC_ASSERT for states that cannot happen: aborts with file:line.
//  - typed exceptions for bad input or environment. Each maps to a documented
//    process exit code, so `main` catches once and exits with it.
//
//   throw ConfigError(fmt::format("{}:{}: unknown key '{}'", file, line, path));
#pragma once

#include <stdexcept>
#include <string>

namespace llmsrec {

// Process exit codes, documented in README.md.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // an internal error (a bug): please report
  kExitUsage = 2,       // bad command line or config
  kExitPreempted = 3,   // preempted: checkpoint written, requeue me
  kExitCommTimeout = 4, // a rank or collective timed out
  kExitData = 5,        // data or I/O error
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const { return kExitFailure; }
};

// Bad command line, config file, or override.
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitUsage; }
};

// Malformed or inconsistent input data (names file and line where known).
class DataError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitData; }
};

// A failed read/write/rename/fsync, or a library I/O error (HDF5).
class IoError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitData; }
};

// Tensor shape or dtype mismatch (names the tensor).
class ShapeError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitData; }
};

// A collective failed or timed out.
class CommError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitCommTimeout; }
};

// strerror(err) with the errno's name, for the failures a user acts on:
// "No space left on device (ENOSPC)", "Disk quota exceeded (EDQUOT)",
// "Input/output error (EIO)", "Read-only file system (EROFS)".
std::string os_error(int err);

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const std::string& msg);

}  // namespace llmsrec

#define LLMSREC_ASSERT(cond, msg)                                           \
  do {                                                                     \
    if (!(cond)) ::llmsrec::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
