// The BERT encoder against the reference fixtures (tests/data/embedder/models/tiny-bert-*,
// computed in float64 by HF transformers + sentence-transformers): sentence embeddings, hidden
// states layer by layer, padded batches, and the real tokenizer's ids.
#include <doctest/doctest.h>

#include <thread>

#include "embedder/bert_embedder.h"
#include "embedder/bert_encoder.h"
#include "tests/embedder/bert_test_support.h"

namespace emberdb::embedder {
namespace {

using testing::IdsOf;
using testing::MaxAbsDiff;
using testing::ModelDir;
using testing::ReadJsonl;
using testing::WorstRatio;

const char* const kModels[] = {"tiny-bert-mean", "tiny-bert-cls", "tiny-bert-prefixed"};

// The normalized models are compared by max abs diff 1e-5; the unnormalized one by
// |got - ref| <= 1e-5 + 1e-5 |ref| (fixture README, section 4).
bool Normalized(const std::string& model) { return model != "tiny-bert-prefixed"; }

double EmbeddingError(const std::string& model, const float* got, const std::vector<double>& ref) {
  return Normalized(model) ? MaxAbsDiff(got, ref) / 1e-5 : WorstRatio(got, ref, 1e-5, 1e-5);
}

std::unique_ptr<BertEncoder> OpenEncoder(const std::string& model, int threads) {
  std::unique_ptr<BertEncoder> encoder;
  Status s = BertEncoder::Open(ModelDir(model), threads, &encoder);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return encoder;
}

TEST_CASE("bert: expected.jsonl embeddings from input_ids, bucketed and one at a time") {
  for (const std::string model : kModels) {
    CAPTURE(model);
    const auto rows = ReadJsonl(ModelDir(model) + "/expected.jsonl");
    REQUIRE(rows.size() >= 50);
    for (int threads : {1, 2}) {
      auto encoder = OpenEncoder(model, threads);
      CHECK(encoder->dimension() == 32);
      std::vector<float> all;
      REQUIRE(encoder->EmbedIds(IdsOf(rows), &all).ok());
      double worst = 0;
      for (size_t i = 0; i < rows.size(); ++i) {
        const auto ref = rows[i]["embedding_f64"].get<std::vector<double>>();
        const double err = EmbeddingError(model, all.data() + i * 32, ref);
        CHECK_MESSAGE(err <= 1.0, rows[i]["id"].get<std::string>());
        worst = std::max(worst, err);
      }
      MESSAGE(model << " threads=" << threads << " worst error / tolerance = " << worst);
    }
    // Unbatched: one sequence per call must agree with the batched result.
    auto encoder = OpenEncoder(model, 1);
    for (size_t i = 0; i < rows.size(); i += 7) {
      std::vector<float> one;
      REQUIRE(encoder->EmbedIds({rows[i]["input_ids"].get<std::vector<int32_t>>()}, &one).ok());
      CHECK(EmbeddingError(model, one.data(),
                           rows[i]["embedding_f64"].get<std::vector<double>>()) <= 1.0);
    }
  }
}

TEST_CASE("bert: hidden_states.jsonl, embedding output and every layer") {
  for (const std::string model : kModels) {
    CAPTURE(model);
    auto encoder = OpenEncoder(model, 1);
    const BertModel& bert = encoder->model();
    const int H = bert.config().hidden_size;
    int compared = 0;
    for (const auto& row : ReadJsonl(ModelDir(model) + "/hidden_states.jsonl")) {
      CAPTURE(row["id"].get<std::string>());
      const auto ids = row["input_ids"].get<std::vector<int32_t>>();
      const int L = static_cast<int>(ids.size());
      std::vector<uint8_t> mask(L, 1);
      std::vector<float> hidden(static_cast<size_t>(L) * H);
      std::vector<std::vector<float>> layers;
      BertWorkspace ws;
      bert.Forward(ids.data(), mask.data(), 1, L, &ws, hidden.data(), &layers);
      REQUIRE(layers.size() == static_cast<size_t>(bert.config().num_layers + 1));
      auto flat = [](const nlohmann::json& m) {
        std::vector<double> v;
        for (const auto& r : m)
          for (double x : r) v.push_back(x);
        return v;
      };
      CHECK(MaxAbsDiff(hidden.data(), flat(row["last_hidden_state_f64"])) <= 5e-5);
      ++compared;
      if (row.contains("embedding_output_f64")) {
        CHECK(MaxAbsDiff(layers[0].data(), flat(row["embedding_output_f64"])) <= 5e-5);
        for (size_t l = 0; l < row["layer_outputs_f64"].size(); ++l) {
          CHECK(MaxAbsDiff(layers[l + 1].data(), flat(row["layer_outputs_f64"][l])) <= 5e-5);
        }
      }
    }
    CHECK(compared == 4);
  }
}

TEST_CASE("bert: batch.jsonl padded batches equal the references") {
  for (const std::string model : kModels) {
    CAPTURE(model);
    auto encoder = OpenEncoder(model, 1);
    const BertModel& bert = encoder->model();
    const ModelFolder& folder = encoder->folder();
    const int H = bert.config().hidden_size;
    for (const auto& row : ReadJsonl(ModelDir(model) + "/batch.jsonl")) {
      CAPTURE(row["batch_id"].get<std::string>());
      const auto ids2d = row["input_ids"].get<std::vector<std::vector<int32_t>>>();
      const auto mask2d = row["attention_mask"].get<std::vector<std::vector<int>>>();
      const int B = static_cast<int>(ids2d.size()), L = static_cast<int>(ids2d[0].size());
      std::vector<int32_t> ids;
      std::vector<uint8_t> mask;
      for (int b = 0; b < B; ++b) {
        REQUIRE(ids2d[b].size() == static_cast<size_t>(L));
        ids.insert(ids.end(), ids2d[b].begin(), ids2d[b].end());
        for (int m : mask2d[b]) mask.push_back(static_cast<uint8_t>(m));
      }
      std::vector<float> hidden(static_cast<size_t>(B) * L * H);
      BertWorkspace ws;
      bert.Forward(ids.data(), mask.data(), B, L, &ws, hidden.data());
      for (int b = 0; b < B; ++b) {
        std::vector<float> e(H);
        PoolSequence(folder.pooling, hidden.data() + static_cast<size_t>(b) * L * H,
                     mask.data() + static_cast<size_t>(b) * L, L, H, 0, e.data());
        if (folder.normalize) {
          double norm = 0;
          for (float x : e) norm += static_cast<double>(x) * x;
          for (float& x : e) x = static_cast<float>(x / std::max(std::sqrt(norm), 1e-12));
        }
        CHECK(EmbeddingError(model, e.data(),
                             row["embeddings_f64"][b].get<std::vector<double>>()) <= 1.0);
      }
    }
  }
}

TEST_CASE("bert: the real tokenizer reproduces expected.jsonl's (truncated) input_ids") {
  for (const std::string model : kModels) {
    CAPTURE(model);
    std::unique_ptr<Embedder> embedder;
    REQUIRE(NewBertEmbedder(ModelDir(model), EmbedderOptions{}, &embedder).ok());
    auto encoder = OpenEncoder(model, 2);
    const auto rows = ReadJsonl(ModelDir(model) + "/expected.jsonl");
    std::vector<std::string> texts;
    int mismatches = 0;
    for (const auto& row : rows) {
      texts.push_back(row["text"].get<std::string>());
      std::vector<int32_t> ids = encoder->tokenizer()->Encode(texts.back());
      CHECK(ids.size() == row["num_ids_untruncated"].get<size_t>());
      TruncateIds(&ids, encoder->folder().max_seq_length, encoder->tokenizer()->sep_id());
      if (ids != row["input_ids"].get<std::vector<int32_t>>()) {
        ++mismatches;
        MESSAGE("ids differ for " << row["id"].get<std::string>());
      }
    }
    CHECK(mismatches == 0);
    // End to end through the public interface: text in, reference embedding out.
    std::vector<float> out;
    EmbedReport report;
    REQUIRE(embedder->EmbedDocuments(texts, &out, &report).ok());
    REQUIRE(out.size() == rows.size() * 32);
    REQUIRE(report.dropped_tokens.size() == rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      CAPTURE(rows[i]["id"].get<std::string>());
      CHECK(EmbeddingError(model, out.data() + i * 32,
                           rows[i]["embedding_f64"].get<std::vector<double>>()) <= 1.0);
      const size_t untruncated = rows[i]["num_ids_untruncated"].get<size_t>();
      const size_t kept = rows[i]["input_ids"].size();
      CHECK(report.dropped_tokens[i] == untruncated - kept);
    }
  }
}

TEST_CASE("bert: truncation_is_error turns an over-long text into InvalidArgument") {
  const auto rows = ReadJsonl(ModelDir("tiny-bert-prefixed") + "/expected.jsonl");
  std::string long_text, short_text;
  for (const auto& row : rows) {
    if (row["truncated"].get<bool>() && long_text.empty()) long_text = row["text"];
    if (!row["truncated"].get<bool>() && short_text.empty()) short_text = row["text"];
  }
  REQUIRE(!long_text.empty());
  EmbedderOptions options;
  options.truncation_is_error = true;
  std::unique_ptr<Embedder> embedder;
  REQUIRE(NewBertEmbedder(ModelDir("tiny-bert-prefixed"), options, &embedder).ok());
  std::vector<float> out;
  Status s = embedder->EmbedDocuments({short_text, long_text}, &out, nullptr);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("text 1") != std::string::npos);
  CHECK(embedder->EmbedDocuments({short_text}, &out, nullptr).ok());
}

TEST_CASE("bert: buffers kept between calls carry nothing over from the previous call") {
  // The encoder keeps each worker's buffers between calls; a large call, a small one and the
  // large one again must give exactly what fresh encoders give.
  const auto rows = ReadJsonl(ModelDir("tiny-bert-mean") + "/expected.jsonl");
  const auto all_ids = IdsOf(rows);
  std::vector<std::vector<int32_t>> few;
  for (size_t i = 0; i < all_ids.size(); i += 9) few.push_back(all_ids[i]);
  REQUIRE(few.size() >= 5);
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    std::vector<float> fresh_all, fresh_few;
    REQUIRE(OpenEncoder("tiny-bert-mean", threads)->EmbedIds(all_ids, &fresh_all).ok());
    REQUIRE(OpenEncoder("tiny-bert-mean", threads)->EmbedIds(few, &fresh_few).ok());
    auto encoder = OpenEncoder("tiny-bert-mean", threads);
    std::vector<float> first, small, again;
    REQUIRE(encoder->EmbedIds(all_ids, &first).ok());
    REQUIRE(encoder->EmbedIds(few, &small).ok());
    REQUIRE(encoder->EmbedIds(all_ids, &again).ok());
    CHECK(first == fresh_all);
    CHECK(small == fresh_few);
    CHECK(again == fresh_all);
  }
}

