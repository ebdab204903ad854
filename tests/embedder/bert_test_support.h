// Shared helpers for the BERT embedder tests: fixture paths, JSONL reading, temporary model
// folders derived from the fixtures, and safetensors rewriting.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "embedder/safetensors.h"

namespace emberdb::embedder::testing {

inline std::string ModelDir(const std::string& name) {
  return std::string(EMBERDB_TEST_DATA) + "/embedder/models/" + name;
}

inline std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "emberdb-bert-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Copies a fixture model folder (without the reference .jsonl files) to dir/name.
inline std::string CopyModel(const std::string& fixture, const std::string& dir,
                             const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path dst = fs::path(dir) / name;
  fs::create_directories(dst);
  for (const auto& entry : fs::recursive_directory_iterator(ModelDir(fixture))) {
    const fs::path rel = fs::relative(entry.path(), ModelDir(fixture));
    if (entry.is_directory()) {
      fs::create_directories(dst / rel);
    } else if (entry.path().extension() != ".jsonl") {
      fs::copy_file(entry.path(), dst / rel, fs::copy_options::overwrite_existing);
      fs::permissions(dst / rel, fs::perms::owner_read | fs::perms::owner_write);
    }
  }
  return dst.string();
}

// Rewrites a model.safetensors tensor by tensor. `edit` may rename, retype or drop (return
// false) each tensor.
inline void RewriteSafetensors(const std::string& in_path, const std::string& out_path,
                               const std::function<bool(SafetensorToWrite*)>& edit) {
  std::unique_ptr<SafetensorsFile> file;
  Status s = SafetensorsFile::Open(in_path, &file);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  std::vector<SafetensorToWrite> out;
  for (const auto& t : file->tensors()) {
    SafetensorToWrite w{t.name, t.dtype, t.shape,
                        std::string(reinterpret_cast<const char*>(t.data), t.num_bytes)};
    if (edit(&w)) out.push_back(std::move(w));
  }
  file.reset();
  s = WriteSafetensors(out_path, out);
  if (!s.ok()) throw std::runtime_error(s.ToString());
}

inline std::vector<std::vector<int32_t>> IdsOf(const std::vector<nlohmann::json>& rows) {
  std::vector<std::vector<int32_t>> ids;
  for (const auto& r : rows) ids.push_back(r["input_ids"].get<std::vector<int32_t>>());
  return ids;
}

// Largest |got - ref| / (atol + rtol * |ref|); <= 1 means within tolerance.
inline double WorstRatio(const float* got, const std::vector<double>& ref, double atol,
                         double rtol) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    worst = std::max(worst, std::abs(got[i] - ref[i]) / (atol + rtol * std::abs(ref[i])));
  }
  return worst;
}

inline double MaxAbsDiff(const float* got, const std::vector<double>& ref) {
  double worst = 0;
  for (size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(got[i] - ref[i]));
  return worst;
}

}  // namespace emberdb::embedder::testing
