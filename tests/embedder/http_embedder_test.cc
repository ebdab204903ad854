// HTTP embedders against an in-process cpp-httplib server that serves canned vectors and can be
// told to fail, stall or answer nonsense.
#include "embedder/http_embedder.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "emberdb/embedder.h"

namespace emberdb::embedder {
namespace {

using nlohmann::json;

// The canned vector of a text: depends on the text so that ordering mistakes show.
std::vector<float> CannedVector(const std::string& text, int dim) {
  std::vector<float> v(static_cast<size_t>(dim));
  for (int j = 0; j < dim; ++j) {
    v[static_cast<size_t>(j)] =
        static_cast<float>(text.size()) + 0.25f * static_cast<float>(j) +
        (text.empty() ? 0.0f : static_cast<float>(static_cast<unsigned char>(text[0])) / 256.0f);
  }
  return v;
}

class FakeServer {
 public:
  FakeServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res, bool openai) {
      ++requests;
      {
        std::lock_guard<std::mutex> lock(mu);
        paths.push_back(req.path);
        authorization = req.get_header_value("Authorization");
      }
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      if (failures_left > 0) {
        --failures_left;
        res.status = failure_status;
        res.set_content(R"({"error":"temporarily overloaded"})", "application/json");
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (override_status != 0) {
          res.status = override_status;
          res.set_content(override_body, "application/json");
          return;
        }
      }
      json body = json::parse(req.body);
      std::vector<std::string> input = body["input"];
      {
        std::lock_guard<std::mutex> lock(mu);
        batch_sizes.push_back(input.size());
        model = body["model"];
      }
      if (openai) {
        json data = json::array();
        // Reverse order: the client must sort by "index".
        for (size_t i = input.size(); i-- > 0;) {
          data.push_back({{"object", "embedding"},
                          {"index", i},
                          {"embedding", CannedVector(input[i], dimension)}});
        }
        res.set_content(json{{"object", "list"}, {"data", data}}.dump(), "application/json");
      } else {
        json rows = json::array();
        for (const std::string& t : input) rows.push_back(CannedVector(t, dimension));
        res.set_content(json{{"model", body["model"]}, {"embeddings", rows}}.dump(),
                        "application/json");
      }
    };
    server_.Post("/api/embed", [handler](const httplib::Request& q, httplib::Response& r) {
      handler(q, r, false);
    });
    server_.Post("/v1/embeddings", [handler](const httplib::Request& q, httplib::Response& r) {
      handler(q, r, true);
    });
    server_.Post("/prefix/v1/embeddings", [handler](const httplib::Request& q,
                                                    httplib::Response& r) { handler(q, r, true); });
    port = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeServer() { Stop(); }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  void Override(int status, std::string body) {
    std::lock_guard<std::mutex> lock(mu);
    override_status = status;
    override_body = std::move(body);
  }
  // Copies of what the handlers recorded, read under the lock (handlers run on server threads).
  std::vector<size_t> BatchSizes() {
    std::lock_guard<std::mutex> lock(mu);
    return batch_sizes;
  }
  std::string LastPath() {
    std::lock_guard<std::mutex> lock(mu);
    return paths.empty() ? "" : paths.back();
  }
  std::string Authorization() {
    std::lock_guard<std::mutex> lock(mu);
    return authorization;
  }
  std::string Model() {
    std::lock_guard<std::mutex> lock(mu);
    return model;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }

  int port = 0;
  std::atomic<int> requests{0};
  std::atomic<int> failures_left{0};
  std::atomic<int> failure_status{500};
  std::atomic<int> delay_ms{0};
  std::atomic<int> dimension{4};
  std::mutex mu;
  int override_status = 0;
  std::string override_body;
  std::vector<size_t> batch_sizes;
  std::vector<std::string> paths;
  std::string authorization;
  std::string model;

 private:
  httplib::Server server_;
  std::thread thread_;
};

EmbedderOptions FastOptions() {
  EmbedderOptions options;
  options.timeout_ms = 2000;
  options.max_retries = 3;
  options.max_batch = 2;
  options.api_key_env = "EMBERDB_EMB1_TEST_KEY";
  return options;
}

std::vector<std::string> Texts() { return {"alpha", "bravo!", "c", "delta delta", "echo"}; }

void CheckCanned(const std::vector<std::string>& texts, const std::vector<float>& out, int dim) {
  REQUIRE(out.size() == texts.size() * static_cast<size_t>(dim));
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> want = CannedVector(texts[i], dim);
    for (int j = 0; j < dim; ++j) {
      CHECK(out[i * static_cast<size_t>(dim) + static_cast<size_t>(j)] ==
            want[static_cast<size_t>(j)]);
    }
  }
}

