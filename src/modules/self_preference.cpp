// Self-preference (METRICS.md §1).
// Sources: Chen et al. 2025, "Beyond the Surface: Measuring Self-Preference in LLM Judgments" (DBG:
// the judge's score of its own responses minus a gold judgment of the same responses);
// Wataoka et al. 2024, "Self-Preference Bias in LLM-as-a-Judge", arXiv 2410.21819 (eo, dp).
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/headline.hpp"
#include "modules/self_dbg.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;
using kit::item_sums;
using kit::metric_builder;
using kit::moments_of;
using kit::ownership;
using kit::ratio;

struct left_out {
  std::uint64_t records_without_model = 0;
  std::uint64_t comparisons_without_model = 0;
  std::uint64_t comparisons_both_own = 0;
  std::uint64_t comparisons_neither_own = 0;
  std::uint64_t comparisons_without_gold = 0;
  std::uint64_t pointwise_without_gold = 0;
};

// Pairwise DBG of one set of comparisons (pooled, or one opponent): rows [w, g, 1] per item.
struct dbg_acc {
  explicit dbg_acc(std::size_t items) : sums(items, 3) {}
  item_sums sums;
  kit::value_list w, g;
  void add(std::uint32_t item, double wc, double gc) {
    double* r = sums[item];
    r[0] += wc, r[1] += gc, r[2] += 1;
    w.push_back(wc);
    g.push_back(gc);
  }
};

// The own-vs-other comparisons of `sel` (one response the judge's own model's, the other not), each with
// the judge's own-win share w: the mean over its records of 1 / ½ / 0 (prob_a with --soft), or over the
// units of --pair-rule. Counts into `diag` what it leaves out.
std::vector<detail::own_comparison> own_comparisons(const dataset& d, const config& cfg,
                                                    const ownership& owner, const kit::selection& sel,
                                                    left_out* diag) {
  std::vector<detail::own_comparison> out;
  const auto comparisons = sel.comparisons(d);
  std::vector<kit::scored_unit> units;
  for (std::size_t k = 0; k < comparisons.size(); ++k) {
    const comparison& cmp = d.comparisons()[comparisons[k]];
    const auto recs = d.comparison_records(comparisons[k]);
    if (recs.empty()) continue;
    if (cmp.model_lo == no_id || cmp.model_hi == no_id) {
      if (diag) ++diag->comparisons_without_model;
      continue;
    }
    const std::uint32_t jm = d.judge_model(recs.front());
    const bool own_lo = owner.own(cmp.model_lo, jm), own_hi = owner.own(cmp.model_hi, jm);
    if (own_lo == own_hi) {
      if (diag) ++(own_lo ? diag->comparisons_both_own : diag->comparisons_neither_own);
      continue;
    }
    const std::uint32_t own_id = own_lo ? cmp.lo : cmp.hi;
    double w_sum = 0, w_n = 0;
    for (auto i : sel.comparison_records(d, k)) {
      if (d.model_a(i) == no_id || d.model_b(i) == no_id) {  // this record names no author for a response
        if (diag) ++diag->records_without_model;
        continue;
      }
      const std::uint32_t o = d.outcome(i);
      if (cfg.soft && !std::isnan(d.prob_a(i))) {
        w_sum += d.cand_a(i) == own_id ? d.prob_a(i) : 1.0 - d.prob_a(i);
        w_n += 1;
      } else if (o != no_id) {
        w_sum += o == own_id ? 1.0 : o == tie_outcome ? 0.5 : 0.0;
        w_n += 1;
      }
    }
    if (cfg.pair_rule != pair_rule::each) {  // w_J(c) from the units of the pair rule instead
      w_sum = w_n = 0;
      units.clear();
      kit::score_comparison(d, sel, k, cfg.pair_rule, units);
      auto named = [&](dataset::index i) { return d.model_a(i) != no_id && d.model_b(i) != no_id; };
      for (const auto& u : units) {
        std::uint32_t o = u.outcome;
        // A pair with one record that names no author: the other record counts alone, as under each.
        if (u.pair && named(u.first) != named(u.second))
          o = d.outcome(named(u.first) ? u.first : u.second);
        else if (!named(u.first))
          continue;
        if (o == no_id) continue;
        w_sum += o == own_id ? 1.0 : o == tie_outcome ? 0.5 : 0.0;
        w_n += 1;
      }
    }
    out.push_back({k, comparisons[k], own_id, w_n > 0 ? std::optional<double>(w_sum / w_n) : std::nullopt});
  }
  return out;
}

