#pragma once
// Shared by the modules: per-item sums for the bootstrap, and the metric built from them.

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

#include "judgebias/stats.hpp"

namespace judgebias::detail {

/// Per-item rows, created on first touch, in first-touch order (deterministic for a given input).
class item_sums {
 public:
  item_sums(std::size_t items, std::size_t width) : slot_(items, no_id), rows_(width) {}
  /// The row of an item, zeroed when new.
  double* operator[](std::uint32_t item) {
    if (slot_[item] == no_id) {
      slot_[item] = static_cast<std::uint32_t>(rows_.rows());
      rows_.add_row();
      items_.push_back(item);
    }
    return rows_.row(slot_[item]);
  }
  const stats::cluster_sums& rows() const noexcept { return rows_; }
  /// The item of each row.
  const std::vector<std::uint32_t>& items() const noexcept { return items_; }

 private:
  std::vector<std::uint32_t> slot_;
  stats::cluster_sums rows_;
  std::vector<std::uint32_t> items_;
};

/// Mean and sample standard deviation of values.
struct moments {
  double n = 0, mean = 0, sd = std::nan("");
};
inline moments moments_of(std::span<const double> v) {
  moments m;
  m.n = static_cast<double>(v.size());
  if (v.empty()) return m;
  for (double x : v) m.mean += x;
  m.mean /= m.n;
  if (v.size() >= 2) {
    double ss = 0;
    for (double x : v) ss += (x - m.mean) * (x - m.mean);
    m.sd = std::sqrt(ss / (m.n - 1));
  }
  return m;
}

using closed_form = std::function<std::optional<std::array<double, 2>>()>;

// Closed-form intervals for --bootstrap 0. They keep references: use them inside the make() call.
/// t interval of the mean of unit values.
inline closed_form t_closed(const std::vector<double>& v, double conf) {
  return [&v, conf]() {
    auto m = moments_of(v);
    return stats::t_interval(m.mean, m.sd, m.n, conf);
  };
}
/// Wilson interval of k successes in n.
inline closed_form wilson_closed(double k, double n, double conf) {
  return [k, n, conf]() { return stats::wilson_interval(k, n, conf); };
}
/// Wald interval of a mean (of paired differences) from its standard error.
inline closed_form mean_wald_closed(const std::vector<double>& v, double conf) {
  return [&v, conf]() -> std::optional<std::array<double, 2>> {
    auto m = moments_of(v);
    if (m.n < 2) return std::nullopt;
    return stats::wald_interval(m.mean, m.sd / std::sqrt(m.n), conf);
  };
}
/// Wald interval of the difference of two independent means, sign · (mean(x) − mean(y)) (sign −1 for
/// metrics of the form (1 − mean x) − (1 − mean y)).
inline closed_form diff_wald_closed(const std::vector<double>& x, const std::vector<double>& y, double conf,
                                    double sign = 1) {
  return [&x, &y, conf, sign]() -> std::optional<std::array<double, 2>> {
    auto mx = moments_of(x), my = moments_of(y);
    if (mx.n < 2 || my.n < 2) return std::nullopt;
    return stats::wald_interval(sign * (mx.mean - my.mean),
                                std::sqrt(mx.sd * mx.sd / mx.n + my.sd * my.sd / my.n), conf);
  };
}

/// Builds the metrics of one (module, judge, breakdown group): each value from its per-item sums now;
/// intervals either from the closed form (--bootstrap 0) or, at finish(), from one item bootstrap shared
/// by all the builder's metrics, seeded from (seed, module, judge, group).
class metric_builder {
 public:
  metric_builder(const config& cfg, std::string_view module, std::string_view judge, std::string_view group)
      : cfg_(cfg), module_(module), judge_(judge), group_(group) {}

  /// The metric at `path` (keys under the module's judge object, e.g. {"by_opponent", model, "wr_gold"}).
  metric make(std::vector<std::string> path, unit u, std::uint64_t n, const item_sums& rows,
              const stats::statistic& stat, const closed_form& closed, std::string_view empty_reason) {
    metric m;
    m.unit = u;
    m.n = n;
    std::optional<double> value;
    if (n > 0) value = stat(rows.rows().totals());
    if (!value || !std::isfinite(*value)) {
      m.reason = std::string(empty_reason);
      return m;
    }
    m.value = *value;
    if (cfg_.bootstrap > 0) {
      pending_.push_back(pending{std::move(path), &rows, stat});
    } else if (closed) {
      m.ci = closed();
      if (!m.ci) m.reason = "no closed-form interval for fewer than 2 units";
    }
    return m;
  }
  metric make(std::string name, unit u, std::uint64_t n, const item_sums& rows, const stats::statistic& stat,
              const closed_form& closed, std::string_view empty_reason) {
    return make(std::vector<std::string>{std::move(name)}, u, n, rows, stat, closed, empty_reason);
  }

