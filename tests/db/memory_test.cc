// Options::malloc_mmap_threshold: DB::Open makes glibc serve large blocks (IVF lists) with
// their own mappings, so that freed ones leave the process instead of staying resident.
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "db_test_support.h"

using namespace emberdb;
using namespace emberdb_test;

// Only with glibc's own malloc (sanitizers replace it).
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
namespace {
// glibc marks a chunk served by mmap with bit 1 of the size word just before the pointer.
bool ServedByMmap(const void* p) { return (reinterpret_cast<const size_t*>(p)[-1] & 2) != 0; }
}  // namespace

TEST_CASE("opening a database lowers glibc's mmap threshold to the configured size") {
  // Left alone, glibc raises its threshold to the size of each mmapped block freed: after an
  // 8 MiB block comes and goes, 2 MiB blocks come from the heap.
  void* volatile big = std::malloc(8 << 20);  // volatile: the compiler must not elide it
  REQUIRE(ServedByMmap(big));
  std::memset(big, 1, 8 << 20);
  std::free(big);

  TempDir dir("malloc-threshold");
  auto db = OpenDb(dir.path());  // default Options: 1 MiB
  void* volatile block = std::malloc(2 << 20);
  REQUIRE(block != nullptr);
  CHECK(ServedByMmap(block));
  std::free(block);
  void* volatile small = std::malloc(64 << 10);  // below the threshold: the heap, as before
  CHECK_FALSE(ServedByMmap(small));
  std::free(small);
}
#endif
