// Gold noise (issue #17): the seed paper's gold is itself a panel of judges (Chen et al. 2025), with its
// own disagreement, and the DBG treats its majority as exact. With --gold-judges this module reports how
// far the panel agrees with itself (Fleiss' κ over its members; every two members' κ is in
// judge_agreement's matrix) and how each judge's pairwise DBG moves when each gold judge is left out in
// turn: does its sign survive?
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/stats.hpp"
#include "modules/self_dbg.hpp"

namespace judgebias {

namespace {

// Per-item sums of Fleiss' κ: Σ P_u over the item's units, the units, and Σ n_uj per label (A, B, tie).
enum fleiss_col : std::size_t { f_agree, f_units, f_a, f_b, f_tie, f_width };

// Fleiss (1971) with the raters per unit allowed to vary: P_u = (Σ_j n_uj² − n_u) / (n_u (n_u − 1)),
// P̄ = mean P_u, p_j = Σ_u n_uj / Σ_u n_u, P_e = Σ_j p_j², κ = (P̄ − P_e) / (1 − P_e).
std::optional<double> fleiss_of(std::span<const double> s) {
  const double all = s[f_a] + s[f_b] + s[f_tie];
  if (s[f_units] <= 0 || all <= 0) return std::nullopt;
  double pe = 0;
  for (std::size_t j : {f_a, f_b, f_tie}) pe += (s[j] / all) * (s[j] / all);
  if (pe >= 1 - 1e-12) return std::nullopt;
  return (s[f_agree] / s[f_units] - pe) / (1 - pe);
}

// One gold judge's label on one unit (a comparison in one order and run).
struct vote {
  std::uint32_t item, a, b, run;
  std::uint8_t label;
  auto key() const { return std::tie(item, a, b, run); }
  bool operator<(const vote& o) const {
    return std::tie(item, a, b, run, label) < std::tie(o.item, o.a, o.b, o.run, o.label);
  }
};

// −1, 0 or +1, a DBG within 1e-9 pp of 0 counting as 0 (sums of soft labels leave rounding errors).
int sign_of(double v) {
  return v > 1e-9 ? 1 : v < -1e-9 ? -1 : 0;
}

// The two-level bootstrap of a judge's pairwise DBG (--gold-bootstrap): each resample draws the panel's
// K gold judges with replacement, then the items with replacement; the gold of a comparison is the
// majority of the drawn gold judges' votes, each counted as often as it was drawn (a comparison none of
// them voted on has no gold in that resample), and the DBG is recomputed over the drawn items.
class two_level_dbg {
 public:
  // The votes of every gold judge of `panel` on every pair (item, lo, hi) it judged.
  two_level_dbg(const dataset& d, const std::vector<std::string>& panel) : d_(d), k_(panel.size()) {
    for (std::size_t g = 0; g < panel.size(); ++g)
      for (const std::uint32_t c : d.comparisons_of_judge(d.judges().find(panel[g]))) {
        const std::uint32_t v = d.vote(c);
        if (v == no_id) continue;
        const comparison& cmp = d.comparisons()[c];
        auto& codes = votes_.try_emplace(pair_key(cmp), std::vector<std::uint32_t>(k_, no_id)).first->second;
        codes[g] = v;
      }
  }

