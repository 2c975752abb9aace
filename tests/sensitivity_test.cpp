// The sensitivity section (issue #16): the pairwise DBG and the win rates under the three pair rules, on
// the fixture docs/metrics.md "Pair rules" works by hand.
#include <sstream>

#include "judgebias/registry.hpp"
#include "judgebias/synth.hpp"
#include "pairwise_fixture.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

json sensitivity(const std::string& text, config cfg = {}) {
  cfg.modules = {"sensitivity"};
  return jbtest::run_text(text, cfg).to_json()["modules"]["sensitivity"];
}

}  // namespace

TEST(Sensitivity, DbgAndWinRatesUnderEachRuleSideBySide) {
  const json s = sensitivity(jbtest::pair_rule_fixture(true));
  ASSERT_EQ(s["status"], "ok");
  const json& j = s["judges"]["J"];
  // docs/metrics.md: 100 (4.25 - 6.5) / 7, 100 (3 - 5.5) / 6, 100 (4.5 - 6.5) / 7.
  EXPECT_NEAR(value(j["dbg_pairwise_each"]), 100 * (4.25 - 6.5) / 7, 1e-9);
  EXPECT_NEAR(value(j["dbg_pairwise_conservative"]), 100 * (3 - 5.5) / 6, 1e-9);
  EXPECT_NEAR(value(j["dbg_pairwise_counter"]), 100 * (4.5 - 6.5) / 7, 1e-9);
  EXPECT_NEAR(value(j["dbg_pairwise_spread"]), 100 * (4.5 - 6.5) / 7 - 100 * (3 - 5.5) / 6, 1e-9);
  // m1's (x's) outcomes. each, per record: i1 1, 1; i2 1, 0; i3 1, 0.5; i4 0, 0; i5 1; i7 0; i8 1
  // (three failures out): 6.5 of 11. conservative, per pair: i1 1, i2 0.5, i3 0.5, i4 0, i7 0, i8 1
  // (i5, i6 failures): 3 of 6. counter: i1 1, i2 0.5, i3 1, i4 0, i5 1, i7 0, i8 1: 4.5 of 7.
  const json& m1 = j["models"]["m1"];
  EXPECT_NEAR(value(m1["win_rate_each"]), 100 * 6.5 / 11, 1e-9);
  EXPECT_EQ(m1["win_rate_each"]["n"], 11);
  EXPECT_NEAR(value(m1["win_rate_conservative"]), 50.0, 1e-9);
  EXPECT_EQ(m1["win_rate_conservative"]["n"], 6);
  EXPECT_NEAR(value(m1["win_rate_counter"]), 100 * 4.5 / 7, 1e-9);
  EXPECT_NEAR(value(m1["win_rate_spread"]), 100 * 4.5 / 7 - 50, 1e-9);
  EXPECT_NEAR(value(j["models"]["m2"]["win_rate_conservative"]), 50.0, 1e-9);
  // Closed-form intervals whatever --bootstrap says, and the section says so.
  EXPECT_TRUE(m1["win_rate_each"]["ci"].is_array());
  EXPECT_TRUE(s["intervals"].is_string());
  EXPECT_TRUE(j["dbg_pairwise_spread"]["ci"].is_null());
}

TEST(Sensitivity, SkippedWithoutBothOrdersAndNullWhereAModuleSaysNothing) {
  // One order only: every rule scores the same.
  const std::string one =
      R"({"judge":"J","judge_model":"m1","item":"q","a":{"model":"m1"},"b":{"model":"m2"},"verdict":"A"})"
      "\n";
  const json s = sensitivity(one);
  EXPECT_EQ(s["status"], "skipped");
  EXPECT_EQ(s["reason"], "no comparison is judged in both orders: every pair rule scores the same");
  // Both orders but no model names: self_preference and winrate are skipped, and each rule's value says
  // why.
  const json n = sensitivity(jbtest::pair_rule_fixture(false));
  ASSERT_EQ(n["status"], "ok");
  const json& j = n["judges"]["J"];
  EXPECT_TRUE(j["dbg_pairwise_counter"]["value"].is_null());
  EXPECT_EQ(j["dbg_pairwise_counter"]["reason"].get<std::string>().rfind("self_preference skipped: ", 0), 0u);
  EXPECT_EQ(j["dbg_pairwise_spread"]["reason"], "not every rule gives a value");
  EXPECT_FALSE(j.contains("models"));
}

namespace {

// A metric without what the report adds to a module's own metrics (the mde of its headline ones).
json measured(json m) {
  m.erase("mde");
  return m;
}

}  // namespace

