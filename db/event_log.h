// EventLog: one line per notable engine event (index rebuilt, snapshot corrupt, retraining),
// appended to <db>/emberdb.log and, when Options::log_to_stderr, echoed to stderr. Like RocksDB's
// LOG file, it is for people and never read back by the engine.
#pragma once

#include <mutex>
#include <string>

namespace emberdb {

class EventLog {
 public:
  // `file` may be empty (read-only handles do not write into the writer's directory).
  EventLog(std::string file, bool to_stderr) : file_(std::move(file)), to_stderr_(to_stderr) {}
  void Log(const std::string& line);

 private:
  std::mutex mu_;
  std::string file_;
  bool to_stderr_;
};

}  // namespace emberdb
