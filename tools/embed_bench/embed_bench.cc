// emberdb-embed-bench: speed of the BERT encoder (embedder/bert_*) on random-weight models of
// all-MiniLM-L6-v2's and bge-base-en-v1.5's exact shapes, side by side with the same workload in
// eager PyTorch (tools/embed_bench/torch_bench.py).
//
// Workload: passages of 20-256 tokens (uniform, fixed seed), token ids given (tokenization is
// not timed), mean pooling + Normalize. The weights are written to a temporary safetensors file
// and memory-mapped, as a real model folder would be. Reported per model and thread count:
// tokens/s, passages/s, the fraction of the sgemm arithmetic floor (useful FLOPs from the
// shapes, attention included, over --peak-gflops), peak RSS, and PyTorch's tokens/s and ratio.
//
//   emberdb-embed-bench [--models minilm,bge-base] [--threads 1,2] [--passages 32]
//                       [--seconds 1] [--torch-script tools/embed_bench/torch_bench.py | none]
//                       [--peak-gflops 62,120]
#include <cblas.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "embedder/bert_encoder.h"
#include "embedder/safetensors.h"

namespace {

using emberdb::Status;
using namespace emberdb::embedder;

struct Shape {
  std::string name;
  int layers, hidden, heads, intermediate, vocab = 30522, max_pos = 512;
};

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> parts;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) parts.push_back(part);
  return parts;
}

// Streams a random-weight BERT in safetensors layout to `path` (one tensor in memory at a time).
Status WriteRandomModel(const Shape& s, const std::string& path) {
  const uint64_t H = s.hidden, I = s.intermediate;
  std::vector<std::pair<std::string, std::vector<uint64_t>>> tensors = {
      {"embeddings.word_embeddings.weight", {static_cast<uint64_t>(s.vocab), H}},
      {"embeddings.position_embeddings.weight", {static_cast<uint64_t>(s.max_pos), H}},
      {"embeddings.token_type_embeddings.weight", {2, H}},
      {"embeddings.LayerNorm.weight", {H}},
      {"embeddings.LayerNorm.bias", {H}}};
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.output.dense"}) {
      tensors.push_back({p + m + ".weight", {H, H}});
      tensors.push_back({p + m + ".bias", {H}});
    }
    tensors.push_back({p + "attention.output.LayerNorm.weight", {H}});
    tensors.push_back({p + "attention.output.LayerNorm.bias", {H}});
    tensors.push_back({p + "intermediate.dense.weight", {I, H}});
    tensors.push_back({p + "intermediate.dense.bias", {I}});
    tensors.push_back({p + "output.dense.weight", {H, I}});
    tensors.push_back({p + "output.dense.bias", {H}});
    tensors.push_back({p + "output.LayerNorm.weight", {H}});
    tensors.push_back({p + "output.LayerNorm.bias", {H}});
  }
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& [name, shape] : tensors) {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + 4 * n}}};
    offset += 4 * n;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((json.size() >> (8 * i)) & 0xff));
  f << json;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  std::vector<float> data;
  for (const auto& [name, shape] : tensors) {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    data.resize(n);
    const bool gain = name.find("LayerNorm.weight") != std::string::npos;
    for (auto& v : data) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;  // xorshift64
      const float u = static_cast<float>(state >> 40) / static_cast<float>(1 << 24) - 0.5f;
      v = gain ? 1.0f + 0.2f * u : 0.1f * u;
    }
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(4 * n));
  }
  f.close();
  return f ? Status::OK() : Status::IOError(path + ": write failed");
}

// User + system CPU seconds of the whole process: on a shared machine, throughput per CPU
// second is steadier than per wall second.
double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec * 1e-6;
}

