#pragma once
/// \file Statistics shared by all modules (METRICS.md, "Statistics"): a specified random generator,
/// the item-cluster percentile bootstrap, Wilson and t intervals, exact binomial and McNemar tests,
/// and the one-sample t-test.

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace judgebias::stats {

/// splitmix64 step: advances `state` and returns the next output.
std::uint64_t splitmix64(std::uint64_t& state) noexcept;

/// xoshiro256** (Blackman and Vigna), seeded through splitmix64; its output is fully specified.
class rng {
 public:
  explicit rng(std::uint64_t seed) noexcept;
  std::uint64_t next() noexcept;                  ///< Next 64 random bits.
  std::uint64_t below(std::uint64_t n) noexcept;  ///< Uniform in [0, n), n > 0 (Lemire's method).
  /// Uniform in [0, n), 0 < n < 2^32, from 32-bit halves of the outputs (low half first): two draws per
  /// output, for the bootstrap's many small draws.
  std::uint32_t below32(std::uint32_t n) noexcept;
  /// counts.size() draws of below32(counts.size()), each counted in counts (which it does not zero): the
  /// same draws and the same state after as that many calls of below32, in one tight loop.
  void count_below32(std::span<std::uint32_t> counts) noexcept;
  /// The same in 16-bit counts. Precondition: no count reaches 65,536 (fewer than 65,536 counts that start
  /// at zero never do); otherwise the counts wrap around.
  void count_below32(std::span<std::uint16_t> counts) noexcept;
  double uniform() noexcept;  ///< Uniform in [0, 1) with 53 random bits.
  double normal() noexcept;   ///< Standard normal (Box-Muller, no cached pair).

 private:
  template <class Count>
  void count_below32_into(std::span<Count> counts) noexcept;
  std::array<std::uint64_t, 4> s_{};
  std::uint64_t spare_ = 0;
  bool has_spare_ = false;
};

/// Seed of the random stream for one (module, judge, group, metric): the seed and the names hashed
/// (FNV-1a 64 with separators), so that adding a judge or a module changes no other interval.
std::uint64_t stream_seed(std::uint64_t seed, std::initializer_list<std::string_view> names) noexcept;

/// Linear-interpolation quantile (type 7) of sorted values, p in [0, 1].
double quantile_type7(std::span<const double> sorted, double p) noexcept;

/// Standard normal quantile.
double normal_quantile(double p) noexcept;
/// Student t quantile with df degrees of freedom.
double t_quantile(double p, double df) noexcept;
/// Regularised incomplete beta function I_x(a, b).
double incomplete_beta(double x, double a, double b) noexcept;

/// Wilson score interval for k successes in n trials.
std::optional<std::array<double, 2>> wilson_interval(double k, double n, double confidence) noexcept;
/// t interval for a mean from its sample sd and n (needs n >= 2).
std::optional<std::array<double, 2>> t_interval(double mean, double sd, double n, double confidence) noexcept;
/// Wald interval value ± z·se.
std::array<double, 2> wald_interval(double value, double se, double confidence) noexcept;
/// The standard error an interval [lo, hi] at `confidence` implies, read as value ± z·se: (hi − lo) / (2z).
double interval_se(const std::array<double, 2>& ci, double confidence) noexcept;
/// The minimum detectable effect: the smallest distance from the null that a two-sided level-alpha z
/// test detects with probability `power`, (z_{1−alpha/2} + z_{power})·se.
double detectable_effect(double se, double alpha, double power) noexcept;

/// Exact two-sided binomial test of k successes in n trials against probability p (R's method:
/// sum of the outcomes no more likely than the observed one).
double binomial_test(std::uint64_t k, std::uint64_t n, double p = 0.5) noexcept;
/// Exact McNemar test: two-sided binomial test of b against b + c discordant pairs at 1/2.
double mcnemar_exact(std::uint64_t b, std::uint64_t c) noexcept;
/// Two-sided one-sample t-test of mean 0; nullopt with fewer than 2 values.
std::optional<double> t_test_one_sample(std::span<const double> values) noexcept;
/// A p-value floored at the smallest positive double, never 0 (METRICS.md).
double floor_p(double p) noexcept;

/// Per-item sufficient statistics: one row of `width` sums per item (cluster). Rows live in chunks of 16,
/// 32, 64... rows, each row zeroed as it is added: a row never moves once added, growing copies nothing,
/// and a chunk's memory is not touched beyond the rows added.
class cluster_sums {
 public:
  explicit cluster_sums(std::size_t width) : width_(width) {}
  cluster_sums(const cluster_sums& other);
  cluster_sums& operator=(const cluster_sums& other);
  cluster_sums(cluster_sums&& other) noexcept
      : width_(other.width_), rows_(std::exchange(other.rows_, 0)), chunks_(std::move(other.chunks_)) {
    other.chunks_.clear();
  }
  cluster_sums& operator=(cluster_sums&& other) noexcept {
    width_ = other.width_;
    rows_ = std::exchange(other.rows_, 0);
    chunks_ = std::move(other.chunks_);
    other.chunks_.clear();
    return *this;
  }
  ~cluster_sums() = default;
  std::size_t width() const noexcept { return width_; }
  std::size_t rows() const noexcept { return rows_; }
  /// Appends a zeroed row and returns it.
  double* add_row();
  double* row(std::size_t r) noexcept { return at(r); }
  const double* row(std::size_t r) const noexcept { return at(r); }
  /// Column sums over all rows, in row order.
  std::vector<double> totals() const;

 private:
  static constexpr unsigned first_chunk_bits = 4;  // the first chunk holds 16 rows, each next one twice
  double* at(std::size_t r) const noexcept {
    const std::size_t q = r + (std::size_t{1} << first_chunk_bits);
    const auto k = static_cast<std::size_t>(std::bit_width(q)) - 1;  // q is in [2^k, 2^(k+1))
    return chunks_[k - first_chunk_bits].get() + (q - (std::size_t{1} << k)) * width_;
  }
  struct chunk_free {
    void operator()(double* p) const noexcept;
  };
  std::size_t width_;
  std::size_t rows_ = 0;
  std::vector<std::unique_ptr<double[], chunk_free>> chunks_;
};

/// A metric computed from summed rows; nullopt where it is undefined.
using statistic = std::function<std::optional<double>(std::span<const double> sums)>;

/// Options of the bootstrap.
struct bootstrap_options {
  std::uint32_t resamples = 1000;
  double confidence = 0.95;
  unsigned threads = 1;                     ///< Results do not depend on it.
  const std::atomic<bool>* stop = nullptr;  ///< config::stop: checked before each batch of resamples.
};

/// An interval, or the reason there is none.
struct interval_result {
  std::optional<std::array<double, 2>> ci;
  std::string reason;
};

/// Percentile bootstrap over the rows (items). Resample b draws from its own generator seeded from
/// `stream` and b, so the result is the same whatever the thread count. More than 1 % undefined
/// resamples gives no interval.
interval_result bootstrap_interval(const cluster_sums& rows, const statistic& stat,
                                   const bootstrap_options& options, std::uint64_t stream);

/// Resample b of the cluster bootstrap seeded by `stream`: how many times each of counts.size()
/// clusters is drawn (counts.size() draws with replacement, from a generator seeded from stream + b).
/// Every bootstrap of the library draws this way.
void resample_counts(std::uint64_t stream, std::uint64_t b, std::span<std::uint32_t> counts) noexcept;
/// The same in 16-bit counts. Precondition: fewer than 65,536 clusters (no count can then reach 65,536).
void resample_counts(std::uint64_t stream, std::uint64_t b, std::span<std::uint16_t> counts) noexcept;
/// Resamples first .. first + rows − 1 of `stream` side by side (four at a time where the CPU has AVX2),
/// the same counts as resample_counts gives each: resample first + r's in counts[r·n, (r + 1)·n), n =
/// counts.size() / rows.
void resample_counts(std::uint64_t stream, std::uint64_t first, std::size_t rows,
                     std::span<std::uint32_t> counts) noexcept;
/// The same in 16-bit counts, modulo 2^16: from 65,536 clusters a count may wrap around (its row then
/// adds up to less than n).
void resample_counts(std::uint64_t stream, std::uint64_t first, std::size_t rows,
                     std::span<std::uint16_t> counts) noexcept;

/// The percentile interval of resampled values at `confidence` (type 7), NaN values being resamples
/// where the statistic is undefined; no interval when more than 1 % are.
struct percentile_result {
  std::optional<std::array<double, 2>> ci;
  std::size_t undefined = 0;  ///< The NaN values.
};
percentile_result percentile_interval(std::span<const double> values, double confidence);

/// A table of per-cluster sums taking part in a shared resampling: row r belongs to cluster
/// cluster_of_row[r] (clusters without a row contribute nothing to this table). `release`, when set, is
/// called as soon as the bootstrap no longer reads `rows` (their columns are in its own matrix), so that
/// the caller can free them before the matrix is complete rather than hold both.
struct bootstrap_table {
  const cluster_sums* rows = nullptr;
  std::vector<std::uint32_t> cluster_of_row;
  std::function<void()> release;
};
/// A statistic of one table's sums, or of several tables' one after another (`table`'s, then those of
/// `then` in order).
struct bootstrap_statistic {
  std::size_t table = 0;
  statistic fn;
  std::vector<std::size_t> then = {};
};

/// Percentile bootstrap of several statistics over one shared resampling of `clusters` clusters: each
/// resample draws `clusters` clusters with replacement once, and every table's sums and every statistic
/// are computed from that draw. Resample b uses a generator seeded from `stream` and b; resamples are
/// processed in fixed batches, so the result is bit-identical whatever the thread count.
std::vector<interval_result> bootstrap_intervals(std::size_t clusters,
                                                 const std::vector<bootstrap_table>& tables,
                                                 const std::vector<bootstrap_statistic>& statistics,
                                                 const bootstrap_options& options, std::uint64_t stream);

}  // namespace judgebias::stats
