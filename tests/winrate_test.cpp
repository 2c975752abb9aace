// Win rates per judge and model (issue #16) on a hand-worked fixture.
#include <cmath>

#include "judgebias/diff.hpp"
#include "judgebias/gates.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/writers.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {

// Judge J (its own model, j, answers nothing here) on three models:
//   q1  m1 vs m2, both orders: m1 first "A", m2 first "B": m1 wins both; gold m1.
//   q2  m1 vs m3, both orders: m1 first "tie", m3 first "A" (m3 wins); gold a tie.
//   q3  m2 vs m3, both orders: m2 first "A" with prob_a 0.8 (m2's outcome 0.8), m3 first null (a
//       failure); no gold.
//   q4  m1 vs m3, one order: m1 first "B" with prob_a 0.3 (m1's outcome 0.3); gold m3.
std::string fixture() {
  auto line = [](const char* item, const char* a, const char* b, const char* rest) {
    return std::string(R"({"judge":"J","judge_model":"j","item":")") + item + R"(","a":{"model":")" + a +
           R"("},"b":{"model":")" + b + R"("},)" + rest + "}\n";
  };
  return line("q1", "m1", "m2", R"("verdict":"A","gold":"A")") +
         line("q1", "m2", "m1", R"("verdict":"B","gold":"B")") +
         line("q2", "m1", "m3", R"("verdict":"tie","gold":"tie")") +
         line("q2", "m3", "m1", R"("verdict":"A","gold":"tie")") +
         line("q3", "m2", "m3", R"("verdict":"A","prob_a":0.8)") +
         line("q3", "m3", "m2", R"("verdict":null)") +
         line("q4", "m1", "m3", R"("verdict":"B","prob_a":0.3,"gold":"B")");
}

json winrate(config cfg) {
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  return jbtest::run_text(fixture(), cfg).to_json()["modules"]["winrate"];
}

double v(const json& m) {
  return m["value"].get<double>();
}

}  // namespace

TEST(Winrate, AlpacaEvalsWinRateStandardErrorAndCounts) {
  const json w = winrate({});
  const json& m1 = w["judges"]["J"]["models"]["m1"];
  // m1's outcomes: q1 1, 1; q2 0.5, 0; q4 0.3 (prob_a): mean 2.8 / 5.
  EXPECT_NEAR(v(m1["win_rate"]), 56.0, 1e-9);
  EXPECT_EQ(m1["win_rate"]["n"], 5);
  // Sample sd (n - 1): squared deviations 0.1936 + 0.1936 + 0.0036 + 0.3136 + 0.0676 = 0.772, variance
  // 0.193; over sqrt(5): sqrt(0.0386).
  EXPECT_NEAR(v(m1["standard_error"]), 100 * std::sqrt(0.0386), 1e-9);
  EXPECT_TRUE(m1["standard_error"]["ci"].is_null());
  // Above, below, at one half: 1, 1 | 0, 0.3 | 0.5.
  EXPECT_TRUE(m1["n_wins"]["value"].is_number_integer());  // a count is written as a whole number
  EXPECT_EQ(m1["n_wins"]["value"], 2);
  EXPECT_EQ(m1["n_losses"]["value"], 2);
  EXPECT_EQ(m1["n_draws"]["value"], 1);
  EXPECT_NEAR(v(m1["discrete_win_rate"]), 100 * 2.5 / 5, 1e-9);
  // The gold's outcomes for m1 over the same records: q1 1, 1; q2 0.5, 0.5; q4 0: 3 / 5.
  EXPECT_NEAR(v(m1["gold_win_rate"]), 60.0, 1e-9);
  EXPECT_EQ(m1["gold_win_rate"]["n"], 5);
  EXPECT_NEAR(v(m1["by_opponent"]["m2"]["win_rate"]), 100.0, 1e-9);
  EXPECT_NEAR(v(m1["by_opponent"]["m3"]["win_rate"]), 100 * 0.8 / 3, 1e-9);
  // m2: q1 0, 0; q3 0.8 (q3's failure left out); gold only on q1: 0 of 2.
  const json& m2 = w["judges"]["J"]["models"]["m2"];
  EXPECT_NEAR(v(m2["win_rate"]), 100 * 0.8 / 3, 1e-9);
  EXPECT_EQ(m2["n_wins"]["value"], 1);
  EXPECT_NEAR(v(m2["gold_win_rate"]), 0.0, 1e-12);
  EXPECT_EQ(m2["gold_win_rate"]["n"], 2);
  // m3: q2 0.5, 1; q3 0.2; q4 0.7: 2.4 / 4.
  EXPECT_NEAR(v(w["judges"]["J"]["models"]["m3"]["win_rate"]), 60.0, 1e-9);
  EXPECT_EQ(w["diagnostics"]["extraction_failures_by_judge"]["J"], 1);
}

