// Opens a database, stores two documents and finds one: proof that the installed headers and
// library are complete.
#include <emberdb/db.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::unique_ptr<emberdb::DB> db;
  emberdb::Status s = emberdb::DB::Open(argv[1], emberdb::Options(), &db);
  emberdb::CollectionOptions options;
  options.embedder = "hash";
  std::shared_ptr<emberdb::Collection> c;
  if (s.ok()) s = db->CreateCollection("notes", options, &c);
  if (s.ok())
    s = c->Add({{"1", "the cat sat on the mat", {}, {}}, {"2", "stock prices fell", {}, {}}});
  std::vector<emberdb::Hit> hits;
  if (s.ok()) s = c->QueryText("a cat on a mat", emberdb::QueryOptions{.k = 1}, &hits);
  if (!s.ok()) {
    std::fprintf(stderr, "consumer: %s\n", s.ToString().c_str());
    return 1;
  }
  if (hits.size() != 1 || hits[0].id != "1") return 1;
  std::printf("consumer: found %s\n", hits[0].id.c_str());
  return 0;
}
