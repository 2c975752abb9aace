#pragma once
/// \file The module kit: what the built-in modules are made of, for modules written outside the library
/// too (docs/architecture.md, examples/custom_module.cpp). A module measures one judge on one selection
/// of its records with a metric_builder; per_judge runs that over every measured judge and every
/// `--by task` / `--by run` group, and the builder gives each metric its item-bootstrap interval (or
/// its closed form under `--bootstrap 0`).

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "judgebias/dataset.hpp"
#include "judgebias/module.hpp"
#include "judgebias/stats.hpp"

namespace judgebias::kit {

/// Per-item rows, created on first touch, in first-touch order (deterministic for a given input). Memory
/// is in the items touched, not in the dataset's items: a table per opponent, task or run costs what its
/// own records need. While items are first touched in increasing order (the dataset's comparisons come
/// so), a row is found from the row touched last or by a binary search of the items; from the first new
/// item below a larger one on, through an open-addressing table from item to row, kept at most half full.
///
/// A table made with `keep_rows = false` (for `--bootstrap 0`, where only the totals are read) keeps the
/// row of the current item only and adds each finished row to the totals when the next item is touched:
/// the totals are then exactly those of the kept rows, summed in the same order, as long as each item's
/// touches come together. They do when items come in increasing id order, as the dataset's comparisons
/// do (and a judge's records, in files grouped by item whose items are first met in that order);
/// interleaved() says when an item came after a larger one (it may then have been touched before, and
/// the totals may differ in the last bits: the caller can measure again keeping the rows). Such a table
/// has no rows() and no items(): read totals(), and do not give it to metric_builder::put with a
/// bootstrap (put throws std::logic_error). The row operator[] returns is valid until the next item.
class item_sums {
 public:
  /// `items` (the dataset's item count) does not size anything (memory is in the items touched);
  /// `width` is the number of sums per item.
  item_sums(std::size_t /*items*/, std::size_t width, bool keep_rows = true)
      : rows_(width), keep_rows_(keep_rows), current_(keep_rows ? 0 : width, 0.0), totals_(current_) {}
  /// The row of an item, zeroed when new.
  double* operator[](std::uint32_t item) {
    ++version_;
    if (!keep_rows_) {
      if (open_ && item == item_) return current_.data();
      interleaved_ |= open_ && item < item_;
      item_ = item;
      return next_row();
    }
    // Records come grouped by item, so most touches are of the row touched last.
    if (last_ < items_.size() && items_[last_] == item) return rows_.row(last_);
    if (released_) throw std::logic_error("item_sums: a row touched after release_rows()");
    if (slots_.empty()) {  // the items in increasing order so far
      if (items_.empty() || item > items_.back()) return add_row(item);
      const auto at = std::lower_bound(items_.begin(), items_.end(), item);
      if (*at == item) return rows_.row(last_ = static_cast<std::uint32_t>(at - items_.begin()));
      grow();  // a new item below a larger one: the table from here on
    }
    if ((items_.size() + 1) * 2 > slots_.size()) grow();
    std::size_t s = home(item);
    while (slots_[s] != no_id) {
      if (items_[slots_[s]] == item) return rows_.row(last_ = slots_[s]);
      s = (s + 1) & (slots_.size() - 1);
    }
    slots_[s] = static_cast<std::uint32_t>(items_.size());
    return add_row(item);
  }
  /// The rows (none in a table made without them).
  const stats::cluster_sums& rows() const noexcept { return rows_; }
  /// The item of each row, in first-touch order (none in a table made without rows).
  const std::vector<std::uint32_t>& items() const noexcept { return items_; }
  /// Column sums over the rows, in row order.
  std::vector<double> totals() const {
    if (released_) return totals_;
    if (keep_rows_) return rows_.totals();
    std::vector<double> t = totals_;
    if (open_)
      for (std::size_t k = 0; k < t.size(); ++k) t[k] += current_[k];
    return t;
  }
  /// A count that every touch of a row (and release_rows) raises: the totals are those last read while
  /// it has not changed (a metric_builder reads a table it holds for the bootstrap once for all its
  /// metrics over it; a write through a row pointer taken before is not counted).
  std::uint64_t version() const noexcept { return version_; }
  /// Whether a table without rows saw an item after a larger one (see the class).
  bool interleaved() const noexcept { return interleaved_; }
  /// Whether the table keeps a row per item (made with keep_rows true, and not released since).
  bool keeps_rows() const noexcept { return keep_rows_ && !released_; }
  /// Frees the rows and the table from item to row, keeping items() and totals(): for a table nothing
  /// will read the rows of again (metric_builder::hand_over). Touching a row afterwards throws
  /// std::logic_error.
  void release_rows() {
    if (!keeps_rows()) return;
    ++version_;
    totals_ = rows_.totals();
    rows_ = stats::cluster_sums(rows_.width());
    std::vector<std::uint32_t>().swap(slots_);
    last_ = no_id;  // (so that every touch takes the path that checks)
    released_ = true;
  }

