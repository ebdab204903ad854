// The read path: query -> embed -> search -> fetch.
//
// A filtered query first resolves the filter to the set of matching labels (through the
// metadata index when the filter allows it, else by scanning the documents). A small set is
// searched exactly; a large one restricts the index search to it.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "db/collection_impl.h"
#include "db/validation.h"
#include "storage/keys.h"

namespace emberdb {
namespace {

using storage::Cf;

// Filtered queries with at most this many matches are answered by exact search over them.
constexpr size_t kExactFilterLimit = 4096;
// A filter whose index range holds more labels than this is applied to search results instead
// of being listed (see ResolveFilter).
constexpr size_t kPostFilterCandidates = 32768;

// The labels a filter admits, as a bitmap: labels are dense (assigned in insertion order, never
// reused), so one bit per label up to the largest is small (1M labels: 125 KB), cheap to
// build, and answers Contains in O(1) from FAISS's scan loops.
class LabelSetFilter : public ann::LabelFilter {
 public:
  explicit LabelSetFilter(const std::vector<uint64_t>& labels) {
    uint64_t max = 0;
    for (uint64_t l : labels) max = std::max(max, l);
    bits_.assign(labels.empty() ? 0 : max / 64 + 1, 0);
    for (uint64_t l : labels) bits_[l / 64] |= uint64_t{1} << (l % 64);
  }
  bool Contains(int64_t label) const override {
    const uint64_t l = static_cast<uint64_t>(label);
    return label >= 0 && l / 64 < bits_.size() && (bits_[l / 64] >> (l % 64)) & 1;
  }

 private:
  std::vector<uint64_t> bits_;
};

uint64_t LabelOfIndexKey(std::string_view key) {
  return storage::ReadU64BE(key.data() + key.size() - 8);
}

void SortedUnique(std::vector<uint64_t>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

Status CollectionImpl::LookupLabels(const std::vector<std::string>& ids,
                                    const storage::ReadView* view,
                                    std::vector<uint64_t>* labels) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const auto& id : ids) keys.push_back(storage::IdKey(cid(), id));
  std::vector<std::string> values;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kIds, keys, &values, &found, view));
  labels->clear();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!found[i]) continue;
    if (values[i].size() != 8) return Status::Corruption("malformed id record");
    labels->push_back(storage::ReadU64BE(values[i].data()));
  }
  return Status::OK();
}

Status CollectionImpl::FetchDocs(const std::vector<uint64_t>& labels, uint32_t include,
                                 const storage::ReadView* view, std::vector<Document>* out,
                                 std::vector<bool>* found) const {
  std::vector<std::string> keys;
  keys.reserve(labels.size());
  for (uint64_t l : labels) keys.push_back(storage::LabelKey(cid(), l));
  std::vector<std::string> values;
  EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kDocs, keys, &values, found, view));
  out->assign(labels.size(), Document());
  storage::DocRecord rec;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!(*found)[i]) continue;
    EMBERDB_RETURN_IF_ERROR(storage::DecodeDocRecord(values[i], &rec));
    Document& d = (*out)[i];
    d.id = std::move(rec.id);
    if (include & kIncludeDocuments) d.text = std::move(rec.text);
    if (include & kIncludeMetadatas) d.metadata = std::move(rec.metadata);
  }
  if (include & kIncludeVectors) {
    std::vector<bool> has_vector;
    EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kVectors, keys, &values, &has_vector, view));
    const uint32_t dim = record_.options.dimension;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!(*found)[i]) continue;
      if (!has_vector[i]) return Status::Corruption("document without a vector");
      (*out)[i].vector.resize(dim);
      EMBERDB_RETURN_IF_ERROR(storage::DecodeVector(values[i], dim, (*out)[i].vector.data()));
    }
  }
  return Status::OK();
}