// Sensitivity measures each rule with self_preference and winrate reduced to the numbers it reads; they
// must be, bit for bit, what the whole modules report under that rule at --bootstrap 0. On synth data
// (pointwise and pairwise records, both orders, own responses, ties, failures, gold on most), by judge,
// with and without --baseline and --soft.
TEST(Sensitivity, EachRuleIsWhatTheWholeModulesReport) {
  synth_options o;
  o.items = 40;
  o.seed = 3;
  o.failure_rate = 0.05;
  std::ostringstream full;
  synthesize(o, full);
  // Every third item without gold, so that some comparisons have none.
  std::ostringstream text;
  std::istringstream lines(full.str());
  for (std::string line; std::getline(lines, line);) {
    const std::size_t item = line.find("\"item\":\"synth-"), g = line.find(",\"gold\":");
    ASSERT_NE(item, std::string::npos) << line;
    if (std::stoi(line.substr(item + 14, 6)) % 3 == 0 && g != std::string::npos)
      line.erase(g, line.find_first_of(",}", g + 1) - g);
    text << line << '\n';
  }
  for (const bool with_baseline : {false, true})
    for (const bool soft : {false, true}) {
      config cfg;
      cfg.soft = soft;
      if (with_baseline) cfg.baseline = "bravo-13b";
      const json s = sensitivity(text.str(), cfg)["judges"];
      int compared = 0;
      for (const pair_rule rule : {pair_rule::each, pair_rule::conservative, pair_rule::counter}) {
        config whole = cfg;
        whole.modules = {"self_preference", "winrate"};
        whole.pair_rule = rule;
        whole.bootstrap = 0;
        whole.soft = soft && rule == pair_rule::each;
        const json r = jbtest::run_text(text.str(), whole).to_json()["modules"];
        const std::string suffix = "_" + std::string(to_string(rule));
        ASSERT_EQ(s.size(), r["winrate"]["judges"].size());
        for (const auto& [judge, j] : s.items()) {
          const json& dbg = r["self_preference"]["judges"][judge]["dbg_pairwise"];
          ASSERT_TRUE(dbg["value"].is_number()) << judge;
          EXPECT_EQ(j["dbg_pairwise" + suffix], measured(dbg)) << judge << suffix;
          // Every model with a win rate under the rule is listed (and none other: each rule has all).
          std::vector<std::string> listed, rated;
          for (const auto& [model, m] : j["models"].items()) listed.push_back(model);
          for (const auto& [model, m] : r["winrate"]["judges"][judge]["models"].items())
            if (m.contains("win_rate")) rated.push_back(model);
          EXPECT_EQ(listed, rated) << judge << suffix;
          for (const auto& [model, m] : j["models"].items()) {
            const json& wr = r["winrate"]["judges"][judge]["models"][model];
            ASSERT_TRUE(wr["win_rate"]["value"].is_number()) << judge << " " << model;
            EXPECT_EQ(m["win_rate" + suffix], measured(wr["win_rate"])) << judge << " " << model << suffix;
            ++compared;
          }
        }
      }
      EXPECT_GE(compared, 3 * 3 * 3) << "judges x models x rules";
    }
}

// With prob_a (a tally per model and opponent) and a baseline, a model met only against others than the
// baseline still has its row: m3 meets only m2, so its win rate against m1 has no record, and says so
// rather than that the judge does not report it. m2's, against m1 on q1: 1 − 0.7 and 0.4 → 0.35.
TEST(Sensitivity, AModelNeverAgainstTheBaselineKeepsItsRow) {
  const std::string text =
      R"({"judge":"J","judge_model":"j","item":"q1","a":{"model":"m1"},"b":{"model":"m2"},"verdict":"A","prob_a":0.7})"
      "\n"
      R"({"judge":"J","judge_model":"j","item":"q1","a":{"model":"m2"},"b":{"model":"m1"},"verdict":"B","prob_a":0.4})"
      "\n"
      R"({"judge":"J","judge_model":"j","item":"q2","a":{"model":"m2"},"b":{"model":"m3"},"verdict":"A"})"
      "\n"
      R"({"judge":"J","judge_model":"j","item":"q2","a":{"model":"m3"},"b":{"model":"m2"},"verdict":"tie"})"
      "\n";
  config cfg;
  cfg.baseline = "m1";
  const json m = sensitivity(text, cfg)["judges"]["J"]["models"];
  EXPECT_NEAR(value(m["m2"]["win_rate_each"]), 100 * (0.3 + 0.4) / 2, 1e-9);
  EXPECT_TRUE(m["m3"]["win_rate_each"]["value"].is_null());
  EXPECT_EQ(m["m3"]["win_rate_each"]["reason"], "no parsed record of the model against this opponent");
}