double PeakRssMiB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// Useful FLOPs of one sequence of `len` tokens (multiply-add = 2), padding excluded.
double SequenceFlops(const Shape& s, double len) {
  const double H = s.hidden, I = s.intermediate;
  const double dense = 2 * (3 * H * H + H * H + 2 * H * I);  // per token per layer
  const double attention = 2 * 2 * len * H;                  // q·kᵀ and p·v, per token
  return s.layers * len * (dense + attention);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models = {"minilm", "bge-base"};
  std::vector<int> threads = {1, 2};
  std::vector<double> peaks = {62, 120};
  int passages = 32;
  double seconds = 1;
  std::string torch_script = "tools/embed_bench/torch_bench.py";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--models")
      models = Split(value);
    else if (flag == "--threads") {
      threads.clear();
      for (const auto& t : Split(value)) threads.push_back(std::stoi(t));
    } else if (flag == "--peak-gflops") {
      peaks.clear();
      for (const auto& t : Split(value)) peaks.push_back(std::stod(t));
    } else if (flag == "--passages")
      passages = std::stoi(value);
    else if (flag == "--seconds")
      seconds = std::stod(value);
    else if (flag == "--torch-script")
      torch_script = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  const Shape shapes[] = {{"minilm", 6, 384, 12, 1536}, {"bge-base", 12, 768, 12, 3072}};

  std::mt19937 rng(42);
  std::vector<std::vector<int32_t>> ids(passages);
  std::vector<int> lengths;
  for (auto& seq : ids) {
    const int len = std::uniform_int_distribution<int>(20, 256)(rng);
    seq.push_back(101);
    for (int t = 1; t + 1 < len; ++t)
      seq.push_back(std::uniform_int_distribution<int>(1000, 29999)(rng));
    seq.push_back(102);
    lengths.push_back(len);
  }
  double total_tokens = 0;
  for (int len : lengths) total_tokens += len;

  const std::string tmp = std::filesystem::temp_directory_path().string() +
                          "/emberdb-embed-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(tmp);
  std::printf("workload: %d passages, %.0f tokens (20-256 each), mean pooling + normalize\n",
              passages, total_tokens);
  for (const Shape& s : shapes) {
    if (std::find(models.begin(), models.end(), s.name) == models.end()) continue;
    const std::string path = tmp + "/" + s.name + ".safetensors";
    Status st = WriteRandomModel(s, path);
    std::unique_ptr<SafetensorsFile> file;
    if (st.ok()) st = SafetensorsFile::Open(path, &file);
    ModelFolder folder;
    folder.bert = {s.vocab,   s.hidden, s.layers, s.heads, s.intermediate,
                   s.max_pos, 2,        1e-12f,   0,       s.name};
    folder.pooling.mean = true;
    folder.normalize = true;
    folder.max_seq_length = 512;
    double flops = 0;
    for (int len : lengths) flops += SequenceFlops(s, len);
    std::printf("\n%s: %d layers, hidden %d, %d heads, intermediate %d; %.2f GFLOP per pass\n",
                s.name.c_str(), s.layers, s.hidden, s.heads, s.intermediate, flops / 1e9);
    for (size_t ti = 0; ti < threads.size() && st.ok(); ++ti) {
      const int t = threads[ti];
      // The process thread budget, as DB::Open sets it: BLAS gets t threads (the encoder then
      // runs its batches one at a time; with t = 1, one worker on one BLAS thread).
      openblas_set_num_threads(t);
      std::unique_ptr<BertModel> model;
      st = BertModel::Load(
          std::shared_ptr<const SafetensorsFile>(file.get(), [](const SafetensorsFile*) {}),
          folder.bert, &model);
      std::unique_ptr<BertEncoder> encoder;
      if (st.ok()) st = BertEncoder::FromParts(folder, std::move(model), nullptr, t, &encoder);
      if (!st.ok()) break;
      std::vector<float> out;
      // Warm-up over the whole workload, so that the timed passes (like torch_bench.py's, which
      // warms up on the largest batch) do not include growing the per-thread buffers.
      st = encoder->EmbedIds(ids, &out);
      int runs = 0;
      const double cpu_start = CpuSeconds();
      const auto start = std::chrono::steady_clock::now();
      double elapsed = 0;
      while (st.ok() && (runs == 0 || elapsed < seconds)) {
        st = encoder->EmbedIds(ids, &out);
        ++runs;
        elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      }
      const double tok_s = total_tokens * runs / elapsed;
      const double tok_cpu_s = total_tokens * runs / (CpuSeconds() - cpu_start);
      const double peak = ti < peaks.size() ? peaks[ti] : peaks.back();
      const double floor_fraction = (flops * runs / elapsed) / (peak * 1e9);
      std::printf(
          "  emberdb %d thread%s: %7.0f tokens/s %6.1f passages/s  %3.0f%% of %.0f GFLOP/s"
          "  %7.0f tokens/CPU-s  (%d runs, %.1f s)  peak RSS %.0f MiB\n",
          t, t == 1 ? " " : "s", tok_s, passages * runs / elapsed, 100 * floor_fraction, peak,
          tok_cpu_s, runs, elapsed, PeakRssMiB());
      if (torch_script == "none") continue;
      const std::string work_path = tmp + "/work.json";
      nlohmann::json work = {
          {"config",
           {{"hidden_size", s.hidden},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"intermediate_size", s.intermediate},
            {"vocab_size", s.vocab},
            {"max_position_embeddings", s.max_pos}}},
          {"lengths", lengths},
          {"threads", t},
          {"max_texts", std::clamp((passages + t - 1) / t, 1, BertEncoder::kMaxBatchTexts)},
          {"max_tokens", BertEncoder::kMaxBatchTokens},
          {"min_seconds", seconds}};
      std::ofstream(work_path) << work.dump();
      // Debian's torch runs its GEMMs on OpenBLAS, whose own thread pool ignores
      // torch.set_num_threads: give it the same budget through the environment.
      const std::string budget = std::to_string(t);
      const std::string cmd = "OPENBLAS_NUM_THREADS=" + budget + " OMP_NUM_THREADS=" + budget +
                              " /usr/bin/python3 " + torch_script + " " + work_path + " 2>&1";
      FILE* pipe = popen(cmd.c_str(), "r");
      std::string text;
      char buf[4096];
      while (pipe != nullptr && fgets(buf, sizeof(buf), pipe) != nullptr) text += buf;
      if (pipe != nullptr) pclose(pipe);
      const size_t json_start = text.rfind('{');
      nlohmann::json result = nlohmann::json::parse(
          json_start == std::string::npos ? "" : text.substr(json_start), nullptr, false);
      if (result.is_discarded() || !result.contains("tokens_per_s")) {
        std::printf("  torch: failed: %s\n", text.c_str());
        continue;
      }
      const double torch_tok_s = result["tokens_per_s"].get<double>();
      const double torch_cpu_s = result["tokens_per_cpu_s"].get<double>();
      std::printf(
          "  torch   %d thread%s: %7.0f tokens/s %6.1f passages/s  %3.0f%% of %.0f GFLOP/s"
          "  %7.0f tokens/CPU-s  -> emberdb/torch = %.2fx (wall), %.2fx (CPU)\n",
          t, t == 1 ? " " : "s", torch_tok_s, result["passages_per_s"].get<double>(),
          100 * floor_fraction * torch_tok_s / tok_s, peak, torch_cpu_s, tok_s / torch_tok_s,
          tok_cpu_s / torch_cpu_s);
    }
    if (!st.ok()) {
      std::fprintf(stderr, "%s: %s\n", s.name.c_str(), st.ToString().c_str());
      std::filesystem::remove_all(tmp);
      return 1;
    }
    file.reset();
    std::filesystem::remove(path);
  }
  std::filesystem::remove_all(tmp);
  return 0;
}
