// Position bias (METRICS.md §2).
// Sources: Shi et al. 2024, "Judging the Judges: A Systematic Study of Position Bias in LLM-as-a-Judge"
// (position consistency and fairness; code: Position-Bias-Analyzer); Zheng et al. 2023, "Judging
// LLM-as-a-Judge with MT-Bench and Chatbot Arena" (swapping the two answers); Wang et al. 2025 (LRM
// judging bias, first-slot rate).
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/swap.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;
using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns of the per-item sums.
enum col : std::size_t {
  c_consistent,
  c_first_slot_both,
  c_second_slot_both,
  c_failure,  // swap pairs
  c_first,
  c_decisive,  // first-slot rate
  c_gold_a_ok,
  c_gold_a,
  c_gold_b_ok,
  c_gold_b,  // accuracy by gold slot
  c_null,
  c_records,  // extraction failures
  c_stability,
  c_groups,  // repetition stability
  c_width
};

struct left_out {
  std::uint64_t order_unknown_records = 0;
  std::uint64_t one_order_comparisons = 0;
};

class position_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "position"; }
  std::string_view description() const noexcept override {
    return "Whether a judge's verdict follows the slot a response is shown in, from swapped pairs";
  }
  std::vector<metric_info> metrics() const override {
    return {
        metric_info{"consistency", unit::fraction, bias_direction::lower,
                    "swap pairs with the same winner in both orders"}
            .shown(1)
            .drawn({"consistency", 30, "Position: consistency across swaps",
                    "Share of swap pairs with the same choice in both orders (1 = never swayed by the slot).",
                    std::nullopt, "consistency"}),
        metric_info{"fairness", unit::fraction, bias_direction::away_from_zero,
                    "(second_slot - first_slot) / all swap pairs; > 0 favours the second slot"}
            .shown(2),
        metric_info{"first_slot_rate", unit::fraction, bias_direction::away_from_half,
                    "P(verdict = A) over decisive records"}
            .shown(3)
            .drawn({"first_slot_rate", 40, "Position: first-slot rate",
                    "Share of decisive verdicts for the response shown first.", 0.5, "first_slot_rate"}),
        {"repetition_stability", unit::fraction, bias_direction::none,
         "share of runs agreeing with the most common verdict of a comparison and order"},
        {"accuracy_gold_first", unit::fraction, bias_direction::none,
         "accuracy where the gold answer is shown first"},
        {"accuracy_gold_second", unit::fraction, bias_direction::none,
         "accuracy where the gold answer is shown second"},
        {"accuracy_gap", unit::fraction, bias_direction::away_from_zero,
         "accuracy_gold_first - accuracy_gold_second"},
        {"extraction_failure_rate", unit::fraction, bias_direction::none,
         "null verdicts / control pairwise records"},
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const bool any = kit::any_measured_record(
        d, [&](dataset::index i) { return d.mode(i) == judgment_mode::pairwise && d.order_known(i); });
    if (!any) {
      result.skipped = true;
      result.reason = "no pairwise record of a measured judge with a known presentation order";
      return result;
    }
    left_out diag;
    result.body = kit::per_judge(
        d, cfg, [&](const kit::selection& s) { return measure(d, cfg, s, s.all() ? &diag : nullptr); });
    result.body.extra({"diagnostics"}, {{"order_unknown_records", diag.order_unknown_records},
                                        {"one_order_comparisons", diag.one_order_comparisons},
                                        {"duplicates", d.diagnostics().duplicates}});
    return result;
  }

 private:
  kit::measurement measure(const dataset& d, const config& cfg, const kit::selection& sel,
                           left_out* diag) const {
    metric_builder mb(d, cfg, name(), sel);
    item_sums sums(d.items().size(), c_width);
    std::vector<double> stabilities;

    for (auto i : sel.controls(d, judgment_mode::pairwise)) {
      if (!d.order_known(i)) {
        if (diag) ++diag->order_unknown_records;
        continue;
      }
      double* r = sums[d.item(i)];
      r[c_records] += 1;
      const verdict v = d.verdict(i);
      if (v == verdict::missing) {
        r[c_null] += 1;
        continue;
      }
      if (v != verdict::tie) {
        r[c_decisive] += 1;
        r[c_first] += v == verdict::a;
      }
      const verdict g = d.gold_in_presentation(i);
      if (g == verdict::a) r[c_gold_a] += 1, r[c_gold_a_ok] += v == verdict::a;
      if (g == verdict::b) r[c_gold_b] += 1, r[c_gold_b_ok] += v == verdict::b;
    }

    const auto comparisons = sel.comparisons(d);
    for (std::size_t k = 0; k < comparisons.size(); ++k) {
      const comparison& cmp = d.comparisons()[comparisons[k]];
      for (const swap_pair& s : sel.swap_pairs(d, k)) {  // (both records in the selection's group)
        sums[cmp.item]
            [static_cast<std::size_t>(detail::classify_swap(d.verdict(s.lo_first), d.verdict(s.hi_first)))] +=
            1;
      }
      // Per order of this comparison: runs seen, and verdict counts for repetition stability.
      struct order_runs {
        std::vector<std::uint32_t> runs;
        std::array<double, 3> counts{};  // A, B, tie
      };
      std::array<order_runs, 2> orders;  // [0]: lo shown first
      for (auto i : sel.comparison_records(d, k)) {
        if (!d.order_known(i)) continue;
        order_runs& o = orders[d.cand_a(i) == cmp.lo ? 0 : 1];
        o.runs.push_back(d.run(i));
        if (d.verdict(i) != verdict::missing) o.counts[static_cast<std::size_t>(d.verdict(i))] += 1;
      }
      for (const order_runs& o : orders) {
        if (o.runs.size() < 2) continue;
        const double stability =
            *std::max_element(o.counts.begin(), o.counts.end()) / static_cast<double>(o.runs.size());
        double* r = sums[cmp.item];
        r[c_stability] += stability;
        r[c_groups] += 1;
        stabilities.push_back(stability);
      }
      if (diag) {
        for (std::uint32_t run : orders[0].runs)
          diag->one_order_comparisons +=
              std::find(orders[1].runs.begin(), orders[1].runs.end(), run) == orders[1].runs.end();
        for (std::uint32_t run : orders[1].runs)
          diag->one_order_comparisons +=
              std::find(orders[0].runs.begin(), orders[0].runs.end(), run) == orders[0].runs.end();
      }
    }

    const auto t = sums.totals();
    const double conf = cfg.confidence;
    auto wilson = [conf](double k, double n) { return kit::wilson_closed(k, n, conf); };
    const double valid = t[c_consistent] + t[c_first_slot_both] + t[c_second_slot_both];
    const double all_pairs = valid + t[c_failure];
    mb.put(
        "consistency", unit::fraction, static_cast<std::uint64_t>(valid), sums,
        [](std::span<const double> s) {
          return ratio(s[c_consistent], s[c_consistent] + s[c_first_slot_both] + s[c_second_slot_both]);
        },
        wilson(t[c_consistent], valid), "no swap pair with both verdicts parsed (both orders in one run)");
    mb.put(
        "fairness", unit::fraction, static_cast<std::uint64_t>(all_pairs), sums,
        [](std::span<const double> s) {
          return ratio(s[c_second_slot_both] - s[c_first_slot_both],
                       s[c_consistent] + s[c_first_slot_both] + s[c_second_slot_both] + s[c_failure]);
        },
        [&]() -> std::optional<std::array<double, 2>> {
          if (all_pairs < 2) return std::nullopt;
          const double pr = t[c_second_slot_both] / all_pairs, pp = t[c_first_slot_both] / all_pairs;
          return stats::wald_interval(pr - pp, std::sqrt((pr + pp - (pr - pp) * (pr - pp)) / all_pairs),
                                      conf);
        },
        "no swap pair (both orders in one run)");
    metric& first = mb.put(
        "first_slot_rate", unit::fraction, static_cast<std::uint64_t>(t[c_decisive]), sums,
        [](std::span<const double> s) { return ratio(s[c_first], s[c_decisive]); },
        wilson(t[c_first], t[c_decisive]), "no decisive verdict");
    if (first.value)
      first.p = stats::binomial_test(static_cast<std::uint64_t>(t[c_first]),
                                     static_cast<std::uint64_t>(t[c_decisive]));
    mb.put(
        "repetition_stability", unit::fraction, static_cast<std::uint64_t>(t[c_groups]), sums,
        [](std::span<const double> s) { return ratio(s[c_stability], s[c_groups]); },
        kit::t_closed(stabilities, conf),
        "needs the same comparison in the same order judged in 2 or more runs");
    const char* no_gold = "no parsed record whose gold verdict is in that slot";
    mb.put(
        "accuracy_gold_first", unit::fraction, static_cast<std::uint64_t>(t[c_gold_a]), sums,
        [](std::span<const double> s) { return ratio(s[c_gold_a_ok], s[c_gold_a]); },
        wilson(t[c_gold_a_ok], t[c_gold_a]), no_gold);
    mb.put(
        "accuracy_gold_second", unit::fraction, static_cast<std::uint64_t>(t[c_gold_b]), sums,
        [](std::span<const double> s) { return ratio(s[c_gold_b_ok], s[c_gold_b]); },
        wilson(t[c_gold_b_ok], t[c_gold_b]), no_gold);
    mb.put(
        "accuracy_gap", unit::fraction, static_cast<std::uint64_t>(t[c_gold_a] + t[c_gold_b]), sums,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[c_gold_a] <= 0 || s[c_gold_b] <= 0) return std::nullopt;
          return s[c_gold_a_ok] / s[c_gold_a] - s[c_gold_b_ok] / s[c_gold_b];
        },
        [&]() -> std::optional<std::array<double, 2>> {
          if (t[c_gold_a] < 2 || t[c_gold_b] < 2) return std::nullopt;
          const double pa = t[c_gold_a_ok] / t[c_gold_a], pb = t[c_gold_b_ok] / t[c_gold_b];
          return stats::wald_interval(
              pa - pb, std::sqrt(pa * (1 - pa) / t[c_gold_a] + pb * (1 - pb) / t[c_gold_b]), conf);
        },
        "needs parsed records with the gold answer in each slot");
    mb.put(
        "extraction_failure_rate", unit::fraction, static_cast<std::uint64_t>(t[c_records]), sums,
        [](std::span<const double> s) { return ratio(s[c_null], s[c_records]); },
        wilson(t[c_null], t[c_records]), "no control pairwise record with a known order");
    return mb.take();
  }
};

}  // namespace

std::unique_ptr<bias_module> make_position_module() {
  return std::make_unique<position_module>();
}

}  // namespace judgebias
