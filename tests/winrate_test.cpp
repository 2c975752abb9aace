// Win rates per judge and model (issue #16) on a hand-worked fixture.
#include <cmath>

#include "judgebias/diff.hpp"
#include "judgebias/gates.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/writers.hpp"
#include "stats/bradley_terry.hpp"
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
  // The corrections. m1: every unit has gold (N = 0), so lambda is 0 and both are the gold's 60.
  EXPECT_NEAR(v(m1["corrected_win_rate"]), 60.0, 1e-9);
  EXPECT_NEAR(v(m1["corrected_win_rate_ppi"]), 60.0, 1e-9);
  // m2: labelled f = 0, 0 with Y = 0, 0; unlabelled q3 f = 0.8. Cov_n(Y, f) = 0, so lambda = 0 and
  // PPI++ gives the gold's 0; classical PPI gives 0.8 + mean(Y - f) = 0.8, with no closed-form
  // interval from one unlabelled unit.
  EXPECT_EQ(v(m2["correction_lambda"]), 0.0);
  EXPECT_NEAR(v(m2["corrected_win_rate"]), 0.0, 1e-12);
  EXPECT_NEAR(v(m2["corrected_win_rate_ppi"]), 80.0, 1e-9);
  EXPECT_TRUE(m2["corrected_win_rate_ppi"]["ci"].is_null());
  // m3: labelled f = 0.5, 1, 0.7 with Y = 0.5, 0.5, 1; unlabelled f = 0.2. Classical PPI: 0.2 +
  // (0 - 0.5 + 0.3)/3 = 0.1333. PPI++: Cov_n = (1.45 - 2.2 * 2/3)/3 < 0, clipped to lambda 0: the gold's
  // 2/3.
  const json& m3 = w["judges"]["J"]["models"]["m3"];
  EXPECT_NEAR(v(m3["corrected_win_rate_ppi"]), 100 * (0.2 - 0.2 / 3), 1e-9);
  EXPECT_EQ(v(m3["correction_lambda"]), 0.0);
  EXPECT_NEAR(v(m3["corrected_win_rate"]), 100 * 2.0 / 3, 1e-9);
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
  // --baseline m2: each model against m2 only, and m2 (only an opponent now) has no win rate of its own,
  // only its Bradley-Terry strength (0, the anchor) and rank.
  config cfg;
  cfg.baseline = "m2";
  const json b = winrate(cfg);
  EXPECT_NEAR(v(b["judges"]["J"]["models"]["m1"]["win_rate"]), 100.0, 1e-9);
  EXPECT_NEAR(v(b["judges"]["J"]["models"]["m3"]["win_rate"]), 20.0, 1e-9);  // q3: 1 - 0.8
  EXPECT_FALSE(b["judges"]["J"]["models"]["m2"].contains("win_rate"));
  EXPECT_FALSE(b["judges"]["J"]["models"]["m2"].contains("by_opponent"));
  EXPECT_EQ(b["judges"]["J"]["models"]["m2"]["bt_strength"]["value"], 0.0);
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

namespace {

// One pairwise line of judge J: m1 in slot A against m2, `verdict` and, when not empty, `gold`.
std::string m1_vs_m2(int item, const char* verdict, const char* gold, const char* a = "m1",
                     const char* b = "m2") {
  std::string line = R"({"judge":"J","judge_model":"j","item":"q)" + std::to_string(item) +
                     R"(","a":{"model":")" + a + R"("},"b":{"model":")" + b + R"("},"verdict":")" + verdict +
                     '"';
  if (*gold) line += R"(,"gold":")" + std::string(gold) + '"';
  return line + "}\n";
}

}  // namespace

