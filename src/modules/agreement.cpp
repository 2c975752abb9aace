// Agreement with gold (METRICS.md §5).
// Sources: Zheng et al. 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena" (agreement with
// human verdicts, with and without ties); Cohen 1960 (kappa); Brier 1950 (probability score); Tan et al.
// 2024, "JudgeBench" (utils/metrics.py: the pair accuracy of the counter rule, inconsistent pairs).
#include <array>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;
using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns: a 3×3 confusion matrix (judge's label × gold's label, A/B/tie), then the Brier sums.
constexpr std::size_t c_brier = 9, c_brier_n = 10, c_width = 11;
std::size_t cell(verdict judge, verdict gold) {
  return static_cast<std::size_t>(judge) * 3 + static_cast<std::size_t>(gold);
}

// Cohen's kappa of the labels [0, k) of a 3×3 matrix (k = 3 with ties, 2 without).
std::optional<double> kappa_of(std::span<const double> s, std::size_t k) {
  double n = 0, observed = 0;
  std::array<double, 3> rows{}, cols{};
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b < k; ++b) {
      const double x = s[a * 3 + b];
      n += x;
      rows[a] += x;
      cols[b] += x;
      if (a == b) observed += x;
    }
  if (n <= 0) return std::nullopt;
  double expected = 0;
  for (std::size_t a = 0; a < k; ++a) expected += (rows[a] / n) * (cols[a] / n);
  if (expected >= 1) return std::nullopt;  // one label only on both sides: kappa is undefined
  return (observed / n - expected) / (1 - expected);
}

std::optional<double> accuracy_of(std::span<const double> s, std::size_t k) {
  double n = 0, hits = 0;
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t b = 0; b < k; ++b) {
      n += s[a * 3 + b];
      if (a == b) hits += s[a * 3 + b];
    }
  return ratio(hits, n);
}

