// The test runner. `<test binary> --child NAME ARGS...` runs a registered child body instead
// (see child_process.h): crash tests start their victims as fresh processes this way, never by
// a bare fork() of a process that already runs RocksDB and OpenMP threads.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <string>

#include "child_process.h"

// LeakSanitizer: FAISS 1.7.3 (Debian) leaks the partly read inverted lists when read_index
// throws on a corrupt snapshot; emberdb catches the exception and reports Corruption, so the
// tests that feed corrupt snapshots would otherwise fail on a leak that is FAISS's own.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:faiss::read_InvertedLists\nleak:faiss::read_index\n";
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--child") {
    return emberdb_test::RunChild(argv[2], argc - 3, argv + 3);
  }
  return doctest::Context(argc, argv).run();
}
