#pragma once
// Pairwise records of one judge J for hand-worked fixtures (position and agreement tests).

#include <string>

#include <nlohmann/json.hpp>

namespace jbtest {

// One record of judge J on `item` showing `first` then `second`.
inline std::string rec(const std::string& item, const std::string& first, const std::string& second,
                       const std::string& v, const std::string& extra = "") {
  return R"({"judge":"J","item":")" + item + R"(","a":{"id":")" + first + R"("},"b":{"id":")" + second +
         R"("},"verdict":)" + v + extra + "}\n";
}

// A swap pair of (x, y) on `item`: v1 with x first, v2 with y first.
inline std::string swap(const std::string& item, const std::string& v1, const std::string& v2) {
  return rec(item, "x", "y", v1) + rec(item, "y", "x", v2);
}

/// A metric's value.
inline double value(const nlohmann::ordered_json& m) {
  return m["value"].get<double>();
}

}  // namespace jbtest
