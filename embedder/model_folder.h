// What a sentence-transformers / Hugging Face BERT model folder says, apart from the weights:
// config.json, modules.json, <pooling>/config.json, sentence_bert_config.json,
// config_sentence_transformers.json (prompts), tokenizer_config.json and where the vocabulary
// is (vocab.txt, else tokenizer.json). Every error names the file at fault.
#pragma once

#include <optional>
#include <string>

#include "embedder/bert_model.h"
#include "embedder/wordpiece_tokenizer.h"
#include "emberdb/status.h"

namespace emberdb::embedder {

// sentence-transformers Pooling; several modes concatenate in the order cls, max, mean,
// mean_sqrt_len (as sentence-transformers does).
struct BertPooling {
  bool cls = false;
  bool max = false;
  bool mean = false;
  bool mean_sqrt_len = false;
  bool include_prompt = true;  // false: prompt tokens are left out of the pooling
  int modes() const { return cls + max + mean + mean_sqrt_len; }
  std::string Describe() const;
};

struct ModelFolder {
  std::string path;        // the folder, without a trailing '/'
  std::string model_name;  // the folder's name, else config.json's _name_or_path
  BertConfig bert;
  TokenizerConfig tokenizer;
  std::string vocab_txt;       // path of vocab.txt, or "" when absent
  std::string tokenizer_json;  // path of tokenizer.json, or "" when absent
  BertPooling pooling;
  bool normalize = false;
  int max_seq_length = 0;  // already capped at max_position_embeddings
  // From config_sentence_transformers.json (prompts + default_prompt_name).
  std::optional<std::string> query_prompt, document_prompt;
};

Status ReadModelFolder(const std::string& folder, ModelFolder* out);

}  // namespace emberdb::embedder
