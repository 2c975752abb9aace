// Cross-checks on the published judge outputs in ../shared/data/real against the published numbers.
#include <cmath>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {
double printed(double v) { return std::round(v * 10) / 10; }  // "to the printed precision": one decimal
}  // namespace

TEST(RealData, LlmbarPairwiseDbg) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  module_registry reg;
  register_builtin_modules(reg);
  config cfg;
  cfg.self = {{"gpt-3.5-turbo", "gpt-3.5-turbo-0613"}};
  // The file's Rating settings contain 143 scores of 0 on a [1, 10] scale: rejected by FORMAT.md, so skipped.
  cfg.skip_invalid = true;
  cfg.threads = 2;
  pipeline p(reg, cfg);
  report r = p.run({(dir / "llmbar.jsonl").string()});
  EXPECT_EQ(r.json["diagnostics"]["skipped"], 143);
  EXPECT_EQ(r.json["diagnostics"]["skipped_by_reason"]["bad_number"], 143);
  const json& judges = r.json["modules"]["self_preference"]["judges"];
  struct published {
    const char* judge;
    int n;
    double wr_judge, wr_gold, dbg;
  };
  for (const published& e : {published{"GPT-4/Vanilla_NoRules", 38, 82.9, 81.6, 1.3},
                             published{"ChatGPT/Vanilla_NoRules", 127, 57.1, 63.8, -6.7}}) {
    const json& j = judges[e.judge];
    EXPECT_EQ(j["dbg_pairwise"]["n"], e.n) << e.judge;
    EXPECT_DOUBLE_EQ(printed(j["wr_judge"]["value"].get<double>()), e.wr_judge) << e.judge;
    EXPECT_DOUBLE_EQ(printed(j["wr_gold"]["value"].get<double>()), e.wr_gold) << e.judge;
    EXPECT_DOUBLE_EQ(printed(j["dbg_pairwise"]["value"].get<double>()), e.dbg) << e.judge;
    // The interval covers the estimate and is wide on so few comparisons (docs/metrics.md discusses it).
    EXPECT_LT(j["dbg_pairwise"]["ci"][0].get<double>(), e.dbg);
    EXPECT_GT(j["dbg_pairwise"]["ci"][1].get<double>(), e.dbg);
  }
  // Without --self, ChatGPT's responses (model "gpt-3.5-turbo") are not its own (judge model -0613).
  config plain;
  plain.skip_invalid = true;
  plain.bootstrap = 0;
  pipeline q(reg, plain);
  report r2 = q.run({(dir / "llmbar.jsonl").string()});
  EXPECT_TRUE(r2.json["modules"]["self_preference"]["judges"]["ChatGPT/Vanilla_NoRules"]["dbg_pairwise"]["value"].is_null());
  EXPECT_EQ(r2.json["modules"]["self_preference"]["judges"]["GPT-4/Vanilla_NoRules"]["dbg_pairwise"]["n"], 38);
}

TEST(RealData, JudgingTheJudgesReadsCleanly) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  config cfg;
  loaded_data d = load({(dir / "judging_the_judges_mtbench.jsonl").string()}, cfg);
  EXPECT_EQ(d.stats.records, 5156u);
  EXPECT_EQ(d.dataset.judges().size(), 9u);
  EXPECT_EQ(d.dataset.diagnostics().duplicates, 0u);
}
