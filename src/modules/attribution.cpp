// Attribution (issue #17, docs/metrics.md "Attribution"): one logistic model of a judge's pairwise verdict
// that holds position, the gold, authorship, length and every cue fixed at once, so that "the judge
// prefers its own responses" is told apart from "the judge prefers long answers that its own model
// happens to write". Chen et al. 2025 warn of exactly this confound; the length term is AlpacaEval 2's
// (Dubois et al. 2024), the position term Zheng et al.'s, the cue terms CALM's (Ye et al. 2024).
//
// One fit per judge (and per --by group) by Newton/IRLS; each term's coefficient (Wald interval, and the
// one-step item bootstrap: each resample's coefficients are one Newton step from the full-data estimate
// with that resample's per-item score and information), its odds ratio and its average effect in pp.
#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include <fmt/format.h>
#include <Eigen/Dense>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/self_dbg.hpp"
#include "stats/regression.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// The fixed terms, in design order; cue kinds follow them.
enum fixed_term : std::size_t { t_position, t_gold, t_self, t_length, fixed_terms };
constexpr std::array<std::string_view, fixed_terms> fixed_names{"position", "gold", "self", "length"};

struct left_out {
  std::uint64_t unparsed = 0, order_unknown = 0, without_gold = 0, without_model = 0, without_length = 0,
                without_features = 0;
};

// One selection's design: a row per record used, a column per term (fixed terms, then one per cue kind),
// and why a term is not in the fit (empty: it is).
struct design {
  std::size_t cols = 0;
  std::vector<double> x, y;
  std::vector<std::uint32_t> item;
  std::vector<std::string> out_reason;  // per column
  std::size_t candidates = 0;           // parsed pairwise records with a known order, before the terms' needs
  std::size_t rows() const { return y.size(); }
};

// The fit of one selection, per column of the design: the estimate, its covariance, its effect.
struct term_result {
  std::string reason;  // why null; empty when estimated
  double coef = 0, se = 0, effect = 0, effect_se = 0;
  std::uint64_t effect_n = 0;
  std::size_t active = 0;  // its place among the fitted columns
};
struct fit_result {
  std::vector<term_result> terms;   // per design column
  std::uint64_t n = 0;              // records used
  std::vector<std::size_t> active;  // fitted columns, in design order
  std::vector<double> beta;         // per active column
  // Per-item sums for the one-step bootstrap (columns: score, information's lower triangle, then per
  // active column its effect's sum, count and gradient).
  std::unique_ptr<kit::item_sums> sums;
};

// Column offsets of the bootstrap sums for k fitted columns.
struct sums_layout {
  std::size_t k;
  std::size_t score(std::size_t a) const { return a; }
  std::size_t info(std::size_t a, std::size_t c) const { return k + a * (a + 1) / 2 + c; }  // c ≤ a
  std::size_t effect_base(std::size_t j) const { return k + k * (k + 1) / 2 + j * (k + 2); }
  std::size_t effect_sum(std::size_t j) const { return effect_base(j); }
  std::size_t effect_n(std::size_t j) const { return effect_base(j) + 1; }
  std::size_t effect_grad(std::size_t j, std::size_t a) const { return effect_base(j) + 2 + a; }
  std::size_t width() const { return effect_base(k); }
};

// The one Newton step from the full-data estimate that a resample's sums give (nullopt: its information
// is singular).
std::optional<Eigen::VectorXd> one_step(std::span<const double> s, const sums_layout& l) {
  const auto k = static_cast<Eigen::Index>(l.k);
  Eigen::MatrixXd info(k, k);
  Eigen::VectorXd score(k);
  for (std::size_t a = 0; a < l.k; ++a) {
    score(static_cast<Eigen::Index>(a)) = s[l.score(a)];
    for (std::size_t c = 0; c <= a; ++c)
      info(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(c)) =
          info(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(a)) = s[l.info(a, c)];
  }
  const Eigen::LDLT<Eigen::MatrixXd> ldlt(info);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() ||
      ldlt.vectorD().minCoeff() <= 1e-12 * info.diagonal().maxCoeff())
    return std::nullopt;
  return Eigen::VectorXd(ldlt.solve(score));
}

