// WordPiece tokenizer, a transcription of Hugging Face's slow BertTokenizer (BasicTokenizer +
// WordpieceTokenizer). Unicode properties come from utf8proc; where Python's str.lower() differs
// from a simple per-character mapping (final sigma, U+0130) the difference is written out here.
#include "embedder/wordpiece_tokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace emberdb::embedder {
namespace {

using CodePoints = std::u32string;

CodePoints DecodeUtf8(std::string_view text) {
  CodePoints out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      // An invalid byte becomes U+FFFD, which the clean-up step then drops, like Python's
      // errors="replace" decoding followed by BertTokenizer's _clean_text.
      out.push_back(0xFFFD);
      n = 1;
    } else {
      out.push_back(static_cast<char32_t>(cp));
    }
    p += n;
    left -= n;
  }
  return out;
}

void AppendUtf8(char32_t cp, std::string* out) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

std::string EncodeUtf8(const CodePoints& cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) AppendUtf8(cp, &out);
  return out;
}

utf8proc_category_t Category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool IsControl(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

bool IsBertWhitespace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
         Category(cp) == UTF8PROC_CATEGORY_ZS;
}

// Python's str.isspace(), which str.split() uses: bidi classes WS, B, S or category Zs.
bool IsPythonSpace(char32_t cp) {
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85) return true;
  utf8proc_category_t c = Category(cp);
  return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

