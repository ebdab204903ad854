/* The emberdb C API: a stable, flat interface that any language can bind.
 *
 * Errors follow LevelDB's C API: every fallible call takes `char** errptr`. On failure it
 * stores a malloc'd, NUL-terminated message there ("Not found: collection 'x' not found in
 * /db") and returns NULL/0; on success it leaves *errptr untouched. Pass a NULL-initialised
 * pointer and release messages with emberdb_free().
 *
 * Metadata crosses the API as JSON objects (see MetadataFromJson in emberdb/document.h).
 * Handles: a collection handle stays valid after emberdb_close() of its database only for
 * emberdb_collection_release(). */
#ifndef EMBERDB_C_H_
#define EMBERDB_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct emberdb_db emberdb_db;
typedef struct emberdb_collection emberdb_collection;
typedef struct emberdb_results emberdb_results;

/* Frees a string or buffer returned by this API. */
void emberdb_free(void* ptr);

/* ---- databases ---- */
/* Opens (creating when create_if_missing) a database. read_only opens alongside a writer. */
emberdb_db* emberdb_open(const char* path, int create_if_missing, int read_only, char** errptr);
void emberdb_close(emberdb_db* db);
/* Read-only handles: see the writer's latest data. */
void emberdb_refresh(emberdb_db* db, char** errptr);

/* ---- collections ---- */
/* metric: "cosine", "l2" or "ip"; embedder: a spec such as "hash" or NULL; index: a factory
 * string such as "IVF,Flat" or NULL for the default. dimension 0 takes the embedder's. */
emberdb_collection* emberdb_create_collection(emberdb_db* db, const char* name, uint32_t dimension,
                                              const char* metric, const char* embedder,
                                              const char* index, char** errptr);
emberdb_collection* emberdb_get_collection(emberdb_db* db, const char* name, char** errptr);
void emberdb_drop_collection(emberdb_db* db, const char* name, char** errptr);
/* A malloc'd JSON array of collection names. */
char* emberdb_list_collections(emberdb_db* db, char** errptr);
void emberdb_collection_release(emberdb_collection* collection);
uint32_t emberdb_collection_dimension(const emberdb_collection* collection);

/* ---- writes: n documents; texts, metadata_json and vectors may each be NULL, and entries of
 * texts/metadata_json may be NULL. vectors holds n * dimension floats; without vectors the
 * collection's embedder embeds the texts. Each call is atomic. ---- */
void emberdb_add(emberdb_collection* c, size_t n, const char* const* ids, const char* const* texts,
                 const char* const* metadata_json, const float* vectors, char** errptr);
void emberdb_upsert(emberdb_collection* c, size_t n, const char* const* ids,
                    const char* const* texts, const char* const* metadata_json,
                    const float* vectors, char** errptr);
/* Returns the number of documents deleted. */
uint64_t emberdb_delete(emberdb_collection* c, size_t n, const char* const* ids, char** errptr);
uint64_t emberdb_delete_where(emberdb_collection* c, const char* where, const char* where_document,
                              char** errptr);
uint64_t emberdb_count(emberdb_collection* c, char** errptr);

/* ---- reads: results carry ids, text, metadata (JSON) and, for queries, distance and score;
 * where/where_document may be NULL. ---- */
emberdb_results* emberdb_query(emberdb_collection* c, const float* vector, size_t k,
                               const char* where, const char* where_document, char** errptr);
emberdb_results* emberdb_query_text(emberdb_collection* c, const char* text, size_t k,
                                    const char* where, const char* where_document, char** errptr);
/* ids may be NULL (n_ids 0); limit 0 means no limit. Vectors are included. */
emberdb_results* emberdb_get(emberdb_collection* c, size_t n_ids, const char* const* ids,
                             const char* where, const char* where_document, size_t limit,
                             size_t offset, char** errptr);

size_t emberdb_results_count(const emberdb_results* r);
const char* emberdb_results_id(const emberdb_results* r, size_t i);
const char* emberdb_results_text(const emberdb_results* r, size_t i);
const char* emberdb_results_metadata_json(const emberdb_results* r, size_t i);
float emberdb_results_distance(const emberdb_results* r, size_t i);
float emberdb_results_score(const emberdb_results* r, size_t i);
/* The stored vector (from emberdb_get) or NULL; *dim receives its length. */
const float* emberdb_results_vector(const emberdb_results* r, size_t i, size_t* dim);
void emberdb_results_free(emberdb_results* r);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EMBERDB_C_H_ */
