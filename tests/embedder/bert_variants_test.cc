// Model-folder variants generated at test time from tiny-bert-mean into a temp dir: BF16 weights,
// "model."/"bert." prefixes and gamma/beta names, prompts, pooling modes, no modules.json.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "embedder/bert_embedder.h"
#include "embedder/bert_encoder.h"
#include "tests/embedder/bert_test_support.h"

namespace emberdb::embedder {
namespace {

using namespace testing;

std::unique_ptr<BertEncoder> Open(const std::string& dir) {
  std::unique_ptr<BertEncoder> encoder;
  Status s = BertEncoder::Open(dir, 2, &encoder);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return encoder;
}

std::vector<float> EmbedAll(const std::string& dir, const std::vector<std::vector<int32_t>>& ids) {
  std::vector<float> out;
  REQUIRE(Open(dir)->EmbedIds(ids, &out).ok());
  return out;
}

// Applies `convert` to every value of every F32 tensor, keeping dtype F32 or writing BF16.
void ConvertF32(const std::string& dir, bool to_bf16) {
  const std::string path = dir + "/model.safetensors";
  RewriteSafetensors(path, path + ".new", [&](SafetensorToWrite* t) {
    if (t->dtype != "F32") return true;
    const size_t n = t->bytes.size() / 4;
    std::string bytes(to_bf16 ? 2 * n : 4 * n, '\0');
    for (size_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, t->bytes.data() + 4 * i, 4);
      const uint16_t b = FloatToBFloat16(f);
      if (to_bf16) {
        std::memcpy(bytes.data() + 2 * i, &b, 2);
      } else {
        const float rounded = BFloat16ToFloat(b);
        std::memcpy(bytes.data() + 4 * i, &rounded, 4);
      }
    }
    t->bytes = std::move(bytes);
    if (to_bf16) t->dtype = "BF16";
    return true;
  });
  std::filesystem::rename(path + ".new", path);
}

TEST_CASE("bert variants: BF16 weights equal an F32 model holding the same rounded values") {
  TempDir tmp;
  const std::string bf16 = CopyModel("tiny-bert-mean", tmp.path(), "bf16");
  const std::string rounded = CopyModel("tiny-bert-mean", tmp.path(), "rounded-f32");
  ConvertF32(bf16, /*to_bf16=*/true);
  ConvertF32(rounded, /*to_bf16=*/false);
  std::unique_ptr<SafetensorsFile> file;
  REQUIRE(SafetensorsFile::Open(bf16 + "/model.safetensors", &file).ok());
  CHECK(file->Find("embeddings.word_embeddings.weight")->dtype == "BF16");

  const auto rows = ReadJsonl(ModelDir("tiny-bert-mean") + "/expected.jsonl");
  const auto ids = IdsOf(rows);
  const auto got = EmbedAll(bf16, ids);
  const auto want = EmbedAll(rounded, ids);
  REQUIRE(got.size() == want.size());
  double diff = 0, vs_f32 = 0;
  for (size_t i = 0; i < got.size(); ++i) diff = std::max(diff, double(std::abs(got[i] - want[i])));
  CHECK(diff <= 1e-6);
  // Against the full-precision reference only loosely: BF16 keeps 8 mantissa bits.
  for (size_t i = 0; i < rows.size(); ++i) {
    vs_f32 = std::max(vs_f32, MaxAbsDiff(got.data() + i * 32,
                                         rows[i]["embedding_f64"].get<std::vector<double>>()));
  }
  MESSAGE("bf16 vs rounded-f32 max diff " << diff << ", vs f64 reference " << vs_f32);
  CHECK(vs_f32 > 1e-5);  // the rounding must be visible...
  CHECK(vs_f32 < 0.05);  // ...but small

  std::unique_ptr<Embedder> a, b;
  REQUIRE(NewBertEmbedder(bf16, EmbedderOptions{}, &a).ok());
  REQUIRE(NewBertEmbedder(rounded, EmbedderOptions{}, &b).ok());
  CHECK(a->identity().fingerprint != b->identity().fingerprint);
}

TEST_CASE("bert variants: 'model.' and 'bert.' prefixes and LayerNorm gamma/beta names") {
  TempDir tmp;
  const auto rows = ReadJsonl(ModelDir("tiny-bert-mean") + "/expected.jsonl");
  const auto ids = IdsOf(rows);
  const auto plain = EmbedAll(ModelDir("tiny-bert-mean"), ids);
  struct Variant {
    const char* name;
    std::function<void(std::string*)> rename;
  } variants[] = {
      {"model-prefix", [](std::string* n) { *n = "model." + *n; }},
      {"bert-prefix-gamma-beta",
       [](std::string* n) {
         if (n->ends_with("LayerNorm.weight")) n->replace(n->size() - 6, 6, "gamma");
         if (n->ends_with("LayerNorm.bias")) n->replace(n->size() - 4, 4, "beta");
         *n = "bert." + *n;
       }},
  };
  for (const auto& v : variants) {
    CAPTURE(v.name);
    const std::string dir = CopyModel("tiny-bert-mean", tmp.path(), v.name);
    const std::string path = dir + "/model.safetensors";
    RewriteSafetensors(path, path + ".new", [&](SafetensorToWrite* t) {
      v.rename(&t->name);
      return true;
    });
    std::filesystem::rename(path + ".new", path);
    const auto got = EmbedAll(dir, ids);
    CHECK(got == plain);  // same weights, same arithmetic: bit-identical
  }
}

TEST_CASE("bert variants: prompts from config_sentence_transformers.json and overrides") {
  TempDir tmp;
  const std::string dir = CopyModel("tiny-bert-mean", tmp.path(), "e5-like");
  WriteFile(dir + "/config_sentence_transformers.json",
            R"({"prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": null})");
  auto encoder = Open(dir);
  auto embed_raw = [&](const std::string& text) {
    std::vector<float> out;
    REQUIRE(encoder->EmbedTexts({text}, "", false, &out, nullptr).ok());
    return out;
  };
  std::unique_ptr<Embedder> model_prompts, overridden;
  REQUIRE(NewBertEmbedder(dir, EmbedderOptions{}, &model_prompts).ok());
  EmbedderOptions options;
  options.query_prompt = "Represent this sentence for searching relevant passages: ";
  options.document_prompt = "";
  REQUIRE(NewBertEmbedder(dir, options, &overridden).ok());
  const std::string text = "how do vector databases work";
  std::vector<float> q, d, oq, od;
  REQUIRE(model_prompts->EmbedQuery({text}, &q).ok());
  REQUIRE(model_prompts->EmbedDocuments({text}, &d).ok());
  REQUIRE(overridden->EmbedQuery({text}, &oq).ok());
  REQUIRE(overridden->EmbedDocuments({text}, &od).ok());
  CHECK(q == embed_raw("query: " + text));
  CHECK(d == embed_raw("passage: " + text));
  CHECK(q != d);
  CHECK(oq == embed_raw(*options.query_prompt + text));
  CHECK(od == embed_raw(text));

  // default_prompt_name applies to both sides when no query/document prompt exists.
  WriteFile(dir + "/config_sentence_transformers.json",
            R"({"prompts": {"retrieval": "Represent: "}, "default_prompt_name": "retrieval"})");
  std::unique_ptr<Embedder> with_default;
  REQUIRE(NewBertEmbedder(dir, EmbedderOptions{}, &with_default).ok());
  REQUIRE(with_default->EmbedQuery({text}, &q).ok());
  REQUIRE(with_default->EmbedDocuments({text}, &d).ok());
  CHECK(q == embed_raw("Represent: " + text));
  CHECK(d == q);
}

// Pooling modes checked against the float64 last hidden states of hidden_states.jsonl.
TEST_CASE("bert variants: max, mean_sqrt_len and concatenated pooling and no modules.json") {
  TempDir tmp;
  const auto rows = ReadJsonl(ModelDir("tiny-bert-mean") + "/hidden_states.jsonl");
  const auto ids = IdsOf(rows);
  struct Mode {
    const char* config;
    int dim;
  } modes[] = {
      {R"({"word_embedding_dimension": 32, "pooling_mode_max_tokens": true})", 32},
      {R"({"word_embedding_dimension": 32, "pooling_mode_mean_sqrt_len_tokens": true})", 32},
      {R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true})", 64},
  };
  int index = 0;
  for (const auto& mode : modes) {
    CAPTURE(mode.config);
    const std::string dir =
        CopyModel("tiny-bert-mean", tmp.path(), "pool" + std::to_string(index++));
    WriteFile(dir + "/1_Pooling/config.json", mode.config);
    auto encoder = Open(dir);
    REQUIRE(encoder->dimension() == static_cast<uint32_t>(mode.dim));
    std::vector<float> got;
    REQUIRE(encoder->EmbedIds(ids, &got).ok());
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto hs = rows[r]["last_hidden_state_f64"].get<std::vector<std::vector<double>>>();
      std::vector<double> ref;
      const double n = static_cast<double>(hs.size());
      for (int i = 0; i < 32; ++i) {
        double mx = -1e300, sum = 0;
        for (const auto& tok : hs) {
          mx = std::max(mx, tok[i]);
          sum += tok[i];
        }
        if (index == 1) ref.push_back(mx);
        if (index == 2) ref.push_back(sum / std::sqrt(n));
      }
      if (index == 3) {
        ref = hs[0];
        for (int i = 0; i < 32; ++i) {
          double sum = 0;
          for (const auto& tok : hs) sum += tok[i];
          ref.push_back(sum / n);
        }
      }
      double norm = 0;
      for (double x : ref) norm += x * x;
      for (double& x : ref) x /= std::sqrt(norm);
      CHECK(MaxAbsDiff(got.data() + r * mode.dim, ref) <= 5e-5);
    }
  }

  // A plain HF folder: mean pooling and no Normalize, as sentence-transformers does.
  const std::string plain = CopyModel("tiny-bert-mean", tmp.path(), "plain");
  std::filesystem::remove(plain + "/modules.json");
  std::vector<float> raw, normalized;
  REQUIRE(Open(plain)->EmbedIds(ids, &raw).ok());
  REQUIRE(Open(ModelDir("tiny-bert-mean"))->EmbedIds(ids, &normalized).ok());
  double norm = 0;
  for (int i = 0; i < 32; ++i) norm += double(raw[i]) * raw[i];
  CHECK(std::abs(std::sqrt(norm) - 1.0) > 1e-3);
  for (int i = 0; i < 32; ++i)
    CHECK(raw[i] / std::sqrt(norm) == doctest::Approx(normalized[i]).epsilon(1e-5));
}

