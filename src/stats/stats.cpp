#include "judgebias/stats.hpp"
#include "judgebias/error.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <new>
#include <numbers>
#include <optional>
#include <thread>
#include <unordered_map>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "stats/weighted_sums.hpp"

namespace judgebias::stats {

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

rng::rng(std::uint64_t seed) noexcept {
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t rng::next() noexcept {
  auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

namespace {
__extension__ typedef unsigned __int128 u128;  // a GCC/Clang extension; -Wpedantic knows it is intended
}  // namespace

std::uint64_t rng::below(std::uint64_t n) noexcept {
  // Lemire's nearly divisionless method with rejection: exact and specified.
  u128 m = static_cast<u128>(next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<u128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::uint32_t rng::below32(std::uint32_t n) noexcept {
  auto bits = [this]() -> std::uint32_t {
    if (has_spare_) {
      has_spare_ = false;
      return static_cast<std::uint32_t>(spare_ >> 32);
    }
    spare_ = next();
    has_spare_ = true;
    return static_cast<std::uint32_t>(spare_);
  };
  std::uint64_t m = std::uint64_t{bits()} * n;
  auto low = static_cast<std::uint32_t>(m);
  if (low < n) {
    const std::uint32_t threshold = (0u - n) % n;
    while (low < threshold) {
      m = std::uint64_t{bits()} * n;
      low = static_cast<std::uint32_t>(m);
    }
  }
  return static_cast<std::uint32_t>(m >> 32);
}

namespace {

// Draws below n from the xoshiro256** state s, from its next output, until `draws` are counted in counts:
// a draw is rejected when its low word is below 2^32 mod n (< n, so this is below32's test) and the next
// half draws again; each 64-bit output gives two 32-bit halves, the low one first, taken one after the
// other without a flag between them (the state in locals). Returns the last output when its high half is
// left over (the last draw was its low half).
template <class Count>
std::optional<std::uint64_t> count_draws(std::array<std::uint64_t, 4>& s, std::uint32_t n,
                                         std::uint32_t draws, Count* counts) noexcept {
  const std::uint32_t threshold = (0u - n) % n;
  std::uint64_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
  auto take = [&](std::uint32_t half) -> std::uint32_t {  // 1 when drawn, 0 when rejected
    const std::uint64_t m = std::uint64_t{half} * n;
    if (static_cast<std::uint32_t>(m) < threshold) [[unlikely]]
      return 0;
    ++counts[static_cast<std::uint32_t>(m >> 32)];
    return 1;
  };
  std::optional<std::uint64_t> left;
  for (std::uint32_t drawn = 0; drawn < draws;) {
    const std::uint64_t word = std::rotl(s1 * 5, 7) * 9, t = s1 << 17;
    s2 ^= s0, s3 ^= s1, s1 ^= s2, s0 ^= s3, s2 ^= t, s3 = std::rotl(s3, 45);
    drawn += take(static_cast<std::uint32_t>(word));
    if (drawn == draws) {
      left = word;
      break;
    }
    drawn += take(static_cast<std::uint32_t>(word >> 32));
  }
  s = {s0, s1, s2, s3};
  return left;
}

}  // namespace

template <class Count>
void rng::count_below32_into(std::span<Count> counts) noexcept {
  const auto n = static_cast<std::uint32_t>(counts.size());
  if (n == 0) return;
  std::uint32_t drawn = 0;
  if (has_spare_) {  // below32's draw from the half left over first
    has_spare_ = false;
    const std::uint64_t m = (spare_ >> 32) * n;
    if (static_cast<std::uint32_t>(m) >= (0u - n) % n) ++counts[static_cast<std::uint32_t>(m >> 32)], ++drawn;
  }
  if (const auto left = count_draws(s_, n, n - drawn, counts.data())) spare_ = *left, has_spare_ = true;
}

void rng::count_below32(std::span<std::uint32_t> counts) noexcept {
  count_below32_into(counts);
}

void rng::count_below32(std::span<std::uint16_t> counts) noexcept {
  assert(counts.size() <= 0xFFFF);
  count_below32_into(counts);
}

double rng::uniform() noexcept {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double rng::normal() noexcept {
  const double u1 = 1.0 - uniform();  // (0, 1]
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::uint64_t stream_seed(std::uint64_t seed, std::initializer_list<std::string_view> names) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ull;
  };
  for (auto name : names) {
    for (char c : name) mix(static_cast<unsigned char>(c));
    mix(0);  // separator: ("ab","c") differs from ("a","bc")
  }
  std::uint64_t state = seed ^ h;
  return splitmix64(state);
}

double quantile_type7(std::span<const double> x, double p) noexcept {
  if (x.empty()) return std::nan("");
  const double h = (static_cast<double>(x.size()) - 1) * p;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]);
}

namespace {

// ln Γ(x) (x > 0 here). glibc's lgamma also writes the sign to a global, signgam, on which modules that
// run side by side would race; lgamma_r writes it to a local. The same value either way.
double log_gamma(double x) noexcept {
#if defined(__GLIBC__)
  int sign = 0;
  return ::lgamma_r(x, &sign);
#else
  return std::lgamma(x);
#endif
}

// Continued fraction of the incomplete beta (modified Lentz).
double beta_fraction(double x, double a, double b) noexcept {
  constexpr double tiny = 1e-300, eps = 1e-16;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double f = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + num * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    f *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + num * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + num / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    f *= delta;
    if (std::fabs(delta - 1.0) < eps) break;
  }
  return f;
}

double normal_cdf(double x) noexcept {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

// Upper tail P(T > t) of Student's t, t >= 0.
double t_upper(double t, double df) noexcept {
  return 0.5 * incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
}

// Bisection of a monotone increasing function on [lo, hi].
template <class F>
double invert(F f, double target, double lo, double hi) noexcept {
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (f(mid) < target)
      lo = mid;
    else
      hi = mid;
    if (hi - lo < 1e-13 * std::max(1.0, std::fabs(mid))) break;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

double incomplete_beta(double x, double a, double b) noexcept {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * std::log(x) + b * std::log1p(-x);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(x, a, b) / a;
  return 1.0 - front * beta_fraction(1.0 - x, b, a) / b;
}

double normal_quantile(double p) noexcept {
  if (p <= 0) return -std::numeric_limits<double>::infinity();
  if (p >= 1) return std::numeric_limits<double>::infinity();
  return invert(normal_cdf, p, -40.0, 40.0);
}

double t_quantile(double p, double df) noexcept {
  if (p == 0.5) return 0;
  if (p < 0.5) return -t_quantile(1.0 - p, df);
  // P(T <= t) = 1 - upper(t), increasing in t.
  return invert([df](double t) { return 1.0 - t_upper(t, df); }, p, 0.0, 1e7);
}

std::optional<std::array<double, 2>> wilson_interval(double k, double n, double confidence) noexcept {
  if (n <= 0) return std::nullopt;
  const double z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
  const double p = k / n, z2 = z * z;
  const double denom = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denom;
  return std::array<double, 2>{std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::optional<std::array<double, 2>> t_interval(double mean, double sd, double n,
                                                double confidence) noexcept {
  if (n < 2 || !std::isfinite(sd)) return std::nullopt;
  const double t = t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1.0);
  const double half = t * sd / std::sqrt(n);
  return std::array<double, 2>{mean - half, mean + half};
}

std::array<double, 2> wald_interval(double value, double se, double confidence) noexcept {
  const double z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
  return {value - z * se, value + z * se};
}

double interval_se(const std::array<double, 2>& ci, double confidence) noexcept {
  return (ci[1] - ci[0]) / (2 * normal_quantile(0.5 + confidence / 2));
}

double detectable_effect(double se, double alpha, double power) noexcept {
  return (normal_quantile(1 - alpha / 2) + normal_quantile(power)) * se;
}

double floor_p(double p) noexcept {
  if (!(p > 0)) return std::numeric_limits<double>::denorm_min();
  if (p > 1.0 - 1e-12) return 1.0;  // rounding in lgamma leaves 0.9999999999999999 for a p of 1
  return p;
}

double binomial_test(std::uint64_t k, std::uint64_t n, double p) noexcept {
  if (n == 0) return 1.0;
  if (p == 0.5) {
    // Symmetric: the outcomes no more likely than k are the two tails beyond min(k, n − k), so
    // p = 2·P(X ≤ m). Summed from m downwards until the terms stop mattering: O(sqrt n), not O(n).
    const std::uint64_t m = std::min(k, n - k);
    if (2 * m == n) return 1.0;
    const double dn = static_cast<double>(n);
    double log_term = log_gamma(dn + 1) - log_gamma(static_cast<double>(m) + 1) -
                      log_gamma(dn - static_cast<double>(m) + 1) - dn * std::log(2.0);
    double term = 1.0, sum = 0.0;  // relative to the term at m
    for (std::uint64_t i = m + 1; i-- > 0;) {
      sum += term;
      if (term < 1e-17 * sum) break;
      term *= static_cast<double>(i) / (dn - static_cast<double>(i) + 1);
    }
    return floor_p(2.0 * std::exp(log_term + std::log(sum)));
  }
  const double dn = static_cast<double>(n);
  auto log_pmf = [&](std::uint64_t i) {
    const double di = static_cast<double>(i);
    return log_gamma(dn + 1) - log_gamma(di + 1) - log_gamma(dn - di + 1) + di * std::log(p) +
           (dn - di) * std::log1p(-p);
  };
  const double observed = log_pmf(k);
  const double relative = std::log1p(1e-7);
  // Sum in log space relative to the observed term so that tiny p-values keep their exponent.
  double sum = 0;
  for (std::uint64_t i = 0; i <= n; ++i) {
    const double lp = log_pmf(i);
    if (lp <= observed + relative) sum += std::exp(lp - observed);
  }
  return floor_p(std::exp(observed + std::log(sum)));
}

double mcnemar_exact(std::uint64_t b, std::uint64_t c) noexcept {
  return binomial_test(b, b + c, 0.5);
}

std::optional<double> t_test_one_sample(std::span<const double> v) noexcept {
  if (v.size() < 2) return std::nullopt;
  const double n = static_cast<double>(v.size());
  double mean = 0;
  for (double x : v) mean += x;
  mean /= n;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / (n - 1));
  if (sd == 0) return mean == 0 ? 1.0 : floor_p(0);
  const double t = std::fabs(mean) / (sd / std::sqrt(n));
  return floor_p(2.0 * t_upper(t, n - 1));
}

void cluster_sums::chunk_free::operator()(double* p) const noexcept {
  std::free(p);  // NOLINT(cppcoreguidelines-no-malloc): the chunks come from malloc
}

double* cluster_sums::add_row() {
  if (rows_ + (std::size_t{1} << first_chunk_bits) >=
      (std::size_t{1} << (first_chunk_bits + chunks_.size()))) {
    const std::size_t chunk_rows = std::size_t{1} << (first_chunk_bits + chunks_.size());
    // malloc, each row zeroed as it is added: a chunk's pages are touched only as rows reach them (calloc
    // would clear the whole chunk when it reuses memory a thread's arena had before).
    auto* p = static_cast<double*>(std::malloc(chunk_rows * std::max<std::size_t>(width_, 1) *
                                               sizeof(double)));  // NOLINT(cppcoreguidelines-no-malloc)
    std::unique_ptr<double[], chunk_free> chunk(p);
    if (!chunk) throw std::bad_alloc();
    chunks_.push_back(std::move(chunk));
  }
  double* row = at(rows_++);
  std::fill_n(row, width_, 0.0);
  return row;
}

cluster_sums::cluster_sums(const cluster_sums& other) : width_(other.width_) {
  for (std::size_t r = 0; r < other.rows_; ++r) std::copy_n(other.row(r), width_, add_row());
}

cluster_sums& cluster_sums::operator=(const cluster_sums& other) {
  if (this != &other) *this = cluster_sums(other);
  return *this;
}

std::vector<double> cluster_sums::totals() const {
  std::vector<double> t(width_, 0.0);
  for (std::size_t r = 0; r < rows_; ++r) {
    const double* x = row(r);
    for (std::size_t k = 0; k < width_; ++k) t[k] += x[k];
  }
  return t;
}

interval_result bootstrap_interval(const cluster_sums& rows, const statistic& stat,
                                   const bootstrap_options& options, std::uint64_t stream) {
  std::vector<bootstrap_table> tables(1);
  tables[0].rows = &rows;
  tables[0].cluster_of_row.resize(rows.rows());
  for (std::size_t r = 0; r < rows.rows(); ++r) tables[0].cluster_of_row[r] = static_cast<std::uint32_t>(r);
  return bootstrap_intervals(rows.rows(), tables, {bootstrap_statistic{0, stat}}, options, stream).front();
}

namespace {

// The columns of a bootstrap's tables that its product needs (column k of table t is column
// offset[t] + k): each sum is computed on its own, so a column equal to an earlier one (a count that two
// tables share; the gold's n when every unit has gold) need not be summed again, and a column of zeros
// sums to zero. Two columns are taken as equal when their tables put their rows in the same clusters and
// their values are equal bit for bit, row by row. Column c's sums are those of kept column at[c], or 0
// where at[c] is `zero`; `kept` lists the kept columns in order.
struct needed_columns {
  static constexpr std::size_t zero = static_cast<std::size_t>(-1);
  std::vector<std::size_t> kept, at;
};
needed_columns find_needed_columns(const std::vector<bootstrap_table>& tables,
                                   const std::vector<std::size_t>& offset) {
  const std::size_t columns = offset.back();
  std::vector<std::uint64_t> hash(columns, 0xcbf29ce484222325ull);
  std::vector<char> nonzero(columns, 0);
  std::vector<std::size_t> table_of(columns);
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const cluster_sums& rows = *tables[t].rows;
    for (std::size_t k = 0; k < rows.width(); ++k) table_of[offset[t] + k] = t;
    for (std::size_t r = 0; r < rows.rows(); ++r)
      for (std::size_t k = 0; k < rows.width(); ++k) {
        const double x = rows.row(r)[k];
        std::uint64_t& h = hash[offset[t] + k];  // the high bits folded down, so whole numbers mix too
        h = (h + std::bit_cast<std::uint64_t>(x)) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 32;
        if (x != 0) nonzero[offset[t] + k] = 1;
      }
  }
  auto equal = [&](std::size_t c, std::size_t e) {
    const std::size_t t = table_of[c], u = table_of[e];
    if (t != u && tables[t].cluster_of_row != tables[u].cluster_of_row) return false;
    const cluster_sums &a = *tables[t].rows, &b = *tables[u].rows;
    const std::size_t i = c - offset[t], j = e - offset[u];
    for (std::size_t r = 0; r < a.rows(); ++r)
      if (std::bit_cast<std::uint64_t>(a.row(r)[i]) != std::bit_cast<std::uint64_t>(b.row(r)[j]))
        return false;
    return true;
  };
  needed_columns out;
  out.at.assign(columns, needed_columns::zero);
  std::unordered_multimap<std::uint64_t, std::size_t> seen;  // hash -> a kept column
  for (std::size_t c = 0; c < columns; ++c) {
    if (!nonzero[c]) continue;
    auto [it, end] = seen.equal_range(hash[c]);
    while (it != end && !equal(c, it->second)) ++it;
    if (it != end) {
      out.at[c] = out.at[it->second];
    } else {
      seen.emplace(hash[c], c);
      out.at[c] = out.kept.size();
      out.kept.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<interval_result> bootstrap_intervals(std::size_t clusters,
                                                 const std::vector<bootstrap_table>& tables,
                                                 const std::vector<bootstrap_statistic>& statistics,
                                                 const bootstrap_options& options, std::uint64_t stream) {
  std::vector<interval_result> out(statistics.size());
  const std::uint32_t resamples = options.resamples;
  if (clusters == 0 || resamples == 0) {
    for (auto& o : out) o.reason = "no data to resample";
    return out;
  }
  const auto n = static_cast<std::uint32_t>(clusters);
  // The columns the product needs (find_needed_columns) side by side in one cluster × column matrix,
  // padded to a multiple of 8 columns, so that a batch of resamples is one product: sums (batch ×
  // columns) = counts (batch × clusters) · table (clusters × columns), each sum added up in cluster order
  // (detail::add_weighted_sums).
  std::vector<std::size_t> offset(tables.size() + 1, 0);
  for (std::size_t t = 0; t < tables.size(); ++t) offset[t + 1] = offset[t] + tables[t].rows->width();
  const needed_columns needed = find_needed_columns(tables, offset);
  const std::size_t kept = (needed.kept.size() + 7) / 8 * 8;
  // The matrix (detail::panel_table) takes memory as it is filled, a panel of 8 columns at a time, and
  // each table is released once its last kept column is in: a table's kept columns come after those of
  // the tables before it, so that the tables and the matrix are not held whole at once.
  constexpr std::size_t panel_width = detail::panel_table::columns;
  std::vector<std::vector<std::pair<std::size_t, std::size_t>>> copied(tables.size());  // (column, kept)
  for (std::size_t t = 0; t < tables.size(); ++t)
    for (std::size_t k = 0; k < tables[t].rows->width(); ++k)
      if (const std::size_t c = offset[t] + k;
          needed.at[c] != needed_columns::zero && needed.kept[needed.at[c]] == c)
        copied[t].emplace_back(k, needed.at[c]);
  auto release = [&](std::size_t t) {
    if (tables[t].release) tables[t].release();
  };
  detail::panel_table matrix(n, kept);
  std::size_t first = 0;  // the first table not yet released
  for (std::size_t p = 0; p < kept / panel_width; ++p) {
    for (std::size_t t = first; t < tables.size(); ++t) {
      if (!copied[t].empty() && copied[t].front().second / panel_width > p) break;  // (and those after)
      const auto from = std::find_if(copied[t].begin(), copied[t].end(),
                                     [&](const auto& c) { return c.second / panel_width == p; });
      const auto to =
          std::find_if(from, copied[t].end(), [&](const auto& c) { return c.second / panel_width > p; });
      if (from == to) continue;
      const cluster_sums& rows = *tables[t].rows;
      for (std::size_t r = 0; r < rows.rows(); ++r)  // (a sum takes its rows' values in row order)
        for (auto c = from; c != to; ++c)
          matrix.at(tables[t].cluster_of_row[r], c->second) += rows.row(r)[c->first];
    }
    matrix.pack(p);  // (small whole numbers, as counts and tallies nearly always are: exact and faster)
    // (A table's kept columns are in increasing order: it is done after the panel of its last one.)
    while (first < tables.size() && (copied[first].empty() || copied[first].back().second / panel_width <= p))
      release(first++);
  }
  for (; first < tables.size(); ++first) release(first);  // (no column kept: every column zero)
  // The product reads the matrix once per batch of resamples, so batches are as large as their weights'
  // memory allows; the sums do not depend on the batch.
  const std::size_t batch = detail::resampled_sums::batch_size(n);
  const std::size_t batches = (resamples + batch - 1) / batch;
  std::vector<std::vector<double>> values(statistics.size(), std::vector<double>(resamples, std::nan("")));
  auto work = [&](std::size_t first_batch, std::size_t last_batch) {
    detail::resampled_sums resampled(n, batch);
    std::vector<double> row(offset.back()), joined;  // every table's sums (their rows may be released)
    for (std::size_t bb = first_batch; bb < last_batch; ++bb) {
      throw_if_stopped(options.stop);
      const std::size_t start = bb * batch, m = std::min<std::size_t>(batch, resamples - start);
      const std::span<const double> sums = resampled.of(stream, start, m, matrix);
      for (std::size_t b = 0; b < m; ++b) {
        for (std::size_t k = 0; k < row.size(); ++k) {
          const std::size_t at = needed.at[k];
          row[k] = at == needed_columns::zero ? 0.0 : sums[b * kept + at];
        }
        auto of = [&](std::size_t t) {
          return std::span<const double>(row).subspan(offset[t], offset[t + 1] - offset[t]);
        };
        for (std::size_t s = 0; s < statistics.size(); ++s) {
          std::span<const double> in = of(statistics[s].table);
          if (!statistics[s].then.empty()) {
            joined.assign(in.begin(), in.end());
            for (const std::size_t t : statistics[s].then)
              joined.insert(joined.end(), of(t).begin(), of(t).end());
            in = joined;
          }
          if (auto v = statistics[s].fn(in); v && std::isfinite(*v)) values[s][start + b] = *v;
        }
      }
    }
  };
  const std::size_t threads = std::max<std::size_t>(1, std::min<std::size_t>(options.threads, batches));
  if (threads == 1 || static_cast<double>(n) * resamples < 2e5) {
    work(0, batches);
  } else {
    detail::parallel_for(threads,
                         [&](std::size_t t) { work(batches * t / threads, batches * (t + 1) / threads); });
  }
  for (std::size_t s = 0; s < statistics.size(); ++s) {
    const percentile_result p = percentile_interval(values[s], options.confidence);
    out[s].ci = p.ci;
    if (!p.ci)
      out[s].reason = fmt::format("bootstrap: the metric is undefined in {} of {} resamples (more than 1%)",
                                  p.undefined, resamples);
  }
  return out;
}

namespace {

// Resample `first + lane`'s generator state, as resample_counts seeds it.
std::array<std::uint64_t, 4> resample_state(std::uint64_t stream, std::uint64_t b) noexcept {
  std::uint64_t state = stream + b;
  std::uint64_t seed = splitmix64(state);
  std::array<std::uint64_t, 4> s{};
  for (auto& word : s) word = splitmix64(seed);
  return s;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Four resamples' draws side by side, one generator per 64-bit lane: n / 2 outputs of each (both halves
// of each drawn, unless rejected), then each lane's last draws one at a time from its state. Each lane
// draws exactly what its own loop would: a lane's halves come in the same order, and only which lane's
// count goes up first differs.
template <class Count>
[[gnu::target("avx2")]] void count_draws_avx2(std::array<std::array<std::uint64_t, 4>, 4>& s, std::uint32_t n,
                                              Count* const* counts) noexcept {
  alignas(32) std::uint64_t words[4][4];  // word k of each lane's state
  for (std::size_t l = 0; l < 4; ++l)
    for (std::size_t k = 0; k < 4; ++k) words[k][l] = s[l][k];
  __m256i s0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[0]));
  __m256i s1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[1]));
  __m256i s2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[2]));
  __m256i s3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(words[3]));
  const std::uint32_t below = (0u - n) % n;  // a half whose product's low word is below it is rejected
  const __m256i times = _mm256_set1_epi64x(n), low32 = _mm256_set1_epi64x(0xFFFFFFFF);
  const __m256i threshold = _mm256_set1_epi64x(below);
  std::array<std::uint32_t, 4> rejected{};
  Count *const c0 = counts[0], *const c1 = counts[1], *const c2 = counts[2], *const c3 = counts[3];
  for (std::uint32_t step = 0; step < n / 2; ++step) {
    __m256i x = _mm256_add_epi64(s1, _mm256_slli_epi64(s1, 2));              // s1 · 5
    x = _mm256_or_si256(_mm256_slli_epi64(x, 7), _mm256_srli_epi64(x, 57));  // rotl 7
    const __m256i word = _mm256_add_epi64(x, _mm256_slli_epi64(x, 3));       // · 9
    const __m256i t = _mm256_slli_epi64(s1, 17);
    s2 = _mm256_xor_si256(s2, s0), s3 = _mm256_xor_si256(s3, s1);
    s1 = _mm256_xor_si256(s1, s2), s0 = _mm256_xor_si256(s0, s3);
    s2 = _mm256_xor_si256(s2, t);
    s3 = _mm256_or_si256(_mm256_slli_epi64(s3, 45), _mm256_srli_epi64(s3, 19));  // rotl 45
    const __m256i m_lo = _mm256_mul_epu32(word, times);                          // low half · n
    const __m256i m_hi = _mm256_mul_epu32(_mm256_srli_epi64(word, 32), times);   // high half · n
    const __m256i reject = _mm256_or_si256(_mm256_cmpgt_epi64(threshold, _mm256_and_si256(m_lo, low32)),
                                           _mm256_cmpgt_epi64(threshold, _mm256_and_si256(m_hi, low32)));
    if (_mm256_testz_si256(reject, reject)) [[likely]] {
      // Each lane's two cluster numbers in one 64-bit word (the products' high halves), taken out of
      // the registers (a store then narrower loads would stall on the store's forwarding).
      const __m256i both = _mm256_or_si256(_mm256_srli_epi64(m_lo, 32), _mm256_andnot_si256(low32, m_hi));
      const __m128i l01 = _mm256_castsi256_si128(both), l23 = _mm256_extracti128_si256(both, 1);
      const auto w0 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(l01));
      const auto w1 = static_cast<std::uint64_t>(_mm_extract_epi64(l01, 1));
      const auto w2 = static_cast<std::uint64_t>(_mm_cvtsi128_si64(l23));
      const auto w3 = static_cast<std::uint64_t>(_mm_extract_epi64(l23, 1));
      ++c0[static_cast<std::uint32_t>(w0)], ++c0[w0 >> 32];
      ++c1[static_cast<std::uint32_t>(w1)], ++c1[w1 >> 32];
      ++c2[static_cast<std::uint32_t>(w2)], ++c2[w2 >> 32];
      ++c3[static_cast<std::uint32_t>(w3)], ++c3[w3 >> 32];
      continue;
    }
    alignas(32) std::uint64_t m[2][4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(m[0]), m_lo);
    _mm256_store_si256(reinterpret_cast<__m256i*>(m[1]), m_hi);
    for (std::size_t l = 0; l < 4; ++l)
      for (std::size_t h = 0; h < 2; ++h) {
        if (static_cast<std::uint32_t>(m[h][l]) < below) {
          ++rejected[l];
          continue;
        }
        ++counts[l][m[h][l] >> 32];
      }
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[0]), s0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[1]), s1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[2]), s2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(words[3]), s3);
  for (std::size_t l = 0; l < 4; ++l) {
    for (std::size_t k = 0; k < 4; ++k) s[l][k] = words[k][l];
    count_draws(s[l], n, n - (n / 2 * 2 - rejected[l]), counts[l]);  // (no half is left over)
  }
}

