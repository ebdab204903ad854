// Malformed model folders: every one is a Status naming the file at fault, never a crash.
// Each case copies tiny-bert-mean into a temp dir and breaks one thing.
#include <doctest/doctest.h>

#include <filesystem>

#include "embedder/bert_embedder.h"
#include "tests/embedder/bert_test_support.h"

namespace emberdb::embedder {
namespace {

using namespace testing;
namespace fs = std::filesystem;

void EditJson(const std::string& path, const std::function<void(nlohmann::json*)>& edit) {
  nlohmann::json j = nlohmann::json::parse(ReadFile(path));
  edit(&j);
  WriteFile(path, j.dump(2));
}

void EditTensors(const std::string& dir, const std::function<bool(SafetensorToWrite*)>& edit) {
  const std::string path = dir + "/model.safetensors";
  RewriteSafetensors(path, path + ".new", edit);
  fs::rename(path + ".new", path);
}

struct Breakage {
  const char* what;
  std::function<void(const std::string& dir)> apply;
  const char* file;    // must appear in the message
  const char* detail;  // must appear in the message too
};

TEST_CASE("bert malformed: each broken folder is a clear error naming the file") {
  const Breakage cases[] = {
      {"missing config.json", [](const std::string& d) { fs::remove(d + "/config.json"); },
       "config.json", "missing"},
      {"config.json not JSON", [](const std::string& d) { WriteFile(d + "/config.json", "{oops"); },
       "config.json", "JSON"},
      {"absurd hidden_size",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["hidden_size"] = 1000000000; });
       },
       "config.json", "hidden_size"},
      {"absurd layer count",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["num_hidden_layers"] = 100000; });
       },
       "config.json", "num_hidden_layers"},
      {"heads not dividing hidden",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["num_attention_heads"] = 5; });
       },
       "config.json", "multiple"},
      {"string size",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["intermediate_size"] = "64"; });
       },
       "config.json", "intermediate_size"},
      {"unsupported activation",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["hidden_act"] = "gelu_new"; });
       },
       "config.json", "gelu_new"},
      {"zero eps",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["layer_norm_eps"] = 0; });
       },
       "config.json", "layer_norm_eps"},
      {"config disagrees with tensors",
       [](const std::string& d) {
         EditJson(d + "/config.json", [](auto* j) { (*j)["intermediate_size"] = 128; });
       },
       "model.safetensors", "intermediate.dense.weight"},
      {"missing model.safetensors",
       [](const std::string& d) { fs::remove(d + "/model.safetensors"); }, "model.safetensors",
       "cannot open"},
      {"empty model.safetensors",
       [](const std::string& d) { WriteFile(d + "/model.safetensors", ""); }, "model.safetensors",
       "shorter"},
      {"truncated model.safetensors",
       [](const std::string& d) {
         fs::resize_file(d + "/model.safetensors", fs::file_size(d + "/model.safetensors") - 1000);
       },
       "model.safetensors", "out of range"},
      {"header length past the end",
       [](const std::string& d) {
         std::string bytes = ReadFile(d + "/model.safetensors");
         bytes[5] = '\x7f';
         WriteFile(d + "/model.safetensors", bytes);
       },
       "model.safetensors", "exceeds"},
      {"missing tensor",
       [](const std::string& d) {
         EditTensors(d, [](auto* t) { return t->name != "encoder.layer.1.output.dense.bias"; });
       },
       "model.safetensors", "encoder.layer.1.output.dense.bias"},
      {"transposed weight",
       [](const std::string& d) {
         EditTensors(d, [](auto* t) {
           if (t->name == "encoder.layer.0.intermediate.dense.weight") t->shape = {32, 64};
           return true;
         });
       },
       "model.safetensors", "shape [32,64]"},
      {"integer weights",
       [](const std::string& d) {
         EditTensors(d, [](auto* t) {
           if (t->name == "embeddings.LayerNorm.weight") t->dtype = "I32";
           return true;
         });
       },
       "model.safetensors", "dtype I32"},
      {"unknown dtype",
       [](const std::string& d) {
         EditTensors(d, [](auto* t) {
           if (t->name == "pooler.dense.bias") t->dtype = "Q4";
           return true;
         });
       },
       "model.safetensors", "unknown dtype"},
      {"modules.json lists an unsupported module",
       [](const std::string& d) {
         EditJson(d + "/modules.json", [](auto* j) {
           j->push_back({{"idx", 3},
                         {"name", "3"},
                         {"path", "3_Dense"},
                         {"type", "sentence_transformers.models.Dense"}});
         });
       },
       "modules.json", "Dense"},
      {"modules.json escapes the folder",
       [](const std::string& d) {
         EditJson(d + "/modules.json", [](auto* j) { (*j)[1]["path"] = "../../etc"; });
       },
       "modules.json", "leaves"},
      {"missing pooling config",
       [](const std::string& d) { fs::remove(d + "/1_Pooling/config.json"); },
       "1_Pooling/config.json", "missing"},
      {"pooling dimension mismatch",
       [](const std::string& d) {
         EditJson(d + "/1_Pooling/config.json",
                  [](auto* j) { (*j)["word_embedding_dimension"] = 384; });
       },
       "1_Pooling/config.json", "384"},
      {"no pooling mode",
       [](const std::string& d) {
         EditJson(d + "/1_Pooling/config.json",
                  [](auto* j) { (*j)["pooling_mode_mean_tokens"] = false; });
       },
       "1_Pooling/config.json", "no pooling mode"},
      {"no vocabulary",
       [](const std::string& d) {
         fs::remove(d + "/vocab.txt");
         fs::remove(d + "/tokenizer.json");
       },
       "tiny", "neither vocab.txt nor tokenizer.json"},
      {"vocab larger than the model",
       [](const std::string& d) {
         WriteFile(d + "/vocab.txt", ReadFile(d + "/vocab.txt") + "extra1\nextra2\n");
       },
       "vocab.txt", "vocab_size"},
      {"bad max_seq_length",
       [](const std::string& d) {
         EditJson(d + "/sentence_bert_config.json", [](auto* j) { (*j)["max_seq_length"] = "x"; });
       },
       "sentence_bert_config.json", "max_seq_length"},
      {"bad prompts",
       [](const std::string& d) {
         WriteFile(d + "/config_sentence_transformers.json", R"({"prompts": ["query: "]})");
       },
       "config_sentence_transformers.json", "prompts"},
  };
  TempDir tmp;
  int index = 0;
  for (const auto& c : cases) {
    CAPTURE(c.what);
    const std::string dir =
        CopyModel("tiny-bert-mean", tmp.path(), "tiny" + std::to_string(index++));
    c.apply(dir);
    std::unique_ptr<Embedder> embedder;
    Status s = NewBertEmbedder(dir, EmbedderOptions{}, &embedder);
    REQUIRE_FALSE(s.ok());
    CHECK(embedder == nullptr);
    CHECK_MESSAGE(s.message().find(c.file) != std::string::npos, s.ToString());
    CHECK_MESSAGE(s.message().find(c.detail) != std::string::npos, s.ToString());
  }
  std::unique_ptr<Embedder> embedder;
  Status s = NewBertEmbedder(tmp.path() + "/does-not-exist", EmbedderOptions{}, &embedder);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("does-not-exist") != std::string::npos);
}

TEST_CASE("bert malformed: a missing 2_Normalize folder and extra tensors are fine") {
  TempDir tmp;
  const std::string dir = CopyModel("tiny-bert-mean", tmp.path(), "ok");
  CHECK_FALSE(fs::exists(dir + "/2_Normalize"));
  EditTensors(dir, [](SafetensorToWrite* t) {
    if (t->name == "pooler.dense.bias") {
      // Add an unused I64 tensor next to the real ones, as BertForPreTraining files carry.
      t->name = "embeddings.position_ids";
      t->dtype = "I64";
      t->shape = {1, 16};
    }
    return true;
  });
  std::unique_ptr<Embedder> embedder;
  Status s = NewBertEmbedder(dir, EmbedderOptions{}, &embedder);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  std::vector<float> out;
  CHECK(embedder->Embed({"hello"}, &out).ok());
  CHECK(out.size() == 32);
}

}  // namespace
}  // namespace emberdb::embedder
