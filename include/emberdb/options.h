// Options: one struct per concern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "emberdb/document.h"
#include "emberdb/embedder.h"

namespace emberdb {

// How a database is opened.
struct Options {
  // Create the directory and database when missing.
  bool create_if_missing = true;
  // Fail when the database already exists.
  bool error_if_exists = false;
  // Open read-only alongside a running writer (RocksDB secondary instance). Such a handle sees
  // the writer's new data after DB::Refresh(). Writes on it return NotSupported.
  bool read_only = false;
  // The process's thread budget for query, training and embedding work. 0 means the number of
  // hardware threads. FAISS (OpenMP) and OpenBLAS are set to the same budget so that the
  // libraries never oversubscribe the cores between them.
  int threads = 0;
  // RocksDB block cache size.
  size_t block_cache_bytes = 64u << 20;
  // glibc only: the size from which malloc serves a block with its own mapping, which goes back
  // to the system as soon as it is freed. IVF lists are blocks of megabytes that grow by
  // doubling; under glibc's default (a threshold that rises with every large free) they live in
  // the heap, and the blocks they leave behind stay resident: a 1M x 768 IVF-Flat collection
  // peaked at 1.63x its vector bytes, 1.21x with 1 MiB. The setting is process-wide (mallopt),
  // applied by DB::Open; 0 leaves the allocator as the application configured it.
  size_t malloc_mmap_threshold = size_t{1} << 20;
  // Embedder settings, including host-registered embedding functions.
  EmbedderOptions embedder;
  // Print recovery and index events (rebuilds, retraining) to stderr.
  bool log_to_stderr = false;
};

struct WriteOptions {
  // Sync the write-ahead log before acknowledging: survives power loss, not only a process
  // crash. Without it an acknowledged write survives a process crash (the WAL is written
  // before the call returns) but the last writes may be lost if the machine loses power.
  bool sync = false;
};

enum class Metric { kCosine, kL2, kInnerProduct };

// Returns "cosine", "l2", "ip".
const char* MetricName(Metric m);
// Parses "cosine", "l2", "ip" / "inner_product".
bool ParseMetric(const std::string& name, Metric* out);

// How a collection stores and indexes its vectors. Persisted; validated on reopen.
struct CollectionOptions {
  // Vector dimension. 0: take it from the embedder.
  uint32_t dimension = 0;
  Metric metric = Metric::kCosine;
  // Embedder spec (see embedder.h); empty when the application always provides vectors.
  std::string embedder{};
  // FAISS factory-style index description:
  //   "Flat"             exact search always
  //   "IVF,Flat"         IVF with nlist chosen from the size (about 4 * sqrt(N))
  //   "IVF1024,Flat"     IVF with a fixed nlist
  //   "IVF,SQ8"          8-bit scalar quantizer, candidates re-ranked with exact vectors
  //   "IVF,PQ32"         product quantizer with 32 sub-quantizers, re-ranked
  std::string index = "IVF,Flat";
  // Exact search is used until the collection holds this many vectors; then the IVF index is
  // trained on a background thread.
  size_t train_threshold = 10000;
  // Lists probed per query (0: choose automatically, or from target_recall).
  int nprobe = 0;
  // When > 0, nprobe is chosen after each training as the smallest that reaches this
  // recall@10 against exact search on a sample of the collection's own vectors.
  double target_recall = 0.0;
  // Model prompts and truncation policy for the embedder (see EmbedderOptions).
  std::string query_prompt{};     // "" : the model's own
  std::string document_prompt{};  // "" : the model's own
  bool truncation_is_error = false;
};

// How to read documents back. `ids`, `where` and `where_document` combine with AND;
// all empty means every document, in id order.
struct GetOptions {
  std::vector<std::string> ids{};
  std::string where{};           // JSON, Chroma's where language
  std::string where_document{};  // JSON: {"$contains": "..."} / {"$not_contains": "..."}
  size_t limit = SIZE_MAX;
  size_t offset = 0;
  uint32_t include = kIncludeDefault;
};

struct QueryOptions {
  size_t k = 10;
  std::string where{};
  std::string where_document{};
  uint32_t include = kIncludeDefault;
  // Lists probed by an IVF index for this query (0: the collection's setting).
  int nprobe = 0;
};

}  // namespace emberdb
