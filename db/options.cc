#include "emberdb/options.h"

namespace emberdb {

const char* MetricName(Metric m) {
  switch (m) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kL2:
      return "l2";
    case Metric::kInnerProduct:
      return "ip";
  }
  return "?";
}

bool ParseMetric(const std::string& name, Metric* out) {
  if (name == "cosine") {
    *out = Metric::kCosine;
  } else if (name == "l2") {
    *out = Metric::kL2;
  } else if (name == "ip" || name == "inner_product") {
    *out = Metric::kInnerProduct;
  } else {
    return false;
  }
  return true;
}

}  // namespace emberdb