 private:
  std::size_t home(std::uint32_t item) const noexcept {  // Fibonacci hashing onto the table's size
    return static_cast<std::size_t>((std::uint64_t{item} * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  double* next_row() {  // without rows: the finished row into the totals, a zeroed one for the next item
    if (open_)
      for (std::size_t k = 0; k < current_.size(); ++k) totals_[k] += current_[k];
    std::fill(current_.begin(), current_.end(), 0.0);
    open_ = true;
    return current_.data();
  }
  double* add_row(std::uint32_t item) {
    last_ = static_cast<std::uint32_t>(items_.size());
    items_.push_back(item);
    return rows_.add_row();
  }
  void grow() {  // (at least twice the items, plus one)
    const std::size_t size = std::max<std::size_t>(16, std::bit_ceil(2 * (items_.size() + 1)));
    shift_ = 64;
    for (std::size_t s = size; s > 1; s >>= 1) --shift_;
    slots_.assign(size, no_id);
    for (std::uint32_t row = 0; row < items_.size(); ++row) {
      std::size_t s = home(items_[row]);
      while (slots_[s] != no_id) s = (s + 1) & (size - 1);
      slots_[s] = row;
    }
  }
  std::vector<std::uint32_t> slots_;  // row of the item hashed there, or no_id; none while items increase
  unsigned shift_ = 64;
  std::uint32_t last_ = no_id;  // the row touched last
  stats::cluster_sums rows_;
  std::vector<std::uint32_t> items_;
  bool keep_rows_ = true;
  bool released_ = false;     // release_rows(): totals_ holds the totals
  bool open_ = false;         // without rows: current_ holds item_'s sums, not yet in totals_
  bool interleaved_ = false;  // without rows: an item came after a larger one
  std::uint32_t item_ = 0;    // without rows: the current item
  std::uint64_t version_ = 0;
  std::vector<double> current_, totals_;
};

/// The totals() of several tables one after another, as a statistic over them reads them
/// (metric_builder::put of several tables).
std::vector<double> totals_of(std::span<const item_sums* const> tables);

/// Per-unit values in the order added, for a closed-form interval's two passes (the mean, then the
/// deviations from it). Such values mostly take a few values (an outcome 0, ½ or 1; a share of a few
/// records; a difference of scores on a small scale), so while they take at most 256 distinct ones (bit
/// patterns) each is kept as a one-byte code into a palette, and past that as doubles: 1 byte a value
/// instead of 8. A value reads back with the bits it was added with.
class value_list {
 public:
  void push_back(double v) {
    if (wide_) {
      doubles_.push_back(v);
      return;
    }
    const auto bits = std::bit_cast<std::uint64_t>(v);
    const std::size_t home = home_of(bits);
    if (slot_code_[home] != 0 && slot_bits_[home] == bits) {  // a value seen before: most of them
      codes_.push_back(static_cast<std::uint8_t>(slot_code_[home] - 1));
      return;
    }
    const std::uint8_t code = code_of(bits, home);
    if (wide_)  // the 257th distinct value
      doubles_.push_back(v);
    else
      codes_.push_back(code);
  }
  std::size_t size() const noexcept { return wide_ ? doubles_.size() : codes_.size(); }
  bool empty() const noexcept { return size() == 0; }
  double operator[](std::size_t k) const noexcept { return wide_ ? doubles_[k] : palette_[codes_[k]]; }
  /// Room for `n` values (room never written costs no memory).
  void reserve(std::size_t n) { codes_.reserve(n); }

 private:
  static std::size_t home_of(std::uint64_t bits) noexcept {  // one of 64 slots
    return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ull) >> 58);
  }
  // The code of a value's bits not in its slot, added to the palette when new (and put in the slot); past
  // 256 values the list turns to doubles.
  std::uint8_t code_of(std::uint64_t bits, std::size_t home);
  std::vector<std::uint8_t> codes_;
  std::vector<double> palette_;  // the distinct values, by code
  // A cache of the palette by the bits' hash: a value's bits and its code + 1 (0: none).
  std::array<std::uint64_t, 64> slot_bits_{};
  std::array<std::uint16_t, 64> slot_code_{};
  std::vector<double> doubles_;  // every value, once there are more than 256 distinct ones
  bool wide_ = false;
};

/// Mean and sample standard deviation of values.
struct moments {
  double n = 0, mean = 0, sd = std::nan("");
};
/// The moments of `count` values, value k being `at(k)`: the mean, then the sum of squared deviations
/// from it, each added in order.
template <class At>
moments moments_of(std::size_t count, At&& at) {
  moments m;
  m.n = static_cast<double>(count);
  if (count == 0) return m;
  for (std::size_t k = 0; k < count; ++k) m.mean += at(k);
  m.mean /= m.n;
  if (count >= 2) {
    double ss = 0;
    for (std::size_t k = 0; k < count; ++k) ss += (at(k) - m.mean) * (at(k) - m.mean);
    m.sd = std::sqrt(ss / (m.n - 1));
  }
  return m;
}
inline moments moments_of(std::span<const double> v) {
  return moments_of(v.size(), [v](std::size_t k) { return v[k]; });
}
inline moments moments_of(const value_list& v) {
  return moments_of(v.size(), [&v](std::size_t k) { return v[k]; });
}
/// The moments of one column of a row-major table `width` values wide (the same bits as a copy's).
inline moments moments_of_column(std::span<const double> table, std::size_t width, std::size_t column) {
  return moments_of(width ? table.size() / width : 0,
                    [table, width, column](std::size_t k) { return table[k * width + column]; });
}

using closed_form = std::function<std::optional<std::array<double, 2>>()>;

// Closed-form intervals for --bootstrap 0. They keep references: pass them straight to put(), which
// calls them at once.
/// t interval of the mean of unit values.
template <class Values>  // std::vector<double> or value_list
closed_form t_closed(const Values& v, double conf) {
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
template <class Values>
closed_form mean_wald_closed(const Values& v, double conf) {
  return [&v, conf]() -> std::optional<std::array<double, 2>> {
    auto m = moments_of(v);
    if (m.n < 2) return std::nullopt;
    return stats::wald_interval(m.mean, m.sd / std::sqrt(m.n), conf);
  };
}
/// Wald interval of the difference of two independent means, sign · (mean(x) − mean(y)) (sign −1 for
/// metrics of the form (1 − mean x) − (1 − mean y)).
template <class Values>
closed_form diff_wald_closed(const Values& x, const Values& y, double conf, double sign = 1) {
  return [&x, &y, conf, sign]() -> std::optional<std::array<double, 2>> {
    auto mx = moments_of(x), my = moments_of(y);
    if (mx.n < 2 || my.n < 2) return std::nullopt;
    return stats::wald_interval(sign * (mx.mean - my.mean),
                                std::sqrt(mx.sd * mx.sd / mx.n + my.sd * my.sd / my.n), conf);
  };
}

/// Which of a judge's records a measurement uses: all of them, or one breakdown group's. A group
/// carries its own records and comparisons, so that measuring every group of a judge costs one pass
/// over the judge's records in all (not one per group).
struct group_filter {
  enum class by { all, task, run } kind = by::all;
  std::uint32_t id = 0;
  std::span<const dataset::index> group_records;     // a group's records of the judge, in index order
  std::span<const std::uint32_t> group_comparisons;  // the judge's comparisons with a record in the group
  // Per group comparison k: its records in the group are group_comparison_records[record_at[k],
  // record_at[k + 1]), its swap pairs with both records in the group swaps[swap_at[k], swap_at[k + 1]).
  std::span<const std::size_t> record_at, swap_at;
  std::span<const dataset::index> group_comparison_records;
  std::span<const swap_pair> group_swaps;

  bool pass(const dataset& d, dataset::index i) const {
    switch (kind) {
      case by::all:
        return true;
      case by::task:
        return d.task(i) == id;
      case by::run:
        return d.run(i) == id;
    }
    return true;
  }
  /// The judge's records to look at (each still to be checked with pass() where a comparison's other
  /// records are reached through the comparison).
  std::span<const dataset::index> records(const dataset& d, std::uint32_t judge) const {
    return kind == by::all ? d.records_of_judge(judge) : group_records;
  }
  /// The judge's comparisons with at least one record in the group.
  std::span<const std::uint32_t> comparisons(const dataset& d, std::uint32_t judge) const {
    return kind == by::all ? d.comparisons_of_judge(judge) : group_comparisons;
  }
  /// The records in the group of the k-th of comparisons(): a group's cost is its own records, not
  /// its comparisons' (a run of a comparison repeated a million times).
  std::span<const dataset::index> comparison_records(const dataset& d, std::uint32_t judge,
                                                     std::size_t k) const {
    if (kind == by::all) return d.comparison_records(d.comparisons_of_judge(judge)[k]);
    return group_comparison_records.subspan(record_at[k], record_at[k + 1] - record_at[k]);
  }
  /// The swap pairs of the k-th of comparisons() whose two records are both in the group.
  std::span<const swap_pair> swap_pairs(const dataset& d, std::uint32_t judge, std::size_t k) const {
    if (kind == by::all) return d.swap_pairs_of(d.comparisons_of_judge(judge)[k]);
    return group_swaps.subspan(swap_at[k], swap_at[k + 1] - swap_at[k]);
  }
};

/// The `by` groups (tasks or runs) among one judge's records: the dataset's, built once for every module
/// when it was built with that breakdown (the pipeline's datasets are), else built here
/// (breakdown_groups, dataset.hpp).
class judge_groups {
 public:
  judge_groups(const dataset& d, std::uint32_t judge, breakdown by)
      : kind_(by == breakdown::task ? group_filter::by::task : group_filter::by::run),
        groups_(d.groups_of(judge, by)) {
    if (!groups_) groups_ = &own_.emplace(d, judge, by);
  }
  judge_groups(const judge_groups&) = delete;
  judge_groups& operator=(const judge_groups&) = delete;

  std::size_t size() const noexcept { return groups_->size(); }
  const std::string& name(std::size_t k) const { return groups_->name(k); }
  group_filter filter(std::size_t k) const {
    const breakdown_groups& g = *groups_;
    return group_filter{kind_,
                        g.id(k),
                        g.records(k),
                        g.comparisons(k),
                        g.record_at(k),
                        g.swap_at(k),
                        g.comparison_records(k),
                        g.swaps(k)};
  }

 private:
  group_filter::by kind_;
  const breakdown_groups* groups_;
  std::optional<breakdown_groups> own_;
};

/// Whether any record of a measured judge satisfies `pred` (stops at the first).
template <class Pred>
bool any_measured_record(const dataset& d, Pred&& pred) {
  for (std::uint32_t j : d.measured_judges())
    for (auto i : d.records_of_judge(j))
      if (pred(i)) return true;
  return false;
}

/// The records a bias measurement reads, as a range: of a list of a judge's records, those that are
/// control (unperturbed) records, not duplicates, of the mode asked for (both when nullopt) and in the
/// group. The one place that predicate is written.
class control_records {
 public:
  control_records(const dataset& d, std::span<const dataset::index> records, const group_filter& group,
                  std::optional<judgment_mode> mode)
      : d_(&d), records_(records), group_(&group), mode_(mode) {}

  class iterator {
   public:
    using value_type = dataset::index;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const control_records* range, std::size_t at) : range_(range), at_(at) { skip(); }
    dataset::index operator*() const { return range_->records_[at_]; }
    iterator& operator++() {
      ++at_;
      skip();
      return *this;
    }
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return at_ == o.at_; }

   private:
    void skip() {
      while (at_ < range_->records_.size() && !range_->wanted(range_->records_[at_])) ++at_;
    }
    const control_records* range_ = nullptr;
    std::size_t at_ = 0;
  };
  /// Iterators point into the range: use it in a range-for, or keep the range alive.
  iterator begin() const { return iterator(this, 0); }
  iterator end() const { return iterator(this, records_.size()); }

