// Verbosity bias (METRICS.md §3).
// Sources: Dubois et al. 2024, "Length-Controlled AlpacaEval" (the length-controlled GLM, glm_winrate.py);
// the AlpacaEval annotator analysis ("Proba. prefer longer"); Ye et al. 2024 (CALM) for the
// counterfactual form (padded responses), measured by the perturbation engine (src/cue_engine.cpp).
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/cues.hpp"
#include "stats/regression.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;
using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns of the per-item sums: prefer-longer (judge), prefer-longer (gold), and both on the same records.
enum col : std::size_t {
  c_judge_longer,
  c_judge_n,
  c_gold_longer,
  c_gold_n,
  c_both_judge,
  c_both_gold,
  c_both_n,
  c_width
};

struct left_out {
  std::uint64_t records_without_length = 0;
};

double wald_p(double z) {
  return stats::floor_p(std::erfc(std::fabs(z) / std::numbers::sqrt2));
}

class verbosity_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "verbosity"; }
  std::string_view description() const noexcept override {
    return "Whether a judge prefers longer responses beyond what the gold does, and net of position";
  }
  std::vector<metric_info> metrics() const override {
    const chart_spec longer{"prefer_longer",
                            50,
                            "Verbosity: prefers the longer response",
                            "The judge's rate beside the gold's on the same comparisons.",
                            0.5,
                            "judge",
                            0};
    chart_spec gold = longer;
    gold.series = "gold";
    gold.series_order = 1;
    std::vector<metric_info> out = {
        metric_info{"prefer_longer_rate", unit::fraction, bias_direction::away_from_half,
                    "P(judge picks the longer), lengths differing by more than --min-length-gap"}
            .shown(1)
            .drawn(longer),
        metric_info{"gold_prefer_longer_rate", unit::fraction, bias_direction::none,
                    "P(gold picks the longer), same filter"}
            .shown(2)
            .drawn(gold),
        {"bias", unit::fraction, bias_direction::higher,
         "P(judge picks longer) - P(gold picks longer), same records"},
        metric_info{"length_coef", unit::coefficient, bias_direction::higher,
                    "logistic coefficient of tanh(length difference / sd) on choosing A"}
            .shown(3),
        {"lc_first_slot_rate", unit::fraction, bias_direction::away_from_half,
         "first-slot preference with the length term set to zero"},
        {"score_length_slope", unit::coefficient, bias_direction::higher,
         "pointwise: OLS slope of score - gold on ln(length + 1)"},
    };
    // Padded variants (perturbation.kind "verbosity"), measured as a cue.
    for (auto& m : detail::cue_metrics("counterfactual", 3)) out.push_back(std::move(m));
    return out;
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const bool tokens = cfg.length == length_unit::tokens;
    const bool any =
        kit::any_measured_record(d, [&](dataset::index i) { return length_a(d, i, tokens) != no_id; });
    if (!any && d.kinds().find("verbosity") == no_id) {
      result.skipped = true;
      result.reason = tokens ? "no record of a measured judge carries \"tokens\" (--length tokens)"
                             : "no record of a measured judge carries a length (\"length\" or \"text\")";
      return result;
    }
    left_out diag;
    result.body = kit::per_judge(
        d, cfg, [&](const kit::selection& s) { return measure(d, cfg, s, s.all() ? &diag : nullptr); });
    result.body.nest({"counterfactual"}, counterfactual(d, cfg));
    result.body.extra({"diagnostics"}, {{"records_without_length", diag.records_without_length}});
    return result;
  }

 private:
  static std::uint32_t length_a(const dataset& d, dataset::index i, bool tokens) {
    return tokens ? d.tokens_a(i) : d.length_a(i);
  }
  static std::uint32_t length_b(const dataset& d, dataset::index i, bool tokens) {
    return tokens ? d.tokens_b(i) : d.length_b(i);
  }

  // Padded variants (perturbation.kind "verbosity"), measured by the perturbation engine.
  static section_body counterfactual(const dataset& d, const config& cfg) {
    const std::uint32_t kind = d.kinds().find("verbosity");
    if (kind == no_id) {
      section_body out;
      out.extra({"judges"}, json::object());
      out.extra({"reason"}, "no record with perturbation.kind \"verbosity\"");
      return out;
    }
    return detail::cue_section(d, cfg, "verbosity/counterfactual", kind);
  }

  kit::measurement measure(const dataset& d, const config& cfg, const kit::selection& sel,
                           left_out* diag) const {
    const bool tokens = cfg.length == length_unit::tokens;
    const double gap = cfg.min_length_gap, conf = cfg.confidence;
    metric_builder mb(d, cfg, name(), sel);
    item_sums sums(d.items().size(), c_width);
    kit::value_list paired;         // judge-longer minus gold-longer, per record of `bias`
    std::vector<double> diffs;      // the regression's records: their length differences,
    kit::value_list labels, golds;  // verdicts and gold
    bool all_gold = true;
    std::vector<double> log_len, score_y, score_gold;
    bool all_score_gold = true;
    {  // room for every record of the judge here (room never written costs no memory)
      const std::size_t records = sel.group.records(d, sel.judge).size();
      diffs.reserve(records), labels.reserve(records), golds.reserve(records), paired.reserve(records);
    }

    for (auto i : sel.controls(d, std::nullopt)) {
      if (d.mode(i) == judgment_mode::pointwise) {
        if (!d.parsed(i)) continue;
        if (length_a(d, i, tokens) == no_id) {
          if (diag) ++diag->records_without_length;
          continue;
        }
        log_len.push_back(std::log(static_cast<double>(length_a(d, i, tokens)) + 1.0));
        score_y.push_back(d.score(i));
        score_gold.push_back(d.gold_score(i));
        all_score_gold &= !std::isnan(d.gold_score(i));
        continue;
      }
      const std::uint32_t la = length_a(d, i, tokens), lb = length_b(d, i, tokens);
      if (la == no_id || lb == no_id) {
        if (diag) ++diag->records_without_length;
        continue;
      }
      const double diff = static_cast<double>(la) - static_cast<double>(lb);
      const verdict v = d.verdict(i), g = d.gold_in_presentation(i);
      if (std::fabs(diff) > gap) {
        const verdict longer = diff > 0 ? verdict::a : verdict::b;
        const bool v_decisive = v == verdict::a || v == verdict::b,
                   g_decisive = g == verdict::a || g == verdict::b;
        double* r = sums[d.item(i)];
        if (v_decisive) r[c_judge_n] += 1, r[c_judge_longer] += v == longer;
        if (g_decisive) r[c_gold_n] += 1, r[c_gold_longer] += g == longer;
        if (v_decisive && g_decisive) {
          r[c_both_n] += 1, r[c_both_judge] += v == longer, r[c_both_gold] += g == longer;
          paired.push_back(static_cast<double>(v == longer) - static_cast<double>(g == longer));
        }
      }
      if (v != verdict::missing && d.order_known(i)) {
        diffs.push_back(diff);
        labels.push_back(v == verdict::a ? 1.0 : v == verdict::b ? 0.0 : 0.5);
        golds.push_back(g == verdict::a ? 1.0 : g == verdict::b ? -1.0 : 0.0);
        all_gold &= g != verdict::missing;
      }
    }

    const auto t = sums.totals();
    metric& pl = mb.put(
        "prefer_longer_rate", unit::fraction, static_cast<std::uint64_t>(t[c_judge_n]), sums,
        [](std::span<const double> s) { return ratio(s[c_judge_longer], s[c_judge_n]); },
        [&]() { return stats::wilson_interval(t[c_judge_longer], t[c_judge_n], conf); },
        "no decisive verdict on responses whose lengths differ by more than --min-length-gap");
    if (pl.value)
      pl.p = stats::binomial_test(static_cast<std::uint64_t>(t[c_judge_longer]),
                                  static_cast<std::uint64_t>(t[c_judge_n]));
    mb.put(
        "gold_prefer_longer_rate", unit::fraction, static_cast<std::uint64_t>(t[c_gold_n]), sums,
        [](std::span<const double> s) { return ratio(s[c_gold_longer], s[c_gold_n]); },
        [&]() { return stats::wilson_interval(t[c_gold_longer], t[c_gold_n], conf); },
        "no decisive gold on responses whose lengths differ by more than --min-length-gap");
    mb.put(
        "bias", unit::fraction, static_cast<std::uint64_t>(t[c_both_n]), sums,
        [](std::span<const double> s) -> std::optional<double> {
          if (s[c_both_n] <= 0) return std::nullopt;
          return (s[c_both_judge] - s[c_both_gold]) / s[c_both_n];
        },
        [&]() -> std::optional<std::array<double, 2>> {
          auto m = kit::moments_of(paired);
          if (m.n < 2) return std::nullopt;
          return stats::wald_interval(m.mean, m.sd / std::sqrt(m.n), conf);
        },
        "needs records with a decisive verdict and a decisive gold on responses of different lengths");
    fit_length_model(mb, diffs, labels, golds, all_gold, conf);
    put_score_slope(mb, log_len, score_y, score_gold, all_score_gold, conf);
    return mb.take();
  }

  // length_coef and lc_first_slot_rate: P(A) = σ(β0 + β_len·tanh(Δlen / sd) [+ β_gold·gold]).
  // `diffs` is spent: each becomes its tanh term.
  static void fit_length_model(metric_builder& mb, std::vector<double>& diffs, const kit::value_list& labels,
                               const kit::value_list& golds, bool all_gold, double conf) {
    metric coef, lc;
    coef.unit = unit::coefficient;
    lc.unit = unit::fraction;
    coef.n = lc.n = diffs.size();
    const auto m = kit::moments_of(diffs);
    // The gold covariate enters when every record has gold and it varies (else it duplicates the intercept).
    bool gold_varies = false;
    for (std::size_t r = 1; r < golds.size() && !gold_varies; ++r) gold_varies = golds[r] != golds[0];
    const bool with_gold = all_gold && gold_varies;
    const std::size_t cols = with_gold ? 3 : 2;
    if (diffs.size() < 3) {
      coef.reason = lc.reason = "needs at least 3 parsed records with both lengths and a known order";
    } else if (!(m.sd > 0)) {
      coef.reason = lc.reason = "singular design: the length difference does not vary";
    } else {
      // The design [1, tanh(Δlen / sd), gold] made row by row as the fit reads it, not held whole.
      for (double& v : diffs) v = std::tanh(v / m.sd);
      const detail::logistic_fit fit = detail::fit_logistic(
          diffs.size(), cols, [&](std::size_t first, std::size_t count, double* x, double* y) {
            for (std::size_t r = first; r < first + count; ++r) {
              *x++ = 1.0;
              *x++ = diffs[r];
              if (with_gold) *x++ = golds[r];
              *y++ = labels[r];
            }
          });
      if (!fit.ok) {
        coef.reason = lc.reason = fit.reason;
      } else {
        const double se = std::sqrt(fit.cov[1][1]);
        coef.value = fit.coef[1];
        coef.ci = stats::wald_interval(fit.coef[1], se, conf);
        coef.p = wald_p(fit.coef[1] / se);
        // Mean predicted P(A) with the length term at zero; delta-method interval over (β0, β_gold).
        double mean = 0, d0 = 0, dg = 0;
        for (std::size_t r = 0; r < diffs.size(); ++r) {
          const double g = with_gold ? golds[r] : 0.0;
          const double p = 1.0 / (1.0 + std::exp(-(fit.coef[0] + (with_gold ? fit.coef[2] * g : 0.0))));
          mean += p, d0 += p * (1 - p), dg += p * (1 - p) * g;
        }
        const double n = static_cast<double>(diffs.size());
        mean /= n, d0 /= n, dg /= n;
        double var = d0 * d0 * fit.cov[0][0];
        if (with_gold) var += 2 * d0 * dg * fit.cov[0][2] + dg * dg * fit.cov[2][2];
        lc.value = mean;
        lc.ci = stats::wald_interval(mean, std::sqrt(var), conf);
      }
    }
    mb.put("length_coef", coef);
    mb.put("lc_first_slot_rate", lc);
  }

  static void put_score_slope(metric_builder& mb, const std::vector<double>& log_len,
                              const std::vector<double>& score, const std::vector<double>& gold,
                              bool all_gold, double conf) {
    metric s;
    s.unit = unit::coefficient;
    s.n = log_len.size();
    std::vector<double> y(score);
    if (all_gold)
      for (std::size_t r = 0; r < y.size(); ++r) y[r] -= gold[r];
    if (auto fit = detail::fit_slope(log_len, y)) {
      s.value = fit->slope;
      if (fit->se > 0) {
        s.ci = stats::wald_interval(fit->slope, fit->se, conf);
        s.p = wald_p(fit->slope / fit->se);
      } else {
        s.ci = std::array<double, 2>{fit->slope, fit->slope};
      }
    } else {
      s.reason = "needs at least 3 parsed pointwise scores with lengths that vary";
    }
    mb.put("score_length_slope", s);
  }
};

}  // namespace

std::unique_ptr<bias_module> make_verbosity_module() {
  return std::make_unique<verbosity_module>();
}

}  // namespace judgebias