Status CollectionImpl::PlanLabels(const IndexPlan& plan, const storage::ReadView* view,
                                  std::vector<uint64_t>* labels, size_t limit,
                                  bool* truncated) const {
  labels->clear();
  if (truncated != nullptr) *truncated = false;
  if (plan.kind == IndexPlan::Kind::kRange) {
    // Encoded values are self-delimiting and order-preserving, so [lo, hi] is one key range;
    // exclusive bounds are left to the exact filter that every candidate goes through.
    const IndexRange& r = plan.range;
    const std::string prefix = storage::FieldPrefix(cid(), r.field);
    auto type_byte = [](const MetadataValue& v) -> char {
      std::string tmp;
      storage::AppendIndexedValue(&tmp, v);
      return tmp.empty() ? 0 : tmp[0];
    };
    std::string begin = prefix, end = prefix;
    if (std::holds_alternative<std::monostate>(r.lo)) {
      begin.push_back(type_byte(r.hi));
    } else if (!storage::AppendIndexedValue(&begin, r.lo)) {
      return Status::InvalidArgument("index range bound is not a scalar");
    }
    if (std::holds_alternative<std::monostate>(r.hi)) {
      end.push_back(static_cast<char>(type_byte(r.lo) + 1));
    } else {
      if (!storage::AppendIndexedValue(&end, r.hi)) {
        return Status::InvalidArgument("index range bound is not a scalar");
      }
      end.append(9, '\xff');  // past every label of the upper value
    }
    auto it = store_->NewIterator(Cf::kMetaIndex, prefix, view);
    for (it->Seek(begin); it->Valid() && it->key() < std::string_view(end); it->Next()) {
      if (labels->size() == limit) {
        if (truncated != nullptr) *truncated = true;
        break;
      }
      labels->push_back(LabelOfIndexKey(it->key()));
    }
    EMBERDB_RETURN_IF_ERROR(it->status());
    SortedUnique(labels);
    return Status::OK();
  }
  bool first = true;
  for (const IndexPlan& child : plan.children) {
    std::vector<uint64_t> part;
    EMBERDB_RETURN_IF_ERROR(PlanLabels(child, view, &part));
    std::vector<uint64_t> merged;
    if (first) {
      merged = std::move(part);
      first = false;
    } else if (plan.kind == IndexPlan::Kind::kAnd) {
      std::set_intersection(labels->begin(), labels->end(), part.begin(), part.end(),
                            std::back_inserter(merged));
    } else {
      std::set_union(labels->begin(), labels->end(), part.begin(), part.end(),
                     std::back_inserter(merged));
    }
    *labels = std::move(merged);
    if (plan.kind == IndexPlan::Kind::kAnd && labels->empty()) break;
  }
  return Status::OK();
}

Status CollectionImpl::KeepMatching(const Filter& filter, const std::vector<uint64_t>& candidates,
                                    const storage::ReadView* view,
                                    std::vector<uint64_t>* labels) const {
  const uint32_t include =
      kIncludeMetadatas | (filter.needs_text() ? uint32_t{kIncludeDocuments} : uint32_t{0});
  constexpr size_t kChunk = 1024;
  std::vector<Document> docs;
  std::vector<bool> found;
  for (size_t begin = 0; begin < candidates.size(); begin += kChunk) {
    std::vector<uint64_t> chunk(candidates.begin() + begin,
                                candidates.begin() + std::min(candidates.size(), begin + kChunk));
    EMBERDB_RETURN_IF_ERROR(FetchDocs(chunk, include, view, &docs, &found));
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (found[i] && filter.Matches(docs[i].metadata, docs[i].text)) labels->push_back(chunk[i]);
    }
  }
  return Status::OK();
}

Status CollectionImpl::MatchingLabels(const Filter& filter, const storage::ReadView* view,
                                      std::vector<uint64_t>* labels) const {
  labels->clear();
  if (std::optional<IndexPlan> plan = filter.Plan()) {
    std::vector<uint64_t> candidates;
    EMBERDB_RETURN_IF_ERROR(PlanLabels(*plan, view, &candidates));
    return KeepMatching(filter, candidates, view, labels);
  }
  // No index can narrow this filter: evaluate it on every document.
  auto it = store_->NewIterator(Cf::kDocs, storage::CollectionPrefix(cid()), view);
  storage::DocRecord rec;
  for (; it->Valid(); it->Next()) {
    EMBERDB_RETURN_IF_ERROR(storage::DecodeDocRecord(it->value(), &rec));
    if (filter.Matches(rec.metadata, rec.text)) labels->push_back(LabelOfIndexKey(it->key()));
  }
  return it->status();
}

