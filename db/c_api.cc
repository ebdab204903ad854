// The C API (include/emberdb/c.h): a thin layer over the C++ API. No exception crosses it.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emberdb/c.h"
#include "emberdb/db.h"

using namespace emberdb;

struct emberdb_db {
  std::unique_ptr<DB> db;
};
struct emberdb_collection {
  std::shared_ptr<Collection> collection;
};
struct emberdb_results {
  struct Row {
    std::string id, text, metadata_json;
    float distance = 0, score = 0;
    std::vector<float> vector;
  };
  std::vector<Row> rows;
};

namespace {

char* CopyString(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// Stores the message of a failed status; returns true when the status was OK.
bool Check(const Status& s, char** errptr) {
  if (s.ok()) return true;
  if (errptr) {
    std::free(*errptr);
    *errptr = CopyString(s.ToString());
  }
  return false;
}

// Runs `f`, turning any exception (allocation failure) into an error message.
template <typename F>
auto Guard(char** errptr, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    Check(Status::Aborted(std::string("internal error: ") + e.what()), errptr);
  } catch (...) {
    Check(Status::Aborted("internal error"), errptr);
  }
  return decltype(f())();
}

Status BuildDocs(const Collection& c, size_t n, const char* const* ids, const char* const* texts,
                 const char* const* metadata_json, const float* vectors,
                 std::vector<Document>* docs) {
  if (n > 0 && !ids) return Status::InvalidArgument("ids is NULL");
  const uint32_t dim = c.info().options.dimension;
  docs->resize(n);
  for (size_t i = 0; i < n; ++i) {
    Document& d = (*docs)[i];
    if (!ids[i]) return Status::InvalidArgument("id " + std::to_string(i) + " is NULL");
    d.id = ids[i];
    if (texts && texts[i]) d.text = texts[i];
    if (metadata_json && metadata_json[i]) {
      EMBERDB_RETURN_IF_ERROR(MetadataFromJson(metadata_json[i], &d.metadata));
    }
    if (vectors) d.vector.assign(vectors + i * dim, vectors + (i + 1) * dim);
  }
  return Status::OK();
}

emberdb_results* FromHits(std::vector<Hit> hits) {
  auto* r = new emberdb_results;
  for (Hit& h : hits) {
    r->rows.push_back({std::move(h.id), std::move(h.text), MetadataToJson(h.metadata), h.distance,
                       h.score, std::move(h.vector)});
  }
  return r;
}

std::string OrEmpty(const char* s) { return s ? s : ""; }

}  // namespace

extern "C" {

void emberdb_free(void* ptr) { std::free(ptr); }

emberdb_db* emberdb_open(const char* path, int create_if_missing, int read_only, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_db* {
    if (!path) return Check(Status::InvalidArgument("path is NULL"), errptr), nullptr;
    Options options;
    options.create_if_missing = create_if_missing != 0;
    options.read_only = read_only != 0;
    std::unique_ptr<DB> db;
    if (!Check(DB::Open(path, options, &db), errptr)) return nullptr;
    return new emberdb_db{std::move(db)};
  });
}

void emberdb_close(emberdb_db* db) { delete db; }

void emberdb_refresh(emberdb_db* db, char** errptr) {
  Guard(errptr, [&] { return Check(db->db->Refresh(), errptr); });
}

emberdb_collection* emberdb_create_collection(emberdb_db* db, const char* name, uint32_t dimension,
                                              const char* metric, const char* embedder,
                                              const char* index, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_collection* {
    CollectionOptions options;
    options.dimension = dimension;
    if (metric && !ParseMetric(metric, &options.metric)) {
      Check(Status::InvalidArgument("unknown metric '" + std::string(metric) +
                                    "' (use cosine, l2 or ip)"),
            errptr);
      return nullptr;
    }
    options.embedder = OrEmpty(embedder);
    if (index) options.index = index;
    std::shared_ptr<Collection> c;
    if (!Check(db->db->CreateCollection(OrEmpty(name), options, &c), errptr)) return nullptr;
    return new emberdb_collection{std::move(c)};
  });
}

emberdb_collection* emberdb_get_collection(emberdb_db* db, const char* name, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_collection* {
    std::shared_ptr<Collection> c;
    if (!Check(db->db->GetCollection(OrEmpty(name), &c), errptr)) return nullptr;
    return new emberdb_collection{std::move(c)};
  });
}

void emberdb_drop_collection(emberdb_db* db, const char* name, char** errptr) {
  Guard(errptr, [&] { return Check(db->db->DropCollection(OrEmpty(name)), errptr); });
}

char* emberdb_list_collections(emberdb_db* db, char** errptr) {
  return Guard(errptr, [&]() -> char* {
    std::vector<CollectionInfo> infos;
    if (!Check(db->db->ListCollections(&infos), errptr)) return nullptr;
    // Names are validated to [A-Za-z0-9._-], so they need no JSON escaping.
    std::string json = "[";
    for (size_t i = 0; i < infos.size(); ++i) {
      json += (i ? ",\"" : "\"") + infos[i].name + "\"";
    }
    return CopyString(json + "]");
  });
}

void emberdb_collection_release(emberdb_collection* c) { delete c; }

uint32_t emberdb_collection_dimension(const emberdb_collection* c) {
  return c->collection->info().options.dimension;
}

