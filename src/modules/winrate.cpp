// Win rates and rankings per judge and model (issue #16): what the judge says each model wins, beside
// what the gold says and what the gold subset corrects the judge's rate to. Sources: AlpacaEval
// (src/alpaca_eval/metrics/helpers.py: the weighted win rate from the preference probability, its
// standard error as the sample sd over sqrt(n), wins, losses and draws, the discrete win rate);
// FastChat's MT-Bench pairwise win rate against a baseline; prediction-powered inference (Angelopoulos
// et al. 2023; PPI++, Angelopoulos, Duchi and Zrnic 2023: the power-tuned λ); Bradley–Terry strengths
// as Chatbot Arena and Arena-Hard rank models. docs/metrics.md "Win rates" has every formula.
#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "judgebias/error.hpp"
#include "judgebias/module_kit.hpp"
#include "judgebias/registry.hpp"
#include "modules/headline.hpp"
#include "stats/bradley_terry.hpp"
#include "stats/weighted_sums.hpp"

namespace judgebias {

namespace {

using kit::item_sums;
using kit::metric_builder;
using kit::ratio;

// Columns per item of one (model, opponent set): Σ outcome f, Σ f², n, wins, losses, draws; over the
// units with gold (the labelled ones): Σ gold outcome Y, their n, Σ Y², Σ f, Σ f², Σ Y·f.
enum column : std::size_t {
  c_sum,
  c_sq,
  c_n,
  c_wins,
  c_losses,
  c_draws,
  c_gold,
  c_gold_n,
  c_gold_sq,
  c_lab_f,
  c_lab_sq,
  c_lab_gf,
  c_width
};

// Whether a comparison is one of two models' answers, the comparisons the module counts.
bool between_two_models(const comparison& c) {
  return c.model_lo != no_id && c.model_hi != no_id && c.model_lo != c.model_hi;
}

// Which of a measurement's units have gold. With gold on every unit, the labelled units' n, Σ f and Σ f²
// are those of all the units (the same additions in the same order); with gold on none, the gold's
// columns are all zero. A tally keeps per item only the columns its cover needs (see `kept`).
enum class gold_cover { none, some, all };

// The columns a tally keeps per item, in this order: Σ f, Σ f², n, wins, draws, then with gold Σ Y, Σ Y²,
// Σ Y·f, then with gold on some units only their n, Σ f and Σ f². Losses are not kept: no statistic reads
// them (the counts are the tally's own). 11, 8 or 5 sums per item where every column would be 12.
enum kept : std::size_t {
  k_sum,
  k_sq,
  k_n,
  k_wins,
  k_draws,
  k_gold,
  k_gold_sq,
  k_lab_gf,
  k_gold_n,
  k_lab_f,
  k_lab_sq
};
constexpr std::size_t kept_width(gold_cover cover) {
  return cover == gold_cover::none ? k_gold : cover == gold_cover::all ? k_gold_n : k_lab_sq + 1;
}
// Every column (`column`) from the kept ones, for the statistics: the same values, bit for bit.
std::array<double, c_width> all_columns(std::span<const double> s, gold_cover cover) {
  std::array<double, c_width> c{};  // losses 0, and the gold's columns without gold
  c[c_sum] = s[k_sum], c[c_sq] = s[k_sq], c[c_n] = s[k_n], c[c_wins] = s[k_wins], c[c_draws] = s[k_draws];
  if (cover == gold_cover::none) return c;
  c[c_gold] = s[k_gold], c[c_gold_sq] = s[k_gold_sq], c[c_lab_gf] = s[k_lab_gf];
  const bool all = cover == gold_cover::all;
  c[c_gold_n] = s[all ? k_n : k_gold_n], c[c_lab_f] = s[all ? k_sum : k_lab_f];
  c[c_lab_sq] = s[all ? k_sq : k_lab_sq];
  return c;
}

// One model's outcomes against one opponent (or all, or the baseline).
struct tally {
  tally(std::size_t items, bool keep_rows, gold_cover units_with_gold)
      : rows(items, kept_width(units_with_gold), keep_rows), cover(units_with_gold) {}
  item_sums rows;
  gold_cover cover;
  std::uint64_t wins = 0, losses = 0, draws = 0;
  void add(std::uint32_t item, double outcome, std::optional<double> gold_outcome) {
    double* r = rows[item];
    r[k_sum] += outcome, r[k_sq] += outcome * outcome, r[k_n] += 1;
    const bool win = outcome > 0.5, loss = outcome < 0.5;
    r[k_wins] += win, r[k_draws] += !win && !loss;
    wins += win, losses += loss, draws += !win && !loss;
    if (gold_outcome) {
      const double y = *gold_outcome;
      r[k_gold] += y, r[k_gold_sq] += y * y, r[k_lab_gf] += y * outcome;
      if (cover == gold_cover::some)
        r[k_gold_n] += 1, r[k_lab_f] += outcome, r[k_lab_sq] += outcome * outcome;
    }
  }
};

// Every column of the opponent's side of a tally whose outcomes are 1, ½ or 0 (and gold the same): its
// outcomes are 1 − f and its gold 1 − Y, so its sums follow from these. Every value is a multiple of ¼
// and every sum far below 2^53, so that each is exact: the same bits as summed from the other side.
std::array<double, c_width> mirrored(const std::array<double, c_width>& c) {
  std::array<double, c_width> m{};  // (losses stay 0: no statistic reads them)
  const double n = c[c_n], g = c[c_gold_n];
  m[c_n] = n, m[c_sum] = n - c[c_sum], m[c_sq] = n - 2 * c[c_sum] + c[c_sq];
  m[c_wins] = n - c[c_wins] - c[c_draws], m[c_draws] = c[c_draws];
  m[c_gold_n] = g, m[c_gold] = g - c[c_gold], m[c_gold_sq] = g - 2 * c[c_gold] + c[c_gold_sq];
  m[c_lab_f] = g - c[c_lab_f], m[c_lab_sq] = g - 2 * c[c_lab_f] + c[c_lab_sq];
  m[c_lab_gf] = g - c[c_lab_f] - c[c_gold] + c[c_lab_gf];
  return m;
}

// A model's outcomes against one opponent or several, as sums of tallies: each part a tally of the
// model's side, or (mirrored) of the opponent's, where its outcomes are 1, ½ or 0.
struct tally_view {
  struct part {
    const tally* of = nullptr;
    bool mirrored = false;
  };
  std::vector<part> parts;  // at least one
  gold_cover cover = gold_cover::none;

