// Agreement with gold (METRICS.md §5).
// Sources: Zheng et al. 2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena" (agreement with
// human verdicts, with and without ties); Cohen 1960 (kappa); Brier 1950 (probability score).
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
      return measure(d, cfg, {s}, d.judges().name(s.judge), s.group_name);
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
    std::vector<double> squared_errors;
    for (const kit::selection& sel : selections) {
      for (auto i : sel.controls(d, judgment_mode::pairwise)) {
        const verdict g = d.gold_in_presentation(i);
        if (g == verdict::missing) continue;
        double* r = sums[d.item(i)];
        if (d.verdict(i) != verdict::missing) r[cell(d.verdict(i), g)] += 1;
        if (!std::isnan(d.prob_a(i)) && g != verdict::tie) {
          const double e = d.prob_a(i) - (g == verdict::a ? 1.0 : 0.0);
          r[c_brier] += e * e;
          r[c_brier_n] += 1;
          squared_errors.push_back(e * e);
        }
      }
    }
    const auto t = sums.rows().totals();
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
    return mb.take();
  }
};

}  // namespace

std::unique_ptr<bias_module> make_agreement_module() {
  return std::make_unique<agreement_module>();
}

}  // namespace judgebias
