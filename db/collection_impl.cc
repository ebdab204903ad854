#include "db/collection_impl.h"

namespace emberdb {

CollectionImpl::CollectionImpl(std::shared_ptr<storage::Store> store, CollectionRecord record,
                               std::unique_ptr<Embedder> embedder, Status embedder_status)
    : store_(store),
      record_(std::move(record)),
      embedder_(std::move(embedder)),
      embedder_status_(std::move(embedder_status)),
      index_(store, record_.cid, record_.options) {}

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

void CollectionImpl::Invalidate(Status why) {
  std::lock_guard lock(state_mu_);
  invalid_ = std::move(why);
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
