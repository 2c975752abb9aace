// The pipeline and the report: layout, module registry and statuses, errors, atomic writing.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const char* two_lines =
    R"({"judge":"J","item":"s","a":{"model":"J"},"b":{"model":"o"},"verdict":"A","gold":"B"}
{"judge":"J","item":"s","a":{"model":"o"},"b":{"model":"J"},"verdict":"B","gold":"A"}
)";

class throwing_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "broken"; }
  std::string_view description() const noexcept override { return "always fails"; }
  std::vector<metric_info> metrics() const override { return {}; }

 protected:
  module_result do_evaluate(const dataset&, const config&) const override {
    throw std::runtime_error("boom");
  }
};

class counting_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "count"; }
  std::string_view description() const noexcept override { return "counts records"; }
  std::vector<metric_info> metrics() const override {
    return {{"records", unit::count, bias_direction::none, ""}};
  }

 protected:
  module_result do_evaluate(const dataset& d, const config&) const override {
    module_result r;
    if (d.size() > 100) {
      r.skipped = true;
      r.reason = "too many";
      return r;
    }
    metric m;
    m.value = static_cast<double>(d.size());
    m.n = d.size();
    m.unit = unit::count;
    report_row row;
    row.judge = "J";
    row.metric = "records";
    row.value = m;
    r.body.rows.push_back(row);
    return r;
  }
};

fs::path temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("judgebias-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(Pipeline, ReportLayoutFollowsReportMd) {
  std::string text = two_lines;
  text += R"({"judge":"J","item":"s2","a":{"model":"J"},"b":{"model":"o"},"verdict":"B","gold":"B"})"
          "\n";
  report r = jbtest::run_text(text);
  std::vector<std::string> keys;
  const auto rj = r.to_json();
  for (const auto& [k, v] : rj.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"schema_version", "tool", "inputs", "config", "diagnostics",
                                            "modules"}));
  EXPECT_EQ(r.to_json()["schema_version"], 1);
  EXPECT_EQ(r.to_json()["tool"]["name"], "judgebias");
  EXPECT_EQ(r.to_json()["inputs"][0]["records"], 3);
  EXPECT_EQ(r.to_json()["diagnostics"]["lines"], 3);
  EXPECT_EQ(r.to_json()["config"]["bootstrap"], 1000);
  const json m = r.to_json()["modules"]["self_preference"]["judges"]["J"]["dbg_pairwise"];
  std::vector<std::string> mkeys;
  for (const auto& [k, v] : m.items()) mkeys.push_back(k);
  EXPECT_EQ(mkeys, (std::vector<std::string>{"value", "ci", "n", "mde", "unit"}));
  // dbg_pairwise is a headline metric: its mde is (z_0.975 + z_0.8) / z_0.975 = (1.9599640 + 0.8416212) /
  // 1.9599640 = 1.4294063 times the interval's half-width.
  EXPECT_NEAR(m["mde"].get<double>(), 1.4294063 * (m["ci"][1].get<double>() - m["ci"][0].get<double>()) / 2,
              1e-5);
  // wr_judge is not shown in the table: no mde.
  EXPECT_FALSE(r.to_json()["modules"]["self_preference"]["judges"]["J"]["wr_judge"].contains("mde"));
  EXPECT_EQ(r.to_json()["modules"]["self_preference"].begin().key(), "status");
  EXPECT_EQ(r.dump().back(), '\n');
  EXPECT_EQ(r.dump().find("NaN"), std::string::npos);
  // One item is nothing to resample: a null interval with the reason.
  const report one_item = jbtest::run_text(two_lines);
  const json single = one_item.to_json()["modules"]["self_preference"]["judges"]["J"]["dbg_pairwise"];
  EXPECT_TRUE(single["ci"].is_null());
  EXPECT_NE(single["reason"].get<std::string>().find("single item"), std::string::npos);
}

