// emberdb-hash-eval: retrieval quality of the built-in "hash" embedder against BM25 on a real
// text collection found on any Debian machine, using only the public API.
//
// The set: Debian package descriptions (dpkg's status file, or a Translation-en file given on
// the command line). Query = a package's one-line synopsis; its one relevant document = the
// package's long description, with the synopsis text removed if it appears there. Packages whose
// long description repeats another's first paragraph (e.g. foo / foo-data / foo-doc) are kept
// once, so every query has exactly one correct answer. Queries are a deterministic sample; the
// corpus holds their documents plus further descriptions as distractors.
//
// Usage: emberdb-hash-eval [--input FILE] [--queries N] [--corpus N]
//   FILE: /var/lib/dpkg/status (default), or e.g.
//     lz4 -dc /var/lib/apt/lists/*_main_i18n_Translation-en.lz4 > /tmp/Translation-en
#include <utf8proc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "emberdb/embedder.h"

namespace {

struct Pair {
  std::string package, query, document;
};

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// Reads "Package:" records with a "Description:" or "Description-en:" field.
std::vector<Pair> ReadDescriptions(const std::string& path) {
  std::ifstream in(path);
  std::vector<Pair> pairs;
  Pair current;
  bool in_description = false;
  auto finish = [&]() {
    if (!current.package.empty() && !current.query.empty() && !current.document.empty()) {
      pairs.push_back(current);
    }
    current = Pair();
    in_description = false;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) {
      finish();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (!in_description) continue;
      std::string text = line.substr(1);
      if (text == ".") text = "\n";  // paragraph break
      current.document += (current.document.empty() ? "" : " ") + text;
      continue;
    }
    in_description = false;
    if (line.rfind("Package: ", 0) == 0) current.package = line.substr(9);
    for (const char* field : {"Description: ", "Description-en: "}) {
      if (line.rfind(field, 0) == 0) {
        current.query = line.substr(std::strlen(field));
        in_description = true;
      }
    }
  }
  finish();
  return pairs;
}

// The same word segmentation the hash embedder uses: NFKC, case folding, accents stripped,
// letters and digits kept, apostrophes inside words dropped; then the same plural stemmer.
std::vector<std::string> Words(const std::string& text) {
  utf8proc_uint8_t* folded = nullptr;
  const auto options =
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE);
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &folded, options);
  std::vector<std::string> words;
  if (n < 0) return words;
  std::string word;
  for (utf8proc_ssize_t i = 0; i < n;) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(folded + i, n - i, &cp);
    if (len <= 0) break;
    const auto cat = utf8proc_category(cp);
    const bool letter = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                        cat == UTF8PROC_CATEGORY_MC ||
                        (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
    if (letter) {
      word.append(reinterpret_cast<const char*>(folded + i), static_cast<size_t>(len));
    } else if (!((cp == '\'' || cp == 0x2019) && !word.empty())) {
      if (!word.empty()) words.push_back(word);
      word.clear();
    }
    i += len;
  }
  if (!word.empty()) words.push_back(word);
  free(folded);
  for (std::string& w : words) {
    const size_t k = w.size();
    auto ends = [&](const char* s) {
      const size_t m = std::strlen(s);
      return k >= m && w.compare(k - m, m, s) == 0;
    };
    if (k > 4 && ends("ies") && !ends("eies") && !ends("aies")) {
      w.replace(k - 3, 3, "y");
    } else if (k > 3 && ends("es") && !ends("aes") && !ends("ees") && !ends("oes")) {
      w.erase(k - 1);
    } else if (k > 3 && ends("s") && !ends("us") && !ends("ss")) {
      w.erase(k - 1);
    }
  }
  return words;
}

struct Metrics {
  double mrr10 = 0, recall1 = 0, recall10 = 0;
  void Add(size_t rank) {  // 0-based rank of the relevant document
    if (rank < 10) mrr10 += 1.0 / static_cast<double>(rank + 1);
    if (rank < 1) recall1 += 1;
    if (rank < 10) recall10 += 1;
  }
  void Print(const char* name, size_t queries, double seconds) const {
    const double q = static_cast<double>(queries);
    std::printf("%-12s MRR@10 %.4f  recall@1 %.4f  recall@10 %.4f  (%.1f s)\n", name, mrr10 / q,
                recall1 / q, recall10 / q, seconds);
  }
};

// Rank of `relevant` among scores, ties counted against it (pessimistic).
size_t RankOf(const std::vector<double>& scores, size_t relevant) {
  size_t rank = 0;
  for (size_t d = 0; d < scores.size(); ++d) {
    if (d != relevant && scores[d] >= scores[relevant]) ++rank;
  }
  return rank;
}

