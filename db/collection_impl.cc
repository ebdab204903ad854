#include "db/collection_impl.h"

namespace emberdb {

CollectionImpl::CollectionImpl(IndexEnv env, CollectionRecord record,
                               std::unique_ptr<Embedder> embedder, Status embedder_status)
    : store_(env.store),
      record_(std::move(record)),
      embedder_(std::move(embedder)),
      embedder_status_(std::move(embedder_status)),
      index_(std::move(env), record_.cid, record_.name, record_.options) {}

CollectionImpl::~CollectionImpl() = default;

Status CollectionImpl::Open() {
  std::lock_guard lock(write_mu_);
  std::string bytes;
  bool found = false;
  EMBERDB_RETURN_IF_ERROR(
      store_->Get(storage::Cf::kDefault, CountersKey(record_.cid), &bytes, nullptr, &found));
  counters_ = Counters();
  if (found) EMBERDB_RETURN_IF_ERROR(DecodeCounters(bytes, &counters_));
  count_.store(counters_.count);
  return index_.Load();
}

Status CollectionImpl::Refresh() {
  std::string bytes;
  bool found = false;
  EMBERDB_RETURN_IF_ERROR(
      store_->Get(storage::Cf::kDefault, CountersKey(record_.cid), &bytes, nullptr, &found));
  Counters latest;
  if (found) EMBERDB_RETURN_IF_ERROR(DecodeCounters(bytes, &latest));
  {
    std::lock_guard lock(write_mu_);
    if (latest.change_seq == counters_.change_seq) return Status::OK();
  }
  return Open();
}

void CollectionImpl::Invalidate(Status why, bool dropped) {
  {
    std::lock_guard lock(state_mu_);
    invalid_ = std::move(why);
  }
  // Writers finish before the index is saved or removed.
  std::lock_guard write_lock(write_mu_);
  index_.Stop();
  if (dropped) {
    index_.RemoveSnapshot();
  } else {
    index_.SaveIfChanged();
  }
}

Status CollectionImpl::CheckUsable(bool writing) const {
  {
    std::lock_guard lock(state_mu_);
    if (!invalid_.ok()) return invalid_;
  }
  if (writing && store_->read_only()) {
    return Status::NotSupported("collection '" + name() + "' is open read-only");
  }
  return Status::OK();
}

CollectionInfo CollectionImpl::info() const {
  CollectionInfo info;
  info.name = record_.name;
  info.options = record_.options;
  info.embedder = record_.embedder;
  info.count = count_.load();
  return info;
}

}  // namespace emberdb
