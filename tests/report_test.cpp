// The typed report: its JSON form read back and written again, key for key, for shapes the writers
// must not lose (an opponent named "", a kind without judges, a cue kind named "overall"), and its
// streamed text, which must be the tree's.
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {

json report_with(const std::string& modules) {
  return json::parse(R"({"schema_version":1,"tool":{"name":"judgebias","version":"0"},"inputs":[],
    "config":{"confidence":0.95,"bootstrap":0},"diagnostics":{"records":4,"warnings":[]},"modules":)" +
                     modules + "}");
}

std::string metric_text(double v) {
  return R"({"value":)" + std::to_string(v) + R"(,"ci":null,"n":2,"unit":"pp","reason":"r"})";
}

}  // namespace

// by_opponent holds "" and "o": the "" opponent's metric stays there and the judge's own stays its own.
TEST(TypedReport, OpponentNamedEmptyStaysUnderByOpponent) {
  const json j = report_with(R"({"self_preference":{"status":"ok","judges":{"J":{"dbg_pairwise":)" +
                             metric_text(50) + R"(,"by_opponent":{"":{"dbg_pairwise":)" + metric_text(100) +
                             R"(},"o":{"dbg_pairwise":)" + metric_text(0) + "}}}}}}");
  const report r = report_from_json(j);
  EXPECT_EQ(r.to_json().dump(), j.dump());
  const auto rows = tidy_rows(r);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(*rows[0].value, 50.0);   // the judge's own
  EXPECT_EQ(*rows[1].value, 100.0);  // against ""
  EXPECT_EQ(*rows[2].value, 0.0);    // against o
}

// A kind that is empty, or not an object, beside one with judges: the other's rows stay rows.
TEST(TypedReport, KindsBesideAnEmptyKindKeepTheirRows) {
  const json j =
      report_with(R"({"cue":{"status":"ok","kinds":{"distraction":{"judges":{"J":{"robustness_rate":)" +
                  metric_text(0.5) + R"(}}},"empty":{},"odd":3}}})");
  const report r = report_from_json(j);
  EXPECT_EQ(r.to_json().dump(), j.dump());
  const auto rows = tidy_rows(r);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, "distraction");
  EXPECT_EQ(*rows[0].value, 0.5);
}

// A cue kind may be called "overall": its block shows the cue headline (robustness, follow, effect),
// not agreement's metrics over all judges nor the first three.
TEST(TypedReport, CueKindNamedOverallShowsTheCueHeadline) {
  const json j =
      report_with(R"({"cue":{"status":"ok","kinds":{"overall":{"judges":{"J":{"robustness_rate":)" +
                  metric_text(1) + R"(,"flip_rate":)" + metric_text(0) + R"(,"follow_rate":)" +
                  metric_text(0) + R"(,"effect":)" + metric_text(0) + "}}}}}}");
  const std::string table = format_table(report_from_json(j));
  const auto at = table.find("cue.overall\n");
  ASSERT_NE(at, std::string::npos) << table;
  const std::string header = table.substr(at + 12, table.find('\n', at + 12) - at - 12);
  EXPECT_EQ(header, "  judge robustness_rate (pp) follow_rate (pp) effect (pp)") << table;
}

// The kinds a gate may name, listed from the declarations in the order the message always had.
TEST(TypedReport, GateNamesTheKindsThatExist) {
  try {
    (void)parse_gate("position.bogus.consistency < 1", jbtest::builtin_registry());
    ADD_FAILURE() << "accepted a kind position does not have";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"position\" has no kind \"bogus\" (kinds exist for cue.<kind>, "
                                         "gold_noise.<kind>, attribution.<kind>, verbosity.counterfactual, "
                                         "agreement.overall and gold_noise.overall)"),
              std::string::npos)
        << e.what();
  }
}