void emberdb_add(emberdb_collection* c, size_t n, const char* const* ids, const char* const* texts,
                 const char* const* metadata_json, const float* vectors, char** errptr) {
  Guard(errptr, [&] {
    std::vector<Document> docs;
    return Check(BuildDocs(*c->collection, n, ids, texts, metadata_json, vectors, &docs), errptr) &&
           Check(c->collection->Add(docs), errptr);
  });
}

void emberdb_upsert(emberdb_collection* c, size_t n, const char* const* ids,
                    const char* const* texts, const char* const* metadata_json,
                    const float* vectors, char** errptr) {
  Guard(errptr, [&] {
    std::vector<Document> docs;
    return Check(BuildDocs(*c->collection, n, ids, texts, metadata_json, vectors, &docs), errptr) &&
           Check(c->collection->Upsert(docs), errptr);
  });
}

uint64_t emberdb_delete(emberdb_collection* c, size_t n, const char* const* ids, char** errptr) {
  return Guard(errptr, [&]() -> uint64_t {
    std::vector<std::string> list;
    for (size_t i = 0; i < n; ++i) {
      if (!ids || !ids[i]) return Check(Status::InvalidArgument("id is NULL"), errptr), 0;
      list.emplace_back(ids[i]);
    }
    uint64_t deleted = 0;
    Check(c->collection->Delete(list, WriteOptions(), &deleted), errptr);
    return deleted;
  });
}

uint64_t emberdb_delete_where(emberdb_collection* c, const char* where, const char* where_document,
                              char** errptr) {
  return Guard(errptr, [&]() -> uint64_t {
    uint64_t deleted = 0;
    Check(c->collection->DeleteWhere(OrEmpty(where), OrEmpty(where_document), WriteOptions(),
                                     &deleted),
          errptr);
    return deleted;
  });
}

uint64_t emberdb_count(emberdb_collection* c, char** errptr) {
  return Guard(errptr, [&]() -> uint64_t {
    uint64_t n = 0;
    Check(c->collection->Count(&n), errptr);
    return n;
  });
}

emberdb_results* emberdb_query(emberdb_collection* c, const float* vector, size_t k,
                               const char* where, const char* where_document, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_results* {
    if (!vector) return Check(Status::InvalidArgument("vector is NULL"), errptr), nullptr;
    QueryOptions options;
    options.k = k;
    options.where = OrEmpty(where);
    options.where_document = OrEmpty(where_document);
    std::vector<Hit> hits;
    const size_t dim = c->collection->info().options.dimension;
    if (!Check(c->collection->Query({vector, dim}, options, &hits), errptr)) return nullptr;
    return FromHits(std::move(hits));
  });
}

emberdb_results* emberdb_query_text(emberdb_collection* c, const char* text, size_t k,
                                    const char* where, const char* where_document, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_results* {
    QueryOptions options;
    options.k = k;
    options.where = OrEmpty(where);
    options.where_document = OrEmpty(where_document);
    std::vector<Hit> hits;
    if (!Check(c->collection->QueryText(OrEmpty(text), options, &hits), errptr)) return nullptr;
    return FromHits(std::move(hits));
  });
}

emberdb_results* emberdb_get(emberdb_collection* c, size_t n_ids, const char* const* ids,
                             const char* where, const char* where_document, size_t limit,
                             size_t offset, char** errptr) {
  return Guard(errptr, [&]() -> emberdb_results* {
    GetOptions options;
    for (size_t i = 0; i < n_ids; ++i) {
      if (!ids || !ids[i]) return Check(Status::InvalidArgument("id is NULL"), errptr), nullptr;
      options.ids.emplace_back(ids[i]);
    }
    options.where = OrEmpty(where);
    options.where_document = OrEmpty(where_document);
    options.limit = limit == 0 ? SIZE_MAX : limit;
    options.offset = offset;
    options.include = kIncludeAll;
    std::vector<Document> docs;
    if (!Check(c->collection->Get(options, &docs), errptr)) return nullptr;
    auto* r = new emberdb_results;
    for (Document& d : docs) {
      r->rows.push_back({std::move(d.id), std::move(d.text), MetadataToJson(d.metadata), 0, 0,
                         std::move(d.vector)});
    }
    return r;
  });
}

size_t emberdb_results_count(const emberdb_results* r) { return r ? r->rows.size() : 0; }
const char* emberdb_results_id(const emberdb_results* r, size_t i) {
  return i < r->rows.size() ? r->rows[i].id.c_str() : nullptr;
}
const char* emberdb_results_text(const emberdb_results* r, size_t i) {
  return i < r->rows.size() ? r->rows[i].text.c_str() : nullptr;
}
const char* emberdb_results_metadata_json(const emberdb_results* r, size_t i) {
  return i < r->rows.size() ? r->rows[i].metadata_json.c_str() : nullptr;
}
float emberdb_results_distance(const emberdb_results* r, size_t i) {
  return i < r->rows.size() ? r->rows[i].distance : 0;
}
float emberdb_results_score(const emberdb_results* r, size_t i) {
  return i < r->rows.size() ? r->rows[i].score : 0;
}
const float* emberdb_results_vector(const emberdb_results* r, size_t i, size_t* dim) {
  if (i >= r->rows.size() || r->rows[i].vector.empty()) {
    if (dim) *dim = 0;
    return nullptr;
  }
  if (dim) *dim = r->rows[i].vector.size();
  return r->rows[i].vector.data();
}
void emberdb_results_free(emberdb_results* r) { delete r; }

}  // extern "C"
