// Feature-hashing embedder. Every step is a pure function of the text and the fixed parameters
// below, with a hash written out here (never std::hash), so vectors are identical everywhere.
#include "embedder/hash_embedder.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>
#include <unordered_map>

namespace emberdb::embedder {
namespace {

// Bump when any feature, weight or hashing detail changes: it is part of the fingerprint, so
// collections built with an older scheme are recognised as a different vector space.
constexpr int kVersion = 1;
constexpr uint64_t kSeed = 0x9E3779B97F4A7C15ull;
constexpr int kMinCharGram = 3;
constexpr int kMaxCharGram = 4;
// Relative weights of the feature families, tuned on the retrieval set of tools/hash_eval.
constexpr double kUnigramWeight = 1.0;
constexpr double kBigramWeight = 0.3;
constexpr double kCharGramWeight = 0.35;
constexpr double kStopWordFactor = 0.15;
constexpr uint32_t kMinDimension = 8;
constexpr uint32_t kMaxDimension = 16384;

// Feature family tags, hashed in front of the feature so that e.g. the word "the" and the
// character trigram "the" land in different buckets.
enum class Family : uint8_t { kUnigram = 1, kBigram = 2, kCharGram = 3, kEmpty = 4 };

// 64-bit FNV-1a, then a SplitMix64 finaliser so that low and high bits are both well mixed.
uint64_t HashBytes(Family family, std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull ^ kSeed;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 0x100000001b3ull;
  };
  mix(static_cast<uint8_t>(family));
  for (char c : bytes) mix(static_cast<uint8_t>(c));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

bool IsHanOrKana(int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0x20000 && cp <= 0x3134F);
}

bool IsWordChar(int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

void AppendUtf8(int32_t cp, std::string* out) {
  utf8proc_uint8_t buf[4];
  utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

// Harman's "S" stemmer: folds the commonest English plurals without touching much else.
std::string StemPlural(std::string word) {
  const size_t n = word.size();
  auto ends = [&](std::string_view s) {
    return n >= s.size() && word.compare(n - s.size(), s.size(), s) == 0;
  };
  if (n > 4 && ends("ies") && !ends("eies") && !ends("aies")) {
    word.replace(n - 3, 3, "y");
  } else if (n > 3 && ends("es") && !ends("aes") && !ends("ees") && !ends("oes")) {
    word.erase(n - 1);
  } else if (n > 3 && ends("s") && !ends("us") && !ends("ss")) {
    word.erase(n - 1);
  }
  return word;
}

bool IsStopWord(std::string_view w) {
  static constexpr std::string_view kStopWords[] = {
      "a",     "about", "an",   "and",  "are",   "as",   "at",    "be",    "been",  "but",
      "by",    "can",   "do",   "does", "for",   "from", "had",   "has",   "have",  "he",
      "her",   "his",   "how",  "i",    "if",    "in",   "into",  "is",    "it",    "its",
      "me",    "my",    "no",   "not",  "of",    "on",   "or",    "our",   "she",   "so",
      "such",  "than",  "that", "the",  "their", "them", "then",  "there", "these", "they",
      "this",  "those", "to",   "was",  "we",    "were", "what",  "when",  "where", "which",
      "while", "who",   "whom", "why",  "will",  "with", "would", "you",   "your"};
  static_assert(std::is_sorted(std::begin(kStopWords), std::end(kStopWords)));
  return std::binary_search(std::begin(kStopWords), std::end(kStopWords), w);
}

class HashEmbedder final : public Embedder {
 public:
  HashEmbedder(const HashEmbedderParams& params, const EmbedderOptions& options)
      : params_(params), options_(options) {
    std::string description =
        "hash-v" + std::to_string(kVersion) + ";dim=" + std::to_string(params.dimension) +
        ";seed=" + std::to_string(kSeed) + ";words=1-2;chars=" + std::to_string(kMinCharGram) +
        "-" + std::to_string(kMaxCharGram) + ";weights=" + std::to_string(kUnigramWeight) + "," +
        std::to_string(kBigramWeight) + "," + std::to_string(kCharGramWeight) + "," +
        std::to_string(kStopWordFactor) + ";stem=s;stop=en";
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx",
             static_cast<unsigned long long>(HashBytes(Family::kEmpty, description)));
    fingerprint_ = "hash-v" + std::to_string(kVersion) + "-" + hex;
  }

  uint32_t dimension() const override { return params_.dimension; }

  EmbedderIdentity identity() const override {
    return EmbedderIdentity{"hash", "", params_.dimension, fingerprint_};
  }

  Status EmbedDocuments(const std::vector<std::string>& texts, std::vector<float>* out,
                        EmbedReport* report) override {
    return EmbedAll(texts, options_.document_prompt, out, report);
  }

  Status EmbedQuery(const std::vector<std::string>& texts, std::vector<float>* out,
                    EmbedReport* report) override {
    return EmbedAll(texts, options_.query_prompt, out, report);
  }

 private:
  Status EmbedAll(const std::vector<std::string>& texts, const std::optional<std::string>& prompt,
                  std::vector<float>* out, EmbedReport* report) const {
    if (out == nullptr) return Status::InvalidArgument("output vector is null");
    const size_t dim = params_.dimension;
    out->assign(texts.size() * dim, 0.0f);
    if (report != nullptr) report->dropped_tokens.assign(texts.size(), 0);
    const size_t threads = ThreadCount(texts.size());
    auto work = [&](size_t begin, size_t end) {
      std::string buffer;
      for (size_t i = begin; i < end; ++i) {
        std::string_view text = texts[i];
        if (prompt.has_value()) {
          buffer = *prompt + texts[i];
          text = buffer;
        }
        EmbedOne(text, out->data() + i * dim);
      }
    };
    if (threads <= 1) {
      work(0, texts.size());
      return Status::OK();
    }
    std::vector<std::thread> pool;
    const size_t per = (texts.size() + threads - 1) / threads;
    for (size_t t = 0; t < threads; ++t) {
      const size_t begin = t * per, end = std::min(texts.size(), begin + per);
      if (begin < end) pool.emplace_back(work, begin, end);
    }
    for (std::thread& th : pool) th.join();
    return Status::OK();
  }

  size_t ThreadCount(size_t batch) const {
    const size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    // Below a few hundred texts, starting threads costs more than it saves.
    size_t wanted = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                         : (batch >= 512 ? hardware : 1);
    wanted = std::min({wanted, hardware, std::max<size_t>(1, batch / 16)});
    return std::max<size_t>(1, wanted);
  }

  void EmbedOne(std::string_view text, float* row) const {
    const size_t dim = params_.dimension;
    // Feature hash -> (weight of its family, term frequency).
    std::unordered_map<uint64_t, std::pair<double, uint32_t>> features;
    auto add = [&features](Family family, std::string_view bytes, double weight) {
      auto& slot = features[HashBytes(family, bytes)];
      slot.first = weight;
      slot.second += 1;
    };
    const std::vector<std::string> words = HashEmbedderWords(text);
    std::string previous, gram;
    bool previous_stop = false;
    for (size_t w = 0; w < words.size(); ++w) {
      const std::string& word = words[w];
      const bool stop = IsStopWord(word);
      const std::string stem = StemPlural(word);
      add(Family::kUnigram, stem, kUnigramWeight * (stop ? kStopWordFactor : 1.0));
      if (w > 0) {
        gram = previous;
        gram.push_back(' ');
        gram += stem;
        add(Family::kBigram, gram, kBigramWeight * (stop && previous_stop ? kStopWordFactor : 1.0));
      }
      previous = stem;
      previous_stop = stop;
      if (stop) continue;  // Stop words carry no morphology worth matching.
      // Character n-grams over "<word>", counted in code points.
      std::vector<size_t> bounds;
      const std::string marked = "<" + word + ">";
      for (size_t i = 0; i < marked.size(); ++i) {
        if ((static_cast<unsigned char>(marked[i]) & 0xC0) != 0x80) bounds.push_back(i);
      }
      bounds.push_back(marked.size());
      const size_t chars = bounds.size() - 1;
      for (int n = kMinCharGram; n <= kMaxCharGram; ++n) {
        for (size_t s = 0; s + static_cast<size_t>(n) <= chars; ++s) {
          add(Family::kCharGram,
              std::string_view(marked).substr(bounds[s], bounds[s + n] - bounds[s]),
              kCharGramWeight);
        }
      }
    }
    std::vector<double> acc(dim, 0.0);
    if (features.empty()) {
      // No word at all (empty, whitespace or punctuation only): a fixed unit vector, so that
      // cosine similarity stays defined. It is the same for every such text.
      for (size_t i = 0; i < dim; ++i) {
        acc[i] = (HashBytes(Family::kEmpty, std::to_string(i)) >> 63) ? -1.0 : 1.0;
      }
    } else {
      for (const auto& [hash, weight_tf] : features) {
        // The bucket from the high 32 bits (multiply-shift, no modulo bias), the sign from bit 0.
        const size_t bucket = static_cast<size_t>(((hash >> 32) * dim) >> 32);
        const double value =
            weight_tf.first * (1.0 + std::log(static_cast<double>(weight_tf.second)));
        acc[bucket] += (hash & 1) ? -value : value;
      }
    }
    double norm = 0.0;
    for (double v : acc) norm += v * v;
    norm = std::sqrt(norm);
    if (norm == 0.0) {
      // Every feature cancelled another in its bucket (possible only for tiny dimensions).
      acc[0] = 1.0;
      norm = 1.0;
    }
    for (size_t i = 0; i < dim; ++i) row[i] = static_cast<float>(acc[i] / norm);
  }

  HashEmbedderParams params_;
  EmbedderOptions options_;
  std::string fingerprint_;
};

}  // namespace

std::vector<std::string> HashEmbedderWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&]() {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  const auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                     UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      n = 1;  // An invalid byte separates words, like punctuation.
      cp = 0xFFFD;
    }
    p += n;
    left -= n;
    // An apostrophe between letters joins them ("don't" -> "dont", "O'Neil" -> "oneil").
    if ((cp == '\'' || cp == 0x2019) && !word.empty() && left > 0) {
      utf8proc_int32_t next = 0;
      if (utf8proc_iterate(p, left, &next) > 0 && IsWordChar(next)) continue;
    }
    utf8proc_int32_t decomposed[18];
    int last_boundary = 0;
    utf8proc_ssize_t count = utf8proc_decompose_char(cp, decomposed, 18, options, &last_boundary);
    if (count < 0 || count > 18) {
      flush();
      continue;
    }
    for (utf8proc_ssize_t i = 0; i < count; ++i) {
      const int32_t c = decomposed[i];
      if (IsHanOrKana(c)) {
        // Scripts written without spaces: each character is a word, so bigrams pair them.
        flush();
        AppendUtf8(c, &word);
        flush();
      } else if (IsWordChar(c)) {
        AppendUtf8(c, &word);
      } else {
        flush();
      }
    }
  }
  flush();
  return words;
}

