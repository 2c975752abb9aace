#pragma once
// Shared by the modules: per-item sums for the bootstrap, and the metric built from them.

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"

#include "judgebias/stats.hpp"

namespace judgebias::detail {

/// Per-item rows, created on first touch, in first-touch order (deterministic for a given input). Memory
/// is in the items touched, not in the dataset's items: a table per opponent, task or run costs what its
/// own records need (an open-addressing table from item to row, kept at most half full).
class item_sums {
 public:
  /// `items` (the dataset's item count) is not needed any more: kept so that callers read as before.
  item_sums(std::size_t /*items*/, std::size_t width) : rows_(width) {}
  /// The row of an item, zeroed when new.
  double* operator[](std::uint32_t item) {
    if ((items_.size() + 1) * 2 > slots_.size()) grow();
    std::size_t s = home(item);
    while (slots_[s] != no_id) {
      if (items_[slots_[s]] == item) return rows_.row(slots_[s]);
      s = (s + 1) & (slots_.size() - 1);
    }
    slots_[s] = static_cast<std::uint32_t>(items_.size());
    items_.push_back(item);
    return rows_.add_row();
  }
  const stats::cluster_sums& rows() const noexcept { return rows_; }
  /// The item of each row.
  const std::vector<std::uint32_t>& items() const noexcept { return items_; }

 private:
  std::size_t home(std::uint32_t item) const noexcept {  // Fibonacci hashing onto the table's size
    return static_cast<std::size_t>((std::uint64_t{item} * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow() {
    const std::size_t size = slots_.empty() ? 16 : slots_.size() * 2;
    shift_ = 64;
    for (std::size_t s = size; s > 1; s >>= 1) --shift_;
    slots_.assign(size, no_id);
    for (std::uint32_t row = 0; row < items_.size(); ++row) {
      std::size_t s = home(items_[row]);
      while (slots_[s] != no_id) s = (s + 1) & (size - 1);
      slots_[s] = row;
    }
  }
  std::vector<std::uint32_t> slots_;  // row of the item hashed there, or no_id
  unsigned shift_ = 64;
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
    if (!value) {
      m.reason = std::string(empty_reason);
      return m;
    }
    if (!std::isfinite(*value)) {  // sums of values near the largest double (1e308)
      m.reason = fmt::format("the value overflows a double: the {} values are too large to sum", n);
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
    std::map<std::vector<std::uint32_t>, std::size_t> set_of_items;  // (one per breakdown: linear in them)
    std::unordered_map<const item_sums*, std::pair<std::size_t, std::size_t>> table_at;
    std::vector<std::pair<std::size_t, std::size_t>> where(pending_.size());  // (set, table in set)
    for (std::size_t k = 0; k < pending_.size(); ++k) {
      const item_sums* t = pending_[k].rows;
      auto known = table_at.find(t);
      if (known == table_at.end()) {
        std::vector<std::uint32_t> items = t->items();
        std::sort(items.begin(), items.end());
        auto [it, added] = set_of_items.try_emplace(items, sets.size());
        if (added) sets.push_back(item_set{std::move(items), {}});
        item_set& set = sets[it->second];
        set.tables.push_back(t);
        known = table_at.emplace(t, std::make_pair(it->second, set.tables.size() - 1)).first;
      }
      where[k] = known->second;
    }
    stats::bootstrap_options bo;
    bo.resamples = cfg_.bootstrap;
    bo.confidence = cfg_.confidence;
    bo.threads = cfg_.threads == 0 ? 1 : cfg_.threads;
    std::vector<stats::interval_result> results(pending_.size());
    std::vector<std::vector<std::size_t>> pending_of_set(sets.size());
    for (std::size_t k = 0; k < pending_.size(); ++k) pending_of_set[where[k].first].push_back(k);
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
      const std::vector<std::size_t>& owners = pending_of_set[s];
      for (std::size_t k : owners) bstats.push_back({where[k].second, pending_[k].stat});
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
    // The objects on the paths are looked up by hash: an ordered_json object finds a key by a linear
    // scan, and a by_opponent object may hold thousands.
    std::unordered_map<const nlohmann::ordered_json*,
                       std::unordered_map<std::string_view, nlohmann::ordered_json*>>
        index;
    auto child = [&](nlohmann::ordered_json* obj, const std::string& key) {
      if (!obj->is_object() || obj->size() < 16) return &(*obj)[key];
      auto [it, added] = index.try_emplace(obj);
      if (added)
        for (auto& [k, v] : obj->items()) it->second.emplace(k, &v);
      auto found = it->second.find(key);
      if (found != it->second.end()) return found->second;
      index.clear();  // a new key may move the object's members, and with them indexed children
      return &(*obj)[key];
    };
    for (std::size_t k = 0; k < pending_.size(); ++k) {
      nlohmann::ordered_json* m = &root;
      for (const auto& key : pending_[k].path) m = child(m, key);
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
