// The perturbation engine (METRICS.md §4): each perturbed record against its control.
// Sources: Ye et al. 2024, "Justice or Prejudice? Quantifying Biases in LLM-as-a-Judge" (CALM: robustness
// rate, consistency rate); Wang et al. 2025 (flip breakdown by gold); Yang et al. 2025 (RBD).
#include <array>
#include <map>

#include "judgebias/module_kit.hpp"
#include "modules/cues.hpp"

namespace judgebias::detail {

namespace {

using json = nlohmann::ordered_json;
using kit::diff_wald_closed;
using kit::item_sums;
using kit::mean_wald_closed;
using kit::metric_builder;
using kit::ratio;
using kit::t_closed;
using kit::wilson_closed;

// Columns of the per-item sums.
enum col : std::size_t {
  c_n,          // matched pairs, both verdicts parsed
  c_same,       // p = c
  c_not_t,      // c ≠ T
  c_follow,     // p = T given c ≠ T
  c_p_t,        // p = T
  c_c_t,        // c = T
  c_gold_n,     // matched pairs whose comparison has gold
  c_ctrl_ok,    // control correct
  c_pert_ok,    // perturbed correct
  c_harmful,    // correct → incorrect
  c_helpful,    // incorrect → correct
  c_shift,      // pointwise: score_p − score_c
  c_shift_n,    // pointwise matched pairs
  c_cr_sum,     // consistency rate: sum over groups of the agreeing share of run pairs
  c_cr_groups,  // consistency rate: groups with ≥ 2 parsed runs
  c_width
};

struct kind_diag {
  std::uint64_t perturbed = 0, matched = 0, unmatched = 0, failures = 0;
};

// Consistency rate groups of a judge: control (comparison, order) groups with ≥ 2 parsed runs.
void add_consistency_groups(const dataset& d, const kit::selection& sel, item_sums& sums,
                            std::vector<double>& shares) {
  const auto comparisons = sel.comparisons(d);
  for (std::size_t k = 0; k < comparisons.size(); ++k) {
    const comparison& cmp = d.comparisons()[comparisons[k]];
    std::array<std::map<std::uint32_t, double>, 2> outcomes;  // per order: outcome → runs
    std::array<double, 2> runs{};
    for (auto i : sel.comparison_records(d, k)) {
      if (d.outcome(i) == no_id) continue;
      const std::size_t order = d.cand_a(i) == cmp.lo ? 0 : 1;
      outcomes[order][d.outcome(i)] += 1;
      runs[order] += 1;
    }
    for (std::size_t o = 0; o < 2; ++o) {
      if (runs[o] < 2) continue;
      double agreeing = 0;
      for (const auto& [outcome, count] : outcomes[o]) agreeing += count * (count - 1) / 2;
      const double share = agreeing / (runs[o] * (runs[o] - 1) / 2);
      double* r = sums[cmp.item];
      r[c_cr_sum] += share;
      r[c_cr_groups] += 1;
      shares.push_back(share);
    }
  }
}

kit::measurement measure(const dataset& d, const config& cfg, std::string_view stream, std::uint32_t kind,
                         const kit::selection& sel, kind_diag* diag) {
  metric_builder mb(d, cfg, stream, sel);
  item_sums sums(d.items().size(), c_width);
  std::vector<double> effect_d, change_d, shifts, shares, same_v;
  // The perturbed records of this kind (their controls are reached through control_of).
  for (auto i : sel.group.records(d, sel.judge)) {
    if (d.kind(i) != kind || d.is_duplicate(i) || !sel.in_group(d, i)) continue;
    if (diag) ++diag->perturbed;
    const std::uint32_t ctrl = d.control_of(i);
    if (ctrl == no_id) {
      if (diag) ++diag->unmatched;
      continue;
    }
    if (diag) ++diag->matched;
    if (!d.parsed(i) || !d.parsed(ctrl)) {
      if (diag) ++diag->failures;
      continue;
    }
    double* r = sums[d.item(i)];
    if (d.mode(i) == judgment_mode::pointwise) {
      r[c_shift] += d.score(i) - d.score(ctrl);
      r[c_shift_n] += 1;
      shifts.push_back(d.score(i) - d.score(ctrl));
      continue;
    }
    const std::uint32_t c = d.outcome(ctrl), p = d.outcome(i), t = d.target(i);
    r[c_n] += 1;
    r[c_same] += p == c;
    same_v.push_back(p == c);
    if (c != t) r[c_not_t] += 1, r[c_follow] += p == t;
    r[c_p_t] += p == t;
    r[c_c_t] += c == t;
    effect_d.push_back(static_cast<double>(p == t) - static_cast<double>(c == t));
    const std::uint32_t gold = d.comparisons()[d.comparison_of(i)].gold;
    if (gold != no_id) {
      const bool c_ok = c == gold, p_ok = p == gold;
      r[c_gold_n] += 1;
      r[c_ctrl_ok] += c_ok;
      r[c_pert_ok] += p_ok;
      r[c_harmful] += c_ok && !p_ok;
      r[c_helpful] += !c_ok && p_ok;
      change_d.push_back(static_cast<double>(p_ok) - static_cast<double>(c_ok));
    }
  }
  add_consistency_groups(d, sel, sums, shares);

  const auto t = sums.totals();
  const double conf = cfg.confidence;
  auto wilson = [conf](double k, double n) { return wilson_closed(k, n, conf); };
  auto mean_interval = [conf](const std::vector<double>& v) { return mean_wald_closed(v, conf); };
  auto u64 = [](double x) { return static_cast<std::uint64_t>(x); };
  const char* none = "no matched pair with both verdicts parsed";
  mb.put(
      "robustness_rate", unit::fraction, u64(t[c_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_same], s[c_n]); }, wilson(t[c_same], t[c_n]), none);
  mb.put(
      "flip_rate", unit::fraction, u64(t[c_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_n] - s[c_same], s[c_n]); },
      wilson(t[c_n] - t[c_same], t[c_n]), none);
  mb.put(
      "follow_rate", unit::fraction, u64(t[c_not_t]), sums,
      [](std::span<const double> s) { return ratio(s[c_follow], s[c_not_t]); },
      wilson(t[c_follow], t[c_not_t]), "no matched pair whose control did not already pick the target");
  metric& effect = mb.put(
      "effect", unit::fraction, u64(t[c_n]), sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return (s[c_p_t] - s[c_c_t]) / s[c_n];
      },
      mean_interval(effect_d), none);
  if (effect.value) {
    // Discordant pairs: (c ≠ T, p = T) and (c = T, p ≠ T); p_T − c_T = b − c.
    double b = 0, cc = 0;
    for (double x : effect_d) b += x > 0, cc += x < 0;
    effect.p = stats::mcnemar_exact(static_cast<std::uint64_t>(b), static_cast<std::uint64_t>(cc));
  }
  const char* no_gold = "no matched pair whose comparison has a gold verdict";
  mb.put(
      "accuracy_control", unit::fraction, u64(t[c_gold_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_ctrl_ok], s[c_gold_n]); },
      wilson(t[c_ctrl_ok], t[c_gold_n]), no_gold);
  mb.put(
      "accuracy_perturbed", unit::fraction, u64(t[c_gold_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_pert_ok], s[c_gold_n]); },
      wilson(t[c_pert_ok], t[c_gold_n]), no_gold);
  mb.put(
      "accuracy_change", unit::fraction, u64(t[c_gold_n]), sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_gold_n] <= 0) return std::nullopt;
        return (s[c_pert_ok] - s[c_ctrl_ok]) / s[c_gold_n];
      },
      mean_interval(change_d), no_gold);
  mb.put(
      "harmful_flip_rate", unit::fraction, u64(t[c_gold_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_harmful], s[c_gold_n]); },
      wilson(t[c_harmful], t[c_gold_n]), no_gold);
  mb.put(
      "helpful_flip_rate", unit::fraction, u64(t[c_gold_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_helpful], s[c_gold_n]); },
      wilson(t[c_helpful], t[c_gold_n]), no_gold);
  const char* no_runs = "needs control comparisons judged in the same order in 2 or more runs";
  mb.put(
      "consistency_rate", unit::fraction, u64(t[c_cr_groups]), sums,
      [](std::span<const double> s) { return ratio(s[c_cr_sum], s[c_cr_groups]); }, t_closed(shares, conf),
      no_runs);
  mb.put(
      "excess_flip_rate", unit::fraction, u64(t[c_n]), sums,
      [](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0 || s[c_cr_groups] <= 0) return std::nullopt;
        return (s[c_n] - s[c_same]) / s[c_n] - (1 - s[c_cr_sum] / s[c_cr_groups]);
      },
      // (1 − mean same) − (1 − mean share) = −(mean same − mean share)
      diff_wald_closed(same_v, shares, conf, -1), t[c_cr_groups] > 0 ? none : no_runs);
  mb.put(
      "score_shift", unit::score, u64(t[c_shift_n]), sums,
      [](std::span<const double> s) { return ratio(s[c_shift], s[c_shift_n]); }, t_closed(shifts, conf),
      "no matched pointwise pair with both scores parsed");
  return mb.take();
}

}  // namespace

