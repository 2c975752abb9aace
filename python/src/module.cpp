// judgebias._judgebias: the C++ library as the Python package sees it. The package's judgebias/__init__.py
// is the public front (argument checking, records and DataFrames, the Report class); this file turns its
// plain values into the library's calls and the library's exceptions into the package's.
#include <csignal>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "cli/commands.hpp"
#include "judge/runner.hpp"
#include "judgebias/judgebias.hpp"
#include "records_text.hpp"

namespace py = pybind11;
using namespace judgebias;

namespace {

// --- Exceptions ---------------------------------------------------------------------------------------

// The package's exception classes (judgebias/_errors.py), looked up when first raised.
py::object error_class(const char* name) {
  return py::module_::import("judgebias._errors").attr(name);
}

// Raises the package's exception for a library exception (the caller holds the GIL). Text from the input
// goes through printable(), as the binary prints it: a message may quote bytes that are not UTF-8.
void raise_translated(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const parse_error& x) {
    py::object err = error_class("FormatError")(printable(x.message()), printable(x.path()), x.line(),
                                                x.column(), x.reason());
    PyErr_SetObject(error_class("FormatError").ptr(), err.ptr());
  } catch (const usage_error& x) {
    PyErr_SetString(error_class("UsageError").ptr(), printable(x.what()).c_str());
  } catch (const io_error& x) {
    PyErr_SetString(error_class("FileError").ptr(), printable(x.what()).c_str());
  } catch (const data_error& x) {
    PyErr_SetString(error_class("DataError").ptr(), printable(x.what()).c_str());
  } catch (const cancelled&) {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  } catch (const judgebias::error& x) {
    PyErr_SetString(error_class("Error").ptr(), printable(x.what()).c_str());
  }
}

// --- Long work: without the GIL, interruptible by Ctrl-C -------------------------------------------------

