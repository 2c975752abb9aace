// `judgebias plan` (docs/metrics.md "Planning a study"): the minimum detectable effect and the units
// needed, worked by hand from a pilot's interval.
#include "judgebias/plan.hpp"
#include "judgebias/diff.hpp"
#include "judgebias/load.hpp"
#include "test_util.hpp"

using namespace judgebias;

namespace {

report pilot(double confidence) {
  return parse_report(R"({"schema_version":1,"config":{"confidence":)" + std::to_string(confidence) +
                          R"(,"bootstrap":1000},"modules":{"self_preference":{"status":"ok","judges":{
        "J":{"dbg_pairwise":{"value":10,"ci":[4,16],"n":100,"unit":"pp"}},
        "K":{"dbg_pairwise":{"value":null,"ci":null,"n":0,"unit":"pp","reason":"none"}}}},
      "position":{"status":"ok","judges":{"J":{"first_slot_rate":{"value":0.56,"ci":[0.52,0.60],"n":400,"unit":"fraction"}}}}}})",
                      "pilot.json");
}

}  // namespace

// J's DBG +10 [4, 16] on 100 comparisons at 95 %: se = 12 / (2 · 1.959964) = 3.061281. At alpha 0.05 and
// power 0.8, mde = (1.959964 + 0.841621) · se = 8.576440; to detect 5 pp a study needs
// 100 · (8.576440 / 5)² = 294.22, so 295 comparisons.
TEST(Plan, MinimumDetectableEffectAndUnitsNeeded) {
  plan_options o;
  o.effect = 5;
  const auto rows = plan_study(pilot(0.95), o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].judge, "J");
  EXPECT_NEAR(*rows[0].se, 3.061281, 1e-6);
  EXPECT_NEAR(*rows[0].mde, 8.576440, 1e-5);
  EXPECT_EQ(*rows[0].needed, 295u);
  EXPECT_DOUBLE_EQ(rows[0].null_value, 0.0);
  // No value: no plan, and why.
  EXPECT_FALSE(rows[1].se.has_value());
  EXPECT_EQ(rows[1].reason, "no value in the pilot");
  // At 90 % confidence the same interval means a larger se: 12 / (2 · 1.644854) = 3.647741.
  EXPECT_NEAR(*plan_study(pilot(0.90), o)[0].se, 3.647741, 1e-6);
  // Power 0.9: z = 1.281552, mde = 3.241516 · 3.061281 = 9.923189, needed 100 · (9.923189/5)² = 393.9 → 394.
  o.power = 0.9;
  EXPECT_EQ(*plan_study(pilot(0.95), o)[0].needed, 394u);
}

// A rate judged against one half: the null is 0.5 by its declaration; the effect is a distance from it.
// se = 0.08 / (2 · 1.959964) = 0.020408, mde 0.057176; a 0.03 deviation needs 400 · (0.057176/0.03)² =
// 1452.9 → 1453 records.
TEST(Plan, RatesAreJudgedAgainstOneHalf) {
  plan_options o;
  o.metric = "position.first_slot_rate";
  o.effect = 0.03;
  const auto rows = plan_study(pilot(0.95), o);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0].null_value, 0.5);
  EXPECT_NEAR(*rows[0].mde, 0.057176, 1e-6);
  EXPECT_EQ(*rows[0].needed, 1453u);
  EXPECT_NE(format_plan(rows, o, pilot(0.95)).find("1453"), std::string::npos);
}

TEST(Plan, BadRequestsAreUsageErrors) {
  plan_options o;
  o.metric = "nothing.here";
  EXPECT_THROW(plan_study(pilot(0.95), o), usage_error);
  o.metric = "self_preference.no_such_metric";
  EXPECT_THROW(plan_study(pilot(0.95), o), usage_error);
  o.metric = "self_preference.dbg_pairwise";
  o.effect = -1;
  EXPECT_THROW(plan_study(pilot(0.95), o), usage_error);
  o.effect.reset();
  o.power = 1;
  EXPECT_THROW(plan_study(pilot(0.95), o), usage_error);
}

// `run` writes the same mde beside its headline metrics as `plan` computes from the report at the
// defaults (alpha 1 - confidence, power 0.8): for every judge of the embedded sample's DBG and first-slot
// rate.
TEST(Plan, RunWritesThePlansMinimumDetectableEffect) {
  config cfg;
  cfg.bootstrap = 200;
  const report r = jbtest::run_text(embedded_sample(), cfg);
  for (const std::string metric : {"self_preference.dbg_pairwise", "position.first_slot_rate"}) {
    plan_options o;
    o.metric = metric;
    const auto rows = plan_study(r, o);
    ASSERT_EQ(rows.size(), 3u) << metric;
    for (const auto& row : rows) {
      ASSERT_TRUE(row.observed.mde.has_value()) << metric << " " << row.judge;
      EXPECT_NEAR(*row.observed.mde, *row.mde, 1e-9 * *row.mde) << metric << " " << row.judge;
    }
  }
  // Only headline metrics get one: not sensitivity's DBG under each pair rule (self_preference's
  // numbers, made again), nor a count such as winrate's ranks, nor self_preference's wr_judge.
  const auto j = r.to_json();
  for (const auto& [judge, metrics] : j["modules"]["sensitivity"]["judges"].items())
    for (const auto& [metric, m] : metrics.items())
      if (m.is_object()) {
        EXPECT_FALSE(m.contains("mde")) << judge << " " << metric;
      }
  EXPECT_FALSE(j["modules"]["self_preference"]["judges"]["alpha-7b"]["wr_judge"].contains("mde"));
}

