#pragma once
// Shared by the modules: per-item sums for the bootstrap, and the metric built from them.

#include <cmath>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
    }
    return rows_.row(slot_[item]);
  }
  const stats::cluster_sums& rows() const noexcept { return rows_; }

 private:
  std::vector<std::uint32_t> slot_;
  stats::cluster_sums rows_;
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

/// Builds metrics for one (module, judge, group): value from the totals, interval from the item
/// bootstrap, or the closed form when --bootstrap 0.
class metric_builder {
 public:
  metric_builder(const config& cfg, std::string_view module, std::string_view judge, std::string_view group)
      : cfg_(cfg), module_(module), judge_(judge), group_(group) {}

  metric make(std::string_view name, unit u, std::uint64_t n, const stats::cluster_sums& rows,
              const stats::statistic& stat, const closed_form& closed, std::string_view empty_reason) const {
    metric m;
    m.unit = u;
    m.n = n;
    std::optional<double> value;
    if (n > 0) value = stat(rows.totals());
    if (!value || !std::isfinite(*value)) {
      m.reason = std::string(empty_reason);
      return m;
    }
    m.value = *value;
    if (cfg_.bootstrap > 0) {
      stats::bootstrap_options bo;
      bo.resamples = cfg_.bootstrap;
      bo.confidence = cfg_.confidence;
      bo.threads = cfg_.threads == 0 ? 1 : cfg_.threads;
      auto r = stats::bootstrap_interval(rows, stat, bo,
                                         stats::stream_seed(cfg_.seed, {module_, judge_, group_, name}));
      m.ci = r.ci;
      if (!r.ci) m.reason = r.reason;
    } else if (closed) {
      m.ci = closed();
      if (!m.ci) m.reason = "no closed-form interval for fewer than 2 units";
    }
    return m;
  }

  const config& settings() const noexcept { return cfg_; }

 private:
  const config& cfg_;
  std::string module_, judge_, group_;
};

/// Ratio of two sums, undefined when the denominator is 0.
inline std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

}  // namespace judgebias::detail
