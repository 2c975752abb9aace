// The judge-by-judge agreement matrix (docs/metrics.md "Judge by judge"): agreement and Cohen's κ of
// every two judges on a fixture worked by hand, pooled per judge, the heat map, and when it is skipped.
#include "judgebias/writers.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

std::string rec(const char* judge, int item, const char* verdict) {
  return std::string(R"({"judge":")") + judge + R"(","item":"i)" + std::to_string(item) +
         R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":)" + verdict + "}\n";
}

// Six items, x shown first, one record per judge:
//   J1: A A B B tie A      J2: A B B A tie A      J3: B B B B B null
std::string fixture() {
  const char* v1[] = {R"("A")", R"("A")", R"("B")", R"("B")", R"("tie")", R"("A")"};
  const char* v2[] = {R"("A")", R"("B")", R"("B")", R"("A")", R"("tie")", R"("A")"};
  const char* v3[] = {R"("B")", R"("B")", R"("B")", R"("B")", R"("B")", "null"};
  std::string t;
  for (int i = 0; i < 6; ++i)
    t += rec("J1", i + 1, v1[i]) + rec("J2", i + 1, v2[i]) + rec("J3", i + 1, v3[i]);
  return t;
}

report run_matrix(const std::string& text) {
  config cfg;
  cfg.modules = {"judge_agreement"};
  cfg.bootstrap = 0;
  return jbtest::run_text(text, cfg);
}

}  // namespace

TEST(JudgeAgreement, EveryTwoJudgesAndPooled) {
  const report r = run_matrix(fixture());
  const json m = r.to_json()["modules"]["judge_agreement"]["judges"];
  // J1–J2: equal on i1, i3, i5, i6 → 4/6. Margins (A, B, tie): J1 (3, 2, 1), J2 (3, 2, 1):
  // p_e = (9 + 4 + 1)/36 = 14/36, κ = (24/36 − 14/36)/(22/36) = 5/11.
  const json p12 = m["J1"]["by_opponent"]["J2"];
  EXPECT_DOUBLE_EQ(value(p12["agreement"]), 4.0 / 6.0);
  EXPECT_EQ(p12["agreement"]["n"], 6);
  EXPECT_NEAR(value(p12["kappa"]), 5.0 / 11.0, 1e-12);
  // The same pair under J2, the same numbers, interval and all.
  EXPECT_EQ(m["J2"]["by_opponent"]["J1"], p12);
  // J1–J3: i6 is J3's failure, 5 units; equal on i3, i4 → 2/5; J3 always says B, so p_e = 2·5/25 = p_o: κ 0.
  const json p13 = m["J1"]["by_opponent"]["J3"];
  EXPECT_DOUBLE_EQ(value(p13["agreement"]), 0.4);
  EXPECT_EQ(p13["agreement"]["n"], 5);
  EXPECT_NEAR(value(p13["kappa"]), 0.0, 1e-12);
  // J1 pooled over J2 and J3 (J1 on the rows): 11 units, 6 equal; rows (5, 4, 2), columns (3, 7, 1):
  // p_e = (15 + 28 + 2)/121 = 45/121, κ = (66 − 45)/(121 − 45) = 21/76.
  EXPECT_DOUBLE_EQ(value(m["J1"]["agreement"]), 6.0 / 11.0);
  EXPECT_NEAR(value(m["J1"]["kappa"]), 21.0 / 76.0, 1e-12);
  // J3 pooled: 10 units, 4 equal, always B: κ 0.
  EXPECT_DOUBLE_EQ(value(m["J3"]["agreement"]), 0.4);
  EXPECT_NEAR(value(m["J3"]["kappa"]), 0.0, 1e-12);
  // Cohen's large-sample interval of J1–J2's κ: ±z·√(p_o(1 − p_o)/(n(1 − p_e)²)), cut at 1 (here
  // 0.455 + 0.617).
  const double po = 4.0 / 6, pe = 14.0 / 36, se = std::sqrt(po * (1 - po) / (6 * (1 - pe) * (1 - pe)));
  EXPECT_NEAR(value(p12["kappa"]) - p12["kappa"]["ci"][0].get<double>(), stats::normal_quantile(0.975) * se,
              1e-9);
  EXPECT_DOUBLE_EQ(p12["kappa"]["ci"][1].get<double>(), 1.0);
  // The heat map: one cell per ordered pair of judges with its value.
  const std::string html = to_html(r);
  EXPECT_NE(html.find(R"(id="chart-judge_kappa" data-marks="6")"), std::string::npos);
  EXPECT_NE(html.find("<title>J1 vs J2: 0.455 ["), std::string::npos)
      << html.substr(html.find("chart-judge_kappa"), 3000);
  EXPECT_NE(html.find("<title>J2 vs J1: 0.455 ["), std::string::npos);
}

