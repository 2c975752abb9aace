// --compare: the paired difference of two judges on their shared items.
#include <fmt/format.h>

#include "test_util.hpp"

using namespace judgebias;

namespace {

// Swap pairs on items q0..q9: judge X is consistent on every item; Y on the first `y_consistent`.
std::string swap_lines(int y_consistent) {
  std::string text;
  for (int k = 0; k < 10; ++k) {
    const std::string item = "q" + std::to_string(k);
    auto line = [&](const std::string& judge, const char* a, const char* b, const char* v) {
      text +=
          fmt::format(R"({{"judge":"{}","item":"{}","a":{{"id":"{}"}},"b":{{"id":"{}"}},"verdict":"{}"}})",
                      judge, item, a, b, v) +
          "\n";
    };
    line("X", "p", "r", "A");
    line("X", "r", "p", "B");
    line("Y", "p", "r", "A");
    line("Y", "r", "p", k < y_consistent ? "B" : "A");
  }
  return text;
}

nlohmann::ordered_json compare_text(const std::string& text, std::uint32_t resamples) {
  config cfg;
  cfg.modules = {"position"};
  cfg.bootstrap = resamples;
  cfg.threads = 2;
  module_registry reg;
  register_builtin_modules(reg);
  const pipeline p(std::move(reg), cfg);
  return compare_judges(jbtest::load_text(text, cfg), p, "X", "Y");
}

const nlohmann::ordered_json& metric_of(const nlohmann::ordered_json& c, const std::string& name) {
  for (const auto& m : c["metrics"])
    if (m["metric"] == name) return m;
  static const nlohmann::ordered_json none;
  ADD_FAILURE() << "no " << name;
  return none;
}

}  // namespace

TEST(Compare, PairedDifferenceOnSharedItems) {
  // X consistent on 10 of 10 swap pairs, Y on 5 of 10: the difference is 1 - 0.5 = 0.5.
  const auto c = compare_text(swap_lines(5), 400);
  EXPECT_EQ(c["items"], 10);
  const auto& m = metric_of(c, "consistency");
  EXPECT_EQ(m["a"].get<double>(), 1.0);
  EXPECT_EQ(m["b"].get<double>(), 0.5);
  EXPECT_EQ(m["value"].get<double>(), 0.5);
  ASSERT_TRUE(m["ci"].is_array());
  // Each resample's difference is the share of drawn items where Y was inconsistent: in [0, 1], and
  // the interval of a binomial share of 10 around 0.5 is wide but inside (0, 1).
  EXPECT_GT(m["ci"][0].get<double>(), 0.0);
  EXPECT_LT(m["ci"][1].get<double>(), 1.0);
  EXPECT_LT(m["ci"][0].get<double>(), 0.5);
  EXPECT_GT(m["ci"][1].get<double>(), 0.5);
}

TEST(Compare, IdenticalJudgesCancelExactly) {
  // The same verdicts on the same items: every paired resample differs by exactly 0, whatever the
  // items drawn (an unpaired interval would not be [0, 0]).
  const auto c = compare_text(swap_lines(10), 200);
  const auto& m = metric_of(c, "consistency");
  EXPECT_EQ(m["value"].get<double>(), 0.0);
  EXPECT_EQ(m["ci"][0].get<double>(), 0.0);
  EXPECT_EQ(m["ci"][1].get<double>(), 0.0);
  const auto& f = metric_of(c, "first_slot_rate");
  EXPECT_EQ(f["ci"][0].get<double>(), 0.0);
  EXPECT_EQ(f["ci"][1].get<double>(), 0.0);
}

TEST(Compare, SameResultWhateverTheThreads) {
  config cfg;
  cfg.modules = {"position"};
  cfg.bootstrap = 100;
  std::string dumps[2];
  for (unsigned t : {1u, 2u}) {
    cfg.threads = t;
    module_registry reg;
    register_builtin_modules(reg);
    const pipeline p(std::move(reg), cfg);
    dumps[t - 1] = compare_judges(jbtest::load_text(swap_lines(6), cfg), p, "X", "Y").dump();
  }
  EXPECT_EQ(dumps[0], dumps[1]);
}