Status CollectionImpl::Get(const GetOptions& options, std::vector<Document>* out) const {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(false));
  out->clear();
  std::unique_ptr<Filter> filter;
  EMBERDB_RETURN_IF_ERROR(Filter::Parse(options.where, options.where_document, &filter));
  for (const auto& id : options.ids) EMBERDB_RETURN_IF_ERROR(ValidateId(id));
  auto view = store_->NewReadView();
  const uint32_t include =
      options.include | (filter->empty() ? 0 : kIncludeMetadatas | kIncludeDocuments);

  std::vector<uint64_t> labels;
  if (!options.ids.empty()) {
    EMBERDB_RETURN_IF_ERROR(LookupLabels(options.ids, view.get(), &labels));
  } else if (!filter->empty()) {
    EMBERDB_RETURN_IF_ERROR(MatchingLabels(*filter, view.get(), &labels));
  } else {
    // Everything, in id order: walk the id map, fetching only the requested page.
    auto it = store_->NewIterator(Cf::kIds, storage::CollectionPrefix(cid()), view.get());
    size_t skipped = 0;
    for (; it->Valid() && labels.size() < options.limit; it->Next()) {
      if (skipped < options.offset) {
        ++skipped;
        continue;
      }
      if (it->value().size() != 8) return Status::Corruption("malformed id record");
      labels.push_back(storage::ReadU64BE(it->value().data()));
    }
    EMBERDB_RETURN_IF_ERROR(it->status());
    std::vector<bool> found;
    EMBERDB_RETURN_IF_ERROR(FetchDocs(labels, options.include, view.get(), out, &found));
    return Status::OK();
  }
  std::vector<Document> docs;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(FetchDocs(labels, include, view.get(), &docs, &found));
  std::vector<Document> matching;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (found[i] && (filter->empty() || filter->Matches(docs[i].metadata, docs[i].text))) {
      matching.push_back(std::move(docs[i]));
    }
  }
  if (options.ids.empty()) {
    std::sort(matching.begin(), matching.end(),
              [](const Document& a, const Document& b) { return a.id < b.id; });
  }
  for (size_t i = options.offset; i < matching.size() && out->size() < options.limit; ++i) {
    Document& d = matching[i];
    if (!(options.include & kIncludeDocuments)) d.text.clear();
    if (!(options.include & kIncludeMetadatas)) d.metadata.clear();
    out->push_back(std::move(d));
  }
  return Status::OK();
}

Status CollectionImpl::Count(uint64_t* count) const {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(false));
  *count = count_.load();
  return Status::OK();
}

Status CollectionImpl::Peek(size_t limit, std::vector<Document>* out) const {
  GetOptions options;
  options.limit = limit;
  options.include = kIncludeAll;
  return Get(options, out);
}

void CollectionImpl::ToHit(float ann_distance, Hit* hit) const {
  switch (record_.options.metric) {
    case Metric::kCosine:  // ann distance = -cos
      hit->distance = 1.0f + ann_distance;
      hit->score = -ann_distance;
      break;
    case Metric::kInnerProduct:
      hit->distance = ann_distance;
      hit->score = -ann_distance;
      break;
    case Metric::kL2:
      hit->distance = ann_distance;
      hit->score = 1.0f / (1.0f + ann_distance);
      break;
  }
}

Status CollectionImpl::ExactOver(const std::vector<uint64_t>& labels, size_t nq,
                                 const float* queries, size_t k, std::vector<float>* distances,
                                 std::vector<int64_t>* out_labels) const {
  const uint32_t dim = record_.options.dimension;
  std::vector<std::string> keys;
  keys.reserve(labels.size());
  for (uint64_t l : labels) keys.push_back(storage::LabelKey(cid(), l));
  std::vector<std::string> values;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(store_->MultiGet(Cf::kVectors, keys, &values, &found));
  auto exact = ann::NewFlatIndex(dim, index_.ann_metric());
  std::vector<float> v(dim);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!found[i]) continue;
    EMBERDB_RETURN_IF_ERROR(storage::DecodeVector(values[i], dim, v.data()));
    ToIndexSpace(record_.options.metric, v.data(), dim);
    int64_t label = static_cast<int64_t>(labels[i]);
    exact->Add(1, &label, v.data());
  }
  distances->assign(nq * k, 0);
  out_labels->assign(nq * k, -1);
  exact->Search(nq, queries, k, ann::SearchParams(), distances->data(), out_labels->data());
  return Status::OK();
}

