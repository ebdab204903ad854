// Background training of the IVF index: sample, train, fill from a storage snapshot, replay the
// change log written meanwhile, choose nprobe, save, swap.
#include <malloc.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "ann/index_migration.h"
#include "db/index_manager.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace emberdb {
namespace {

using storage::Cf;

// Lets ann::ChooseNprobe measure the serving index: each search takes the index lock shared,
// so writes go on between the measuring searches; set_default_nprobe takes it exclusively.
class SharedLockedIndex final : public ann::VectorIndex {
 public:
  SharedLockedIndex(std::shared_mutex& mu, ann::VectorIndex& index) : mu_(mu), index_(index) {}
  uint32_t dimension() const override { return index_.dimension(); }
  ann::Metric metric() const override { return index_.metric(); }
  uint64_t size() const override {
    std::shared_lock lock(mu_);
    return index_.size();
  }
  bool Contains(int64_t label) const override {
    std::shared_lock lock(mu_);
    return index_.Contains(label);
  }
  void Add(size_t, const int64_t*, const float*) override { std::abort(); }  // never called
  void Remove(size_t, const int64_t*) override { std::abort(); }
  void Search(size_t nq, const float* queries, size_t k, const ann::SearchParams& params,
              float* distances, int64_t* labels) const override {
    std::shared_lock lock(mu_);
    index_.Search(nq, queries, k, params, distances, labels);
  }
  ann::IndexStats Stats() const override {
    std::shared_lock lock(mu_);
    return index_.Stats();
  }
  int default_nprobe() const override {
    std::shared_lock lock(mu_);
    return index_.default_nprobe();
  }
  void set_default_nprobe(int nprobe) override {
    std::unique_lock lock(mu_);
    index_.set_default_nprobe(nprobe);
  }
  Status WritePayload(faiss::IOWriter*, ann::SnapshotHeader*) const override {
    return Status::NotSupported("not a snapshot source");
  }

 private:
  std::shared_mutex& mu_;
  ann::VectorIndex& index_;
};

class LabelsBelow final : public ann::LabelFilter {
 public:
  explicit LabelsBelow(int64_t bound) : bound_(bound) {}
  bool Contains(int64_t label) const override { return label < bound_; }

