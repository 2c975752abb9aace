// The typed report: its JSON form read back and written again, key for key, for shapes the writers
// must not lose (an opponent named "", a kind without judges, a cue kind named "overall").
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
                                         "verbosity.counterfactual and agreement.overall)"),
              std::string::npos)
        << e.what();
  }
}
