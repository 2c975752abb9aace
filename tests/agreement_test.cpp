// Agreement with gold (METRICS.md §5) on hand-worked fixtures.
#include "pairwise_fixture.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::rec;
using jbtest::swap;
using jbtest::value;

TEST(Agreement, AccuracyKappaAndBrier) {
  // (judge, gold): (A,A)×3 (B,B)×2 (A,B) (tie,A) (B,tie) (tie,tie), one item each, plus a null verdict with
  // prob_a. prob_a on (A,A): 0.8 → 0.04; (A,B): 0.7 → 0.49; (B,B): 0.1 → 0.01; (B,tie) gold tie: left out;
  // the null verdict with gold A and prob_a 0.6 → 0.16 (the Brier score needs no verdict).
  const std::pair<const char*, const char*> labels[] = {{"A", "A"},   {"A", "A"},   {"A", "A"},
                                                        {"B", "B"},   {"B", "B"},   {"A", "B"},
                                                        {"tie", "A"}, {"B", "tie"}, {"tie", "tie"}};
  const char* probs[] = {",\"prob_a\":0.8", "", "", ",\"prob_a\":0.1", "", ",\"prob_a\":0.7", "",
                         ",\"prob_a\":0.2", ""};
  std::string text;
  for (std::size_t k = 0; k < std::size(labels); ++k)
    text += rec("i" + std::to_string(k), "x", "y",
                std::string("\"") + labels[k].first + "\",\"gold\":\"" + labels[k].second + "\"" + probs[k]);
  text += rec("i9", "x", "y", R"(null,"gold":"A","prob_a":0.6)");
  // A second judge K, always right: (A,A), (B,B), (tie,tie).
  for (const char* l : {"A", "B", "tie"})
    text += std::string(R"({"judge":"K","item":"k)") + l + R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":")" +
            l + R"(","gold":")" + l + "\"}\n";
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"agreement"};
  report r = jbtest::run_text(text, cfg);
  const json a = r.to_json()["modules"]["agreement"]["judges"]["J"];
  EXPECT_DOUBLE_EQ(value(a["accuracy"]), 6.0 / 9.0);
  EXPECT_EQ(a["accuracy"]["n"], 9);
  // Rows (judge) A 4, B 3, tie 2; columns (gold) A 4, B 3, tie 2: p_e = (16 + 9 + 4)/81, p_o = 54/81 → 25/52.
  EXPECT_NEAR(value(a["kappa"]), 25.0 / 52.0, 1e-12);
  // Without ties: (A,A)×3 (B,B)×2 (A,B): accuracy 5/6; rows A 4, B 2; columns A 3, B 3: p_e = 1/2 → κ = 2/3.
  EXPECT_DOUBLE_EQ(value(a["accuracy_no_ties"]), 5.0 / 6.0);
  EXPECT_EQ(a["accuracy_no_ties"]["n"], 6);
  EXPECT_NEAR(value(a["kappa_no_ties"]), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(value(a["brier"]), (0.04 + 0.49 + 0.01 + 0.16) / 4.0, 1e-12);
  EXPECT_EQ(a["brier"]["n"], 4);
  // Overall pools both judges: (6 + 3) / 12.
  EXPECT_DOUBLE_EQ(value(r.to_json()["modules"]["agreement"]["overall"]["accuracy"]), 0.75);
  EXPECT_DOUBLE_EQ(value(r.to_json()["modules"]["agreement"]["judges"]["K"]["kappa"]), 1.0);
}

TEST(Agreement, SkippedWithoutGold) {
  config cfg;
  cfg.modules = {"agreement"};
  report r = jbtest::run_text(swap("q", R"("A")", R"("B")"), cfg);
  EXPECT_EQ(r.to_json()["modules"]["agreement"]["status"], "skipped");
  EXPECT_NE(r.to_json()["modules"]["agreement"]["reason"].get<std::string>().find("gold"), std::string::npos);
}