TEST_CASE("bert: activation buffers are 2 MiB-aligned from 4 MiB up and hold their data") {
  ActivationBuffer large(3 << 20);  // 12 MiB
  CHECK(reinterpret_cast<uintptr_t>(large.data()) % (2 << 20) == 0);
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<float>(i % 1000);
  large.resize(large.size() + 12345, 7.0f);  // growing keeps the contents
  bool intact = true;
  for (size_t i = 0; i < (3u << 20); ++i) intact &= large[i] == static_cast<float>(i % 1000);
  CHECK(intact);
  CHECK(large.back() == 7.0f);
  ActivationBuffer small(100, 1.5f);
  CHECK(small[99] == 1.5f);
}

TEST_CASE("bert: identity and empty input") {
  std::unique_ptr<Embedder> a, b, c;
  REQUIRE(NewBertEmbedder(ModelDir("tiny-bert-mean"), EmbedderOptions{}, &a).ok());
  REQUIRE(NewBertEmbedder(ModelDir("tiny-bert-mean") + "/", EmbedderOptions{}, &b).ok());
  REQUIRE(NewBertEmbedder(ModelDir("tiny-bert-cls"), EmbedderOptions{}, &c).ok());
  CHECK(a->identity().kind == "hf");
  CHECK(a->identity().model == "tiny-bert-mean");
  CHECK(b->identity().model == "tiny-bert-mean");
  CHECK(a->identity().dimension == 32);
  CHECK(a->identity().fingerprint == b->identity().fingerprint);
  CHECK(a->identity().fingerprint != c->identity().fingerprint);
  CHECK(a->identity().fingerprint.size() == 9 + 16);
  std::vector<float> out{1.0f};
  EmbedReport report;
  CHECK(a->EmbedQuery({}, &out, &report).ok());
  CHECK(out.empty());
  CHECK(report.dropped_tokens.empty());
}

