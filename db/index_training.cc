// Background training of the IVF index: sample, train, fill from a storage snapshot, replay the
// change log written meanwhile, choose nprobe, save, swap.
#include <malloc.h>

#include <chrono>
#include <cmath>
#include <mutex>

#include "db/index_manager.h"
#include "storage/keys.h"
#include "storage/record.h"

namespace emberdb {
namespace {

using storage::Cf;

// The sample handed to k-means: ann/ subsamples further to its per-list budget, so this only
// bounds how much we read (64 points per list of the nlist ann/ will choose, 4*sqrt(N)).
size_t SampleBudget(uint64_t count, const ann::IndexSpec& spec) {
  double nlist = spec.nlist ? spec.nlist : 4.0 * std::sqrt(double(count));
  return std::max<size_t>(16384, static_cast<size_t>(64 * nlist));
}

constexpr size_t kTuningQueries = 100;
constexpr size_t kTuningK = 10;
constexpr double kDefaultTargetRecall = 0.95;

}  // namespace

void IndexManager::MaybeStartTraining() {
  if (stop_ || spec_.kind == ann::IndexSpec::Kind::kFlat) return;
  const uint64_t n = index_->size();
  const bool due =
      trained_at_ == 0 ? n >= std::max<size_t>(options_.train_threshold, 1) : n >= 4 * trained_at_;
  if (!due) return;
  std::lock_guard lock(train_mu_);
  if (training_ || (failed_at_ && n < 2 * failed_at_)) return;
  if (trainer_.joinable()) trainer_.join();  // a finished run
  training_ = true;
  trainer_ = std::thread([this] { TrainInBackground(); });
}

void IndexManager::Wait() {
  std::unique_lock lock(train_mu_);
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

Status IndexManager::Train(std::unique_ptr<ann::VectorIndex>* out, uint64_t* trained_at,
                           uint64_t* seq) {
  const uint32_t dim = options_.dimension;
  auto view = env_.store->NewReadView();
  Counters counters;
  EMBERDB_RETURN_IF_ERROR(ReadCounters(view.get(), &counters));
  const uint64_t count = counters.count;
  *seq = counters.change_seq;

  // An evenly spaced sample in label order: deterministic, and labels are assigned in
  // insertion order, so it spans the collection's whole history.
  const size_t budget = SampleBudget(count, spec_);
  const uint64_t stride = std::max<uint64_t>(1, (count + budget - 1) / budget);
  std::vector<float> sample;
  EMBERDB_RETURN_IF_ERROR(
      ScanVectors(view.get(), stride, [&](size_t n, const int64_t*, const float* vectors) {
        sample.insert(sample.end(), vectors, vectors + n * dim);
        return true;
      }));
  std::unique_ptr<ann::VectorIndex> ivf;
  EMBERDB_RETURN_IF_ERROR(
      ann::TrainIvfIndex(spec_, dim, ann_metric_, count, sample.size() / dim, sample.data(), &ivf));
  sample = std::vector<float>();

  // Fill it from the same snapshot the sample came from.
  EMBERDB_RETURN_IF_ERROR(
      ScanVectors(view.get(), 1, [&](size_t n, const int64_t* labels, const float* vectors) {
        ivf->Add(n, labels, vectors);
        return true;
      }));
  view.reset();
  // Replay what was written while we worked (no lock: writes go on).
  EMBERDB_RETURN_IF_ERROR(CatchUp(ivf.get(), *seq, seq));
  *trained_at = count;  // the size the centroids describe; retraining is due at 4x this
  *out = std::move(ivf);
  return Status::OK();
}

Status IndexManager::ChooseDefaultNprobe(ann::VectorIndex* ivf, uint64_t expected) {
  if (options_.nprobe > 0) {
    ivf->set_default_nprobe(options_.nprobe);
    return Status::OK();
  }
  const double target = options_.target_recall > 0 ? options_.target_recall : kDefaultTargetRecall;
  const uint32_t dim = options_.dimension;
  // Queries: evenly spaced stored vectors. Truth: exact search over every stored vector,
  // streamed from storage so that no second copy of the collection is held.
  auto view = env_.store->NewReadView();
  std::vector<float> queries;
  EMBERDB_RETURN_IF_ERROR(
      ScanVectors(view.get(), std::max<uint64_t>(1, expected / kTuningQueries),
                  [&](size_t n, const int64_t*, const float* vectors) {
                    size_t take = std::min(n, kTuningQueries - queries.size() / dim);
                    queries.insert(queries.end(), vectors, vectors + take * dim);
                    return queries.size() < kTuningQueries * dim;
                  }));
  const size_t nq = queries.size() / dim;
  if (nq == 0) return Status::OK();
  ann::ExactNeighbors truth(dim, ann_metric_, nq, queries.data(), kTuningK);
  EMBERDB_RETURN_IF_ERROR(
      ScanVectors(view.get(), 1, [&](size_t n, const int64_t* labels, const float* vectors) {
        truth.Add(n, labels, vectors);
        return true;
      }));
  ann::SearchParams base;
  base.refine = spec_.compressed() ? &fetcher_ : nullptr;
  ann::NprobeChoice choice;
  EMBERDB_RETURN_IF_ERROR(
      ann::ChooseNprobe(*ivf, nq, queries.data(), truth.labels(), kTuningK, target, base, &choice));
  ivf->set_default_nprobe(choice.nprobe);
  env_.log->Log("collection '" + name_ + "': nprobe " + std::to_string(choice.nprobe) +
                " measured recall@10 " + std::to_string(choice.recall) + " (target " +
                std::to_string(target) + (choice.reached ? ")" : ", not reached)"));
  return Status::OK();
}

void IndexManager::TrainInBackground() {
  // Writes that arrive during a run only trigger training when none runs, so a collection that
  // kept growing is checked again here: a burst of ingest trains once more at its final size.
  while (TrainOnce() && !stop_) {
  }
  std::lock_guard lock(train_mu_);
  training_ = false;
  train_cv_.notify_all();
}

bool IndexManager::TrainOnce() {
  // Let a bulk load finish first (a pause of kQuietPeriod, waiting at most kMaxWait), so that a
  // fast ingest of N vectors trains once on N instead of at the threshold and again at 4x.
  using Clock = std::chrono::steady_clock;
  constexpr auto kQuietPeriod = std::chrono::milliseconds(300);
  constexpr auto kMaxWait = std::chrono::seconds(3);
  const auto wait_start = Clock::now();
  while (!stop_ && Clock::now() - wait_start < kMaxWait &&
         Clock::now().time_since_epoch().count() - last_apply_ns_.load() <
             std::chrono::duration_cast<Clock::duration>(kQuietPeriod).count()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto start = std::chrono::steady_clock::now();
  uint64_t start_size = 0;
  {
    std::shared_lock lock(mu_);
    start_size = index_->size();
  }
  std::unique_ptr<ann::VectorIndex> ivf;
  uint64_t trained_at = 0, seq = 0;
  Status s = Train(&ivf, &trained_at, &seq);
  if (s.ok() && !stop_) s = ChooseDefaultNprobe(ivf.get(), trained_at);
  bool saved = false;
  if (s.ok() && !stop_ && !env_.store->read_only()) {
    Status save = Save(*ivf, seq, trained_at);
    if (save.ok()) {
      saved = true;
    } else {
      env_.log->Log("collection '" + name_ + "': could not save the index: " + save.ToString());
    }
  }
  bool due_again = false;
  if (s.ok() && !stop_) {
    std::unique_lock lock(mu_);
    uint64_t last = seq;
    s = CatchUp(ivf.get(), seq, &last);  // the writes of the last moments, under the lock
    if (s.ok()) {
      index_ = std::move(ivf);
      trained_at_ = trained_at;
      applied_seq_ = std::max(applied_seq_, last);
      if (saved) saved_seq_ = seq;
      due_again = index_->size() >= 4 * trained_at_;
    }
  }
  if (saved && s.ok()) TrimChangeLog(seq);
  // The previous index and the training sample were large and are gone: hand their pages back
  // to the system instead of leaving them in malloc's free lists.
  malloc_trim(0);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.ok() && !stop_) {
    env_.log->Log("collection '" + name_ + "': trained " + spec_.ToString() + " on " +
                  std::to_string(trained_at) + " vectors in " + std::to_string(seconds) + " s");
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