Status CollectionImpl::ResolveFilter(const Filter& filter, FilterResolution* out) const {
  *out = FilterResolution();
  if (filter.empty()) return Status::OK();
  std::vector<uint64_t> allowed;
  if (std::optional<IndexPlan> plan = filter.Plan()) {
    std::vector<uint64_t> candidates;
    bool truncated = false;
    const size_t limit = plan->kind == IndexPlan::Kind::kRange ? kPostFilterCandidates : SIZE_MAX;
    EMBERDB_RETURN_IF_ERROR(PlanLabels(*plan, nullptr, &candidates, limit, &truncated));
    if (truncated) {
      // A very broad filter: even listing its labels costs more than a search (half of 1M
      // documents: 300 ms). Search as if unfiltered, for enough more results that about k
      // pass (the filter keeps at least limit / count of the documents), and check those.
      const double share = double(limit) / double(std::max<uint64_t>(count_.load(), limit));
      out->mode = FilterResolution::Mode::kPostFilter;
      out->widen = static_cast<size_t>(std::clamp(std::ceil(2.0 / share), 2.0, 64.0));
      out->verify = true;
      return Status::OK();
    }
    if (candidates.size() > kExactFilterLimit) {
      // Broad: checking every candidate's document would cost more than the search. Search
      // within the plan's labels and let Resolve check the few documents that come back.
      out->mode = FilterResolution::Mode::kWithin;
      out->verify = true;
      out->within = std::make_shared<LabelSetFilter>(candidates);
      return Status::OK();
    }
    EMBERDB_RETURN_IF_ERROR(KeepMatching(filter, candidates, nullptr, &allowed));
  } else {
    EMBERDB_RETURN_IF_ERROR(MatchingLabels(filter, nullptr, &allowed));
  }
  return Matches(std::move(allowed), out);
}

Status CollectionImpl::Matches(std::vector<uint64_t> allowed, FilterResolution* out) const {
  out->verify = false;
  if (allowed.size() <= kExactFilterLimit) {
    out->mode = FilterResolution::Mode::kExact;
    out->exact = std::move(allowed);
  } else {
    out->mode = FilterResolution::Mode::kWithin;
    out->within = std::make_shared<LabelSetFilter>(allowed);
  }
  return Status::OK();
}

Status CollectionImpl::Search(size_t nq, const float* queries, size_t k, int nprobe,
                              const FilterResolution& filter, std::vector<float>* distances,
                              std::vector<int64_t>* labels) const {
  switch (filter.mode) {
    case FilterResolution::Mode::kNone:
    case FilterResolution::Mode::kPostFilter:
      index_.Search(nq, queries, k, nprobe, nullptr, distances, labels);
      return Status::OK();
    case FilterResolution::Mode::kExact:
      return ExactOver(filter.exact, nq, queries, k, distances, labels);
    case FilterResolution::Mode::kWithin:
      index_.Search(nq, queries, k, nprobe, filter.within.get(), distances, labels);
      return Status::OK();
  }
  return Status::OK();
}