  /// Whether record i is one of them (for records reached through a comparison).
  bool wanted(dataset::index i) const {
    return (!mode_ || d_->mode(i) == *mode_) && d_->is_control(i) && !d_->is_duplicate(i) &&
           group_->pass(*d_, i);
  }

 private:
  const dataset* d_;
  std::span<const dataset::index> records_;
  const group_filter* group_;
  std::optional<judgment_mode> mode_;
};

/// One measurement's records: a measured judge, over all its records or one breakdown group's.
struct selection {
  std::uint32_t judge = 0;
  group_filter group;      ///< Which of the judge's records (all, or one --by group).
  std::string group_name;  ///< "" for all records, else "task=NAME" or "run=N" (names the random stream).

  /// Whether this is the judge's whole set of records (diagnostics are counted there only).
  bool all() const noexcept { return group.kind == group_filter::by::all; }
  /// The judge's control, non-duplicate records in the selection, of `mode` (both modes when nullopt).
  control_records controls(const dataset& d, std::optional<judgment_mode> mode) const {
    return control_records(d, group.records(d, judge), group, mode);
  }
  /// The judge's comparisons with a record in the selection.
  std::span<const std::uint32_t> comparisons(const dataset& d) const { return group.comparisons(d, judge); }
  /// The records in the selection of the k-th of comparisons(d), in index order.
  std::span<const dataset::index> comparison_records(const dataset& d, std::size_t k) const {
    return group.comparison_records(d, judge, k);
  }
  /// The swap pairs of the k-th of comparisons(d) whose two records are both in the selection.
  std::span<const swap_pair> swap_pairs(const dataset& d, std::size_t k) const {
    return group.swap_pairs(d, judge, k);
  }
  /// Whether record i (reached through a comparison) is in the selection's group.
  bool in_group(const dataset& d, dataset::index i) const { return group.pass(d, i); }
};

/// One scored unit of a comparison under a pair rule: a record on its own (rule each, or a record
/// whose other order is not in the selection), or a swap pair (the two orders in one run) scored as one.
struct scored_unit {
  std::uint32_t outcome = no_id;  ///< the candidate id picked, tie_outcome, or no_id (an extraction failure)
  dataset::index first = 0;       ///< the record, or the swap pair's record that shows `lo` first
  bool pair = false;              ///< a swap pair (then `second` is its other record)
  dataset::index second = 0;
};

/// The units of the k-th of s.comparisons(d) under `rule` (docs/metrics.md "pair rules"), appended to
/// `out` (the records that are units of their own first, in record order, then the swap pairs): with
/// `each` every record of the comparison in the selection; with
/// `conservative` (FastChat's MT-Bench rule) a swap pair picks an answer only when both orders pick it,
/// a tie in either order or a disagreement is a tie, a failure in either a failure; with `counter`
/// (JudgeBench's rule) each order adds +1 for the lower id, -1 for the other, 0 for a tie or a failure,
/// and the sign of the sum picks (0: a tie; two failures: a failure). Records in no swap pair are units
/// of their own under every rule.
void score_comparison(const dataset& d, const selection& s, std::size_t k, pair_rule rule,
                      std::vector<scored_unit>& out);

/// What one measurement reports (a metric_builder's take()): the judge's metrics in the order of its
/// JSON object (by first insertion: a by_opponent object where its first metric was put).
struct measurement {
  struct member {
    std::vector<std::string> path;  ///< {NAME}, {"by_opponent", MODEL, NAME}, or any other keys
    std::optional<metric> value;    ///< nullopt: an empty object (open() with nothing put under it)
  };
  std::vector<member> members;
};

/// Places a measurement in a section: its metrics as rows of `scope`, `judge` and `group` (names of
/// one, two or three keys), anything else as extras, under the JSON object at `object` (e.g.
/// {"judges", J}); an empty measurement is an empty object there.
void place(section_body& body, row_scope scope, const std::string& judge, const std::string& group,
           measurement&& m, const std::vector<std::string>& object);

/// Builds the metrics of one measurement (module, judge, breakdown group): each
/// value from its per-item sums at once; intervals either from the closed form (--bootstrap 0) or, at
/// take(), from one item bootstrap shared by all the builder's metrics: the items of all their tables are
/// resampled together, seeded from (seed, stream, judge, group) so that results do not depend on threads
/// or on other modules, and a metric over some of them reads the draws of its own.
class metric_builder {
 public:
  /// `stream` names the random stream: the module's name (and a kind, for one module's sub-sections).
  metric_builder(const config& cfg, std::string_view stream, std::string_view judge, std::string_view group)
      : cfg_(cfg), stream_(stream), judge_(judge), group_(group) {}
  metric_builder(const dataset& d, const config& cfg, std::string_view stream, const selection& s)
      : metric_builder(cfg, stream, d.judges().name(s.judge), s.group_name) {}

