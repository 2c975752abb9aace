// Reading reports back (every rejected shape with its exact message) and the diff of two reports.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "judgebias/judgebias.hpp"
#include "test_util.hpp"

namespace {

using judgebias::data_error;
using judgebias::io_error;

// The message parse_report throws as a data_error (any other outcome fails the test).
std::string rejection(std::string_view text) {
  try {
    (void)judgebias::parse_report(text, "r.json");
  } catch (const data_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted: " << text;
  return {};
}

// A report with one module section.
std::string with_module(std::string_view section) {
  return R"({"schema_version": 1, "modules": {"position": )" + std::string(section) + "}}";
}

// A report with one metric: modules.position.judges.x.consistency.
std::string with_metric(std::string_view metric) {
  return with_module(R"({"status": "ok", "judges": {"x": {"consistency": )" + std::string(metric) + "}}}");
}

const std::string at_metric = "r.json: not a judgebias report: /modules/position/judges/x/consistency";

TEST(ReadReport, RejectsTheWrongTopLevel) {
  EXPECT_EQ(rejection("[]"), "r.json: not a judgebias report: must be a JSON object, got array");
  EXPECT_EQ(rejection(R"({"modules": {}})"), "r.json: not a judgebias report: /schema_version: missing");
  EXPECT_EQ(rejection(R"({"schema_version": 2, "modules": {}})"),
            "r.json: not a judgebias report: /schema_version: must be 1, got 2");
  EXPECT_EQ(rejection(R"({"schema_version": "1", "modules": {}})"),
            "r.json: not a judgebias report: /schema_version: must be 1, got \"1\"");
  EXPECT_EQ(rejection(R"({"schema_version": 1})"), "r.json: not a judgebias report: /modules: missing");
  EXPECT_EQ(rejection(R"({"schema_version": 1, "modules": []})"),
            "r.json: not a judgebias report: /modules: must be an object, got array");
}

TEST(ReadReport, RejectsTheWrongModule) {
  const std::string at = "r.json: not a judgebias report: /modules/position";
  EXPECT_EQ(rejection(with_module("3")), at + ": must be an object, got 3");
  EXPECT_EQ(rejection(with_module("{}")), at + "/status: missing");
  EXPECT_EQ(rejection(with_module(R"({"status": "done"})")),
            at + R"(/status: must be "ok", "skipped" or "error", got "done")");
  EXPECT_EQ(rejection(with_module(R"({"status": "skipped"})")),
            at + R"(/reason: missing (status is "skipped"))");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "reason": 1})")),
            at + "/reason: must be a string, got 1");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "judges": []})")),
            at + "/judges: must be an object, got array");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "judges": {"x": null}})")),
            at + "/judges/x: must be an object, got null");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "by_task": {"x": []}})")),
            at + "/by_task/x: must be an object, got array");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "by_run": {"x": {"r1": {"m": true}}}})")),
            at + "/by_run/x/r1/m: must be a metric object, got boolean");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "overall": {"kappa": 0.5}})")),
            at + "/overall/kappa: must be a metric object, got 0.5");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "diagnostics": "none"})")),
            at + "/diagnostics: must be an object, got \"none\"");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "counterfactual": 1})")),
            at + "/counterfactual: must be an object, got 1");
  EXPECT_EQ(rejection(with_module(R"({"status": "ok", "kinds": {"k": {"judges": {"x": {"m": []}}}}})")),
            at + "/kinds/k/judges/x/m: must be a metric object, got array");
  EXPECT_EQ(
      rejection(with_module(R"({"status": "ok", "judges": {"x": {"by_opponent": {"m": {"dbg": 1}}}}})")),
      at + "/judges/x/by_opponent/m/dbg: must be a metric object, got 1");
}