TEST(Winrate, PredictionPoweredCorrectionClosedForms) {
  // m1 (slot A) against m2, one record per item. Judge's outcome f for m1, gold Y where labelled:
  //   q1 f 1 Y 1, q2 f 1 Y 0, q3 f 0 Y 0 (labelled, n = 3); q4 f 1, q5 f 0, q6 f 0 (unlabelled, N = 3).
  std::string text = m1_vs_m2(1, "A", "A") + m1_vs_m2(2, "A", "B") + m1_vs_m2(3, "B", "B") +
                     m1_vs_m2(4, "A", "") + m1_vs_m2(5, "B", "") + m1_vs_m2(6, "B", "");
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  const json w = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"];
  const json& m1 = w["judges"]["J"]["models"]["m1"];
  EXPECT_NEAR(v(m1["win_rate"]), 50.0, 1e-9);            // 3 of 6
  EXPECT_NEAR(v(m1["gold_win_rate"]), 100.0 / 3, 1e-9);  // 1 of 3
  // Classical PPI (lambda 1): mean_N(f) + mean_n(Y - f) = 1/3 + (1 - 2)/3 = 0.
  EXPECT_NEAR(v(m1["corrected_win_rate_ppi"]), 0.0, 1e-9);
  // Its variance: Var_N(f)/N + Var_n(Y - f)/n, f over q4..q6 = 1, 0, 0 (sample variance 1/3) and
  // Y - f = 0, -1, 0 (1/3): 1/9 + 1/9 = 2/9; the interval 0 ± 1.96 sqrt(2/9), not cut at 0 (the
  // estimate itself can leave [0, 100]).
  EXPECT_NEAR(m1["corrected_win_rate_ppi"]["ci"][0].get<double>(),
              -100 * 1.959963984540054 * std::sqrt(2.0 / 9), 1e-6);
  EXPECT_NEAR(m1["corrected_win_rate_ppi"]["ci"][1].get<double>(),
              100 * 1.959963984540054 * std::sqrt(2.0 / 9), 1e-6);
  // PPI++: Var over all six f (sum 3, sum of squares 3) = (3 - 9/6)/5 = 0.3; Cov_n(Y, f) over the labelled
  // = (sum Yf - sum Y sum f / n) / n = (1 - 1 * 2/3)/3 = 1/9; lambda = (1/9) / ((1 + 3/3) 0.3) = 5/27.
  const double lambda = 5.0 / 27;
  EXPECT_NEAR(v(m1["correction_lambda"]), lambda, 1e-12);
  // theta = lambda * 1/3 + (1 - 2 lambda)/3 = (1 - lambda)/3 = 22/81.
  EXPECT_NEAR(v(m1["corrected_win_rate"]), 100 * 22.0 / 81, 1e-9);
  // Variance: lambda^2 (1/3)/3 + Var_n(Y - lambda f)/3, the residuals 22/27, -5/27, 0 about their mean
  // 17/81: (49^2 + 32^2 + 17^2)/81^2 / 2 = 3714/13122.
  const double se = std::sqrt(lambda * lambda / 9 + 3714.0 / 13122 / 3);
  EXPECT_NEAR(m1["corrected_win_rate"]["ci"][0].get<double>(), 100 * (22.0 / 81 - 1.959963984540054 * se),
              1e-6);
  EXPECT_NEAR(m1["corrected_win_rate"]["ci"][1].get<double>(), 100 * (22.0 / 81 + 1.959963984540054 * se),
              1e-6);
  // m2's outcomes are 1 - m1's: the same lambda, the complement of the estimate.
  const json& m2 = w["judges"]["J"]["models"]["m2"];
  EXPECT_NEAR(v(m2["corrected_win_rate"]), 100 * (1 - 22.0 / 81), 1e-9);
  EXPECT_NEAR(v(m2["corrected_win_rate_ppi"]), 100.0, 1e-9);
}