// The gold's own-win share of a comparison with gold: 1, ½ (a tie) or 0.
double gold_share(const comparison& cmp, std::uint32_t own) {
  return cmp.gold == own ? 1.0 : cmp.gold == tie_outcome ? 0.5 : 0.0;
}

// Puts dbg_pairwise, wr_judge and wr_gold at `parent` under the judge's object (empty: the judge's own
// level).
void put_dbg(metric_builder& mb, const dbg_acc& acc, const std::vector<std::string>& parent,
             double confidence) {
  auto path = [&](const char* name) {
    std::vector<std::string> p = parent;
    p.emplace_back(name);
    return p;
  };
  const auto n = static_cast<std::uint64_t>(acc.w.size());
  const char* none = "no own-vs-other comparison with a gold verdict and a parsed verdict of this judge";
  // The t interval of the mean of 100 · (w − g), 100 · w or 100 · g over the comparisons, each value
  // computed as it is read (in both passes, the same bits).
  auto t_of = [&acc, confidence](auto value) -> kit::closed_form {
    return [&acc, confidence, value]() {
      const kit::moments m =
          kit::moments_of(acc.w.size(), [&](std::size_t k) { return value(acc.w[k], acc.g[k]); });
      return stats::t_interval(m.mean, m.sd, m.n, confidence);
    };
  };
  const auto diff = t_of([](double w, double g) { return 100.0 * (w - g); });
  const auto w100 = t_of([](double w, double) { return 100.0 * w; });
  const auto g100 = t_of([](double, double g) { return 100.0 * g; });
  mb.put(
      path("dbg_pairwise"), unit::pp, n, acc.sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[2] <= 0) return std::nullopt;
        return 100.0 * (s[0] - s[1]) / s[2];
      },
      diff, none);
  mb.put(
      path("wr_judge"), unit::pp, n, acc.sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[2] <= 0) return std::nullopt;
        return 100.0 * s[0] / s[2];
      },
      w100, none);
  mb.put(
      path("wr_gold"), unit::pp, n, acc.sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[2] <= 0) return std::nullopt;
        return 100.0 * s[1] / s[2];
      },
      g100, none);
}