 private:
  int64_t bound_;
};

// Seconds since construction or the previous Lap.
class StageTimer {
 public:
  double Lap() {
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

constexpr size_t kTuningQueries = 100;
constexpr size_t kTuningK = 10;
constexpr double kDefaultTargetRecall = 0.95;

}  // namespace

void IndexManager::MaybeStartTraining() {
  if (stop_ || spec_.kind == ann::IndexSpec::Kind::kFlat) return;
  const uint64_t n = index_->size();
  const bool due =
      trained_at_ == 0 ? n >= std::max<size_t>(options_.train_threshold, 1) : DueForRetrain();
  if (!due) return;
  std::lock_guard lock(train_mu_);
  if (training_ || (failed_at_ && n < 2 * failed_at_)) return;
  if (trainer_.joinable()) trainer_.join();  // a finished run
  training_ = true;
  trainer_ = std::thread([this] { TrainInBackground(); });
}

void IndexManager::Wait() {
  std::unique_lock lock(train_mu_);
  if (training_) hurry_ = true;  // cleared when the run ends, so later loads still pause
  train_cv_.wait(lock, [this] { return !training_; });
}

void IndexManager::Stop() {
  std::thread t;
  {
    std::lock_guard lock(train_mu_);
    stop_ = true;
    t = std::move(trainer_);
  }
  if (t.joinable()) t.join();
}

Status IndexManager::TrainEmpty(const storage::ReadView* view,
                                std::unique_ptr<ann::VectorIndex>* out, uint64_t* trained_at,
                                uint64_t* seq, NprobeTuning* tuning) {
  const uint32_t dim = options_.dimension;
  Counters counters;
  EMBERDB_RETURN_IF_ERROR(ReadCounters(view, &counters));
  const uint64_t count = counters.count;
  *seq = counters.change_seq;
  // Exactly as many as ann/ trains on: no larger buffer, no second subsampled copy.
  const size_t budget = std::max<size_t>(1, ann::TrainingSampleSize(spec_, count));
  std::vector<float> sample;
  sample.reserve(budget * dim);
  {
    // A serving index that holds the vectors exactly gives an evenly spaced sample from
    // memory: reading it from storage means iterating over every stored vector (0.2 s at
    // 50,000 x 768, seconds at 1M).
    std::shared_lock lock(mu_);
    if (index_->holds_exact_vectors()) index_->SampleVectors(budget, &sample);
  }
  if (sample.empty()) {
    // An evenly spaced sample in label order: deterministic, and labels are assigned in
    // insertion order, so it spans the collection's whole history.
    EMBERDB_RETURN_IF_ERROR(
        ScanVectors(view, double(count) / budget, [&](size_t n, const int64_t*, const float* v) {
          const size_t take = std::min(n, budget - sample.size() / dim);
          sample.insert(sample.end(), v, v + take * dim);
          return sample.size() < budget * dim;
        }));
  }
  const size_t rows = sample.size() / dim;
  if (options_.nprobe <= 0 && rows > 0) {
    // Tuning queries: evenly spaced rows of the sample, so evenly spaced stored vectors.
    const size_t nq = std::min(kTuningQueries, rows);
    std::vector<float> queries(nq * dim);
    for (size_t i = 0; i < nq; ++i) {
      const float* row = sample.data() + (i * rows / nq) * dim;
      std::copy(row, row + dim, queries.data() + i * dim);
    }
    tuning->truth =
        std::make_unique<ann::ExactNeighbors>(dim, ann_metric_, nq, queries.data(), kTuningK);
  }
  EMBERDB_RETURN_IF_ERROR(
      ann::TrainIvfIndex(spec_, dim, ann_metric_, count, rows, sample.data(), out));
  *trained_at = count;  // the size the centroids describe; retraining is due at 4x this
  return Status::OK();
}

Status IndexManager::FillFromStorage(const storage::ReadView* view, ann::VectorIndex* ivf,
                                     NprobeTuning* tuning) {
  Counters counters;
  EMBERDB_RETURN_IF_ERROR(ReadCounters(view, &counters));
  tuning->label_bound = static_cast<int64_t>(counters.next_label);
  return ScanVectors(view, 1, [&](size_t n, const int64_t* labels, const float* vectors) {
    ivf->Add(n, labels, vectors);
    if (tuning->truth != nullptr) tuning->truth->Add(n, labels, vectors);
    return true;
  });
}

Status IndexManager::ChooseDefaultNprobe(ann::VectorIndex* ivf, const NprobeTuning& tuning) {
  if (options_.nprobe > 0) {
    ivf->set_default_nprobe(options_.nprobe);
    return Status::OK();
  }
  if (tuning.truth == nullptr) return Status::OK();
  const double target = options_.target_recall > 0 ? options_.target_recall : kDefaultTargetRecall;
  const ann::ExactNeighbors& truth = *tuning.truth;
  // The index may be serving and growing while we measure (a bulk load goes on): vectors added
  // after the truth was gathered would push true neighbours out of the results. Labels grow
  // with insertion, so hiding labels from the bound on makes the index answer over (nearly)
  // the set the truth describes, at the same probe cost.
  LabelsBelow before_bound(tuning.label_bound);
  ann::SearchParams base;
  base.refine = spec_.compressed() ? &fetcher_ : nullptr;
  base.filter = &before_bound;
  base.scale_nprobe_to_filter = false;
  ann::NprobeChoice choice;
  EMBERDB_RETURN_IF_ERROR(ann::ChooseNprobe(*ivf, truth.num_queries(), truth.queries(),
                                            truth.labels(), kTuningK, target, base, &choice));
  ivf->set_default_nprobe(choice.nprobe);
  env_.log->Log("collection '" + name_ + "': nprobe " + std::to_string(choice.nprobe) +
                " measured recall@10 " + std::to_string(choice.recall) + " (target " +
                std::to_string(target) + (choice.reached ? ")" : ", not reached)"));
  return Status::OK();
}

Status IndexManager::FillAndSwap(const storage::ReadView* view,
                                 std::unique_ptr<ann::VectorIndex> ivf, uint64_t trained_at,
                                 uint64_t seq, NprobeTuning* tuning, bool* due_again) {
  // Fill from the snapshot the sample came from, replay what was written while we worked (no
  // lock: writes go on), measure nprobe and save, all before the new index serves.
  StageTimer timer;
  EMBERDB_RETURN_IF_ERROR(FillFromStorage(view, ivf.get(), tuning));
  EMBERDB_RETURN_IF_ERROR(CatchUp(ivf.get(), seq, &seq));
  run_times_.fill = timer.Lap();
  if (stop_) return Status::Aborted("index work cancelled");
  EMBERDB_RETURN_IF_ERROR(ChooseDefaultNprobe(ivf.get(), *tuning));
  run_times_.nprobe = timer.Lap();
  bool saved = false;
  if (!stop_ && !env_.store->read_only()) {
    std::lock_guard save_lock(save_mu_);
    Status save = Save(*ivf, seq, trained_at);
    run_times_.save = timer.Lap();
    if (save.ok()) {
      saved = true;
    } else {
      env_.log->Log("collection '" + name_ + "': could not save the index: " + save.ToString());
    }
  }
  if (stop_) return Status::Aborted("index work cancelled");
  {
    std::unique_lock lock(mu_);
    uint64_t last = seq;
    EMBERDB_RETURN_IF_ERROR(CatchUp(ivf.get(), seq, &last));  // the last moments, under the lock
    index_ = std::move(ivf);
    trained_at_ = trained_at;
    applied_seq_ = std::max(applied_seq_, last);
    if (saved) saved_seq_ = seq;
    *due_again = DueForRetrain();
  }
  if (saved) TrimChangeLog(seq);
  ReleaseSpareCapacity();
  return Status::OK();
}

void IndexManager::ReleaseSpareCapacity() {
  // A list at capacity C holds up to C/2 unused (growth by doubling); over a whole collection
  // that is a good share of the index. Copying each list to its size costs ~1 s per 3 GB,
  // done a few lists at a time under the lock. Then hand the freed pages back.
  size_t cursor = 0;
  do {
    std::unique_lock lock(mu_);
    cursor = index_->ReleaseSpareCapacity(cursor);
  } while (cursor != 0);
  malloc_trim(0);
}

Status IndexManager::MoveIntoNewIndex(std::unique_ptr<ann::VectorIndex> ivf, uint64_t trained_at,
                                      NprobeTuning* tuning, bool* due_again) {
  StageTimer timer;
  {
    std::unique_lock lock(mu_);
    // Until nprobe is measured, scan the same share of the collection as before.
    // (Stats() walks every list for the imbalance: read it once.)
    const uint32_t old_nlist = trained_at_ > 0 ? index_->Stats().nlist : 0;
    if (old_nlist > 0) {
      const double share = double(index_->default_nprobe()) / old_nlist;
      ivf->set_default_nprobe(static_cast<int>(std::ceil(share * ivf->Stats().nlist)));
    }
    // Every vector the truth sees passes through the move below; adds from here on go
    // straight to the new index and carry larger labels (a write commits its labels before it
    // is applied, so one in flight may slip under the bound: it can only lower the measured
    // recall, never raise it).
    auto view = env_.store->NewReadView();
    Counters counters;
    EMBERDB_RETURN_IF_ERROR(ReadCounters(view.get(), &counters));
    tuning->label_bound = static_cast<int64_t>(counters.next_label);
    auto migrating = std::make_unique<ann::MigratingIndex>(std::move(index_), std::move(ivf));
    migrating_ = migrating.get();
    index_ = std::move(migrating);
  }
  // Chunk by chunk: copy (shared lock), assign to lists (no lock: the expensive part), move
  // (exclusive lock, a few milliseconds). Readers and writers go on in between.
  constexpr size_t kChunk = 8192;
  // The old lists are freed as they empty, but into the malloc arenas of the threads that
  // grew them, while the new lists grow in the arenas of the threads adding now: without
  // handing free pages back as we go, the process would hold both copies until the end.
  constexpr size_t kTrimBytes = size_t{256} << 20;
  size_t moved_bytes = 0;
  std::vector<int64_t> labels, lists;
  std::vector<float> vectors;
  for (;;) {
    if (stop_) return Status::Aborted("index work cancelled");  // the pair keeps serving
    labels.clear();
    vectors.clear();
    size_t n;
    {
      std::shared_lock lock(mu_);
      n = migrating_->CopyPending(kChunk, &labels, &vectors);
    }
    if (n == 0) break;
    if (tuning->truth != nullptr) tuning->truth->Add(n, labels.data(), vectors.data());
    lists.resize(n);
    migrating_->target().Assign(n, vectors.data(), lists.data());
    {
      std::unique_lock lock(mu_);
      migrating_->Move(n, labels.data(), vectors.data(), lists.data());
    }
    moved_bytes += vectors.size() * sizeof(float);
    if (moved_bytes >= kTrimBytes) {
      malloc_trim(0);
      moved_bytes = 0;
    }
  }
  ann::VectorIndex* serving;
  {
    std::unique_lock lock(mu_);
    index_ = migrating_->TakeTarget();
    migrating_ = nullptr;
    trained_at_ = trained_at;
    serving = index_.get();
  }
  ReleaseSpareCapacity();
  run_times_.fill = timer.Lap();
  // The new index serves from here on; measure nprobe on it while writes go on, then save it.
  SharedLockedIndex locked(mu_, *serving);
  EMBERDB_RETURN_IF_ERROR(ChooseDefaultNprobe(&locked, *tuning));
  run_times_.nprobe = timer.Lap();
  if (!env_.store->read_only() && !stop_) {
    // A snapshot is a full copy of the index (GBs at 1M x 768) and writing it holds the index
    // lock shared, so writers wait for it. Saved in the middle of a bulk load, with the disk
    // busy with RocksDB's own writes, one took 41 s and stalled the load. Nothing needs it
    // early: the change log keeps what it lacks, close saves it, and WaitForIndex cuts this
    // wait short. So it waits for writes to stop for 2 s (RocksDB's own stalls are shorter),
    // at most 10 minutes, which bounds how much a reopen after a crash replays.
    awaiting_save_ = true;
    WaitForWritePause(std::chrono::milliseconds(2000), std::chrono::seconds(600));
    awaiting_save_ = false;
    run_times_.save_pause = timer.Lap();
    if (stop_) return Status::Aborted("index work cancelled");  // closing saves it instead
    bool superseded;
    {
      std::shared_lock lock(mu_);
      superseded = DueForRetrain();
    }
    // A load that went on while we waited may already call for the next training, which
    // saves its own index: writing this one would be GBs for nothing.
    if (!superseded) {
      Status save = SaveServing();  // its lock is released before the fsync
      run_times_.save = timer.Lap();
      if (!save.ok()) {
        env_.log->Log("collection '" + name_ + "': could not save the index: " + save.ToString());
      }
    }
  }
  std::shared_lock lock(mu_);
  *due_again = DueForRetrain();
  return Status::OK();
}

void IndexManager::TrainInBackground() {
  // Writes that arrive during a run only trigger training when none runs, so a collection that
  // kept growing is checked again here: a burst of ingest trains once more at its final size.
  while (TrainOnce() && !stop_) {
  }
  std::lock_guard lock(train_mu_);
  training_ = false;
  hurry_ = false;
  train_cv_.notify_all();
}

void IndexManager::WaitForWritePause(std::chrono::milliseconds quiet,
                                     std::chrono::seconds max_wait) const {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  while (!stop_ && !hurry_ && Clock::now() - start < max_wait &&
         Clock::now().time_since_epoch().count() - last_apply_ns_.load() <
             std::chrono::duration_cast<Clock::duration>(quiet).count()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool IndexManager::TrainOnce() {
  // Let a bulk load finish first (waiting at most 3 s), so that a fast ingest of N vectors
  // trains once on N instead of at the threshold and again at 4x.
  run_times_ = {};
  StageTimer timer;
  WaitForWritePause(std::chrono::milliseconds(300), std::chrono::seconds(3));
  run_times_.pause = timer.Lap();
  uint64_t start_size = 0;
  {
    std::shared_lock lock(mu_);
    start_size = index_->size();
  }
  std::unique_ptr<ann::VectorIndex> ivf;
  uint64_t trained_at = 0, seq = 0;
  auto view = env_.store->NewReadView();
  NprobeTuning tuning;
  Status s = TrainEmpty(view.get(), &ivf, &trained_at, &seq, &tuning);
  run_times_.train = timer.Lap();
  bool move = false;
  if (s.ok()) {
    std::shared_lock lock(mu_);
    move = index_->holds_exact_vectors();
  }
  if (move) view.reset();  // the vectors come from the serving index, not from storage
  bool due_again = false;
  if (s.ok() && !stop_) {
    s = move ? MoveIntoNewIndex(std::move(ivf), trained_at, &tuning, &due_again)
             : FillAndSwap(view.get(), std::move(ivf), trained_at, seq, &tuning, &due_again);
  }
  view.reset();
  // The previous index and the training sample were large and are gone: hand their pages back
  // to the system instead of leaving them in malloc's free lists.
  malloc_trim(0);
  if (s.ok() && !stop_) {
    const RunTimes& t = run_times_;
    char stages[200];
    std::snprintf(stages, sizeof stages,
                  "%.2f s (sample and k-means %.2f, fill %.2f, nprobe %.2f, save %.2f; waited "
                  "%.2f s before and %.2f s before saving for writes to pause)",
                  t.train + t.fill + t.nprobe + t.save, t.train, t.fill, t.nprobe, t.save, t.pause,
                  t.save_pause);
    env_.log->Log("collection '" + name_ + "': trained " + spec_.ToString() + " on " +
                  std::to_string(trained_at) + " vectors in " + stages);
  } else if (!stop_) {
    env_.log->Log("collection '" + name_ + "': training failed: " + s.ToString());
  }
  if (!s.ok() && !stop_) {
    std::lock_guard lock(train_mu_);
    failed_at_ = std::max<uint64_t>(start_size, 1);
  }
  return s.ok() && due_again;
}

}  // namespace emberdb