// A labelled tie makes Σ f² differ from Σ f among the labelled units, which the variance reads (the module
// keeps the labelled sums per item only when some units lack gold).
TEST(Winrate, PredictionPoweredVarianceWithALabelledTie) {
  // m1 against m2: q1 f 1 Y 1, q2 f ½ (a tie) Y 0, q3 f 0 Y 0 (labelled, n = 3); q4 f 1, q5 f 0 (N = 2).
  std::string text = m1_vs_m2(1, "A", "A") + m1_vs_m2(2, "tie", "B") + m1_vs_m2(3, "B", "B") +
                     m1_vs_m2(4, "A", "") + m1_vs_m2(5, "B", "");
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  const json m1 = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  // Classical PPI: mean_N(f) + mean_n(Y - f) = 1/2 + (0 - 1/2 + 0)/3 = 1/3. Var_N(f) = 1/2 over 2 units;
  // Y - f = 0, -1/2, 0 about their mean -1/6: squares 1/36 + 4/36 + 1/36, sample variance 1/12, over 3
  // units. Variance 1/4 + 1/36 = 5/18.
  EXPECT_NEAR(v(m1["corrected_win_rate_ppi"]), 100.0 / 3, 1e-9);
  const double half = 1.959963984540054 * std::sqrt(5.0 / 18);
  EXPECT_NEAR(m1["corrected_win_rate_ppi"]["ci"][0].get<double>(), 100 * (1.0 / 3 - half), 1e-6);
  EXPECT_NEAR(m1["corrected_win_rate_ppi"]["ci"][1].get<double>(), 100 * (1.0 / 3 + half), 1e-6);
}

TEST(Winrate, CorrectionIsTheGoldsRateWhenEveryRecordHasGoldAndNullWithoutGold) {
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  const json all =
      jbtest::run_text(m1_vs_m2(1, "A", "B") + m1_vs_m2(2, "A", "A") + m1_vs_m2(3, "B", "B"), cfg)
          .to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  EXPECT_NEAR(v(all["corrected_win_rate"]), 100.0 / 3, 1e-9);  // no unlabelled record: lambda 0
  EXPECT_NEAR(v(all["corrected_win_rate_ppi"]), 100.0 / 3, 1e-9);
  EXPECT_EQ(v(all["correction_lambda"]), 0.0);
  const json none = jbtest::run_text(m1_vs_m2(1, "A", "") + m1_vs_m2(2, "B", ""), cfg)
                        .to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  EXPECT_TRUE(none["corrected_win_rate"]["value"].is_null());
  EXPECT_EQ(none["corrected_win_rate"]["reason"], "no record of the model against this opponent has gold");
}

TEST(Winrate, BradleyTerryOfTwoModelsHasAClosedForm) {
  // m1 against m2: a win, a win, a tie, a loss: m1 scores 2.5 of 4, p = 0.625. The gold: m2, m2, m2, m1.
  const std::string text =
      m1_vs_m2(1, "A", "B") + m1_vs_m2(2, "A", "B") + m1_vs_m2(3, "tie", "B") + m1_vs_m2(4, "B", "A");
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  json w = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"];
  // The maximum sets sigma(b1 - b2) = 2.5/4: b1 - b2 = logit(0.625) = ln(5/3); the mean at 0 halves it.
  const double d = std::log(5.0 / 3);
  EXPECT_NEAR(v(w["m1"]["bt_strength"]), d / 2, 1e-9);
  EXPECT_NEAR(v(w["m2"]["bt_strength"]), -d / 2, 1e-9);
  // Fisher information of the difference n p (1 - p) = 4 * 0.625 * 0.375 = 0.9375; b1 = (b1 - b2)/2.
  const double se = std::sqrt(1 / 0.9375) / 2, z = 1.959963984540054;
  EXPECT_NEAR(w["m1"]["bt_strength"]["ci"][0].get<double>(), d / 2 - z * se, 1e-7);
  EXPECT_NEAR(w["m1"]["bt_strength"]["ci"][1].get<double>(), d / 2 + z * se, 1e-7);
  EXPECT_EQ(w["m1"]["bt_strength"]["n"], 4);
  // The gold: m1 scores 1 of 4, logit(0.25) = -ln 3.
  EXPECT_NEAR(v(w["m1"]["gold_bt_strength"]), -std::log(3.0) / 2, 1e-9);
  EXPECT_EQ(w["m1"]["rank"]["value"], 1);
  EXPECT_EQ(w["m1"]["gold_rank"]["value"], 2);
  EXPECT_EQ(w["m1"]["rank_shift"]["value"], -1);  // the judge moves m1 up one place
  EXPECT_EQ(w["m2"]["rank_shift"]["value"], 1);
  EXPECT_TRUE(w["m1"]["rank"]["ci"].is_null());
  EXPECT_EQ(w["m1"]["rank"]["reason"], "no closed-form interval (the bootstrap gives one)");
  // Anchored at the baseline m2: b1 = ln(5/3) with the whole difference's standard error; m2 has its
  // strength (0) and rank, no win rate against itself.
  cfg.baseline = "m2";
  w = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"];
  EXPECT_NEAR(v(w["m1"]["bt_strength"]), d, 1e-9);
  EXPECT_NEAR(w["m1"]["bt_strength"]["ci"][1].get<double>(), d + z * 2 * se, 1e-7);
  EXPECT_EQ(v(w["m2"]["bt_strength"]), 0.0);
  EXPECT_EQ(w["m2"]["rank"]["value"], 2);
  EXPECT_FALSE(w["m2"].contains("win_rate"));
}