bool IsChineseChar(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool IsPunctuation(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  utf8proc_category_t c = Category(cp);
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

bool IsCased(char32_t cp) {
  utf8proc_category_t c = Category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT ||
         utf8proc_islower(static_cast<utf8proc_int32_t>(cp)) ||
         utf8proc_isupper(static_cast<utf8proc_int32_t>(cp));
}

// Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk and the Word_Break MidLetter/MidNumLet/Single_Quote
// characters.
bool IsCaseIgnorable(char32_t cp) {
  switch (cp) {
    case 0x27:
    case 0x2E:
    case 0x3A:
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  utf8proc_category_t c = Category(cp);
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_ME || c == UTF8PROC_CATEGORY_CF ||
         c == UTF8PROC_CATEGORY_LM || c == UTF8PROC_CATEGORY_SK;
}

// Python's str.lower(): the simple mapping, plus U+0130's full mapping and the Final_Sigma rule.
CodePoints PythonLower(const CodePoints& word) {
  CodePoints out;
  out.reserve(word.size());
  for (size_t i = 0; i < word.size(); ++i) {
    char32_t cp = word[i];
    if (cp == 0x130) {
      out.push_back(U'i');
      out.push_back(0x307);
      continue;
    }
    if (cp == 0x3A3) {
      // Final_Sigma: cased (case-ignorable)* SIGMA !((case-ignorable)* cased)
      size_t j = i;
      while (j > 0 && IsCaseIgnorable(word[j - 1])) --j;
      bool final_sigma = j > 0 && IsCased(word[j - 1]);
      if (final_sigma) {
        size_t k = i + 1;
        while (k < word.size() && IsCaseIgnorable(word[k])) ++k;
        final_sigma = k == word.size() || !IsCased(word[k]);
      }
      out.push_back(final_sigma ? 0x3C2 : 0x3C3);
      continue;
    }
    out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
  return out;
}

// NFC or NFD of code points that are all assigned and valid (the clean-up step guarantees it).
CodePoints Normalize(const CodePoints& cps, bool compose) {
  if (cps.empty()) return cps;
  std::string utf8 = EncodeUtf8(cps);
  utf8proc_uint8_t* mapped = nullptr;
  auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE |
                                                (compose ? UTF8PROC_COMPOSE : UTF8PROC_DECOMPOSE));
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                                    static_cast<utf8proc_ssize_t>(utf8.size()), &mapped, options);
  if (n < 0 || mapped == nullptr) {
    free(mapped);
    return cps;  // Unreachable for valid input; keep the text unnormalized rather than fail.
  }
  CodePoints out =
      DecodeUtf8(std::string_view(reinterpret_cast<const char*>(mapped), static_cast<size_t>(n)));
  free(mapped);
  return out;
}

}  // namespace

Status WordPieceTokenizer::FromVocabFile(const std::string& path, const TokenizerConfig& config,
                                         std::unique_ptr<WordPieceTokenizer>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open vocabulary file '" + path + "'");
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (in.bad()) return Status::IOError("error reading vocabulary file '" + path + "'");
  return FromVocab(std::move(vocab), config, out).WithContext(path);
}

Status WordPieceTokenizer::FromVocab(std::vector<std::string> vocab, const TokenizerConfig& config,
                                     std::unique_ptr<WordPieceTokenizer>* out) {
  if (vocab.empty()) return Status::InvalidArgument("the vocabulary is empty");
  if (vocab.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::InvalidArgument("the vocabulary has too many tokens");
  }
  if (config.max_input_chars_per_word <= 0) {
    return Status::InvalidArgument("max_input_chars_per_word must be positive");
  }
  std::unique_ptr<WordPieceTokenizer> tok(new WordPieceTokenizer());
  tok->config_ = config;
  tok->ids_.reserve(vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    // BertTokenizer's load_vocab keeps the last id of a duplicated token; do the same.
    tok->ids_[vocab[i]] = static_cast<int32_t>(i);
  }
  tok->vocab_ = std::move(vocab);
  auto find = [&](const std::string& token, bool required, int32_t* id) -> Status {
    auto it = tok->ids_.find(token);
    if (it == tok->ids_.end()) {
      *id = -1;
      if (required) {
        return Status::InvalidArgument("special token '" + token + "' is not in the vocabulary");
      }
      return Status::OK();
    }
    *id = it->second;
    tok->special_tokens_.push_back(token);
    return Status::OK();
  };
  EMBERDB_RETURN_IF_ERROR(find(config.unk_token, true, &tok->unk_id_));
  EMBERDB_RETURN_IF_ERROR(find(config.cls_token, true, &tok->cls_id_));
  EMBERDB_RETURN_IF_ERROR(find(config.sep_token, true, &tok->sep_id_));
  EMBERDB_RETURN_IF_ERROR(find(config.pad_token, false, &tok->pad_id_));
  int32_t mask_id = -1;
  EMBERDB_RETURN_IF_ERROR(find(config.mask_token, false, &mask_id));
  // Longest first, so that a special token that is a prefix of another never wins.
  std::sort(tok->special_tokens_.begin(), tok->special_tokens_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  tok->special_tokens_.erase(
      std::remove(tok->special_tokens_.begin(), tok->special_tokens_.end(), std::string()),
      tok->special_tokens_.end());
  *out = std::move(tok);
  return Status::OK();
}

Status WordPieceTokenizer::FromTokenizerJson(const std::string& path, const TokenizerConfig& config,
                                             std::unique_ptr<WordPieceTokenizer>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open tokenizer file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::Corruption(path + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object()) {
    return Status::Corruption(path + ": no \"model\" object");
  }
  const nlohmann::json& model = doc["model"];
  if (model.contains("type") && model["type"] != "WordPiece") {
    return Status::InvalidArgument(path + ": model type is not WordPiece");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return Status::Corruption(path + ": model.vocab is missing or not an object");
  }
  const nlohmann::json& map = model["vocab"];
  std::vector<std::string> vocab(map.size());
  std::vector<bool> seen(map.size(), false);
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it.value().is_number_integer()) {
      return Status::Corruption(path + ": id of token '" + it.key() + "' is not an integer");
    }
    int64_t id = it.value().get<int64_t>();
    if (id < 0 || static_cast<uint64_t>(id) >= vocab.size() || seen[static_cast<size_t>(id)]) {
      return Status::Corruption(path + ": model.vocab ids are not exactly 0.." +
                                std::to_string(vocab.size() - 1) + " (token '" + it.key() +
                                "' has id " + std::to_string(id) + ")");
    }
    seen[static_cast<size_t>(id)] = true;
    vocab[static_cast<size_t>(id)] = it.key();
  }
  return FromVocab(std::move(vocab), config, out).WithContext(path);
}

