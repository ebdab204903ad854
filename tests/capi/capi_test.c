/* The C API from a C program: open, collections, add/upsert/delete, query, get, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emberdb/c.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                  \
  do {                                                               \
    ++checks;                                                        \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

#define NO_ERROR(err)                                                            \
  do {                                                                           \
    ++checks;                                                                    \
    if (err) {                                                                   \
      fprintf(stderr, "%s:%d: unexpected error: %s\n", __FILE__, __LINE__, err); \
      ++failures;                                                                \
      emberdb_free(err);                                                         \
      err = NULL;                                                                \
    }                                                                            \
  } while (0)

int main(int argc, char** argv) {
  char path[512];
  snprintf(path, sizeof path, "%s-%d", argc > 1 ? argv[1] : "/tmp/emberdb-capi", (int)getpid());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) return 2;

  char* err = NULL;
  emberdb_db* db = emberdb_open(path, 1, 0, &err);
  NO_ERROR(err);
  CHECK(db != NULL);

  emberdb_collection* c = emberdb_create_collection(db, "vecs", 3, "l2", NULL, "Flat", &err);
  NO_ERROR(err);
  CHECK(emberdb_collection_dimension(c) == 3);

  const char* ids[] = {"a", "b", "c"};
  const char* texts[] = {"first", NULL, "third"};
  const char* metas[] = {"{\"n\": 1, \"tag\": \"x\"}", NULL, "{\"n\": 3, \"tag\": \"y\"}"};
  const float vectors[] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  emberdb_add(c, 3, ids, texts, metas, vectors, &err);
  NO_ERROR(err);
  CHECK(emberdb_count(c, &err) == 3);

  /* Adding an existing id fails with a message and writes nothing. */
  emberdb_add(c, 1, ids, NULL, NULL, vectors, &err);
  CHECK(err != NULL && strstr(err, "already exists") != NULL);
  emberdb_free(err);
  err = NULL;

  /* Bad metadata JSON and a wrong-dimension query are errors. */
  const char* bad_meta[] = {"{\"n\": {\"nested\": 1}}"};
  const char* d_id[] = {"d"};
  emberdb_upsert(c, 1, d_id, NULL, bad_meta, vectors, &err);
  CHECK(err != NULL);
  emberdb_free(err);
  err = NULL;
  CHECK(emberdb_count(c, &err) == 3);

  const float q[] = {0.9f, 0.1f, 0};
  emberdb_results* r = emberdb_query(c, q, 2, NULL, NULL, &err);
  NO_ERROR(err);
  CHECK(emberdb_results_count(r) == 2);
  CHECK(strcmp(emberdb_results_id(r, 0), "a") == 0);
  CHECK(strcmp(emberdb_results_text(r, 0), "first") == 0);
  CHECK(strstr(emberdb_results_metadata_json(r, 0), "\"tag\":\"x\"") != NULL);
  CHECK(emberdb_results_distance(r, 0) < emberdb_results_distance(r, 1));
  emberdb_results_free(r);

  r = emberdb_query(c, q, 5, "{\"n\": {\"$gte\": 2}}", NULL, &err);
  NO_ERROR(err);
  CHECK(emberdb_results_count(r) == 1);
  CHECK(strcmp(emberdb_results_id(r, 0), "c") == 0);
  emberdb_results_free(r);

  r = emberdb_query(c, q, 5, "{\"n\": {\"$bogus\": 2}}", NULL, &err);
  CHECK(r == NULL && err != NULL && strstr(err, "$bogus") != NULL);
  emberdb_free(err);
  err = NULL;

  const char* get_ids[] = {"c"};
  r = emberdb_get(c, 1, get_ids, NULL, NULL, 0, 0, &err);
  NO_ERROR(err);
  CHECK(emberdb_results_count(r) == 1);
  size_t dim = 0;
  const float* v = emberdb_results_vector(r, 0, &dim);
  CHECK(dim == 3 && v != NULL && v[2] == 1.0f);
  emberdb_results_free(r);

  CHECK(emberdb_delete(c, 1, get_ids, &err) == 1);
  NO_ERROR(err);
  CHECK(emberdb_delete_where(c, "{\"tag\": \"x\"}", NULL, &err) == 1);
  NO_ERROR(err);
  CHECK(emberdb_count(c, &err) == 1);

  /* A text collection with the built-in embedder. */
  emberdb_collection* t = emberdb_create_collection(db, "texts", 0, "cosine", "hash", NULL, &err);
  NO_ERROR(err);
  const char* t_ids[] = {"cats", "cars"};
  const char* t_texts[] = {"cats purr and chase mice", "cars need fuel and new tyres"};
  emberdb_upsert(t, 2, t_ids, t_texts, NULL, NULL, &err);
  NO_ERROR(err);
  r = emberdb_query_text(t, "my cat chases a mouse", 1, NULL, NULL, &err);
  NO_ERROR(err);
  CHECK(emberdb_results_count(r) == 1 && strcmp(emberdb_results_id(r, 0), "cats") == 0);
  CHECK(emberdb_results_score(r, 0) > 0);
  emberdb_results_free(r);

  char* names = emberdb_list_collections(db, &err);
  NO_ERROR(err);
  CHECK(names && strcmp(names, "[\"texts\",\"vecs\"]") == 0);
  emberdb_free(names);

  emberdb_collection* missing = emberdb_get_collection(db, "nope", &err);
  CHECK(missing == NULL && err != NULL && strstr(err, "not found") != NULL);
  emberdb_free(err);
  err = NULL;

  /* A second writer is refused while the first holds the directory. */
  emberdb_db* second = emberdb_open(path, 1, 0, &err);
  CHECK(second == NULL && err != NULL && strstr(err, "locked") != NULL);
  emberdb_free(err);
  err = NULL;

  emberdb_drop_collection(db, "texts", &err);
  NO_ERROR(err);
  emberdb_collection_release(t);
  emberdb_collection_release(c);
  emberdb_close(db);

  /* Reopen: the data is there. */
  db = emberdb_open(path, 0, 0, &err);
  NO_ERROR(err);
  c = emberdb_get_collection(db, "vecs", &err);
  NO_ERROR(err);
  CHECK(emberdb_count(c, &err) == 1);
  emberdb_collection_release(c);
  emberdb_close(db);
  if (system(cmd) != 0) return 2;

  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