namespace {

// The text dump() writes by streaming, and the text of the whole tree.
std::string tree_text(const report& r) {
  return r.to_json().dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

report_row row_of(std::string judge, std::string name, double v, std::string opponent = "") {
  report_row row;
  row.judge = std::move(judge);
  row.metric = std::move(name);
  row.per_opponent = !opponent.empty();
  row.opponent = std::move(opponent);
  row.value.value = v;
  row.value.n = 3;
  return row;
}

}  // namespace

// The streamed JSON is the tree's text, byte for byte: every module, breakdowns, sub-sections, extras,
// skipped modules, and the golden files' fixed report.
TEST(StreamedJson, IsTheTreeDumped) {
  config cfg;
  cfg.bootstrap = 20;
  cfg.by = {breakdown::task, breakdown::run};
  const report run = pipeline(jbtest::builtin_registry(), cfg).run({});
  ASSERT_GT(run.modules.size(), 5u);
  EXPECT_EQ(run.dump(), tree_text(run));
  const report fixed = jbtest::fixed_report();
  EXPECT_EQ(fixed.dump(), tree_text(fixed));
}

// Rows out of document order (judge J reopened after K, a key set twice, an extra over an object that
// rows fill) cannot be streamed object by object: the section is written from its tree, so the text is
// still the tree's, with J's two metrics together.
TEST(StreamedJson, SectionsOutOfOrderAreWrittenFromTheirTree) {
  report r;
  module_section s;
  s.name = "m";
  s.rows = {row_of("J", "a", 1), row_of("K", "a", 2), row_of("J", "b", 3)};
  r.modules.push_back(s);
  module_section t;
  t.name = "t";
  t.extras.push_back(section_extra{{"judges"}, json::object(), 0});
  t.rows = {row_of("J", "a", 1), row_of("J", "a", 5)};
  t.extras.push_back(section_extra{{"diagnostics"}, json{{"x", 1}}, 2});
  r.modules.push_back(t);
  const std::string text = r.dump();
  EXPECT_EQ(text, tree_text(r));
  const json back = json::parse(text);
  EXPECT_EQ(back["modules"]["m"]["judges"]["J"]["b"]["value"], 3.0);
  EXPECT_EQ(back["modules"]["m"]["judges"].size(), 2u);
  EXPECT_EQ(back["modules"]["t"]["judges"]["J"]["a"]["value"], 5.0);  // the last one set
  EXPECT_EQ(back["modules"]["t"]["diagnostics"]["x"], 1);
}

// Per-opponent metrics between a judge's own, an empty by_opponent, names with quotes, control
// characters and bytes that are not UTF-8 (written as U+FFFD), and a report of more than a megabyte,
// which reaches the sink in several pieces that make up the same text.
TEST(StreamedJson, ShapesAndPiecesMatchTheTree) {
  report r;
  r.meta["schema_version"] = 1;
  r.meta["compare"] = json{{"x", 1}};
  module_section s;
  s.name = "m";
  s.rows = {row_of("J", "a", 1), row_of("J", "w", 2, "o1"), row_of("J", "b", 3), row_of("J", "w", 4, "o2"),
            row_of("q\"\x01\xff", "a", 5)};
  s.extras.push_back(section_extra{{"judges", "q\"\x01\xff", "by_opponent"}, json::object(), 5});
  for (int k = 0; k < 8000; ++k) s.rows.push_back(row_of("judge-" + std::to_string(k), "a", k / 7.0));
  r.modules.push_back(s);
  module_section skipped;
  skipped.name = "n";
  skipped.status = module_status::skipped;
  skipped.reason = "none";
  r.modules.push_back(skipped);
  std::string pieces;
  std::size_t calls = 0;
  write_json(r, [&](std::string_view p) {
    pieces += p;
    ++calls;
  });
  EXPECT_GT(calls, 1u);
  EXPECT_GT(pieces.size(), 1u << 20);
  EXPECT_EQ(pieces, tree_text(r));
  EXPECT_NE(pieces.find("\\u0001\xEF\xBF\xBD"), std::string::npos);
  // modules before compare, as REPORT.md orders them
  EXPECT_LT(pieces.find("\"modules\""), pieces.find("\"compare\""));
}

// A report written while its text is produced: a failure half way leaves the old file as it was and
// no temporary file beside it.
TEST(StreamedJson, FailureWhileWritingLeavesTheOldFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("jb-stream-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "r.json").string();
  write_file_atomic(path, "old\n");
  EXPECT_THROW(write_file_atomic(path,
                                 [](const text_sink& sink) {
                                   sink("{\"half\":");
                                   throw std::runtime_error("stopped");
                                 }),
               std::runtime_error);
  EXPECT_EQ(jbtest::slurp(path), "old\n");
  std::size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);
}

// A "modules" that is not an object stays where the report had it, with its value, whether it comes
// after diagnostics, after compare or first: the streamed text is still the tree's.
TEST(StreamedJson, ModulesKeptInMetaStayInPlace) {
  for (const char* text : {R"({"schema_version":1,"diagnostics":{},"modules":5,"compare":{}})",
                           R"({"compare":{"x":1},"modules":[1,2]})", R"({"modules":"m","diagnostics":{}})"}) {
    const report r = report_from_json(json::parse(text));
    EXPECT_EQ(r.dump(), tree_text(r)) << text;
    EXPECT_EQ(r.dump().find("\"modules\": {"), std::string::npos) << text;  // not the typed modules too
  }
}
