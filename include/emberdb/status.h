// Status: the result of every fallible emberdb call. No exception escapes the API.
// Modelled on LevelDB's Status: cheap when OK, a code plus one human-readable sentence otherwise.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace emberdb {

class Status {
 public:
  enum class Code : unsigned char {
    kOk = 0,
    kNotFound,         // a collection or document that does not exist
    kAlreadyExists,    // Add of an existing id, CreateCollection of an existing name
    kInvalidArgument,  // bad input: dimension, NaN, UTF-8, filter syntax, spec strings...
    kCorruption,       // data read back from disk failed a check
    kIOError,          // the file system or a remote service failed
    kBusy,             // the database directory is locked by another writer
    kNotSupported,     // e.g. a write on a read-only (secondary) handle
    kAborted,          // the operation was cancelled or a callback failed
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status AlreadyExists(std::string_view msg) { return Status(Code::kAlreadyExists, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status Aborted(std::string_view msg) { return Status(Code::kAborted, msg); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsAlreadyExists() const { return code_ == Code::kAlreadyExists; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsAborted() const { return code_ == Code::kAborted; }

  Code code() const { return code_; }
  // The message alone, e.g. "collection 'docs' not found".
  const std::string& message() const { return message_; }
  // "OK", or the code's name and the message: "Not found: collection 'docs' not found".
  std::string ToString() const {
    static constexpr const char* kNames[] = {
        "OK",       "Not found", "Already exists", "Invalid argument", "Corruption",
        "IO error", "Busy",      "Not supported",  "Aborted"};
    if (ok()) return "OK";
    return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
  }

  // Returns a copy whose message is prefixed with `context` and ": ".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }

 private:
  Status(Code code, std::string_view msg) : code_(code), message_(msg) {}
  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace emberdb

// Propagates a non-OK Status to the caller.
#define EMBERDB_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::emberdb::Status _emberdb_s = (expr);   \
    if (!_emberdb_s.ok()) return _emberdb_s; \
  } while (0)
