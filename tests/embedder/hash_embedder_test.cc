// The built-in hash embedder: shape, normalisation, determinism, and that it ranks lexically
// and morphologically related texts above unrelated ones.
#include "embedder/hash_embedder.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

namespace emberdb::embedder {
namespace {

std::unique_ptr<Embedder> Make(uint32_t dim = 384, int threads = 0) {
  HashEmbedderParams params;
  params.dimension = dim;
  EmbedderOptions options;
  options.threads = threads;
  std::unique_ptr<Embedder> e;
  Status s = NewHashEmbedder(params, options, &e);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return e;
}

std::vector<float> EmbedOne(Embedder& e, const std::string& text) {
  std::vector<float> v;
  REQUIRE(e.Embed({text}, &v).ok());
  return v;
}

double Cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

double Norm(const float* v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<double>(v[i]) * v[i];
  return std::sqrt(s);
}

TEST_CASE("hash embedder: spec parameters") {
  HashEmbedderParams p;
  CHECK(ParseHashParams("", &p).ok());
  CHECK(p.dimension == 384);
  CHECK(ParseHashParams("dim=768", &p).ok());
  CHECK(p.dimension == 768);
  CHECK(ParseHashParams("dim=0", &p).IsInvalidArgument());
  CHECK(ParseHashParams("dim=12x", &p).IsInvalidArgument());
  CHECK(ParseHashParams("dim=-5", &p).IsInvalidArgument());
  CHECK(ParseHashParams("dim=99999999", &p).IsInvalidArgument());
  CHECK(ParseHashParams("size=32", &p).IsInvalidArgument());
  CHECK(ParseHashParams("dim", &p).IsInvalidArgument());
}

TEST_CASE("hash embedder: unit vectors of the right shape, any text") {
  auto e = Make(384);
  const std::vector<std::string> texts = {
      "hello world",     "", "   ", "!!!", std::string(100000, 'x'), "\xff\xfe invalid \xc0",
      "日本語のテキスト"};
  std::vector<float> out;
  EmbedReport report;
  REQUIRE(e->EmbedDocuments(texts, &out, &report).ok());
  REQUIRE(out.size() == texts.size() * 384);
  CHECK(report.dropped_tokens == std::vector<uint32_t>(texts.size(), 0));
  for (size_t i = 0; i < texts.size(); ++i) {
    CHECK(Norm(out.data() + i * 384, 384) == doctest::Approx(1.0).epsilon(1e-5));
    for (size_t j = 0; j < 384; ++j) REQUIRE(std::isfinite(out[i * 384 + j]));
  }
  // Empty, blank and punctuation-only texts share one fixed vector, unlike any real text.
  CHECK(std::equal(out.begin() + 384, out.begin() + 768, out.begin() + 768));
  CHECK(std::equal(out.begin() + 384, out.begin() + 768, out.begin() + 3 * 384));
  CHECK(std::fabs(Cosine(EmbedOne(*e, ""), EmbedOne(*e, "hello world"))) < 0.3);
}

TEST_CASE("hash embedder: deterministic, and the same across thread counts") {
  std::vector<std::string> texts;
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    texts.push_back("document " + std::to_string(rng()) + " about topic " + std::to_string(i % 13));
  }
  std::vector<float> one, many, again;
  REQUIRE(Make(256, 1)->Embed(texts, &one).ok());
  REQUIRE(Make(256, 4)->Embed(texts, &many).ok());
  REQUIRE(Make(256, 0)->Embed(texts, &again).ok());
  CHECK(one == many);
  CHECK(one == again);
  // Identity: equal parameters give equal fingerprints, other dimensions other ones.
  auto e = Make(384);
  std::vector<float> v = EmbedOne(*e, "The quick brown fox");
  CHECK(v == EmbedOne(*Make(384), "The quick brown fox"));
  CHECK(e->identity().kind == "hash");
  CHECK(e->identity().dimension == 384);
  CHECK(e->identity().fingerprint != Make(768)->identity().fingerprint);
  CHECK(e->identity().fingerprint == Make(384)->identity().fingerprint);
}

TEST_CASE("hash embedder: normalisation folds case, accents and compatibility forms") {
  auto e = Make();
  CHECK(HashEmbedderWords("Café CRÈME, naïve!") ==
        std::vector<std::string>{"cafe", "creme", "naive"});
  CHECK(HashEmbedderWords("ﬁle Ｆｕｌｌ") == std::vector<std::string>{"file", "full"});
  CHECK(HashEmbedderWords("don't stop") == std::vector<std::string>{"dont", "stop"});
  CHECK(HashEmbedderWords("日本") == std::vector<std::string>{"日", "本"});
  CHECK(EmbedOne(*e, "CAFÉ Crème") == EmbedOne(*e, "cafe creme"));
}

TEST_CASE("hash embedder: related texts rank above unrelated ones") {
  auto e = Make();
  const auto query = EmbedOne(*e, "how to configure the database connection pool");
  const auto related = EmbedOne(*e, "Configuring connection pools for your database server");
  const auto unrelated = EmbedOne(*e, "a recipe for baking sourdough bread at home");
  CHECK(Cosine(query, related) > Cosine(query, unrelated) + 0.2);
  // Morphology through character n-grams: an inflected form is closer than another word.
  const auto run = EmbedOne(*e, "running");
  CHECK(Cosine(run, EmbedOne(*e, "runner")) > Cosine(run, EmbedOne(*e, "swimming")));
  // Word order matters a little (bigrams), but shared words dominate.
  const auto ab = EmbedOne(*e, "red car blue house");
  const auto ba = EmbedOne(*e, "blue house red car");
  CHECK(Cosine(ab, ba) > 0.7);
  CHECK(Cosine(ab, ba) < 0.9999);
  // Stop words alone barely match.
  CHECK(Cosine(EmbedOne(*e, "the cat"), EmbedOne(*e, "the dog")) < 0.3);
}

TEST_CASE("hash embedder: query and document prompts are applied when configured") {
  HashEmbedderParams params;
  EmbedderOptions options;
  options.query_prompt = "query: ";
  std::unique_ptr<Embedder> e;
  REQUIRE(NewHashEmbedder(params, options, &e).ok());
  std::vector<float> q, d;
  REQUIRE(e->EmbedQuery({"solar panels"}, &q).ok());
  REQUIRE(e->EmbedDocuments({"solar panels"}, &d).ok());
  CHECK(q != d);
  std::vector<float> direct;
  REQUIRE(e->EmbedDocuments({"query: solar panels"}, &direct).ok());
  CHECK(q == direct);
}

}  // namespace
}  // namespace emberdb::embedder