  // The interval of judge `sel`'s DBG, or why there is none; the whole panel's point value `point` is
  // the one self_preference reports (the resamples are checked against it in the tests).
  metric interval(const kit::selection& sel, const config& cfg, metric point) const {
    if (!point.value) return point;
    // Per (item, vote pattern): the sum of w and the count of the judge's own-vs-other comparisons. A
    // pattern holds each gold judge's vote from the own response's side, one byte each: 0 none, 1 own,
    // 2 other, 3 tie.
    struct cell {
      std::uint32_t item;
      std::string pattern;
      double w;
    };
    std::vector<cell> cells;
    for (const auto& oc : detail::own_comparisons(d_, cfg, sel)) {
      if (!oc.w) continue;
      const comparison& cmp = d_.comparisons()[oc.comparison];
      const auto it = votes_.find(pair_key(cmp));
      if (it == votes_.end()) continue;  // no gold judge voted: no gold in any resample
      std::string pattern(k_, '\0');
      for (std::size_t g = 0; g < k_; ++g) {
        const std::uint32_t v = it->second[g];
        pattern[g] = static_cast<char>(v == no_id ? 0 : v == oc.own ? 1 : v == tie_outcome ? 3 : 2);
      }
      cells.push_back({cmp.item, std::move(pattern), *oc.w});
    }
    std::sort(cells.begin(), cells.end(), [](const cell& a, const cell& b) {
      return std::tie(a.item, a.pattern) < std::tie(b.item, b.pattern);
    });
    std::vector<std::string> patterns(cells.size());
    for (std::size_t c = 0; c < cells.size(); ++c) patterns[c] = cells[c].pattern;
    std::sort(patterns.begin(), patterns.end());
    patterns.erase(std::unique(patterns.begin(), patterns.end()), patterns.end());
    // Per item (a cluster of the resampling), its (pattern index, w sum, count) entries.
    struct entry {
      std::uint32_t pattern;
      double w, n;
    };
    std::vector<std::size_t> first{0};
    std::vector<entry> entries;
    for (std::size_t a = 0; a < cells.size();) {
      std::size_t b = a;
      while (b < cells.size() && cells[b].item == cells[a].item) {
        entry e{static_cast<std::uint32_t>(
                    std::lower_bound(patterns.begin(), patterns.end(), cells[b].pattern) - patterns.begin()),
                0, 0};
        const std::string& pattern = cells[b].pattern;
        while (b < cells.size() && cells[b].item == cells[a].item && cells[b].pattern == pattern)
          e.w += cells[b].w, e.n += 1, ++b;
        entries.push_back(e);
      }
      first.push_back(entries.size());
      a = b;
    }
    const std::size_t items = first.size() - 1;
    if (items < 2) {
      point.ci.reset();
      point.reason = "the data come from a single item: nothing to resample";
      return point;
    }
    const std::string judge(d_.judges().name(sel.judge));
    const std::uint64_t gold_stream = stats::stream_seed(cfg.seed, {"gold_noise", judge, "gold judges"});
    const std::uint64_t item_stream = stats::stream_seed(cfg.seed, {"gold_noise", judge, "items"});
    std::vector<std::uint32_t> gold_counts(k_), item_counts(items);
    std::vector<double> gold_of(patterns.size()), values(cfg.bootstrap);
    for (std::uint32_t b = 0; b < cfg.bootstrap; ++b) {
      throw_if_stopped(cfg.stop);
      stats::resample_counts(gold_stream, b, gold_counts);
      stats::resample_counts(item_stream, b, item_counts);
      for (std::size_t p = 0; p < patterns.size(); ++p) {
        double own = 0, other = 0;
        for (std::size_t g = 0; g < k_; ++g) {
          const char code = patterns[p][g];
          const double m = gold_counts[g];
          if (code == 1) own += m;
          if (code == 2) other += m;
          if (code == 3) own += m / 2, other += m / 2;
        }
        gold_of[p] = own + other == 0 ? std::nan("") : own > other ? 1.0 : other > own ? 0.0 : 0.5;
      }
      double diff = 0, n = 0;
      for (std::size_t i = 0; i < items; ++i) {
        if (item_counts[i] == 0) continue;
        for (std::size_t e = first[i]; e < first[i + 1]; ++e) {
          const entry& x = entries[e];
          if (std::isnan(gold_of[x.pattern])) continue;
          diff += item_counts[i] * (x.w - gold_of[x.pattern] * x.n);
          n += item_counts[i] * x.n;
        }
      }
      values[b] = n > 0 ? 100 * diff / n : std::nan("");
    }
    const stats::percentile_result p = stats::percentile_interval(values, cfg.confidence);
    if (!p.ci) {
      point.ci.reset();
      point.reason =
          fmt::format("two-level bootstrap: no comparison with gold in {} of {} resamples (more than 1%)",
                      p.undefined, values.size());
      return point;
    }
    point.ci = p.ci;
    point.reason.clear();
    return point;
  }

