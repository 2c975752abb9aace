// Self-preference (METRICS.md §1) on hand-worked fixtures; the arithmetic is written beside each check.
#include <cmath>
#include <numbers>

#include "pairwise_fixture.hpp"
#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

// Judge J (model mJ) scores and compares its own responses and those of o1 and o2.
const char* fixture = R"(
{"judge":"J","judge_model":"mJ","item":"q1","response":{"model":"mJ"},"score":8,"gold":6}
{"judge":"J","judge_model":"mJ","item":"q1","response":{"model":"o1"},"score":5,"gold":5}
{"judge":"J","judge_model":"mJ","item":"q2","response":{"model":"mJ"},"score":7,"gold":6}
{"judge":"J","judge_model":"mJ","item":"q2","response":{"model":"o1"},"score":6,"gold":4}
{"judge":"J","judge_model":"mJ","item":"q2","response":{"model":"o2"},"score":3}
{"judge":"J","judge_model":"mJ","item":"q2","response":{"id":"anon"},"score":3,"gold":3}
{"judge":"J","judge_model":"mJ","item":"p1","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"A","gold":"A"}
{"judge":"J","judge_model":"mJ","item":"p1","a":{"model":"o1"},"b":{"model":"mJ"},"verdict":"A","gold":"B"}
{"judge":"J","judge_model":"mJ","item":"p2","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"tie","gold":"B"}
{"judge":"J","judge_model":"mJ","item":"p2","a":{"model":"o1"},"b":{"model":"mJ"},"verdict":"B","gold":"A"}
{"judge":"J","judge_model":"mJ","item":"p2","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"tie","gold":"B","run":1}
{"judge":"J","judge_model":"mJ","item":"p3","a":{"model":"o2"},"b":{"model":"mJ"},"verdict":"B","gold":"tie"}
{"judge":"J","judge_model":"mJ","item":"p4","a":{"model":"mJ"},"b":{"model":"o2"},"verdict":null,"gold":"A"}
{"judge":"J","judge_model":"mJ","item":"p5","a":{"model":"o1"},"b":{"model":"o2"},"verdict":"A","gold":"A"}
{"judge":"J","judge_model":"mJ","item":"p6","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"A"}
{"judge":"J","judge_model":"mJ","item":"p7","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"B","gold":"A","perturbation":{"kind":"bandwagon","target":"B"}}
{"judge":"J","judge_model":"mJ","item":"p1","a":{"model":"mJ"},"b":{"model":"o1"},"verdict":"B","gold":"A"}
)";

json judge_section(const report& r, const std::string& judge = "J") {
  return r.to_json()["modules"]["self_preference"]["judges"][judge];
}

}  // namespace

TEST(SelfPreference, Pointwise) {
  config cfg;
  cfg.bootstrap = 0;
  report r = jbtest::run_text(fixture, cfg);
  const json& j = judge_section(r);
  // Own with gold: q1 8−6 = 2, q2 7−6 = 1 → dbg_pointwise = 1.5 over 2 records.
  EXPECT_DOUBLE_EQ(value(j["dbg_pointwise"]), 1.5);
  EXPECT_EQ(j["dbg_pointwise"]["n"], 2);
  // Others with gold: q1 5−5 = 0, q2 6−4 = 2 → leniency 1.0 (o2 has no gold; "anon" has no model).
  EXPECT_DOUBLE_EQ(value(j["leniency"]), 1.0);
  EXPECT_EQ(j["leniency"]["n"], 2);
  EXPECT_DOUBLE_EQ(value(j["dbg_adjusted"]), 0.5);
  EXPECT_EQ(j["dbg_adjusted"]["n"], 4);
  // raw_gap: own scores (8, 7) mean 7.5; other scores (5, 6, 3) mean 14/3 → 7.5 − 14/3.
  EXPECT_NEAR(value(j["raw_gap"]), 7.5 - 14.0 / 3.0, 1e-12);
  EXPECT_EQ(j["raw_gap"]["n"], 5);
  // t-test on per-item means (2, 1): t = 1.5 / (sqrt(0.5)/sqrt(2)) = 3 with 1 df → p = 1 − 2·atan(3)/π.
  EXPECT_NEAR(j["dbg_pointwise"]["p"].get<double>(), 1.0 - 2.0 * std::atan(3.0) / std::numbers::pi, 1e-10);
  // Closed-form t interval: 1.5 ± t(0.975, 1) · sd/sqrt(2), sd = sqrt(0.5), t(0.975, 1) = 12.706204736174707.
  EXPECT_NEAR(j["dbg_pointwise"]["ci"][0].get<double>(), 1.5 - 12.706204736174707 * 0.5, 1e-8);
  EXPECT_NEAR(j["dbg_pointwise"]["ci"][1].get<double>(), 1.5 + 12.706204736174707 * 0.5, 1e-8);
  // Left out: "anon" (no model) is counted.
  EXPECT_EQ(r.to_json()["modules"]["self_preference"]["diagnostics"]["records_without_model"], 1);
}

TEST(SelfPreference, PairwiseDbgPooledAndByOpponent) {
  config cfg;
  cfg.bootstrap = 0;
  report r = jbtest::run_text(fixture, cfg);
  const json& j = judge_section(r);
  // Comparisons with own vs other, gold and a parsed verdict (records pooled over orders and runs):
  //   p1 (o1): own wins A, other wins A (the later duplicate of line 7 is ignored) → w = 0.5; gold own → g =
  //   1 p2 (o1): tie, own, tie (run 1)     → w = (0.5 + 1 + 0.5) / 3 = 2/3;      gold other → g = 0 p3 (o2):
  //   own                       → w = 1;                               gold tie → g = 0.5 p4 has only a null
  //   verdict, p5 has no own response, p6 no gold, p7 is perturbed: left out.
  const double w = (0.5 + 2.0 / 3.0 + 1.0) / 3.0, g = (1.0 + 0.0 + 0.5) / 3.0;
  EXPECT_NEAR(value(j["wr_judge"]), 100 * w, 1e-12);
  EXPECT_NEAR(value(j["wr_gold"]), 100 * g, 1e-12);
  EXPECT_NEAR(value(j["dbg_pairwise"]), 100 * (w - g), 1e-12);
  EXPECT_EQ(j["dbg_pairwise"]["n"], 3);
  EXPECT_EQ(j["dbg_pairwise"]["unit"], "pp");
  // By opponent: o1 → w = (0.5 + 2/3)/2, g = 0.5; o2 → 100 − 50.
  EXPECT_NEAR(value(j["by_opponent"]["o1"]["dbg_pairwise"]), 100 * ((0.5 + 2.0 / 3.0) / 2 - 0.5), 1e-12);
  EXPECT_EQ(j["by_opponent"]["o1"]["dbg_pairwise"]["n"], 2);
  EXPECT_NEAR(value(j["by_opponent"]["o2"]["dbg_pairwise"]), 50.0, 1e-12);
  const json diag = r.to_json()["modules"]["self_preference"]["diagnostics"];
  EXPECT_EQ(diag["comparisons_neither_own"], 1);
  EXPECT_EQ(diag["comparisons_without_gold"], 1);
  EXPECT_EQ(r.to_json()["diagnostics"]["duplicates"], 1);
}

TEST(SelfPreference, EqualOpportunityAndDemographicParity) {
  config cfg;
  cfg.bootstrap = 0;
  report r = jbtest::run_text(fixture, cfg);
  const json& j = judge_section(r);
  // eo over records whose comparison's gold is decisive: p1 (gold own): picks own 1, 0 → 0.5;
  // p2 (gold other): picks other 0.5 (tie), 0, 0.5 (tie) → 1/3.  eo = 0.5 − 1/3 over 5 records.
  EXPECT_NEAR(value(j["eo"]), 0.5 - 1.0 / 3.0, 1e-12);
  EXPECT_EQ(j["eo"]["n"], 5);
  // dp over parsed records with exactly one own response: p1 (own, other), p2 (tie, own, tie), p3 (own),
  // p6 (own): own picked 4, other picked 1, n = 7 → (4 − 1)/7.
  EXPECT_NEAR(value(j["dp"]), 3.0 / 7.0, 1e-12);
  EXPECT_EQ(j["dp"]["n"], 7);
}

TEST(SelfPreference, SoftUsesProbabilities) {
  const char* text = R"(
{"judge":"J","item":"s","a":{"model":"J"},"b":{"model":"o"},"verdict":"A","prob_a":0.9,"gold":"A"}
{"judge":"J","item":"s","a":{"model":"o"},"b":{"model":"J"},"verdict":null,"prob_a":0.4,"gold":"B"}
)";
  config cfg;
  cfg.bootstrap = 0;
  // Hard: only the parsed record counts, own wins → w = 1, g = 1 → 0.
  EXPECT_DOUBLE_EQ(value(judge_section(jbtest::run_text(text, cfg))["dbg_pairwise"]), 0.0);
  // Soft: 0.9 (own is A) and 1 − 0.4 (own is B; counts though its verdict is null) → w = 0.75 → −25 pp.
  cfg.soft = true;
  EXPECT_NEAR(value(judge_section(jbtest::run_text(text, cfg))["dbg_pairwise"]), -25.0, 1e-12);
}

TEST(SelfPreference, FamilyMatchingWithSelf) {
  const char* text = R"(
{"judge":"GPT-4/Vanilla","judge_model":"gpt-4-0613","item":"s","a":{"model":"gpt-4"},"b":{"model":"o"},"verdict":"A","gold":"B"}
{"judge":"GPT-4/Vanilla","judge_model":"gpt-4-0613","item":"s","a":{"model":"o"},"b":{"model":"gpt-4"},"verdict":"B","gold":"A"}
)";
  config cfg;
  cfg.bootstrap = 0;
  report plain = jbtest::run_text(text, cfg);
  EXPECT_EQ(plain.to_json()["modules"]["self_preference"]["status"], "skipped");
  EXPECT_NE(plain.to_json()["modules"]["self_preference"]["reason"].get<std::string>().find("--self"),
            std::string::npos);
  cfg.self = {{"gpt-4", "gpt-4-0613"}};
  report matched = jbtest::run_text(text, cfg);
  // Own wins both orders, gold prefers the other: 100 − 0.
  EXPECT_DOUBLE_EQ(value(judge_section(matched, "GPT-4/Vanilla")["dbg_pairwise"]), 100.0);
}

TEST(SelfPreference, MetricsWithoutDataAreNullWithReason) {
  const char* text = R"({"judge":"J","item":"s","a":{"model":"J"},"b":{"model":"o"},"verdict":"A"})";
  report r = jbtest::run_text(text);
  const json m = judge_section(r)["dbg_pairwise"];
  EXPECT_TRUE(m["value"].is_null());
  EXPECT_TRUE(m["ci"].is_null());
  EXPECT_FALSE(m["reason"].get<std::string>().empty());
  EXPECT_TRUE(judge_section(r)["dbg_pointwise"]["value"].is_null());
  EXPECT_DOUBLE_EQ(value(judge_section(r)["dp"]), 1.0);  // dp needs no gold
}

TEST(SelfPreference, BootstrapIsDeterministicAndThreadIndependent) {
  std::ostringstream sample;
  synth_options so;
  so.items = 250;  // 250 items × 1000 resamples: above the size where the bootstrap uses threads
  synthesize(so, sample);
  config cfg;
  cfg.threads = 1;
  const std::string one = jbtest::run_text(sample.str(), cfg).dump();
  EXPECT_EQ(one, jbtest::run_text(sample.str(), cfg).dump());  // same input and seed: same bytes
  cfg.threads = 2;
  EXPECT_EQ(one, jbtest::run_text(sample.str(), cfg).dump());  // whatever the threads
  cfg.seed = 1;
  EXPECT_NE(one, jbtest::run_text(sample.str(), cfg).dump());  // the seed matters
}

TEST(SelfPreference, ByTaskEqualsRunningOnEachTaskAlone) {
  std::ostringstream sample;
  synth_options so;
  so.items = 40;
  synthesize(so, sample);
  config cfg;
  cfg.bootstrap = 0;
  cfg.by = {breakdown::task};
  report all = jbtest::run_text(sample.str(), cfg);
  const json by_task = all.to_json()["modules"]["self_preference"]["by_task"];
  for (const std::string task : {"synth/coding", "synth/math"}) {
    std::istringstream in(sample.str());
    std::string line, only;
    while (std::getline(in, line))
      if (line.find("\"task\":\"" + task + "\"") != std::string::npos) only += line + "\n";
    config plain;
    plain.bootstrap = 0;
    report alone = jbtest::run_text(only, plain);
    for (const std::string judge : {"alpha-7b", "delta-api"}) {
      for (const char* metric : {"dbg_pairwise", "dbg_pointwise", "dp"}) {
        const json& a = by_task[judge][task][metric];
        const json b = alone.to_json()["modules"]["self_preference"]["judges"][judge][metric];
        EXPECT_EQ(a["value"], b["value"]) << judge << " " << task << " " << metric;
        EXPECT_EQ(a["n"], b["n"]) << judge << " " << task << " " << metric;
      }
    }
  }
}

// The module's metrics share one draw of the judge's items (METRICS.md): with pairwise-only items added,
// the pointwise DBG keeps its value and n, and its interval resamples all 340 items, so that it depends on
// which items the judge has but not on their pairwise verdicts.
TEST(SelfPreference, IntervalsShareOneDrawOfTheJudgesItems) {
  std::string pointwise;
  for (int i = 0; i < 40; ++i)
    pointwise += R"({"judge":"J","item":"p)" + std::to_string(i) + R"(","response":{"model":"J"},"score":)" +
                 std::to_string(5 + i % 3) + R"(,"gold":5})" + "\n";
  auto with_pairs = [&](const char* verdicts) {
    std::string text = pointwise;
    for (int i = 0; i < 300; ++i)
      text += R"({"judge":"J","item":"c)" + std::to_string(i) +
              R"(","a":{"model":"J"},"b":{"model":"o"},"verdict":")" + verdicts[i % 3] + R"(","gold":"B"})" +
              "\n";
    return text;
  };
  const report a = jbtest::run_text(pointwise), b = jbtest::run_text(with_pairs("BAA")),
               c = jbtest::run_text(with_pairs("ABB"));
  const json ma = judge_section(a)["dbg_pointwise"];
  const json mb = judge_section(b)["dbg_pointwise"];
  const json mc = judge_section(c)["dbg_pointwise"];
  ASSERT_FALSE(ma["ci"].is_null());
  ASSERT_FALSE(mb["ci"].is_null());
  // score − gold = i mod 3 for i = 0..39: fourteen 0s, thirteen 1s, thirteen 2s → 39 / 40.
  EXPECT_DOUBLE_EQ(value(ma), 39.0 / 40.0);
  EXPECT_EQ(value(mb), value(ma));
  EXPECT_EQ(mb["n"], 40);
  EXPECT_EQ(mb["ci"], mc["ci"]);  // the same draw of the same items
  EXPECT_NE(mb["ci"], ma["ci"]);  // a draw of 340 items, not of the 40
  EXPECT_NE(judge_section(b)["dbg_pairwise"]["value"], judge_section(c)["dbg_pairwise"]["value"]);
}