Status CollectionImpl::Resolve(const float* distances, const int64_t* labels, size_t k,
                               uint32_t include, const Filter* verify, std::vector<Hit>* out,
                               bool* complete) const {
  std::vector<uint64_t> hit_labels;
  std::vector<float> hit_distances;
  for (size_t i = 0; i < k; ++i) {
    if (labels[i] < 0) continue;
    hit_labels.push_back(static_cast<uint64_t>(labels[i]));
    hit_distances.push_back(distances[i]);
  }
  uint32_t fetch = include;
  if (verify != nullptr) {
    fetch |= kIncludeMetadatas | (verify->needs_text() ? uint32_t{kIncludeDocuments} : 0u);
  }
  std::vector<Document> docs;
  std::vector<bool> found;
  EMBERDB_RETURN_IF_ERROR(FetchDocs(hit_labels, fetch, nullptr, &docs, &found));
  for (size_t i = 0; i < hit_labels.size(); ++i) {
    if (found[i] && verify != nullptr && !verify->Matches(docs[i].metadata, docs[i].text)) {
      found[i] = false;  // passed the plan's superset only
    }
  }
  *complete = std::find(found.begin(), found.end(), false) == found.end();
  out->clear();
  for (size_t i = 0; i < hit_labels.size(); ++i) {
    if (!found[i]) continue;
    Hit hit;
    ToHit(hit_distances[i], &hit);
    hit.id = std::move(docs[i].id);
    if (include & kIncludeDocuments) hit.text = std::move(docs[i].text);
    if (include & kIncludeMetadatas) hit.metadata = std::move(docs[i].metadata);
    hit.vector = std::move(docs[i].vector);
    out->push_back(std::move(hit));
  }
  std::stable_sort(out->begin(), out->end(), [](const Hit& a, const Hit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  });
  return Status::OK();
}

Status CollectionImpl::Query(std::span<const float> query, const QueryOptions& options,
                             std::vector<Hit>* out) const {
  std::vector<std::vector<Hit>> all;
  EMBERDB_RETURN_IF_ERROR(QueryBatch(query, options, &all));
  *out = std::move(all[0]);
  return Status::OK();
}