TEST(Pipeline, JudgesAreSortedByBytes) {
  std::string text;
  for (const char* j : {"zeta", "Alpha", "beta", "\xC3\xA9t\xC3\xA9"})
    text += std::string(R"({"judge":")") + j + R"(","item":"s","a":{"model":")" + j +
            R"("},"b":{"model":"o"},"verdict":"A"})" + "\n";
  report r = jbtest::run_text(text);
  std::vector<std::string> names;
  const auto rj = r.to_json();
  for (const auto& [k, v] : rj["modules"]["self_preference"]["judges"].items()) names.push_back(k);
  EXPECT_EQ(names, (std::vector<std::string>{"Alpha", "beta", "zeta", "\xC3\xA9t\xC3\xA9"}));
}

TEST(Pipeline, CustomModulesErrorsAndSkips) {
  module_registry reg;
  register_builtin_modules(reg);
  reg.add("broken", [] { return std::make_unique<throwing_module>(); });
  reg.add("count", [] { return std::make_unique<counting_module>(); });
  config cfg;
  cfg.modules = {"count", "broken", "self_preference"};
  cfg.threads = 1;
  pipeline p(reg, cfg);
  report r = p.evaluate(jbtest::load_text(two_lines));
  std::vector<std::string> order;
  const auto rj = r.to_json();
  for (const auto& [k, v] : rj["modules"].items()) order.push_back(k);
  EXPECT_EQ(order, cfg.modules);  // modules in the order of config.modules
  EXPECT_EQ(r.to_json()["modules"]["broken"]["status"], "error");
  EXPECT_EQ(r.to_json()["modules"]["broken"]["reason"], "boom");
  EXPECT_EQ(r.to_json()["modules"]["count"]["judges"]["J"]["records"]["value"], 2.0);
  EXPECT_EQ(r.to_json()["modules"]["self_preference"]["status"], "ok");  // the others still report
}

TEST(Pipeline, BadConfigurationIsAUsageError) {
  module_registry reg;
  register_builtin_modules(reg);
  config cfg;
  cfg.modules = {"nope"};
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
  cfg.modules = {};
  cfg.confidence = 1.5;
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
  cfg.confidence = 0.9;
  EXPECT_THROW(parse_breakdown("judge"), usage_error);  // a breakdown is typed: words are read there
  EXPECT_THROW(parse_length_unit("words"), usage_error);
  cfg.by = {breakdown::task, breakdown::task};
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
  cfg.by = {};
  cfg.modules = {"position", "position"};
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
  cfg.modules = {};
  cfg.min_length_gap = -1;
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
  cfg.min_length_gap = std::nan("");
  EXPECT_THROW(pipeline(reg, cfg), usage_error);
}

// config::stop: a caller on another thread (Python's Ctrl-C) ends the run with `cancelled` at the next
// check: reading, before a module, inside a module's bootstrap (the module boundary passes it on instead
// of turning it into the module's error status), and in the bootstrap itself.
TEST(Pipeline, AStopRequestEndsTheRunAtEachCheck) {
  module_registry reg;
  register_builtin_modules(reg);
  std::atomic<bool> stop{true};
  config cfg;
  cfg.stop = &stop;
  EXPECT_THROW(load({}, cfg), cancelled);                        // reading the embedded sample
  EXPECT_THROW(load_texts({{"t", two_lines}}, cfg), cancelled);  // reading a text
  const loaded_data data = load({}, config{});                   // read without a stop
  EXPECT_THROW(pipeline(reg, cfg).evaluate(data), cancelled);    // before the first module
  EXPECT_THROW(reg.create("self_preference")->evaluate(data.dataset, cfg), cancelled);  // its bootstrap
  EXPECT_THROW(reg.create("winrate")->evaluate(data.dataset, cfg), cancelled);  // winrate's own resampling
  stats::cluster_sums rows(1);
  for (double v : {1.0, 2.0, 3.0}) *rows.add_row() = v;
  stats::bootstrap_options bo;
  bo.stop = &stop;
  EXPECT_THROW(stats::bootstrap_interval(
                   rows, [](std::span<const double> s) -> std::optional<double> { return s[0]; }, bo, 1),
               cancelled);
  stop = false;  // the same settings without the request run to the end
  const report r = pipeline(reg, cfg).evaluate(data);
  EXPECT_EQ(r.find("self_preference")->status, module_status::ok);
}