section_body cue_section(const dataset& d, const config& cfg, std::string_view stream, std::uint32_t kind) {
  kind_diag diag;
  section_body section = kit::per_judge(d, cfg, [&](const kit::selection& s) {
    return measure(d, cfg, stream, kind, s, s.all() ? &diag : nullptr);
  });
  section.extra({"diagnostics"}, {{"perturbed_records", diag.perturbed},
                                  {"matched", diag.matched},
                                  {"unmatched", diag.unmatched},
                                  {"failures", diag.failures}});
  return section;
}

std::vector<metric_info> cue_metrics(std::string_view section, int series_order) {
  std::vector<metric_info> out = {
      {"robustness_rate", unit::fraction, bias_direction::lower, "P(perturbed outcome = control outcome)"},
      {"flip_rate", unit::fraction, bias_direction::higher, "1 - robustness_rate"},
      {"follow_rate", unit::fraction, bias_direction::higher, "P(picks the cue's target | control did not)"},
      {"effect", unit::fraction, bias_direction::higher,
       "P(perturbed picks target) - P(control picks target); McNemar p"},
      {"accuracy_control", unit::fraction, bias_direction::none, "accuracy of the controls against gold"},
      {"accuracy_perturbed", unit::fraction, bias_direction::none,
       "accuracy of the perturbed records against gold"},
      {"accuracy_change", unit::fraction, bias_direction::lower, "accuracy_perturbed - accuracy_control"},
      {"harmful_flip_rate", unit::fraction, bias_direction::higher,
       "correct -> incorrect, of matched pairs with gold"},
      {"helpful_flip_rate", unit::fraction, bias_direction::none,
       "incorrect -> correct, of matched pairs with gold"},
      {"consistency_rate", unit::fraction, bias_direction::none,
       "agreeing run pairs of repeated controls (noise floor)"},
      {"excess_flip_rate", unit::fraction, bias_direction::higher, "flip_rate - (1 - consistency_rate)"},
      {"score_shift", unit::score, bias_direction::away_from_zero,
       "pointwise: mean(perturbed score - control score)"},
  };
  for (auto& m : out) m.section = std::string(section);
  out[0].headline = 1;  // robustness_rate
  out[2].headline = 2;  // follow_rate
  out[3].headline = 3;  // effect
  out[0].chart = chart_spec{"robustness",
                            90,
                            "Robustness per cue kind",
                            "Share of cue variants whose verdict stayed that of the control (1 = unmoved).",
                            std::nullopt,
                            "",
                            series_order};
  return out;
}

}  // namespace judgebias::detail
