#include "db/event_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace emberdb {

void EventLog::Log(const std::string& line) {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char stamp[32];
  std::tm tm;
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard lock(mu_);
  if (!file_.empty()) {
    if (std::FILE* f = std::fopen(file_.c_str(), "a")) {
      std::fprintf(f, "%s %s\n", stamp, line.c_str());
      std::fclose(f);
    }
  }
  if (to_stderr_) std::fprintf(stderr, "emberdb: %s\n", line.c_str());
}

}  // namespace emberdb