TEST(Winrate, BradleyTerryHasNoFiniteMaximumWhenAModelLosesEverything) {
  // m3 loses both its comparisons: its strength would be minus infinity, so no model has a fit.
  const std::string text = m1_vs_m2(1, "A", "B") + m1_vs_m2(2, "B", "A") + m1_vs_m2(3, "A", "", "m1", "m3") +
                           m1_vs_m2(4, "B", "", "m3", "m2");
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"winrate"};
  const json w = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"];
  for (const char* m : {"m1", "m2", "m3"}) {
    EXPECT_TRUE(w[m]["bt_strength"]["value"].is_null()) << m;
    EXPECT_NE(w[m]["bt_strength"]["reason"].get<std::string>().find("no finite maximum"), std::string::npos);
    EXPECT_TRUE(w[m]["rank_shift"]["value"].is_null());
  }
  // The gold saw m1 and m2 only, each winning once: equal strengths, both first.
  EXPECT_NEAR(v(w["m1"]["gold_bt_strength"]), 0.0, 1e-9);
  EXPECT_EQ(w["m2"]["gold_rank"]["value"], 1);
  EXPECT_EQ(w["m3"]["gold_bt_strength"]["reason"], "no comparison of the model has gold");
}

TEST(Winrate, BootstrapRankIntervalsAreWholeRanks) {
  // Three close models in a round robin (m1 a little ahead), so that resampled ranks spread over 1..3
  // and their percentiles fall between ranks before they are widened.
  std::string text;
  for (int i = 0; i < 40; ++i) text += m1_vs_m2(i, i % 3 == 0 ? "B" : "A", i % 2 ? "A" : "B");
  for (int i = 40; i < 70; ++i) text += m1_vs_m2(i, i % 2 ? "A" : "B", i % 2 ? "B" : "A", "m2", "m3");
  for (int i = 70; i < 100; ++i) text += m1_vs_m2(i, i % 5 < 2 ? "A" : "B", i % 2 ? "A" : "B", "m3", "m1");
  config cfg;
  cfg.bootstrap = 200;
  cfg.seed = 2;  // with this draw m3's rank_shift interval starts at -1.025 before it is widened to -2
  cfg.modules = {"winrate"};
  const json m1 = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  const json models = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"];
  int spread = 0;  // intervals that span more than one rank
  for (const char* m : {"m1", "m2", "m3"})
    for (const char* name : {"rank", "gold_rank", "rank_shift"}) {
      ASSERT_TRUE(models[m][name]["ci"].is_array()) << m << " " << name;
      const double lo = models[m][name]["ci"][0].get<double>(), hi = models[m][name]["ci"][1].get<double>();
      EXPECT_EQ(lo, std::round(lo)) << m << " " << name;
      EXPECT_EQ(hi, std::round(hi)) << m << " " << name;
      spread += hi > lo;
    }
  EXPECT_GT(spread, 3);
  EXPECT_EQ(m1["rank"]["value"], 1);  // 26 of 40 wins
  // The strength's interval holds its value.
  EXPECT_LT(m1["bt_strength"]["ci"][0].get<double>(), v(m1["bt_strength"]));
  EXPECT_GT(m1["bt_strength"]["ci"][1].get<double>(), v(m1["bt_strength"]));
}

