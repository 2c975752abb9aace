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

// Judge J on items i1..i8, answers x and y, gold x (i8: a tie), in both orders except i7 and i8; the
// outcomes by id, x-first order then y-first: i1 (x, x), i2 (x, y), i3 (x, tie), i4 (y, y),
// i5 (x, failure), i6 (failure, failure), i7 y (x first only), i8 x (x first only, gold tie). With
// `models`, x is by J's own model m1 and y by m2 (tests/agreement_test.cpp and self_preference_test.cpp;
// docs/metrics.md works it by hand).
inline std::string pair_rule_fixture(bool models) {
  const std::string ma = models ? R"(,"model":"m1")" : "", mb = models ? R"(,"model":"m2")" : "";
  auto line = [&](const std::string& item, bool x_first, const char* verdict, const char* gold) {
    const std::string x = R"({"id":"x")" + ma + "}", y = R"({"id":"y")" + mb + "}";
    return R"({"judge":"J","judge_model":"m1","item":")" + item + R"(","a":)" + (x_first ? x : y) +
           R"(,"b":)" + (x_first ? y : x) + R"(,"verdict":)" + verdict + R"(,"gold":")" + gold + "\"}\n";
  };
  // Verdicts in presentation: x first, "A" picks x; y first, "A" picks y.
  std::string t;
  t += line("i1", true, R"("A")", "A") + line("i1", false, R"("B")", "B");
  t += line("i2", true, R"("A")", "A") + line("i2", false, R"("A")", "B");
  t += line("i3", true, R"("A")", "A") + line("i3", false, R"("tie")", "B");
  t += line("i4", true, R"("B")", "A") + line("i4", false, R"("A")", "B");
  t += line("i5", true, R"("A")", "A") + line("i5", false, "null", "B");
  t += line("i6", true, "null", "A") + line("i6", false, "null", "B");
  t += line("i7", true, R"("B")", "A");
  t += line("i8", true, R"("A")", "tie");
  return t;
}

}  // namespace jbtest