#endif

template <class Count>
void resample_rows(std::uint64_t stream, std::uint64_t first, std::size_t rows,
                   std::span<Count> counts) noexcept {
  if (rows == 0 || counts.empty()) {
    std::fill(counts.begin(), counts.end(), Count{0});
    return;
  }
  assert(counts.size() % rows == 0);
  const std::size_t n = counts.size() / rows;
  // Each row is zeroed just before its draws, so that it is still in the cache when they come (a whole
  // batch zeroed at once, 11 MiB at 185,185 items, would be out of it again).
  std::size_t r = 0;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (detail::cpu_has_avx2())
    for (; r + 4 <= rows; r += 4) {
      std::array<std::array<std::uint64_t, 4>, 4> s;
      Count* at[4];
      std::fill_n(counts.data() + r * n, 4 * n, Count{0});
      for (std::size_t l = 0; l < 4; ++l)
        s[l] = resample_state(stream, first + r + l), at[l] = counts.data() + (r + l) * n;
      count_draws_avx2(s, static_cast<std::uint32_t>(n), at);
    }
#endif
  for (; r < rows; ++r) {
    auto s = resample_state(stream, first + r);
    std::fill_n(counts.data() + r * n, n, Count{0});
    count_draws(s, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n), counts.data() + r * n);
  }
}

}  // namespace

