#include "db/catalog.h"

#include <nlohmann/json.hpp>

#include "storage/keys.h"

namespace emberdb {

using nlohmann::json;

std::string CatalogKey(std::string_view name) {
  return std::string(kCatalogPrefix) + std::string(name);
}

std::string CountersKey(uint32_t cid) {
  std::string k = "counters/";
  storage::AppendU32BE(&k, cid);
  return k;
}

std::string EncodeCollectionRecord(const CollectionRecord& rec) {
  const CollectionOptions& o = rec.options;
  json j = {
      {"cid", rec.cid},
      {"name", rec.name},
      {"dimension", o.dimension},
      {"metric", MetricName(o.metric)},
      {"embedder", o.embedder},
      {"index", o.index},
      {"train_threshold", o.train_threshold},
      {"nprobe", o.nprobe},
      {"target_recall", o.target_recall},
      {"query_prompt", o.query_prompt},
      {"document_prompt", o.document_prompt},
      {"truncation_is_error", o.truncation_is_error},
      {"embedder_identity",
       {{"kind", rec.embedder.kind},
        {"model", rec.embedder.model},
        {"dimension", rec.embedder.dimension},
        {"fingerprint", rec.embedder.fingerprint}}},
  };
  return j.dump();
}

Status DecodeCollectionRecord(std::string_view bytes, CollectionRecord* rec) {
  try {
    json j = json::parse(bytes);
    rec->cid = j.at("cid").get<uint32_t>();
    rec->name = j.at("name").get<std::string>();
    CollectionOptions& o = rec->options;
    o.dimension = j.at("dimension").get<uint32_t>();
    if (!ParseMetric(j.at("metric").get<std::string>(), &o.metric)) {
      return Status::Corruption("collection record of '" + rec->name + "' has an unknown metric");
    }
    o.embedder = j.at("embedder").get<std::string>();
    o.index = j.at("index").get<std::string>();
    o.train_threshold = j.at("train_threshold").get<size_t>();
    o.nprobe = j.at("nprobe").get<int>();
    o.target_recall = j.at("target_recall").get<double>();
    o.query_prompt = j.at("query_prompt").get<std::string>();
    o.document_prompt = j.at("document_prompt").get<std::string>();
    o.truncation_is_error = j.at("truncation_is_error").get<bool>();
    const json& e = j.at("embedder_identity");
    rec->embedder.kind = e.at("kind").get<std::string>();
    rec->embedder.model = e.at("model").get<std::string>();
    rec->embedder.dimension = e.at("dimension").get<uint32_t>();
    rec->embedder.fingerprint = e.at("fingerprint").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("malformed collection record: ") + e.what());
  }
  if (rec->options.dimension == 0) {
    return Status::Corruption("collection record of '" + rec->name + "' has dimension 0");
  }
  return Status::OK();
}

std::string EncodeCounters(const Counters& c) {
  std::string out;
  storage::AppendU64BE(&out, c.next_label);
  storage::AppendU64BE(&out, c.count);
  storage::AppendU64BE(&out, c.change_seq);
  return out;
}

Status DecodeCounters(std::string_view bytes, Counters* c) {
  if (bytes.size() != 24) return Status::Corruption("malformed collection counters");
  c->next_label = storage::ReadU64BE(bytes.data());
  c->count = storage::ReadU64BE(bytes.data() + 8);
  c->change_seq = storage::ReadU64BE(bytes.data() + 16);
  return Status::OK();
}

}  // namespace emberdb