void EvaluateBm25(const std::vector<std::string>& queries, const std::vector<std::string>& docs) {
  const auto start = std::chrono::steady_clock::now();
  const double k1 = 1.2, b = 0.75;
  std::unordered_map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> postings;
  std::vector<double> length(docs.size());
  double total = 0;
  for (size_t d = 0; d < docs.size(); ++d) {
    std::map<std::string, uint32_t> tf;
    const auto words = Words(docs[d]);
    for (const auto& w : words) ++tf[w];
    for (const auto& [w, f] : tf) postings[w].emplace_back(static_cast<uint32_t>(d), f);
    length[d] = static_cast<double>(words.size());
    total += length[d];
  }
  const double avg = total / static_cast<double>(docs.size());
  const double n = static_cast<double>(docs.size());
  Metrics m;
  std::vector<double> scores(docs.size());
  for (size_t q = 0; q < queries.size(); ++q) {
    std::fill(scores.begin(), scores.end(), 0.0);
    std::set<std::string> terms;
    for (const auto& w : Words(queries[q])) terms.insert(w);
    for (const auto& term : terms) {
      auto it = postings.find(term);
      if (it == postings.end()) continue;
      const double df = static_cast<double>(it->second.size());
      const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
      for (const auto& [d, f] : it->second) {
        const double tf = static_cast<double>(f);
        scores[d] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length[d] / avg));
      }
    }
    m.Add(RankOf(scores, q));
  }
  m.Print("bm25", queries.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

bool EvaluateEmbedder(const std::string& spec, const std::vector<std::string>& queries,
                      const std::vector<std::string>& docs) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<emberdb::Embedder> embedder;
  emberdb::Status s = emberdb::NewEmbedder(spec, emberdb::EmbedderOptions(), &embedder);
  std::vector<float> q, d;
  if (s.ok()) s = embedder->EmbedQuery(queries, &q);
  if (s.ok()) s = embedder->EmbedDocuments(docs, &d);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", spec.c_str(), s.ToString().c_str());
    return false;
  }
  const size_t dim = embedder->dimension();
  Metrics m;
  std::vector<double> scores(docs.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    const float* qv = q.data() + i * dim;
    for (size_t j = 0; j < docs.size(); ++j) {
      const float* dv = d.data() + j * dim;
      float dot = 0;
      for (size_t k = 0; k < dim; ++k) dot += qv[k] * dv[k];
      scores[j] = dot;
    }
    m.Add(RankOf(scores, i));
  }
  m.Print(spec.c_str(), queries.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string input = "/var/lib/dpkg/status";
  size_t num_queries = 2000, corpus_size = 10000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--input" && i + 1 < argc) {
      input = argv[++i];
    } else if ((arg == "--queries" || arg == "--corpus") && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long value = std::strtoul(argv[++i], &end, 10);
      if (end == argv[i] || *end != '\0' || value == 0) {
        std::fprintf(stderr, "%s needs a positive integer, got '%s'\n", arg.c_str(), argv[i]);
        return 2;
      }
      (arg == "--queries" ? num_queries : corpus_size) = value;
    } else {
      std::fprintf(stderr, "usage: %s [--input FILE] [--queries N] [--corpus N]\n", argv[0]);
      return 2;
    }
  }
  if (!std::ifstream(input)) {
    std::fprintf(stderr, "cannot read '%s'\n", input.c_str());
    return 1;
  }
  std::vector<Pair> all = ReadDescriptions(input);
  // One package per distinct first paragraph, synopsis and long description; long enough to be
  // a document, short enough synopsis to be a query.
  std::set<std::string> seen_paragraph, seen_query;
  std::vector<Pair> pairs;
  std::sort(all.begin(), all.end(),
            [](const Pair& a, const Pair& b) { return a.package < b.package; });
  for (Pair& p : all) {
    const size_t pos = p.document.find(p.query);
    if (pos != std::string::npos) p.document.erase(pos, p.query.size());
    const std::string paragraph = p.document.substr(0, p.document.find('\n'));
    if (Words(p.document).size() < 15 || Words(p.query).size() < 2) continue;
    if (!seen_paragraph.insert(paragraph.substr(0, 160)).second) continue;
    if (!seen_query.insert(p.query).second) continue;
    pairs.push_back(std::move(p));
  }
  // A deterministic shuffle: order by a hash of the package name.
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return Fnv1a(a.package) < Fnv1a(b.package); });
  corpus_size = std::min(corpus_size, pairs.size());
  num_queries = std::min(num_queries, corpus_size);
  std::vector<std::string> queries, docs;
  for (size_t i = 0; i < corpus_size; ++i) {
    if (i < num_queries) queries.push_back(pairs[i].query);
    docs.push_back(pairs[i].document);
  }
  std::printf("%s: %zu usable packages; %zu queries against %zu documents\n", input.c_str(),
              pairs.size(), queries.size(), docs.size());
  if (queries.empty()) return 1;
  EvaluateBm25(queries, docs);
  bool ok = true;
  for (const char* spec : {"hash", "hash:dim=768"})
    ok = EvaluateEmbedder(spec, queries, docs) && ok;
  return ok ? 0 : 1;
}