TEST(Pipeline, EmptyInputIsAnError) {
  fs::path dir = temp_dir();
  const std::string empty = (dir / "empty.jsonl").string(), bad = (dir / "bad.jsonl").string();
  std::ofstream(empty) << "\n\n";
  std::ofstream(bad) << "nope\n";
  config cfg;
  EXPECT_THROW(load({empty}, cfg), data_error);
  cfg.skip_invalid = true;
  try {
    load({bad}, cfg);
    FAIL() << "no error";
  } catch (const data_error& e) {
    EXPECT_NE(std::string(e.what()).find("1 line(s) skipped"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(Pipeline, EmbeddedSampleLoads) {
  config cfg;
  loaded_data d = load({}, cfg);
  EXPECT_EQ(d.stats.inputs.at(0).path, std::string(sample_name));
  EXPECT_EQ(d.stats.records, 4320u);  // synth --items 80: 54 records per item
}

TEST(Report, AtomicWriteReplacesAndLeavesNoTemporaryFile) {
  fs::path dir = temp_dir();
  const std::string path = (dir / "report.json").string();
  write_file_atomic(path, "old\n");
  write_json_file(jbtest::run_text(two_lines), path);
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "{");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  // A folder that does not exist: an io_error, and nothing is created.
  EXPECT_THROW(write_file_atomic((dir / "missing" / "r.json").string(), "x"), io_error);
  EXPECT_FALSE(fs::exists(dir / "missing"));
  fs::remove_all(dir);
}

TEST(Report, SummaryTableShowsHeadlineMetrics) {
  config cfg;
  cfg.bootstrap = 0;
  const std::string table = format_table(jbtest::run_text(two_lines, cfg));
  EXPECT_NE(table.find("self_preference"), std::string::npos) << table;
  EXPECT_NE(table.find("dbg_pairwise (pp)"), std::string::npos) << table;
  // Own wins both orders against a gold that prefers the other: +100.0 pp over 1 comparison.
  EXPECT_NE(table.find("+100.0"), std::string::npos) << table;
  EXPECT_NE(table.find("n=1"), std::string::npos) << table;
}

// Issue: results must be bit-identical whatever --threads. 400 items × 600 resamples is above the size
// where the bootstrap splits its batches across threads (2e5 draws).
TEST(Pipeline, AllModulesBitIdenticalAcrossThreadCounts) {
  std::ostringstream sample;
  synth_options so;
  so.items = 400;
  synthesize(so, sample);
  config cfg;
  cfg.by = {breakdown::task};
  cfg.bootstrap = 600;
  cfg.threads = 1;
  const std::string one = jbtest::run_text(sample.str(), cfg).dump();
  cfg.threads = 2;
  EXPECT_EQ(one, jbtest::run_text(sample.str(), cfg).dump());
  cfg.threads = 3;
  EXPECT_EQ(one, jbtest::run_text(sample.str(), cfg).dump());
}

// The costly modules start first (winrate and sensitivity here), but each section keeps the place
// --modules gives it, on one thread or several, and is the section the module gives run on its own.
TEST(Pipeline, SectionsFollowTheModulesOrderWhateverTheStartOrder) {
  std::ostringstream sample;
  synth_options so;
  so.items = 30;
  synthesize(so, sample);
  config cfg;
  cfg.bootstrap = 50;
  cfg.modules = {"position", "cue", "winrate", "self_preference", "sensitivity"};
  std::map<std::string, std::string> alone;
  for (const auto& name : cfg.modules) {
    config one = cfg;
    one.modules = {name};
    const pipeline p(jbtest::builtin_registry(), one);
    alone[name] = p.evaluate(jbtest::load_text(sample.str(), one)).to_json()["modules"][name].dump();
  }
  for (unsigned threads : {1u, 2u}) {
    cfg.threads = threads;
    const pipeline p(jbtest::builtin_registry(), cfg);
    const report r = p.evaluate(jbtest::load_text(sample.str(), cfg));
    std::vector<std::string> names;
    for (const auto& m : r.modules) names.push_back(m.name);
    EXPECT_EQ(names, cfg.modules) << threads;
    const auto sections = r.to_json()["modules"];
    for (const auto& name : cfg.modules) EXPECT_EQ(sections[name].dump(), alone[name]) << name << threads;
  }
}

// The --by groups indexed once by the dataset (what load() builds for the pipeline) give the report the
// kit's own grouping gives (a dataset built without them), for tasks and runs, with repeated runs.
TEST(Pipeline, BreakdownsIndexedByTheDatasetMatchTheKitsGrouping) {
  std::ostringstream sample;
  synth_options so;
  so.items = 60;
  synthesize(so, sample);
  std::string text = sample.str(), again = text;  // every record again in run 1: repeated runs
  for (std::size_t at = 0; (at = again.find("{\"judge\"", at)) != std::string::npos; at += 9)
    again.insert(at + 1, "\"run\":1,");
  text += again;
  config cfg;
  cfg.by = {breakdown::task, breakdown::run};
  cfg.bootstrap = 50;
  const pipeline p(jbtest::builtin_registry(), cfg);
  const std::string kit_groups = p.evaluate(jbtest::load_text(text, cfg)).to_json()["modules"].dump();
  const loaded_data indexed = load_texts({{"test.jsonl", text}}, cfg);
  const breakdown_groups* runs =
      indexed.dataset.groups_of(indexed.dataset.measured_judges()[0], breakdown::run);
  ASSERT_NE(runs, nullptr);
  EXPECT_EQ(runs->size(), 2u);  // runs 0 and 1
  EXPECT_EQ(jbtest::load_text(text, cfg).dataset.groups_of(0, breakdown::run), nullptr);
  const std::string dataset_groups = p.evaluate(indexed).to_json()["modules"].dump();
  EXPECT_NE(kit_groups.find("\"by_run\""), std::string::npos);
  EXPECT_EQ(kit_groups, dataset_groups);
}

// Reading a file on several threads gives the records, counts and errors of one thread.
TEST(Pipeline, ParallelReadingMatchesOneThread) {
  fs::path dir = temp_dir();
  const std::string path = (dir / "mixed.jsonl").string();
  {
    std::ofstream out(path);
    for (int i = 0; i < 3000; ++i) {
      if (i % 97 == 5)
        out << R"({"judge":"J","item":"q)" << i << R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":"maybe"})"
            << "\n";
      else if (i % 131 == 7)
        out << "\n";  // blank lines count as lines
      else if (i % 211 == 3)
        out << R"({"judge":"J","item":"q)" << i << R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":"A","meta":")"
            << std::string(300, 'z') << "\"}\n";  // over --max-line-bytes 256
      else
        out << R"({"judge":"J","item":"q)" << i % 50 << R"(","a":{"id":"x)" << i % 3
            << R"("},"b":{"id":"y"},"verdict":")" << (i % 2 ? "A" : "B") << R"(","run":)" << i / 50 << "}\n";
    }
  }
  config cfg;
  cfg.skip_invalid = true;
  cfg.max_line_bytes = 256;
  cfg.threads = 1;
  loaded_data one = load({path}, cfg);
  cfg.threads = 2;
  loaded_data two = load({path}, cfg);
  EXPECT_EQ(one.stats.lines, 3000u);
  EXPECT_EQ(two.stats.lines, one.stats.lines);
  EXPECT_EQ(two.stats.records, one.stats.records);
  EXPECT_EQ(two.stats.skipped, one.stats.skipped);
  EXPECT_EQ(two.stats.skipped_by_reason, one.stats.skipped_by_reason);
  ASSERT_EQ(two.stats.first_errors.size(), one.stats.first_errors.size());
  for (std::size_t k = 0; k < one.stats.first_errors.size(); ++k) {
    EXPECT_EQ(two.stats.first_errors[k].line, one.stats.first_errors[k].line);
    EXPECT_EQ(two.stats.first_errors[k].column, one.stats.first_errors[k].column);
  }
  EXPECT_EQ(one.stats.first_errors[0].line, 4u);  // i = 3: the first over-long line (physical line 4)
  EXPECT_EQ(two.stats.inputs.at(0).bytes, one.stats.inputs.at(0).bytes);
  ASSERT_EQ(two.dataset.size(), one.dataset.size());
  for (dataset::index i = 0; i < one.dataset.size(); ++i) {
    ASSERT_EQ(two.dataset.item(i), one.dataset.item(i));
    ASSERT_EQ(two.dataset.cand_a(i), one.dataset.cand_a(i));
    ASSERT_EQ(two.dataset.run(i), one.dataset.run(i));
  }
  // Under the stop policy both stop at the same first bad line.
  cfg.skip_invalid = false;
  for (unsigned threads : {1u, 2u}) {
    cfg.threads = threads;
    try {
      load({path}, cfg);
      FAIL() << "no error";
    } catch (const parse_error& e) {
      EXPECT_EQ(e.line(), 4u) << threads;
      EXPECT_EQ(e.reason(), "line_too_long") << threads;
    }
  }
  fs::remove_all(dir);
}

