// Win rates per judge and model (issue #16, first part): what the judge says each model wins, beside
// what the gold says. Sources: AlpacaEval (src/alpaca_eval/metrics/helpers.py: the weighted win rate
// from the preference probability, its standard error as the sample sd over sqrt(n), wins, losses and
// draws, the discrete win rate); FastChat's MT-Bench pairwise win rate against a baseline.
#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"

namespace judgebias {

namespace {

using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns per item of one (model, opponent set): Σ outcome, Σ outcome², n, wins, losses, draws,
// Σ gold outcome, n with gold.
enum column : std::size_t { c_sum, c_sq, c_n, c_wins, c_losses, c_draws, c_gold, c_gold_n, c_width };

// One model's outcomes against one opponent (or all, or the baseline).
struct tally {
  explicit tally(std::size_t items) : rows(items, c_width) {}
  item_sums rows;
  std::vector<double> outcomes, gold;
  std::uint64_t wins = 0, losses = 0, draws = 0;
  void add(std::uint32_t item, double outcome, std::optional<double> gold_outcome) {
    double* r = rows[item];
    r[c_sum] += outcome, r[c_sq] += outcome * outcome, r[c_n] += 1;
    const bool win = outcome > 0.5, loss = outcome < 0.5;
    r[c_wins] += win, r[c_losses] += loss, r[c_draws] += !win && !loss;
    wins += win, losses += loss, draws += !win && !loss;
    outcomes.push_back(outcome);
    if (gold_outcome) {
      r[c_gold] += *gold_outcome, r[c_gold_n] += 1;
      gold.push_back(*gold_outcome);
    }
  }
};

metric count_metric(std::uint64_t count, std::uint64_t n) {
  metric m;
  m.value = static_cast<double>(count);
  m.n = n;
  m.unit = unit::count;
  m.reason = "a count has no interval";
  return m;
}

// A closed-form interval of a win rate in pp, kept within [0, 100] (a t interval of few outcomes can
// reach past them).
std::optional<std::array<double, 2>> in_pp(std::optional<std::array<double, 2>> ci) {
  if (!ci) return ci;
  return std::array<double, 2>{std::clamp(100 * (*ci)[0], 0.0, 100.0),
                               std::clamp(100 * (*ci)[1], 0.0, 100.0)};
}

void put_tally(metric_builder& mb, const tally& t, const std::vector<std::string>& at, double conf) {
  auto path = [&](const char* name) {
    auto p = at;
    p.emplace_back(name);
    return p;
  };
  const std::uint64_t n = t.outcomes.size();
  mb.put(
      path("win_rate"), unit::pp, n, t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * s[c_sum] / s[c_n];
      },
      [&]() { return in_pp(kit::t_closed(t.outcomes, conf)()); },
      "no parsed record of the model against this opponent");
  // AlpacaEval's standard error: the sample sd (n - 1) of the outcomes over sqrt(n).
  metric se;
  se.unit = unit::pp;
  se.n = n;
  const auto mo = kit::moments_of(t.outcomes);
  if (n >= 2) {
    se.value = 100 * mo.sd / std::sqrt(mo.n);
    se.reason = "a standard error has no interval (win_rate's is beside it)";
  } else {
    se.reason = "needs 2 or more parsed records";
  }
  mb.put(path("standard_error"), se);
  mb.put(path("n_wins"), count_metric(t.wins, n));
  mb.put(path("n_losses"), count_metric(t.losses, n));
  mb.put(path("n_draws"), count_metric(t.draws, n));
  mb.put(
      path("discrete_win_rate"), unit::pp, n, t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * (s[c_wins] + s[c_draws] / 2) / s[c_n];
      },
      [&]() {
        return in_pp(stats::wilson_interval(static_cast<double>(t.wins) + static_cast<double>(t.draws) / 2,
                                            static_cast<double>(n), conf));
      },
      "no parsed record of the model against this opponent");
  mb.put(
      path("gold_win_rate"), unit::pp, t.gold.size(), t.rows,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_gold_n] <= 0) return std::nullopt;
        return 100 * s[c_gold] / s[c_gold_n];
      },
      [&]() { return in_pp(kit::t_closed(t.gold, conf)()); },
      "no record of the model against this opponent has gold");
}

