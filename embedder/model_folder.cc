#include "embedder/model_folder.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace emberdb::embedder {
namespace {

using nlohmann::json;

// Tokenizer files of large multilingual models reach ~20 MB; anything far bigger is not ours.
constexpr off_t kMaxJsonBytes = 256 << 20;

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Status ReadText(const std::string& path, std::string* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + ": missing");
  }
  if (st.st_size > kMaxJsonBytes) return Status::InvalidArgument(path + ": over 256 MiB");
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  if (!f) return Status::IOError(path + ": read failed");
  *out = ss.str();
  return Status::OK();
}

// Reads an optional JSON object file; *found says whether it existed.
Status ReadJsonObject(const std::string& path, bool required, bool* found, json* out) {
  *found = FileExists(path);
  if (!*found) {
    return required ? Status::InvalidArgument(path + ": missing") : Status::OK();
  }
  std::string text;
  EMBERDB_RETURN_IF_ERROR(ReadText(path, &text));
  *out = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!out->is_object() && !out->is_array()) {
    return Status::InvalidArgument(path + ": not a JSON object");
  }
  return Status::OK();
}

Status GetBool(const json& j, const char* key, const std::string& path, bool* out) {
  if (!j.is_object()) return Status::OK();
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::OK();
  if (!it->is_boolean()) return Status::InvalidArgument(path + ": '" + key + "' must be a boolean");
  *out = it->get<bool>();
  return Status::OK();
}

// Special tokens appear as "tok" or, in older files, {"content": "tok", ...}.
void GetToken(const json& j, const char* key, std::string* out) {
  if (!j.is_object()) return;
  auto it = j.find(key);
  if (it == j.end()) return;
  if (it->is_string()) *out = it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    *out = (*it)["content"].get<std::string>();
  }
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status ReadPooling(const std::string& path, int hidden, BertPooling* out) {
  bool found;
  json j;
  EMBERDB_RETURN_IF_ERROR(ReadJsonObject(path, /*required=*/true, &found, &j));
  if (!j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  BertPooling p;
  bool weighted = false, last = false;
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_cls_token", path, &p.cls));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_max_tokens", path, &p.max));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_mean_tokens", path, &p.mean));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_mean_sqrt_len_tokens", path, &p.mean_sqrt_len));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_weightedmean_tokens", path, &weighted));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "pooling_mode_lasttoken", path, &last));
  EMBERDB_RETURN_IF_ERROR(GetBool(j, "include_prompt", path, &p.include_prompt));
  if (weighted || last) {
    return Status::NotSupported(path + ": weightedmean and lasttoken pooling are not supported");
  }
  if (p.modes() == 0) return Status::InvalidArgument(path + ": no pooling mode is enabled");
  if (auto it = j.find("word_embedding_dimension"); it != j.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() != hidden) {
      return Status::InvalidArgument(path + ": word_embedding_dimension " + it->dump() +
                                     " differs from config.json's hidden_size " +
                                     std::to_string(hidden));
    }
  }
  *out = p;
  return Status::OK();
}

}  // namespace

std::string BertPooling::Describe() const {
  std::string s;
  if (cls) s += "cls+";
  if (max) s += "max+";
  if (mean) s += "mean+";
  if (mean_sqrt_len) s += "mean_sqrt_len+";
  if (!s.empty()) s.pop_back();
  if (!include_prompt) s += "(no-prompt)";
  return s;
}