  /// The metric `name` (or at `path`, e.g. {"by_opponent", MODEL, "wr_gold"}): `stat` of the sums of
  /// `rows` (null with `empty_reason` when it has no value), over `n` units. Returns the metric, to add a
  /// p-value to; it is written at take(). With --bootstrap, the builder keeps a pointer to `rows` until
  /// its interval is computed (at resample() or take()): keep them alive and unchanged until then (it
  /// reads their totals once for every metric put over them until then).
  metric& put(std::vector<std::string> path, unit u, std::uint64_t n, const item_sums& rows,
              const stats::statistic& stat, const closed_form& closed, std::string_view empty_reason);
  metric& put(std::string name, unit u, std::uint64_t n, const item_sums& rows, const stats::statistic& stat,
              const closed_form& closed, std::string_view empty_reason) {
    return put(std::vector<std::string>{std::move(name)}, u, n, rows, stat, closed, empty_reason);
  }
  /// The same of several tables: `stat` reads their sums one after another, in the order given (a table
  /// may serve several metrics; the bootstrap resamples it once). The metric covers the items of all.
  metric& put(std::vector<std::string> path, unit u, std::uint64_t n, std::vector<const item_sums*> tables,
              const stats::statistic& stat, const closed_form& closed, std::string_view empty_reason);
  /// A metric computed another way (a model fit), with its own interval.
  metric& put(std::vector<std::string> path, metric m);
  metric& put(std::string name, metric m) {
    return put(std::vector<std::string>{std::move(name)}, std::move(m));
  }
  /// An object at `path` that is written even when nothing is put under it (an empty by_opponent).
  void open(std::vector<std::string> path);
  /// A table the module will not read again: if the bootstrap (at resample() or take()) resamples it (a
  /// table put with --bootstrap over two items or more), it releases its rows (item_sums::release_rows) as
  /// soon as it has copied them, so that the module's tables and the bootstrap's own matrix are not held
  /// whole at once. Its totals() and items() stay. Tables not resampled are left as they are.
  void hand_over(item_sums& rows) { handed_.emplace(&rows, &rows); }