  // Every column from the parts' kept ones, one part's after another in `s`: the same values, bit for
  // bit, as one tally of the units of all the parts (exact sums of multiples of ¼ when there are several).
  std::array<double, c_width> columns(std::span<const double> s) const {
    const std::size_t w = kept_width(cover);
    std::array<double, c_width> sum{};
    for (std::size_t p = 0; p < parts.size(); ++p) {
      std::array<double, c_width> c = all_columns(s.subspan(p * w, w), cover);
      if (parts[p].mirrored) c = mirrored(c);
      if (p == 0)
        sum = c;
      else
        for (std::size_t k = 0; k < c_width; ++k) sum[k] += c[k];
    }
    return sum;
  }
  std::vector<const item_sums*> tables() const {
    std::vector<const item_sums*> t;
    for (const part& p : parts) t.push_back(&p.of->rows);
    return t;
  }
  std::array<double, c_width> totals() const { return columns(kit::totals_of(tables())); }
  std::uint64_t wins() const { return count(&tally::wins, &tally::losses); }
  std::uint64_t losses() const { return count(&tally::losses, &tally::wins); }
  std::uint64_t draws() const { return count(&tally::draws, &tally::draws); }
  /// A statistic of every column, as one of the parts' kept ones.
  template <class Statistic>
  stats::statistic of(Statistic f) const {
    return [f, view = *this](std::span<const double> s) {
      const std::array<double, c_width> c = view.columns(s);
      return f(std::span<const double>(c));
    };
  }

