// Cross-checks on the published judge outputs in ../shared/data/real against the published numbers.
#include <cmath>
#include <fstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {
double printed(double v) {
  return std::round(v * 10) / 10;
}  // "to the printed precision": one decimal
}  // namespace

TEST(RealData, LlmbarPairwiseDbg) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  module_registry reg;
  register_builtin_modules(reg);
  config cfg;
  cfg.self = {{"gpt-3.5-turbo", "gpt-3.5-turbo-0613"}};
  // The file's Rating settings contain 143 scores of 0 on a [1, 10] scale: the judges' out-of-scale
  // extraction failures (FORMAT.md), counted per judge, never measured; no line is invalid. Counted by
  // hand over the file: 77 + 38 of GPT-4's two Rating settings, 15 + 13 of ChatGPT's.
  cfg.threads = 2;
  pipeline p(reg, cfg);
  report r = p.run({(dir / "llmbar.jsonl").string()});
  EXPECT_EQ(r.to_json()["diagnostics"]["skipped"], 0);
  EXPECT_EQ(r.to_json()["diagnostics"]["out_of_scale"], 143);
  EXPECT_EQ(r.to_json()["diagnostics"]["out_of_scale_by_judge"], (json{{"ChatGPT/Rating", 15},
                                                                       {"ChatGPT/Rating_NoRules", 13},
                                                                       {"GPT-4/Rating", 77},
                                                                       {"GPT-4/Rating_NoRules", 38}}));
  EXPECT_GE(r.to_json()["diagnostics"]["extraction_failures_by_judge"]["GPT-4/Rating"].get<int>(), 77);
  // With --strict-scale the first of them stops the run, at its line.
  config strict = cfg;
  strict.strict_scale = true;
  EXPECT_THROW(pipeline(reg, strict).run({(dir / "llmbar.jsonl").string()}), parse_error);
  const json judges = r.to_json()["modules"]["self_preference"]["judges"];
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
  plain.bootstrap = 0;
  pipeline q(reg, plain);
  report r2 = q.run({(dir / "llmbar.jsonl").string()});
  EXPECT_TRUE(
      r2.to_json()["modules"]["self_preference"]["judges"]["ChatGPT/Vanilla_NoRules"]["dbg_pairwise"]["value"]
          .is_null());
  EXPECT_EQ(
      r2.to_json()["modules"]["self_preference"]["judges"]["GPT-4/Vanilla_NoRules"]["dbg_pairwise"]["n"], 38);
}

TEST(RealData, JudgingTheJudgesReadsCleanly) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  config cfg;
  loaded_data d = load({(dir / "judging_the_judges_mtbench.jsonl").string()}, cfg);
  EXPECT_EQ(d.stats.records, 5156u);
  EXPECT_EQ(d.dataset.judges().size(), 9u);
  EXPECT_EQ(d.dataset.diagnostics().duplicates, 0u);
}

namespace {

json published_numbers(const std::filesystem::path& dir) {
  std::ifstream in(dir / "published.json");
  return json::parse(in);
}

}  // namespace

// LLMBar: position consistency reproduces `equal` on every (task, judge) without an unparsed verdict, and
// the accuracy numerators per presentation order are read through the record API.
TEST(RealData, LlmbarPositionConsistency) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  config cfg;
  cfg.bootstrap = 0;
  cfg.by = {breakdown::task};
  cfg.modules = {"position"};
  loaded_data data = load({(dir / "llmbar.jsonl").string()}, cfg);
  module_registry reg;
  register_builtin_modules(reg);
  report r = pipeline(reg, cfg).evaluate(data);
  const dataset& d = data.dataset;
  const json by_task = r.to_json()["modules"]["position"]["by_task"];
  int checked_equal = 0, checked_correct = 0;
  const json published = published_numbers(dir);
  for (const json& e : published["llmbar"]) {
    const std::string task = e["task"], judge = e["judge"];
    const std::uint32_t j = d.judges().find(judge), t = d.tasks().find(task);
    ASSERT_NE(j, no_id) << judge;
    ASSERT_NE(t, no_id) << task;
    bool unparsed = false;
    int correct_original = 0, correct_swapped = 0;
    for (auto i : d.records_of_judge(j)) {
      if (d.task(i) != t || d.mode(i) != judgment_mode::pairwise) continue;
      unparsed |= d.verdict(i) == verdict::missing;
      // In this data set the original order is the record whose a.id ends in ":1" (a property of the data).
      const bool original = d.candidates().name(d.cand_a(i)).ends_with(":1");
      if (d.verdict(i) != verdict::missing && d.verdict(i) == d.inline_gold(i))
        ++(original ? correct_original : correct_swapped);
    }
    EXPECT_EQ(correct_original, e["correct_original_order"][0].get<int>()) << task << " " << judge;
    EXPECT_EQ(correct_swapped, e["correct_swapped_order"][0].get<int>()) << task << " " << judge;
    ++checked_correct;
    if (unparsed) continue;
    const json& m = by_task[judge][task]["consistency"];
    EXPECT_EQ(m["n"], e["equal"][1]) << task << " " << judge;
    EXPECT_EQ(std::lround(m["value"].get<double>() * m["n"].get<double>()), e["equal"][0].get<long>())
        << task << " " << judge;
    ++checked_equal;
  }
  EXPECT_EQ(checked_correct, 114);
  EXPECT_EQ(checked_equal, 90);  // the (task, judge) pairs without an unparsed verdict
}

// Judging the Judges: per judge and run, "N out of M answers are consistent", where each complete swap
// pair is 2 answers and a record whose swapped partner is missing counts as 1 consistent answer.
TEST(RealData, JudgingTheJudgesConsistencyPerRun) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  config cfg;
  cfg.bootstrap = 0;
  cfg.by = {breakdown::run};
  cfg.modules = {"position"};
  loaded_data data = load({(dir / "judging_the_judges_mtbench.jsonl").string()}, cfg);
  module_registry reg;
  register_builtin_modules(reg);
  report r = pipeline(reg, cfg).evaluate(data);
  const dataset& d = data.dataset;
  int checked = 0;
  const json published = published_numbers(dir);
  for (const json& e : published["judging_the_judges"]) {
    const std::string judge = e["judge"];
    const int run = e["run"];
    const std::uint32_t j = d.judges().find(judge);
    ASSERT_NE(j, no_id) << judge;
    // Records of this judge and run whose other order is missing.
    long singles = 0;
    for (std::uint32_t c : d.comparisons_of_judge(j)) {
      int orders = 0;
      for (auto i : d.comparison_records(c)) orders += d.run(i) == static_cast<std::uint32_t>(run);
      singles += orders == 1;
    }
    const json m = r.to_json()["modules"]["position"]["by_run"][judge][std::to_string(run)]["consistency"];
    const long pairs = m["n"].get<long>();
    const long consistent = std::lround(m["value"].get<double>() * static_cast<double>(pairs));
    EXPECT_EQ(2 * consistent + singles, e["consistent_answers"][0].get<long>()) << judge << " run " << run;
    EXPECT_EQ(2 * pairs + singles, e["consistent_answers"][1].get<long>()) << judge << " run " << run;
    ++checked;
  }
  EXPECT_EQ(checked, 27);  // 9 judges × 3 runs
  // gpt-4-0613 over runs 1–3: 251 consistent of 288 complete pairs (the data's README).
  const json all = r.to_json()["modules"]["position"]["judges"]["gpt-4-0613"]["consistency"];
  EXPECT_EQ(all["n"], 288);
  EXPECT_EQ(std::lround(all["value"].get<double>() * 288), 251);
}
