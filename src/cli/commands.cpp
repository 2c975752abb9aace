// The judgebias command line: run, validate, synth, perturb, import, diff, list (judge, respond and
// pairs are in judge_commands.cpp), behind one function that main() and `python -m judgebias` call.
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"
#include "cli/judge_commands.hpp"
#include "judgebias/judgebias.hpp"

namespace {

using namespace judgebias;

// Exit statuses (docs/cli.md).
constexpr int exit_ok = 0, exit_data = 1, exit_usage = 2, exit_gate = 3;

// Names given as comma-separated lists (--judges, --compare, --gold-judges, --tasks, --modules): a
// comma inside a name is written \, and a backslash \\. Repeating the option adds to the list.
std::vector<std::string> split_names(const std::vector<std::string>& values, const char* option) {
  std::vector<std::string> names;
  for (const auto& v : values) {
    std::string name;
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (v[k] == '\\' && k + 1 < v.size() && (v[k + 1] == ',' || v[k + 1] == '\\')) {
        name += v[++k];
      } else if (v[k] == ',') {
        names.push_back(std::move(name));
        name.clear();
      } else {
        name += v[k];
      }
    }
    names.push_back(std::move(name));
  }
  for (const auto& n : names)
    if (n.empty()) throw usage_error(fmt::format("{}: an empty name in the list", option));
  return names;
}

// Whole numbers on the command line are decimal digits only: no sign (-1 would wrap), no octal 010,
// no hex 0x10, no exponent, and no more than the option's type holds (CLI11 would saturate).
CLI::Validator decimal(std::uint64_t max) {
  return CLI::Validator(
      [max](std::string& s) -> std::string {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos ||
            (s.size() > 1 && s[0] == '0'))
          return "must be a whole number in decimal digits (no sign, no leading zero), got \"" + s + "\"";
        if (ec != std::errc() || end != s.data() + s.size() || v > max)
          return fmt::format("must be at most {}, got {}", max, s);
        return {};
      },
      "UINT");
}
constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max(),
                        u64_max = std::numeric_limits<std::uint64_t>::max();

