// run --compare A,B: paired differences between two judges on their shared items, with a paired
// item bootstrap that rebuilds the two judges' dataset on each resample.
#include "judgebias/compare.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "judgebias/error.hpp"
#include "judgebias/report.hpp"
#include "judgebias/stats.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;
using key =
    std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string>;

// Both judges' values of one metric in one evaluation.
struct pair_values {
  std::optional<double> a, b;
  std::string unit;
};

key key_of(const metric_row& m) {
  // A model or opponent named "" is told apart from none by prefixing the names of the dimensions used.
  return {
      m.module, m.kind, m.metric, m.per_model ? "=" + m.model : "", m.per_opponent ? "=" + m.opponent : "",
      m.task,   m.run};
}

}  // namespace

json compare_judges(const loaded_data& data, const pipeline& p, const std::string& judge_a,
                    const std::string& judge_b) {
  const dataset& d = data.dataset;
  const config& cfg = p.settings();
  const std::uint32_t ja = d.judges().find(judge_a), jb = d.judges().find(judge_b);
  if (ja == no_id || jb == no_id)
    throw usage_error(
        fmt::format("--compare: judge \"{}\" has no records{}", ja == no_id ? judge_a : judge_b,
                    cfg.judges.empty() && cfg.tasks.empty() ? "" : " (after --judges/--tasks)"));
  for (const auto& g : cfg.gold_judges)
    if (g == judge_a || g == judge_b)
      throw usage_error(
          fmt::format("--compare: \"{}\" is a gold judge (--gold-judges), not a measured one", g));
  if (ja == jb) throw usage_error("--compare needs two different judges");
  // The items both judged, in first-appearance order, and the records of the two judges and the gold
  // judges on each.
  std::vector<std::uint8_t> seen(d.items().size(), 0);
  for (auto i : d.records_of_judge(ja)) seen[d.item(i)] |= 1;
  for (auto i : d.records_of_judge(jb)) seen[d.item(i)] |= 2;
  std::vector<std::uint32_t> position(d.items().size(), no_id);
  std::uint32_t shared = 0;
  for (std::uint32_t it = 0; it < d.items().size(); ++it)
    if (seen[it] == 3) position[it] = shared++;
  if (shared == 0) throw usage_error(fmt::format("--compare: {} and {} share no item", judge_a, judge_b));
  std::vector<std::uint8_t> wanted(d.judges().size(), 0);
  wanted[ja] = wanted[jb] = 1;
  for (const auto& g : cfg.gold_judges)
    if (auto j = d.judges().find(g); j != no_id) wanted[j] = 1;
  std::vector<std::vector<dataset::index>> records(shared);
  for (dataset::index i = 0; i < d.size(); ++i)
    if (wanted[d.judge(i)] && position[d.item(i)] != no_id) records[position[d.item(i)]].push_back(i);

  config closed = cfg;
  closed.bootstrap = 0;
  closed.threads = 1;
  closed.judges.clear();
  closed.tasks.clear();
  const pipeline fast(p.registry(), closed);
  dataset_options dopt;
  dopt.gold_judges = cfg.gold_judges;
  dopt.breakdowns = cfg.by;  // the --by groups, indexed once for every module
  // The modules on the items drawn (positions into the shared items; a repeated item gets a new name).
  std::vector<key> order;  // the report's order of the metrics, from the first evaluation
  auto evaluate = [&](const std::vector<std::uint32_t>& draw, bool rename) {
    dataset_builder builder;
    std::vector<candidate_feature> features;  // record_view's, reused
    std::string name;
    for (std::size_t k = 0; k < draw.size(); ++k)
      for (auto i : records[draw[k]]) {
        record r = record_view(d, i, features);
        if (rename) {
          name = fmt::format("{}#{}", r.item, k);
          r.item = name;
        }
        builder.add(r);
      }
    loaded_data resampled{std::move(builder).finish(dopt), {}};
    std::map<key, pair_values> values;
    for (const auto& row : tidy_rows(fast.evaluate(resampled))) {
      if (row.judge != judge_a && row.judge != judge_b) continue;
      auto [at, fresh] = values.try_emplace(key_of(row));
      if (fresh && !rename) order.push_back(at->first);
      pair_values& v = at->second;
      (row.judge == judge_a ? v.a : v.b) = row.value;
      v.unit = row.unit;
    }
    return values;
  };

  std::vector<std::uint32_t> all(shared);
  for (std::uint32_t k = 0; k < shared; ++k) all[k] = k;
  const auto point = evaluate(all, false);
  std::vector<key> keys;
  for (const auto& k : order)
    if (point.at(k).a && point.at(k).b) keys.push_back(k);

  const std::uint32_t resamples = cfg.bootstrap;
  std::vector<std::vector<double>> diffs(keys.size(), std::vector<double>(resamples, std::nan("")));
  const std::uint64_t base = stats::stream_seed(cfg.seed, {"compare", judge_a, judge_b});
  const std::size_t threads =
      std::max<std::size_t>(1, std::min<std::size_t>(cfg.threads ? cfg.threads : 1, resamples));
  detail::parallel_for(resamples ? threads : 0, [&](std::size_t t) {
    std::vector<std::uint32_t> draw(shared);
    for (std::size_t r = t; r < resamples; r += threads) {
      throw_if_stopped(cfg.stop);
      stats::rng gen(base + r);
      for (auto& x : draw) x = static_cast<std::uint32_t>(gen.below(shared));
      const auto values = evaluate(draw, true);
      for (std::size_t k = 0; k < keys.size(); ++k)
        if (auto it = values.find(keys[k]); it != values.end() && it->second.a && it->second.b)
          diffs[k][r] = *it->second.a - *it->second.b;
    }
  });

  json out;
  out["judges"] = {judge_a, judge_b};
  out["items"] = shared;
  out["resamples"] = resamples;
  json metrics = json::array();
  const double alpha = 1.0 - cfg.confidence;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const auto& [module, kind, metric, model, opponent, task, run] = keys[k];
    const auto& v = point.at(keys[k]);
    json m;
    m["module"] = module;
    if (!kind.empty()) m["kind"] = kind;
    if (!model.empty()) m["model"] = model.substr(1);
    if (!opponent.empty()) m["opponent"] = opponent.substr(1);
    if (!task.empty()) m["task"] = task;
    if (!run.empty()) m["run"] = run;
    m["metric"] = metric;
    m["a"] = *v.a;
    m["b"] = *v.b;
    m["value"] = *v.a - *v.b;
    std::vector<double> ok;
    for (double x : diffs[k])
      if (std::isfinite(x)) ok.push_back(x);
    if (resamples == 0) {
      m["ci"] = nullptr;
      m["reason"] = "--bootstrap 0: no paired interval";
    } else if ((resamples - ok.size()) * 100 > resamples) {
      m["ci"] = nullptr;
      m["reason"] =
          fmt::format("undefined in {} of {} resamples (more than 1%)", resamples - ok.size(), resamples);
    } else {
      std::sort(ok.begin(), ok.end());
      m["ci"] = {stats::quantile_type7(ok, alpha / 2), stats::quantile_type7(ok, 1 - alpha / 2)};
    }
    m["n"] = shared;
    m["unit"] = v.unit;
    metrics.push_back(std::move(m));
  }
  out["metrics"] = std::move(metrics);
  return out;
}

}  // namespace judgebias
