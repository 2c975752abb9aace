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

namespace {

// Judge J on items i1..i8, answers x and y, gold x (i8: a tie), in both orders except i7 and i8; the
// outcomes by id, x-first order then y-first: i1 (x, x), i2 (x, y), i3 (x, tie), i4 (y, y),
// i5 (x, failure), i6 (failure, failure), i7 y (x first only), i8 x (x first only, gold tie). With
// `models`, x is by J's own model m1 and y by m2.
std::string pair_rule_fixture(bool models) {
  const std::string ma = models ? R"(,"model":"m1")" : "", mb = models ? R"(,"model":"m2")" : "";
  auto line = [&](const std::string& item, bool x_first, const char* verdict, const char* gold) {
    const std::string x = R"({"id":"x")" + ma + "}", y = R"({"id":"y")" + mb + "}";
    return R"({"judge":"J","judge_model":"m1","item":")" + item + R"(","a":)" + (x_first ? x : y) + R"(,"b":)" +
           (x_first ? y : x) + R"(,"verdict":)" + verdict + R"(,"gold":")" + gold + "\"}\n";
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

json agreement_under(pair_rule rule) {
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"agreement"};
  cfg.pair_rule = rule;
  return jbtest::run_text(pair_rule_fixture(false), cfg).to_json()["modules"]["agreement"]["judges"]["J"];
}

}  // namespace

TEST(Agreement, JudgeBenchPairAccuracyAndInconsistentPairs) {
  // The counter against gold x, per comparison: i1 +2, i2 0, i3 +1, i4 -2, i5 +1 (the failure counts 0),
  // i6 0, i7 -1: correct (sum > 0) in i1, i3, i5: 3 of 7 (i8's gold is a tie: left out), as JudgeBench's
  // utils/metrics.py counts 100 * n_correct / n_pairs.
  const json a = agreement_under(pair_rule::each);
  EXPECT_DOUBLE_EQ(value(a["pair_accuracy"]), 3.0 / 7.0);
  EXPECT_EQ(a["pair_accuracy"]["n"], 7);
  // Swap pairs i1..i6; only i2's orders picked different answers (a tie or a failure picks no side).
  EXPECT_DOUBLE_EQ(value(a["inconsistent_pairs"]), 1.0 / 6.0);
  EXPECT_EQ(a["inconsistent_pairs"]["n"], 6);
  // The pair rule does not change them: they are the counter rule's by definition.
  EXPECT_DOUBLE_EQ(value(agreement_under(pair_rule::conservative)["pair_accuracy"]), 3.0 / 7.0);
}

TEST(Agreement, PairRulesScoreBothOrdersAsOne) {
  // each: parsed records 2+2+2+2+1+0+1+1 = 11, correct 2+1+1+0+1+0+0+0 = 5 (i3's tie and i8's A against
  // gold tie are wrong).
  const json each = agreement_under(pair_rule::each);
  EXPECT_DOUBLE_EQ(value(each["accuracy"]), 5.0 / 11.0);
  EXPECT_EQ(each["accuracy"]["n"], 11);
  // conservative (FastChat): i1 x right; i2 and i3 ties, wrong; i4 y wrong; i5 and i6 failures, left out;
  // i7 and i8 alone (one order), wrong: 1 of 6.
  const json cons = agreement_under(pair_rule::conservative);
  EXPECT_DOUBLE_EQ(value(cons["accuracy"]), 1.0 / 6.0);
  EXPECT_EQ(cons["accuracy"]["n"], 6);
  // counter (JudgeBench): i1 x, i2 tie, i3 x, i4 y, i5 x (one failure), i6 a failure (left out), i7 y,
  // i8 alone: right in i1, i3, i5: 3 of 7.
  const json counter = agreement_under(pair_rule::counter);
  EXPECT_DOUBLE_EQ(value(counter["accuracy"]), 3.0 / 7.0);
  EXPECT_EQ(counter["accuracy"]["n"], 7);
}

TEST(SelfPreference, PairRulesInTheDbg) {
  // x is J's own (m1), gold x in i1..i7 (g = 1), a tie in i8 (g = 0.5). w_J per comparison:
  //   each:         i1 1, i2 0.5, i3 0.75, i4 0, i5 1, i6 - (no parsed record), i7 0, i8 1
  //   conservative: i1 1, i2 0.5, i3 0.5,  i4 0, i5 -, i6 -, i7 0, i8 1
  //   counter:      i1 1, i2 0.5, i3 1,    i4 0, i5 1, i6 -, i7 0, i8 1
  // wr_gold over the same comparisons: each and counter (6 with g 1, i8 0.5): 6.5/7; conservative
  // (i1-i4 and i7 with g 1, i8): 5.5/6; wr_judge 4.25/7, 3/6 and 4.5/7.
  auto dbg = [](pair_rule rule) {
    config cfg;
    cfg.bootstrap = 0;
    cfg.modules = {"self_preference"};
    cfg.pair_rule = rule;
    const json j = jbtest::run_text(pair_rule_fixture(true), cfg).to_json();
    return j["modules"]["self_preference"]["judges"]["J"];
  };
  const json each = dbg(pair_rule::each), cons = dbg(pair_rule::conservative), counter = dbg(pair_rule::counter);
  EXPECT_NEAR(value(each["dbg_pairwise"]), 100 * (4.25 / 7 - 6.5 / 7), 1e-9);
  EXPECT_EQ(each["dbg_pairwise"]["n"], 7);
  EXPECT_NEAR(value(cons["dbg_pairwise"]), 100 * (3.0 / 6 - 5.5 / 6), 1e-9);
  EXPECT_EQ(cons["dbg_pairwise"]["n"], 6);
  EXPECT_NEAR(value(counter["dbg_pairwise"]), 100 * (4.5 / 7 - 6.5 / 7), 1e-9);
  // eo and dp count records whatever the rule.
  EXPECT_DOUBLE_EQ(value(each["dp"]), value(counter["dp"]));
}

TEST(PairRule, NamesAndTheSoftConflict) {
  EXPECT_EQ(parse_pair_rule("counter"), pair_rule::counter);
  EXPECT_EQ(to_string(pair_rule::conservative), "conservative");
  EXPECT_THROW(parse_pair_rule("majority"), usage_error);
  config cfg;
  cfg.soft = true;
  cfg.pair_rule = pair_rule::counter;
  EXPECT_THROW(jbtest::run_text(pair_rule_fixture(true), cfg), usage_error);
}