// "-", or a path that is this process's standard output (/dev/stdout, /dev/fd/1, or the same file or
// pipe; a device such as /dev/null is not "the same").
bool is_standard_output(const std::string& path) {
  if (path == "-") return true;
  struct stat a {
  }, b{};
  return ::stat(path.c_str(), &a) == 0 && ::fstat(1, &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino && !S_ISCHR(a.st_mode);
}

// A write interrupted by Ctrl-C or SIGTERM leaves no temporary file; then the signal ends the process
// as it would have.
extern "C" void on_stop_signal(int sig) {
  judgebias::remove_pending_temporary();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

// Memory held back for the way out. An allocation that fails throws std::bad_alloc as usual; but one
// made on the way out of an exception (while the thread unwinds, or in a handler that cleans up and
// rethrows, as std::vector does) releases a block of the reserve and is tried again. Destructors
// allocate there (a JSON tree frees itself through an allocated stack) and a destructor that throws
// ends the process, so the reserve is what makes the run end with "out of memory" and status 1
// rather than an abort, also when several threads run out at once. Other threads' ordinary
// allocations take from it once only: the very first failure of the process may itself be a
// destructor's (a JSON temporary freed at the end of an expression), so it is given one block and
// tried again; the next ordinary failure throws.
std::array<std::atomic<void*>, 8> memory_reserve{};
std::atomic<bool> first_failure_seen{false};
void on_out_of_memory() {
  if (std::uncaught_exceptions() > 0 || std::current_exception() || !first_failure_seen.exchange(true))
    for (auto& block : memory_reserve)
      if (void* p = block.exchange(nullptr)) {
        std::free(p);
        return;  // operator new tries again
      }
  throw std::bad_alloc();
}

std::pair<std::string, std::string> parse_self(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw usage_error(fmt::format("--self takes MODEL=JUDGE_MODEL, got \"{}\"", spec));
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

// What `run` does besides measuring: where the report goes, what stdout shows, gates, audit.
struct run_options {
  std::vector<std::string> outputs;  // -o, repeatable; the extension chooses the format
  std::string format = "table";      // stdout: table, json, csv, none
  bool quiet = false;
  std::vector<std::string> gates;
  bool fail_if_missing = false;
  std::optional<std::string> per_item;  // "-" = standard output
  std::vector<std::string> compare;     // two judges
  std::string from;                     // an importer's format, or empty for FORMAT v1
  import_options import;
};

bool is_terminal(std::FILE* f) {
  return ::isatty(::fileno(f)) != 0;
}

// Progress on stderr ("reading: 120 of 200 MB, 650,000 records/s, 1 s left"), at most 5 times a second.
class progress_line {
 public:
  void operator()(std::uint64_t done, std::uint64_t total, std::uint64_t records) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200) && done < total) return;
    last_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    std::string text = fmt::format("reading: {:.0f} of {:.0f} MB", static_cast<double>(done) / 1e6,
                                   static_cast<double>(total) / 1e6);
    if (seconds > 0.2) {
      text += fmt::format(", {:.0f} records/s", static_cast<double>(records) / seconds);
      if (done > 0 && total > done)
        text += fmt::format(", {:.0f} s left",
                            seconds * static_cast<double>(total - done) / static_cast<double>(done));
    }
    std::fprintf(stderr, "\r\x1b[K%s", text.c_str());
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fputs("\r\x1b[K", stderr);
    shown_ = false;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_{};
  bool shown_ = false;
};

// Only worth showing for inputs of more than about 50 MB, and only to a person at a terminal.
bool wants_progress(const std::vector<std::string>& files, bool quiet) {
  if (quiet || !is_terminal(stderr)) return false;
  std::uint64_t total = 0;
  for (const auto& f : files) {
    struct stat st {};
    if (f != "-" && ::stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_size);
  }
  return total > 50'000'000;
}

int cmd_run(const std::vector<std::string>& files, config cfg, const std::vector<std::string>& self_specs,
            const run_options& opt) {
  for (const auto& s : self_specs) cfg.self.push_back(parse_self(s));
  module_registry registry;
  register_builtin_modules(registry);
  // Everything a typo can break is checked before reading: formats, gates.
  std::vector<output_format> formats;
  for (const auto& o : opt.outputs) {
    if (o.empty()) throw usage_error("-o: an empty path names no file");
    formats.push_back(format_of_path(o));
  }
  std::vector<gate> gates;
  for (const auto& g : opt.gates) gates.push_back(parse_gate(g, registry));
  if (!opt.compare.empty() && opt.compare.size() != 2)
    throw usage_error("--compare takes two judges: --compare JUDGE_A,JUDGE_B");
  std::vector<output_path> outputs;
  for (const auto& o : opt.outputs) outputs.push_back({"-o", o});
  if (opt.per_item) {
    outputs.push_back({"--per-item", *opt.per_item});
    if (is_standard_output(*opt.per_item) && opt.format != "none" && !opt.quiet)
      throw usage_error(
          fmt::format("--per-item {} writes the audit lines to standard output, where --format also writes: "
                      "add --format none",
                      *opt.per_item));
  }
  pipeline p(std::move(registry), std::move(cfg));
  check_paths(files, outputs);  // before anything is read or written

  progress_line progress;
  progress_callback on_progress;
  if (wants_progress(files, opt.quiet))
    on_progress = [&](std::uint64_t done, std::uint64_t total, std::uint64_t records) {
      progress(done, total, records);
    };
  loaded_data data = [&] {
    try {
      if (!opt.from.empty()) {
        // Imported on the fly: each file becomes FORMAT v1 text in memory, then read as usual.
        const import_format f = parse_import_format(opt.from);
        if (files.empty()) throw usage_error("--from needs the files to import");
        return load_imported(files, f, opt.import, p.settings());
      }
      auto d = load(files, p.settings(), on_progress);
      progress.clear();
      return d;
    } catch (...) {
      progress.clear();
      throw;
    }
  }();
  report r = p.evaluate(data);
  if (!opt.compare.empty()) {
    r.meta["compare"] = compare_judges(data, p, opt.compare[0], opt.compare[1]);
  }

  if (opt.per_item) {
    if (*opt.per_item == "-")  // (/dev/stdout is written through by write_file_atomic)
      std::fputs(per_item_lines(data.dataset).c_str(), stdout);
    else
      write_file_atomic(*opt.per_item, per_item_lines(data.dataset));
  }
  for (std::size_t k = 0; k < opt.outputs.size(); ++k) {
    if (formats[k] == output_format::json)
      write_json_file(r, opt.outputs[k]);  // streamed: a report of a million judges is not held as text
    else
      write_file_atomic(opt.outputs[k], render(r, formats[k]));
  }
  if (!opt.quiet) {
    for (const auto& w : r.meta["diagnostics"]["warnings"])
      std::fprintf(stderr, "judgebias: warning: %s\n", printable(w.get<std::string>()).c_str());
    if (opt.format == "table") {
      table_style style;
      style.color = is_terminal(stdout) && std::getenv("NO_COLOR") == nullptr;
      std::fputs(format_table(r, style).c_str(), stdout);
      for (const auto& o : opt.outputs) std::fprintf(stdout, "%s written\n", o.c_str());
    } else if (opt.format == "json") {
      write_json(r, [](std::string_view piece) { std::fwrite(piece.data(), 1, piece.size(), stdout); });
    } else if (opt.format == "csv") {
      std::fputs(to_csv(r).c_str(), stdout);
    }
  }
  // Gates: every judge that trips one is named; a null value warns (or trips with --fail-if-missing).
  bool tripped = false;
  for (const auto& g : gates)
    for (const auto& res : check_gate(r, g)) {
      if (res.value && res.tripped) {
        tripped = true;
        std::fprintf(stderr, "judgebias: --fail-if '%s' tripped for judge %s%s (%s)\n", g.text.c_str(),
                     printable(res.judge).c_str(),
                     res.model.empty() ? "" : fmt::format(", model {}", printable(res.model)).c_str(),
                     fmt::format("{:g}", *res.value).c_str());
      } else if (!res.value) {
        tripped |= opt.fail_if_missing;
        if (opt.quiet && !opt.fail_if_missing) continue;  // a warning; -q prints errors and trips only
        std::fprintf(
            stderr, "judgebias: %s: --fail-if '%s' has no value%s (%s)%s\n",
            opt.fail_if_missing ? "gate" : "warning", g.text.c_str(),
            res.judge.empty() ? ""
                              : fmt::format(" for judge {}{}", printable(res.judge),
                                            res.model.empty() ? "" : ", model " + printable(res.model))
                                    .c_str(),
            res.reason.c_str(), opt.fail_if_missing ? ": tripped (--fail-if-missing)" : "; not tripped");
      }
    }
  return tripped ? exit_gate : exit_ok;
}

// `judgebias import --from FORMAT FILES... -o out.jsonl`
int cmd_import(const std::string& from, const std::vector<std::string>& files, const std::string& output,
               const import_options& opt) {
  const import_format f = parse_import_format(from);
  std::vector<output_path> outputs;
  if (!output.empty() && output != "-") outputs.push_back({"-o", output});
  check_paths(files, outputs);
  std::string out;
  std::uint64_t n = 0;
  for (const auto& path : files) n += import_file(path, f, opt, out);
  if (output.empty() || output == "-") {
    std::fwrite(out.data(), 1, out.size(), stdout);
  } else {
    write_file_atomic(output, out);
    std::fprintf(stderr, "wrote %llu records to %s\n", static_cast<unsigned long long>(n), output.c_str());
  }
  return exit_ok;
}

// `judgebias plan --from-report PILOT.json`: the minimum detectable effect and the units a study needs.
int cmd_plan(const std::string& path, const plan_options& o, const std::string& format) {
  if (path.empty() == !o.sd)
    throw usage_error("plan needs a pilot (--from-report) or a stated spread (--sd or --rate), not both");
  const report pilot = path.empty() ? report{} : read_report(path);
  const auto rows = path.empty() ? std::vector<plan_row>{plan_stated(o)} : plan_study(pilot, o);
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : rows) {
      nlohmann::ordered_json j = {{"judge", r.judge}};
      if (r.basis != "stated") {
        j["metric"] = o.metric;
        j["observed"] = to_json(r.observed);
      } else if (o.units) {
        j["units"] = *o.units;
      }
      j["null_value"] = r.null_value;
      j["se"] = r.se ? nlohmann::ordered_json(*r.se) : nlohmann::ordered_json();
      j["mde"] = r.mde ? nlohmann::ordered_json(*r.mde) : nlohmann::ordered_json();
      if (o.effect) {
        j["effect"] = *o.effect;
        j["needed"] = r.needed ? nlohmann::ordered_json(*r.needed) : nlohmann::ordered_json();
      }
      if (!r.basis.empty()) j["basis"] = r.basis;
      if (!r.reason.empty()) j["reason"] = r.reason;
      out.push_back(std::move(j));
    }
    std::fputs((out.dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(format_plan(rows, o, pilot).c_str(), stdout);
  }
  return exit_ok;
}

// `judgebias diff OLD.json NEW.json`: per judge and metric, the change and whether the intervals overlap.
int cmd_diff(const std::string& old_path, const std::string& new_path, bool all) {
  const report before = read_report(old_path), after = read_report(new_path);
  std::fputs(diff_reports(before, after, all).c_str(), stdout);
  return exit_ok;
}

int cmd_validate(const std::vector<std::string>& files, std::uint64_t max_line_bytes, std::size_t show,
                 bool strict_scale) {
  check_paths(files, {});
  reader_options ro;
  ro.max_line_bytes = max_line_bytes;
  ro.keep_errors = show;
  ro.strict_scale = strict_scale;
  const validation v = validate_inputs(files, {}, ro);
  const read_stats& st = v.stats;
  const std::uint64_t out_of_scale = v.out_of_scale;
  for (const auto& e : st.first_errors)
    std::fprintf(stderr, "%s:%llu:%llu: %s\n", printable(e.path).c_str(),
                 static_cast<unsigned long long>(e.line), static_cast<unsigned long long>(e.column),
                 printable(e.message).c_str());
  if (st.skipped > st.first_errors.size())
    std::fprintf(stderr, "... and %llu more invalid line(s)\n",
                 static_cast<unsigned long long>(st.skipped - st.first_errors.size()));
  std::string out =
      fmt::format("{} line(s), {} valid record(s), {} invalid line(s)\n", st.lines, st.records, st.skipped);
  for (const auto& [reason, n] : st.skipped_by_reason) out += fmt::format("  invalid, {}: {}\n", reason, n);
  if (out_of_scale > 0)
    out += fmt::format(
        "  valid, a judge's score outside its scale: {} (an extraction failure; --strict-scale: an error)\n",
        out_of_scale);
  if (!st.unknown_fields.empty()) {
    out += "unknown fields (ignored):\n";
    for (const auto& [name, n] : st.unknown_fields)
      out += fmt::format("  {}: {} record(s)\n", printable(name), n);
  }
  if (!v.judges.empty()) {
    std::vector<std::pair<std::string, const judge_counts*>> rows;
    std::size_t w = 5;
    for (const auto& [j, c] : v.judges) {
      rows.emplace_back(printable(j), &c);
      w = std::max(w, rows.back().first.size());
    }
    out += fmt::format("{:<{}}  {:>9}  {:>9}  {:>9}", "judge", w, "pairwise", "pointwise", "perturbed");
    out += out_of_scale > 0 ? fmt::format("  {:>12}\n", "out-of-scale") : "\n";
    for (const auto& [j, c] : rows) {
      out += fmt::format("{:<{}}  {:>9}  {:>9}  {:>9}", j, w, c->pairwise, c->pointwise, c->perturbed);
      out += out_of_scale > 0 ? fmt::format("  {:>12}\n", c->out_of_scale) : "\n";
    }
  }
  std::fputs(out.c_str(), stdout);
  if (st.records == 0 && st.skipped == 0) {
    std::fprintf(stderr, "judgebias: no records\n");
    return exit_data;
  }
  return st.skipped == 0 ? exit_ok : exit_data;
}

std::string_view direction_text(bias_direction d) {
  switch (d) {
    case bias_direction::higher:
      return "higher = more bias";
    case bias_direction::lower:
      return "lower = more bias";
    case bias_direction::away_from_zero:
      return "further from 0 = more bias";
    case bias_direction::away_from_half:
      return "further from 0.5 = more bias";
    case bias_direction::none:
      return "context";
  }
  return "";
}

int cmd_perturb(const std::string& input, const std::string& output, perturb_options opt,
                const std::string& template_file) {
  std::vector<std::string> inputs{input};
  if (!template_file.empty()) inputs.push_back(template_file);
  std::vector<output_path> outputs;
  if (!output.empty() && output != "-") outputs.push_back({"-o", output});
  check_paths(inputs, outputs);
  if (!template_file.empty()) opt.templates = load_cue_templates(template_file);
  std::ifstream file;
  if (input != "-") {
    file.open(input);
    if (!file) throw io_error(fmt::format("{}: cannot open", input));
  }
  std::istream& in = input == "-" ? std::cin : file;
  std::ostringstream buf;
  const std::uint64_t n = perturb_requests(in, input, opt, buf);
  if (output.empty() || output == "-") {
    std::fwrite(buf.str().data(), 1, buf.str().size(), stdout);
  } else {
    write_file_atomic(output, buf.str());
    std::fprintf(stderr, "wrote %llu records to %s; add each judge verdict, then: judgebias run %s\n",
                 static_cast<unsigned long long>(n), output.c_str(), output.c_str());
  }
  return exit_ok;
}

int cmd_list() {
  module_registry registry;
  register_builtin_modules(registry);
  std::string out;
  for (const auto& name : registry.names()) {
    auto m = registry.create(name);
    out += fmt::format("{}: {}{}\n", name, m->description(),
                       registry.by_default(name) ? "" : fmt::format(" (opt-in: --modules {})", name));
    // A metric of a named sub-section is listed as section.metric (the name --fail-if takes after the
    // module); one reported in every kind, as the metric alone.
    auto shown = [](const metric_info& info) {
      return info.section.empty() || info.section == every_section ? info.name
                                                                   : info.section + "." + info.name;
    };
    std::size_t w = 0;
    for (const auto& info : m->metrics()) w = std::max(w, shown(info).size());
    for (const auto& info : m->metrics())
      out += fmt::format("  {:<{}}  {:<11}  {:<29}  {}\n", shown(info), w, to_string(info.unit),
                         direction_text(info.direction), info.description);
    out += "\n";
  }
  std::fputs(out.c_str(), stdout);
  return exit_ok;
}

int cmd_synth(const synth_options& opt, const std::string& output, const std::string& expected) {
  std::vector<output_path> outputs;
  if (!output.empty()) outputs.push_back({"-o", output});
  if (!expected.empty()) outputs.push_back({"--expected", expected});
  if (!expected.empty() && is_standard_output(expected) && (output.empty() || is_standard_output(output)))
    throw usage_error("--expected - and the records would both go to standard output: give -o FILE");
  check_paths({}, outputs);
  std::uint64_t n = 0;
  if (output.empty() || output == "-") {
    std::ios::sync_with_stdio(false);
    try {
      n = synthesize(opt, std::cout);
    } catch (const io_error&) {
      throw io_error(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
    }
    std::cout.flush();
    if (!std::cout) throw io_error(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
  } else {
    write_stream_atomic(output, [&](std::ostream& out) { n = synthesize(opt, out); });
  }
  if (expected == "-")  // (/dev/stdout is written through by write_file_atomic)
    std::fputs((synth_expected(opt).dump(2) + "\n").c_str(), stdout);
  else if (!expected.empty())
    write_file_atomic(expected, synth_expected(opt).dump(2) + "\n");
  if (!output.empty() && output != "-")
    std::fprintf(stderr, "wrote %llu records to %s\n", static_cast<unsigned long long>(n), output.c_str());
  return exit_ok;
}

}  // namespace

namespace judgebias::cli {

// Declaring the options throws only on a programming error (a bad option name): let that abort.
int run_command_line(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"judgebias: measure the biases of LLM judges from their verdicts (JSON Lines)", "judgebias"};
  app.set_version_flag("--version", fmt::format("judgebias {}", judgebias::version()));
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 ok, 1 bad data or I/O error, 2 usage error, 3 a --fail-if gate tripped. Docs: "
      "docs/cli.md");

  // run
  config cfg;
  std::string pair_rule_text = "each";  // --pair-rule, read as text like --length
  std::string length_text = "chars";    // --length and --by, read as text (the help shows their words)
  std::vector<std::string> by_text;
  std::vector<std::string> files, self_specs, judge_list, task_list, module_list, gold_list, compare_list;
  run_options ropt;
  auto* run =
      app.add_subcommand("run", "Measure the judges' biases and report them (no FILE: the embedded sample)");
  run->add_option("files", files, "Judgment files (JSON Lines, FORMAT v1); - for standard input");
  run->add_option("-o,--output", ropt.outputs,
                  "Write the report here, atomically; repeatable; the extension chooses the format: .json, "
                  ".md, .csv, .html")
      ->allow_extra_args(false);
  run->add_option("--format", ropt.format, "What goes to standard output")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv", "none"}));
  run->add_flag("-q,--quiet", ropt.quiet, "Print nothing but errors (and tripped gates)");
  run->add_option("--fail-if", ropt.gates,
                  "Exit with status 3 when a judge's metric passes a bound, e.g. "
                  "'self_preference.dbg_pairwise.ci_low > 5' (module[.kind].metric[.ci_low|.ci_high] OP "
                  "number; repeatable)");
  run->add_flag("--fail-if-missing", ropt.fail_if_missing,
                "A --fail-if metric that is null trips the gate too");
  run->add_option("--per-item", ropt.per_item,
                  "Also write one JSON line per swap pair and per matched cue pair here (an audit file; - "
                  "for standard output, with --format none)");
  run->add_option(
      "--from", ropt.from,
      "Read the files in another tool's format: fastchat, fastchat-single, arena-hard, alpaca-eval, "
      "judgebench (docs/ecosystem.md)");
  run->add_option("--baseline", cfg.baseline,
                  "The baseline model: winrate's reference opponent (each model's win rate against it), and "
                  "arena-hard's game-1 answer A with --from arena-hard");
  run->add_option("--compare", compare_list,
                  "Paired difference of every metric between two judges on the items both judged, with a "
                  "paired bootstrap interval (--bootstrap resamples)")
      ->type_name("JUDGE_A,JUDGE_B");
  const char* names_note = " (comma-separated or repeated; a comma in a name is written \\,)";
  run->add_option("--judges", judge_list,
                  std::string("Keep only these judges (gold judges are always kept)") + names_note);
  run->add_option("--tasks", task_list, std::string("Keep only these tasks") + names_note);
  run->add_option("--modules", module_list, "Modules to run, comma-separated (default: all)");
  run->add_option("--gold-judges", gold_list,
                  std::string("Judges whose majority is the gold (replaces inline gold)") + names_note);
  run->add_option("--self", self_specs,
                  "Count MODEL's responses as own for judges whose model is JUDGE_MODEL")
      ->type_name("MODEL=JUDGE_MODEL");
  run->add_option("--bootstrap", cfg.bootstrap,
                  fmt::format("Bootstrap resamples, at most {}; 0 = closed-form intervals", max_bootstrap))
      ->capture_default_str()
      ->transform(decimal(u32_max));
  run->add_option("--seed", cfg.seed, "Seed of the bootstrap (decimal)")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  run->add_option("--confidence", cfg.confidence, "Confidence level of the intervals")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  run->add_option("--length", length_text, "Measure lengths in chars or tokens (verbosity)")
      ->capture_default_str()
      ->check(CLI::IsMember({"chars", "tokens"}));
  run->add_option(
         "--min-length-gap", cfg.min_length_gap,
         "Lengths must differ by more than this to count as longer (verbosity; same unit as --length)")
      ->capture_default_str();
  run->add_flag("--soft", cfg.soft, "Use prob_a (the judge's probability) in pairwise self-preference");
  run->add_option("--pair-rule", pair_rule_text,
                  "Scoring of a comparison judged in both orders, in self_preference's DBG, agreement and "
                  "winrate: each "
                  "(every record), conservative (FastChat: both orders must agree, else a tie) or counter "
                  "(JudgeBench: the sign of +1/-1 votes)")
      ->capture_default_str()
      ->check(CLI::IsMember({"each", "conservative", "counter"}));
  run->add_flag("--no-gold-covariate{false}", cfg.gold_covariate,
                "attribution: fit without the gold verdict as a covariate, on every parsed record (default: "
                "with it, on the records that have gold)");
  run->add_flag(
      "--gold-bootstrap", cfg.gold_bootstrap,
      "gold_noise: an interval for each judge's DBG that resamples the gold judges as well as the items "
      "(two-level bootstrap), so that it carries the panel's own noise");
  run->add_flag("--skip-invalid", cfg.skip_invalid,
                "Skip invalid lines (counted in the report) instead of stopping");
  run->add_flag("--strict-scale", cfg.strict_scale,
                "A judge's score outside its record's scale is an error (default: an extraction failure, "
                "counted per judge)");
  run->add_option("--max-line-bytes", cfg.max_line_bytes, "Longest accepted line")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  run->add_option("--by", by_text, "Also break metrics down by task and/or run")
      ->delimiter(',')
      ->check(CLI::IsMember({"task", "run"}));
  run->add_option("--threads", cfg.threads,
                  fmt::format("Threads (0 = all cores; at most {} are used); results do not depend on it",
                              max_threads))
      ->capture_default_str()
      ->transform(decimal(u32_max));

  // validate
  std::vector<std::string> vfiles;
  std::uint64_t vmax = 64ull << 20;
  std::size_t vshow = 100;
  auto* validate = app.add_subcommand(
      "validate", "Check every line of judgment files, list unknown fields, count records");
  validate->add_option("files", vfiles, "Judgment files; - for standard input")->required();
  bool vstrict = false;
  validate->add_option("--max-line-bytes", vmax, "Longest accepted line")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  validate->add_option("--show", vshow, "How many errors to print")
      ->capture_default_str()
      ->transform(decimal(static_cast<std::uint64_t>(std::numeric_limits<std::size_t>::max())));
  validate->add_flag("--strict-scale", vstrict, "A judge's score outside its record's scale is invalid");

  // synth
  synth_options sopt;
  std::string soutput, sexpected;
  auto* synth = app.add_subcommand("synth", "Generate a judgment file with planted biases (docs/synth.md)");
  synth->add_option("--items", sopt.items, "Items (prompts); 54 records each with the default judges")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  synth->add_option("--seed", sopt.seed, "Seed")->capture_default_str()->transform(decimal(u64_max));
  synth
      ->add_option("--text-bytes", sopt.text_bytes,
                   "Give responses texts of about this many bytes instead of lengths (0: lengths)")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  std::vector<std::string> slogit, sscale;
  synth->add_option(
      "--logit-judge", slogit,
      "A judge whose verdicts follow a logistic model, NAME:position=X,gold=X,self=X,length=X,cue=X "
      "(repeatable; replaces the default panel; docs/synth.md)");
  synth->add_option("--length-scale", sscale,
                    "MODEL=FACTOR: multiply that model's response lengths (repeatable)");
  auto* synth_out = synth->add_option("-o,--output", soutput, "Output file (default: standard output)");
  auto* synth_expected_opt = synth->add_option("--expected", sexpected,
                                               "Also write the planted metrics' expected values (JSON) here");

  // perturb
  perturb_options popt;
  std::string pinput, poutput, ptemplates;
  auto* perturb = app.add_subcommand(
      "perturb",
      "Write control and cue variants (both orders) of comparison requests, for a judge to fill in");
  perturb
      ->add_option("requests", pinput,
                   "Comparison requests (JSONL: item, question, a/b with text); - for stdin")
      ->required();
  perturb->add_option("--judge", popt.judge, "The judge's name written into every record")->required();
  perturb->add_option("--kinds", popt.kinds, "Cue kinds, comma-separated")
      ->delimiter(',')
      ->default_str("bandwagon,authority,verbosity,distraction,reflection");
  perturb->add_option("--seed", popt.seed, "Seed of the template choice")
      ->capture_default_str()
      ->transform(decimal(u64_max));
  auto* perturb_templates = perturb->add_option("--template-file", ptemplates,
                                                "JSON file of your own cue templates (docs/workflow.md)");
  auto* perturb_out = perturb->add_option("-o,--output", poutput, "Output file (default: standard output)");

  std::string ifrom, ioutput;
  std::vector<std::string> ifiles;
  import_options iopt;
  auto* import = app.add_subcommand(
      "import", "Convert other tools' judgment files to FORMAT v1 JSON Lines (docs/ecosystem.md)");
  import->add_option("--from", ifrom, "fastchat, fastchat-single, arena-hard, alpaca-eval or judgebench")
      ->required();
  import->add_option("files", ifiles, "Files to convert; - for standard input")->required();
  auto* import_out = import->add_option("-o,--output", ioutput, "Output file (default: standard output)");
  import->add_option("--baseline", iopt.baseline, "arena-hard: the baseline model (game 1's answer A)");

  std::string dold, dnew;
  bool dall = false;
  plan_options plopt;
  std::string plreport, plformat = "table";
  std::vector<std::string> pljudges;
  double pleffect = 0, plnull = 0;
  auto* plan = app.add_subcommand("plan",
                                  "From a pilot report (or stated rates): the smallest effect its data could "
                                  "detect, and the units a study "
                                  "needs");
  auto* plreport_opt =
      plan->add_option("--from-report", plreport, "The pilot's JSON report (judgebias run -o pilot.json)");
  auto* plmetric_opt =
      plan->add_option("--metric", plopt.metric, "MODULE.METRIC, a metric reported per judge")
          ->capture_default_str();
  std::vector<std::string> plcompare;
  plan->add_option(
          "--compare", plcompare,
          "A,B: plan for the difference between two judges (paired when the pilot ran --compare A,B)")
      ->needs(plreport_opt);
  double plsd = 0, plrate = 0;
  std::uint64_t plunits = 0;
  auto* plsd_opt =
      plan->add_option("--sd", plsd,
                       "Without a pilot: the standard deviation of one unit, in the metric's unit")
          ->excludes(plreport_opt)
          ->excludes(plmetric_opt);
  auto* plrate_opt =
      plan->add_option("--rate", plrate,
                       "Without a pilot: a rate P of 0/1 units, whose sd is sqrt(P(1-P)) (in fractions)")
          ->excludes(plreport_opt)
          ->excludes(plsd_opt)
          ->excludes(plmetric_opt);
  auto* plunits_opt =
      plan->add_option("--units", plunits, "With --sd or --rate: the units the data have, for their mde");
  plan->add_option("--judges", pljudges, "Only these judges (comma-separated; repeatable)");
  auto* pleffect_opt =
      plan->add_option("--effect", pleffect,
                       "The effect to detect, as a distance from no bias in the metric's unit (5 = 5 pp)");
  auto* plnull_opt = plan->add_option(
      "--null", plnull, "The value of no bias (default: 0.5 for a rate judged against one half, else 0)");
  plan->add_option("--alpha", plopt.alpha, "Two-sided level of the test")->capture_default_str();
  plan->add_option("--power", plopt.power, "Wanted power")->capture_default_str();
  plan->add_option("--format", plformat, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));

  auto* diff = app.add_subcommand(
      "diff", "Compare two JSON reports: per judge and metric, the change and whether the intervals overlap");
  diff->add_option("old", dold, "The earlier report (.json)")->required();
  diff->add_option("new", dnew, "The later report (.json)")->required();
  diff->add_flag("--all", dall, "Also the breakdowns (opponents, tasks, runs)");

  judgebias::cli::judge_commands runner_commands(app);

  auto* list = app.add_subcommand(
      "list", "List the modules, their metrics, units and which direction means more bias");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  // Past a file-size limit (ulimit -f) a write then fails with EFBIG and is reported, instead of the
  // signal ending the process; a closed pipe (`| head -1`) is a write error too (docs/cli.md: status 1
  // and a line). Ctrl-C and SIGTERM remove a half-written temporary file.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGTERM})  // a signal the caller ignores (a background job's SIGINT) stays so
    if (std::signal(sig, on_stop_signal) == SIG_IGN) std::signal(sig, SIG_IGN);
  for (auto& block : memory_reserve)  // once per process (python -m judgebias may call this again)
    if (block == nullptr) block = std::malloc(std::size_t{1} << 20);
  std::set_new_handler(on_out_of_memory);
  try {
    int status = exit_ok;
    // An output option given an empty path names no file (rather than meaning standard output).
    for (const auto* o : {synth_out, synth_expected_opt, perturb_out, import_out, perturb_templates})
      if (o->count() > 0 && o->as<std::string>().empty())
        throw usage_error(fmt::format("{}: an empty path names no file", o->get_name()));
    if (*run) {
      cfg.judges = split_names(judge_list, "--judges");
      cfg.tasks = split_names(task_list, "--tasks");
      cfg.modules = split_names(module_list, "--modules");
      cfg.gold_judges = split_names(gold_list, "--gold-judges");
      cfg.length = parse_length_unit(length_text);
      cfg.pair_rule = parse_pair_rule(pair_rule_text);
      ropt.import.baseline = cfg.baseline;  // one option for both (docs/cli.md)
      for (const auto& b : by_text) cfg.by.push_back(parse_breakdown(b));
      ropt.compare = split_names(compare_list, "--compare");
      status = cmd_run(files, cfg, self_specs, ropt);
    } else if (*diff) {
      status = cmd_diff(dold, dnew, dall);
    } else if (*plan) {
      if (*pleffect_opt) plopt.effect = pleffect;
      if (*plnull_opt) plopt.null_value = plnull;
      plopt.judges = split_names(pljudges, "--judges");
      plopt.compare = split_names(plcompare, "--compare");
      if (*plsd_opt) plopt.sd = plsd;
      if (*plrate_opt) {
        if (!(plrate > 0 && plrate < 1)) throw usage_error("--rate must lie between 0 and 1");
        plopt.sd = std::sqrt(plrate * (1 - plrate));
      }
      if (*plunits_opt) {
        if (!plopt.sd) throw usage_error("--units goes with --sd or --rate");
        plopt.units = plunits;
      }
      status = cmd_plan(plreport, plopt, plformat);
    } else if (*import)
      status = cmd_import(ifrom, ifiles, ioutput, iopt);
    else if (*validate)
      status = cmd_validate(vfiles, vmax, vshow, vstrict);
    else if (*synth) {
      for (const auto& j : slogit) sopt.judges.push_back(parse_synth_logit_judge(j));
      for (const auto& m : sscale) {
        const auto eq = m.find('=');
        if (eq == std::string::npos)
          throw usage_error(fmt::format("--length-scale \"{}\": expected MODEL=FACTOR", m));
        char* end = nullptr;
        const std::string f = m.substr(eq + 1);
        const double v = std::strtod(f.c_str(), &end);
        if (f.empty() || *end != '\0')
          throw usage_error(fmt::format("--length-scale \"{}\": \"{}\" is not a number", m, f));
        sopt.length_scale.emplace_back(m.substr(0, eq), v);
      }
      status = cmd_synth(sopt, soutput, sexpected);
    } else if (*list)
      status = cmd_list();
    else if (*perturb)
      status = cmd_perturb(pinput, poutput, popt, ptemplates);
    else
      runner_commands.dispatch(status);
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      std::fprintf(stderr, "judgebias: cannot write to standard output: %s\n", std::strerror(errno));
      return exit_data;
    }
    return status;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "judgebias: %s\n", printable(e.what()).c_str());
    return exit_usage;
  } catch (const parse_error& e) {
    std::fprintf(stderr, "%s\n", printable(e.what()).c_str());
    if (e.reason() == "import")
      std::fprintf(stderr,
                   "judgebias: stopped at the first malformed judgment of the input; nothing was written\n");
    else if (*run)  // the only command with --skip-invalid
      std::fprintf(stderr,
                   "judgebias: stopped at the first invalid line; nothing was written (--skip-invalid skips "
                   "such lines)\n");
    else
      std::fprintf(stderr, "judgebias: nothing was written\n");
    return exit_data;
  } catch (const judgebias::error& e) {
    std::fprintf(stderr, "judgebias: %s\n", printable(e.what()).c_str());
    return exit_data;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "judgebias: out of memory (a smaller input, or more memory, is needed)\n");
    return exit_data;
  } catch (const std::exception& e) {  // a system limit (threads, files): still a message and status 1
    std::fprintf(stderr, "judgebias: %s\n", printable(e.what()).c_str());
    return exit_data;
  }
}

}  // namespace judgebias::cli
