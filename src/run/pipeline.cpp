// Dataset → modules → report (REPORT.md); reading is the reader's (src/ingest/load.cpp).
#include "judgebias/pipeline.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <numeric>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "common/json_object.hpp"
#include "common/parallel.hpp"
#include "judgebias/error.hpp"
#include "judgebias/version.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

// One warning naming the judge-level metrics that rest on fewer than 30 units (their intervals are wide
// and the closed forms approximate).
void warn_small_samples(report& r) {
  constexpr std::uint64_t enough = 30;
  std::vector<std::string> small;
  std::size_t count = 0;
  visit_tidy_rows(r, [&](const module_section& m, const report_row& row) {
    const bool in_group = (row.scope == row_scope::task || row.scope == row_scope::run) && !row.group.empty();
    if (!(row.value.value && std::isfinite(*row.value.value)) || row.value.n >= enough ||
        row.value.unit == unit::count || row.per_model || row.per_opponent || in_group)
      return;
    if (++count <= 8) {
      const std::string_view kind = row.kind();
      small.push_back(fmt::format("{}{}{}.{} of {} (n={})", m.name, kind.empty() ? "" : ".", kind, row.metric,
                                  row.judge.empty() ? "all judges" : row.judge, row.value.n));
    }
  });
  if (count == 0) return;
  std::string text = fmt::format("{} metric(s) rest on fewer than {} units, so their intervals are wide: {}",
                                 count, enough, fmt::join(small, ", "));
  if (count > small.size()) text += fmt::format(" and {} more", count - small.size());
  r.meta["diagnostics"]["warnings"].push_back(text);
}

// The order in which modules start when they run side by side: those that cost most first (measured on
// synth, docs/performance.md: winrate's and judge_agreement's bootstrap, sensitivity's per-opponent
// tables at --bootstrap 0), so that the last module to finish is a short one. Only the start changes:
// each section keeps its place in the report.
std::vector<std::size_t> start_order(const std::vector<std::string>& modules) {
  static constexpr std::array<std::string_view, 6> costly{"attribution",     "winrate",   "sensitivity",
                                                          "judge_agreement", "agreement", "verbosity"};
  auto rank = [](const std::string& name) {
    return static_cast<std::size_t>(std::find(costly.begin(), costly.end(), name) - costly.begin());
  };
  std::vector<std::size_t> order(modules.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return rank(modules[x]) < rank(modules[y]); });
  return order;
}

std::vector<std::string> by_names(const std::vector<breakdown>& by) {
  std::vector<std::string> out;
  out.reserve(by.size());
  for (breakdown b : by) out.emplace_back(to_string(b));
  return out;
}

}  // namespace