 private:
  std::uint64_t count(std::uint64_t tally::*own, std::uint64_t tally::*other) const {
    std::uint64_t n = 0;
    for (const part& p : parts) n += p.of->*(p.mirrored ? other : own);
    return n;
  }
};

metric count_metric(std::uint64_t count, std::uint64_t n) {
  metric m;
  m.value = static_cast<double>(count);
  m.n = n;
  m.unit = unit::count;
  m.reason = "a count has no interval";
  return m;
}

// A closed-form interval of a win rate in pp, kept within [0, 100] (a t interval of few outcomes can
// reach past them).
std::optional<std::array<double, 2>> in_pp(std::optional<std::array<double, 2>> ci) {
  if (!ci) return ci;
  return std::array<double, 2>{std::clamp(100 * (*ci)[0], 0.0, 100.0),
                               std::clamp(100 * (*ci)[1], 0.0, 100.0)};
}

// The prediction-powered estimate of the gold's mean outcome from a tally's sums (docs/metrics.md
// "Corrected win rate"): the labelled units are those with gold (n), the others unlabelled (N).
// θ = λ·mean_N(f) + mean_n(Y − λ·f), with λ = 1 (classical PPI) or PPI++'s power-tuned
// λ = Cov_n(Y, f) / ((1 + n/N)·Var_{n+N}(f)) clipped to [0, 1]; λ = 0 (the gold's own mean) when every
// unit has gold. `variance` is the closed form's, λ²·Var_N(f)/N + Var_n(Y − λ·f)/n (NaN below 2 units
// a side).
struct ppi_estimate {
  double value = 0, lambda = 0, variance = std::nan("");
};
std::optional<ppi_estimate> ppi(std::span<const double> s, bool tuned) {
  const double n = s[c_gold_n], big_n = s[c_n] - n;
  if (n < 1) return std::nullopt;
  const double sum_f = s[c_sum], lab_f = s[c_lab_f], un_f = sum_f - lab_f, y = s[c_gold];
  ppi_estimate e;
  if (big_n <= 0) {
    e.lambda = 0;
  } else if (!tuned) {
    e.lambda = 1;
  } else {
    const double all = n + big_n;
    const double var_all = (s[c_sq] - sum_f * sum_f / all) / (all - 1);
    const double cov = (s[c_lab_gf] - y * lab_f / n) / n;
    e.lambda = var_all > 1e-15 ? std::clamp(cov / ((1 + n / big_n) * var_all), 0.0, 1.0) : 0.0;
  }
  const double l = e.lambda;
  e.value = (big_n > 0 ? l * un_f / big_n : 0.0) + (y - l * lab_f) / n;
  // Var of the residual Y − λf over the labelled units, and of f over the unlabelled.
  const double r_sum = y - l * lab_f;
  const double r_sq = s[c_gold_sq] - 2 * l * s[c_lab_gf] + l * l * s[c_lab_sq];
  const double var_r = n >= 2 ? std::max(0.0, (r_sq - r_sum * r_sum / n) / (n - 1)) : std::nan("");
  if (l == 0) {
    e.variance = var_r / n;
  } else if (big_n >= 2) {
    const double var_u = std::max(0.0, (s[c_sq] - s[c_lab_sq] - un_f * un_f / big_n) / (big_n - 1));
    e.variance = l * l * var_u / big_n + var_r / n;
  }
  return e;
}

void put_tally(metric_builder& mb, const tally_view& t, const std::vector<std::string>& at, double conf) {
  auto path = [&](const char* name) {
    auto p = at;
    p.emplace_back(name);
    return p;
  };
  // Totals: the values now, and the moments of the closed forms (the outcomes are in [0, 1], so the sums
  // of squares lose nothing that shows).
  const std::array<double, c_width> all_tot = t.totals();
  const std::span<const double> tot(all_tot);
  const auto n = static_cast<std::uint64_t>(tot[c_n]);
  const std::uint64_t n_gold = static_cast<std::uint64_t>(tot[c_gold_n]);
  const auto moments = [](double sum, double sq, double count) {
    kit::moments m;
    m.n = count;
    if (count > 0) m.mean = sum / count;
    if (count >= 2) m.sd = std::sqrt(std::max(0.0, (sq - sum * sum / count) / (count - 1)));
    return m;
  };
  const kit::moments mo = moments(tot[c_sum], tot[c_sq], tot[c_n]);
  const kit::moments gold = moments(tot[c_gold], tot[c_gold_sq], tot[c_gold_n]);
  mb.put(
      path("win_rate"), unit::pp, n, t.tables(), t.of([](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * s[c_sum] / s[c_n];
      }),
      [&]() { return in_pp(stats::t_interval(mo.mean, mo.sd, mo.n, conf)); },
      "no parsed record of the model against this opponent");
  // AlpacaEval's standard error: the sample sd (n - 1) of the outcomes over sqrt(n).
  metric se;
  se.unit = unit::pp;
  se.n = n;
  if (n >= 2) {
    se.value = 100 * mo.sd / std::sqrt(mo.n);
    se.reason = "a standard error has no interval (win_rate's is beside it)";
  } else {
    se.reason = "needs 2 or more parsed records";
  }
  mb.put(path("standard_error"), se);
  mb.put(path("n_wins"), count_metric(t.wins(), n));
  mb.put(path("n_losses"), count_metric(t.losses(), n));
  mb.put(path("n_draws"), count_metric(t.draws(), n));
  mb.put(
      path("discrete_win_rate"), unit::pp, n, t.tables(),
      t.of([](std::span<const double> s) -> std::optional<double> {
        if (s[c_n] <= 0) return std::nullopt;
        return 100 * (s[c_wins] + s[c_draws] / 2) / s[c_n];
      }),
      [&]() {
        return in_pp(
            stats::wilson_interval(static_cast<double>(t.wins()) + static_cast<double>(t.draws()) / 2,
                                   static_cast<double>(n), conf));
      },
      "no parsed record of the model against this opponent");
  mb.put(
      path("gold_win_rate"), unit::pp, n_gold, t.tables(),
      t.of([](std::span<const double> s) -> std::optional<double> {
        if (s[c_gold_n] <= 0) return std::nullopt;
        return 100 * s[c_gold] / s[c_gold_n];
      }),
      [&]() { return in_pp(stats::t_interval(gold.mean, gold.sd, gold.n, conf)); },
      "no record of the model against this opponent has gold");
  for (const bool tuned : {true, false}) {
    const auto estimate = [tuned](std::span<const double> s) -> std::optional<double> {
      const auto e = ppi(s, tuned);
      if (!e) return std::nullopt;
      return 100 * e->value;
    };
    const auto closed = [tot, tuned, conf]() -> std::optional<std::array<double, 2>> {
      const auto e = ppi(tot, tuned);
      if (!e || !std::isfinite(e->variance)) return std::nullopt;
      // Not cut to [0, 100] as the other closed forms are: the estimate itself can leave it.
      const auto ci = stats::wald_interval(e->value, std::sqrt(e->variance), conf);
      return std::array<double, 2>{100 * ci[0], 100 * ci[1]};
    };
    mb.put(path(tuned ? "corrected_win_rate" : "corrected_win_rate_ppi"), unit::pp, n, t.tables(),
           t.of(estimate), closed, "no record of the model against this opponent has gold");
  }
  metric lambda;
  lambda.unit = unit::coefficient;
  lambda.n = n_gold;
  if (const auto e = ppi(tot, true)) {
    lambda.value = e->lambda;
    lambda.reason = "the weight corrected_win_rate gives the unlabelled records; no interval";
  } else {
    lambda.reason = "no record of the model against this opponent has gold";
  }
  mb.put(path("correction_lambda"), lambda);
}

// The Bradley–Terry fits of one measurement, under the judge and under the gold. The units are kept
// sparse, one entry per (item, model pair) met: a dense row per item would cost items × models² (Arena
// data compares hundreds of model pairs, each item a few). The item bootstrap is done here, over the
// items of these entries and seeded from the measurement's own stream, because one resample's fit gives
// every model's strength and rank at once.
class bt_fits {
 public:
  /// `keep_entries = false` (for --bootstrap 0) keeps the entries of the current item only, as an
  /// item_sums without rows does, with the same condition for the same totals (items in increasing order;
  /// interleaved() says when one came after a larger one).
  bt_fits(std::uint32_t baseline, bool keep_entries, std::size_t items)
      : baseline_(baseline), item_seen_(items, false), keep_entries_(keep_entries) {}

  /// Adds a unit of the comparison between models a ≠ b in `item`: `a_score` is a's outcome, `a_gold`
  /// the gold's outcome for a when the comparison has gold.
  void add(std::uint32_t item, std::uint32_t a, std::uint32_t b, double a_score,
           std::optional<double> a_gold) {
    if (!keep_entries_ && item != item_) {
      fold();
      interleaved_ |= item_ != no_id && item < item_;
      item_ = item;
    }
    const bool swapped = b < a;
    const auto key = swapped ? std::pair(b, a) : std::pair(a, b);
    const auto [p, added] = pair_at_.try_emplace(key, pairs_.size());
    if (added) pairs_.push_back(key);
    const auto pair = static_cast<std::uint32_t>(p->second);
    std::array<double, 4>& v = entries_[entry_of(item, pair)].sums;
    v[0] += swapped ? 1 - a_score : a_score, v[1] += 1;
    if (a_gold) v[2] += swapped ? 1 - *a_gold : *a_gold, v[3] += 1;
  }

  /// Once every unit is in: the totals, the players of each fit (the models with games there, in name
  /// order) and the point fits with their standard errors.
  void settle(const dataset& d) {
    fold();
    totals_.resize(4 * pairs_.size(), 0.0);
    for (const bool gold : {false, true}) {
      side& s = side_[gold];
      std::vector<std::uint32_t> models;
      for (std::size_t p = 0; p < pairs_.size(); ++p)
        if (totals_[4 * p + (gold ? 3 : 1)] > 0)
          models.push_back(pairs_[p].first), models.push_back(pairs_[p].second);
      std::sort(models.begin(), models.end(),
                [&](std::uint32_t x, std::uint32_t y) { return d.models().name(x) < d.models().name(y); });
      models.erase(std::unique(models.begin(), models.end()), models.end());
      for (std::size_t k = 0; k < models.size(); ++k) {
        s.player.emplace(models[k], k);
        if (models[k] == baseline_) s.anchor = k;
      }
      s.models = std::move(models);
      s.whole = fit(totals_, gold, true);
    }
  }