TEST(Winrate, ASparseModelLeavesTheOthersTheirBootstrapIntervals) {
  // m1, m2, m3 in a round robin of 60 items; m4 on two items only, winning both: in most resamples m4
  // has no game or won all it has, so it cannot be fitted there, while the others still can.
  std::string text;
  for (int i = 0; i < 20; ++i) text += m1_vs_m2(i, i % 3 ? "A" : "B", "");
  for (int i = 20; i < 40; ++i) text += m1_vs_m2(i, i % 3 ? "A" : "B", "", "m2", "m3");
  for (int i = 40; i < 60; ++i) text += m1_vs_m2(i, i % 3 ? "B" : "A", "", "m1", "m3");
  text += m1_vs_m2(60, "A", "", "m4", "m1") + m1_vs_m2(61, "B", "", "m2", "m4") +
          m1_vs_m2(62, "B", "", "m4", "m3");
  config cfg;
  cfg.bootstrap = 300;
  cfg.modules = {"winrate"};
  const json w = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"];
  // m4 lost once (q62: m3 picked), so the whole fit exists and every model has a strength.
  for (const char* m : {"m1", "m2", "m3", "m4"}) ASSERT_TRUE(w[m]["bt_strength"]["value"].is_number()) << m;
  for (const char* m : {"m1", "m2", "m3"}) {
    EXPECT_TRUE(w[m]["bt_strength"]["ci"].is_array()) << m << ": " << w[m]["bt_strength"].value("reason", "");
    EXPECT_TRUE(w[m]["rank"]["ci"].is_array()) << m;
  }
  EXPECT_TRUE(w["m4"]["bt_strength"]["ci"].is_null());
  EXPECT_EQ(w["m4"]["bt_strength"]["reason"].get<std::string>().rfind(
                "bootstrap: the model cannot be fitted under the judge in ", 0),
            0u);
}

TEST(Winrate, OneItemHasNothingToResample) {
  config cfg;
  cfg.bootstrap = 100;
  cfg.modules = {"winrate"};
  // One item, both orders, each won by the model shown first: a finite fit, one cluster.
  const json m1 = jbtest::run_text(m1_vs_m2(1, "A", "") + m1_vs_m2(1, "A", "", "m2", "m1"), cfg)
                      .to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  ASSERT_TRUE(m1["bt_strength"]["value"].is_number());
  EXPECT_EQ(m1["bt_strength"]["reason"], "the data come from a single item: nothing to resample");
}

// Gold only on comparisons the module leaves out (one model against itself, an answer without a model):
// the module counts no unit with gold, keeps the 5 sums per item of a measurement without gold, and
// measures the others, bootstrap included.
TEST(Winrate, GoldOnlyOnComparisonsLeftOutLeavesTheOthersWithoutGold) {
  config cfg;
  cfg.bootstrap = 100;
  cfg.modules = {"winrate"};
  const std::string same_model =
      R"({"judge":"J","judge_model":"j","item":"q5","a":{"id":"x","model":"m1"},"b":{"id":"y","model":"m1"},)"
      R"("verdict":"A","gold":"A"})"
      "\n";
  const std::string no_model =
      R"({"judge":"J","judge_model":"j","item":"q6","a":{"id":"x","model":"m1"},"b":{"id":"y"},)"
      R"("verdict":"A","gold":"B"})"
      "\n";
  // m1 against m2 without gold: m1 wins q1, q3 and q4, m2 wins q2.
  const std::string text = m1_vs_m2(1, "A", "") + m1_vs_m2(2, "B", "") + m1_vs_m2(3, "A", "") +
                           m1_vs_m2(4, "A", "") + same_model + no_model;
  const json m1 = jbtest::run_text(text, cfg).to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"];
  EXPECT_NEAR(v(m1["win_rate"]), 75.0, 1e-9);
  EXPECT_EQ(m1["win_rate"]["n"], 4);
  EXPECT_TRUE(m1["win_rate"]["ci"].is_array());
  EXPECT_TRUE(m1["gold_win_rate"]["value"].is_null());
  EXPECT_EQ(m1["gold_win_rate"]["reason"], "no record of the model against this opponent has gold");
  EXPECT_TRUE(m1["corrected_win_rate"]["value"].is_null());
}