// An input of several 8 MiB blocks, where each block's parts are parsed while the one before is merged:
// the dataset, the counts, the errors in input order and the whole report are those of one thread, with
// bad lines in the first, a middle and the last block. 108,000 synth records (about 21 MB, 3 blocks).
TEST(Pipeline, ManyBlocksReadInParallelMatchOneThread) {
  std::ostringstream out;
  synth_options so;
  so.items = 2000;
  synthesize(so, out);
  std::string text = out.str();
  ASSERT_GT(text.size(), std::size_t{17} << 20);  // at least three blocks
  // A bad line replaces a whole line near each of these offsets (the first, second and third block).
  std::vector<std::uint64_t> bad_lines;
  for (const std::size_t at : {std::size_t{1000}, std::size_t{12} << 20, text.size() - 5000}) {
    const std::size_t start = text.rfind('\n', at) + 1, end = text.find('\n', start);
    text.replace(start, end - start, R"({"judge":"J","item":"x","verdict":"A"})");
    bad_lines.push_back(static_cast<std::uint64_t>(std::count(
                            text.begin(), text.begin() + static_cast<std::ptrdiff_t>(start), '\n')) +
                        1);
  }
  config cfg;
  cfg.skip_invalid = true;
  cfg.bootstrap = 50;
  cfg.threads = 1;
  const loaded_data one = load_texts({{"big.jsonl", text}}, cfg);
  EXPECT_EQ(one.stats.skipped, 3u);
  ASSERT_EQ(one.stats.first_errors.size(), 3u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(one.stats.first_errors[k].line, bad_lines[k]);
  module_registry reg;
  register_builtin_modules(reg);
  const std::string report_one = pipeline(reg, cfg).evaluate(one).to_json().dump();
  for (const unsigned threads : {2u, 3u}) {
    cfg.threads = threads;
    const loaded_data many = load_texts({{"big.jsonl", text}}, cfg);
    EXPECT_EQ(many.stats.records, one.stats.records) << threads;
    ASSERT_EQ(many.stats.first_errors.size(), 3u) << threads;
    for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(many.stats.first_errors[k].line, bad_lines[k]) << threads;
    ASSERT_EQ(many.dataset.size(), one.dataset.size());
    for (dataset::index i = 0; i < one.dataset.size(); ++i) {
      ASSERT_EQ(many.dataset.item(i), one.dataset.item(i)) << i;
      ASSERT_EQ(many.dataset.cand_b(i), one.dataset.cand_b(i)) << i;
      ASSERT_EQ(many.dataset.length_a(i), one.dataset.length_a(i)) << i;
    }
    cfg.threads = 1;  // the report's own --threads setting is not what is compared
    EXPECT_EQ(pipeline(reg, cfg).evaluate(many).to_json().dump(), report_one) << threads;
  }
  // Under the stop policy every thread count stops at the first bad line.
  cfg.skip_invalid = false;
  for (const unsigned threads : {1u, 2u, 3u}) {
    cfg.threads = threads;
    try {
      load_texts({{"big.jsonl", text}}, cfg);
      FAIL() << "no error";
    } catch (const parse_error& e) {
      EXPECT_EQ(e.line(), bad_lines[0]) << threads;
    }
  }
}

// A skipped line's message quotes the input; invalid UTF-8 there must not break the report. (Found by a
// mutation smoke test: a broken line whose first error was not the UTF-8 one had its bytes quoted.)
TEST(Report, InvalidUtf8NeverBreaksTheReport) {
  std::string text = two_lines;
  text += "{\"judge\":\"J\",\"item\":\"synth-000005\",\x8B}\n";  // not JSON, and a stray continuation byte
  text += "{\"ju\x8Bgg\":1\n";                                   // an unclosed object with one too
  config cfg;
  cfg.skip_invalid = true;
  report r = jbtest::run_text(text, cfg);
  EXPECT_EQ(r.to_json()["diagnostics"]["skipped_by_reason"]["invalid_utf8"], 2);
  EXPECT_EQ(r.to_json()["diagnostics"]["first_errors"][0]["column"], 36);  // the stray byte, after 35 bytes
  EXPECT_TRUE(json::accept(r.dump()));
  // And should a message ever carry such bytes, the writer replaces them instead of failing.
  r.meta["diagnostics"]["warnings"].push_back("bad \xFF byte");
  std::string dumped;
  ASSERT_NO_THROW(dumped = r.dump());
  EXPECT_NE(dumped.find("bad \xEF\xBF\xBD byte"), std::string::npos);  // U+FFFD
}

// A --by task group measures exactly the records of its task: every value (and n) of by_task.J.T equals
// the judge's value in a run kept to task T alone (--tasks T). Each group has its own records and
// comparisons since the per-group index (issue #13); this pins that it still selects the same records.
TEST(Pipeline, TaskBreakdownEqualsARunOnThatTaskAlone) {
  std::ostringstream sample;
  synth_options so;
  so.items = 60;
  so.seed = 4;
  synthesize(so, sample);
  config cfg;
  cfg.bootstrap = 0;
  cfg.by = {breakdown::task};
  const json whole = jbtest::run_text(sample.str(), cfg).to_json();
  std::size_t compared = 0;
  for (const char* task : {"synth/writing", "synth/coding", "synth/reasoning", "synth/math"}) {
    config one;
    one.bootstrap = 0;
    one.tasks = {task};
    module_registry reg;
    register_builtin_modules(reg);
    const json alone =
        pipeline(std::move(reg), one).evaluate(load_texts({{"s.jsonl", sample.str()}}, one)).to_json();
    for (const auto& [module, section] : whole["modules"].items()) {
      if (!section.contains("by_task")) continue;
      for (const auto& [judge, groups] : section["by_task"].items()) {
        if (!groups.contains(task)) continue;
        for (const auto& [metric, m] : groups[task].items()) {
          if (!m.is_object() || !m.contains("value")) continue;
          const json& other = alone["modules"][module]["judges"][judge][metric];
          EXPECT_EQ(m["value"], other["value"]) << module << " " << judge << " " << task << " " << metric;
          EXPECT_EQ(m["n"], other["n"]) << module << " " << judge << " " << task << " " << metric;
          ++compared;
        }
      }
    }
  }
  EXPECT_GT(compared, 200u);  // 4 tasks × 6 judges × the per-judge metrics of several modules
}
