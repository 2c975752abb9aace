// Gold noise (docs/metrics.md "Gold noise"): Fleiss' kappa of a three-judge gold panel and the pairwise DBG
// with each gold judge left out, worked by hand.
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

std::string rec(const std::string& judge, int item, char verdict) {
  return R"({"judge":")" + judge + R"(","judge_model":"m1","item":"i)" + std::to_string(item) +
         R"(","a":{"id":"x","model":"m1"},"b":{"id":"y","model":"m2"},"verdict":")" +
         std::string(1, verdict) + "\"}\n";
}

// Items i1..i4, x (by m1, the judges' own model) shown first. Gold judges G1, G2, G3:
//   i1: A A B   i2: B B A   i3: A B B   i4: A A A
// Judge J says A A B A (own picked on i1, i2, i4); judge K says A B B A (own on i1, i4).
std::string fixture() {
  const std::string g1 = "ABAA", g2 = "ABBA", g3 = "BABA", j = "AABA", k = "ABBA";
  std::string t;
  for (int i = 0; i < 4; ++i)
    t += rec("G1", i + 1, g1[i]) + rec("G2", i + 1, g2[i]) + rec("G3", i + 1, g3[i]) + rec("J", i + 1, j[i]) +
         rec("K", i + 1, k[i]);
  return t;
}

}  // namespace

TEST(GoldNoise, LeaveOneOutAndFleissKappa) {
  config cfg;
  cfg.modules = {"gold_noise"};
  cfg.bootstrap = 0;
  cfg.gold_judges = {"G1", "G2", "G3"};
  const json g = jbtest::run_text(fixture(), cfg).to_json()["modules"]["gold_noise"];
  ASSERT_EQ(g["status"], "ok") << g;
  // The whole panel: majorities A B B A, so the gold picks own on i1, i4 (50 %). J picks own 75 %:
  // DBG +25; K 50 %: DBG 0.
  EXPECT_DOUBLE_EQ(value(g["judges"]["J"]["dbg_pairwise"]), 25.0);
  EXPECT_DOUBLE_EQ(value(g["judges"]["K"]["dbg_pairwise"]), 0.0);
  // Without G1 (G2, G3: tie, tie, B, A → 0.5, 0.5, 0, 1 → 50 %): J +25, K 0. Without G2 (G1, G3: tie,
  // tie, tie, A → 62.5 %): J +12.5, K −12.5. Without G3 (G1, G2: A, B, tie, A → 62.5 %): the same.
  EXPECT_DOUBLE_EQ(value(g["kinds"]["G1"]["judges"]["J"]["dbg_pairwise"]), 25.0);
  EXPECT_DOUBLE_EQ(value(g["kinds"]["G2"]["judges"]["J"]["dbg_pairwise"]), 12.5);
  EXPECT_DOUBLE_EQ(value(g["kinds"]["G3"]["judges"]["K"]["dbg_pairwise"]), -12.5);
  EXPECT_DOUBLE_EQ(value(g["judges"]["J"]["dbg_pairwise_loo_min"]), 12.5);
  EXPECT_DOUBLE_EQ(value(g["judges"]["J"]["dbg_pairwise_loo_max"]), 25.0);
  EXPECT_DOUBLE_EQ(value(g["judges"]["J"]["sign_changes"]), 0.0);
  // K's DBG of 0 turns negative without G2 and without G3.
  EXPECT_DOUBLE_EQ(value(g["judges"]["K"]["dbg_pairwise_loo_min"]), -12.5);
  EXPECT_DOUBLE_EQ(value(g["judges"]["K"]["sign_changes"]), 2.0);
  // Fleiss: P_u = 1/3, 1/3, 1/3, 1 → P̄ = 1/2; p_A = 7/12, p_B = 5/12 → P_e = 74/144;
  // κ = (72 − 74)/(144 − 74) = −1/35.
  EXPECT_DOUBLE_EQ(value(g["overall"]["panel_agreement"]), 0.5);
  EXPECT_NEAR(value(g["overall"]["fleiss_kappa"]), -1.0 / 35.0, 1e-12);
  EXPECT_EQ(g["overall"]["fleiss_kappa"]["n"], 4);
}

TEST(GoldNoise, BootstrapGivesThePanelAnInterval) {
  config cfg;
  cfg.modules = {"gold_noise"};
  cfg.bootstrap = 200;
  cfg.gold_judges = {"G1", "G2", "G3"};
  const json g = jbtest::run_text(fixture(), cfg).to_json()["modules"]["gold_noise"];
  EXPECT_TRUE(g["overall"]["panel_agreement"]["ci"].is_array()) << g["overall"];
}