namespace {

// The values of every metric in a module's section, by path, and nothing else.
void values_of(const json& j, const std::string& at, std::map<std::string, json>& out) {
  if (j.is_object() && j.contains("value") && j.contains("n")) {
    out[at] = j["value"];
    return;
  }
  if (j.is_object())
    for (const auto& [k, x] : j.items()) {
      std::string path = at;
      path.append("/").append(k);
      values_of(x, path, out);
    }
}

}  // namespace

// At --bootstrap 0 the module keeps no per-item rows, only their totals; the values must be those of the
// kept rows (with the bootstrap) bit for bit, whatever the order of the lines (the dataset numbers the
// comparisons item by item, so the module meets each item's together; item_sums' own test covers the
// case where they are not). prob_a makes the outcomes fractions whose sums depend on the order.
TEST(Winrate, ValuesWithoutBootstrapAreBitIdenticalToThoseWithRowsKept) {
  const char* models[] = {"m1", "m2", "m3"};
  auto line = [&](int item, int a, int b, int k) {
    const double p = (static_cast<double>((k * 37 + 11) % 97) + 1e-3 * k) / 97.2;  // a fraction in (0, 1)
    return R"({"judge":"J","judge_model":"j","item":"q)" + std::to_string(item) + R"(","a":{"model":")" +
           models[a] + R"("},"b":{"model":")" + models[b] + R"("},"verdict":")" + (p > 0.5 ? "A" : "B") +
           R"(","prob_a":)" + std::to_string(p) + (item % 3 ? R"(,"gold":"A")" : "") + "}\n";
  };
  // Grouped: each item's three model pairs together. Apart: all items' m1-m2 first, then m1-m3, m2-m3.
  std::string grouped, apart;
  int k = 0;
  for (int item = 0; item < 40; ++item)
    for (const auto& [a, b] : {std::pair(0, 1), std::pair(0, 2), std::pair(1, 2)})
      grouped += line(item, a, b, k++);
  k = 0;
  std::vector<std::string> lines(120);
  for (int item = 0; item < 40; ++item)
    for (int pair = 0; pair < 3; ++pair) {
      const auto [a, b] = std::array{std::pair(0, 1), std::pair(0, 2), std::pair(1, 2)}[pair];
      lines[pair * 40 + item] = line(item, a, b, k++);
    }
  for (const auto& l : lines) apart += l;
  for (const std::string* text : {&grouped, &apart}) {
    config cfg;
    cfg.modules = {"winrate"};
    cfg.bootstrap = 0;
    std::map<std::string, json> without, with;
    values_of(jbtest::run_text(*text, cfg).to_json()["modules"]["winrate"], "", without);
    cfg.bootstrap = 20;
    values_of(jbtest::run_text(*text, cfg).to_json()["modules"]["winrate"], "", with);
    ASSERT_GT(without.size(), 20u);
    EXPECT_EQ(without, with) << (text == &grouped ? "grouped" : "apart");
  }
}