  /// Computes the pending bootstrap intervals and writes them into the metrics already placed in `root`.
  void finish(nlohmann::ordered_json& root) {
    if (pending_.empty()) return;
    // A metric resamples the items of its own table. Tables over the same set of items share one draw
    // (the usual case: a judge's items), each set of items has its own random stream.
    struct item_set {
      std::vector<std::uint32_t> items;  // sorted: the clusters
      std::vector<const item_sums*> tables;
    };
    std::vector<item_set> sets;
    std::vector<std::pair<std::size_t, std::size_t>> where(pending_.size());  // (set, table in set)
    for (std::size_t k = 0; k < pending_.size(); ++k) {
      const item_sums* t = pending_[k].rows;
      std::vector<std::uint32_t> items = t->items();
      std::sort(items.begin(), items.end());
      auto set = std::find_if(sets.begin(), sets.end(), [&](const item_set& s) { return s.items == items; });
      if (set == sets.end()) set = sets.insert(sets.end(), item_set{std::move(items), {}});
      auto table = std::find(set->tables.begin(), set->tables.end(), t);
      if (table == set->tables.end()) table = set->tables.insert(set->tables.end(), t);
      where[k] = {static_cast<std::size_t>(set - sets.begin()),
                  static_cast<std::size_t>(table - set->tables.begin())};
    }
    stats::bootstrap_options bo;
    bo.resamples = cfg_.bootstrap;
    bo.confidence = cfg_.confidence;
    bo.threads = cfg_.threads == 0 ? 1 : cfg_.threads;
    std::vector<stats::interval_result> results(pending_.size());
    for (std::size_t s = 0; s < sets.size(); ++s) {
      const item_set& set = sets[s];
      std::vector<stats::bootstrap_table> btables(set.tables.size());
      for (std::size_t t = 0; t < set.tables.size(); ++t) {
        btables[t].rows = &set.tables[t]->rows();
        for (std::uint32_t item : set.tables[t]->items())
          btables[t].cluster_of_row.push_back(static_cast<std::uint32_t>(
              std::lower_bound(set.items.begin(), set.items.end(), item) - set.items.begin()));
      }
      std::vector<stats::bootstrap_statistic> bstats;
      std::vector<std::size_t> owners;
      for (std::size_t k = 0; k < pending_.size(); ++k)
        if (where[k].first == s) {
          bstats.push_back({where[k].second, pending_[k].stat});
          owners.push_back(k);
        }
      std::vector<stats::interval_result> r;
      if (set.items.size() < 2) {
        r.assign(bstats.size(), stats::interval_result{
                                    std::nullopt, "the data come from a single item: nothing to resample"});
      } else {
        const std::string which = s == 0 ? std::string() : fmt::format("items {}", s);
        r = stats::bootstrap_intervals(set.items.size(), btables, bstats, bo,
                                       stats::stream_seed(cfg_.seed, {module_, judge_, group_, which}));
      }
      for (std::size_t k = 0; k < owners.size(); ++k) results[owners[k]] = std::move(r[k]);
    }
    for (std::size_t k = 0; k < pending_.size(); ++k) {
      nlohmann::ordered_json* m = &root;
      for (const auto& key : pending_[k].path) m = &(*m)[key];
      if (results[k].ci) {
        (*m)["ci"] = {(*results[k].ci)[0], (*results[k].ci)[1]};
      } else {
        (*m)["ci"] = nullptr;
        (*m)["reason"] = results[k].reason;
      }
    }
    pending_.clear();
  }

  const config& settings() const noexcept { return cfg_; }

 private:
  struct pending {
    std::vector<std::string> path;
    const item_sums* rows;
    stats::statistic stat;
  };
  const config& cfg_;
  std::string module_, judge_, group_;
  std::vector<pending> pending_;
};

/// Ratio of two sums, undefined when the denominator is 0.
inline std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

}  // namespace judgebias::detail