class agreement_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "agreement"; }
  std::string_view description() const noexcept override {
    return "How often a judge's pairwise verdicts agree with gold (accuracy, Cohen's kappa, Brier score)";
  }
  std::vector<metric_info> metrics() const override {
    std::vector<metric_info> out = {
        metric_info{"accuracy", unit::fraction, bias_direction::none, "verdict equals gold, over A/B/tie"}
            .shown(1),
        metric_info{"kappa", unit::coefficient, bias_direction::none, "Cohen's kappa over A/B/tie"}.shown(2),
        {"accuracy_no_ties", unit::fraction, bias_direction::none, "accuracy where neither side is a tie"},
        {"kappa_no_ties", unit::coefficient, bias_direction::none,
         "Cohen's kappa where neither side is a tie"},
        {"brier", unit::fraction, bias_direction::none, "mean (prob_a - [gold = A])^2, decisive gold"},
        {"pair_accuracy", unit::fraction, bias_direction::none,
         "JudgeBench's pair accuracy: per comparison, +1 per record for gold's answer, -1 for the other; > "
         "0"},
        {"inconsistent_pairs", unit::fraction, bias_direction::higher,
         "JudgeBench's: share of swap pairs (decisive gold) whose two orders' outcomes differ"},
    };
    for (auto& m : out) m = m.with_overall();  // every metric also over all judges together
    return out;
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const bool any = kit::any_measured_record(d, [&](dataset::index i) {
      return d.mode(i) == judgment_mode::pairwise && d.gold_in_presentation(i) != verdict::missing;
    });
    if (!any) {
      result.skipped = true;
      result.reason = "no pairwise record of a measured judge has a gold verdict";
      return result;
    }
    auto one_judge = [&](const kit::selection& s) {
      return measure(d, cfg, {s}, std::string(d.judges().name(s.judge)), s.group_name);
    };
    kit::judges(result.body, d, one_judge);
    std::vector<kit::selection> everyone;  // every measured judge's records, pooled
    for (std::uint32_t j : d.measured_judges()) everyone.push_back(kit::selection{j, {}, ""});
    kit::overall(result.body, measure(d, cfg, everyone, "(overall)", ""));
    kit::breakdowns(result.body, d, cfg, one_judge);
    return result;
  }

 private:
  // The metrics over the records of `selections` (one judge's, or every judge's for `overall`); `label`
  // and `group` name the random stream.
  kit::measurement measure(const dataset& d, const config& cfg, const std::vector<kit::selection>& selections,
                           const std::string& label, const std::string& group) const {
    metric_builder mb(cfg, name(), label, group);
    item_sums sums(d.items().size(), c_width);
    // JudgeBench's pair metrics: per item [correct, comparisons, inconsistent, swap pairs].
    item_sums pair_sums(d.items().size(), 4);
    std::vector<double> squared_errors;
    std::uint64_t pa_n = 0, pa_correct = 0, inc_n = 0, inc = 0;
    std::vector<kit::scored_unit> units;
    for (const kit::selection& sel : selections) {
      if (cfg.pair_rule != pair_rule::each) {
        // A unit has no presentation of its own (a swap pair shows each answer first once), so it is
        // counted half in each orientation: (label, gold) and both flipped. Accuracy is what it would
        // be either way, and kappa does not depend on which answer is called A.
        const auto comparisons = sel.comparisons(d);
        for (std::size_t k = 0; k < comparisons.size(); ++k) {
          const comparison& c = d.comparisons()[comparisons[k]];
          if (c.gold == no_id) continue;
          units.clear();
          kit::score_comparison(d, sel, k, cfg.pair_rule, units);
          auto frame_of = [&](std::uint32_t o) {
            return o == c.lo ? verdict::a : o == c.hi ? verdict::b : verdict::tie;
          };
          auto flip = [](verdict v) {
            return v == verdict::a ? verdict::b : v == verdict::b ? verdict::a : v;
          };
          for (const auto& u : units) {
            double* r = sums[d.item(u.first)];
            if (u.outcome == no_id) continue;
            const verdict l = frame_of(u.outcome), g = frame_of(c.gold);
            r[cell(l, g)] += 0.5;
            r[cell(flip(l), flip(g))] += 0.5;
          }
        }
      }
      for (auto i : sel.controls(d, judgment_mode::pairwise)) {
        const verdict g = d.gold_in_presentation(i);
        if (g == verdict::missing) continue;
        double* r = sums[d.item(i)];
        if (cfg.pair_rule == pair_rule::each && d.verdict(i) != verdict::missing)
          r[cell(d.verdict(i), g)] += 1;
        if (!std::isnan(d.prob_a(i)) && g != verdict::tie) {
          const double e = d.prob_a(i) - (g == verdict::a ? 1.0 : 0.0);
          r[c_brier] += e * e;
          r[c_brier_n] += 1;
          squared_errors.push_back(e * e);
        }
      }
      // JudgeBench's counter over all of a comparison's records (both orders, every run): +1 for the
      // gold's answer, -1 for the other, 0 for a tie or a failure; correct when the sum is positive.
      // Inconsistent, as JudgeBench counts it: a swap pair of a comparison with a decisive gold whose two
      // outcomes differ (an answer, a tie or a failure: two failures agree).
      const auto comparisons = sel.comparisons(d);
      for (std::size_t k = 0; k < comparisons.size(); ++k) {
        const comparison& c = d.comparisons()[comparisons[k]];
        const auto records = sel.comparison_records(d, k);
        if (records.empty()) continue;
        if (c.gold != no_id && c.gold != tie_outcome) {
          int counter = 0;
          for (auto i : records) {
            const std::uint32_t o = d.outcome(i);
            counter += o == c.gold ? 1 : (o == c.lo || o == c.hi) ? -1 : 0;
          }
          double* r = pair_sums[d.item(records.front())];
          r[0] += counter > 0;
          r[1] += 1;
          pa_correct += counter > 0;
          ++pa_n;
        }
        if (c.gold == no_id || c.gold == tie_outcome) continue;
        for (const swap_pair& p : sel.swap_pairs(d, k)) {
          const std::uint32_t o1 = d.outcome(p.lo_first), o2 = d.outcome(p.hi_first);
          const bool differ = o1 != o2;
          double* r = pair_sums[d.item(p.lo_first)];
          r[2] += differ;
          r[3] += 1;
          inc += differ;
          ++inc_n;
        }
      }
    }
    const auto t = sums.totals();
    double n3 = 0, n2 = 0;
    for (std::size_t a = 0; a < 3; ++a)
      for (std::size_t b = 0; b < 3; ++b) (a < 2 && b < 2 ? n2 : n3) += t[a * 3 + b];
    n3 += n2;
    const double conf = cfg.confidence;
    auto accuracy_closed = [&](std::size_t k, double n) {
      return [&t, k, n, conf]() -> std::optional<std::array<double, 2>> {
        auto acc = accuracy_of(t, k);
        if (!acc) return std::nullopt;
        return stats::wilson_interval(*acc * n, n, conf);
      };
    };
    // Cohen's large-sample standard error: sqrt(p_o (1 - p_o) / (n (1 - p_e)^2)).
    auto kappa_closed = [&](std::size_t k, double n) {
      return [&t, k, n, conf]() -> std::optional<std::array<double, 2>> {
        auto kappa = kappa_of(t, k);
        auto po = accuracy_of(t, k);
        if (!kappa || !po || n < 2) return std::nullopt;
        if (*kappa == 1) return std::array<double, 2>{1.0, 1.0};
        const double pe = (*po - *kappa) / (1 - *kappa);  // from kappa = (po - pe) / (1 - pe)
        return stats::wald_interval(*kappa, std::sqrt(*po * (1 - *po) / (n * (1 - pe) * (1 - pe))), conf);
      };
    };
    const char* none = "no parsed record with a gold verdict";
    const char* none2 = "no parsed record where neither the verdict nor the gold is a tie";
    mb.put(
        "accuracy", unit::fraction, static_cast<std::uint64_t>(n3), sums,
        [](std::span<const double> s) { return accuracy_of(s, 3); }, accuracy_closed(3, n3), none);
    mb.put(
        "kappa", unit::coefficient, static_cast<std::uint64_t>(n3), sums,
        [](std::span<const double> s) { return kappa_of(s, 3); }, kappa_closed(3, n3),
        "needs parsed records with gold and more than one label");
    mb.put(
        "accuracy_no_ties", unit::fraction, static_cast<std::uint64_t>(n2), sums,
        [](std::span<const double> s) { return accuracy_of(s, 2); }, accuracy_closed(2, n2), none2);
    mb.put(
        "kappa_no_ties", unit::coefficient, static_cast<std::uint64_t>(n2), sums,
        [](std::span<const double> s) { return kappa_of(s, 2); }, kappa_closed(2, n2), none2);
    mb.put(
        "brier", unit::fraction, static_cast<std::uint64_t>(t[c_brier_n]), sums,
        [](std::span<const double> s) { return ratio(s[c_brier], s[c_brier_n]); },
        kit::t_closed(squared_errors, conf), "no record with prob_a and a decisive gold verdict");
    mb.put(
        "pair_accuracy", unit::fraction, pa_n, pair_sums,
        [](std::span<const double> s) { return ratio(s[0], s[1]); },
        kit::wilson_closed(static_cast<double>(pa_correct), static_cast<double>(pa_n), conf),
        "no comparison with a decisive gold verdict");
    mb.put(
        "inconsistent_pairs", unit::fraction, inc_n, pair_sums,
        [](std::span<const double> s) { return ratio(s[2], s[3]); },
        kit::wilson_closed(static_cast<double>(inc), static_cast<double>(inc_n), conf),
        "no comparison with a decisive gold judged in both orders in one run");
    return mb.take();
  }
};

}  // namespace

std::unique_ptr<bias_module> make_agreement_module() {
  return std::make_unique<agreement_module>();
}

}  // namespace judgebias