pipeline::pipeline(module_registry registry, config cfg)
    : registry_(std::move(registry)), cfg_(std::move(cfg)) {
  if (cfg_.modules.empty()) cfg_.modules = registry_.default_names();
  for (const auto& m : cfg_.modules)
    if (!registry_.contains(m))
      throw usage_error(
          fmt::format("unknown module \"{}\" (known: {})", m, fmt::join(registry_.names(), ", ")));
  if (!(cfg_.confidence > 0 && cfg_.confidence < 1))
    throw usage_error(fmt::format("--confidence must be between 0 and 1, got {}", cfg_.confidence));
  if (!(cfg_.min_length_gap >= 0) || !std::isfinite(cfg_.min_length_gap))
    throw usage_error(fmt::format("--min-length-gap must be a number >= 0, got {}", cfg_.min_length_gap));
  if (cfg_.max_line_bytes == 0) throw usage_error("--max-line-bytes must be at least 1");
  if (cfg_.soft && cfg_.pair_rule != pair_rule::each)
    throw usage_error(
        fmt::format("--soft scores each record by its prob_a, so it goes with --pair-rule each, not {}",
                    to_string(cfg_.pair_rule)));
  if (cfg_.gold_bootstrap && cfg_.gold_judges.empty())
    throw usage_error("--gold-bootstrap resamples the gold panel: name it with --gold-judges");
  if (cfg_.gold_bootstrap &&
      std::find(cfg_.modules.begin(), cfg_.modules.end(), "gold_noise") == cfg_.modules.end())
    throw usage_error("--gold-bootstrap is gold_noise's interval: add gold_noise to --modules");
  if (cfg_.gold_bootstrap && cfg_.bootstrap == 0)
    throw usage_error(
        "--gold-bootstrap resamples the gold judges within the bootstrap: not with --bootstrap 0");
  if (cfg_.bootstrap > max_bootstrap)
    throw usage_error(
        fmt::format("--bootstrap must be at most {} resamples, got {}", max_bootstrap, cfg_.bootstrap));
  auto no_repeats = [](const std::vector<std::string>& v, const char* option) {
    for (std::size_t k = 0; k < v.size(); ++k)
      if (std::find(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v[k]) !=
          v.begin() + static_cast<std::ptrdiff_t>(k))
        throw usage_error(fmt::format("{} lists \"{}\" twice", option, v[k]));
  };
  no_repeats(cfg_.modules, "--modules");
  no_repeats(by_names(cfg_.by), "--by");
  // More threads than there is work only costs memory: each use takes at most one per unit of work
  // (module, block part, resample batch), and no more than max_threads in all.
  if (cfg_.threads == 0) cfg_.threads = std::max(1u, std::thread::hardware_concurrency());
  cfg_.threads = std::min(cfg_.threads, max_threads);
}

report pipeline::run(const std::vector<std::string>& paths) const {
  return evaluate(load(paths, cfg_));
}