// The Bradley–Terry bootstrap worked out again from its definition: resample b draws the judge's items
// with replacement (stats::resample_counts on the measurement's stream), each model pair's score and games
// are the sums over the drawn items, in item order, and the fit of those games gives m1's strength; the
// interval is the percentiles of the strengths. Soft outcomes (prob_a) make the sums depend on their order.
// Four models with all six pairs on every item take the module's one product over a dense item × pair
// table; five models with one of their ten pairs per item, its entry-by-entry sums.
TEST(Winrate, BradleyTerryBootstrapIsTheFitOfEachResamplesPairSums) {
  for (const std::size_t models : {4u, 5u}) {
    std::vector<std::pair<std::size_t, std::size_t>> pairs;  // in the order the file first shows them
    for (std::size_t a = 0; a < models; ++a)
      for (std::size_t b = a + 1; b < models; ++b) pairs.emplace_back(a, b);
    const bool every_pair = models == 4;
    const std::size_t items = 60;
    // score[i][p]: m_a's outcome (prob_a, model a shown first) on item i against b, or -1 without a game.
    std::vector<std::vector<double>> score(items, std::vector<double>(pairs.size(), -1));
    std::string text;
    for (std::size_t i = 0; i < items; ++i)
      for (std::size_t p = 0; p < pairs.size(); ++p) {
        if (!every_pair && p != i % pairs.size()) continue;
        score[i][p] = static_cast<double>((i * 7 + p * 3) % 10 + 1) / 11.0;
        text += R"({"judge":"J","judge_model":"j","item":"q)" + std::to_string(i) + R"(","a":{"model":"m)" +
                std::to_string(pairs[p].first + 1) + R"("},"b":{"model":"m)" +
                std::to_string(pairs[p].second + 1) + R"("},"verdict":"A","prob_a":)" +
                json(score[i][p]).dump() + "}\n";
      }
    config cfg;
    cfg.bootstrap = 200;
    cfg.modules = {"winrate"};
    const json m1 = jbtest::run_text(text, cfg)
                        .to_json()["modules"]["winrate"]["judges"]["J"]["models"]["m1"]["bt_strength"];
    ASSERT_TRUE(m1["ci"].is_array()) << models << " models: " << m1.dump();

    const std::uint64_t stream = stats::stream_seed(cfg.seed, {"winrate", "J", "", "bradley-terry"});
    std::vector<double> strengths(cfg.bootstrap);
    std::vector<std::uint32_t> counts(items);
    for (std::uint32_t b = 0; b < cfg.bootstrap; ++b) {
      std::fill(counts.begin(), counts.end(), 0u);
      stats::resample_counts(stream, b, counts);
      std::vector<detail::bt_games> games;
      for (std::size_t p = 0; p < pairs.size(); ++p) {
        double won = 0, played = 0;
        for (std::size_t i = 0; i < items; ++i) {
          if (score[i][p] < 0) continue;
          const volatile double w = counts[i] * score[i][p];  // rounded, not fused with the sum
          won += w, played += counts[i];
        }
        if (played > 0)
          games.push_back({static_cast<std::uint32_t>(pairs[p].first),
                           static_cast<std::uint32_t>(pairs[p].second), won, played});
      }
      const detail::bt_fit f = detail::fit_bradley_terry_fittable(models, games, std::nullopt);
      strengths[b] = f.ok ? f.strength[0] : std::nan("");
    }
    const stats::percentile_result expected = stats::percentile_interval(strengths, cfg.confidence);
    ASSERT_TRUE(expected.ci) << models;
    EXPECT_EQ(m1["ci"][0].get<double>(), (*expected.ci)[0]) << models << " models";
    EXPECT_EQ(m1["ci"][1].get<double>(), (*expected.ci)[1]) << models << " models";
  }
}

