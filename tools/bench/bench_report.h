// emberdb-bench output: the tables printed per system (unfiltered sweep with bandwidth, the
// engine's filtered sweep, memory) and the JSON lines written with --json.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_runners.h"

namespace emberdb::bench {

// What every JSON line and table header shares.
struct RunInfo {
  size_t n = 0;
  uint32_t dim = 0;
  size_t queries = 0;
  size_t k = 10;
  std::string data;                  // data set description
  double bandwidth_floor_gbps = 11;  // the figure bandwidths are printed next to
};

// Fills scan_bytes (estimated from list sizes where the runner did not measure them) and the
// GB/s figures of every sweep point.
void FillBandwidth(const RunInfo& info, SystemReport* report);

void PrintReport(const RunInfo& info, const SystemReport& report);
// The engine's filtered sweep, next to its unfiltered recall at the same nprobe.
void PrintFiltered(const RunInfo& info, const SystemReport& report);
void PrintRatios(const SystemReport& engine, const SystemReport& other);

// One line per sweep point ("filter_selectivity": null) and per filtered point.
nlohmann::json SweepJson(const RunInfo& info, const SystemReport& report, const SweepPoint& p);
nlohmann::json FilteredJson(const RunInfo& info, const SystemReport& report,
                            const FilteredPoint& p);

}  // namespace emberdb::bench