// A record whose candidate has no model is left out, even when other records of the comparison have one.
TEST(SelfPreference, RecordsWithoutAModelAreLeftOutOneByOne) {
  const char* text = R"(
{"judge":"J","item":"s","a":{"id":"x","model":"J"},"b":{"id":"y","model":"o"},"verdict":"A","gold":"B"}
{"judge":"J","item":"s","a":{"id":"y"},"b":{"id":"x"},"verdict":"B","gold":"A"}
{"judge":"J","item":"s","a":{"id":"x"},"b":{"id":"y"},"verdict":"B","gold":"B","run":1}
)";
  config cfg;
  cfg.bootstrap = 0;
  report r = jbtest::run_text(text, cfg);
  const json& j = judge_section(r);
  EXPECT_EQ(j["dp"]["n"], 1);                     // only the first record
  EXPECT_DOUBLE_EQ(value(j["wr_judge"]), 100.0);  // w over that record alone
  EXPECT_EQ(r.to_json()["modules"]["self_preference"]["diagnostics"]["records_without_model"], 2);
}

TEST(SelfPreference, PairRulesInTheDbg) {
  // tests/pairwise_fixture.hpp's pair-rule fixture: x is J's own (m1), gold x in i1..i7 (g = 1), a tie
  // in i8 (g = 0.5). w_J per comparison:
  //   each:         i1 1, i2 0.5, i3 0.75, i4 0, i5 1, i6 - (no parsed record), i7 0, i8 1
  //   conservative: i1 1, i2 0.5, i3 0.5,  i4 0, i5 -, i6 -, i7 0, i8 1
  //   counter:      i1 1, i2 0.5, i3 1,    i4 0, i5 1, i6 -, i7 0, i8 1
  // wr_judge 4.25/7, 3/6, 4.5/7; wr_gold over the same comparisons 6.5/7, 5.5/6, 6.5/7.
  auto dbg = [](pair_rule rule) {
    config cfg;
    cfg.bootstrap = 0;
    cfg.modules = {"self_preference"};
    cfg.pair_rule = rule;
    const json j = jbtest::run_text(jbtest::pair_rule_fixture(true), cfg).to_json();
    return j["modules"]["self_preference"]["judges"]["J"];
  };
  const json each = dbg(pair_rule::each), cons = dbg(pair_rule::conservative),
             counter = dbg(pair_rule::counter);
  auto v = [](const json& m) { return m["value"].get<double>(); };
  EXPECT_NEAR(v(each["wr_judge"]), 100 * 4.25 / 7, 1e-9);
  EXPECT_NEAR(v(each["wr_gold"]), 100 * 6.5 / 7, 1e-9);
  EXPECT_NEAR(v(each["dbg_pairwise"]), 100 * (4.25 / 7 - 6.5 / 7), 1e-9);
  EXPECT_EQ(each["dbg_pairwise"]["n"], 7);
  EXPECT_NEAR(v(cons["wr_judge"]), 100 * 3.0 / 6, 1e-9);
  EXPECT_NEAR(v(cons["wr_gold"]), 100 * 5.5 / 6, 1e-9);
  EXPECT_NEAR(v(cons["dbg_pairwise"]), 100 * (3.0 / 6 - 5.5 / 6), 1e-9);
  EXPECT_EQ(cons["dbg_pairwise"]["n"], 6);
  EXPECT_NEAR(v(counter["wr_judge"]), 100 * 4.5 / 7, 1e-9);
  EXPECT_NEAR(v(counter["dbg_pairwise"]), 100 * (4.5 / 7 - 6.5 / 7), 1e-9);
  EXPECT_EQ(counter["dbg_pairwise"]["n"], 7);
  // dp counts records whatever the rule: own picked in i1 x2, i2, i3, i5, i8 = 6 of the 11 parsed
  // records, the other in i2, i4 x2, i7 = 4: (6 - 4) / 11.
  EXPECT_NEAR(v(each["dp"]), 2.0 / 11.0, 1e-12);
  EXPECT_NEAR(v(counter["dp"]), 2.0 / 11.0, 1e-12);
}

TEST(SelfPreference, APairWithOneUnnamedRecordCountsTheOther) {
  // x (own, m1) against y (m2): the x-first record names both authors and picks x; the y-first one
  // names none and picks y. Under each the unnamed record is left out: w = 1. Under conservative the
  // pair would be a tie, but its unnamed half cannot count: the named record alone, w = 1 again.
  const std::string text =
      R"({"judge":"J","judge_model":"m1","item":"q","a":{"id":"x","model":"m1"},"b":{"id":"y","model":"m2"},"verdict":"A","gold":"A"})"
      "\n"
      R"({"judge":"J","judge_model":"m1","item":"q","a":{"id":"y"},"b":{"id":"x"},"verdict":"A","gold":"B"})"
      "\n";
  for (pair_rule rule : {pair_rule::each, pair_rule::conservative, pair_rule::counter}) {
    config cfg;
    cfg.bootstrap = 0;
    cfg.modules = {"self_preference"};
    cfg.pair_rule = rule;
    const json j = jbtest::run_text(text, cfg).to_json()["modules"]["self_preference"]["judges"]["J"];
    EXPECT_DOUBLE_EQ(j["wr_judge"]["value"].get<double>(), 100.0) << to_string(rule);
  }
}
