// IndexManager: the in-memory search index of one collection. It is derived from the vectors
// in storage (the source of truth) and kept in step with every committed write.
//
// Lifecycle: a collection is searched exactly (a Flat index) until it holds
// CollectionOptions::train_threshold vectors; then a background thread trains the IVF index the
// options name, fills it from a storage snapshot, replays the change log written meanwhile, and
// swaps it in atomically. When the collection grows to 4x the size it was trained at, the same
// happens again. Writes and queries go on during training, served by the previous index.
//
// Persistence: a trained index is saved to <db>/index/<cid>.idx (write to a temporary file,
// fsync, rename) tagged with the change-log sequence it reflects. On open it is loaded, its
// checksum verified, and the change log after its sequence replayed; a missing, corrupt or stale
// snapshot is rebuilt from storage, and the event log says so.
//
// Concurrency: searches take the index lock shared; applying a committed write takes it
// exclusively for the duration of the add/remove only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "ann/vector_index.h"
#include "db/catalog.h"
#include "db/event_log.h"
#include "emberdb/db.h"
#include "storage/store.h"

namespace emberdb {
namespace ann {
class MigratingIndex;
}

// Where a collection's index lives and reports.
struct IndexEnv {
  std::shared_ptr<storage::Store> store;
  std::shared_ptr<EventLog> log;
  std::string snapshot_dir;  // <db>/index
};

class IndexManager {
 public:
  IndexManager(IndexEnv env, uint32_t cid, std::string collection_name,
               const CollectionOptions& options);
  ~IndexManager();

  // Builds the serving index: the saved snapshot brought up to date, else exact from storage
  // (and then trains in the background when the collection is large enough).
  Status Load();

  // Applies a write that storage has committed (the collection's write lock is held) and that
  // brought the change log to `seq`. `vectors` are in index space, add_labels.size() * dimension
  // floats.
  void Apply(const std::vector<int64_t>& add_labels, const std::vector<float>& vectors,
             const std::vector<int64_t>& remove_labels, uint64_t seq);

  // k nearest labels per query, in ann distance space (see ann/vector_index.h); label -1 where
  // fewer than k exist.
  void Search(size_t nq, const float* queries, size_t k, int nprobe, const ann::LabelFilter* filter,
              std::vector<float>* distances, std::vector<int64_t>* labels) const;

  // The nprobe a search with nprobe 0 uses (0 while exact).
  int default_nprobe() const;
  void FillStats(CollectionStats* stats) const;
  // Waits until no training runs. A run waiting for a bulk load to pause starts at once: the
  // caller says the load is done.
  void Wait();
  // Cancels a training run and waits for its thread; called before drop and close.
  void Stop();
  // Saves the serving index if it is trained and has changed since it was last saved.
  Status SaveIfChanged();
  // Removes the snapshot file (the collection was dropped).
  void RemoveSnapshot();

  ann::Metric ann_metric() const { return ann_metric_; }