class self_preference_module final : public bias_module {
 public:
  /// `headline`: the pairwise DBG only (detail::make_self_preference_headline).
  explicit self_preference_module(bool headline = false) : headline_(headline) {}
  std::string_view name() const noexcept override { return "self_preference"; }
  std::string_view description() const noexcept override {
    return "How much a judge favours responses written by its own model, net of their quality (DBG)";
  }
  std::vector<metric_info> metrics() const override {
    return {
        metric_info{"dbg_pointwise", unit::score, bias_direction::higher,
                    "mean(score - gold) over own responses"}
            .shown(2)
            .drawn({"dbg_pointwise", 20, "Self-preference: DBG, pointwise (score)",
                    "Judge's score for its own responses minus the gold score of the same responses.", 0.0,
                    "dbg_pointwise"}),
        {"leniency", unit::score, bias_direction::none, "mean(score - gold) over other models' responses"},
        metric_info{"dbg_adjusted", unit::score, bias_direction::higher, "dbg_pointwise - leniency"}.shown(3),
        {"raw_gap", unit::score, bias_direction::none, "mean score of own minus other responses, no gold"},
        metric_info{"dbg_pairwise", unit::pp, bias_direction::higher,
                    "judge's win rate of own responses minus gold's"}
            .shown(1)
            .drawn({"dbg_pairwise", 10, "Self-preference: DBG, pairwise (pp)",
                    "Judge's win rate for its own responses minus the gold's, in percentage points.", 0.0,
                    "dbg_pairwise"}),
        {"wr_judge", unit::pp, bias_direction::none, "judge's win rate of own responses"},
        {"wr_gold", unit::pp, bias_direction::none, "gold's win rate of the same responses"},
        {"eo", unit::fraction, bias_direction::higher,
         "P(picks own | gold own) - P(picks other | gold other)"},
        {"dp", unit::fraction, bias_direction::higher, "P(picks own) - P(picks other), no gold"},
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const ownership owner(d, cfg);
    if (d.measured_judges().empty()) {
      result.skipped = true;
      result.reason = "no judge to measure (every judge is a gold judge)";
      return result;
    }
    left_out diag;
    bool any_own = false;
    kit::judges(result.body, d,
                [&](const kit::selection& s) { return measure(d, cfg, owner, s, &diag, any_own); });
    if (!any_own) {
      result.skipped = true;
      result.reason =
          "no record compares or scores a response of the judge's own model (give candidates a \"model\" "
          "equal to the judge's judge_model, or pair them with --self MODEL=JUDGE_MODEL)";
      result.body = {};
      return result;
    }
    bool unused = false;
    kit::breakdowns(result.body, d, cfg,
                    [&](const kit::selection& s) { return measure(d, cfg, owner, s, nullptr, unused); });
    result.body.extra({"diagnostics"}, {{"records_without_model", diag.records_without_model},
                                        {"comparisons_without_model", diag.comparisons_without_model},
                                        {"comparisons_both_own", diag.comparisons_both_own},
                                        {"comparisons_neither_own", diag.comparisons_neither_own},
                                        {"comparisons_without_gold", diag.comparisons_without_gold},
                                        {"pointwise_without_gold", diag.pointwise_without_gold}});
    return result;
  }

 private:
  kit::measurement measure(const dataset& d, const config& cfg, const ownership& owner,
                           const kit::selection& sel, left_out* diag, bool& any_own) const {
    metric_builder mb(d, cfg, name(), sel);
    const std::size_t items = d.items().size();

    // Pointwise: rows [own diff sum, own n, other diff sum, other n, own score sum, own n, other score sum,
    // other n].
    item_sums pw(items, 8);
    kit::value_list own_diff, other_diff, own_score, other_score;
    for (auto i : sel.controls(d, judgment_mode::pointwise)) {
      if (headline_) {  // only whether the judge scores an own response, for the module's status
        if (any_own) break;
        any_own = d.model_a(i) != no_id && d.parsed(i) && owner.own(d.model_a(i), d.judge_model(i));
        continue;
      }
      if (d.model_a(i) == no_id) {
        if (diag) ++diag->records_without_model;
        continue;
      }
      if (!d.parsed(i)) continue;
      const bool own = owner.own(d.model_a(i), d.judge_model(i));
      any_own |= own;
      const double score = d.score(i), gold = d.gold_score(i);
      double* r = pw[d.item(i)];
      r[own ? 4 : 6] += score;
      r[own ? 5 : 7] += 1;
      (own ? own_score : other_score).push_back(score);
      if (std::isnan(gold)) {
        if (diag) ++diag->pointwise_without_gold;
        continue;
      }
      r[own ? 0 : 2] += score - gold;
      r[own ? 1 : 3] += 1;
      (own ? own_diff : other_diff).push_back(score - gold);
    }
    const double conf = cfg.confidence;
    auto t_closed = [conf](const kit::value_list& v) { return kit::t_closed(v, conf); };
    // Difference of two independent means: Wald interval with the two standard errors.
    auto diff_closed = [conf](const kit::value_list& x, const kit::value_list& y) {
      return kit::diff_wald_closed(x, y, conf);
    };
    if (headline_) return pairwise_dbg(d, cfg, owner, sel, diag, any_own, mb);

    metric& dbg_pw = mb.put(
        "dbg_pointwise", unit::score, own_diff.size(), pw,
        [](std::span<const double> s) { return ratio(s[0], s[1]); }, t_closed(own_diff),
        "no pointwise record of an own response with gold and a parsed score");
    if (dbg_pw.value) {
      std::vector<double> per_item;
      const auto& rows = pw.rows();
      for (std::size_t k = 0; k < rows.rows(); ++k)
        if (rows.row(k)[1] > 0) per_item.push_back(rows.row(k)[0] / rows.row(k)[1]);
      dbg_pw.p = stats::t_test_one_sample(per_item);
    }
    mb.put(
        "leniency", unit::score, other_diff.size(), pw,
        [](std::span<const double> s) { return ratio(s[2], s[3]); }, t_closed(other_diff),
        "no pointwise record of another model's response with gold and a parsed score");
    metric& adj = mb.put(
        "dbg_adjusted", unit::score, own_diff.size() + other_diff.size(), pw,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[1] <= 0 || s[3] <= 0) return std::nullopt;
          return s[0] / s[1] - s[2] / s[3];
        },
        diff_closed(own_diff, other_diff),
        "needs pointwise records with gold of both own and other models' responses");
    if (adj.value) {
      // Paired by item: items that have both own and other responses with gold.
      std::vector<double> per_item;
      const auto& rows = pw.rows();
      for (std::size_t k = 0; k < rows.rows(); ++k) {
        const double* r = rows.row(k);
        if (r[1] > 0 && r[3] > 0) per_item.push_back(r[0] / r[1] - r[2] / r[3]);
      }
      adj.p = stats::t_test_one_sample(per_item);
    }
    mb.put(
        "raw_gap", unit::score, own_score.size() + other_score.size(), pw,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[5] <= 0 || s[7] <= 0) return std::nullopt;
          return s[4] / s[5] - s[6] / s[7];
        },
        diff_closed(own_score, other_score),
        "needs parsed pointwise scores of both own and other models' responses");

    // Pairwise: per comparison, the judge's own-win share w over its records and the gold's g.
    dbg_acc pooled(items);
    std::map<std::string, dbg_acc> by_opponent;
    item_sums eo_rows(items, 4), dp_rows(items, 3);
    kit::value_list eo_own, eo_other;  // pick-own given gold own; pick-other given gold other
    std::uint64_t dp_n = 0, dp_own = 0, dp_other = 0;
    const auto comparisons = sel.comparisons(d);
    for (const detail::own_comparison& oc : own_comparisons(d, cfg, owner, sel, diag)) {
      any_own = true;
      const comparison& cmp = d.comparisons()[comparisons[oc.at]];
      const std::uint32_t own_id = oc.own;
      const std::uint32_t opponent = own_id == cmp.lo ? cmp.model_hi : cmp.model_lo;
      for (auto i : sel.comparison_records(d, oc.at)) {
        const std::uint32_t o = d.outcome(i);
        if (d.model_a(i) == no_id || d.model_b(i) == no_id || o == no_id) continue;
        // eo / dp count records, not comparisons (Wataoka et al.).
        const double pick_own = o == own_id ? 1.0 : o == tie_outcome ? 0.5 : 0.0;
        double* dr = dp_rows[d.item(i)];
        dr[0] += o == own_id, dr[1] += o != own_id && o != tie_outcome, dr[2] += 1;
        ++dp_n;
        dp_own += o == own_id;
        dp_other += o != own_id && o != tie_outcome;
        if (cmp.gold != no_id && cmp.gold != tie_outcome) {
          double* er = eo_rows[d.item(i)];
          if (cmp.gold == own_id) {
            er[0] += pick_own, er[1] += 1;
            eo_own.push_back(pick_own);
          } else {
            er[2] += 1.0 - pick_own, er[3] += 1;
            eo_other.push_back(1.0 - pick_own);
          }
        }
      }
      if (!oc.w) continue;
      if (cmp.gold == no_id) {
        if (diag) ++diag->comparisons_without_gold;
        continue;
      }
      const double g = gold_share(cmp, own_id);
      pooled.add(cmp.item, *oc.w, g);
      by_opponent.try_emplace(std::string(d.models().name(opponent)), items)
          .first->second.add(cmp.item, *oc.w, g);
    }
    put_dbg(mb, pooled, {}, conf);

    mb.put(
        "eo", unit::fraction, eo_own.size() + eo_other.size(), eo_rows,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[1] <= 0 || s[3] <= 0) return std::nullopt;
          return s[0] / s[1] - s[2] / s[3];
        },
        diff_closed(eo_own, eo_other),
        "needs parsed records with an own response whose gold picks own and ones whose gold picks the "
        "other");
    mb.put(
        "dp", unit::fraction, dp_n, dp_rows,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[2] <= 0) return std::nullopt;
          return (s[0] - s[1]) / s[2];
        },
        [&]() -> std::optional<std::array<double, 2>> {
          if (dp_n < 2) return std::nullopt;
          const double n = static_cast<double>(dp_n), p1 = static_cast<double>(dp_own) / n,
                       p2 = static_cast<double>(dp_other) / n;
          return stats::wald_interval(p1 - p2, std::sqrt((p1 + p2 - (p1 - p2) * (p1 - p2)) / n), conf);
        },
        "no parsed pairwise record with exactly one own response");

    mb.open({"by_opponent"});
    for (const auto& [model, acc] : by_opponent) put_dbg(mb, acc, {"by_opponent", model}, conf);
    return mb.take();
  }

  // The headline's measurement: the pooled pairwise DBG, added up as measure() does.
  static kit::measurement pairwise_dbg(const dataset& d, const config& cfg, const ownership& owner,
                                       const kit::selection& sel, left_out* diag, bool& any_own,
                                       metric_builder& mb) {
    dbg_acc pooled(d.items().size());
    for (const detail::own_comparison& oc : own_comparisons(d, cfg, owner, sel, diag)) {
      any_own = true;
      const comparison& cmp = d.comparisons()[oc.comparison];
      if (!oc.w || cmp.gold == no_id) continue;
      pooled.add(cmp.item, *oc.w, gold_share(cmp, oc.own));
    }
    put_dbg(mb, pooled, {}, cfg.confidence);
    return mb.take();
  }

  bool headline_ = false;
};

}  // namespace