// Runs `work` on a thread of its own while the calling thread waits without the GIL, taking it back every
// 50 ms only to let Python run its signal handlers: Ctrl-C (a KeyboardInterrupt from a handler) sets
// `stop`, which the library checks between blocks of input, modules and batches of resamples, and the
// interrupt is raised once the work has stopped. Other Python threads run meanwhile. The work's own
// exception is rethrown on the caller's thread.
template <class T, class Work>
T without_gil(std::atomic<bool>& stop, Work&& work) {
  std::optional<T> result;
  std::exception_ptr failure;
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool interrupted = false;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        result.emplace(work());
      } catch (...) {
        failure = std::current_exception();
      }
      const std::lock_guard<std::mutex> lock(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock<std::mutex> lock(m);
    while (!cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
      if (interrupted) continue;
      lock.unlock();
      {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {  // the handler raised: keep its exception, stop the work
          interrupted = true;
          stop = true;
        }
      }
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (interrupted) throw py::error_already_set();  // the handler's exception, still set on this thread
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

// --- Options --------------------------------------------------------------------------------------------

// A config from the plain values judgebias.run() checked: names as lists, enums as their words.
config make_config(const py::dict& o) {
  config c;
  auto names = [&](const char* key) {
    return o.contains(key) ? o[key].cast<std::vector<std::string>>() : std::vector<std::string>{};
  };
  c.modules = names("modules");
  c.gold_judges = names("gold_judges");
  c.judges = names("judges");
  c.tasks = names("tasks");
  if (o.contains("self_map")) c.self = o["self_map"].cast<std::vector<std::pair<std::string, std::string>>>();
  if (o.contains("baseline")) c.baseline = o["baseline"].cast<std::string>();
  for (const auto& b : names("by")) c.by.push_back(parse_breakdown(b));
  if (o.contains("pair_rule")) c.pair_rule = parse_pair_rule(o["pair_rule"].cast<std::string>());
  if (o.contains("length")) c.length = parse_length_unit(o["length"].cast<std::string>());
  if (o.contains("bootstrap")) c.bootstrap = o["bootstrap"].cast<std::uint32_t>();
  if (o.contains("seed")) c.seed = o["seed"].cast<std::uint64_t>();
  if (o.contains("confidence")) c.confidence = o["confidence"].cast<double>();
  if (o.contains("min_length_gap")) c.min_length_gap = o["min_length_gap"].cast<double>();
  if (o.contains("skip_invalid")) c.skip_invalid = o["skip_invalid"].cast<bool>();
  if (o.contains("soft")) c.soft = o["soft"].cast<bool>();
  if (o.contains("gold_covariate")) c.gold_covariate = o["gold_covariate"].cast<bool>();
  if (o.contains("gold_bootstrap")) c.gold_bootstrap = o["gold_bootstrap"].cast<bool>();
  if (o.contains("strict_scale")) c.strict_scale = o["strict_scale"].cast<bool>();
  if (o.contains("threads")) c.threads = o["threads"].cast<unsigned>();
  if (o.contains("max_line_bytes")) c.max_line_bytes = o["max_line_bytes"].cast<std::uint64_t>();
  return c;
}

// --- Sources ----------------------------------------------------------------------------------------------

// The records of run() and validate() from Python as FORMAT v1 text, kept in C++ (no Python string of it
// is made): an iterable of mappings, or a DataFrame's columns as (paths, cells, whole) lists.
std::vector<std::pair<std::string, std::string>> texts_of(const py::object& records,
                                                          const py::object& frame) {
  std::vector<std::pair<std::string, std::string>> texts;
  if (!records.is_none()) texts.emplace_back("<records>", python::records_text(records.cast<py::iterable>()));
  if (!frame.is_none()) {
    const auto [paths, cells, whole] = frame.cast<
        std::tuple<std::vector<std::vector<std::string>>, std::vector<py::list>, std::vector<bool>>>();
    if (paths.size() != cells.size() || paths.size() != whole.size())
      throw usage_error("a DataFrame's columns: one path, cell list and flag per column");
    std::vector<python::frame_column> columns;
    columns.reserve(paths.size());
    for (std::size_t k = 0; k < paths.size(); ++k) columns.push_back({paths[k], cells[k], whole[k]});
    texts.emplace_back("<records>", python::frame_text(columns));
  }
  return texts;
}

// --- run ------------------------------------------------------------------------------------------------

// What run() reads: files, or FORMAT v1 texts already in memory (records from Python, imported files).
struct source {
  std::vector<std::string> paths;                          // files; none and no texts: the sample
  std::vector<std::pair<std::string, std::string>> texts;  // (name, FORMAT v1 text)
  std::vector<std::string> import_paths;                   // files in another tool's format
  std::string from;                                        // that format
};

report run(const source& src, const py::dict& options, const std::vector<std::string>& compare) {
  std::atomic<bool> stop{false};
  config cfg = make_config(options);
  cfg.stop = &stop;
  module_registry registry;
  register_builtin_modules(registry);
  pipeline p(std::move(registry), std::move(cfg));  // usage errors before anything is read
  if (!compare.empty() && compare.size() != 2) throw usage_error("compare takes two judges");
  check_paths(src.paths, {});
  return without_gil<report>(stop, [&] {
    loaded_data data = [&] {
      if (!src.from.empty())
        return load_imported(src.import_paths, parse_import_format(src.from),
                             import_options{p.settings().baseline}, p.settings());
      if (!src.texts.empty()) return load_texts(src.texts, p.settings());
      return load(src.paths, p.settings());
    }();
    report r = p.evaluate(data);
    if (compare.size() == 2) r.meta["compare"] = compare_judges(data, p, compare[0], compare[1]);
    return r;
  });
}

// --- The report ------------------------------------------------------------------------------------------

py::object optional_number(const std::optional<double>& v) {
  return v ? py::object(py::float_(*v)) : py::object(py::none());
}

// tidy_rows as dicts, with the CSV's columns (None where the CSV has an empty cell).
py::list rows_of(const report& r) {
  py::list out;
  auto text_or_none = [](const std::string& s, bool applies) {
    return applies ? py::object(py::str(s)) : py::object(py::none());
  };
  for (const metric_row& row : tidy_rows(r)) {
    py::dict d;
    d["module"] = row.module;
    d["kind"] = text_or_none(row.kind, !row.kind.empty());
    d["judge"] = text_or_none(row.judge, !row.judge.empty());
    d["model"] = text_or_none(row.model, row.per_model);
    d["opponent"] = text_or_none(row.opponent, row.per_opponent);
    d["task"] = text_or_none(row.task, !row.task.empty());
    d["run"] = text_or_none(row.run, !row.run.empty());
    d["metric"] = row.metric;
    d["value"] = optional_number(row.value);
    d["ci_low"] = optional_number(row.ci_low);
    d["ci_high"] = optional_number(row.ci_high);
    d["n"] = row.n;
    d["p"] = optional_number(row.p);
    d["unit"] = row.unit;
    d["reason"] = text_or_none(row.reason, !row.reason.empty());
    d["mde"] = optional_number(row.mde);
    out.append(std::move(d));
  }
  return out;
}

std::string json_text(const report& r) {
  std::string out;
  write_json(r, [&](std::string_view piece) { out.append(piece); });
  return out;
}

void write_report(const report& r, const std::string& path) {
  const output_format f = format_of_path(path);
  check_paths({}, {{"path", path}});
  if (f == output_format::json)
    write_json_file(r, path);
  else
    write_file_atomic(path, render(r, f));
}

// The gates' failures: every judge whose value trips one, and (with missing=True) every null value.
py::list check_report(const report& r, const std::vector<std::string>& gates, bool missing) {
  module_registry registry;
  register_builtin_modules(registry);
  std::vector<gate> parsed;
  parsed.reserve(gates.size());
  for (const auto& g : gates) parsed.push_back(parse_gate(g, registry));  // all checked before any runs
  py::list out;
  for (const auto& g : parsed)
    for (const gate_result& res : check_gate(r, g)) {
      if (res.value ? !res.tripped : !missing) continue;
      py::dict d;
      d["gate"] = g.text;
      d["judge"] = res.judge.empty() ? py::object(py::none()) : py::object(py::str(res.judge));
      d["model"] = res.model.empty() ? py::object(py::none()) : py::object(py::str(res.model));
      d["value"] = optional_number(res.value);
      d["reason"] = res.reason.empty() ? py::object(py::none()) : py::object(py::str(res.reason));
      out.append(std::move(d));
    }
  return out;
}

// --- validate --------------------------------------------------------------------------------------------

// validate_inputs' counts, as a dict (the binary prints them as text).
py::dict validate(const std::vector<std::string>& paths,
                  const std::vector<std::pair<std::string, std::string>>& texts, std::uint64_t max_line_bytes,
                  std::size_t show, bool strict_scale) {
  reader_options ro;
  ro.max_line_bytes = max_line_bytes;
  ro.keep_errors = show;
  ro.strict_scale = strict_scale;
  check_paths(paths, {});
  std::atomic<bool> stop{false};
  const validation c =
      without_gil<validation>(stop, [&] { return validate_inputs(paths, texts, ro, &stop); });
  py::dict d;
  d["lines"] = c.stats.lines;
  d["records"] = c.stats.records;
  d["invalid"] = c.stats.skipped;
  d["invalid_by_reason"] = c.stats.skipped_by_reason;
  py::list errors;
  for (const auto& e : c.stats.first_errors)
    errors.append(
        error_class("FormatError")(printable(e.message), printable(e.path), e.line, e.column, e.reason));
  d["errors"] = errors;
  py::dict fields;
  for (const auto& [name, n] : c.stats.unknown_fields) fields[py::str(name)] = n;
  d["unknown_fields"] = fields;
  py::dict judges;
  for (const auto& [name, j] : c.judges) {
    py::dict row;
    row["pairwise"] = j.pairwise;
    row["pointwise"] = j.pointwise;
    row["perturbed"] = j.perturbed;
    row["out_of_scale"] = j.out_of_scale;
    judges[py::str(name)] = row;
  }
  d["judges"] = judges;
  return d;
}

// --- synth, perturb, import
// ----------------------------------------------------------------------------------

synth_options make_synth(std::uint64_t items, std::uint64_t seed, double failure_rate,
                         std::uint64_t text_bytes, const std::vector<std::string>& logit_judges,
                         const std::vector<std::pair<std::string, double>>& length_scale) {
  synth_options o;
  o.items = items;
  o.seed = seed;
  o.failure_rate = failure_rate;
  o.text_bytes = text_bytes;
  for (const auto& j : logit_judges) o.judges.push_back(parse_synth_logit_judge(j));
  o.length_scale = length_scale;
  return o;
}

// --- The judge runner
// -----------------------------------------------------------------------------------------

judge::server_options make_server(const py::dict& o) {
  judge::server_options s;
  s.endpoint = o["endpoint"].cast<std::string>();
  s.model = o["model"].cast<std::string>();
  if (!o["temperature"].is_none()) s.temperature = o["temperature"].cast<double>();
  if (!o["seed"].is_none()) s.seed = o["seed"].cast<std::uint64_t>();
  if (!o["max_tokens"].is_none()) s.max_tokens = o["max_tokens"].cast<std::uint32_t>();
  s.concurrency = o["concurrency"].cast<unsigned>();
  s.timeout_s = o["timeout"].cast<double>();
  s.max_retries = o["max_retries"].cast<unsigned>();
  s.api_key_env = o["api_key_env"].cast<std::string>();
  if (!o["cache_dir"].is_none()) s.cache_dir = o["cache_dir"].cast<std::string>();
  s.use_cache = o["use_cache"].cast<bool>();
  return s;
}

py::dict summary_dict(const judge::run_summary& s) {
  py::dict d;
  d["requests"] = s.requests;
  d["records"] = s.records;
  d["calls"] = s.calls;
  d["cache_hits"] = s.cache_hits;
  d["duplicates"] = s.duplicates;
  d["retries"] = s.retries;
  d["extraction_failures"] = s.extraction_failures;
  d["prompt_tokens"] = s.prompt_tokens;
  d["completion_tokens"] = s.completion_tokens;
  d["seconds"] = s.seconds;
  d["cache_dir"] = s.cache_dir.empty() ? py::object(py::none()) : py::object(py::str(s.cache_dir));
  return d;
}

// The runner's calls wait on the network without the GIL. They do not check config::stop: Ctrl-C is
// raised when the call returns (the cache keeps every answer, so a new call resumes).
template <class Call>
auto runner_call(Call&& call) {
  std::atomic<bool> stop{false};
  return without_gil<decltype(call())>(stop, std::forward<Call>(call));
}

}  // namespace

PYBIND11_MODULE(_judgebias, m) {
  m.doc() = "The judgebias C++ library (use the judgebias package, not this module)";
  // pybind11 takes a translator of this exact type, std::exception_ptr by value.
  py::register_exception_translator([](std::exception_ptr e) {  // NOLINT(performance-unnecessary-value-param)
    try {
      std::rethrow_exception(e);
    } catch (const judgebias::error&) {
      raise_translated(e);
    }
  });

  py::class_<report>(m, "Report")
      .def("json", &json_text, "The JSON report, as the binary writes it")
      .def("csv", [](const report& r) { return to_csv(r); })
      .def("markdown", [](const report& r) { return to_markdown(r); })
      .def("html", [](const report& r) { return to_html(r); })
      .def(
          "table", [](const report& r, bool color) { return format_table(r, table_style{color}); },
          py::arg("color") = false)
      .def("rows", &rows_of)
      .def("write", &write_report, py::arg("path"))
      .def("check", &check_report, py::arg("gates"), py::arg("missing") = false)
      .def_static(
          "parse", [](const std::string& text, const std::string& name) { return parse_report(text, name); },
          py::arg("text"), py::arg("name"))
      .def_static("read", &read_report, py::arg("path"));

  m.def(
      "run",
      [](const std::vector<std::string>& paths, const py::object& records, const py::object& frame,
         const std::vector<std::string>& import_paths, const std::string& from, const py::dict& options,
         const std::vector<std::string>& compare) {
        return run(source{paths, texts_of(records, frame), import_paths, from}, options, compare);
      },
      py::arg("paths"), py::arg("records"), py::arg("frame"), py::arg("import_paths"), py::arg("from_"),
      py::arg("options"), py::arg("compare"));
  m.def(
      "validate",
      [](const std::vector<std::string>& paths, const py::object& records, const py::object& frame,
         std::uint64_t max_line_bytes, std::size_t show, bool strict_scale) {
        return validate(paths, texts_of(records, frame), max_line_bytes, show, strict_scale);
      },
      py::arg("paths"), py::arg("records"), py::arg("frame"), py::arg("max_line_bytes"), py::arg("show"),
      py::arg("strict_scale"));
  m.def(
      "synth",
      [](std::uint64_t items, std::uint64_t seed, double failure_rate, std::uint64_t text_bytes,
         const std::vector<std::string>& logit_judges,
         const std::vector<std::pair<std::string, double>>& scale, const std::string& path) {
        const synth_options o = make_synth(items, seed, failure_rate, text_bytes, logit_judges, scale);
        if (!path.empty()) {
          check_paths({}, {{"path", path}});
          std::uint64_t n = 0;
          write_stream_atomic(path, [&](std::ostream& out) { n = synthesize(o, out); });
          return py::object(py::int_(n));
        }
        std::ostringstream out;
        synthesize(o, out);
        return py::object(py::str(out.str()));
      },
      py::arg("items"), py::arg("seed"), py::arg("failure_rate"), py::arg("text_bytes"),
      py::arg("logit_judges"), py::arg("length_scale"), py::arg("path"));
  m.def(
      "synth_expected",
      [](std::uint64_t items, std::uint64_t seed, double failure_rate, std::uint64_t text_bytes,
         const std::vector<std::string>& logit_judges,
         const std::vector<std::pair<std::string, double>>& scale) {
        return synth_expected(make_synth(items, seed, failure_rate, text_bytes, logit_judges, scale)).dump();
      },
      py::arg("items"), py::arg("seed"), py::arg("failure_rate"), py::arg("text_bytes"),
      py::arg("logit_judges"), py::arg("length_scale"));
  m.def(
      "perturb",
      [](const std::string& name, const std::optional<std::string>& requests, const std::string& judge,
         const std::vector<std::string>& kinds, std::uint64_t seed, const std::string& templates) {
        perturb_options o;
        o.judge = judge;
        if (!kinds.empty()) o.kinds = kinds;
        o.seed = seed;
        if (!templates.empty()) o.templates = load_cue_templates(templates);
        std::ostringstream out;
        if (requests) {  // requests from Python, as text
          std::istringstream in(*requests);
          perturb_requests(in, name, o, out);
        } else {  // the file `name`, read as the binary reads it
          check_paths({name}, {});
          std::ifstream in(name, std::ios::binary);
          if (!in) throw io_error(fmt::format("{}: cannot open", name));
          perturb_requests(in, name, o, out);
        }
        return out.str();
      },
      py::arg("name"), py::arg("requests"), py::arg("judge"), py::arg("kinds"), py::arg("seed"),
      py::arg("templates"));
  m.def(
      "import_file",
      [](const std::string& path, const std::string& from, const std::string& baseline) {
        std::string out;
        import_file(path, parse_import_format(from), import_options{baseline}, out);
        return out;
      },
      py::arg("path"), py::arg("from_"), py::arg("baseline"));
  m.def(
      "diff",
      [](const report& a, const report& b, bool breakdowns) { return diff_reports(a, b, breakdowns); },
      py::arg("old"), py::arg("new"), py::arg("breakdowns"));
  m.def(
      "main",
      [](const std::vector<std::string>& args) {
        std::vector<std::string> argv = args;
        std::vector<char*> ptrs;
        ptrs.reserve(argv.size() + 1);
        for (auto& a : argv) ptrs.push_back(a.data());
        ptrs.push_back(nullptr);
        // The command line installs its handlers (SIGINT, SIGTERM, SIGPIPE, SIGXFSZ, out of memory) for a
        // process of its own; called from an interpreter that goes on, the interpreter's come back after.
        std::array<struct sigaction, 4> saved{};
        const std::array<int, 4> signals{SIGINT, SIGTERM, SIGPIPE, SIGXFSZ};
        for (std::size_t k = 0; k < signals.size(); ++k) sigaction(signals[k], nullptr, &saved[k]);
        const std::new_handler new_handler = std::get_new_handler();
        int status = 0;
        {
          py::gil_scoped_release release;
          status = cli::run_command_line(static_cast<int>(argv.size()), ptrs.data());
        }
        for (std::size_t k = 0; k < signals.size(); ++k) sigaction(signals[k], &saved[k], nullptr);
        std::set_new_handler(new_handler);
        return status;
      },
      py::arg("argv"), "The judgebias command line (python -m judgebias): its exit status");
  m.def("records_text", &python::records_text, py::arg("records"),
        "Records (mappings) as FORMAT v1 JSON Lines, one per line (what run() reads them as)");
  m.def(
      "judge",
      [](const std::string& input, const std::string& output, const py::dict& o) {
        judge::judge_options j;
        j.server = make_server(o);
        j.judge = o["judge"].cast<std::string>();
        j.judge_model = o["judge_model"].cast<std::string>();
        j.template_name = o["template"].cast<std::string>();
        j.both_orders = o["both_orders"].cast<bool>();
        j.logprobs = o["logprobs"].cast<bool>();
        j.top_logprobs = o["top_logprobs"].cast<unsigned>();
        j.runs = o["runs"].cast<unsigned>();
        j.keep_raw = o["keep_raw"].cast<bool>();
        j.scale_min = o["scale_min"].cast<double>();
        j.scale_max = o["scale_max"].cast<double>();
        check_paths({input}, {{"output", output}});
        return summary_dict(runner_call([&] { return judge::judge_file(input, output, j); }));
      },
      py::arg("input"), py::arg("output"), py::arg("options"));
  m.def(
      "respond",
      [](const std::string& input, const std::string& output, const py::dict& o) {
        judge::respond_options r;
        r.server = make_server(o);
        r.system = o["system"].cast<std::string>();
        check_paths({input}, {{"output", output}});
        return summary_dict(runner_call([&] { return judge::respond_file(input, output, r); }));
      },
      py::arg("input"), py::arg("output"), py::arg("options"));
  m.def(
      "pairs",
      [](const std::vector<std::string>& inputs, const std::string& output) {
        check_paths(inputs, {{"output", output}});
        return runner_call([&] { return judge::pairs_files(inputs, output); });
      },
      py::arg("inputs"), py::arg("output"));
  m.def("version", [] { return std::string(judgebias::version()); });
  m.def("embedded_sample", [] { return std::string(embedded_sample()); });
}