  /// Computes the pending bootstrap intervals now rather than at take(), so that the tables handed over
  /// are freed before the module goes on (to a fit of its own). Metrics put afterwards are resampled at
  /// take() on the same stream: the same draws, when over the same items.
  void resample();
  /// Computes the pending bootstrap intervals and returns every metric put, in JSON order. A metric put
  /// again at the same path replaces the first in its place (a place kept with an empty metric).
  measurement take();

 private:
  struct entry {
    std::vector<std::string> path;
    metric value;
    std::vector<const item_sums*> rows;  // its tables while its bootstrap interval is pending
    stats::statistic stat;
    bool object = false;  // an open() object, no metric
  };
  void bootstrap();
  // The tables' totals one after another: a table held for the bootstrap (which stays alive and
  // unchanged until then, so that its address names it) from totals_, any other read now.
  std::vector<double> totals_of(const std::vector<const item_sums*>& tables) const;
  void keep_totals(const std::vector<const item_sums*>& tables, const std::vector<double>& all);
  const config& cfg_;
  std::string stream_, judge_, group_;
  std::deque<entry> entries_;                                // a deque: the metric& put returns stays valid
  std::unordered_map<const item_sums*, item_sums*> handed_;  // (a table put, as the one to release)
  // The totals of each table held for the bootstrap, with its version then: a table serves many metrics
  // (winrate's tallies 80 a judge). Emptied when the bootstrap runs.
  std::unordered_map<const item_sums*, std::pair<std::uint64_t, std::vector<double>>> totals_;
};

/// Adds `judges.JUDGE` = measure(selection of all its records) for every measured judge, in judge order.
/// `measure` takes a selection and returns a measurement (a metric_builder's take()).
template <class Measure>
void judges(section_body& body, const dataset& d, Measure&& measure) {
  if (d.measured_judges().empty()) body.extra({"judges"}, nlohmann::ordered_json::object());
  for (std::uint32_t j : d.measured_judges()) {
    selection s;
    s.judge = j;
    const std::string name(d.judges().name(j));
    place(body, row_scope::judge, name, "", measure(s), {"judges", name});
  }
}

/// Adds `overall` = a measurement over all judges together.
inline void overall(section_body& body, measurement m) {
  place(body, row_scope::overall, "", "", std::move(m), {"overall"});
}

/// The key of a breakdown's section: by_task or by_run.
inline std::string breakdown_key(breakdown by) {
  return "by_" + std::string(to_string(by));
}

/// Adds the `by_task` / `by_run` sections of cfg.by: `by_<by>.JUDGE.GROUP` = measure(selection of that
/// group) for every measured judge, groups sorted by name.
template <class Measure>
void breakdowns(section_body& body, const dataset& d, const config& cfg, Measure&& measure) {
  for (const breakdown by : cfg.by) {
    const std::string key = breakdown_key(by);
    const row_scope scope = by == breakdown::task ? row_scope::task : row_scope::run;
    if (d.measured_judges().empty()) body.extra({key}, nlohmann::ordered_json::object());
    for (std::uint32_t j : d.measured_judges()) {
      const std::string name(d.judges().name(j));
      const judge_groups groups(d, j, by);
      if (groups.size() == 0) body.extra({key, name}, nlohmann::ordered_json::object());
      for (std::size_t k = 0; k < groups.size(); ++k) {
        selection s{j, groups.filter(k), std::string(to_string(by)) + "=" + groups.name(k)};
        place(body, scope, name, groups.name(k), measure(s), {key, name, groups.name(k)});
      }
    }
  }
}

/// A per-judge module's section: `judges` (judges()), then its breakdowns (breakdowns()).
template <class Measure>
section_body per_judge(const dataset& d, const config& cfg, Measure&& measure) {
  section_body body;
  judges(body, d, measure);
  breakdowns(body, d, cfg, measure);
  return body;
}

/// Whose responses are a judge's own (METRICS.md §1): a candidate whose model is the record's judge model,
/// or is paired with it by `--self MODEL=JUDGE_MODEL` (many-to-many).
class ownership {
 public:
  ownership(const dataset& d, const config& cfg) {
    for (const auto& [model, judge_model] : cfg.self) {
      const std::uint32_t m = d.models().find(model), j = d.models().find(judge_model);
      if (m != no_id && j != no_id) pairs_.insert((std::uint64_t{m} << 32) | j);
    }
  }
  /// Whether a response by `model` is own for a judge of `judge_model` (never when the model is unknown).
  bool own(std::uint32_t model, std::uint32_t judge_model) const {
    return model != no_id &&
           (model == judge_model || pairs_.count((std::uint64_t{model} << 32) | judge_model) != 0);
  }

 private:
  std::unordered_set<std::uint64_t> pairs_;
};

/// Ratio of two sums, undefined when the denominator is 0.
inline std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}

}  // namespace judgebias::kit