  /// The player index of a model in a fit, or nullopt when it has no games there.
  std::optional<std::size_t> player(std::uint32_t model, bool gold) const {
    const auto& p = side_[gold].player;
    const auto it = p.find(model);
    if (it == p.end()) return std::nullopt;
    return it->second;
  }
  /// The games of a model in a fit (its units against every opponent).
  std::uint64_t games_of(std::uint32_t model, bool gold) const {
    double n = 0;
    for (std::size_t p = 0; p < pairs_.size(); ++p)
      if (pairs_[p].first == model || pairs_[p].second == model) n += totals_[4 * p + (gold ? 3 : 1)];
    return static_cast<std::uint64_t>(n);
  }
  bool same_players() const { return side_[0].models == side_[1].models; }
  /// Without entries kept: whether an item came after a larger one (it may then have come before, and the
  /// totals differ in the last bits from those of kept entries).
  bool interleaved() const noexcept { return interleaved_; }
  const detail::bt_fit& whole(bool gold) const { return side_[gold].whole; }
  std::optional<std::size_t> anchor(bool gold) const { return side_[gold].anchor; }

  /// The rank (1 for the strongest; equal strengths share the better rank) of a player in a fit.
  static double rank(const detail::bt_fit& f, std::size_t player) {
    const double mine = f.strength[player];
    double rank = 1;
    for (double x : f.strength) rank += x > mine + 1e-9 * (1 + std::abs(mine));
    return rank;
  }

  /// The statistics of one model that the bootstrap resamples.
  enum statistic : std::size_t { s_strength, s_rank, s_gold_strength, s_gold_rank, s_shift, s_count };
  /// The item bootstrap: values[m][statistic][resample] for models[m], NaN where that resample's fit has
  /// no maximum (or the model no games). Resample b draws the items with replacement from a generator
  /// seeded from `stream` and b, so the values do not depend on the thread count.
  std::vector<std::array<std::vector<double>, s_count>> bootstrap(
      const config& cfg, std::uint64_t stream, const std::vector<std::uint32_t>& models) const {
    const std::uint32_t resamples = cfg.bootstrap;
    std::vector<std::array<std::vector<double>, s_count>> values(models.size());
    for (auto& v : values)
      for (auto& x : v) x.assign(resamples, std::nan(""));
    std::vector<std::uint32_t> items;  // the clusters, in increasing id
    items.reserve(entries_.size());
    for (const entry& e : entries_) items.push_back(e.item);
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    const auto n = static_cast<std::uint32_t>(items.size());
    if (n < 2) return {};  // nothing to resample
    std::vector<std::uint32_t> cluster(entries_.size());
    for (std::size_t k = 0; k < entries_.size(); ++k)
      cluster[k] = static_cast<std::uint32_t>(std::lower_bound(items.begin(), items.end(), entries_[k].item) -
                                              items.begin());
    // A resample's pair sums come from one product over a dense item × pair table when that table is not
    // much larger than the entries (few model pairs, met on most items: detail::add_weighted_sums, for a
    // batch of resamples at once), else entry by entry (hundreds of pairs, each item a few). Each pair's
    // sum adds its entries in item order in the first, in entry order in the second: the same order when
    // the entries came in item order, as the dataset's comparisons give them.
    const std::size_t width = (totals_.size() + 7) / 8 * 8;
    const bool dense = std::size_t{n} * width <= 16 * entries_.size();
    detail::panel_table table(dense ? n : 0, dense ? width : 0);
    if (dense)
      for (std::size_t k = 0; k < entries_.size(); ++k)
        for (std::size_t c = 0; c < 4; ++c)
          table.at(cluster[k], 4 * std::size_t{entries_[k].pair} + c) += entries_[k].sums[c];
    for (std::size_t p = 0; p < table.width() / detail::panel_table::columns; ++p) table.pack(p);
    const auto batch =
        static_cast<std::uint32_t>(detail::resampled_sums::batch_size(n));  // no value depends on it
    auto work = [&](std::uint32_t first_batch, std::uint32_t last_batch) {
      std::optional<detail::resampled_sums> product;  // dense: the product's buffers
      std::vector<std::uint32_t> counts;              // entry by entry: one resample's draws and sums
      std::vector<double> entry_sums;
      if (dense)
        product.emplace(n, batch);
      else
        counts.resize(n), entry_sums.resize(std::size_t{batch} * width);
      for (std::uint32_t bb = first_batch; bb < last_batch; ++bb) {
        throw_if_stopped(cfg.stop);
        const std::uint32_t start = bb * batch, m = std::min(batch, resamples - start);
        std::span<const double> sums;
        if (dense) {
          sums = product->of(stream, start, m, table);
        } else {
          std::fill(entry_sums.begin(), entry_sums.end(), 0.0);
          for (std::uint32_t b = 0; b < m; ++b) {
            stats::resample_counts(stream, start + b, counts);
            double* row = entry_sums.data() + std::size_t{b} * width;
            for (std::size_t k = 0; k < entries_.size(); ++k) {  // an undrawn item adds zeros: no branch
              const double w = counts[cluster[k]];
              for (std::size_t c = 0; c < 4; ++c)
                row[4 * std::size_t{entries_[k].pair} + c] += w * entries_[k].sums[c];
            }
          }
          sums = entry_sums;
        }
        for (std::uint32_t b = 0; b < m; ++b) {
          // Over the models that can be fitted in this resample: a model without games in it, or one that
          // won or lost all of them, leaves the others' values defined.
          const std::span<const double> resampled(sums.data() + std::size_t{b} * width, totals_.size());
          const detail::bt_fit judge = fit(resampled, false, false, true),
                               gold = fit(resampled, true, false, true);
          for (std::size_t mo = 0; mo < models.size(); ++mo) {
            const auto pj = player(models[mo], false), pg = player(models[mo], true);
            double rj = std::nan(""), rg = std::nan("");
            if (pj && judge.ok && !std::isnan(judge.strength[*pj])) {
              values[mo][s_strength][start + b] = judge.strength[*pj];
              values[mo][s_rank][start + b] = rj = rank(judge, *pj);
            }
            if (pg && gold.ok && !std::isnan(gold.strength[*pg])) {
              values[mo][s_gold_strength][start + b] = gold.strength[*pg];
              values[mo][s_gold_rank][start + b] = rg = rank(gold, *pg);
            }
            values[mo][s_shift][start + b] = rj - rg;
          }
        }
      }
    };
    const std::uint32_t batches = (resamples + batch - 1) / batch;
    const unsigned threads = std::clamp<unsigned>(cfg.threads == 0 ? 1 : cfg.threads, 1, 64);
    if (threads == 1 || batches == 1 ||
        static_cast<double>(n) * resamples < 2e5) {  // (threads cost more than tiny work)
      work(0, batches);
    } else {  // each resample is its own: the split changes no value
      detail::parallel_for(threads, [&](std::size_t t) {
        work(static_cast<std::uint32_t>(batches * t / threads),
             static_cast<std::uint32_t>(batches * (t + 1) / threads));
      });
    }
    return values;
  }

