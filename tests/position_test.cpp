// Position (METRICS.md §2) on hand-worked fixtures.
#include "pairwise_fixture.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::rec;
using jbtest::swap;
using jbtest::value;

namespace {

json position(const report& r, const std::string& judge = "J") {
  return r.to_json()["modules"]["position"]["judges"][judge];
}

report run_position(const std::string& text, config cfg = {}) {
  cfg.modules = {"position"};
  return jbtest::run_text(text, cfg);
}

const std::string outcome_fixture = swap("s1", R"("A")", R"("B")") +      // consistent: x both times
                                    swap("s2", R"("B")", R"("A")") +      // consistent: y both times
                                    swap("s3", R"("tie")", R"("tie")") +  // consistent: tie twice
                                    swap("s4", R"("A")", R"("A")") +      // primacy
                                    swap("s5", R"("A")", R"("tie")") +    // primacy
                                    swap("s6", R"("tie")", R"("A")") +    // primacy
                                    swap("s7", R"("B")", R"("B")") +      // recency
                                    swap("s8", R"("B")", R"("tie")") +    // recency
                                    swap("s9", R"("tie")", R"("B")") +    // recency
                                    swap("s10", "null", R"("A")") +       // failure
                                    swap("s11", R"("B")", "null") +       // failure
                                    swap("s12", R"("B")", R"("B")");      // recency

}  // namespace

TEST(Position, EveryOutcomeClassOfASwapPair) {
  config cfg;
  cfg.bootstrap = 0;
  report r = run_position(outcome_fixture, cfg);
  const json& p = position(r);
  // 3 consistent, 3 primacy, 4 recency, 2 failures.
  EXPECT_DOUBLE_EQ(value(p["consistency"]), 3.0 / 10.0);
  EXPECT_EQ(p["consistency"]["n"], 10);  // valid swap pairs
  // Fairness divides by all 12 swap pairs, failures included: (4 − 3) / 12.
  EXPECT_DOUBLE_EQ(value(p["fairness"]), 1.0 / 12.0);
  EXPECT_EQ(p["fairness"]["n"], 12);
  // Decisive records: A in s1, s2, s4 ×2, s5, s6, s10 = 7; B in s1, s2, s7 ×2, s8, s9, s11, s12 ×2 = 9.
  EXPECT_DOUBLE_EQ(value(p["first_slot_rate"]), 7.0 / 16.0);
  EXPECT_EQ(p["first_slot_rate"]["n"], 16);
  // Two-sided binomial at 1/2: 2 · P(X ≤ 7 | n = 16) = 2 · 26333 / 65536.
  EXPECT_NEAR(p["first_slot_rate"]["p"].get<double>(), 52666.0 / 65536.0, 1e-12);
  // Two null verdicts among 24 records.
  EXPECT_DOUBLE_EQ(value(p["extraction_failure_rate"]), 2.0 / 24.0);
  // No gold, no repeated runs: null with reasons.
  EXPECT_TRUE(p["accuracy_gap"]["value"].is_null());
  EXPECT_TRUE(p["repetition_stability"]["value"].is_null());
  EXPECT_FALSE(p["repetition_stability"]["reason"].get<std::string>().empty());
  // Wilson interval of 3/10 (closed form with --bootstrap 0).
  auto w = stats::wilson_interval(3, 10, 0.95);
  EXPECT_DOUBLE_EQ(p["consistency"]["ci"][0].get<double>(), (*w)[0]);
}

TEST(Position, EachPairClassifiedAlone) {
  struct expected_class {
    const char *v1, *v2;
    double consistency, fairness;  // of that single pair
  };
  for (const auto& c :
       {expected_class{R"("A")", R"("B")", 1, 0}, expected_class{R"("tie")", R"("tie")", 1, 0},
        expected_class{R"("A")", R"("A")", 0, -1}, expected_class{R"("tie")", R"("A")", 0, -1},
        expected_class{R"("A")", R"("tie")", 0, -1}, expected_class{R"("B")", R"("B")", 0, 1},
        expected_class{R"("B")", R"("tie")", 0, 1}, expected_class{R"("tie")", R"("B")", 0, 1}}) {
    config cfg;
    cfg.bootstrap = 0;
    const report r = run_position(swap("q", c.v1, c.v2), cfg);
    const json& p = position(r);
    EXPECT_DOUBLE_EQ(value(p["consistency"]), c.consistency) << c.v1 << " " << c.v2;
    EXPECT_DOUBLE_EQ(value(p["fairness"]), c.fairness) << c.v1 << " " << c.v2;
  }
  // A failure only: no consistency, fairness 0 over 1 pair.
  config cfg;
  cfg.bootstrap = 0;
  const report r = run_position(swap("q", "null", R"("B")"), cfg);
  const json& p = position(r);
  EXPECT_TRUE(p["consistency"]["value"].is_null());
  EXPECT_DOUBLE_EQ(value(p["fairness"]), 0.0);
  EXPECT_EQ(p["fairness"]["n"], 1);
}