Status CollectionImpl::QueryBatch(std::span<const float> queries, const QueryOptions& options,
                                  std::vector<std::vector<Hit>>* out) const {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(false));
  const uint32_t dim = record_.options.dimension;
  if (queries.empty() || queries.size() % dim != 0) {
    return Status::InvalidArgument("query vectors hold " + std::to_string(queries.size()) +
                                   " floats, not a positive multiple of the dimension " +
                                   std::to_string(dim));
  }
  if (options.k == 0) return Status::InvalidArgument("k must be at least 1");
  if (options.nprobe < 0) return Status::InvalidArgument("nprobe must not be negative");
  std::unique_ptr<Filter> filter;
  EMBERDB_RETURN_IF_ERROR(Filter::Parse(options.where, options.where_document, &filter));
  const size_t nq = queries.size() / dim;
  const size_t k = options.k;
  std::vector<float> q(queries.begin(), queries.end());
  for (size_t i = 0; i < nq; ++i) {
    EMBERDB_RETURN_IF_ERROR(
        ValidateQueryVector(q.data() + i * dim, dim, dim, record_.options.metric));
    ToIndexSpace(record_.options.metric, q.data() + i * dim, dim);
  }
  // The filter is resolved once; then all queries go in one index call (FAISS batches them),
  // and each result list is fetched.
  FilterResolution resolved;
  EMBERDB_RETURN_IF_ERROR(ResolveFilter(*filter, &resolved));
  const Filter* check = resolved.verify ? filter.get() : nullptr;
  const size_t k0 = resolved.mode == FilterResolution::Mode::kPostFilter
                        ? std::min(k * resolved.widen, k + 1024)
                        : k;
  std::vector<float> distances;
  std::vector<int64_t> labels;
  EMBERDB_RETURN_IF_ERROR(Search(nq, q.data(), k0, options.nprobe, resolved, &distances, &labels));
  out->assign(nq, {});
  // The fallback for a filter whose candidates mostly fail: its exact matches, listed at most
  // once per call, by the first query that needs them.
  std::once_flag exact_once;
  FilterResolution exact;
  Status exact_status;
  auto exact_matches = [&]() -> Status {
    std::call_once(exact_once, [&] {
      std::vector<uint64_t> allowed;
      exact_status = MatchingLabels(*filter, nullptr, &allowed);
      if (exact_status.ok()) exact_status = Matches(std::move(allowed), &exact);
    });
    return exact_status;
  };
  auto finish = [&](size_t i) -> Status {
    std::vector<Hit>& hits = (*out)[i];
    bool complete = false;
    size_t kk = k0;
    const float* d = distances.data() + i * k0;
    const int64_t* l = labels.data() + i * k0;
    std::vector<float> more_d;
    std::vector<int64_t> more_l;
    // A document deleted between the search and the fetch leaves a hole (storage commits a
    // delete before the index applies it), and so does one that passed only a broad filter's
    // plan: search again for more, skipping those, until k are found. The index catches up
    // within microseconds, but a writer descheduled in between could outlast a plain retry.
    int nprobe = options.nprobe;
    // Post-filtered results still owe the widening below (once, on the first results).
    bool share_measured = resolved.mode != FilterResolution::Mode::kPostFilter;
    for (int attempt = 0;; ++attempt) {
      EMBERDB_RETURN_IF_ERROR(Resolve(d, l, kk, options.include, check, &hits, &complete));
      const size_t found =
          static_cast<size_t>(std::count_if(l, l + kk, [](int64_t x) { return x >= 0; }));
      if (!share_measured) {
        // The filter keeps a share p of what the probed lists hold. As with any filter, the
        // top k that pass are only as good as unfiltered ones if the probe reaches about 1/p
        // times as many lists (ann/ does the same for label sets): measure p on these
        // results, then search again that much wider.
        share_measured = true;
        const double share =
            found == kk ? double(std::max<size_t>(hits.size(), 1)) / double(found) : 1.0;
        const int base = nprobe > 0 ? nprobe : index_.default_nprobe();
        if (share < 0.5 && base > 0) {
          nprobe = static_cast<int>(std::min(std::ceil(base / share), 1e6));
          kk = std::min<size_t>(static_cast<size_t>(std::ceil(2.0 * k / share)), k + 1024);
          EMBERDB_RETURN_IF_ERROR(
              Search(1, q.data() + i * dim, kk, nprobe, resolved, &more_d, &more_l));
          d = more_d.data();
          l = more_l.data();
          continue;
        }
      }
      // Enough live documents, or every one the index has: done.
      if (hits.size() >= k || found < kk) complete = true;
      if (hits.size() > k) hits.resize(k);
      if (complete || attempt == 8 || kk >= k + 1024) break;
      kk = std::min<size_t>(kk * 2, k + 1024);
      EMBERDB_RETURN_IF_ERROR(
          Search(1, q.data() + i * dim, kk, nprobe, resolved, &more_d, &more_l));
      d = more_d.data();
      l = more_l.data();
    }
    if (!complete && resolved.verify) {
      // Too few of the candidates passed: answer from the filter's exact matches.
      EMBERDB_RETURN_IF_ERROR(exact_matches());
      EMBERDB_RETURN_IF_ERROR(
          Search(1, q.data() + i * dim, k, options.nprobe, exact, &more_d, &more_l));
      EMBERDB_RETURN_IF_ERROR(
          Resolve(more_d.data(), more_l.data(), k, options.include, nullptr, &hits, &complete));
    }
    return Status::OK();
  };
  // Fetching a query's documents (RocksDB reads, decoding) costs about as much CPU as its
  // search, so a batch spreads it over the thread budget as the search did. Every call made
  // here is a read; the search of one query inside it runs single-threaded.
  std::vector<Status> results(nq);
#pragma omp parallel for schedule(dynamic) if (nq > 1)
  for (size_t i = 0; i < nq; ++i) results[i] = finish(i);
  for (const Status& s : results) EMBERDB_RETURN_IF_ERROR(s);
  return Status::OK();
}

Status CollectionImpl::QueryText(const std::string& text, const QueryOptions& options,
                                 std::vector<Hit>* out) const {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(false));
  EMBERDB_RETURN_IF_ERROR(ValidateText("query", text));
  std::vector<float> v;
  EMBERDB_RETURN_IF_ERROR(EmbedTexts({text}, /*as_query=*/true, &v, nullptr));
  return Query(v, options, out);
}

Status CollectionImpl::Stats(CollectionStats* out) const {
  EMBERDB_RETURN_IF_ERROR(CheckUsable(false));
  *out = CollectionStats();
  out->documents = count_.load();
  index_.FillStats(out);
  out->vectors_pending =
      out->documents > out->vectors_indexed ? out->documents - out->vectors_indexed : 0;
  out->disk_bytes = store_->ApproximateBytes(storage::CollectionPrefix(cid()));
  return Status::OK();
}

Status CollectionImpl::WaitForIndex() {
  index_.Wait();
  return Status::OK();
}

}  // namespace emberdb