TEST(Winrate, ModelsNamedEmptyAreToldApartFromNone) {
  // m1 against a model named "": its pooled row and its row against "" are two rows, not one.
  const std::string text =
      R"({"judge":"J","item":"q","a":{"id":"x","model":"m1"},"b":{"id":"y","model":""},"verdict":"A"})"
      "\n";
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  const report r = jbtest::run_text(text, cfg);
  std::size_t m1_rows = 0, against_empty = 0;
  for (const auto& row : tidy_rows(r))
    if (row.metric == "win_rate" && row.model == "m1") {
      ++m1_rows;
      against_empty += row.per_opponent && row.opponent.empty();
    }
  EXPECT_EQ(m1_rows, 2u);
  EXPECT_EQ(against_empty, 1u);
}

TEST(Winrate, AgainstABaselineAndUnderAPairRule) {
  // --baseline m2: each model against m2 only, and m2 (only an opponent now) has no row of its own.
  config cfg;
  cfg.baseline = "m2";
  const json b = winrate(cfg);
  EXPECT_NEAR(v(b["judges"]["J"]["models"]["m1"]["win_rate"]), 100.0, 1e-9);
  EXPECT_NEAR(v(b["judges"]["J"]["models"]["m3"]["win_rate"]), 20.0, 1e-9);  // q3: 1 - 0.8
  EXPECT_FALSE(b["judges"]["J"]["models"].contains("m2"));
  EXPECT_EQ(b["diagnostics"]["baseline_found"], true);
  // A baseline that no answer is by: a warning in the report's diagnostics (a typo, most likely).
  config typo;
  typo.bootstrap = 0;
  typo.modules = {"winrate"};
  typo.baseline = "m22";
  const json t = jbtest::run_text(fixture(), typo).to_json();
  bool warned = false;
  for (const auto& w : t["diagnostics"]["warnings"])
    warned |=
        w.get<std::string>().find("--baseline: no answer in the input is by \"m22\"") != std::string::npos;
  EXPECT_TRUE(warned);
  // conservative: q1 a pair for m1 (1), q2 a pair that disagrees (a tie, 0.5), q4 alone and scored by its
  // verdict, not prob_a (m3 won: 0); q3's pair has a failure and is left out.
  config rule;
  rule.pair_rule = pair_rule::conservative;
  const json c = winrate(rule);
  EXPECT_NEAR(v(c["judges"]["J"]["models"]["m1"]["win_rate"]), 50.0, 1e-9);
  EXPECT_EQ(c["judges"]["J"]["models"]["m1"]["win_rate"]["n"], 3);
  // m2: q1's pair only (m1 won it): 0 of 1.
  EXPECT_NEAR(v(c["judges"]["J"]["models"]["m2"]["win_rate"]), 0.0, 1e-12);
  EXPECT_EQ(c["judges"]["J"]["models"]["m2"]["win_rate"]["n"], 1);
}

TEST(Winrate, ModelRowsInTheTidyFormsAndGates) {
  const report r = jbtest::run_text(fixture(), [] {
    config cfg;
    cfg.bootstrap = 0;
    cfg.modules = {"winrate"};
    return cfg;
  }());
  bool found = false;
  for (const auto& row : tidy_rows(r))
    if (row.metric == "win_rate" && row.model == "m1" && row.opponent == "m3") {
      found = true;
      EXPECT_NEAR(*row.value, 100 * 0.8 / 3, 1e-9);
      EXPECT_EQ(row.judge, "J");
    }
  EXPECT_TRUE(found);
  // A gate on a per-model metric is checked for every judge and model (not per opponent).
  module_registry registry;
  register_builtin_modules(registry);
  const auto results = check_gate(r, parse_gate("winrate.win_rate > 50", registry));
  std::size_t tripped = 0;
  for (const auto& g : results) tripped += g.tripped;
  EXPECT_EQ(results.size(), 3u);  // m1, m2, m3 of J
  EXPECT_EQ(tripped, 2u);         // m1 (56) and m3 (60)
  // The JSON read back gives the same rows, field by field (diff and --fail-if on a saved report).
  const report back = parse_report(r.dump(), "r.json");
  const auto before = tidy_rows(r), after = tidy_rows(back);
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t k = 0; k < before.size(); ++k) {
    EXPECT_EQ(after[k].model, before[k].model);
    EXPECT_EQ(after[k].per_model, before[k].per_model);
    EXPECT_EQ(after[k].opponent, before[k].opponent);
    EXPECT_EQ(after[k].metric, before[k].metric);
    EXPECT_EQ(after[k].value, before[k].value);
  }
  EXPECT_EQ(check_gate(back, parse_gate("winrate.win_rate > 50", registry)).size(), 3u);
  // Markdown: one table by model, one by model and opponent, each row labelled with both.
  const std::string md = to_markdown(r);
  EXPECT_NE(md.find("### by model, by opponent"), std::string::npos);
  EXPECT_NE(md.find("| J: m1 vs m3 |"), std::string::npos);
}