TEST(Position, RepetitionStabilityKeepsNullsInTheDenominator) {
  const std::string text =
      rec("r1", "x", "y", R"("A")", R"(,"run":0)") + rec("r1", "x", "y", R"("A")", R"(,"run":1)") +
      rec("r1", "x", "y", "null", R"(,"run":2)") +  // x first: A, A, null → 2/3
      rec("r1", "y", "x", R"("B")", R"(,"run":0)") +
      rec("r1", "y", "x", R"("tie")", R"(,"run":1)") +                                           // → 1/2
      rec("r2", "x", "y", "null", R"(,"run":0)") + rec("r2", "x", "y", "null", R"(,"run":1)") +  // → 0/2
      rec("r3", "x", "y", R"("B")");  // one run only: not a group
  config cfg;
  cfg.bootstrap = 0;
  const report r = run_position(text, cfg);
  const json& p = position(r);
  EXPECT_DOUBLE_EQ(value(p["repetition_stability"]), (2.0 / 3.0 + 1.0 / 2.0 + 0.0) / 3.0);
  EXPECT_EQ(p["repetition_stability"]["n"], 3);
  // Swap pairs are per run: r1 run 0 (A then B: consistent) and run 1 (A then tie: primacy); r1 run 2,
  // r2 and r3 have one order only.
  EXPECT_DOUBLE_EQ(value(p["consistency"]), 0.5);
  EXPECT_EQ(p["fairness"]["n"], 2);
}

TEST(Position, AccuracyByGoldSlot) {
  // g1: gold x. x first (gold A): A ✓; y first (gold B): A ✗.
  // g2: gold y. x first (gold B): B ✓; y first (gold A): A ✓.
  // g3: gold x. x first (gold A): tie ✗; y first (gold B): A ✗.
  const std::string text =
      rec("g1", "x", "y", R"("A","gold":"A")") + rec("g1", "y", "x", R"("A","gold":"B")") +
      rec("g2", "x", "y", R"("B","gold":"B")") + rec("g2", "y", "x", R"("A","gold":"A")") +
      rec("g3", "x", "y", R"("tie","gold":"A")") + rec("g3", "y", "x", R"("A","gold":"B")");
  config cfg;
  cfg.bootstrap = 0;
  const report r = run_position(text, cfg);
  const json& p = position(r);
  EXPECT_DOUBLE_EQ(value(p["accuracy_gold_first"]), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(value(p["accuracy_gold_second"]), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(value(p["accuracy_gap"]), 1.0 / 3.0);
  EXPECT_EQ(p["accuracy_gap"]["n"], 6);
}

TEST(Position, OrderUnknownRecordsAreSkippedAndCounted) {
  const std::string text = swap("s1", R"("A")", R"("A")") + rec("u", "x", "y", R"("A","order_known":false)") +
                           rec("u", "y", "x", R"("A","order_known":false)") + rec("w", "x", "y", R"("B")");
  report r = run_position(text);
  const json& p = position(r);
  EXPECT_EQ(p["fairness"]["n"], 1);
  EXPECT_EQ(p["first_slot_rate"]["n"], 3);  // s1 twice and w
  EXPECT_EQ(r.to_json()["modules"]["position"]["diagnostics"]["order_unknown_records"], 2);
  EXPECT_EQ(r.to_json()["modules"]["position"]["diagnostics"]["one_order_comparisons"], 1);  // w
}

TEST(Position, ByTaskAndByRun) {
  std::string text;
  for (const auto& [item, task, v1, v2] :
       std::vector<std::array<std::string, 4>>{{"a1", "t1", R"("A")", R"("B")"},
                                               {"a2", "t1", R"("A")", R"("A")"},
                                               {"a3", "t2", R"("B")", R"("A")"}})
    text += rec(item, "x", "y", v1, R"(,"task":")" + task + "\"") +
            rec(item, "y", "x", v2, R"(,"task":")" + task + "\"");
  text += rec("a4", "x", "y", R"("A","run":3)") + rec("a4", "y", "x", R"("B","run":3)");
  config cfg;
  cfg.bootstrap = 0;
  cfg.by = {breakdown::task, breakdown::run};
  report r = run_position(text, cfg);
  const json by_task = r.to_json()["modules"]["position"]["by_task"]["J"];
  EXPECT_DOUBLE_EQ(value(by_task["t1"]["consistency"]), 0.5);
  EXPECT_DOUBLE_EQ(value(by_task["t2"]["consistency"]), 1.0);
  EXPECT_FALSE(by_task.contains("(none)"));  // a4 has no task
  const json by_run = r.to_json()["modules"]["position"]["by_run"]["J"];
  EXPECT_DOUBLE_EQ(value(by_run["0"]["consistency"]), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(value(by_run["3"]["consistency"]), 1.0);
}

TEST(Position, SkippedWithoutPairwiseRecords) {
  report r = run_position(R"({"judge":"J","item":"q","response":{},"score":3})");
  EXPECT_EQ(r.to_json()["modules"]["position"]["status"], "skipped");
}