 private:
  struct entry {
    std::uint32_t item, pair;
    std::array<double, 4> sums;  // the first model's score, the games; the same from the gold
  };
  struct side {
    std::unordered_map<std::uint32_t, std::size_t> player;  // model id -> player
    std::vector<std::uint32_t> models;                      // the players' models
    std::optional<std::size_t> anchor;                      // the baseline's player; nullopt: the mean is 0
    detail::bt_fit whole;
  };
  detail::bt_fit fit(std::span<const double> sums, bool gold, bool with_se, bool fittable = false) const {
    const side& s = side_[gold];
    std::vector<detail::bt_games> games;
    games.reserve(pairs_.size());
    for (std::size_t p = 0; p < pairs_.size(); ++p) {
      const double g = sums[4 * p + (gold ? 3 : 1)];
      if (g <= 0) continue;
      const auto a = s.player.find(pairs_[p].first), b = s.player.find(pairs_[p].second);
      if (a == s.player.end() || b == s.player.end()) continue;
      games.push_back({static_cast<std::uint32_t>(a->second), static_cast<std::uint32_t>(b->second),
                       sums[4 * p + (gold ? 2 : 0)], g});
    }
    if (fittable) return detail::fit_bradley_terry_fittable(s.models.size(), games, s.anchor);
    return detail::fit_bradley_terry(s.models.size(), games, s.anchor, with_se);
  }
  std::uint32_t baseline_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;  // model ids, first < second
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::size_t> pair_at_;
  std::vector<entry> entries_;
  // An item's entries are found among those of the current item while the items come one after another
  // (the dataset numbers comparisons item by item); once one comes back, through a table of every entry.
  std::vector<bool> item_seen_;
  std::uint32_t current_ = no_id;  // the current item, whose entries start at current_start_
  std::size_t current_start_ = 0;
  bool hashed_ = false;
  std::unordered_map<std::uint64_t, std::size_t> entry_at_;  // (item << 32 | pair) -> entry, once hashed_
  // The entry of (item, pair), added when new (in order of first appearance).
  std::size_t entry_of(std::uint32_t item, std::uint32_t pair) {
    if (!hashed_ && item != current_) {
      if (item_seen_[item]) {  // an item again after another: every entry into the table from now on
        hashed_ = true;
        for (std::size_t k = 0; k < entries_.size(); ++k)
          entry_at_.emplace((std::uint64_t{entries_[k].item} << 32) | entries_[k].pair, k);
      } else {
        item_seen_[item] = true;
        current_ = item;
        current_start_ = entries_.size();
      }
    }
    if (!hashed_) {
      for (std::size_t k = current_start_; k < entries_.size(); ++k)
        if (entries_[k].pair == pair) return k;
      entries_.push_back({item, pair, {}});
      return entries_.size() - 1;
    }
    const auto [e, fresh] = entry_at_.try_emplace((std::uint64_t{item} << 32) | pair, entries_.size());
    if (fresh) entries_.push_back({item, pair, {}});
    return e->second;
  }
  std::vector<double> totals_;  // per pair: the sums over the entries folded in
  std::array<side, 2> side_;
  bool keep_entries_ = true;
  bool interleaved_ = false;
  std::uint32_t item_ = no_id;  // without entries kept: the item of entries_