 private:
  static std::tuple<std::uint32_t, std::uint32_t, std::uint32_t> pair_key(const comparison& c) {
    return {c.item, c.lo, c.hi};
  }
  const dataset& d_;
  std::size_t k_;
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>, std::vector<std::uint32_t>> votes_;
};

class gold_noise_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "gold_noise"; }
  std::string_view description() const noexcept override {
    return "With --gold-judges: the panel's own agreement (Fleiss' kappa) and each judge's pairwise DBG with "
           "each gold judge left out";
  }
  std::vector<metric_info> metrics() const override {
    metric_info loo{"dbg_pairwise", unit::pp, bias_direction::higher,
                    "the pairwise DBG with this gold judge left out of the panel"};
    loo.section = std::string(every_section);
    return {
        metric_info{"dbg_pairwise", unit::pp, bias_direction::higher,
                    "the pairwise DBG with the whole panel (closed-form interval; with --gold-bootstrap, one "
                    "that resamples the "
                    "gold judges too)"}
            .shown(1),
        metric_info{"dbg_pairwise_loo_min", unit::pp, bias_direction::none,
                    "the smallest pairwise DBG with one gold judge left out"}
            .shown(2),
        metric_info{"dbg_pairwise_loo_max", unit::pp, bias_direction::none,
                    "the largest pairwise DBG with one gold judge left out"}
            .shown(3),
        {"sign_changes", unit::count, bias_direction::higher,
         "how many panels without one gold judge give the DBG the other sign (or none)"},
        metric_info{"fleiss_kappa", unit::coefficient, bias_direction::none,
                    "Fleiss' kappa of the gold judges' verdicts (A / B / tie) on the same comparisons"}
            .only_overall(),
        metric_info{"panel_agreement", unit::fraction, bias_direction::none,
                    "the share of agreeing pairs of gold judges per comparison, averaged (Fleiss' P-bar)"}
            .only_overall(),
        loo,
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    std::vector<std::string> panel;  // the gold judges with records, by name
    for (const auto& g : cfg.gold_judges)
      if (const std::uint32_t j = d.judges().find(g); j != no_id && d.is_gold_judge(j)) panel.push_back(g);
    std::sort(panel.begin(), panel.end());
    panel.erase(std::unique(panel.begin(), panel.end()), panel.end());
    if (panel.size() < 2) {
      result.skipped = true;
      result.reason = cfg.gold_judges.empty() ? "no gold panel (--gold-judges)"
                                              : "a gold panel of fewer than two judges with records has no "
                                                "disagreement to measure";
      return result;
    }
    // The whole panel's DBG, and the DBG of each panel without one judge, from a dataset built without
    // that judge's records (the gold is resolved again from the others).
    // self_preference's DBG with closed-form intervals, over all of each judge's records.
    config closed = cfg;
    closed.bootstrap = 0;
    closed.by.clear();
    const detail::self_preference_dbg full(d, closed);
    std::vector<detail::self_preference_dbg> without;
    without.reserve(panel.size());
    std::vector<candidate_feature> features;  // record_view's, reused
    for (std::size_t g = 0; g < panel.size(); ++g) {
      const std::uint32_t left_out = d.judges().find(panel[g]);
      dataset_builder b;
      b.reserve(d.size() - d.records_of_judge(left_out).size());
      for (dataset::index i = 0; i < d.size(); ++i)
        if (d.judge(i) != left_out) b.add(record_view(d, i, features));
      dataset_options o;
      for (const auto& other : panel)
        if (other != panel[g]) o.gold_judges.push_back(other);
      const dataset rest = std::move(b).finish(o);
      without.emplace_back(rest, closed);
    }
    std::optional<two_level_dbg> two_level;
    if (cfg.gold_bootstrap && cfg.bootstrap > 0) two_level.emplace(d, panel);
    kit::judges(result.body, d, [&](const kit::selection& s) {
      const std::string judge(d.judges().name(s.judge));
      kit::metric_builder mb(d, cfg, name(), s);
      const metric whole = two_level ? two_level->interval(s, cfg, full.of(judge)) : full.of(judge);
      mb.put("dbg_pairwise", whole);
      std::vector<double> values;
      std::uint64_t changes = 0;
      for (std::size_t g = 0; g < panel.size(); ++g) {
        const metric m = without[g].of(judge);
        if (m.value) values.push_back(*m.value);
        if (whole.value && (!m.value || sign_of(*m.value) != sign_of(*whole.value))) ++changes;
      }
      metric lo, hi, flips;
      lo.unit = hi.unit = unit::pp;
      lo.n = hi.n = values.size();
      if (values.empty()) {
        lo.reason = hi.reason = "no panel without one gold judge gives this judge a pairwise DBG";
      } else {
        lo.value = *std::min_element(values.begin(), values.end());
        hi.value = *std::max_element(values.begin(), values.end());
        lo.reason = hi.reason = "an extreme over the panels: no interval";
      }
      flips.unit = unit::count;
      flips.n = panel.size();
      if (whole.value)
        flips.value = static_cast<double>(changes);
      else
        flips.reason = "no pairwise DBG with the whole panel";
      mb.put("dbg_pairwise_loo_min", lo);
      mb.put("dbg_pairwise_loo_max", hi);
      mb.put("sign_changes", flips);
      return mb.take();
    });
    kit::item_sums fleiss(d.items().size(), f_width);
    kit::overall(result.body, panel_agreement(d, cfg, panel, fleiss));
    for (std::size_t g = 0; g < panel.size(); ++g) {
      section_body sub;
      kit::judges(sub, d, [&](const kit::selection& s) {
        kit::metric_builder mb(d, cfg, name(), s);
        mb.put("dbg_pairwise", without[g].of(std::string(d.judges().name(s.judge))));
        return mb.take();
      });
      result.body.nest({"kinds", panel[g]}, std::move(sub));
    }
    return result;
  }

 private:
  kit::measurement panel_agreement(const dataset& d, const config& cfg, const std::vector<std::string>& panel,
                                   kit::item_sums& sums) const {
    std::vector<vote> votes;
    for (const auto& g : panel) {
      const kit::selection all{d.judges().find(g), {}, ""};
      for (auto i : all.controls(d, judgment_mode::pairwise)) {
        const verdict v = d.verdict(i);
        if (v == verdict::missing || !d.order_known(i)) continue;
        votes.push_back({d.item(i), d.cand_a(i), d.cand_b(i), d.run(i),
                         static_cast<std::uint8_t>(v == verdict::a   ? 0
                                                   : v == verdict::b ? 1
                                                                     : 2)});
      }
    }
    std::sort(votes.begin(), votes.end());
    for (std::size_t s = 0; s < votes.size();) {
      std::size_t e = s;
      std::array<double, 3> count{};
      while (e < votes.size() && votes[e].key() == votes[s].key()) count[votes[e++].label] += 1;
      const double n = count[0] + count[1] + count[2];
      if (n >= 2) {
        double* r = sums[votes[s].item];
        r[f_agree] += (count[0] * count[0] + count[1] * count[1] + count[2] * count[2] - n) / (n * (n - 1));
        r[f_units] += 1;
        r[f_a] += count[0], r[f_b] += count[1], r[f_tie] += count[2];
      }
      s = e;
    }
    const auto t = sums.totals();
    const auto units = static_cast<std::uint64_t>(t[f_units]);
    kit::metric_builder mb(cfg, name(), "", "");
    const char* none = "no comparison judged by two gold judges in the same order and run";
    const auto no_closed_form = []() { return std::optional<std::array<double, 2>>(); };
    metric& k = mb.put("fleiss_kappa", unit::coefficient, units, sums, fleiss_of, no_closed_form, none);
    metric& a = mb.put(
        "panel_agreement", unit::fraction, units, sums,
        [](std::span<const double> s) { return kit::ratio(s[f_agree], s[f_units]); }, no_closed_form, none);
    for (metric* m : {&k, &a})
      if (cfg.bootstrap == 0 && m->value) m->reason = "no closed-form interval (the bootstrap gives one)";
    return mb.take();
  }
};

}  // namespace

std::unique_ptr<bias_module> make_gold_noise_module() {
  return std::make_unique<gold_noise_module>();
}

}  // namespace judgebias