std::unique_ptr<bias_module> make_self_preference_module() {
  return std::make_unique<self_preference_module>();
}

std::unique_ptr<bias_module> detail::make_self_preference_headline() {
  return std::make_unique<self_preference_module>(true);
}

namespace detail {

self_preference_dbg::self_preference_dbg(const dataset& d, const config& cfg) {
  const module_section s = self_preference_module().evaluate(d, cfg);
  if (s.status != module_status::ok) {
    why_none_ = fmt::format("self_preference {}: {}", to_string(s.status), s.reason);
    return;
  }
  for (const report_row& row : s.rows) {
    if (row.metric != "dbg_pairwise" || !row.section.empty() || row.per_opponent || row.per_model) continue;
    if (row.scope == row_scope::judge) rows_[{row.judge, ""}] = row.value;
    if (row.scope == row_scope::task) rows_[{row.judge, "task=" + row.group}] = row.value;
    if (row.scope == row_scope::run) rows_[{row.judge, "run=" + row.group}] = row.value;
  }
}

std::vector<own_comparison> own_comparisons(const dataset& d, const config& cfg, const kit::selection& sel) {
  return judgebias::own_comparisons(d, cfg, ownership(d, cfg), sel, nullptr);
}

metric self_preference_dbg::of(const std::string& judge, const std::string& group_name) const {
  if (auto it = rows_.find({judge, group_name}); it != rows_.end()) return it->second;
  metric none;
  none.unit = unit::pp;
  none.reason = why_none_.empty() ? "self_preference reports no dbg_pairwise for this judge" : why_none_;
  return none;
}

}  // namespace detail

}  // namespace judgebias