  // The entries not yet in the totals into them, in order (each pair's sums in its entries' order);
  // without entries kept, they are then dropped.
  void fold() {
    totals_.resize(4 * pairs_.size(), 0.0);
    for (std::size_t k = folded_; k < entries_.size(); ++k)
      for (std::size_t c = 0; c < 4; ++c)
        totals_[4 * std::size_t{entries_[k].pair} + c] += entries_[k].sums[c];
    folded_ = entries_.size();
    if (!keep_entries_) {
      entries_.clear();
      entry_at_.clear();
      current_start_ = folded_ = 0;
    }
  }
  std::size_t folded_ = 0;  // entries_ already in totals_
};

// A percentile interval from resampled values (NaN: undefined) by the builder's rule (more than 1 %
// undefined gives none); a rank's is widened to whole ranks. `values` empty: a single item.
metric with_bootstrap(metric m, std::span<const double> values, double confidence, bool whole,
                      std::string_view fit) {
  if (!m.value) return m;
  if (values.empty()) {
    m.reason = "the data come from a single item: nothing to resample";
    return m;
  }
  const stats::percentile_result p = stats::percentile_interval(values, confidence);
  if (!p.ci) {
    m.reason = fmt::format(
        "bootstrap: the model cannot be fitted under the {} in {} of {} resamples (more than 1%): it has no "
        "comparison in them, or won or lost all of them",
        fit, p.undefined, values.size());
    return m;
  }
  m.ci = whole ? std::array<double, 2>{std::floor((*p.ci)[0]), std::ceil((*p.ci)[1])} : *p.ci;
  return m;
}

// The Bradley–Terry metrics of every model: strength and rank under the judge and under the gold, and
// the shift of the rank, at {"models", M, ...}.
void put_bt(metric_builder& mb, const dataset& d, const config& cfg, const kit::selection& sel,
            const bt_fits& bt, const std::vector<std::string>& model_names) {
  std::vector<std::uint32_t> models;
  models.reserve(model_names.size());
  for (const auto& name : model_names) models.push_back(d.models().find(name));
  std::vector<std::array<std::vector<double>, bt_fits::s_count>> boot;
  if (cfg.bootstrap > 0 && (bt.whole(false).ok || bt.whole(true).ok))
    boot = bt.bootstrap(cfg,
                        stats::stream_seed(cfg.seed, {"winrate", d.judges().name(sel.judge), sel.group_name,
                                                      "bradley-terry"}),
                        models);
  // The resampled values of model m's statistic (none: a single item, nothing was resampled).
  auto resampled = [&boot](std::size_t m, bt_fits::statistic st) -> std::span<const double> {
    if (boot.empty()) return {};
    return boot[m][st];
  };
  const std::array<const char*, 2> no_games{"no parsed comparison of the model",
                                            "no comparison of the model has gold"};
  for (std::size_t m = 0; m < models.size(); ++m) {
    const std::uint32_t model = models[m];
    auto path = [&](const char* name) { return std::vector<std::string>{"models", model_names[m], name}; };
    std::array<std::string, 2> why;  // why a fit gives the model nothing (empty: it does)
    std::array<double, 2> rank{};
    for (const bool gold : {false, true}) {
      const auto player = bt.player(model, gold);
      const detail::bt_fit& f = bt.whole(gold);
      why[gold] = !player ? no_games[gold] : f.ok ? "" : f.reason;
      metric strength, r;
      strength.unit = unit::coefficient;
      r.unit = unit::count;
      strength.n = r.n = bt.games_of(model, gold);
      if (why[gold].empty()) {
        strength.value = f.strength[*player];
        r.value = rank[gold] = bt_fits::rank(f, *player);
        if (bt.anchor(gold) == player) {
          strength.reason = "the anchor (--baseline): 0 by definition";
        } else if (cfg.bootstrap > 0) {
          strength =
              with_bootstrap(strength, resampled(m, gold ? bt_fits::s_gold_strength : bt_fits::s_strength),
                             cfg.confidence, false, gold ? "gold" : "judge");
        } else {
          strength.ci = stats::wald_interval(f.strength[*player], f.se[*player], cfg.confidence);
        }
        if (cfg.bootstrap > 0)
          r = with_bootstrap(r, resampled(m, gold ? bt_fits::s_gold_rank : bt_fits::s_rank), cfg.confidence,
                             true, gold ? "gold" : "judge");
        else
          r.reason = "no closed-form interval (the bootstrap gives one)";
      } else {
        strength.reason = r.reason = why[gold];
      }
      mb.put(path(gold ? "gold_bt_strength" : "bt_strength"), strength);
      mb.put(path(gold ? "gold_rank" : "rank"), r);
    }
    metric shift;
    shift.unit = unit::count;
    shift.n = bt.games_of(model, false);
    if (!why[0].empty() || !why[1].empty() || !bt.same_players()) {
      shift.reason = !why[0].empty()   ? "no rank under the judge: " + why[0]
                     : !why[1].empty() ? "no rank under the gold: " + why[1]
                                       : "the gold does not compare the same models as the judge";
    } else {
      shift.value = rank[0] - rank[1];
      if (cfg.bootstrap > 0)
        shift =
            with_bootstrap(shift, resampled(m, bt_fits::s_shift), cfg.confidence, true, "judge or the gold");
      else
        shift.reason = "no closed-form interval (the bootstrap gives one)";
    }
    mb.put(path("rank_shift"), shift);
  }
}

// Keeps the places of put_bt's metrics in the report (put_bt puts them again there), so that the
// Bradley–Terry bootstrap can come after the tallies' bootstrap has freed them.
void reserve_bt(metric_builder& mb, const std::vector<std::string>& model_names) {
  for (const auto& model : model_names)
    for (const char* name : {"bt_strength", "rank", "gold_bt_strength", "gold_rank", "rank_shift"})
      mb.put({"models", model, name}, metric{});
}

// The chart of win rates per model under the judge, the gold and the correction.
chart_spec win_rate_chart(std::string series, int order) {
  return chart_spec{"win_rate",
                    60,
                    "Win rate per model: judge, gold and corrected (pp)",
                    "Each model against every opponent (or --baseline); the corrected rate estimates the "
                    "gold's from every record and the gold subset.",
                    50.0,
                    std::move(series),
                    order};
}

class winrate_module final : public bias_module {
 public:
  /// `headline`: each model's win rates against every opponent (or --baseline) only
  /// (detail::make_winrate_headline).
  explicit winrate_module(bool headline = false) : headline_(headline) {}
  std::string_view name() const noexcept override { return "winrate"; }
  std::string_view description() const noexcept override {
    return "Win rate of each model under each judge (against each opponent, or --baseline), beside the "
           "gold's";
  }
  std::vector<metric_info> metrics() const override {
    return {
        metric_info{"win_rate", unit::pp, bias_direction::none,
                    "mean outcome of the model's records: P(model preferred) from prob_a, else 1 / 0.5 / 0"}
            .shown(1)
            .drawn(win_rate_chart("judge", 1)),
        {"standard_error", unit::pp, bias_direction::none, "sample sd of the outcomes (n - 1) over sqrt(n)"},
        {"n_wins", unit::count, bias_direction::none, "records whose outcome is above one half"},
        {"n_losses", unit::count, bias_direction::none, "records whose outcome is below one half"},
        {"n_draws", unit::count, bias_direction::none, "records whose outcome is exactly one half"},
        {"discrete_win_rate", unit::pp, bias_direction::none, "(wins + draws / 2) / n"},
        metric_info{"gold_win_rate", unit::pp, bias_direction::none,
                    "the same from the gold verdicts, over the records that have gold"}
            .shown(2)
            .drawn(win_rate_chart("gold", 2)),
        metric_info{"corrected_win_rate", unit::pp, bias_direction::none,
                    "the gold's win rate estimated from every record and the gold subset (PPI++, "
                    "power-tuned)"}
            .shown(3)
            .drawn(win_rate_chart("corrected (PPI++)", 3)),
        {"corrected_win_rate_ppi", unit::pp, bias_direction::none,
         "the same with lambda = 1 (classical prediction-powered inference)"},
        {"correction_lambda", unit::coefficient, bias_direction::none,
         "PPI++'s power-tuned weight of the records without gold, in [0, 1]"},
        {"bt_strength", unit::coefficient, bias_direction::none,
         "Bradley-Terry strength (log-odds) from all the judge's comparisons, the baseline (or the mean) at "
         "0"},
        {"rank", unit::count, bias_direction::none, "rank by bt_strength, 1 the strongest"},
        {"gold_bt_strength", unit::coefficient, bias_direction::none, "the same from the gold verdicts"},
        {"gold_rank", unit::count, bias_direction::none, "rank by gold_bt_strength"},
        metric_info{"rank_shift", unit::count, bias_direction::away_from_zero,
                    "rank under the judge minus rank under the gold (negative: the judge moves it up)"}
            .shown(4),
    };
  }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    bool any = false;
    for (const comparison& c : d.comparisons()) any |= !d.is_gold_judge(c.judge) && between_two_models(c);
    if (!any) {
      result.skipped = true;
      result.reason = "no pairwise comparison of a measured judge names the models of both answers";
      return result;
    }
    nlohmann::ordered_json failures = nlohmann::ordered_json::object();  // per judge, over all its records
    result.body = kit::per_judge(d, cfg, [&](const kit::selection& s) {
      std::uint64_t n = 0;
      auto m = measure(d, cfg, s, n);
      if (s.all()) failures[d.judges().name(s.judge)] = n;
      return m;
    });
    nlohmann::ordered_json diagnostics = {{"extraction_failures_by_judge", std::move(failures)}};
    if (!cfg.baseline.empty()) diagnostics["baseline_found"] = d.models().find(cfg.baseline) != no_id;
    result.body.extra({"diagnostics"}, std::move(diagnostics));
    return result;
  }