TEST_CASE("http embedder: ollama probes the dimension, batches and returns rows in order") {
  FakeServer server;
  std::unique_ptr<Embedder> e;
  Status s = NewEmbedder("ollama:nomic-embed-text@" + server.Url(), FastOptions(), &e);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(e->dimension() == 4);
  CHECK(server.requests == 1);  // the probe
  std::vector<float> out;
  EmbedReport report;
  REQUIRE(e->EmbedDocuments(Texts(), &out, &report).ok());
  CheckCanned(Texts(), out, 4);
  CHECK(report.dropped_tokens == std::vector<uint32_t>(5, 0));
  CHECK(server.BatchSizes() == std::vector<size_t>{1, 2, 2, 1});
  CHECK(server.Model() == "nomic-embed-text");
  CHECK(server.LastPath() == "/api/embed");
  const EmbedderIdentity id = e->identity();
  CHECK(id.kind == "ollama");
  CHECK(id.model == "nomic-embed-text");
  CHECK(id.dimension == 4);
  CHECK(!id.fingerprint.empty());
  std::unique_ptr<Embedder> other;
  REQUIRE(NewEmbedder("ollama:other-model@" + server.Url(), FastOptions(), &other).ok());
  CHECK(other->identity().fingerprint != id.fingerprint);
  // Invalid UTF-8 cannot be sent as JSON: a clear error, and no request.
  const int before = server.requests;
  Status bad = e->Embed({"fine", "bad \xff byte"}, &out);
  CHECK(bad.IsInvalidArgument());
  CHECK(bad.message().find("UTF-8") != std::string::npos);
  // An empty batch makes no request either.
  REQUIRE(e->EmbedQuery({}, &out).ok());
  CHECK(out.empty());
  CHECK(server.requests == before);
}

TEST_CASE("http embedder: openai sorts by index, finds /v1 and sends the API key") {
  FakeServer server;
  setenv("EMBERDB_EMB1_TEST_KEY", "sk-test-123", 1);
  for (const std::string suffix : {"", "/", "/v1", "/prefix", "/prefix/v1/"}) {
    std::unique_ptr<Embedder> e;
    Status s =
        NewEmbedder("openai:text-embedding-3-small@" + server.Url() + suffix, FastOptions(), &e);
    REQUIRE_MESSAGE(s.ok(), suffix << ": " << s.ToString());
    std::vector<float> out;
    REQUIRE(e->EmbedQuery(Texts(), &out).ok());
    CheckCanned(Texts(), out, 4);
    CHECK(server.Authorization() == "Bearer sk-test-123");
    CHECK(server.LastPath() ==
          (suffix.starts_with("/prefix") ? "/prefix/v1/embeddings" : "/v1/embeddings"));
    CHECK(e->identity().kind == "openai");
  }
  unsetenv("EMBERDB_EMB1_TEST_KEY");
  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("openai:m@" + server.Url(), FastOptions(), &e).ok());
  CHECK(server.Authorization().empty());
}

TEST_CASE("http embedder: 500 and 429 are retried until success") {
  FakeServer server;
  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("ollama:m@" + server.Url(), FastOptions(), &e).ok());
  server.failures_left = 2;
  server.failure_status = 500;
  std::vector<float> out;
  const int before = server.requests;
  Status s = e->Embed({"one", "two"}, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckCanned({"one", "two"}, out, 4);
  CHECK(server.requests - before == 3);
  server.failures_left = 3;
  server.failure_status = 429;
  s = e->Embed({"three"}, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CheckCanned({"three"}, out, 4);
}

TEST_CASE("http embedder: permanent failures quote the server's message") {
  FakeServer server;
  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("ollama:m@" + server.Url(), FastOptions(), &e).ok());
  std::vector<float> out;
  server.Override(404, R"({"error":"model 'm' not found, try pulling it first"})");
  int before = server.requests;
  Status s = e->Embed({"x"}, &out);
  CHECK(s.IsIOError());
  CHECK(s.message().find("model 'm' not found, try pulling it first") != std::string::npos);
  CHECK(s.message().find("404") != std::string::npos);
  CHECK(server.requests - before == 1);  // 4xx is not retried
  CHECK(out.empty());

  server.Override(0, "");
  server.failures_left = 100;
  before = server.requests;
  s = e->Embed({"x"}, &out);
  CHECK(s.IsIOError());
  CHECK(s.message().find("temporarily overloaded") != std::string::npos);
  CHECK(s.message().find("4 attempts") != std::string::npos);
  CHECK(server.requests - before == 4);  // 1 + max_retries

  server.failures_left = 0;
  server.Override(401, R"({"error":{"message":"Incorrect API key provided","type":"auth"}})");
  std::unique_ptr<Embedder> openai;
  s = NewEmbedder("openai:m@" + server.Url(), FastOptions(), &openai);
  CHECK(s.IsIOError());
  CHECK(s.message().find("Incorrect API key provided") != std::string::npos);
}

