#include "embedder/bert_encoder.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>
#include <thread>

namespace emberdb::embedder {
namespace {

struct Batch {
  size_t begin, end;  // into the length-sorted order
  int seq_len;
};

}  // namespace

void PoolSequence(const BertPooling& pooling, const float* hidden, const uint8_t* mask, int seq_len,
                  int hidden_size, int skip, float* out) {
  const int H = hidden_size;
  if (pooling.cls) {
    std::copy(hidden, hidden + H, out);
    out += H;
  }
  std::vector<double> sum(H, 0.0);
  std::vector<float> max(H, -1e9f);  // sentence-transformers' fill value for masked tokens
  double count = 0;
  for (int t = 0; t < seq_len; ++t) {
    if (!mask[t] || t < skip) continue;
    const float* row = hidden + static_cast<size_t>(t) * H;
    for (int i = 0; i < H; ++i) {
      sum[i] += row[i];
      max[i] = std::max(max[i], row[i]);
    }
    count += 1;
  }
  if (pooling.max) {
    std::copy(max.begin(), max.end(), out);
    out += H;
  }
  if (pooling.mean) {
    const double denom = std::max(count, 1e-9);
    for (int i = 0; i < H; ++i) out[i] = static_cast<float>(sum[i] / denom);
    out += H;
  }
  if (pooling.mean_sqrt_len) {
    const double denom = std::sqrt(std::max(count, 1e-9));
    for (int i = 0; i < H; ++i) out[i] = static_cast<float>(sum[i] / denom);
  }
}

uint32_t TruncateIds(std::vector<int32_t>* ids, int max_len, int32_t sep_id) {
  if (ids->size() <= static_cast<size_t>(max_len)) return 0;
  const uint32_t dropped = static_cast<uint32_t>(ids->size() - max_len);
  ids->resize(max_len - 1);
  ids->push_back(sep_id);
  return dropped;
}

Status BertEncoder::FromParts(ModelFolder folder, std::unique_ptr<BertModel> model,
                              std::unique_ptr<WordPieceTokenizer> tokenizer, int threads,
                              std::unique_ptr<BertEncoder>* out) {
  auto enc = std::unique_ptr<BertEncoder>(new BertEncoder());
  enc->folder_ = std::move(folder);
  enc->model_ = std::move(model);
  enc->tokenizer_ = std::move(tokenizer);
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  enc->threads_ = std::min(threads, 256);
  *out = std::move(enc);
  return Status::OK();
}

Status BertEncoder::Open(const std::string& folder_path, int threads,
                         std::unique_ptr<BertEncoder>* out) {
  ModelFolder folder;
  EMBERDB_RETURN_IF_ERROR(ReadModelFolder(folder_path, &folder));
  std::unique_ptr<SafetensorsFile> file;
  EMBERDB_RETURN_IF_ERROR(SafetensorsFile::Open(folder.path + "/model.safetensors", &file));
  std::unique_ptr<BertModel> model;
  EMBERDB_RETURN_IF_ERROR(BertModel::Load(std::move(file), folder.bert, &model));
  std::unique_ptr<WordPieceTokenizer> tokenizer;
  if (!folder.vocab_txt.empty()) {
    EMBERDB_RETURN_IF_ERROR(
        WordPieceTokenizer::FromVocabFile(folder.vocab_txt, folder.tokenizer, &tokenizer));
  } else {
    EMBERDB_RETURN_IF_ERROR(
        WordPieceTokenizer::FromTokenizerJson(folder.tokenizer_json, folder.tokenizer, &tokenizer));
  }
  const std::string vocab_file =
      folder.vocab_txt.empty() ? folder.tokenizer_json : folder.vocab_txt;
  if (tokenizer->vocab_size() > static_cast<size_t>(folder.bert.vocab_size)) {
    return Status::InvalidArgument(vocab_file + ": " + std::to_string(tokenizer->vocab_size()) +
                                   " tokens, more than config.json's vocab_size " +
                                   std::to_string(folder.bert.vocab_size));
  }
  if (tokenizer->cls_id() < 0 || tokenizer->sep_id() < 0 || tokenizer->pad_id() < 0) {
    return Status::InvalidArgument(vocab_file + ": lacks the [CLS], [SEP] or [PAD] token");
  }
  return FromParts(std::move(folder), std::move(model), std::move(tokenizer), threads, out);
}

std::unique_ptr<BertEncoder::Scratch> BertEncoder::AcquireScratch() const {
  std::lock_guard<std::mutex> lock(scratch_mu_);
  if (scratch_pool_.empty()) return std::make_unique<Scratch>();
  std::unique_ptr<Scratch> scratch = std::move(scratch_pool_.back());
  scratch_pool_.pop_back();
  return scratch;
}

void BertEncoder::ReleaseScratch(std::unique_ptr<Scratch> scratch) const {
  std::lock_guard<std::mutex> lock(scratch_mu_);
  scratch_pool_.push_back(std::move(scratch));
}

Status BertEncoder::EmbedIds(const std::vector<std::vector<int32_t>>& ids, std::vector<float>* out,
                             const std::vector<int>* prompt_lengths) const {
  const BertConfig& c = folder_.bert;
  const size_t n = ids.size();
  const size_t dim = dimension();
  for (size_t i = 0; i < n; ++i) {
    if (ids[i].empty() || ids[i].size() > static_cast<size_t>(folder_.max_seq_length)) {
      return Status::InvalidArgument("sequence " + std::to_string(i) + " has " +
                                     std::to_string(ids[i].size()) + " ids; allowed 1 to " +
                                     std::to_string(folder_.max_seq_length));
    }
    for (int32_t id : ids[i]) {
      if (id < 0 || id >= c.vocab_size) {
        return Status::InvalidArgument("sequence " + std::to_string(i) + " holds token id " +
                                       std::to_string(id) + ", outside the vocabulary");
      }
    }
  }
  out->assign(n * dim, 0.0f);
  if (n == 0) return Status::OK();

  // Bucket by length: similar lengths share a batch, so the padded batch (which BertModel
  // packs, computing no padding) stays small and batches cost about the same.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  const size_t per_thread = (n + threads_ - 1) / threads_;
  const size_t max_texts = std::clamp<size_t>(per_thread, 1, BertEncoder::kMaxBatchTexts);
  std::vector<Batch> batches;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    size_t longest = 0;
    while (j < n && j - i < max_texts) {
      const size_t len = std::max(longest, ids[order[j]].size());
      if (j > i && len * (j - i + 1) > static_cast<size_t>(BertEncoder::kMaxBatchTokens)) break;
      longest = len;
      ++j;
    }
    batches.push_back({i, j, static_cast<int>(longest)});
    i = j;
  }
  // Longest batches first, so that the last batch to start is a short one.
  std::reverse(batches.begin(), batches.end());