// Outcomes of 1, ½ or 0 take one tally per model pair, each model's side of it mirrored from the other's
// and summed over its opponents; prob_a takes a tally per model and opponent. The same outcomes given as
// prob_a of exactly 1, 0 and ½ (with `each`, a record's outcome is its prob_a) take the second way: every
// value and every bootstrap interval must be the same to the bit, gold on some units (ties among them)
// and with a baseline. Four models, all six pairs on each of 30 items in both orders, a failure now and
// then.
TEST(Winrate, OneTallyPerModelPairMirrorsToTheBitOfATallyPerSide) {
  const char* models[] = {"m1", "m2", "m3", "m4"};
  const char* verdicts[] = {"A", "B", "tie", "A", "B"};
  auto file = [&](bool with_prob_a) {
    std::string text;
    int k = 0;
    for (int item = 0; item < 30; ++item)
      for (int x = 0; x < 4; ++x)
        for (int b = 0; b < 4; ++b) {
          // (On odd items the models come in reverse order, so that the lower model id is the
          // comparison's higher candidate id: its side is the tally's mirror.)
          const int a = item % 2 ? 3 - x : x;
          if (a == b) continue;
          ++k;
          const char* v = verdicts[(k * 7 + item) % 5];
          const bool failure = k % 23 == 0;
          text += R"({"judge":"J","judge_model":"j","item":"q)" + std::to_string(item) +
                  R"(","a":{"model":")" + models[a] + R"("},"b":{"model":")" + models[b] +
                  R"("},"verdict":)" + (failure ? std::string("null") : "\"" + std::string(v) + "\"");
          if (with_prob_a && !failure)
            text += std::string(R"(,"prob_a":)") + (v[0] == 'A' ? "1" : v[0] == 'B' ? "0" : "0.5");
          // Gold on two items in three: the pair's lower model, its higher one, or a tie, in this order's
          // terms (the same in both orders).
          if (item % 3 != 0) {
            const int g = (item + a + b) % 3, winner = g == 0 ? std::min(a, b) : std::max(a, b);
            text += std::string(R"(,"gold":")") + (g == 2 ? "tie" : winner == a ? "A" : "B") + "\"";
          }
          text += "}\n";
        }
    return text;
  };
  const std::string pairs = file(false), sides = file(true);
  for (const std::string baseline : {"", "m2"}) {
    config cfg;
    cfg.modules = {"winrate"};
    cfg.bootstrap = 200;
    cfg.baseline = baseline;
    const json x = jbtest::run_text(pairs, cfg).to_json()["modules"]["winrate"];
    const json y = jbtest::run_text(sides, cfg).to_json()["modules"]["winrate"];
    std::map<std::string, json> vx, vy;
    values_of(x, "", vx);
    ASSERT_GT(vx.size(), 100u);
    EXPECT_EQ(x.dump(), y.dump()) << baseline;
    // One side's units are the other's: m1's and m3's win rates against each other add up to 100.
    const json& m = x["judges"]["J"]["models"]["m1"]["by_opponent"]["m3"];
    const json& o = x["judges"]["J"]["models"]["m3"]["by_opponent"]["m1"];
    EXPECT_EQ(v(m["win_rate"]) + v(o["win_rate"]), 100.0);
    EXPECT_EQ(v(m["n_wins"]), v(o["n_losses"]));
    // The Bradley–Terry metrics, resampled after the tallies, keep their place before by_opponent.
    std::vector<std::string> keys;
    for (const auto& [key, value] : x["judges"]["J"]["models"]["m1"].items()) keys.push_back(key);
    const std::vector<std::string> order = {"win_rate",
                                            "standard_error",
                                            "n_wins",
                                            "n_losses",
                                            "n_draws",
                                            "discrete_win_rate",
                                            "gold_win_rate",
                                            "corrected_win_rate",
                                            "corrected_win_rate_ppi",
                                            "correction_lambda",
                                            "bt_strength",
                                            "rank",
                                            "gold_bt_strength",
                                            "gold_rank",
                                            "rank_shift",
                                            "by_opponent"};
    EXPECT_EQ(keys, order);
    EXPECT_TRUE(x["judges"]["J"]["models"]["m1"]["bt_strength"]["ci"].is_array());
    EXPECT_NE(v(x["judges"]["J"]["models"]["m4"]["gold_win_rate"]), 50.0);  // the gold is not all ties
    ASSERT_TRUE(m["win_rate"]["ci"].is_array());
  }
}
