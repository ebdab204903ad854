#include "progress.h"

#include <unistd.h>

#include <algorithm>

namespace emberdb::cli {
namespace {

constexpr auto kTerminalInterval = std::chrono::milliseconds(100);
constexpr auto kPlainInterval = std::chrono::seconds(5);
constexpr int kBarWidth = 24;

}  // namespace

Progress::Progress(Mode mode, std::string unit, FILE* out)
    : mode_(mode),
      unit_(std::move(unit)),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::Mode Progress::DetectMode(bool quiet) {
  if (quiet) return Mode::kQuiet;
  return isatty(STDERR_FILENO) ? Mode::kTerminal : Mode::kPlain;
}

void Progress::SetTotal(uint64_t units, uint64_t work) {
  total_units_ = units;
  total_work_ = work;
}

void Progress::Update(uint64_t units_done, uint64_t work_done, uint64_t passages) {
  units_ = units_done;
  work_ = work_done;
  passages_ = passages;
  Draw(false);
}

double Progress::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string Progress::FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  const auto total = static_cast<uint64_t>(seconds + 0.5);
  char buffer[32];
  if (total >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu:%02llu",
                  static_cast<unsigned long long>(total / 3600),
                  static_cast<unsigned long long>(total / 60 % 60),
                  static_cast<unsigned long long>(total % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llu:%02llu",
                  static_cast<unsigned long long>(total / 60),
                  static_cast<unsigned long long>(total % 60));
  }
  return buffer;
}

void Progress::Draw(bool force) {
  if (mode_ == Mode::kQuiet) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval =
      mode_ == Mode::kTerminal
          ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(kTerminalInterval)
          : std::chrono::duration_cast<std::chrono::steady_clock::duration>(kPlainInterval);
  if (!force && now - last_draw_ < interval) return;
  last_draw_ = now;
  const double elapsed = ElapsedSeconds();
  const double rate = elapsed > 0 ? passages_ / elapsed : 0;
  // The ETA follows the bytes (or units) done, which track embedding work better than files.
  const uint64_t total = total_work_ > 0 ? total_work_ : total_units_;
  const uint64_t done = total_work_ > 0 ? work_ : units_;
  const double fraction = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0.0;
  std::string eta = "--:--";
  if (fraction > 0 && elapsed > 0.5) eta = FormatDuration(elapsed / fraction - elapsed);
  if (mode_ == Mode::kTerminal) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::string bar(filled, '#');
    bar.resize(kBarWidth, '.');
    std::string passages;
    if (unit_ != "passages") passages = "  " + std::to_string(passages_) + " passages";
    std::fprintf(out_, "\r[%s] %llu/%llu %s%s  %.0f passages/s  ETA %s\x1b[K", bar.c_str(),
                 static_cast<unsigned long long>(units_),
                 static_cast<unsigned long long>(total_units_), unit_.c_str(), passages.c_str(),
                 rate, eta.c_str());
    drawn_ = true;
  } else {
    std::string passages;
    if (unit_ != "passages") passages = ", " + std::to_string(passages_) + " passages";
    std::fprintf(out_, "progress: %llu/%llu %s%s, %.0f passages/s, ETA %s\n",
                 static_cast<unsigned long long>(units_),
                 static_cast<unsigned long long>(total_units_), unit_.c_str(), passages.c_str(),
                 rate, eta.c_str());
  }
  std::fflush(out_);
}

void Progress::Finish() {
  if (mode_ == Mode::kTerminal && drawn_) {
    std::fprintf(out_, "\r\x1b[K");
    std::fflush(out_);
  }
}

}  // namespace emberdb::cli