// A judge's pooled table is the sum of its pairs' tables seen from its side: J2 is the second judge of
// J1–J2 and the first of J2–J3, whose margins differ, so that a pair's table taken the wrong way round
// moves κ. Four items:  J1: A A A B   J2: A B B B   J3: B A B A
TEST(JudgeAgreement, PooledTablesAreThePairsSeenFromTheJudgesSide) {
  const char* v1[] = {R"("A")", R"("A")", R"("A")", R"("B")"};
  const char* v2[] = {R"("A")", R"("B")", R"("B")", R"("B")"};
  const char* v3[] = {R"("B")", R"("A")", R"("B")", R"("A")"};
  std::string t;
  for (int i = 0; i < 4; ++i)
    t += rec("J1", i + 1, v1[i]) + rec("J2", i + 1, v2[i]) + rec("J3", i + 1, v3[i]);
  const json m = run_matrix(t).to_json()["modules"]["judge_agreement"]["judges"];
  // J2 (rows) against J1: (A,A) (B,A) (B,A) (B,B); against J3: (A,B) (B,A) (B,B) (B,A). 8 units, 3 equal;
  // rows (A 2, B 6), columns (A 5, B 3): p_e = (10 + 18)/64 = 7/16, κ = (6/16 − 7/16)/(9/16) = −1/9.
  // (J1–J2's table not transposed would give rows (4, 4), columns (3, 5): p_e = 1/2, κ = −1/4.)
  EXPECT_DOUBLE_EQ(value(m["J2"]["agreement"]), 3.0 / 8.0);
  EXPECT_NEAR(value(m["J2"]["kappa"]), -1.0 / 9.0, 1e-12);
  EXPECT_EQ(m["J2"]["kappa"]["n"], 8);
}

TEST(JudgeAgreement, BootstrapIntervalsAreSymmetricInThePair) {
  config cfg;
  cfg.modules = {"judge_agreement"};
  cfg.bootstrap = 200;
  const json m = jbtest::run_text(fixture(), cfg).to_json()["modules"]["judge_agreement"]["judges"];
  EXPECT_EQ(m["J1"]["by_opponent"]["J2"]["kappa"], m["J2"]["by_opponent"]["J1"]["kappa"]);
  EXPECT_TRUE(m["J1"]["by_opponent"]["J2"]["kappa"]["ci"].is_array());
}

TEST(JudgeAgreement, SkippedWithoutTwoJudgesOnOneComparison) {
  const report r = run_matrix(rec("J1", 1, R"("A")") + rec("J2", 2, R"("B")"));
  ASSERT_EQ(r.modules.size(), 1u);
  EXPECT_EQ(r.modules[0].status, module_status::skipped);
  EXPECT_NE(r.modules[0].reason.find("no two judges"), std::string::npos);
}

// Gold judges are in the matrix too: every two of a gold panel's members get their κ (the panel's own
// noise), and the measured judges theirs with each member.
TEST(JudgeAgreement, GoldJudgesAreInTheMatrix) {
  config cfg;
  cfg.modules = {"judge_agreement"};
  cfg.bootstrap = 0;
  cfg.gold_judges = {"J2", "J3"};
  const json m = jbtest::run_text(fixture(), cfg).to_json()["modules"]["judge_agreement"]["judges"];
  EXPECT_NEAR(value(m["J1"]["by_opponent"]["J2"]["kappa"]), 5.0 / 11.0, 1e-12);
  EXPECT_DOUBLE_EQ(value(m["J2"]["by_opponent"]["J3"]["agreement"]), 0.4);
}

// Past 64 judges the matrix is left out (it grows with the square of the judges), saying so; each
// judge's pooled agreement is still written. A pointwise-only judge has no row.
TEST(JudgeAgreement, ManyJudgesGetThePooledNumbersOnly) {
  std::string text;
  for (int j = 0; j < 65; ++j)
    for (int i = 1; i <= 2; ++i)
      text += rec(("J" + std::to_string(j)).c_str(), i, i == 1 ? R"("A")" : R"("B")");
  text += R"({"judge":"P","item":"i1","response":{"id":"x"},"score":3})"
          "\n";
  const json m = run_matrix(text).to_json()["modules"]["judge_agreement"];
  EXPECT_NE(m["diagnostics"]["by_opponent_left_out"].get<std::string>().find("66 judges"), std::string::npos)
      << m["diagnostics"];
  EXPECT_FALSE(m["judges"]["J0"].contains("by_opponent"));
  // J0 against 64 others on 2 units, always equal: 128 of 128.
  EXPECT_DOUBLE_EQ(value(m["judges"]["J0"]["agreement"]), 1.0);
  EXPECT_EQ(m["judges"]["J0"]["agreement"]["n"], 128);
  EXPECT_FALSE(m["judges"].contains("P"));
}