Status ReadModelFolder(const std::string& folder, ModelFolder* out) {
  ModelFolder m;
  m.path = folder;
  while (m.path.size() > 1 && m.path.back() == '/') m.path.pop_back();
  struct stat st;
  if (stat(m.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument(m.path + ": not a model folder");
  }
  const std::string dir = m.path + "/";

  std::string text;
  EMBERDB_RETURN_IF_ERROR(ReadText(dir + "config.json", &text));
  EMBERDB_RETURN_IF_ERROR(ParseBertConfig(text, dir + "config.json", &m.bert));
  m.model_name = m.path.substr(m.path.find_last_of('/') + 1);
  if (m.model_name.empty() || m.model_name == "." || m.model_name == "..") {
    m.model_name = m.bert.name_or_path;
  }

  // modules.json: without it the folder is a plain HF model, which sentence-transformers wraps
  // with mean pooling and no Normalize.
  bool found;
  json modules;
  EMBERDB_RETURN_IF_ERROR(ReadJsonObject(dir + "modules.json", false, &found, &modules));
  std::string pooling_dir;
  if (!found) {
    m.pooling.mean = true;
  } else {
    if (!modules.is_array()) return Status::InvalidArgument(dir + "modules.json: not a list");
    for (const auto& module : modules) {
      if (!module.is_object() || !module.contains("type") || !module["type"].is_string()) {
        return Status::InvalidArgument(dir + "modules.json: a module lacks its 'type'");
      }
      const std::string type = module["type"].get<std::string>();
      const std::string path = module.contains("path") && module["path"].is_string()
                                   ? module["path"].get<std::string>()
                                   : "";
      if (path.find("..") != std::string::npos || (!path.empty() && path[0] == '/')) {
        return Status::InvalidArgument(dir + "modules.json: module path '" + path +
                                       "' leaves the folder");
      }
      if (EndsWith(type, ".Transformer")) {
        if (!path.empty()) {
          return Status::NotSupported(dir + "modules.json: Transformer in sub-folder '" + path +
                                      "' is not supported");
        }
      } else if (EndsWith(type, ".Pooling")) {
        pooling_dir = dir + (path.empty() ? "" : path + "/");
      } else if (EndsWith(type, ".Normalize")) {
        m.normalize = true;  // its folder holds nothing and is often absent
      } else {
        return Status::NotSupported(dir + "modules.json: module type '" + type +
                                    "' is not supported");
      }
    }
    if (pooling_dir.empty()) {
      return Status::NotSupported(dir + "modules.json: no Pooling module");
    }
    EMBERDB_RETURN_IF_ERROR(
        ReadPooling(pooling_dir + "config.json", m.bert.hidden_size, &m.pooling));
  }

  // Tokenizer: tokenizer_config.json, else the BertNormalizer block of tokenizer.json.
  if (FileExists(dir + "vocab.txt")) m.vocab_txt = dir + "vocab.txt";
  if (FileExists(dir + "tokenizer.json")) m.tokenizer_json = dir + "tokenizer.json";
  if (m.vocab_txt.empty() && m.tokenizer_json.empty()) {
    return Status::InvalidArgument(dir + ": neither vocab.txt nor tokenizer.json is present");
  }
  json tc;
  int model_max_length = m.bert.max_position_embeddings;
  EMBERDB_RETURN_IF_ERROR(ReadJsonObject(dir + "tokenizer_config.json", false, &found, &tc));
  TokenizerConfig& t = m.tokenizer;
  if (found) {
    const std::string path = dir + "tokenizer_config.json";
    EMBERDB_RETURN_IF_ERROR(GetBool(tc, "do_lower_case", path, &t.lower_case));
    EMBERDB_RETURN_IF_ERROR(GetBool(tc, "tokenize_chinese_chars", path, &t.tokenize_chinese_chars));
    if (tc.is_object() && tc.contains("strip_accents") && tc["strip_accents"].is_boolean()) {
      t.strip_accents = tc["strip_accents"].get<bool>() ? 1 : 0;
    }
    GetToken(tc, "unk_token", &t.unk_token);
    GetToken(tc, "cls_token", &t.cls_token);
    GetToken(tc, "sep_token", &t.sep_token);
    GetToken(tc, "pad_token", &t.pad_token);
    GetToken(tc, "mask_token", &t.mask_token);
    if (tc.is_object() && tc.contains("model_max_length") &&
        tc["model_max_length"].is_number_integer() && tc["model_max_length"].get<int64_t>() > 0) {
      model_max_length = static_cast<int>(
          std::min<int64_t>(tc["model_max_length"].get<int64_t>(), m.bert.max_position_embeddings));
    }
  } else if (!m.tokenizer_json.empty()) {
    json tj;
    EMBERDB_RETURN_IF_ERROR(ReadJsonObject(m.tokenizer_json, true, &found, &tj));
    if (tj.is_object() && tj.contains("normalizer") && tj["normalizer"].is_object()) {
      const json& n = tj["normalizer"];
      EMBERDB_RETURN_IF_ERROR(GetBool(n, "lowercase", m.tokenizer_json, &t.lower_case));
      EMBERDB_RETURN_IF_ERROR(
          GetBool(n, "handle_chinese_chars", m.tokenizer_json, &t.tokenize_chinese_chars));
      if (n.contains("strip_accents") && n["strip_accents"].is_boolean()) {
        t.strip_accents = n["strip_accents"].get<bool>() ? 1 : 0;
      }
    }
  }

  // sentence_bert_config.json: max_seq_length, and do_lower_case (lower-cases the text before
  // the tokenizer; with an uncased tokenizer that changes nothing).
  json sb;
  m.max_seq_length = model_max_length;
  EMBERDB_RETURN_IF_ERROR(ReadJsonObject(dir + "sentence_bert_config.json", false, &found, &sb));
  if (found && sb.is_object()) {
    const std::string path = dir + "sentence_bert_config.json";
    if (auto it = sb.find("max_seq_length"); it != sb.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 2 || it->get<int64_t>() > (1 << 20)) {
        return Status::InvalidArgument(path + ": max_seq_length must be an integer >= 2");
      }
      // Positions past the embedding table do not exist; cap rather than index out of it.
      m.max_seq_length =
          static_cast<int>(std::min<int64_t>(it->get<int64_t>(), m.bert.max_position_embeddings));
    }
    bool lower = false;
    EMBERDB_RETURN_IF_ERROR(GetBool(sb, "do_lower_case", path, &lower));
    if (lower && !t.lower_case) {
      // Lower-casing the text first equals a lower-casing tokenizer whose accent stripping
      // keeps its original setting.
      if (t.strip_accents < 0) t.strip_accents = 0;
      t.lower_case = true;
    }
  }
  if (m.max_seq_length < 2) {
    return Status::InvalidArgument(dir + "config.json: max_position_embeddings is below 2");
  }

  // config_sentence_transformers.json: {"prompts": {"query": ..., "document"/"passage": ...},
  // "default_prompt_name": ...}.
  json cst;
  EMBERDB_RETURN_IF_ERROR(
      ReadJsonObject(dir + "config_sentence_transformers.json", false, &found, &cst));
  if (found && cst.is_object() && cst.contains("prompts")) {
    const std::string path = dir + "config_sentence_transformers.json";
    const json& prompts = cst["prompts"];
    if (!prompts.is_object()) return Status::InvalidArgument(path + ": 'prompts' is not an object");
    auto prompt = [&](const std::string& name) -> std::optional<std::string> {
      auto it = prompts.find(name);
      if (it == prompts.end() || !it->is_string()) return std::nullopt;
      return it->get<std::string>();
    };
    std::optional<std::string> fallback;
    if (cst.contains("default_prompt_name") && cst["default_prompt_name"].is_string()) {
      fallback = prompt(cst["default_prompt_name"].get<std::string>());
    }
    m.query_prompt = prompt("query");
    if (!m.query_prompt) m.query_prompt = fallback;
    m.document_prompt = prompt("document");
    if (!m.document_prompt) m.document_prompt = prompt("passage");
    if (!m.document_prompt) m.document_prompt = fallback;
  }
  *out = std::move(m);
  return Status::OK();
}

}  // namespace emberdb::embedder