TEST_CASE("bert variants: include_prompt=false leaves prompt tokens out of mean pooling") {
  TempDir tmp;
  const std::string dir = CopyModel("tiny-bert-mean", tmp.path(), "instructor-like");
  WriteFile(dir + "/1_Pooling/config.json",
            R"({"pooling_mode_mean_tokens": true, "include_prompt": false})");
  auto encoder = Open(dir);
  const std::string prompt = "represent the query: ";
  std::vector<float> got;
  REQUIRE(encoder->EmbedTexts({"vector search"}, prompt, false, &got, nullptr).ok());
  // Reference: hidden states of the whole sequence, mean over the tokens after [CLS] + prompt.
  const auto ids = encoder->tokenizer()->Encode(prompt + "vector search");
  const int skip = static_cast<int>(encoder->tokenizer()->Encode(prompt).size()) - 1;
  const int L = static_cast<int>(ids.size());
  std::vector<uint8_t> mask(L, 1);
  std::vector<float> hidden(L * 32);
  BertWorkspace ws;
  encoder->model().Forward(ids.data(), mask.data(), 1, L, &ws, hidden.data());
  std::vector<double> ref(32, 0.0);
  for (int t = skip; t < L; ++t)
    for (int i = 0; i < 32; ++i) ref[i] += hidden[t * 32 + i] / double(L - skip);
  double norm = 0;
  for (double x : ref) norm += x * x;
  for (double& x : ref) x /= std::sqrt(norm);
  CHECK(skip > 1);
  CHECK(MaxAbsDiff(got.data(), ref) <= 1e-6);
}

TEST_CASE("bert variants: sentence_bert_config do_lower_case with a cased tokenizer") {
  TempDir tmp;
  const std::string dir = CopyModel("tiny-bert-mean", tmp.path(), "cased");
  WriteFile(dir + "/tokenizer_config.json", R"({"do_lower_case": false})");
  auto cased = Open(dir);
  // A cased tokenizer does not find "HELLO" in an uncased vocab.
  CHECK(cased->tokenizer()->Encode("HELLO") != cased->tokenizer()->Encode("hello"));
  WriteFile(dir + "/sentence_bert_config.json",
            R"({"max_seq_length": 256, "do_lower_case": true})");
  auto lowered = Open(dir);
  CHECK(lowered->tokenizer()->Encode("HELLO World") == lowered->tokenizer()->Encode("hello world"));
  // Lower-casing the text does not strip accents when the tokenizer did not.
  CHECK(lowered->tokenizer()->Encode("café") != lowered->tokenizer()->Encode("cafe"));
}

}  // namespace
}  // namespace emberdb::embedder
