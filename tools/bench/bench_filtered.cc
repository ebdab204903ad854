#include "bench_filtered.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <span>
#include <string>

#include "ann/vector_index.h"

namespace emberdb::bench {

int64_t BucketOfRow(size_t row) {
  uint64_t z = static_cast<uint64_t>(row) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<int64_t>(z % static_cast<uint64_t>(kBuckets));
}

std::string DocumentIdOfRow(size_t row) {
  // Appending (not "v" + ...) sidesteps a GCC 12 -Wrestrict false positive.
  std::string id(1, 'v');
  id += std::to_string(row);
  return id;
}

int64_t RowOfDocumentId(const std::string& id) {
  if (id.size() < 2 || id[0] != 'v') return -1;
  int64_t row = -1;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), row);
  return ec == std::errc() && ptr == id.data() + id.size() ? row : -1;
}

std::string ArticleText(size_t row, size_t bytes) {
  static constexpr const char* kWords[] = {
      "account", "password", "reset", "billing",  "invoice", "refund", "the",   "your",
      "to",      "and",      "click", "settings", "email",   "verify", "order", "shipping",
      "a",       "of",       "when",  "update",   "payment", "card",   "in",    "support",
      "team",    "if",       "you",   "cannot",   "sign",    "device", "app",   "export"};
  std::string text = "Article " + std::to_string(row) + ".";
  uint64_t state = row * 0x9E3779B97F4A7C15ull + 1;
  while (text.size() < bytes) {
    state ^= state >> 33;
    state *= 0xff51afd7ed558ccdull;
    state ^= state >> 29;
    text += ' ';
    text += kWords[state % std::size(kWords)];
  }
  return text;
}

Document DocumentOfRow(const Matrix& base, size_t row, bool with_bucket, size_t text_bytes) {
  Document doc{DocumentIdOfRow(row),
               text_bytes > 0 ? ArticleText(row, text_bytes) : "",
               {},
               std::vector<float>(base.row(row), base.row(row) + base.dim)};
  if (with_bucket) doc.metadata["bucket"] = BucketOfRow(row);
  return doc;
}

Status ParseSelectivities(const std::string& text, std::vector<double>* out) {
  out->clear();
  if (text.empty() || text == "none") return Status::OK();
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const bool percent = !item.empty() && item.back() == '%';
    if (percent) item.pop_back();
    double value = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || ec != std::errc() || ptr != item.data() + item.size()) {
      return Status::InvalidArgument("--selectivities: '" + item +
                                     "' is not a number (e.g. 50%,1%,0.01% or 0.5,0.01)");
    }
    if (percent) value /= 100;
    if (!(value > 0 && value <= 1)) {
      return Status::InvalidArgument("--selectivities: " + item + (percent ? "%" : "") +
                                     " is outside (0, 100%]");
    }
    out->push_back(value);
  }
  return Status::OK();
}

std::string WhereOfCase(const FilterCase& c) {
  return "{\"bucket\": {\"$lt\": " + std::to_string(c.bucket_limit) + "}}";
}

GroundTruth FilteredGroundTruth(const Matrix& base, const Matrix& queries, size_t nq, size_t k,
                                int64_t limit, size_t* matches) {
  nq = std::min(nq, queries.rows);
  // Matching rows are gathered in chunks and streamed through an exact top-k merge, so memory
  // stays one chunk whatever the selectivity.
  constexpr size_t kChunk = 8192;
  ann::ExactNeighbors exact(base.dim, ann::Metric::kInnerProduct, nq, queries.data.data(), k);
  std::vector<float> chunk;
  std::vector<int64_t> labels;
  chunk.reserve(kChunk * base.dim);
  labels.reserve(kChunk);
  size_t count = 0;
  auto flush = [&] {
    exact.Add(labels.size(), labels.data(), chunk.data());
    chunk.clear();
    labels.clear();
  };
  for (size_t i = 0; i < base.rows; ++i) {
    if (BucketOfRow(i) >= limit) continue;
    ++count;
    labels.push_back(static_cast<int64_t>(i));
    chunk.insert(chunk.end(), base.row(i), base.row(i) + base.dim);
    if (labels.size() == kChunk) flush();
  }
  if (!labels.empty()) flush();
  GroundTruth truth;
  truth.nq = nq;
  truth.k = k;
  truth.labels.assign(exact.labels(), exact.labels() + nq * k);
  *matches = count;
  return truth;
}

std::vector<FilterCase> MakeFilterCases(const std::vector<double>& selectivities,
                                        const Matrix& base, const Matrix& queries, size_t nq,
                                        size_t k) {
  std::vector<FilterCase> cases;
  for (double s : selectivities) {
    FilterCase c;
    c.selectivity = s;
    c.bucket_limit = std::max<int64_t>(1, std::llround(s * kBuckets));
    c.truth = FilteredGroundTruth(base, queries, nq, k, c.bucket_limit, &c.matches);
    cases.push_back(std::move(c));
  }
  return cases;
}

Status RunFilteredSweep(const Collection& collection, const Matrix& queries, size_t k,
                        const std::vector<int>& nprobes, const std::vector<FilterCase>& cases,
                        std::vector<FilteredPoint>* out) {
  std::vector<Hit> hits;
  for (const FilterCase& c : cases) {
    QueryOptions qo;
    qo.k = k;
    qo.include = kIncludeDefault;  // text and metadata, as a RAG caller asks
    qo.where = WhereOfCase(c);
    const size_t expected = std::min(k, c.matches);
    for (int nprobe : nprobes) {
      qo.nprobe = nprobe;
      FilteredPoint p;
      p.selectivity = c.selectivity;
      p.matches = c.matches;
      p.nprobe = nprobe;
      p.queries = c.truth.nq;
      std::vector<int64_t> found(c.truth.nq * k, -1);
      std::vector<double> latency;
      size_t full = 0;
      for (size_t q = 0; q < c.truth.nq; ++q) {
        const double t = NowSeconds();
        Status s = collection.Query(std::span<const float>(queries.row(q), queries.dim), qo, &hits);
        latency.push_back((NowSeconds() - t) * 1e6);
        if (!s.ok()) return s.WithContext("filtered query " + qo.where);
        for (size_t j = 0; j < hits.size() && j < k; ++j) {
          found[q * k + j] = RowOfDocumentId(hits[j].id);
        }
        if (hits.size() == expected) ++full;
      }
      p.recall1 = RecallAt(c.truth, std::min<size_t>(1, k), found, k);
      p.recall5 = RecallAt(c.truth, std::min<size_t>(5, k), found, k);
      p.recall10 = RecallAt(c.truth, std::min<size_t>(10, k), found, k);
      p.p50_us = Quantile(latency, 0.50);
      p.p99_us = Quantile(latency, 0.99);
      double sum = 0;
      for (double l : latency) sum += l;
      p.mean_us = latency.empty() ? 0 : sum / latency.size();
      p.full_fraction = p.queries == 0 ? 1.0 : static_cast<double>(full) / p.queries;
      out->push_back(p);
    }
  }
  return Status::OK();
}

}  // namespace emberdb::bench