Status ParseHashParams(std::string_view params, HashEmbedderParams* out) {
  HashEmbedderParams result;
  while (!params.empty()) {
    const size_t comma = params.find(',');
    std::string_view item = params.substr(0, comma);
    params = comma == std::string_view::npos ? std::string_view() : params.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("hash embedder parameter '" + std::string(item) +
                                     "' is not key=value (valid: dim=N)");
    }
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key != "dim") {
      return Status::InvalidArgument("unknown hash embedder parameter '" + std::string(key) +
                                     "' (valid: dim=N)");
    }
    uint32_t dim = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), dim);
    if (ec != std::errc() || ptr != value.data() + value.size() || dim < kMinDimension ||
        dim > kMaxDimension) {
      return Status::InvalidArgument("hash embedder dim '" + std::string(value) +
                                     "' must be an integer in [" + std::to_string(kMinDimension) +
                                     ", " + std::to_string(kMaxDimension) + "]");
    }
    result.dimension = dim;
  }
  *out = result;
  return Status::OK();
}

Status NewHashEmbedder(const HashEmbedderParams& params, const EmbedderOptions& options,
                       std::unique_ptr<Embedder>* out) {
  if (params.dimension < kMinDimension || params.dimension > kMaxDimension) {
    return Status::InvalidArgument("hash embedder dimension " + std::to_string(params.dimension) +
                                   " is out of range");
  }
  *out = std::make_unique<HashEmbedder>(params, options);
  return Status::OK();
}

}  // namespace emberdb::embedder