TEST(ReadReport, RejectsTheWrongMetric) {
  EXPECT_EQ(rejection(with_metric(R"("0.5")")), at_metric + ": must be a metric object, got \"0.5\"");
  EXPECT_EQ(rejection(with_metric(R"({"ci": null, "n": 1, "unit": "fraction"})")),
            at_metric + "/value: missing");
  EXPECT_EQ(rejection(with_metric(R"({"value": "0.5", "ci": null, "n": 1, "unit": "fraction"})")),
            at_metric + "/value: must be a number or null, got \"0.5\"");
  EXPECT_EQ(rejection(with_metric(R"({"value": 0.5, "n": 1, "unit": "fraction"})")),
            at_metric + "/ci: missing");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": [5, 1], "n": 1, "unit": "fraction"})")),
            at_metric + "/ci: must be [low, high] with low <= high, got [5, 1]");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": [0.1], "n": 1, "unit": "fraction"})")),
            at_metric + "/ci: must be null or [low, high], got an array of 1");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": {}, "n": 1, "unit": "fraction"})")),
            at_metric + "/ci: must be null or [low, high], got object");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": [0, "1"], "n": 1, "unit": "fraction"})")),
            at_metric + "/ci/1: must be a number, got \"1\"");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": null, "n": -1, "unit": "fraction"})")),
            at_metric + "/n: must be a non-negative integer, got -1");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": null, "n": 2.5, "unit": "fraction"})")),
            at_metric + "/n: must be a non-negative integer, got 2.5");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": null, "n": "7", "unit": "fraction"})")),
            at_metric + "/n: must be a non-negative integer, got \"7\"");
  EXPECT_EQ(
      rejection(with_metric(R"({"value": 3, "ci": null, "n": 7, "unit": "percent"})")),
      at_metric + R"(/unit: must be "fraction", "pp", "score", "coefficient" or "count", got "percent")");
  EXPECT_EQ(rejection(with_metric(R"({"value": 3, "ci": null, "n": 7, "unit": "pp", "p": 1.5})")),
            at_metric + "/p: must be a number from 0 to 1, got 1.5");
  EXPECT_EQ(rejection(with_metric(R"({"value": null, "ci": null, "n": 0, "unit": "pp"})")),
            at_metric + "/reason: missing (the value is null)");
  EXPECT_EQ(rejection(with_metric(R"({"value": null, "ci": null, "n": 0, "unit": "pp", "reason": []})")),
            at_metric + "/reason: must be a string, got array");
}

TEST(ReadReport, PointersAreEscapedAndNamesPrintable) {
  // RFC 6901: "~" is "~0", "/" is "~1"; an escape sequence in a judge's name must not reach a terminal.
  EXPECT_EQ(
      rejection(with_module(R"({"status": "ok", "judges": {"a/b~c\u001b[2J": 1}})")),
      "r.json: not a judgebias report: /modules/position/judges/a~1b~0c\\x1b[2J: must be an object, got 1");
}

TEST(ReadReport, AcceptsWhatTheSchemaAllows) {
  // n written as 3.0 is an integer for JSON Schema; a null interval; a null value with its reason;
  // a skipped module with its reason; unknown top-level sections are not checked.
  const auto r = judgebias::parse_report(
      R"({"schema_version": 1.0, "tool": 5, "modules": {
            "position": {"status": "ok", "judges": {"x": {
              "consistency": {"value": 0.5, "ci": [0.5, 0.5], "n": 3.0, "unit": "fraction", "p": 0},
              "fairness": {"value": null, "ci": null, "n": 0, "unit": "fraction", "reason": "no pairs"}}}},
            "cue": {"status": "skipped", "reason": "no cue records"}}})",
      "r.json");
  const auto rows = judgebias::tidy_rows(r);
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].n, 3U);
  EXPECT_FALSE(rows[1].value);
}

TEST(ReadReport, SyntaxErrorsAreLocated) {
  EXPECT_EQ(rejection(""), "r.json:1:1: not JSON: unexpected end of input; expected a value");
  EXPECT_EQ(rejection("{\"schema_version\": 1,\n  \"modules\": tru\n}"),
            "r.json:2:14: not JSON: unexpected 'tru'; expected a value");
  EXPECT_EQ(rejection("{\"a\": 1,\n\"b\": 2,}"),
            "r.json:2:8: not JSON: unexpected '}'; expected a key in double quotes");
  EXPECT_EQ(rejection("[1,\n2 3]"), "r.json:2:3: not JSON: unexpected '3'; expected ',' or ']'");
  EXPECT_EQ(rejection("[1 234]"), "r.json:1:4: not JSON: unexpected '234'; expected ',' or ']'");
  EXPECT_EQ(rejection("{\"a\" 1}"), "r.json:1:6: not JSON: unexpected '1'; expected ':'");
  EXPECT_EQ(rejection("{} x"), "r.json:1:4: not JSON: unexpected 'x'; expected nothing after the JSON value");
  EXPECT_EQ(rejection("{\"a\": \"\xff\"}"), "r.json:1:8: not JSON: invalid UTF-8 in a string");
  EXPECT_EQ(rejection("{\"a\": \"x\ty\"}"),
            "r.json:1:9: not JSON: a control character in a string must be escaped");
  EXPECT_EQ(rejection("{\"a\": \"x"), "r.json:1:9: not JSON: unterminated string");
  EXPECT_EQ(rejection("{\"a\": -}"), "r.json:1:8: not JSON: invalid number");
}

