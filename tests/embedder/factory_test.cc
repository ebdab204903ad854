// NewEmbedder: spec parsing and dispatch to each kind of embedder.
#include <doctest/doctest.h>

#include <cmath>

#include "emberdb/embedder.h"

namespace emberdb {
namespace {

TEST_CASE("factory: hash specs") {
  std::unique_ptr<Embedder> e;
  Status s = NewEmbedder("hash", EmbedderOptions(), &e);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(e->dimension() == 384);
  CHECK(e->identity().kind == "hash");
  REQUIRE(NewEmbedder("hash:dim=768", EmbedderOptions(), &e).ok());
  CHECK(e->dimension() == 768);
  std::vector<float> out;
  REQUIRE(e->Embed({"a b c", "d"}, &out).ok());
  CHECK(out.size() == 2 * 768);
  for (const char* bad : {"hash:", "hash:dim=", "hash:dim=abc", "hash:depth=3", "hash:dim=1"}) {
    s = NewEmbedder(bad, EmbedderOptions(), &e);
    CHECK_MESSAGE(s.IsInvalidArgument(), bad);
    CHECK(e == nullptr);
  }
}

TEST_CASE("factory: unknown specs list the valid forms") {
  std::unique_ptr<Embedder> e;
  for (const char* bad : {"", "bert", "HASH", "sentence-transformers/all-MiniLM-L6-v2",
                          "hf:", "host:", "cohere:embed@http://x"}) {
    Status s = NewEmbedder(bad, EmbedderOptions(), &e);
    CHECK_MESSAGE(s.IsInvalidArgument(), bad);
    CHECK_MESSAGE(s.message().find("valid forms") != std::string::npos, s.ToString());
    CHECK(s.message().find("hash:dim=N") != std::string::npos);
  }
  CHECK(NewEmbedder("hash", EmbedderOptions(), nullptr).IsInvalidArgument());
}

TEST_CASE("factory: hf specs reach the BERT loader, which names the missing folder") {
  std::unique_ptr<Embedder> e;
  const std::string missing = std::string(EMBERDB_BINARY_DIR) + "/emb1-no-such-model";
  Status s = NewEmbedder("hf:" + missing, EmbedderOptions(), &e);
  CHECK(!s.ok());
  CHECK(e == nullptr);
  CHECK_MESSAGE(s.message().find("emb1-no-such-model") != std::string::npos, s.ToString());
}

TEST_CASE("factory: host specs resolve registered functions and check their output") {
  EmbedderOptions options;
  int calls = 0;
  options.host_functions["ones"] = HostEmbedFunction{
      3, [&calls](const std::vector<std::string>& texts, std::vector<float>* out) {
        ++calls;
        out->assign(texts.size() * 3, 1.0f);
        return Status::OK();
      }};
  options.host_functions["short"] =
      HostEmbedFunction{3, [](const std::vector<std::string>& texts, std::vector<float>* out) {
                          out->assign(texts.size() * 3 - 1, 1.0f);
                          return Status::OK();
                        }};
  options.host_functions["nan"] =
      HostEmbedFunction{2, [](const std::vector<std::string>& texts, std::vector<float>* out) {
                          out->assign(texts.size() * 2, 0.5f);
                          out->back() = std::nanf("");
                          return Status::OK();
                        }};
  options.host_functions["failing"] =
      HostEmbedFunction{2, [](const std::vector<std::string>&, std::vector<float>*) {
                          return Status::IOError("GPU fell off the bus");
                        }};
  options.host_functions["throwing"] =
      HostEmbedFunction{2, [](const std::vector<std::string>&, std::vector<float>*) -> Status {
                          throw std::runtime_error("boom");
                        }};

  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("host:ones", options, &e).ok());
  CHECK(e->dimension() == 3);
  CHECK(e->identity().kind == "host");
  CHECK(e->identity().model == "ones");
  std::vector<float> out;
  EmbedReport report;
  REQUIRE(e->EmbedQuery({"a", "b"}, &out, &report).ok());
  CHECK(out == std::vector<float>(6, 1.0f));
  CHECK(report.dropped_tokens == std::vector<uint32_t>{0, 0});
  CHECK(calls == 1);

  REQUIRE(NewEmbedder("host:short", options, &e).ok());
  Status s = e->Embed({"a", "b"}, &out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("returned 5 floats") != std::string::npos);

  REQUIRE(NewEmbedder("host:nan", options, &e).ok());
  s = e->Embed({"a"}, &out);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("non-finite") != std::string::npos);
  CHECK(out.empty());

  REQUIRE(NewEmbedder("host:failing", options, &e).ok());
  s = e->Embed({"a"}, &out);
  CHECK(s.IsIOError());
  CHECK(s.message().find("GPU fell off the bus") != std::string::npos);

  REQUIRE(NewEmbedder("host:throwing", options, &e).ok());
  s = e->Embed({"a"}, &out);
  CHECK(!s.ok());
  CHECK(s.message().find("boom") != std::string::npos);

  s = NewEmbedder("host:missing", options, &e);
  CHECK(s.IsNotFound());
  CHECK(s.message().find("'ones'") != std::string::npos);
  CHECK(s.message().find("'nan'") != std::string::npos);
  options.host_functions["zero"] = HostEmbedFunction{0, options.host_functions["ones"].embed};
  CHECK(NewEmbedder("host:zero", options, &e).IsInvalidArgument());
}

}  // namespace
}  // namespace emberdb