TEST(GoldNoise, SkippedWithoutAPanel) {
  config cfg;
  cfg.modules = {"gold_noise"};
  const report r = jbtest::run_text(fixture(), cfg);
  EXPECT_EQ(r.modules[0].status, module_status::skipped);
  EXPECT_NE(r.modules[0].reason.find("--gold-judges"), std::string::npos);
  cfg.gold_judges = {"G1"};
  EXPECT_EQ(jbtest::run_text(fixture(), cfg).modules[0].status, module_status::skipped);
}

// The two-level bootstrap (--gold-bootstrap). Eight items alike: G1 and G2 say the own response (A), G3
// the other (B), and J picks its own. The whole panel's gold is own, so J's DBG is 0, and resampling the
// items alone can never move it (every item is the same). Drawing the three gold judges with
// replacement, G3 is drawn at least twice in 3 (1/3)² (2/3) + (1/3)³ = 7/27 of the draws; then the gold is
// the other response and the DBG +100. So about 26 % of the resamples give +100 and 74 % give 0: the
// 95 % interval is [0, +100], the panel's own noise, where the closed form has no width at all.
TEST(GoldNoise, TwoLevelBootstrapCarriesThePanelsNoise) {
  std::string t;
  for (int i = 1; i <= 8; ++i)
    t += rec("G1", i, 'A') + rec("G2", i, 'A') + rec("G3", i, 'B') + rec("J", i, 'A');
  config cfg;
  cfg.modules = {"gold_noise"};
  cfg.gold_judges = {"G1", "G2", "G3"};
  cfg.bootstrap = 400;
  const json closed =
      jbtest::run_text(t, cfg).to_json()["modules"]["gold_noise"]["judges"]["J"]["dbg_pairwise"];
  EXPECT_DOUBLE_EQ(value(closed), 0.0);
  cfg.gold_bootstrap = true;
  const report r = jbtest::run_text(t, cfg);
  const json m = r.to_json()["modules"]["gold_noise"]["judges"]["J"]["dbg_pairwise"];
  EXPECT_DOUBLE_EQ(value(m), 0.0);
  ASSERT_TRUE(m["ci"].is_array()) << m;
  EXPECT_DOUBLE_EQ(m["ci"][0].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(m["ci"][1].get<double>(), 100.0);
  EXPECT_EQ(r.to_json()["config"]["gold_bootstrap"], true);
  // Its mde follows its own interval: 1.4294 x 50. A panel without one gold judge is not a headline.
  EXPECT_NEAR(m["mde"].get<double>(), 1.4294065 * 50, 1e-4);
  EXPECT_FALSE(
      r.to_json()["modules"]["gold_noise"]["kinds"]["G1"]["judges"]["J"]["dbg_pairwise"].contains("mde"));
  cfg.bootstrap = 0;  // nothing to resample the panel within
  EXPECT_THROW(jbtest::run_text(t, cfg), usage_error);
  cfg.bootstrap = 400;
  cfg.modules = {"self_preference"};  // the option would do nothing
  EXPECT_THROW(jbtest::run_text(t, cfg), usage_error);
  cfg.modules = {"gold_noise"};
  cfg.gold_judges.clear();
  EXPECT_THROW(jbtest::run_text(t, cfg), usage_error);
}

// A gold judge who never judged J's items (G3 judges item 9 only): the three draws are all G3 in
// (1/3)³ = 1/27 = 3.7 % of the resamples, which leave J's comparisons without gold. More than 1 % of the
// resamples undefined: no interval, and the reason says how many.
TEST(GoldNoise, TwoLevelBootstrapWithoutGoldInTooManyResamples) {
  std::string t;
  for (int i = 1; i <= 8; ++i) t += rec("G1", i, i % 2 ? 'A' : 'B') + rec("G2", i, 'A') + rec("J", i, 'A');
  t += rec("G3", 9, 'A');
  config cfg;
  cfg.modules = {"gold_noise"};
  cfg.gold_judges = {"G1", "G2", "G3"};
  cfg.bootstrap = 1000;
  cfg.gold_bootstrap = true;
  const json m = jbtest::run_text(t, cfg).to_json()["modules"]["gold_noise"]["judges"]["J"]["dbg_pairwise"];
  EXPECT_TRUE(m["ci"].is_null()) << m;
  EXPECT_FALSE(m.contains("mde")) << m;  // no interval, no mde (not the closed form's)
  const std::string why = m["reason"].get<std::string>();
  EXPECT_NE(why.find("two-level bootstrap: no comparison with gold in"), std::string::npos) << why;
  // 1000 draws at 1/27 each: 37 expected, 3 sd of 6 either side.
  const int undefined = std::stoi(why.substr(why.find(" in ") + 4));
  EXPECT_GT(undefined, 19);
  EXPECT_LT(undefined, 56);
}
