// Each module's declared metrics (metrics()) against what it emits: the same names, in the same
// sub-sections, with the same units. The report forms, the charts and --fail-if read the declarations,
// so a metric emitted but not declared would be missing from the table, the charts or the gates.
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "test_util.hpp"

namespace {

using judgebias::metric_info;
using judgebias::report_row;

// synth's records, plus its bandwagon variants again as verbosity padding and as a third cue kind, so
// that every sub-section (verbosity's counterfactual, cue kinds) is written; by task and by run too.
judgebias::report every_section_report() {
  judgebias::synth_options o;
  o.items = 12;
  std::ostringstream text;
  judgebias::synthesize(o, text);
  std::string all = text.str(), extra;
  std::istringstream lines(all);
  std::string featured;  // every pairwise record with a candidate feature (attribution's features.F)
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    if (const auto a = line.find(R"("a":{)"), b = line.find(R"("b":{)");
        a != std::string::npos && b != std::string::npos) {
      line.insert(b + 5, R"("features":{"headers":)" + std::to_string(n / 3 % 2) + "},");
      line.insert(a + 5, R"("features":{"headers":)" + std::to_string(n % 3) + "},");
    }
    featured += line + "\n";
    // delta-api's records again as a gold panel of two (gold_noise runs with --gold-judges only).
    if (line.rfind(R"({"judge":"delta-api")", 0) == 0)
      for (const char* gold : {"gold-1", "gold-2"}) {
        std::string copy = line;
        copy.replace(10, 9, gold);
        extra += copy + "\n";
      }
    const auto at = line.find("\"kind\":\"bandwagon\"");
    if (at == std::string::npos) continue;
    for (const char* kind : {"\"kind\":\"verbosity\"", "\"kind\":\"distraction\""}) {
      std::string copy = line;
      copy.replace(at, std::string("\"kind\":\"bandwagon\"").size(), kind);
      extra += copy + "\n";
    }
  }
  judgebias::config cfg;
  cfg.bootstrap = 0;
  cfg.by = {judgebias::breakdown::task, judgebias::breakdown::run};
  cfg.modules = jbtest::builtin_registry().names();  // the opt-in modules too
  cfg.gold_judges = {"gold-1", "gold-2"};
  return jbtest::run_text(featured + extra, cfg);
}

// Where a row is declared: its metric name, and the declarations it may match.
bool declared_here(const metric_info& m, const report_row& row) {
  if (m.name != row.metric) return false;
  if (row.scope == judgebias::row_scope::overall) return m.overall;
  if (row.section.empty()) return m.section.empty();
  return m.section == row.section.back() || m.section == judgebias::every_section;
}

TEST(Declarations, EveryModuleEmitsExactlyWhatItDeclares) {
  const judgebias::report r = every_section_report();
  std::size_t modules = 0;
  for (const auto& section : r.modules) {
    ASSERT_EQ(section.status, judgebias::module_status::ok) << section.name << ": " << section.reason;
    ASSERT_FALSE(section.metrics.empty()) << section.name;
    ++modules;
    std::set<std::tuple<std::string, std::string, bool>> seen;  // (section, metric, overall) declared and met
    for (const auto& row : section.rows) {
      const metric_info* match = nullptr;
      for (const auto& m : section.metrics)
        if (declared_here(m, row)) match = &m;
      ASSERT_NE(match, nullptr) << section.name << ": emits " << row.kind() << "." << row.metric
                                << " without declaring it";
      EXPECT_EQ(match->unit, row.value.unit) << section.name << "." << row.metric;
      seen.emplace(match->section, match->name, row.scope == judgebias::row_scope::overall);
    }
    for (const auto& m : section.metrics) {
      EXPECT_TRUE(m.overall_only || seen.count({m.section, m.name, false}))
          << section.name << ": declares " << m.section << "." << m.name << " but never emits it";
      EXPECT_TRUE(!m.overall_only || !seen.count({m.section, m.name, false}))
          << section.name << ": declares " << m.name << " over all judges only but emits it per judge";
      if (m.overall) {
        EXPECT_TRUE(seen.count({m.section, m.name, true}))
            << section.name << ": declares " << m.name << " over all judges but never emits it there";
      }
    }
  }
  // self_preference, position, verbosity, bandwagon, authority, cue, agreement, judge_agreement,
  // gold_noise, winrate, sensitivity, attribution
  EXPECT_EQ(modules, 12u);
}

// The terminal table's columns and the HTML charts come from the declarations: a module that declares
// no headline gets its first three metrics.
TEST(Declarations, HeadlineAndChartsFollowTheDeclarations) {
  judgebias::report r = every_section_report();
  const std::string table = judgebias::format_table(r);
  EXPECT_NE(table.find("dbg_pairwise (pp)"), std::string::npos) << table;
  EXPECT_NE(table.find("verbosity.counterfactual"), std::string::npos) << table;
  EXPECT_NE(table.find("cue.distraction"), std::string::npos) << table;
  EXPECT_NE(judgebias::to_html(r).find("Robustness per cue kind"), std::string::npos);
  for (auto& section : r.modules) section.metrics.clear();
  const std::string bare = judgebias::format_table(r);
  // self_preference's first three emitted metrics instead of its headline (dbg_pairwise, dbg_pointwise,
  // dbg_adjusted): the pointwise ones come first in its rows.
  const auto block = bare.find("\nself_preference\n") + 17;
  const std::string header = bare.substr(block, bare.find('\n', block) - block);
  EXPECT_EQ(header, "  judge       dbg_pointwise (score)     leniency (score)          dbg_adjusted (score)")
      << bare;
  // The built-in modules' charts come from the registry then, as for a module that was not run: drawn
  // empty, as before the declarations existed.
  EXPECT_NE(judgebias::to_html(r).find("Robustness per cue kind"), std::string::npos);
  judgebias::config only;
  only.modules = {"position"};
  const std::string page = judgebias::to_html(
      jbtest::run_text("{\"judge\":\"J\",\"item\":\"q\",\"a\":{},\"b\":{},\"verdict\":\"A\"}\n", only));
  EXPECT_NE(page.find("Self-preference: DBG, pairwise (pp)"), std::string::npos);
  EXPECT_NE(page.find("No judge has a value for this chart."), std::string::npos);
}

}  // namespace
