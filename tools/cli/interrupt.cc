#include "interrupt.h"

#include <csignal>
#include <cstdlib>

namespace emberdb::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

void OnInterrupt(int) {
  if (g_interrupted) {
    std::signal(SIGINT, SIG_DFL);
    std::raise(SIGINT);
    return;
  }
  g_interrupted = 1;
}

}  // namespace

void InstallInterruptHandler() {
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

bool Interrupted() { return g_interrupted != 0; }

void CountBatchForTestInterrupt() {
  static long remaining = [] {
    const char* value = std::getenv("EMBERDB_TEST_INTERRUPT_AFTER_BATCHES");
    return value ? std::strtol(value, nullptr, 10) : 0L;
  }();
  if (remaining > 0 && --remaining == 0) std::raise(SIGINT);
}

}  // namespace emberdb::cli