std::vector<std::string> WordPieceTokenizer::BasicTokenize(std::string_view text) const {
  std::vector<std::string> words;
  // Special tokens are split out first, exactly and case-sensitively, as the added-token trie does.
  size_t chunk_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    const std::string* match = nullptr;
    for (const std::string& special : special_tokens_) {
      if (text[i] == special[0] && text.compare(i, special.size(), special) == 0) {
        match = &special;
        break;
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    BasicTokenizeChunk(text.substr(chunk_start, i - chunk_start), &words);
    words.push_back(*match);
    i += match->size();
    chunk_start = i;
  }
  BasicTokenizeChunk(text.substr(chunk_start), &words);
  return words;
}

void WordPieceTokenizer::BasicTokenizeChunk(std::string_view text,
                                            std::vector<std::string>* words) const {
  if (text.empty()) return;
  CodePoints decoded = DecodeUtf8(text);
  CodePoints cleaned;
  cleaned.reserve(decoded.size());
  for (char32_t cp : decoded) {
    if (cp == 0 || cp == 0xFFFD || IsControl(cp)) continue;
    if (IsBertWhitespace(cp)) {
      cleaned.push_back(U' ');
    } else if (config_.tokenize_chinese_chars && IsChineseChar(cp)) {
      cleaned.push_back(U' ');
      cleaned.push_back(cp);
      cleaned.push_back(U' ');
    } else {
      cleaned.push_back(cp);
    }
  }
  CodePoints nfc = Normalize(cleaned, /*compose=*/true);
  const bool strip_accents =
      config_.strip_accents == 1 || (config_.strip_accents == -1 && config_.lower_case);
  size_t pos = 0;
  while (pos < nfc.size()) {
    while (pos < nfc.size() && IsPythonSpace(nfc[pos])) ++pos;
    size_t end = pos;
    while (end < nfc.size() && !IsPythonSpace(nfc[end])) ++end;
    if (end == pos) break;
    CodePoints word = nfc.substr(pos, end - pos);
    pos = end;
    std::string utf8 = EncodeUtf8(word);
    if (std::find(special_tokens_.begin(), special_tokens_.end(), utf8) != special_tokens_.end()) {
      // never_split: a special token that appears only after clean-up (e.g. "[CL\u200bS]").
      words->push_back(std::move(utf8));
      continue;
    }
    if (config_.lower_case) word = PythonLower(word);
    if (strip_accents) {
      CodePoints nfd = Normalize(word, /*compose=*/false);
      word.clear();
      for (char32_t cp : nfd) {
        if (Category(cp) != UTF8PROC_CATEGORY_MN) word.push_back(cp);
      }
    }
    std::string piece;
    for (char32_t cp : word) {
      if (IsPunctuation(cp)) {
        if (!piece.empty()) words->push_back(std::move(piece));
        piece.clear();
        std::string punct;
        AppendUtf8(cp, &punct);
        words->push_back(std::move(punct));
      } else {
        AppendUtf8(cp, &piece);
      }
    }
    if (!piece.empty()) words->push_back(std::move(piece));
  }
}

void WordPieceTokenizer::WordPiece(std::string_view word, std::vector<int32_t>* ids) const {
  // Code point boundaries: WordPiece matches whole characters, and the length limit counts them.
  std::vector<size_t> bounds;
  bounds.reserve(word.size() + 1);
  for (size_t i = 0; i < word.size(); ++i) {
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  }
  bounds.push_back(word.size());
  const size_t num_chars = bounds.size() - 1;
  if (num_chars > static_cast<size_t>(config_.max_input_chars_per_word)) {
    ids->push_back(unk_id_);
    return;
  }
  const size_t first_new = ids->size();
  std::string candidate;
  size_t start = 0;
  while (start < num_chars) {
    size_t end = num_chars;
    int32_t found = -1;
    while (end > start) {
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word.substr(bounds[start], bounds[end] - bounds[start]));
      auto it = ids_.find(candidate);
      if (it != ids_.end()) {
        found = it->second;
        break;
      }
      --end;
    }
    if (found < 0) {
      ids->resize(first_new);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(found);
    start = end;
  }
}

std::vector<int32_t> WordPieceTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> ids;
  ids.push_back(cls_id_);
  for (const std::string& word : BasicTokenize(text)) {
    if (std::find(special_tokens_.begin(), special_tokens_.end(), word) != special_tokens_.end()) {
      ids.push_back(ids_.at(word));
    } else {
      WordPiece(word, &ids);
    }
  }
  ids.push_back(sep_id_);
  return ids;
}

}  // namespace emberdb::embedder