report pipeline::evaluate(const loaded_data& data) const {
  const dataset& d = data.dataset;
  const read_stats& st = data.stats;
  if (!cfg_.gold_judges.empty() && d.size() > 0 && d.measured_judges().empty())
    throw usage_error(
        fmt::format("--gold-judges names every judge of the input ({}): no judge is left to "
                    "measure",
                    fmt::join(cfg_.gold_judges, ", ")));
  json r;
  r["schema_version"] = report_schema_version;
  r["tool"] = {{"name", "judgebias"}, {"version", std::string(version())}};
  json inputs = json::array();
  for (const auto& in : st.inputs)
    inputs.push_back({{"path", in.path}, {"records", in.records}, {"bytes", in.bytes}});
  r["inputs"] = std::move(inputs);

  json self = json::array();
  for (const auto& [m, j] : cfg_.self) self.push_back({m, j});
  r["config"] = {{"modules", cfg_.modules},
                 {"bootstrap", cfg_.bootstrap},
                 {"seed", cfg_.seed},
                 {"confidence", cfg_.confidence},
                 {"gold_judges", cfg_.gold_judges},
                 {"self", std::move(self)},
                 {"soft", cfg_.soft},
                 {"length", std::string(to_string(cfg_.length))},
                 {"min_length_gap", cfg_.min_length_gap},
                 {"skip_invalid", cfg_.skip_invalid},
                 {"by", by_names(cfg_.by)}};
  if (cfg_.pair_rule != pair_rule::each) r["config"]["pair_rule"] = std::string(to_string(cfg_.pair_rule));
  if (!cfg_.baseline.empty()) r["config"]["baseline"] = cfg_.baseline;
  if (!cfg_.gold_covariate) r["config"]["gold_covariate"] = false;
  if (cfg_.gold_bootstrap) r["config"]["gold_bootstrap"] = true;
  if (!cfg_.judges.empty()) r["config"]["judges"] = cfg_.judges;
  if (!cfg_.tasks.empty()) r["config"]["tasks"] = cfg_.tasks;

  // Extraction failures over the records every module may use (non-duplicates); of them, the scores
  // outside their scale.
  std::vector<std::uint64_t> failures(d.judges().size(), 0), out_of_scale(d.judges().size(), 0);
  std::uint64_t total_failures = 0, total_out_of_scale = 0;
  for (dataset::index i = 0; i < d.size(); ++i)
    if (!d.is_duplicate(i) && !d.parsed(i)) {
      ++failures[d.judge(i)], ++total_failures;
      if (d.out_of_scale(i)) ++out_of_scale[d.judge(i)], ++total_out_of_scale;
    }
  std::vector<std::uint32_t> all_judges(d.judges().size());
  for (std::uint32_t j = 0; j < all_judges.size(); ++j) all_judges[j] = j;
  std::sort(all_judges.begin(), all_judges.end(),
            [&](auto x, auto y) { return d.judges().name(x) < d.judges().name(y); });
  json by_judge = json::object(), scale_by_judge = json::object();
  for (auto j : all_judges) {
    detail::append_member(by_judge, std::string(d.judges().name(j)), failures[j]);
    if (out_of_scale[j] > 0)
      detail::append_member(scale_by_judge, std::string(d.judges().name(j)), out_of_scale[j]);
  }

  json first_errors = json::array();
  for (const auto& e : st.first_errors)
    first_errors.push_back({{"path", e.path},
                            {"line", e.line},
                            {"column", e.column},
                            {"reason", e.reason},
                            {"message", e.message}});
  json warnings = json::array();
  for (const auto& w : d.diagnostics().warnings) warnings.push_back(w);
  if (!cfg_.baseline.empty() && d.models().find(cfg_.baseline) == no_id)
    warnings.push_back(
        fmt::format("--baseline: no answer in the input is by \"{}\", so winrate has no win rate "
                    "against it",
                    cfg_.baseline));
  for (auto j : all_judges)
    if (out_of_scale[j] > 0)
      warnings.push_back(fmt::format(
          "judge \"{}\": {} score(s) outside their record's scale, counted as extraction failures and not "
          "measured (--strict-scale makes them errors)",
          d.judges().name(j), out_of_scale[j]));
  for (const auto& name : cfg_.judges)
    if (d.judges().find(name) == no_id)
      warnings.push_back(fmt::format("--judges: judge \"{}\" has no records", name));
  for (const auto& name : cfg_.tasks)
    if (d.tasks().find(name) == no_id)
      warnings.push_back(fmt::format("--tasks: task \"{}\" has no records", name));
  r["diagnostics"] = {{"lines", st.lines},
                      {"records", st.records},
                      {"skipped", st.skipped},
                      {"skipped_by_reason", st.skipped_by_reason},
                      {"first_errors", std::move(first_errors)},
                      {"duplicates", d.diagnostics().duplicates},
                      {"extraction_failures", total_failures},
                      {"extraction_failures_by_judge", std::move(by_judge)},
                      {"out_of_scale", total_out_of_scale},
                      {"out_of_scale_by_judge", std::move(scale_by_judge)},
                      {"warnings", std::move(warnings)}};
  if (!cfg_.judges.empty() || !cfg_.tasks.empty()) r["diagnostics"]["filtered_out"] = st.filtered;

  // Modules only read the dataset: they run side by side, up to --threads at a time, and their sections
  // are placed in config order, so the report does not depend on the thread count.
  report out;
  out.meta = std::move(r);
  out.modules.resize(cfg_.modules.size());
  const std::vector<std::size_t> order = start_order(cfg_.modules);
  std::atomic<std::size_t> next{0};
  const std::size_t workers =
      std::max<std::size_t>(1, std::min<std::size_t>(cfg_.threads, out.modules.size()));
  detail::parallel_for(workers, [&](std::size_t) {
    try {
      for (std::size_t started = next++; started < order.size(); started = next++) {
        throw_if_stopped(cfg_.stop);
        const std::size_t k = order[started];
        out.modules[k] = registry_.create(cfg_.modules[k])->evaluate(d, cfg_);
        out.modules[k].name = cfg_.modules[k];
      }
    } catch (...) {
      next = out.modules.size();  // the others stop too; the failure is rethrown after the join
      throw;
    }
  });
  warn_small_samples(out);
  return out;
}

}  // namespace judgebias