TEST_CASE("http embedder: wrong dimension, wrong count and malformed JSON are errors") {
  FakeServer server;
  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("ollama:m@" + server.Url(), FastOptions(), &e).ok());
  std::vector<float> out;
  server.dimension = 5;
  Status s = e->Embed({"a"}, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("dimension 5, expected 4") != std::string::npos);
  server.dimension = 4;

  server.Override(200, R"({"embeddings":[[1,2,3,4]]})");
  s = e->Embed({"a", "b"}, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("1 embeddings for 2 texts") != std::string::npos);

  server.Override(200, R"({"embeddings":[[1,2,3,4e39]]})");
  s = e->Embed({"a"}, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("non-finite") != std::string::npos);

  server.Override(200, R"({"embeddings":[[1,2,"x",4]]})");
  CHECK(e->Embed({"a"}, &out).IsCorruption());

  server.Override(200, "this is {not json");
  s = e->Embed({"a"}, &out);
  CHECK(s.IsCorruption());
  CHECK(s.message().find("malformed JSON") != std::string::npos);
  CHECK(out.empty());

  server.Override(
      200, R"({"data":[{"index":0,"embedding":[1,2,3,4]},{"index":0,"embedding":[1,2,3,4]}]})");
  std::unique_ptr<Embedder> openai;
  s = NewEmbedder("openai:m@" + server.Url(), FastOptions(), &openai);
  CHECK(s.IsCorruption());
}

TEST_CASE("http embedder: a stalled server times out, an absent one fails cleanly") {
  FakeServer server;
  EmbedderOptions options = FastOptions();
  options.timeout_ms = 150;
  options.max_retries = 1;
  std::unique_ptr<Embedder> e;
  REQUIRE(NewEmbedder("ollama:m@" + server.Url(), options, &e).ok());
  server.delay_ms = 1000;
  std::vector<float> out;
  const auto start = std::chrono::steady_clock::now();
  Status s = e->Embed({"slow"}, &out);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(s.IsIOError());
  CHECK(s.message().find("2 attempts") != std::string::npos);
  CHECK(elapsed < std::chrono::milliseconds(1500));
  server.delay_ms = 0;

  const std::string url = server.Url();
  server.Stop();
  s = NewEmbedder("ollama:m@" + url, options, &e);
  CHECK(s.IsIOError());
  CHECK(s.message().find("cannot reach") != std::string::npos);
}

TEST_CASE("http embedder: spec and URL errors") {
  HttpEmbedderSpec spec;
  CHECK(ParseHttpSpec("ollama", "all-minilm", &spec).IsInvalidArgument());
  CHECK(ParseHttpSpec("ollama", "@http://h:1", &spec).IsInvalidArgument());
  REQUIRE(ParseHttpSpec("ollama", "user@org/model@http://h:1", &spec).ok());
  CHECK(spec.model == "user@org/model");
  CHECK(spec.url == "http://h:1");
  std::unique_ptr<Embedder> e;
  CHECK(NewEmbedder("ollama:m@http://user:pw@127.0.0.1:1", FastOptions(), &e).IsInvalidArgument());
  CHECK(NewEmbedder("openai:m@ftp://127.0.0.1:1", FastOptions(), &e).IsInvalidArgument());
  EmbedderOptions zero = FastOptions();
  zero.max_batch = 0;
  CHECK(NewEmbedder("ollama:m@http://127.0.0.1:1", zero, &e).IsInvalidArgument());
}

}  // namespace
}  // namespace emberdb::embedder