TEST(ReadReport, NumbersBeyondADoubleAreLocated) {
  // nlohmann reads 1e400 as an overflow: the message points at the number's first byte.
  EXPECT_EQ(rejection(with_metric("\n  {\"value\": 1e400, \"ci\": null, \"n\": 1, \"unit\": \"pp\"}")),
            "r.json:2:13: number out of range: 1e400");
  EXPECT_EQ(rejection("[-1e999999]"), "r.json:1:2: number out of range: -1e999999");
}

std::filesystem::path temp_dir() {
  auto dir =
      std::filesystem::path(testing::TempDir()) / ("judgebias_diff_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(ReadReport, FilesThatCannotBeRead) {
  const auto dir = temp_dir();
  const std::string missing = (dir / "missing.json").string(), folder = dir.string();
  try {
    (void)judgebias::read_report(missing);
    ADD_FAILURE() << "read a missing file";
  } catch (const io_error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open: No such file or directory");
  }
  try {
    (void)judgebias::read_report(folder);
    ADD_FAILURE() << "read a folder";
  } catch (const io_error& e) {
    EXPECT_EQ(std::string(e.what()), folder + ": cannot open: Is a directory");
  }
  const std::string bad = (dir / "bad.json").string();
  std::ofstream(bad) << "{\"schema_version\": 1, \"modules\": []}";
  try {
    (void)judgebias::read_report(bad);
    ADD_FAILURE() << "accepted a report whose modules are an array";
  } catch (const data_error& e) {
    EXPECT_EQ(std::string(e.what()),
              bad + ": not a judgebias report: /modules: must be an object, got array");
  }
  std::filesystem::remove_all(dir);
}

TEST(ReadReport, RealReportsAreAccepted) {
  // What the pipeline writes reads back, with the same tidy rows (the golden report too).
  judgebias::config cfg;
  cfg.bootstrap = 50;
  cfg.by = {judgebias::breakdown::task};
  std::ifstream in(std::string(JUDGEBIAS_TEST_DATA) + "/good.jsonl");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto made = jbtest::run_text(text, cfg);
  const auto back = judgebias::parse_report(made.dump(), "good.json");
  EXPECT_EQ(judgebias::tidy_rows(back).size(), judgebias::tidy_rows(made).size());
  EXPECT_FALSE(judgebias::tidy_rows(back).empty());
  const auto sample = jbtest::run_text(judgebias::embedded_sample());
  EXPECT_NO_THROW((void)judgebias::parse_report(sample.dump(), "sample.json"));
  EXPECT_NO_THROW((void)judgebias::read_report(std::string(JUDGEBIAS_TEST_DATA) + "/report/fixed.json"));
}

// Two small reports, by hand. The changes: 0.75 - 0.5 = +0.25 (intervals [0.4, 0.6] and [0.7, 0.8] are
// apart); -0.05 - -0.1 = +0.05 (overlap); j2's new value is null (no change); j3 is new; the task
// breakdown 0.5 - 0.25 = +0.25 ([0.1, 0.4] and [0.3, 0.7] overlap); kappa 0.1 - 0.2 = -0.1 (overlap);
// accuracy is gone. Intervals in both: 3 (4 with the breakdown), of which 1 apart.
const char* old_report = R"({"schema_version": 1, "modules": {
  "position": {"status": "ok",
    "judges": {
      "j1": {"consistency": {"value": 0.5, "ci": [0.4, 0.6], "n": 100, "unit": "fraction"},
             "fairness": {"value": -0.1, "ci": [-0.2, 0.0], "n": 100, "unit": "fraction"}},
      "j2": {"consistency": {"value": 0.7, "ci": null, "n": 50, "unit": "fraction"}}},
    "by_task": {"j1": {"t1": {"consistency": {"value": 0.25, "ci": [0.1, 0.4], "n": 10, "unit": "fraction"}}}}},
  "agreement": {"status": "ok", "overall": {
    "kappa": {"value": 0.2, "ci": [0.1, 0.3], "n": 200, "unit": "coefficient"},
    "accuracy": {"value": 0.6, "ci": [0.5, 0.7], "n": 200, "unit": "fraction"}}}}})";