  const int pad = std::clamp(c.pad_token_id, 0, c.vocab_size - 1);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    std::unique_ptr<Scratch> scratch = AcquireScratch();
    BertWorkspace& ws = scratch->ws;
    std::vector<int32_t>& batch_ids = scratch->batch_ids;
    std::vector<uint8_t>& mask = scratch->mask;
    ActivationBuffer& hidden = scratch->hidden;
    for (size_t b = next++; b < batches.size(); b = next++) {
      const Batch& batch = batches[b];
      const int rows = static_cast<int>(batch.end - batch.begin), L = batch.seq_len;
      batch_ids.assign(static_cast<size_t>(rows) * L, pad);
      mask.assign(static_cast<size_t>(rows) * L, 0);
      for (int r = 0; r < rows; ++r) {
        const auto& seq = ids[order[batch.begin + r]];
        std::copy(seq.begin(), seq.end(), batch_ids.begin() + static_cast<size_t>(r) * L);
        std::fill_n(mask.begin() + static_cast<size_t>(r) * L, seq.size(), 1);
      }
      hidden.resize(static_cast<size_t>(rows) * L * c.hidden_size);
      model_->Forward(batch_ids.data(), mask.data(), rows, L, &ws, hidden.data());
      for (int r = 0; r < rows; ++r) {
        const size_t text = order[batch.begin + r];
        const int skip = prompt_lengths != nullptr && !folder_.pooling.include_prompt
                             ? (*prompt_lengths)[text]
                             : 0;
        float* dst = out->data() + text * dim;
        PoolSequence(folder_.pooling, hidden.data() + static_cast<size_t>(r) * L * c.hidden_size,
                     mask.data() + static_cast<size_t>(r) * L, L, c.hidden_size, skip, dst);
        if (folder_.normalize) {
          double norm = 0;
          for (size_t i = 0; i < dim; ++i) norm += static_cast<double>(dst[i]) * dst[i];
          const double scale = 1.0 / std::max(std::sqrt(norm), 1e-12);
          for (size_t i = 0; i < dim; ++i) dst[i] = static_cast<float>(dst[i] * scale);
        }
      }
    }
    ReleaseScratch(std::move(scratch));
  };
  // One thread budget: when OpenBLAS itself runs multi-threaded (the process setting; DB::Open
  // sets it to Options::threads), the GEMMs already use the cores and batches run one at a
  // time; with single-threaded BLAS, batches run on parallel workers instead. Never both.
  const int workers = openblas_get_num_threads() > 1
                          ? 1
                          : static_cast<int>(std::min<size_t>(threads_, batches.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return Status::OK();
}

Status BertEncoder::EmbedTexts(const std::vector<std::string>& texts, const std::string& prompt,
                               bool truncation_is_error, std::vector<float>* out,
                               std::vector<uint32_t>* dropped_tokens) const {
  if (tokenizer_ == nullptr) return Status::InvalidArgument("this encoder has no tokenizer");
  std::vector<std::vector<int32_t>> ids(texts.size());
  std::vector<uint32_t> dropped(texts.size(), 0);
  const int max_len = folder_.max_seq_length;
  for (size_t i = 0; i < texts.size(); ++i) {
    ids[i] = tokenizer_->Encode(prompt + texts[i]);
    if (truncation_is_error && ids[i].size() > static_cast<size_t>(max_len)) {
      return Status::InvalidArgument(
          "text " + std::to_string(i) + " has " + std::to_string(ids[i].size()) +
          " tokens, over the model's max_seq_length " + std::to_string(max_len));
    }
    dropped[i] = TruncateIds(&ids[i], max_len, tokenizer_->sep_id());
  }
  std::vector<int> prompt_lengths;
  if (!folder_.pooling.include_prompt) {
    // sentence-transformers masks len(tokenize(prompt)) - 1 leading tokens ([CLS] + prompt).
    const int len = prompt.empty() ? 0 : static_cast<int>(tokenizer_->Encode(prompt).size()) - 1;
    prompt_lengths.assign(texts.size(), len);
  }
  EMBERDB_RETURN_IF_ERROR(EmbedIds(ids, out, prompt_lengths.empty() ? nullptr : &prompt_lengths));
  if (dropped_tokens != nullptr) *dropped_tokens = std::move(dropped);
  return Status::OK();
}

}  // namespace emberdb::embedder
