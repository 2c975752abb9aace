// How much the pair rule changes the answer (issue #16): the pairwise DBG and each model's win rate under
// each of the three rules (docs/metrics.md "Pair rules"), side by side, with their spread. Published
// tools disagree on the rule (FastChat's conservative, JudgeBench's counter, most others each), so a
// reader sees whether a headline survives the choice. Measured by the self_preference and winrate
// modules themselves, once per rule, each measuring only the numbers read here (modules/headline.hpp),
// with closed-form intervals (three bootstraps would triple their cost).
#include <algorithm>
#include <array>
#include <map>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/headline.hpp"

namespace judgebias {

namespace {

constexpr std::array<pair_rule, 3> rules{pair_rule::each, pair_rule::conservative, pair_rule::counter};

std::string ruled(std::string_view metric, pair_rule r) {
  return fmt::format("{}_{}", metric, to_string(r));
}

// One rule's numbers: per judge, the metric at its path ({"dbg_pairwise"} or {"models", M, "win_rate"}).
struct under_rule {
  std::map<std::string, std::map<std::vector<std::string>, metric>> of_judge;
  std::array<std::string, 2> skipped;  // why self_preference, winrate said nothing (empty: they did)
};

under_rule measure_under(const dataset& d, const config& cfg, pair_rule rule) {
  config c = cfg;
  c.pair_rule = rule;
  c.bootstrap = 0;
  c.soft = cfg.soft && rule == pair_rule::each;  // --soft scores records, so it goes with `each` only
  c.by.clear();
  under_rule out;
  const std::array<std::string_view, 2> modules{"self_preference", "winrate"};
  for (std::size_t k = 0; k < modules.size(); ++k) {
    const auto module = k == 0 ? detail::make_self_preference_headline() : detail::make_winrate_headline();
    const module_section s = module->evaluate(d, c);
    if (s.status != module_status::ok) {
      out.skipped[k] = fmt::format("{} {}: {}", modules[k], to_string(s.status), s.reason);
      continue;
    }
    for (const report_row& row : s.rows) {
      if (row.scope != row_scope::judge || !row.section.empty() || row.per_opponent) continue;
      if (k == 0 && row.metric == "dbg_pairwise" && !row.per_model)
        out.of_judge[row.judge][{"dbg_pairwise"}] = row.value;
      if (k == 1 && row.metric == "win_rate" && row.per_model)
        out.of_judge[row.judge][{"models", row.model, "win_rate"}] = row.value;
    }
  }
  return out;
}

class sensitivity_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "sensitivity"; }
  std::string_view description() const noexcept override {
    return "The pairwise DBG and each model's win rate under each pair rule (each, conservative, counter), "
           "side by side";
  }
  std::vector<metric_info> metrics() const override {
    std::vector<metric_info> m;
    m.reserve(2 * (rules.size() + 1));
    for (pair_rule r : rules)
      m.push_back({ruled("dbg_pairwise", r), unit::pp, bias_direction::away_from_zero,
                   fmt::format("self_preference's dbg_pairwise under --pair-rule {}", to_string(r))});
    m.push_back(metric_info{"dbg_pairwise_spread", unit::pp, bias_direction::higher,
                            "largest minus smallest dbg_pairwise of the three rules"}
                    .shown(1));
    for (pair_rule r : rules)
      m.push_back({ruled("win_rate", r), unit::pp, bias_direction::none,
                   fmt::format("winrate's win_rate under --pair-rule {}", to_string(r))});
    m.push_back(metric_info{"win_rate_spread", unit::pp, bias_direction::higher,
                            "largest minus smallest win_rate of the three rules"}
                    .shown(2));
    return m;
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const bool any_pair = std::any_of(d.swap_pairs().begin(), d.swap_pairs().end(), [&](const swap_pair& p) {
      return !d.is_gold_judge(d.comparisons()[p.comparison].judge);
    });
    if (!any_pair) {
      result.skipped = true;
      result.reason = "no comparison is judged in both orders: every pair rule scores the same";
      return result;
    }
    std::array<under_rule, rules.size()> by_rule;
    for (std::size_t r = 0; r < rules.size(); ++r) by_rule[r] = measure_under(d, cfg, rules[r]);
    result.body = section_body{};
    kit::judges(result.body, d, [&](const kit::selection& s) {
      const std::string judge(d.judges().name(s.judge));
      kit::metric_builder mb(d, cfg, name(), s);
      // The models any rule gives a win rate, in name order.
      std::vector<std::string> models;
      for (const auto& u : by_rule)
        if (auto it = u.of_judge.find(judge); it != u.of_judge.end())
          for (const auto& [path, m] : it->second)
            if (path.size() == 3) models.push_back(path[1]);
      std::sort(models.begin(), models.end());
      models.erase(std::unique(models.begin(), models.end()), models.end());
      auto side_by_side = [&](std::vector<std::string> at, std::string_view metric_name, std::size_t module) {
        std::vector<std::string> found = at;
        found.emplace_back(metric_name);
        std::vector<double> values;
        std::uint64_t n = 0;
        for (std::size_t r = 0; r < rules.size(); ++r) {
          metric m;
          m.unit = unit::pp;
          const under_rule& u = by_rule[r];
          const auto judge_it = u.of_judge.find(judge);
          const auto it = judge_it == u.of_judge.end() ? decltype(judge_it->second.end()){}
                                                       : judge_it->second.find(found);
          if (judge_it != u.of_judge.end() && it != judge_it->second.end()) {
            m = it->second;
          } else {
            m.reason = !u.skipped[module].empty() ? u.skipped[module] : "not reported for this judge";
          }
          if (m.value) values.push_back(*m.value), n = std::max(n, m.n);
          auto path = at;
          path.push_back(ruled(metric_name, rules[r]));
          mb.put(std::move(path), std::move(m));
        }
        metric spread;
        spread.unit = unit::pp;
        spread.n = n;
        if (values.size() == rules.size()) {
          const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
          spread.value = *hi - *lo;
          spread.reason = "a spread has no interval (each rule's value has its own)";
        } else {
          spread.reason = "not every rule gives a value";
        }
        at.push_back(std::string(metric_name) + "_spread");
        mb.put(std::move(at), std::move(spread));
      };
      side_by_side({}, "dbg_pairwise", 0);
      for (const std::string& model : models) side_by_side({"models", model}, "win_rate", 1);
      return mb.take();
    });
    result.body.extra({"intervals"},
                      "closed form under each rule (as with --bootstrap 0), whatever --bootstrap says");
    return result;
  }
};

}  // namespace

std::unique_ptr<bias_module> make_sensitivity_module() {
  return std::make_unique<sensitivity_module>();
}

}  // namespace judgebias