// Without a pilot: a stated sd of 70.7 pp per comparison (a judge and gold who disagree on half the
// comparisons, 100 sqrt(0.5)) needs ((1.959964 + 0.841621) 70.7 / 5)² = 1569.3, so 1570 comparisons
// for 5 pp. A rate of 0.5 over 1000 units: se = 0.5 / sqrt(1000) = 0.0158114, mde = 2.801585 se =
// 0.0442969, and 1000 (0.0442969 / 0.05)² = 784.8, so 785 units for 0.05.
TEST(Plan, StatedSpreadWithoutAPilot) {
  plan_options o;
  o.sd = 70.7;
  o.effect = 5;
  const plan_row r = plan_stated(o);
  EXPECT_EQ(r.basis, "stated");
  EXPECT_EQ(*r.needed, 1570u);
  EXPECT_FALSE(r.mde.has_value());  // no units given: nothing to detect with yet
  o.sd = 0.5;
  o.units = 1000;
  o.effect = 0.05;
  const plan_row q = plan_stated(o);
  EXPECT_NEAR(*q.se, 0.0158114, 1e-7);
  EXPECT_NEAR(*q.mde, 0.0442969, 1e-7);
  EXPECT_EQ(*q.needed, 785u);
  o.effect.reset();
  o.units.reset();
  EXPECT_THROW(plan_stated(o), usage_error);  // neither --effect nor --units
  o.units = 10;
  o.judges = {"J"};  // a stated plan has no judges
  EXPECT_THROW(plan_stated(o), usage_error);
  o.judges.clear();
  o.sd = 0;
  EXPECT_THROW(plan_stated(o), usage_error);
}

// The difference between two judges. J +10 [4, 16] (n 100) and L +2 [-4, 8] (n 80) as if independent:
// se = sqrt(2) 3.061281 = 4.329305, mde = 2.801585 se = 12.128916. Per unit, J's variance is
// 100 · 3.061281² = 937.14 and L's 80 · 3.061281² = 749.71, so 8 pp needs (2.801585 / 8)² · 1686.86 =
// 206.9, so 207 units per judge. With run --compare J,L's paired interval 8 [2, 14] on 50 items:
// se = 3.061281, mde 8.576440, 50 (8.576440 / 8)² = 57.5, so 58 items; asked as L,J it is -8 [-14, -2].
TEST(Plan, DifferenceBetweenTwoJudges) {
  const std::string modules = R"("modules":{"self_preference":{"status":"ok","judges":{
        "J":{"dbg_pairwise":{"value":10,"ci":[4,16],"n":100,"unit":"pp"}},
        "L":{"dbg_pairwise":{"value":2,"ci":[-4,8],"n":80,"unit":"pp"}}}}})";
  const report alone = parse_report(
      R"({"schema_version":1,"config":{"confidence":0.95,"bootstrap":1000},)" + modules + "}", "pilot.json");
  plan_options o;
  o.compare = {"J", "L"};
  o.effect = 8;
  auto rows = plan_study(alone, o);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].judge, "J - L");
  EXPECT_EQ(rows[0].basis, "independent");
  EXPECT_DOUBLE_EQ(*rows[0].observed.value, 8.0);
  EXPECT_EQ(rows[0].observed.n, 80u);
  EXPECT_NEAR(*rows[0].se, 4.329305, 1e-6);
  EXPECT_NEAR(*rows[0].mde, 12.128916, 1e-5);
  EXPECT_EQ(*rows[0].needed, 207u);

  const report paired =
      parse_report(R"({"schema_version":1,"config":{"confidence":0.95,"bootstrap":1000},)" + modules +
                       R"(,"compare":{"judges":["J","L"],"items":50,"resamples":1000,"metrics":[
        {"module":"self_preference","metric":"dbg_pairwise","opponent":"x","a":1,"b":0,"value":1,"ci":[0,2],"n":9,"unit":"pp"},
        {"module":"self_preference","metric":"dbg_pairwise","a":10,"b":2,"value":8,"ci":[2,14],"n":50,"unit":"pp"}]}})",
                   "pilot.json");
  rows = plan_study(paired, o);
  EXPECT_EQ(rows[0].basis, "paired");
  EXPECT_NEAR(*rows[0].se, 3.061281, 1e-6);
  EXPECT_NEAR(*rows[0].mde, 8.576440, 1e-5);
  EXPECT_EQ(*rows[0].needed, 58u);
  o.compare = {"L", "J"};
  rows = plan_study(paired, o);
  EXPECT_EQ(rows[0].judge, "L - J");
  EXPECT_DOUBLE_EQ(*rows[0].observed.value, -8.0);
  EXPECT_DOUBLE_EQ((*rows[0].observed.ci)[0], -14.0);
  EXPECT_EQ(*rows[0].needed, 58u);

  // A paired entry without an interval (a pilot run with --bootstrap 0): the judges' own intervals.
  std::string no_ci = R"({"schema_version":1,"config":{"confidence":0.95,"bootstrap":0},)" + modules +
                      R"(,"compare":{"judges":["J","L"],"items":50,"resamples":0,"metrics":[
        {"module":"self_preference","metric":"dbg_pairwise","a":10,"b":2,"value":8,"ci":null,"n":50,"unit":"pp","reason":"r"}]}})";
  o.compare = {"J", "L"};
  rows = plan_study(parse_report(no_ci, "pilot.json"), o);
  EXPECT_EQ(rows[0].basis, "independent");
  EXPECT_EQ(*rows[0].needed, 207u);

  o.judges = {"J"};  // --compare names the judges
  EXPECT_THROW(plan_study(paired, o), usage_error);
  o.judges.clear();
  o.compare = {"J", "J"};
  EXPECT_THROW(plan_study(paired, o), usage_error);
  o.compare = {"J", "nobody"};
  EXPECT_THROW(plan_study(alone, o), usage_error);
}