 private:
  Status LoadSnapshot(uint64_t current_seq, std::unique_ptr<ann::VectorIndex>* out,
                      uint64_t* trained_at, uint64_t* snapshot_seq);
  Status BuildExact(std::unique_ptr<ann::VectorIndex>* out, uint64_t* seq);
  // Replays change-log entries after `from_seq` onto `index`; returns the last seq applied.
  Status CatchUp(ann::VectorIndex* index, uint64_t from_seq, uint64_t* last_seq);
  Status FetchVectors(size_t n, const int64_t* labels, float* out, bool* all_found) const;
  void MaybeStartTraining();  // mu_ held exclusively by the caller
  // The collection has grown to 4x the size the index was trained at (mu_ held).
  bool DueForRetrain() const { return trained_at_ > 0 && index_->size() >= 4 * trained_at_; }
  void TrainInBackground();
  // Returns once no write has been applied for `quiet`, or after `max_wait`, or at once when
  // Wait() or Stop() was called.
  void WaitForWritePause(std::chrono::milliseconds quiet, std::chrono::seconds max_wait) const;
  // One training run; true when it succeeded and the collection is already due for another.
  bool TrainOnce();
  // What choosing nprobe measures recall against: queries drawn from the training sample, and
  // their exact neighbours among labels below `label_bound`, gathered while the vectors pass on
  // their way into the new index (no second pass over storage). Null truth: nprobe is fixed by
  // the options.
  struct NprobeTuning {
    std::unique_ptr<ann::ExactNeighbors> truth;
    int64_t label_bound = 0;
  };
  // Samples `view` and trains an empty index of the collection's kind; `trained_at` is the
  // collection size and `seq` the change-log sequence at `view`. Sets up `tuning`'s queries.
  Status TrainEmpty(const storage::ReadView* view, std::unique_ptr<ann::VectorIndex>* out,
                    uint64_t* trained_at, uint64_t* seq, NprobeTuning* tuning);
  Status FillFromStorage(const storage::ReadView* view, ann::VectorIndex* ivf,
                         NprobeTuning* tuning);
  // Two ways to bring a trained index into service. FillAndSwap fills it from storage next to
  // the serving index and swaps (used when the serving index keeps only compressed codes: the
  // two together are small). MoveIntoNewIndex moves the vectors of a serving index that holds
  // them exactly (Flat, IVF-Flat) into the new one, so that no vector is held twice.
  Status FillAndSwap(const storage::ReadView* view, std::unique_ptr<ann::VectorIndex> ivf,
                     uint64_t trained_at, uint64_t seq, NprobeTuning* tuning, bool* due_again);
  Status MoveIntoNewIndex(std::unique_ptr<ann::VectorIndex> ivf, uint64_t trained_at,
                          NprobeTuning* tuning, bool* due_again);
  // Gives back the spare capacity of the serving index (see VectorIndex) and free pages.
  void ReleaseSpareCapacity();
  Status ChooseDefaultNprobe(ann::VectorIndex* ivf, const NprobeTuning& tuning);
  // Writes the snapshot file. With `lock` (held on mu_ by the caller), releases it once the
  // bytes are written, before the fsync: writers wait for the copy, not for the disk.
  Status Save(const ann::VectorIndex& index, uint64_t seq, uint64_t trained_at,
              std::shared_lock<std::shared_mutex>* lock = nullptr);
  // Saves the serving index (not while it is being migrated) and trims the change log.
  Status SaveServing(bool only_if_changed = false);
  void TrimChangeLog(uint64_t up_to_seq);
  uint64_t CurrentSeq() const;
  Status ReadCounters(const storage::ReadView* view, Counters* out) const;
  // Streams stored vectors (in label order, converted to index space) to `sink` in chunks: all
  // of them when `every` <= 1, else evenly spaced ones, one per `every` rows (fractional: a
  // sample of exactly count / every). The sink returns false to stop early. Stops with Aborted
  // on Stop().
  using VectorSink = std::function<bool(size_t n, const int64_t* labels, const float* vectors)>;
  Status ScanVectors(const storage::ReadView* view, double every, const VectorSink& sink) const;
  std::string SnapshotPath() const;

  IndexEnv env_;
  const uint32_t cid_;
  const std::string name_;
  const CollectionOptions options_;
  const ann::Metric ann_metric_;
  ann::IndexSpec spec_;
  ann::VectorFetcher fetcher_;  // exact vectors from storage, for re-ranking

  mutable std::shared_mutex mu_;  // guards the serving index and the fields below
  std::unique_ptr<ann::VectorIndex> index_;
  ann::MigratingIndex* migrating_ = nullptr;  // index_, while a retrain moves its vectors
  uint64_t trained_at_ = 0;                   // 0 while exact
  uint64_t applied_seq_ = 0;                  // the change log sequence the index reflects
  uint64_t saved_seq_ = 0;                    // the sequence of the snapshot on disk

  std::mutex save_mu_;           // serialises writers of the snapshot file
  mutable std::mutex train_mu_;  // guards the training thread's lifecycle
  std::condition_variable train_cv_;
  std::thread trainer_;
  bool training_ = false;
  uint64_t failed_at_ = 0;  // size at which training last failed: retried at twice that
  std::atomic<bool> stop_{false};
  std::atomic<bool> hurry_{false};          // Wait() was called: skip the pause before training
  std::atomic<bool> awaiting_save_{false};  // the run serves its index and waits to save it
  // Seconds per stage of the current run, for its log line (the trainer thread's only).
  struct RunTimes {
    double pause = 0, train = 0, fill = 0, nprobe = 0, save_pause = 0, save = 0;
  };
  RunTimes run_times_;
  // When the last write was applied (steady clock, ns): training waits for a pause in a bulk
  // load so that it samples the collection at (nearly) its final size and trains once.
  std::atomic<int64_t> last_apply_ns_{0};
  // Bytes of vectors applied since memory was last handed back (see Apply); written under the
  // collection's write lock.
  static constexpr size_t kTrimEveryBytes = size_t{256} << 20;
  size_t added_bytes_ = 0;
};

// Converts a vector to index space: a unit vector under cosine, unchanged otherwise.
void ToIndexSpace(Metric metric, float* v, size_t dim);

}  // namespace emberdb