class winrate_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "winrate"; }
  std::string_view description() const noexcept override {
    return "Win rate of each model under each judge (against each opponent, or --baseline), beside the "
           "gold's";
  }
  std::vector<metric_info> metrics() const override {
    return {
        metric_info{"win_rate", unit::pp, bias_direction::none,
                    "mean outcome of the model's records: P(model preferred) from prob_a, else 1 / 0.5 / 0"}
            .shown(1),
        {"standard_error", unit::pp, bias_direction::none, "sample sd of the outcomes (n - 1) over sqrt(n)"},
        {"n_wins", unit::count, bias_direction::none, "records whose outcome is above one half"},
        {"n_losses", unit::count, bias_direction::none, "records whose outcome is below one half"},
        {"n_draws", unit::count, bias_direction::none, "records whose outcome is exactly one half"},
        {"discrete_win_rate", unit::pp, bias_direction::none, "(wins + draws / 2) / n"},
        metric_info{"gold_win_rate", unit::pp, bias_direction::none,
                    "the same from the gold verdicts, over the records that have gold"}
            .shown(2),
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    bool any = false;
    for (const comparison& c : d.comparisons())
      any |=
          !d.is_gold_judge(c.judge) && c.model_lo != no_id && c.model_hi != no_id && c.model_lo != c.model_hi;
    if (!any) {
      result.skipped = true;
      result.reason = "no pairwise comparison of a measured judge names the models of both answers";
      return result;
    }
    nlohmann::ordered_json failures = nlohmann::ordered_json::object();  // per judge, over all its records
    result.body = kit::per_judge(d, cfg, [&](const kit::selection& s) {
      std::uint64_t n = 0;
      auto m = measure(d, cfg, s, n);
      if (s.all()) failures[d.judges().name(s.judge)] = n;
      return m;
    });
    nlohmann::ordered_json diagnostics = {{"extraction_failures_by_judge", std::move(failures)}};
    if (!cfg.baseline.empty()) diagnostics["baseline_found"] = d.models().find(cfg.baseline) != no_id;
    result.body.extra({"diagnostics"}, std::move(diagnostics));
    return result;
  }

 private:
  // The metrics of one judge (or one --by group of it); `failures` counts its units that are extraction
  // failures (left out).
  kit::measurement measure(const dataset& d, const config& cfg, const kit::selection& sel,
                           std::uint64_t& failures) const {
    metric_builder mb(d, cfg, name(), sel);
    const std::size_t items = d.items().size();
    const bool soft = cfg.pair_rule == pair_rule::each;  // prob_a scores a record, not a pair
    // With --baseline, a model's own tally is against the baseline only (no_id if it is not in the data).
    const bool against_baseline = !cfg.baseline.empty();
    const std::uint32_t baseline = against_baseline ? d.models().find(cfg.baseline) : no_id;
    // Per model: its overall tally (against every opponent, or the baseline) and one per opponent, by
    // name so that the report's order does not depend on interning.
    std::map<std::string, std::pair<tally, std::map<std::string, tally>>> models;
    auto of = [&](std::uint32_t model) -> auto& {
      const std::string& name = d.models().name(model);
      auto it = models.find(name);
      if (it == models.end())
        it = models
                 .emplace(std::piecewise_construct, std::forward_as_tuple(name),
                          std::forward_as_tuple(tally(items), std::map<std::string, tally>{}))
                 .first;
      return it->second;
    };
    std::vector<kit::scored_unit> units;
    const auto comparisons = sel.comparisons(d);
    for (std::size_t k = 0; k < comparisons.size(); ++k) {
      const comparison& c = d.comparisons()[comparisons[k]];
      if (c.model_lo == no_id || c.model_hi == no_id || c.model_lo == c.model_hi) continue;
      units.clear();
      kit::score_comparison(d, sel, k, cfg.pair_rule, units);
      const std::optional<double> gold_lo = c.gold == no_id ? std::nullopt
                                                            : std::optional<double>(c.gold == c.lo   ? 1.0
                                                                                    : c.gold == c.hi ? 0.0
                                                                                                     : 0.5);
      for (const auto& u : units) {
        double lo;  // the outcome of the lower id's model
        if (soft && !u.pair && !std::isnan(d.prob_a(u.first))) {
          lo = d.cand_a(u.first) == c.lo ? d.prob_a(u.first) : 1.0 - d.prob_a(u.first);
        } else if (u.outcome != no_id) {
          lo = u.outcome == c.lo ? 1.0 : u.outcome == c.hi ? 0.0 : 0.5;
        } else {
          ++failures;
          continue;
        }
        const std::uint32_t item = d.item(u.first);
        auto count = [&](std::uint32_t model, std::uint32_t opponent, double outcome,
                         std::optional<double> g) {
          auto& [all, by] = of(model);
          if (!against_baseline || opponent == baseline) all.add(item, outcome, g);
          by.try_emplace(d.models().name(opponent), items).first->second.add(item, outcome, g);
        };
        count(c.model_lo, c.model_hi, lo, gold_lo);
        count(c.model_hi, c.model_lo, 1.0 - lo,
              gold_lo ? std::optional<double>(1.0 - *gold_lo) : std::nullopt);
      }
    }
    const double conf = cfg.confidence;
    for (const auto& [model, tallies] : models) {
      const auto& [all, by] = tallies;
      if (against_baseline && model == cfg.baseline) continue;  // the baseline against itself says nothing
      put_tally(mb, all, {"models", model}, conf);
      for (const auto& [opponent, t] : by) put_tally(mb, t, {"models", model, "by_opponent", opponent}, conf);
    }
    return mb.take();
  }
};

}  // namespace

std::unique_ptr<bias_module> make_winrate_module() {
  return std::make_unique<winrate_module>();
}

}  // namespace judgebias
