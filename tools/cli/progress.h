// Progress reporting for long commands (ingest, import, demo), on stderr.
//
// On a terminal: one self-redrawing line with a bar, units done/total, passages, passages/s and
// an ETA, at most 10 redraws a second. Elsewhere (logs, pipes, tests): a plain line every few
// seconds. Quiet mode prints nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace emberdb::cli {

class Progress {
 public:
  enum class Mode { kQuiet, kTerminal, kPlain };

  // `unit` names what total_units counts ("files", "packages").
  Progress(Mode mode, std::string unit, FILE* out = stderr);
  // Terminal mode when stderr is a terminal, plain otherwise (quiet when `quiet`).
  static Mode DetectMode(bool quiet);

  // `work` is the size (e.g. bytes) that the ETA is computed from; 0 means use units.
  void SetTotal(uint64_t units, uint64_t work);
  void Update(uint64_t units_done, uint64_t work_done, uint64_t passages);
  // Clears the terminal line so the summary starts on a clean line.
  void Finish();

  double ElapsedSeconds() const;

  // "1:05", "2:03:04".
  static std::string FormatDuration(double seconds);

 private:
  void Draw(bool force);

  Mode mode_;
  std::string unit_;
  FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  uint64_t total_units_ = 0, total_work_ = 0;
  uint64_t units_ = 0, work_ = 0, passages_ = 0;
  bool drawn_ = false;
};

}  // namespace emberdb::cli