void resample_counts(std::uint64_t stream, std::uint64_t b, std::span<std::uint32_t> counts) noexcept {
  resample_rows(stream, b, 1, counts);
}

void resample_counts(std::uint64_t stream, std::uint64_t b, std::span<std::uint16_t> counts) noexcept {
  assert(counts.size() <= 0xFFFF);
  resample_rows(stream, b, 1, counts);
}

void resample_counts(std::uint64_t stream, std::uint64_t first, std::size_t rows,
                     std::span<std::uint32_t> counts) noexcept {
  resample_rows(stream, first, rows, counts);
}

void resample_counts(std::uint64_t stream, std::uint64_t first, std::size_t rows,
                     std::span<std::uint16_t> counts) noexcept {
  resample_rows(stream, first, rows, counts);
}

percentile_result percentile_interval(std::span<const double> values, double confidence) {
  percentile_result r;
  std::vector<double> ok;
  ok.reserve(values.size());
  for (double v : values)
    if (!std::isnan(v)) ok.push_back(v);
  r.undefined = values.size() - ok.size();
  if (ok.empty() || r.undefined * 100 > values.size()) return r;
  std::sort(ok.begin(), ok.end());
  const double alpha = 1.0 - confidence;
  r.ci = std::array<double, 2>{quantile_type7(ok, alpha / 2.0), quantile_type7(ok, 1.0 - alpha / 2.0)};
  return r;
}

}  // namespace judgebias::stats