const char* new_report = R"({"schema_version": 1, "modules": {
  "position": {"status": "ok",
    "judges": {
      "j1": {"consistency": {"value": 0.75, "ci": [0.7, 0.8], "n": 100, "unit": "fraction"},
             "fairness": {"value": -0.05, "ci": [-0.15, 0.05], "n": 100, "unit": "fraction"}},
      "j2": {"consistency": {"value": null, "ci": null, "n": 0, "unit": "fraction", "reason": "no pairs"}},
      "j3": {"consistency": {"value": 0.6, "ci": [0.5, 0.7], "n": 40, "unit": "fraction"}}},
    "by_task": {"j1": {"t1": {"consistency": {"value": 0.5, "ci": [0.3, 0.7], "n": 10, "unit": "fraction"}}}}},
  "agreement": {"status": "ok", "overall": {
    "kappa": {"value": 0.1, "ci": [0.0, 0.2], "n": 200, "unit": "coefficient"}}}}})";

const std::string summary_tail =
    " metric(s) with an interval in both reports have intervals that do not overlap. Reports of different "
    "runs "
    "are not paired: for two judges on the same items, `judgebias run --compare A,B` gives the paired "
    "difference.\n";

TEST(Diff, ChangesOfTwoHandMadeReports) {
  const auto before = judgebias::parse_report(old_report, "old.json");
  const auto after = judgebias::parse_report(new_report, "new.json");
  EXPECT_EQ(judgebias::diff_reports(before, after),
            "metric                      judge  old             new                  change  intervals\n"
            "position.consistency        j1     0.5 [0.4, 0.6]  0.75 [0.7, 0.8]      +0.25   apart\n"
            "position.fairness           j1     -0.1 [-0.2, 0]  -0.05 [-0.15, 0.05]  +0.05   overlap\n"
            "position.consistency        j2     0.7             null\n"
            "position.consistency        j3                     0.6 [0.5, 0.7]               new\n"
            "agreement.overall.kappa     (all)  0.2 [0.1, 0.3]  0.1 [0, 0.2]         -0.1    overlap\n"
            "agreement.overall.accuracy  (all)  0.6 [0.5, 0.7]                               gone\n"
            "\n1 of 3" +
                summary_tail);
  EXPECT_EQ(judgebias::diff_reports(before, after, /*breakdowns=*/true),
            "metric                        judge  old              new                  change  intervals\n"
            "position.consistency          j1     0.5 [0.4, 0.6]   0.75 [0.7, 0.8]      +0.25   apart\n"
            "position.fairness             j1     -0.1 [-0.2, 0]   -0.05 [-0.15, 0.05]  +0.05   overlap\n"
            "position.consistency          j2     0.7              null\n"
            "position.consistency          j3                      0.6 [0.5, 0.7]               new\n"
            "position.consistency task t1  j1     0.25 [0.1, 0.4]  0.5 [0.3, 0.7]       +0.25   overlap\n"
            "agreement.overall.kappa       (all)  0.2 [0.1, 0.3]   0.1 [0, 0.2]         -0.1    overlap\n"
            "agreement.overall.accuracy    (all)  0.6 [0.5, 0.7]                                gone\n"
            "\n1 of 4" +
                summary_tail);
}

TEST(Diff, ChangesBeyondADoubleAreNotInfinite) {
  // -1.7e308 - 1.7e308 overflows a double: the change is still written as a number.
  const auto before =
      judgebias::parse_report(with_metric(R"({"value": 1.7e308, "ci": null, "n": 1, "unit": "pp"})"), "a");
  const auto after =
      judgebias::parse_report(with_metric(R"({"value": -1.7e308, "ci": null, "n": 1, "unit": "pp"})"), "b");
  const std::string out = judgebias::diff_reports(before, after);
  EXPECT_NE(out.find("1.7e+308  -1.7e+308  -3.4e+308\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("inf"), std::string::npos) << out;
}

TEST(Diff, ChecksReportsMadeInMemory) {
  const auto good = judgebias::parse_report(new_report, "new.json");
  const judgebias::report bad = judgebias::report_from_json(
      nlohmann::ordered_json{{"schema_version", 1}, {"modules", nlohmann::ordered_json::array()}});
  try {
    (void)judgebias::diff_reports(bad, good);
    ADD_FAILURE() << "diffed a report whose modules are an array";
  } catch (const data_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "old report: not a judgebias report: /modules: must be an object, got array");
  }
}

}  // namespace