 private:
  // The metrics of one judge (or one --by group of it); `failures` counts its units that are extraction
  // failures (left out). At --bootstrap 0 only the totals are read, so the per-item rows are not kept
  // (a table per model pair, or per model and opponent, up to 11 sums per item): the totals are the same,
  // summed in the same order, when each item's comparisons come together, as the dataset numbers them
  // (item by item); should they not, it measures again with the rows.
  kit::measurement measure(const dataset& d, const config& cfg, const kit::selection& sel,
                           std::uint64_t& failures) const {
    if (cfg.bootstrap == 0) {
      std::uint64_t f = 0;
      if (auto m = measure(d, cfg, sel, f, false)) {
        failures += f;
        return std::move(*m);
      }
    }
    return *measure(d, cfg, sel, failures, true);
  }
  // nullopt: without rows kept, an item came again after another.
  std::optional<kit::measurement> measure(const dataset& d, const config& cfg, const kit::selection& sel,
                                          std::uint64_t& failures, bool keep_rows) const {
    metric_builder mb(d, cfg, name(), sel);
    const std::size_t items = d.items().size();
    const bool soft = cfg.pair_rule == pair_rule::each;  // prob_a scores a record, not a pair
    // With --baseline, a model's own tally is against the baseline only (no_id if it is not in the data).
    const bool against_baseline = !cfg.baseline.empty();
    const std::uint32_t baseline = against_baseline ? d.models().find(cfg.baseline) : no_id;
    const auto comparisons = sel.comparisons(d);
    // A unit has gold when its comparison has: which of the comparisons counted below have it.
    bool with_gold = false, without_gold = false;
    for (const std::uint32_t c : comparisons) {
      const comparison& cmp = d.comparisons()[c];
      if (between_two_models(cmp)) (cmp.gold == no_id ? without_gold : with_gold) = true;
    }
    const gold_cover cover = !with_gold     ? gold_cover::none
                             : without_gold ? gold_cover::some
                                            : gold_cover::all;
    // Outcomes of 1, ½ or 0 (pair rules other than `each`, or no prob_a among the records) and at most 32
    // models in the file: one tally per pair of models met, of the side of the model with the lower id,
    // and each model's tallies are views of them, the opponent's side mirrored (its tally against all is
    // the sum of those against each, which each statistic sums again per resample: at most 31 of them).
    // With prob_a's outcomes the sides' sums would not mirror to the bit, and past 32 models the sums
    // would cost more than the tables save: a tally per model and opponent, and per model against all (or
    // the baseline).
    bool hard = d.models().size() <= 32;
    for (std::size_t k = 0; soft && hard && k < comparisons.size(); ++k)  // (the records scored below)
      for (const dataset::index i : sel.comparison_records(d, k)) hard &= std::isnan(d.prob_a(i));
    std::deque<tally> store;                                                 // every tally, in order made
    std::vector<std::vector<tally*>> pair_of(hard ? d.models().size() : 0);  // [lower id][higher id]
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs;              // (lower, higher) of each
    auto pair = [&](std::uint32_t a, std::uint32_t b) -> tally& {
      std::vector<tally*>& of = pair_of[a];
      if (of.empty()) of.assign(d.models().size(), nullptr);
      if (!of[b]) of[b] = &store.emplace_back(items, keep_rows, cover), pairs.emplace_back(a, b);
      return *of[b];
    };
    // Without them: per model its overall tally (against every opponent, or the baseline) and one per
    // opponent.
    struct model_tallies {
      bool met = false;  // (a model met only against others than the baseline has no tally, yet a row)
      tally* all = nullptr;
      std::vector<tally*> by;  // by opponent id, nullptr until met
    };
    std::vector<model_tallies> own(hard ? 0 : d.models().size());
    auto own_tally = [&](tally*& t) -> tally& {
      if (!t) t = &store.emplace_back(items, keep_rows, cover);
      return *t;
    };
    std::optional<bt_fits> bt(std::in_place, baseline, keep_rows, items);
    std::vector<kit::scored_unit> units;
    for (std::size_t k = 0; k < comparisons.size(); ++k) {
      const comparison& c = d.comparisons()[comparisons[k]];
      if (!between_two_models(c)) continue;
      units.clear();
      kit::score_comparison(d, sel, k, cfg.pair_rule, units);
      const std::optional<double> gold_lo = c.gold == no_id ? std::nullopt
                                                            : std::optional<double>(c.gold == c.lo   ? 1.0
                                                                                    : c.gold == c.hi ? 0.0
                                                                                                     : 0.5);
      for (const auto& u : units) {
        double lo;  // the outcome of the lower id's model
        if (soft && !u.pair && !std::isnan(d.prob_a(u.first))) {
          lo = d.cand_a(u.first) == c.lo ? d.prob_a(u.first) : 1.0 - d.prob_a(u.first);
        } else if (u.outcome != no_id) {
          lo = u.outcome == c.lo ? 1.0 : u.outcome == c.hi ? 0.0 : 0.5;
        } else {
          ++failures;
          continue;
        }
        const std::uint32_t item = d.item(u.first);
        if (!headline_) bt->add(item, c.model_lo, c.model_hi, lo, gold_lo);
        if (hard) {
          if (c.model_lo < c.model_hi)
            pair(c.model_lo, c.model_hi).add(item, lo, gold_lo);
          else
            pair(c.model_hi, c.model_lo)
                .add(item, 1.0 - lo, gold_lo ? std::optional<double>(1.0 - *gold_lo) : std::nullopt);
          continue;
        }
        auto count = [&](std::uint32_t model, std::uint32_t opponent, double outcome,
                         std::optional<double> g) {
          model_tallies& m = own[model];
          m.met = true;
          if (!against_baseline || opponent == baseline) own_tally(m.all).add(item, outcome, g);
          if (headline_) return;
          if (m.by.empty()) m.by.assign(d.models().size(), nullptr);
          own_tally(m.by[opponent]).add(item, outcome, g);
        };
        count(c.model_lo, c.model_hi, lo, gold_lo);
        count(c.model_hi, c.model_lo, 1.0 - lo,
              gold_lo ? std::optional<double>(1.0 - *gold_lo) : std::nullopt);
      }
    }
    if (!keep_rows) {
      bool interleaved = bt->interleaved();
      for (const tally& t : store) interleaved |= t.rows.interleaved();
      if (interleaved) return std::nullopt;
    }
    // Per model, by name so that the report's order does not depend on interning: its view against
    // every opponent (or the baseline), and against each.
    struct model_views {
      tally_view all;
      std::map<std::string, tally_view> by;
    };
    std::map<std::string, model_views> models;
    auto view = [&](std::uint32_t model) -> model_views& {
      return models[std::string(d.models().name(model))];
    };
    auto add_part = [&](tally_view& v, const tally* t, bool mirror) {
      v.cover = cover;
      v.parts.push_back({t, mirror});
    };
    for (const auto& [a, b] : pairs) {
      const tally* t = pair_of[a][b];
      model_views &va = view(a), &vb = view(b);
      if (!against_baseline || b == baseline) add_part(va.all, t, false);
      if (!against_baseline || a == baseline) add_part(vb.all, t, true);
      if (headline_) continue;
      add_part(va.by[std::string(d.models().name(b))], t, false);
      add_part(vb.by[std::string(d.models().name(a))], t, true);
    }
    for (std::uint32_t m = 0; m < own.size(); ++m) {
      if (!own[m].met) continue;
      model_views& v = view(m);
      if (own[m].all) add_part(v.all, own[m].all, false);
      for (std::uint32_t o = 0; o < own[m].by.size(); ++o)
        if (own[m].by[o]) add_part(v.by[std::string(d.models().name(o))], own[m].by[o], false);
    }
    const tally none(items, keep_rows, cover);  // (a model with no unit against the baseline)
    for (auto& [model, v] : models)
      if (v.all.parts.empty()) add_part(v.all, &none, false);
    const double conf = cfg.confidence;
    if (!headline_) bt->settle(d);
    // Per model: its win rates, its Bradley–Terry metrics, then against each opponent. The baseline
    // against itself says nothing: it has its strength and rank only.
    std::vector<std::string> names;
    for (const auto& [model, v] : models) {
      names.push_back(model);
      if (against_baseline && model == cfg.baseline)
        mb.open({"models", model});
      else
        put_tally(mb, v.all, {"models", model}, conf);
    }
    // The tallies are not read again once their metrics are put (below): the bootstrap, at resample(),
    // frees each as soon as it has copied it.
    for (tally& t : store) mb.hand_over(t.rows);
    if (headline_) return mb.take();
    // The Bradley–Terry metrics come next in the report, but their bootstrap comes after the tallies'
    // (whose memory it then reuses).
    reserve_bt(mb, names);
    for (const auto& [model, v] : models)
      if (!against_baseline || model != cfg.baseline)
        for (const auto& [opponent, t] : v.by)
          put_tally(mb, t, {"models", model, "by_opponent", opponent}, conf);
    mb.resample();
    put_bt(mb, d, cfg, sel, *bt, names);
    bt.reset();
    return mb.take();
  }

  bool headline_ = false;
};

}  // namespace

std::unique_ptr<bias_module> make_winrate_module() {
  return std::make_unique<winrate_module>();
}

std::unique_ptr<bias_module> detail::make_winrate_headline() {
  return std::make_unique<winrate_module>(true);
}

}  // namespace judgebias