TEST_CASE("bert: concurrent calls on one embedder, through NewEmbedder(\"hf:...\")") {
  EmbedderOptions options;
  options.threads = 2;
  std::unique_ptr<Embedder> embedder;
  Status s = NewEmbedder("hf:" + ModelDir("tiny-bert-cls"), options, &embedder);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  const auto rows = ReadJsonl(ModelDir("tiny-bert-cls") + "/expected.jsonl");
  std::vector<std::string> texts;
  for (const auto& row : rows) texts.push_back(row["text"].get<std::string>());
  std::vector<float> serial;
  REQUIRE(embedder->EmbedDocuments(texts, &serial).ok());
  std::vector<std::vector<float>> results(3);
  std::vector<Status> statuses(3);
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back(
        [&, t] { statuses[t] = embedder->EmbedDocuments(texts, &results[t], nullptr); });
  }
  for (auto& c : callers) c.join();
  for (int t = 0; t < 3; ++t) {
    CHECK(statuses[t].ok());
    REQUIRE(results[t].size() == serial.size());
    double diff = 0;
    for (size_t i = 0; i < serial.size(); ++i)
      diff = std::max(diff, double(std::abs(results[t][i] - serial[i])));
    CHECK(diff <= 1e-6);
  }
}

}  // namespace
}  // namespace emberdb::embedder
