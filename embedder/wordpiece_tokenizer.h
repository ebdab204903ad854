// WordPiece tokenization exactly as Hugging Face's (slow, Python) BertTokenizer does it:
// special-token splitting, clean-up of control characters, CJK spacing, NFC, whitespace split,
// lower-casing and accent stripping, punctuation splitting, then greedy longest-match WordPiece
// with "##" continuations and [UNK] for words over 100 code points.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emberdb/status.h"

namespace emberdb::embedder {

struct TokenizerConfig {
  bool lower_case = true;
  // Strip accents; when unset, follows lower_case (as BertTokenizer's strip_accents=None does).
  int strip_accents = -1;  // -1 unset, 0 false, 1 true
  bool tokenize_chinese_chars = true;
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  int max_input_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  // vocab: one token per line (vocab.txt), the line number is the id.
  static Status FromVocabFile(const std::string& path, const TokenizerConfig& config,
                              std::unique_ptr<WordPieceTokenizer>* out);
  // vocab[i] is the token of id i.
  static Status FromVocab(std::vector<std::string> vocab, const TokenizerConfig& config,
                          std::unique_ptr<WordPieceTokenizer>* out);
  // The WordPiece vocabulary inside a tokenizer.json ("model": {"type": "WordPiece", "vocab":
  // {token: id}}). Its truncation/padding blocks are ignored on purpose.
  static Status FromTokenizerJson(const std::string& path, const TokenizerConfig& config,
                                  std::unique_ptr<WordPieceTokenizer>* out);

  // BasicTokenizer output (before WordPiece).
  std::vector<std::string> BasicTokenize(std::string_view text) const;
  // [CLS] + WordPiece ids + [SEP], not truncated. Invalid UTF-8 bytes are treated as U+FFFD.
  std::vector<int32_t> Encode(std::string_view text) const;

  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  size_t vocab_size() const { return vocab_.size(); }
  const std::string& token(int32_t id) const { return vocab_[id]; }

 private:
  WordPieceTokenizer() = default;
  // BasicTokenizer on text that holds no special token (it may still form one after clean-up).
  void BasicTokenizeChunk(std::string_view text, std::vector<std::string>* words) const;
  // Appends the ids of one basic token: greedy longest match, or [UNK].
  void WordPiece(std::string_view word, std::vector<int32_t>* ids) const;

  TokenizerConfig config_;
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int32_t> ids_;
  // The special tokens present in the vocabulary, longest first; never split or lower-cased.
  std::vector<std::string> special_tokens_;
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

}  // namespace emberdb::embedder
