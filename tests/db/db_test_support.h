// Helpers for tests of the public API: temporary databases and synthetic vectors.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "emberdb/db.h"

namespace emberdb_test {

// A fresh directory removed at scope exit.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("emberdb-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::vector<float> RandomVector(std::mt19937& rng, size_t dim) {
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(dim);
  for (float& x : v) x = n(rng);
  return v;
}

inline std::unique_ptr<emberdb::DB> OpenDb(const std::string& path, emberdb::Options options = {}) {
  std::unique_ptr<emberdb::DB> db;
  emberdb::Status s = emberdb::DB::Open(path, options, &db);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return db;
}

inline std::shared_ptr<emberdb::Collection> MakeCollection(
    emberdb::DB* db, const std::string& name, uint32_t dim,
    emberdb::Metric metric = emberdb::Metric::kCosine, const std::string& embedder = "") {
  emberdb::CollectionOptions options;
  options.dimension = dim;
  options.metric = metric;
  options.embedder = embedder;
  std::shared_ptr<emberdb::Collection> c;
  emberdb::Status s = db->CreateCollection(name, options, &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return c;
}

inline uint64_t CountOf(const emberdb::Collection& c) {
  uint64_t n = 0;
  REQUIRE(c.Count(&n).ok());
  return n;
}

inline std::vector<std::string> AllIds(const emberdb::Collection& c) {
  std::vector<emberdb::Document> docs;
  emberdb::GetOptions all;
  all.include = emberdb::kIncludeNone;
  REQUIRE(c.Get(all, &docs).ok());
  std::vector<std::string> ids;
  for (auto& d : docs) ids.push_back(d.id);
  return ids;
}

}  // namespace emberdb_test

namespace emberdb_test {

// L2-normalised vectors from a mixture of `clusters` Gaussians: the shape of real embeddings.
inline std::vector<std::vector<float>> ClusteredVectors(size_t n, size_t dim, size_t clusters,
                                                        uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<float>> centers;
  for (size_t c = 0; c < clusters; ++c) centers.push_back(RandomVector(rng, dim));
  std::normal_distribution<float> noise(0, 0.35f);
  std::vector<std::vector<float>> out(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centers[rng() % clusters];
    out[i].resize(dim);
    double norm = 0;
    for (size_t d = 0; d < dim; ++d) {
      out[i][d] = c[d] + noise(rng);
      norm += double(out[i][d]) * out[i][d];
    }
    for (float& x : out[i]) x = static_cast<float>(x / std::sqrt(norm));
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::string s;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    std::fclose(f);
  }
  return s;
}

}  // namespace emberdb_test
