// --fail-if gates: the grammar, and checking a report judge by judge.
#include "test_util.hpp"

using namespace judgebias;

namespace {

const std::string evil = "<script>alert(1)</script>";

}  // namespace

TEST(Gates, ParsesTheGrammar) {
  const auto reg = jbtest::builtin_registry();
  gate g = parse_gate("self_preference.dbg_pairwise.ci_low > 5", reg);
  EXPECT_EQ(g.module, "self_preference");
  EXPECT_EQ(g.kind, "");
  EXPECT_EQ(g.metric, "dbg_pairwise");
  EXPECT_EQ(g.field, gate::field::ci_low);
  EXPECT_EQ(g.comparison, gate::op::greater);
  EXPECT_EQ(g.threshold, 5.0);
  EXPECT_EQ(parse_gate("agreement.overall.kappa < 0.2", reg).kind, "overall");
  g = parse_gate("cue.distraction.robustness_rate<=0.9", reg);
  EXPECT_EQ(g.kind, "distraction");
  EXPECT_EQ(g.comparison, gate::op::less_equal);
  EXPECT_EQ(g.threshold, 0.9);
  g = parse_gate("  position.first_slot_rate.ci_high >= -1e-1 ", reg);
  EXPECT_EQ(g.field, gate::field::ci_high);
  EXPECT_EQ(g.comparison, gate::op::greater_equal);
  EXPECT_EQ(g.threshold, -0.1);
  for (const char* bad :
       {"self_preference.dbg_pairwise", "dbg_pairwise > 5", "self_preference.dbg_pairwise > x",
        "self_preference.dbg_pairwise > 5 > 6", "nope.dbg_pairwise > 1", "self_preference.nope > 1",
        "a.b.c.d.e > 1", "self_preference..dbg_pairwise > 1", "self_preference.dbg_pairwise => 1",
        "self_preference.dbg_pairwise > inf", "position.bogus.robustness_rate < 1", "cue.robustness_rate < 1",
        "agreement.by_task.kappa < 1", "verbosity.counterfactual.prefer_longer_rate < 1"})
    EXPECT_THROW(parse_gate(bad, reg), usage_error) << bad;
}

TEST(Gates, ChecksEachJudgeAndReportsNulls) {
  const auto reg = jbtest::builtin_registry();
  const report r = jbtest::fixed_report();
  // ci_low of dbg_pairwise: 2.5 (evil) and -10 (gpt-4o).
  auto res = check_gate(r, parse_gate("self_preference.dbg_pairwise.ci_low > 0", reg));
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].judge, evil);
  EXPECT_TRUE(res[0].tripped);
  EXPECT_EQ(*res[0].value, 2.5);
  EXPECT_FALSE(res[1].tripped);
  // Strict and non-strict bounds at the value itself.
  EXPECT_FALSE(check_gate(r, parse_gate("self_preference.dbg_pairwise.ci_low > 2.5", reg))[0].tripped);
  EXPECT_TRUE(check_gate(r, parse_gate("self_preference.dbg_pairwise.ci_low >= 2.5", reg))[0].tripped);
  EXPECT_TRUE(check_gate(r, parse_gate("position.consistency < 0.61", reg))[1].tripped);
  EXPECT_FALSE(check_gate(r, parse_gate("position.consistency <= 0.59", reg))[1].tripped);
  // A null value never trips by itself and says why.
  res = check_gate(r, parse_gate("self_preference.dbg_pointwise > 0", reg));
  ASSERT_EQ(res.size(), 2u);
  EXPECT_TRUE(res[0].tripped);
  EXPECT_FALSE(res[1].value);
  EXPECT_FALSE(res[1].tripped);
  EXPECT_EQ(res[1].reason, "no pointwise record with gold");
  // Kinds: a cue kind and counterfactual verbosity.
  res = check_gate(r, parse_gate("cue.distraction.robustness_rate < 0.95", reg));
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].tripped);
  EXPECT_TRUE(check_gate(r, parse_gate("verbosity.counterfactual.robustness_rate < 0.95", reg))[0].tripped);
  // A skipped module: one result without a judge, saying why.
  res = check_gate(r, parse_gate("authority.robustness_rate < 0.9", reg));
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].judge, "");
  EXPECT_FALSE(res[0].value);
  EXPECT_NE(res[0].reason.find("authority skipped"), std::string::npos);
}
