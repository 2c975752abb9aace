// The judge-by-judge agreement matrix (issue #17; Shi et al. 2024, "Judging the Judges", which tabulates
// how often every two judges agree): for every two judges in the file (gold judges too), over the comparisons
// both judged in the same order and run, the share of equal verdicts and Cohen's κ over the labels A / B /
// tie; and per judge the same pooled over every other judge. A judge that agrees with no one stands out at
// once.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"

namespace judgebias {

namespace {

// The most judges for which every two judges' own agreement is written (the matrix grows with the square
// of the judges, and a heat map of more is unreadable); past it, each judge's agreement with all the others
// pooled only.
constexpr std::size_t max_matrix_judges = 64;

// Per-item sums: the 3 × 3 table of (this judge's label, the other's label), labels A, B, tie.
constexpr std::size_t labels = 3, width = labels * labels;

std::size_t label_of(verdict v) {
  return v == verdict::a ? 0 : v == verdict::b ? 1 : 2;
}

// A 3 × 3 table's units, observed agreement p_o and chance agreement p_e (from its margins).
struct table_stats {
  double n = 0, po = 0, pe = 0;
};
table_stats stats_of(std::span<const double> t) {
  table_stats s;
  double agree = 0;
  std::array<double, labels> row{}, col{};
  for (std::size_t a = 0; a < labels; ++a)
    for (std::size_t b = 0; b < labels; ++b) {
      const double c = t[a * labels + b];
      s.n += c, row[a] += c, col[b] += c;
      if (a == b) agree += c;
    }
  if (s.n <= 0) return s;
  s.po = agree / s.n;
  for (std::size_t a = 0; a < labels; ++a) s.pe += row[a] * col[a] / (s.n * s.n);
  return s;
}

// Cohen's κ of a 3 × 3 table: (p_o − p_e) / (1 − p_e); undefined with no unit or when p_e = 1 (both judges
// always gave one and the same label).
std::optional<double> kappa_of(std::span<const double> t) {
  const table_stats s = stats_of(t);
  if (s.n <= 0 || s.pe >= 1 - 1e-12) return std::nullopt;
  return (s.po - s.pe) / (1 - s.pe);
}

std::optional<double> agreement_of(std::span<const double> t) {
  const table_stats s = stats_of(t);
  if (s.n <= 0) return std::nullopt;
  return s.po;
}

// One record's place in the matching: the comparison in its order and run, its judge, its label, and the
// record itself (duplicates are left out, so a judge has one record per unit and the index only makes
// the order total).
struct keyed {
  std::uint32_t item, a, b, run, judge;
  std::uint8_t label;
  std::uint32_t index;
  auto key() const { return std::tie(item, a, b, run, judge, index); }
  bool operator<(const keyed& o) const { return key() < o.key(); }
};

class judge_agreement_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "judge_agreement"; }
  std::string_view description() const noexcept override {
    return "How often every two judges give the same verdict on the same comparison in the same order "
           "(agreement, Cohen's kappa)";
  }
  std::vector<metric_info> metrics() const override {
    chart_spec heat{"judge_kappa",
                    80,
                    "Judge by judge: Cohen's κ",
                    "Each cell: the two judges' κ over the comparisons both judged in the same order and run "
                    "(1 = always the same verdict, 0 = chance).",
                    std::nullopt,
                    "",
                    0};
    heat.matrix = true;
    return {
        metric_info{"agreement", unit::fraction, bias_direction::none,
                    "share of equal verdicts (A, B, tie) with the other judges, or with one (by_opponent)"}
            .shown(1),
        metric_info{"kappa", unit::coefficient, bias_direction::none,
                    "Cohen's kappa over A / B / tie with the other judges, or with one (by_opponent)"}
            .shown(2)
            .drawn(heat),
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    // Every judge in the file, gold judges included (their κ with each other is the panel's own noise),
    // by name.
    std::vector<std::uint32_t> judges(d.judges().size());
    for (std::uint32_t j = 0; j < judges.size(); ++j) judges[j] = j;
    std::sort(judges.begin(), judges.end(),
              [&](auto x, auto y) { return d.judges().name(x) < d.judges().name(y); });
    // Item by item (the dataset numbers the comparisons so), every parsed control pairwise record of
    // the item's comparisons, sorted so that the records of one comparison-order-run sit together, judges
    // in id order.
    std::vector<std::uint32_t> slot(d.judges().size(), no_id);  // a judge's place in `judges`
    for (std::uint32_t k = 0; k < judges.size(); ++k) slot[judges[k]] = k;
    std::vector<keyed> recs;  // one item's
    std::vector<std::uint8_t> has_pairwise(judges.size(), 0);
    // Each unit (comparison-order-run) of an item: while the judges are few enough for a matrix, each
    // pair's own table, and a judge's table against all the others pooled is the sum of its pairs' (those
    // where it is the second judge transposed: counts, so exact); past them, each judge's pooled table
    // from the unit's label counts (the others' labels are the counts less its own). A judge counts once
    // per unit (its records of one unit would be duplicates, which the dataset leaves out; the check is a
    // safeguard).
    const std::size_t n = judges.size();
    const bool matrix = n <= max_matrix_judges;
    std::vector<std::unique_ptr<kit::item_sums>> pooled(n);
    // The per-item rows serve the bootstrap only: the sums are counts, exact in any order, so at
    // --bootstrap 0 the tables keep their totals alone.
    const bool keep_rows = cfg.bootstrap > 0;
    std::map<std::pair<std::uint32_t, std::uint32_t>, kit::item_sums> pairs;
    std::vector<std::size_t> firsts;
    bool shared = false;
    auto count_units = [&]() {
      std::sort(recs.begin(), recs.end());
      for (std::size_t s = 0; s < recs.size();) {
        std::size_t e = s;
        while (e < recs.size() && recs[e].item == recs[s].item && recs[e].a == recs[s].a &&
               recs[e].b == recs[s].b && recs[e].run == recs[s].run)
          ++e;
        firsts.clear();
        std::array<double, labels> count{};
        for (std::size_t x = s; x < e; ++x)
          if (x == s || recs[x].judge != recs[x - 1].judge) {
            firsts.push_back(x);
            count[recs[x].label] += 1;
          }
        if (firsts.size() >= 2) {
          shared = true;
          if (matrix) {
            for (std::size_t p = 0; p < firsts.size(); ++p)
              for (std::size_t q = p + 1; q < firsts.size(); ++q) {
                const keyed &x = recs[firsts[p]], &y = recs[firsts[q]];
                auto it = pairs.try_emplace({x.judge, y.judge}, d.items().size(), width, keep_rows).first;
                it->second[x.item][x.label * labels + y.label] += 1;
              }
          } else {
            for (std::size_t x : firsts) {
              auto& table = pooled[recs[x].judge];
              if (!table) table = std::make_unique<kit::item_sums>(d.items().size(), width, keep_rows);
              double* row = (*table)[recs[x].item];
              for (std::size_t l = 0; l < labels; ++l)
                row[recs[x].label * labels + l] += count[l] - (l == recs[x].label ? 1.0 : 0.0);
            }
          }
        }
        s = e;
      }
      recs.clear();
    };
    std::uint32_t item = no_id;
    for (std::uint32_t c = 0; c < d.comparisons().size(); ++c) {
      const comparison& cmp = d.comparisons()[c];
      if (cmp.item != item) {
        count_units();
        item = cmp.item;
      }
      for (const dataset::index i : d.comparison_records(c)) {
        const verdict v = d.verdict(i);
        if (v == verdict::missing || !d.order_known(i)) continue;
        recs.push_back({d.item(i), d.cand_a(i), d.cand_b(i), d.run(i), slot[cmp.judge],
                        static_cast<std::uint8_t>(label_of(v)), i});
        has_pairwise[slot[cmp.judge]] = 1;
      }
    }
    count_units();
    if (!shared) {
      result.skipped = true;
      result.reason = "no two judges judged the same comparison in the same order and run";
      return result;
    }
    // Each pair measured once, on its own random stream, placed under both judges (the other's table
    // transposed has the same agreement and κ).
    std::vector<kit::measurement> per_judge(n);
    for (auto& [pair, sums] : pairs) {
      const std::string x(d.judges().name(judges[pair.first])), y(d.judges().name(judges[pair.second]));
      kit::metric_builder mb(cfg, name(), fmt::format("{}\x1f{}", x, y), "");
      put_pair(mb, cfg, {{&sums, false}}, {"by_opponent", y});
      kit::measurement m = mb.take();
      for (auto& member : m.members) {
        per_judge[pair.first].members.push_back(member);
        member.path[1] = x;
        per_judge[pair.second].members.push_back(std::move(member));
      }
    }
    // A judge with no parsed pairwise record has no row (a pointwise-only judge).
    for (std::uint32_t k = 0; k < n; ++k) {
      if (!has_pairwise[k]) continue;
      const std::uint32_t j = judges[k];
      const std::string judge(d.judges().name(j));
      kit::metric_builder mb(d, cfg, name(), kit::selection{j, {}, ""});
      const kit::item_sums none(0, width);
      std::vector<part> parts;
      if (pooled[k]) parts.push_back({pooled[k].get(), false});
      for (auto& [pair, sums] : pairs)
        if (pair.first == k || pair.second == k) {
          parts.push_back({&sums, pair.second == k});
          if (pair.second == k) mb.hand_over(sums);  // (its last reader: the judges come in order)
        }
      if (parts.empty()) parts.push_back({&none, false});
      put_pair(mb, cfg, parts, {});
      kit::measurement own = mb.take();
      pooled[k].reset();
      std::stable_sort(per_judge[k].members.begin(), per_judge[k].members.end(),
                       [](const auto& p, const auto& q) { return p.path[1] < q.path[1]; });
      for (auto& member : per_judge[k].members) own.members.push_back(std::move(member));
      kit::place(result.body, row_scope::judge, judge, "", std::move(own), {"judges", judge});
    }
    if (!matrix)
      result.body.extra({"diagnostics"},
                        {{"by_opponent_left_out",
                          fmt::format("{} judges: the judge-by-judge matrix is written for at most {}", n,
                                      max_matrix_judges)}});
    return result;
  }

 private:
  // One table of a judge's: a pair's (transposed when the judge is the pair's second) or a pooled one.
  struct part {
    const kit::item_sums* sums = nullptr;
    bool transposed = false;
  };
  // The 3 × 3 table that is the sum of the parts, whose sums are one after another in `s`.
  static std::array<double, width> sum_of(std::span<const part> parts, std::span<const double> s) {
    std::array<double, width> t{};
    for (std::size_t p = 0; p < parts.size(); ++p)
      for (std::size_t a = 0; a < labels; ++a)
        for (std::size_t b = 0; b < labels; ++b) {
          const double c =
              parts[p].transposed ? s[p * width + b * labels + a] : s[p * width + a * labels + b];
          t[a * labels + b] = p == 0 ? c : t[a * labels + b] + c;
        }
    return t;
  }
  static void put_pair(kit::metric_builder& mb, const config& cfg, const std::vector<part>& parts,
                       const std::vector<std::string>& parent) {
    std::vector<const kit::item_sums*> tables(parts.size());
    std::transform(parts.begin(), parts.end(), tables.begin(), [](const part& p) { return p.sums; });
    const std::array<double, width> t = sum_of(parts, kit::totals_of(tables));
    const table_stats ts = stats_of(t);
    auto of = [parts](auto f) -> stats::statistic {
      return [parts, f](std::span<const double> s) { return f(sum_of(parts, s)); };
    };
    auto at = [&](const char* metric) {
      std::vector<std::string> p = parent;
      p.emplace_back(metric);
      return p;
    };
    const auto units = static_cast<std::uint64_t>(ts.n);
    mb.put(at("agreement"), unit::fraction, units, tables, of(agreement_of),
           kit::wilson_closed(ts.po * ts.n, ts.n, cfg.confidence),
           "no comparison judged by both in the same order");
    // κ's closed form: the large-sample standard error of Cohen (1960), √(p_o(1 − p_o) / (n (1 − p_e)²)).
    mb.put(
        at("kappa"), unit::coefficient, units, tables, of(kappa_of),
        [&t, ts, conf = cfg.confidence]() -> std::optional<std::array<double, 2>> {
          const auto k = kappa_of(t);
          if (!k || ts.n < 2) return std::nullopt;
          const double se = std::sqrt(ts.po * (1 - ts.po) / (ts.n * (1 - ts.pe) * (1 - ts.pe)));
          if (!(se > 0))
            return std::nullopt;  // always or never equal: the formula's error is 0, not an interval
          auto ci = stats::wald_interval(*k, se, conf);
          ci[0] = std::max(ci[0], -1.0), ci[1] = std::min(ci[1], 1.0);  // κ lies in [−1, 1]
          return ci;
        },
        "no comparison judged by both in the same order, or both always gave one and the same label");
  }
};

}  // namespace

std::unique_ptr<bias_module> make_judge_agreement_module() {
  return std::make_unique<judge_agreement_module>();
}

}  // namespace judgebias
