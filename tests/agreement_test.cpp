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

json agreement_under(pair_rule rule) {
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"agreement"};
  cfg.pair_rule = rule;
  return jbtest::run_text(jbtest::pair_rule_fixture(false), cfg)
      .to_json()["modules"]["agreement"]["judges"]["J"];
}

}  // namespace

TEST(Agreement, JudgeBenchPairAccuracyAndInconsistentPairs) {
  // The counter against gold x, per comparison: i1 +2, i2 0, i3 +1, i4 -2, i5 +1 (the failure counts 0),
  // i6 0, i7 -1: correct (sum > 0) in i1, i3, i5: 3 of 7 (i8's gold is a tie: left out), as JudgeBench's
  // utils/metrics.py counts 100 * n_correct / n_pairs.
  const json a = agreement_under(pair_rule::each);
  EXPECT_DOUBLE_EQ(value(a["pair_accuracy"]), 3.0 / 7.0);
  EXPECT_EQ(a["pair_accuracy"]["n"], 7);
  // Swap pairs i1..i6, JudgeBench's decision1 != decision2: i2 (x, y), i3 (x, tie), i5 (x, failure);
  // i6's two failures agree: 3 of 6.
  EXPECT_DOUBLE_EQ(value(a["inconsistent_pairs"]), 3.0 / 6.0);
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

TEST(Agreement, KappaUnderAPairRuleIsTheSameWhicheverAnswerComesFirst) {
  // counter's units: (x, x) x3, (y, x) x2, (tie, x), (x, tie), each counted half as is and half with A
  // and B exchanged: p_o = 3/7, margins 3, 3, 1 of 7 on both sides, p_e = 19/49, kappa = 1/15.
  const json counter = agreement_under(pair_rule::counter);
  EXPECT_NEAR(value(counter["kappa"]), 1.0 / 15.0, 1e-12);
  // The same records with each comparison's lines in the other order (y's record first, so that y is
  // interned first): the same kappa, accuracy and n.
  std::string text = jbtest::pair_rule_fixture(false), reversed;
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end + 1 - at));
    at = end + 1;
  }
  for (std::size_t k = lines.size(); k-- > 0;) reversed += lines[k];
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"agreement"};
  cfg.pair_rule = pair_rule::counter;
  const json again = jbtest::run_text(reversed, cfg).to_json()["modules"]["agreement"]["judges"]["J"];
  EXPECT_NEAR(value(again["kappa"]), 1.0 / 15.0, 1e-12);
  EXPECT_DOUBLE_EQ(value(again["accuracy"]), 3.0 / 7.0);
  EXPECT_EQ(again["accuracy"]["n"], counter["accuracy"]["n"]);
}

TEST(Agreement, PairRulesPairOrdersWithinOneRunAndOneGroup) {
  // q judged in runs 0 and 1 (both orders each): conservative makes two units; x wins both orders in
  // run 0, the orders disagree in run 1: accuracy 1/2 against gold x.
  std::string runs;
  for (const auto& [run, v2] : {std::pair<int, const char*>{0, R"("B")"}, {1, R"("A")"}}) {
    const std::string r = std::to_string(run);
    runs += R"({"judge":"J","item":"q","run":)" + r +
            R"(,"a":{"id":"x"},"b":{"id":"y"},"verdict":"A","gold":"A"})"
            "\n";
    runs += R"({"judge":"J","item":"q","run":)" + r + R"(,"a":{"id":"y"},"b":{"id":"x"},"verdict":)" + v2 +
            R"(,"gold":"B"})"
            "\n";
  }
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"agreement"};
  cfg.pair_rule = pair_rule::conservative;
  json a = jbtest::run_text(runs, cfg).to_json()["modules"]["agreement"]["judges"]["J"];
  EXPECT_DOUBLE_EQ(value(a["accuracy"]), 0.5);
  EXPECT_EQ(a["accuracy"]["n"], 2);
  // The two orders of one comparison in two tasks: under --by task each group has one record, a unit of
  // its own (x picked in t1, right; y picked in t2, wrong).
  const std::string tasks =
      R"({"judge":"J","item":"q","task":"t1","a":{"id":"x"},"b":{"id":"y"},"verdict":"A","gold":"A"})"
      "\n"
      R"({"judge":"J","item":"q","task":"t2","a":{"id":"y"},"b":{"id":"x"},"verdict":"A","gold":"B"})"
      "\n";
  cfg.by = {breakdown::task};
  const json t = jbtest::run_text(tasks, cfg).to_json()["modules"]["agreement"];
  EXPECT_DOUBLE_EQ(value(t["by_task"]["J"]["t1"]["accuracy"]), 1.0);
  EXPECT_DOUBLE_EQ(value(t["by_task"]["J"]["t2"]["accuracy"]), 0.0);
  // Over all the judge's records they are one pair that disagrees: a tie, wrong.
  EXPECT_DOUBLE_EQ(value(t["judges"]["J"]["accuracy"]), 0.0);
  EXPECT_EQ(t["judges"]["J"]["accuracy"]["n"], 1);
}

TEST(PairRule, NamesAndTheSoftConflict) {
  EXPECT_EQ(parse_pair_rule("counter"), pair_rule::counter);
  EXPECT_EQ(to_string(pair_rule::conservative), "conservative");
  EXPECT_THROW(parse_pair_rule("majority"), usage_error);
  config cfg;
  cfg.soft = true;
  cfg.pair_rule = pair_rule::counter;
  EXPECT_THROW(jbtest::run_text(jbtest::pair_rule_fixture(true), cfg), usage_error);
}