class attribution_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "attribution"; }
  std::string_view description() const noexcept override {
    return "One logistic model of the pairwise verdict: self-preference net of position, length, gold and "
           "cues";
  }
  std::vector<metric_info> metrics() const override {
    const chart_spec chart{"attribution",
                           15,
                           "Self-preference net of position, length and cues (pp)",
                           "self_effect: the own response's extra pick probability the model attributes to "
                           "authorship alone; dbg_pairwise: the raw DBG.",
                           0.0,
                           "self_effect",
                           0};
    chart_spec raw = chart;
    raw.series = "dbg_pairwise (raw)";
    raw.series_order = 1;
    std::vector<metric_info> m = {
        metric_info{"self_effect", unit::pp, bias_direction::higher,
                    "average effect of authorship on picking the own response, position, length, gold and "
                    "cues held fixed"}
            .shown(1)
            .drawn(chart),
        metric_info{"dbg_pairwise", unit::pp, bias_direction::higher,
                    "self_preference's raw pairwise DBG, beside it"}
            .shown(2)
            .drawn(raw),
        metric_info{"position_effect", unit::pp, bias_direction::away_from_zero,
                    "average effect of the intercept on picking the first slot"}
            .shown(3),
        metric_info{"length_effect", unit::pp, bias_direction::higher,
                    "average effect of the length term on picking the longer response"}
            .shown(4),
        {"gold_effect", unit::pp, bias_direction::none,
         "average effect of the gold's verdict on picking the gold's answer"},
    };
    for (std::string_view t : fixed_names)
      for (auto& d : term_metrics(std::string(t) + "_", "")) m.push_back(std::move(d));
    for (auto& d : term_metrics("cue_", std::string(every_section))) m.push_back(std::move(d));
    {
      metric_info e{"cue_effect", unit::pp, bias_direction::higher,
                    "average effect of the cue on picking its target"};
      e.section = std::string(every_section);
      m.push_back(std::move(e));
    }
    for (auto& d : term_metrics("feature_", std::string(every_section))) m.push_back(std::move(d));
    {
      metric_info e{"feature_effect", unit::pp, bias_direction::none,
                    "average effect of the candidates' feature difference on picking the slot it favours"};
      e.section = std::string(every_section);
      m.push_back(std::move(e));
    }
    return m;
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    if (!kit::any_measured_record(d, [&](dataset::index i) {
          return d.mode(i) == judgment_mode::pairwise && !d.is_duplicate(i);
        })) {
      result.skipped = true;
      result.reason = "no pairwise record of a measured judge";
      return result;
    }
    // Cue kinds among the measured judges' pairwise records, by name: one column each.
    std::vector<std::uint32_t> kinds;
    {
      std::vector<std::uint8_t> seen(d.kinds().size(), 0);
      for (std::uint32_t j : d.measured_judges())
        for (auto i : d.records_of_judge(j))
          if (d.kind(i) != no_id && d.mode(i) == judgment_mode::pairwise) seen[d.kind(i)] = 1;
      for (std::uint32_t k = 0; k < seen.size(); ++k)
        if (seen[k]) kinds.push_back(k);
      std::sort(kinds.begin(), kinds.end(),
                [&](auto x, auto y) { return d.kinds().name(x) < d.kinds().name(y); });
    }
    // The candidates' numeric features among the same records, by name: one column each, after the cues.
    std::vector<std::uint32_t> features;
    if (d.feature_names().size() > 0) {
      std::vector<std::uint8_t> seen(d.feature_names().size(), 0);
      for (std::uint32_t j : d.measured_judges())
        for (auto i : d.records_of_judge(j))
          if (d.mode(i) == judgment_mode::pairwise)
            for (const auto& f : d.features(i)) seen[f.feature] = 1;
      for (std::uint32_t k = 0; k < seen.size(); ++k)
        if (seen[k]) features.push_back(k);
      std::sort(features.begin(), features.end(),
                [&](auto x, auto y) { return d.feature_names().name(x) < d.feature_names().name(y); });
    }
    // The names of the columns after the fixed terms, for messages: "cue K", then "feature F".
    std::vector<std::string> kind_names;
    kind_names.reserve(kinds.size() + features.size());
    for (std::uint32_t k : kinds) kind_names.push_back("cue " + std::string(d.kinds().name(k)));
    for (std::uint32_t f : features)
      kind_names.push_back("feature " + std::string(d.feature_names().name(f)));
    // self_preference's own number (interval and all) beside self_effect.
    const detail::self_preference_dbg raw(d, cfg);
    const kit::ownership owner(d, cfg);
    left_out diag;
    // One fit per selection, kept for the cue sub-sections, which are placed after the module's own rows.
    std::map<std::pair<std::uint32_t, std::string>, fit_result> fits;
    result.body = kit::per_judge(d, cfg, [&](const kit::selection& s) {
      design x = build_design(d, cfg, owner, kinds, features, s, s.all() ? &diag : nullptr);
      fit_result& f = fits[{s.judge, s.group_name}] = fit(x, cfg, kind_names);
      return measure_fixed(d, cfg, s, f, raw);
    });
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      const std::string kind(d.kinds().name(kinds[k]));
      result.body.nest({"kinds", kind}, kit::per_judge(d, cfg, [&](const kit::selection& s) {
                         const fit_result& f = fits.at({s.judge, s.group_name});
                         kit::metric_builder mb(d, cfg, fmt::format("{}/{}", name(), kind), s);
                         put_term(mb, cfg, f, fixed_terms + k, "cue_");
                         put_effect(mb, cfg, f, fixed_terms + k, "cue_effect");
                         return mb.take();
                       }));
    }
    for (std::size_t k = 0; k < features.size(); ++k) {
      const std::string feature(d.feature_names().name(features[k]));
      const std::size_t column = fixed_terms + kinds.size() + k;
      result.body.nest({"features", feature}, kit::per_judge(d, cfg, [&](const kit::selection& s) {
                         const fit_result& f = fits.at({s.judge, s.group_name});
                         kit::metric_builder mb(d, cfg, fmt::format("{}/feature/{}", name(), feature), s);
                         put_term(mb, cfg, f, column, "feature_");
                         put_effect(mb, cfg, f, column, "feature_effect");
                         return mb.take();
                       }));
    }
    result.body.extra({"diagnostics"}, {{"records_unparsed", diag.unparsed},
                                        {"records_order_unknown", diag.order_unknown},
                                        {"records_without_gold", diag.without_gold},
                                        {"records_without_model", diag.without_model},
                                        {"records_without_length", diag.without_length},
                                        {"records_without_features", diag.without_features}});
    return result;
  }

 private:
  static std::vector<metric_info> term_metrics(const std::string& prefix, const std::string& section) {
    std::vector<metric_info> m = {
        {prefix + "coef", unit::coefficient, bias_direction::none,
         "log-odds coefficient (item-bootstrap interval; Wald under --bootstrap 0; Wald p)"},
        {prefix + "coef_wald", unit::coefficient, bias_direction::none,
         "the same coefficient with its Wald interval (inverse Fisher information)"},
        {prefix + "odds_ratio", unit::coefficient, bias_direction::none, "exp(coefficient)"},
    };
    for (auto& d : m) d.section = section;
    return m;
  }

  static design build_design(const dataset& d, const config& cfg, const kit::ownership& owner,
                             const std::vector<std::uint32_t>& kinds,
                             const std::vector<std::uint32_t>& features, const kit::selection& s,
                             left_out* diag) {
    design x;
    const std::size_t first_feature = fixed_terms + kinds.size();
    x.cols = first_feature + features.size();
    // A record's feature column k: its value for A minus its value for B, NaN when either lacks it.
    auto feature_difference = [&](dataset::index i, std::size_t k) {
      double a = std::nan(""), b = std::nan("");
      for (const auto& f : d.features(i))
        if (f.feature == features[k]) (f.slot == 0 ? a : b) = f.value;
      return a - b;
    };
    x.out_reason.assign(x.cols, "");
    const bool tokens = cfg.length == length_unit::tokens;
    auto len_a = [&](dataset::index i) { return tokens ? d.tokens_a(i) : d.length_a(i); };
    auto len_b = [&](dataset::index i) { return tokens ? d.tokens_b(i) : d.length_b(i); };
    auto label = [&](dataset::index i) {
      if (!std::isnan(d.prob_a(i))) return d.prob_a(i);
      const verdict v = d.verdict(i);
      return v == verdict::a ? 1.0 : v == verdict::b ? 0.0 : v == verdict::tie ? 0.5 : std::nan("");
    };
    // The judge's pairwise records in the selection, perturbed ones included (their cue is a term).
    std::vector<dataset::index> recs;
    recs.reserve(s.group.records(d, s.judge).size());  // (room never touched costs no memory)
    bool any_own = false, any_length = false;
    std::vector<bool> any_feature(features.size(), false);
    for (auto i : s.group.records(d, s.judge)) {
      if (d.mode(i) != judgment_mode::pairwise || d.is_duplicate(i)) continue;
      if (std::isnan(label(i))) {
        if (diag) ++diag->unparsed;
        continue;
      }
      if (!d.order_known(i)) {
        if (diag) ++diag->order_unknown;
        continue;
      }
      recs.push_back(i);
      ++x.candidates;
      any_own |= d.model_a(i) != no_id && d.model_b(i) != no_id &&
                 (owner.own(d.model_a(i), d.judge_model(i)) || owner.own(d.model_b(i), d.judge_model(i)));
      any_length |= len_a(i) != no_id && len_b(i) != no_id;
      for (std::size_t k = 0; k < features.size(); ++k)
        any_feature[k] = any_feature[k] || !std::isnan(feature_difference(i, k));
    }
    if (!cfg.gold_covariate) x.out_reason[t_gold] = "left out by --no-gold-covariate";
    if (!any_own)
      x.out_reason[t_self] =
          "no record of this judge compares a response of its own model (needs both candidates' \"model\"; "
          "--self pairs families)";
    if (!any_length)
      x.out_reason[t_length] = tokens ? "no record of this judge carries both responses' tokens"
                                      : "no record of this judge carries both responses' lengths";
    for (std::size_t k = 0; k < features.size(); ++k)
      if (!any_feature[k])
        x.out_reason[first_feature + k] = "no record of this judge carries it for both responses";
    // Room for every candidate row at once: grown by doubling, the design (a judge's pairwise records ×
    // its terms) would be held twice while it is copied.
    x.x.reserve(recs.size() * x.cols);
    x.y.reserve(recs.size());
    x.item.reserve(recs.size());
    std::vector<double> feature_diff(features.size());  // the record's feature columns
    for (auto i : recs) {
      const verdict g = d.gold_in_presentation(i);
      if (cfg.gold_covariate && g == verdict::missing) {
        if (diag) ++diag->without_gold;
        continue;
      }
      if (any_own && (d.model_a(i) == no_id || d.model_b(i) == no_id)) {
        if (diag) ++diag->without_model;
        continue;
      }
      if (any_length && (len_a(i) == no_id || len_b(i) == no_id)) {
        if (diag) ++diag->without_length;
        continue;
      }
      bool lacks_feature = false;
      for (std::size_t k = 0; k < features.size(); ++k) {
        feature_diff[k] = any_feature[k] ? feature_difference(i, k) : 0.0;
        lacks_feature |= std::isnan(feature_diff[k]);
      }
      if (lacks_feature) {
        if (diag) ++diag->without_features;
        continue;
      }
      const std::size_t at = x.x.size();
      x.x.resize(at + x.cols, 0.0);
      double* row = x.x.data() + at;
      row[t_position] = 1;
      // With a gold panel, the panel's vote share for A minus its share for B (the "gold probability");
      // else the one gold verdict, +1 / 0 / −1.
      const double share_a = d.gold_share_a(i);
      row[t_gold] = !std::isnan(share_a) ? 2 * share_a - 1
                    : g == verdict::a    ? 1.0
                    : g == verdict::b    ? -1.0
                                         : 0.0;
      if (any_own)
        row[t_self] = static_cast<double>(owner.own(d.model_a(i), d.judge_model(i))) -
                      static_cast<double>(owner.own(d.model_b(i), d.judge_model(i)));
      if (any_length) row[t_length] = static_cast<double>(len_a(i)) - static_cast<double>(len_b(i));
      if (d.kind(i) != no_id) {
        const auto k =
            static_cast<std::size_t>(std::find(kinds.begin(), kinds.end(), d.kind(i)) - kinds.begin());
        row[fixed_terms + k] =
            static_cast<double>(d.target(i) == d.cand_a(i)) - static_cast<double>(d.target(i) == d.cand_b(i));
      }
      std::copy(feature_diff.begin(), feature_diff.end(), row + first_feature);
      x.y.push_back(label(i));
      x.item.push_back(d.item(i));
    }
    // Length enters as tanh(difference / its sample sd over the records used), as in the verbosity fit.
    if (any_length) {
      const kit::moments m = kit::moments_of_column(x.x, x.cols, t_length);
      if (m.sd > 0)
        for (std::size_t r = 0; r < x.rows(); ++r)
          x.x[r * x.cols + t_length] = std::tanh(x.x[r * x.cols + t_length] / m.sd);
    }
    return x;
  }

  // Fits the design, leaving out (null, with the reason) what cannot be estimated: a term that does not
  // vary, terms caught in an exact linear dependence, and a term that separates the verdicts.
  static fit_result fit(const design& x, const config& cfg, const std::vector<std::string>& kind_names) {
    fit_result f;
    f.terms.resize(x.cols);
    f.n = x.rows();
    for (std::size_t c = 0; c < x.cols; ++c) f.terms[c].reason = x.out_reason[c];
    auto names_of = [&](const std::vector<std::size_t>& cols) {
      std::vector<std::string> n;
      n.reserve(cols.size());
      for (std::size_t c : cols)
        n.push_back(c < fixed_terms ? std::string(fixed_names[c]) : kind_names[c - fixed_terms]);
      return fmt::format("{}", fmt::join(n, ", "));
    };
    if (x.candidates == 0) {  // a pointwise-only judge (or group): one reason for every term
      for (auto& t : f.terms) t.reason = "no parsed pairwise record of this judge here";
      return f;
    }
    if (x.rows() == 0) {
      for (auto& t : f.terms)
        if (t.reason.empty())
          t.reason = x.candidates == 0 ? "no parsed pairwise record of this judge here"
                     : cfg.gold_covariate
                         ? "no parsed pairwise record with gold (use --no-gold-covariate to fit without it)"
                         : "no parsed pairwise record with what the terms need (models, lengths)";
      return f;
    }
    // Terms that do not vary among the records used (the intercept is the constant).
    for (std::size_t c = 1; c < x.cols; ++c) {
      if (!f.terms[c].reason.empty()) continue;
      bool varies = false;
      for (std::size_t r = 1; r < x.rows() && !varies; ++r) varies = x.x[r * x.cols + c] != x.x[c];
      if (!varies)
        f.terms[c].reason = c >= fixed_terms ? (kind_names[c - fixed_terms].rfind("cue ", 0) == 0
                                                    ? "no record of this judge here carries this cue"
                                                    : "does not vary among the records used")
                            : c == t_self    ? "no record here compares an own response with another"
                                             : "does not vary among the records used";
    }
    for (;;) {
      std::vector<std::size_t> active;
      for (std::size_t c = 0; c < x.cols; ++c)
        if (f.terms[c].reason.empty()) active.push_back(c);
      if (active.empty()) return f;
      const std::size_t k = active.size();
      // The active columns' design: the design itself when every column is active (no copy), else a copy
      // of those columns.
      std::vector<double> copy;
      if (k < x.cols) {
        copy.resize(x.rows() * k);
        for (std::size_t r = 0; r < x.rows(); ++r)
          for (std::size_t a = 0; a < k; ++a) copy[r * k + a] = x.x[r * x.cols + active[a]];
      }
      const std::span<const double> sub =
          k < x.cols ? std::span<const double>(copy) : std::span<const double>(x.x);
      if (x.rows() <= k) {
        for (std::size_t c : active)
          f.terms[c].reason = fmt::format("needs more records ({}) than terms ({})", x.rows(), k);
        return f;
      }
      const std::vector<bool> dep = detail::dependent_columns(sub, k);
      std::vector<std::size_t> tangled;
      for (std::size_t a = 0; a < k; ++a)
        if (dep[a]) tangled.push_back(active[a]);
      if (!tangled.empty()) {
        // The intercept stays in the model: the other terms of the dependence go.
        for (std::size_t c : tangled)
          if (c != t_position)
            f.terms[c].reason = fmt::format(
                "collinear: {} are linear in one another among the records used, so their effects cannot be "
                "told apart",
                names_of(tangled));
        continue;
      }
      const detail::logistic_fit lf = detail::fit_logistic(sub, x.y, k);
      if (!lf.ok && lf.separated && !lf.coef.empty()) {
        std::size_t worst = 0;
        for (std::size_t a = 1; a < k; ++a)
          if (std::fabs(lf.coef[a]) > std::fabs(lf.coef[worst])) worst = a;
        if (active[worst] == t_position) {
          // The intercept itself runs off: the judge gives (nearly) one answer whatever the terms say.
          for (std::size_t c : active)
            f.terms[c].reason =
                "separation: the judge picks one slot (or one answer) on every record, so no term can be "
                "estimated";
          return f;
        }
        f.terms[active[worst]].reason =
            "separation: this term predicts the verdicts perfectly, so its coefficient is infinite";
        continue;
      }
      if (!lf.ok) {
        for (std::size_t c : active) f.terms[c].reason = lf.reason;
        return f;
      }
      f.active = active;
      f.beta = lf.coef;
      for (std::size_t a = 0; a < k; ++a) {
        term_result& t = f.terms[active[a]];
        t.active = a;
        t.coef = lf.coef[a];
        t.se = std::sqrt(lf.cov[a][a]);
      }
      // Without rows only while the design's items increase (a judge's records of a file grouped by item,
      // items first met in that order): else its sums are kept by item, as the bootstrap keeps them.
      effects(x, f, lf, sub, cfg.bootstrap > 0 || !std::is_sorted(x.item.begin(), x.item.end()));
      return f;
    }
  }

  // Each fitted term's average effect (docs/metrics.md): over the records where its covariate is not 0,
  // the change in P(picking the slot it favours) between its observed value and 0, in pp; the delta-method
  // standard error; and the per-item sums of the one-step bootstrap. At --bootstrap 0 the rows are not
  // kept (`keep_rows` false, items in increasing order): the metrics' values are the fit's own, and the
  // sums' totals, the same bits as with rows, only say whether the one step is defined.
  static void effects(const design& x, fit_result& f, const detail::logistic_fit& lf,
                      std::span<const double> sub, bool keep_rows) {
    const std::size_t k = f.active.size(), rows = x.rows();
    const sums_layout l{k};
    f.sums = std::make_unique<kit::item_sums>(0, l.width(), keep_rows);
    std::vector<double> grad_total(k * k, 0.0), sum_total(k, 0.0), n_total(k, 0.0), g(k);
    for (std::size_t r = 0; r < rows; ++r) {
      const double* xr = sub.data() + r * k;
      double eta = 0;
      for (std::size_t a = 0; a < k; ++a) eta += xr[a] * f.beta[a];
      const double p = sigmoid(eta), w = p * (1 - p);
      double* s = (*f.sums)[x.item[r]];
      for (std::size_t a = 0; a < k; ++a) {
        s[l.score(a)] += (x.y[r] - p) * xr[a];
        for (std::size_t c = 0; c <= a; ++c) s[l.info(a, c)] += w * xr[a] * xr[c];
      }
      for (std::size_t j = 0; j < k; ++j) {
        if (xr[j] == 0) continue;
        const double sign = xr[j] > 0 ? 1.0 : -1.0, p0 = sigmoid(eta - f.beta[j] * xr[j]), w0 = p0 * (1 - p0);
        s[l.effect_sum(j)] += sign * (p - p0);
        s[l.effect_n(j)] += 1;
        for (std::size_t a = 0; a < k; ++a) {
          g[a] = sign * (w * xr[a] - w0 * (a == j ? 0.0 : xr[a]));
          s[l.effect_grad(j, a)] += g[a];
          grad_total[j * k + a] += g[a];
        }
        sum_total[j] += sign * (p - p0);
        n_total[j] += 1;
      }
    }
    for (std::size_t j = 0; j < k; ++j) {
      term_result& t = f.terms[f.active[j]];
      t.effect_n = static_cast<std::uint64_t>(n_total[j]);
      if (n_total[j] <= 0) continue;
      t.effect = 100.0 * sum_total[j] / n_total[j];
      double var = 0;
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t c = 0; c < k; ++c)
          var += grad_total[j * k + a] * lf.cov[a][c] * grad_total[j * k + c];
      t.effect_se = 100.0 * std::sqrt(std::max(0.0, var)) / n_total[j];
    }
  }

  kit::measurement measure_fixed(const dataset& d, const config& cfg, const kit::selection& s,
                                 const fit_result& f, const detail::self_preference_dbg& raw) const {
    kit::metric_builder mb(d, cfg, name(), s);
    put_effect(mb, cfg, f, t_self, "self_effect");
    mb.put("dbg_pairwise", raw.of(std::string(d.judges().name(s.judge)), s.group_name));
    put_effect(mb, cfg, f, t_position, "position_effect");
    put_effect(mb, cfg, f, t_length, "length_effect");
    put_effect(mb, cfg, f, t_gold, "gold_effect");
    for (std::size_t t = 0; t < fixed_terms; ++t) put_term(mb, cfg, f, t, std::string(fixed_names[t]) + "_");
    return mb.take();
  }

  static void put_term(kit::metric_builder& mb, const config& cfg, const fit_result& f, std::size_t c,
                       const std::string& prefix) {
    const term_result& t = f.terms[c];
    const double conf = cfg.confidence;
    if (!t.reason.empty()) {
      for (const char* suffix : {"coef", "coef_wald", "odds_ratio"}) {
        metric m;
        m.unit = unit::coefficient;
        m.n = f.n;
        m.reason = t.reason;
        mb.put(prefix + suffix, m);
      }
      return;
    }
    const double p = stats::floor_p(std::erfc(std::fabs(t.coef / t.se) / std::numbers::sqrt2));
    const auto wald = stats::wald_interval(t.coef, t.se, conf);
    const sums_layout l{f.active.size()};
    const std::vector<double> beta = f.beta;
    const std::size_t a = t.active;
    auto coef_of = [l, beta, a](std::span<const double> s) -> std::optional<double> {
      const auto step = one_step(s, l);
      if (!step) return std::nullopt;
      return beta[a] + (*step)(static_cast<Eigen::Index>(a));
    };
    metric& coef = mb.put(
        prefix + "coef", unit::coefficient, f.n, *f.sums, coef_of,
        [wald]() { return std::optional<std::array<double, 2>>(wald); }, "");
    coef.value = t.coef;  // the fit itself (the one step from the full sums is ~0)
    coef.p = p;
    metric w;
    w.unit = unit::coefficient;
    w.n = f.n;
    w.value = t.coef;
    w.ci = wald;
    w.p = p;
    mb.put(prefix + "coef_wald", w);
    metric& odds = mb.put(
        prefix + "odds_ratio", unit::coefficient, f.n, *f.sums,
        [coef_of](std::span<const double> s) -> std::optional<double> {
          const auto v = coef_of(s);
          if (!v) return std::nullopt;
          return std::exp(*v);
        },
        [wald]() {
          return std::optional<std::array<double, 2>>({std::exp(wald[0]), std::exp(wald[1])});
        },
        "");
    odds.value = std::exp(t.coef);
  }

  static void put_effect(kit::metric_builder& mb, const config& cfg, const fit_result& f, std::size_t c,
                         const std::string& metric_name) {
    const term_result& t = f.terms[c];
    if (!t.reason.empty() || t.effect_n == 0) {
      metric m;
      m.unit = unit::pp;
      m.n = t.effect_n;
      m.reason = !t.reason.empty() ? t.reason : "no record where this term is not 0";
      mb.put(metric_name, m);
      return;
    }
    const sums_layout l{f.active.size()};
    const std::size_t j = t.active;
    const auto wald = stats::wald_interval(t.effect, t.effect_se, cfg.confidence);
    metric& e = mb.put(
        metric_name, unit::pp, t.effect_n, *f.sums,
        [l, j](std::span<const double> s) -> std::optional<double> {
          const double n = s[l.effect_n(j)];
          if (n <= 0) return std::nullopt;
          const auto step = one_step(s, l);
          if (!step) return std::nullopt;
          double v = s[l.effect_sum(j)];
          for (std::size_t a = 0; a < l.k; ++a)
            v += s[l.effect_grad(j, a)] * (*step)(static_cast<Eigen::Index>(a));
          return 100.0 * v / n;
        },
        [wald]() { return std::optional<std::array<double, 2>>(wald); }, "");
    e.value = t.effect;
  }
};

}  // namespace

std::unique_ptr<bias_module> make_attribution_module() {
  return std::make_unique<attribution_module>();
}

}  // namespace judgebias
