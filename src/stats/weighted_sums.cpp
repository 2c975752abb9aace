// The bootstrap's resampled sums (weighted_sums.hpp): one register-blocked kernel, written once over a
// vector type and compiled twice, for AVX2 and for the portable baseline, the AVX2 one chosen at run
// time. The library is compiled with -ffp-contract=off (CMakeLists.txt): a product and a sum are never
// fused, so that both give the same bits. Packed panels (16-bit integers) are summed in integers, exactly,
// which gives the same bits again.
#include "stats/weighted_sums.hpp"

#include "judgebias/stats.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace judgebias::detail {
namespace {

// Vectors go by reference: a 32-byte vector passed by value outside AVX code changes the ABI.
template <class V>
[[gnu::always_inline]] inline void load(V& v, const double* p) {
  std::memcpy(&v, p, sizeof v);
}
template <class V>
[[gnu::always_inline]] inline void store(double* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

// A packed panel's sums over one chunk of clusters, for 4 resamples: `pairs` points at the chunk's first
// pair in the packed block, `len` clusters (odd only for a table's last chunk, whose last pair is padded
// with a zero cluster), w[q] at resample q's weight of the chunk's first cluster, s[q] at its sums of the
// panel's 8 columns. Two clusters' products and their sum in one instruction (pmaddwd: 16-bit × 16-bit,
// adjacent products added in 32 bits), both exact, then each column's sum times its step added to s[q].
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::always_inline]] inline std::int32_t weight_pair(const std::uint16_t* w) {
  std::int32_t v;  // w[0] in the low half, w[1] in the high one, as pmaddwd pairs them with the table
  std::memcpy(&v, w, sizeof v);
  return v;
}

[[gnu::always_inline]] inline void packed_sse2(const std::int16_t* pairs, std::size_t len,
                                               const std::uint16_t* const* w, const double* step,
                                               double* const* s) {
  __m128i a[4][2];
  for (auto& q : a) q[0] = q[1] = _mm_setzero_si128();
  std::size_t t = 0;
  for (; t + 2 <= len; t += 2, pairs += 16) {
    const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs));
    const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + 8));
    for (std::size_t q = 0; q < 4; ++q) {
      const __m128i c = _mm_set1_epi32(weight_pair(w[q] + t));
      a[q][0] = _mm_add_epi32(a[q][0], _mm_madd_epi16(c, r0));
      a[q][1] = _mm_add_epi32(a[q][1], _mm_madd_epi16(c, r1));
    }
  }
  if (t < len) {  // the padded pair: the cluster's weight alone (the high half 0)
    const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs));
    const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pairs + 8));
    for (std::size_t q = 0; q < 4; ++q) {
      const __m128i c = _mm_set1_epi32(w[q][t]);
      a[q][0] = _mm_add_epi32(a[q][0], _mm_madd_epi16(c, r0));
      a[q][1] = _mm_add_epi32(a[q][1], _mm_madd_epi16(c, r1));
    }
  }
  for (std::size_t q = 0; q < 4; ++q)
    for (std::size_t h = 0; h < 2; ++h) {
      const __m128d lo = _mm_cvtepi32_pd(a[q][h]), hi = _mm_cvtepi32_pd(_mm_unpackhi_epi64(a[q][h], a[q][h]));
      double* to = s[q] + 4 * h;
      _mm_storeu_pd(to, _mm_add_pd(_mm_loadu_pd(to), _mm_mul_pd(lo, _mm_loadu_pd(step + 4 * h))));
      _mm_storeu_pd(to + 2, _mm_add_pd(_mm_loadu_pd(to + 2), _mm_mul_pd(hi, _mm_loadu_pd(step + 4 * h + 2))));
    }
}

// to[k] += a[k] · step[k] for the 8 columns.
[[gnu::target("avx2"), gnu::always_inline]] inline void add_steps_avx2(const __m256i& a, const double* step,
                                                                       double* to) {
  const __m256d lo = _mm256_cvtepi32_pd(_mm256_castsi256_si128(a));
  const __m256d hi = _mm256_cvtepi32_pd(_mm256_extracti128_si256(a, 1));
  _mm256_storeu_pd(to, _mm256_add_pd(_mm256_loadu_pd(to), _mm256_mul_pd(lo, _mm256_loadu_pd(step))));
  _mm256_storeu_pd(to + 4,
                   _mm256_add_pd(_mm256_loadu_pd(to + 4), _mm256_mul_pd(hi, _mm256_loadu_pd(step + 4))));
}

[[gnu::target("avx2")]] void packed_avx2(const std::int16_t* pairs, std::size_t len,
                                         const std::uint16_t* const* w, const double* step,
                                         double* const* s) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  std::size_t t = 0;
  for (; t + 2 <= len; t += 2, pairs += 16) {
    const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pairs));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(weight_pair(w[0] + t)), r));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(weight_pair(w[1] + t)), r));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(weight_pair(w[2] + t)), r));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(weight_pair(w[3] + t)), r));
  }
  if (t < len) {  // the padded pair: the cluster's weight alone (the high half 0)
    const __m256i r = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pairs));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(_mm256_set1_epi32(w[0][t]), r));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(_mm256_set1_epi32(w[1][t]), r));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(_mm256_set1_epi32(w[2][t]), r));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(_mm256_set1_epi32(w[3][t]), r));
  }
  add_steps_avx2(a0, step, s[0]), add_steps_avx2(a1, step, s[1]);
  add_steps_avx2(a2, step, s[2]), add_steps_avx2(a3, step, s[3]);
}
#else
[[gnu::always_inline]] inline void packed_scalar(const std::int16_t* pairs, std::size_t len,
                                                 const std::uint16_t* const* w, const double* step,
                                                 double* const* s) {
  for (std::size_t q = 0; q < 4; ++q) {
    std::int64_t a[8] = {};
    for (std::size_t t = 0; t < len; ++t) {
      const std::int16_t* pair = pairs + t / 2 * 16 + t % 2;
      for (std::size_t k = 0; k < 8; ++k) a[k] += std::int64_t{w[q][t]} * pair[2 * k];
    }
    for (std::size_t k = 0; k < 8; ++k) s[q][k] += static_cast<double>(a[k]) * step[k];
  }
}
#endif

// The clusters go in chunks whose table rows stay in the first cache levels (about 64 KiB, at most
// max_chunk rows) while every resample of the batch reads them; each group of 4 resamples has its chunk's
// weights as doubles, and its running sums of 2 vectors of columns in registers across the chunk (a
// panel's 8 columns, or 4 of them in 2-lane vectors). A sum's terms are added in cluster order either way.
// A packed panel's chunk goes to packed_avx2 or packed_sse2 (exact) when the group's weights allow it
// (group_total: the largest total of its rows' weights, or the most a uint64 holds when one is 2^15 or more),
// else its values are multiplied and added as doubles, in the same order.
constexpr std::size_t max_chunk = 512;
template <class V>
[[gnu::always_inline]] inline void kernel(const std::uint16_t* weights, std::size_t clusters,
                                          std::size_t resamples, const panel_table& table, double* sums,
                                          const std::uint64_t* group_total) {
  constexpr std::size_t panel = panel_table::columns;
  const std::size_t width = table.width();
  constexpr std::size_t lanes = sizeof(V) / sizeof(double);
  bool any_double = false;
  for (std::size_t p = 0; p < width / panel; ++p) any_double |= !table.packed(p);
  // (A power of two, so that a chunk never straddles two of the table's blocks.)
  const std::size_t chunk = std::bit_floor(
      std::clamp<std::size_t>((std::size_t{64} << 10) / (width * sizeof(double)), 16, max_chunk));
  double w[4][max_chunk];
  for (std::size_t i0 = 0; i0 < clusters; i0 += chunk) {
    const std::size_t len = std::min(clusters - i0, chunk);
    const std::size_t b0 = i0 / panel_table::block_rows, in_block = i0 - b0 * panel_table::block_rows;
    for (std::size_t b = 0; b < resamples; b += 4) {
      if (any_double)
        for (std::size_t q = 0; q < 4; ++q) {
          const std::uint16_t* from = weights + (b + q) * clusters + i0;
          for (std::size_t i = 0; i < len; ++i) w[q][i] = from[i];
        }
      double* s0 = sums + b * width;
      double *s1 = s0 + width, *s2 = s1 + width, *s3 = s2 + width;
      for (std::size_t p = 0; p < width / panel; ++p) {
        if (table.packed(p)) {
          const std::int16_t* pairs = table.packed_block(p, b0);
          if (!pairs) continue;  // a block never asked for: zeros
          const std::uint16_t* rows[4];
          for (std::size_t q = 0; q < 4; ++q) rows[q] = weights + (b + q) * clusters + i0;
          double* const to[4] = {s0 + p * panel, s1 + p * panel, s2 + p * panel, s3 + p * panel};
          if (group_total[b / 4] <= table.weight_limit(p)) {
            const std::int16_t* from = pairs + in_block / 2 * 16;
            const double* step = table.steps(p);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
            if constexpr (sizeof(V) == 32)
              packed_avx2(from, len, rows, step, to);
            else
              packed_sse2(from, len, rows, step, to);
#else
            packed_scalar(from, len, rows, step, to);
#endif
          } else {
            for (std::size_t q = 0; q < 4; ++q)
              for (std::size_t i = 0; i < len; ++i)
                for (std::size_t k = 0; k < panel; ++k)
                  to[q][k] += static_cast<double>(rows[q][i]) * table.value(i0 + i, p * panel + k);
          }
          continue;
        }
        const double* block = table.block(p, b0);
        if (!block) continue;  // a block never asked for: zeros, which add nothing
        for (std::size_t j = p * panel; j < (p + 1) * panel; j += 2 * lanes) {
          V a00, a01, a10, a11, a20, a21, a30, a31, r0, r1;
          load(a00, s0 + j), load(a01, s0 + j + lanes);
          load(a10, s1 + j), load(a11, s1 + j + lanes);
          load(a20, s2 + j), load(a21, s2 + j + lanes);
          load(a30, s3 + j), load(a31, s3 + j + lanes);
          const double* row = block + in_block * panel + j % panel;
          for (std::size_t i = 0; i < len; ++i, row += panel) {
            load(r0, row), load(r1, row + lanes);
            const double c0 = w[0][i], c1 = w[1][i], c2 = w[2][i], c3 = w[3][i];
            a00 += c0 * r0, a01 += c0 * r1;
            a10 += c1 * r0, a11 += c1 * r1;
            a20 += c2 * r0, a21 += c2 * r1;
            a30 += c3 * r0, a31 += c3 * r1;
          }
          store(s0 + j, a00), store(s0 + j + lanes, a01);
          store(s1 + j, a10), store(s1 + j + lanes, a11);
          store(s2 + j, a20), store(s2 + j + lanes, a21);
          store(s3 + j, a30), store(s3 + j + lanes, a31);
        }
      }
    }
  }
}

using vec2 = double __attribute__((vector_size(16)));  // the baseline: SSE2 on x86-64, NEON on ARM
void portable(const std::uint16_t* w, std::size_t n, std::size_t m, const panel_table& t, double* s,
              const std::uint64_t* g) {
  kernel<vec2>(w, n, m, t, s, g);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
using vec4 = double __attribute__((vector_size(32)));
[[gnu::target("avx2")]] void avx2(const std::uint16_t* w, std::size_t n, std::size_t m, const panel_table& t,
                                  double* s, const std::uint64_t* g) {
  kernel<vec4>(w, n, m, t, s, g);
}
#endif

}  // namespace

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
#else
  return false;
#endif
}

panel_table::panel_table(std::size_t clusters, std::size_t width)
    : clusters_(clusters),
      width_(width),
      per_panel_((clusters + block_rows - 1) / block_rows),
      blocks_(width / columns * per_panel_),
      packed_(width / columns * per_panel_),
      steps_(width, 1.0),
      limits_(width / columns, 0) {
  assert(width % columns == 0);
}

double* panel_table::block(std::size_t p, std::size_t b) {
  assert(!packed(p));
  std::unique_ptr<double[]>& data = blocks_[p * per_panel_ + b];
  if (!data) {
    const std::size_t size = std::min(block_rows, clusters_ - b * block_rows) * columns;
    data = std::make_unique_for_overwrite<double[]>(size);
    std::fill_n(data.get(), size, 0.0);
  }
  return data.get();
}

bool panel_table::pack(std::size_t p) {
  if (packed(p)) return true;
  // Each column's finest step (the most binary places after the point of any of its values) and its
  // largest magnitude. A value v ≠ 0 is m · 2^e with m odd: it needs max(0, −e) places.
  constexpr int max_places = 30;
  std::array<int, columns> places{};
  std::array<double, columns> largest{};
  for (std::size_t b = 0; b < per_panel_; ++b) {
    const double* data = blocks_[p * per_panel_ + b].get();
    if (!data) continue;
    const std::size_t size = std::min(block_rows, clusters_ - b * block_rows) * columns;
    for (std::size_t r = 0; r < size; ++r) {
      const double v = data[r];
      if (v == 0) continue;
      const auto bits = std::bit_cast<std::uint64_t>(v);
      const auto biased = static_cast<int>((bits >> 52) & 0x7FF);
      if (biased == 0 || biased == 0x7FF) return false;  // subnormal, infinite or NaN
      const std::uint64_t mantissa = (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52);
      const int e = biased - 1075 + std::countr_zero(mantissa);
      if (-e > max_places) return false;
      const std::size_t k = r % columns;
      places[k] = std::max(places[k], -e);
      largest[k] = std::max(largest[k], std::fabs(v));
    }
  }
  double most = 0;  // the largest value in steps
  for (std::size_t k = 0; k < columns; ++k) {
    const double in_steps = std::ldexp(largest[k], places[k]);
    if (in_steps > 32767) return false;
    most = std::max(most, in_steps);
  }
  // A sum of a chunk's products stays within 32 bits while the weights add up to at most this (and a
  // pair's, which pmaddwd adds in 32 bits, with it).
  const std::uint64_t limit =
      most == 0 ? std::numeric_limits<std::uint64_t>::max() : static_cast<std::uint64_t>(2147483647.0 / most);
  // The bootstrap's draws of the clusters add up to their number: past the limit every resample would
  // take the doubles' way, one value at a time, so the panel stays in doubles.
  if (clusters_ > limit) return false;
  // A value in steps: times 2^places, a power of two, which is exact (the result a whole number of at
  // most 15 bits), as ldexp would be, without a call per value.
  std::array<double, columns> scale{};
  for (std::size_t k = 0; k < columns; ++k) scale[k] = std::ldexp(1.0, places[k]);
  for (std::size_t b = 0; b < per_panel_; ++b) {
    std::unique_ptr<double[]>& data = blocks_[p * per_panel_ + b];
    if (!data) continue;
    const std::size_t rows = std::min(block_rows, clusters_ - b * block_rows);
    auto out = std::make_unique<std::int16_t[]>((rows + 1) / 2 * 16);  // (zeros: the padding cluster)
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t k = 0; k < columns; ++k)
        out[r / 2 * 16 + 2 * k + r % 2] = static_cast<std::int16_t>(data[r * columns + k] * scale[k]);
    packed_[p * per_panel_ + b] = std::move(out);
    data.reset();
  }
  for (std::size_t k = 0; k < columns; ++k) steps_[p * columns + k] = std::ldexp(1.0, -places[k]);
  limits_[p] = limit;
  return true;
}

double panel_table::value(std::size_t i, std::size_t j) const noexcept {
  const std::size_t p = j / columns, b = i / block_rows, r = i % block_rows, k = j % columns;
  if (packed(p)) {
    const std::int16_t* data = packed_[p * per_panel_ + b].get();
    if (!data) return 0.0;
    const std::int16_t v = data[r / 2 * 16 + 2 * k + r % 2];  // (pair r / 2, column k, its r % 2'th)
    return static_cast<double>(v) * steps_[j];
  }
  const double* data = blocks_[p * per_panel_ + b].get();
  return data ? data[r * columns + k] : 0.0;
}

void add_weighted_sums(std::span<const std::uint16_t> weights, std::size_t resamples,
                       const panel_table& table, std::span<double> sums, weighted_sums_code code,
                       std::uint64_t drawn) {
  assert(resamples % 4 == 0);
  if (resamples == 0 || table.width() == 0) return;  // (every column zero: nothing to add)
  const std::size_t clusters = table.clusters();
  assert(weights.size() == resamples * clusters && sums.size() == resamples * table.width());
  // Each group of 4 rows' largest total weight, for the packed panels (the most a uint64 holds when a
  // weight is 2^15 or more): `drawn` when the caller vouches for it, else counted.
  std::vector<std::uint64_t> group_total(resamples / 4, drawn);
  bool any_packed = false;
  for (std::size_t p = 0; p < table.width() / panel_table::columns; ++p) any_packed |= table.packed(p);
  if (any_packed && drawn == 0)
    for (std::size_t r = 0; r < resamples; ++r) {
      std::uint64_t total = 0;
      std::uint16_t bits = 0;
      for (const std::uint16_t w : weights.subspan(r * clusters, clusters)) total += w, bits |= w;
      if (bits >= 0x8000) total = std::numeric_limits<std::uint64_t>::max();
      std::uint64_t& g = group_total[r / 4];
      g = r % 4 == 0 ? total : std::max(g, total);
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (code == weighted_sums_code::best && cpu_has_avx2()) {
    avx2(weights.data(), clusters, resamples, table, sums.data(), group_total.data());
    return;
  }
#endif
  (void)code;
  portable(weights.data(), clusters, resamples, table, sums.data(), group_total.data());
}

bool draws_fit_16_bits(std::span<const std::uint16_t> row, std::size_t n) noexcept {
  std::uint16_t bits = 0;
  std::uint64_t total = 0;  // (at most n: a wrapped count only lowers it)
  for (const std::uint16_t w : row) bits |= w, total += w;
  return bits < 0x8000 && total == n;
}

std::size_t resampled_sums::batch_size(std::size_t clusters) noexcept {
  return std::clamp<std::size_t>((std::size_t{1} << 23) / std::max<std::size_t>(clusters, 1) / 4 * 4, 4, 32);
}

resampled_sums::resampled_sums(std::size_t clusters, std::size_t batch)
    : clusters_(clusters),
      batch_(batch),
      counts_(clusters >= 0x8000 ? clusters : 0),
      weights_(batch * clusters) {}

std::span<const double> resampled_sums::of(std::uint64_t stream, std::uint64_t start, std::size_t m,
                                           const panel_table& table) {
  const std::size_t width = table.width();
  const std::size_t n = clusters_;
  wide_.clear();
  // The draws counted straight into the weights' 16-bit rows. From 32,768 clusters a count may reach
  // 2^15, which the packed panels' 16-bit products cannot take, and from 65,536 it may wrap around (its
  // row then adds up to less than n): such a row, which in practice never comes, is left to the
  // one-resample sums from 32-bit counts.
  // (Rows are checked four at a time, right after their draws, while they are still in the cache.)
  const std::size_t group = n >= 0x8000 ? 4 : m;
  for (std::size_t g = 0; g < m; g += group) {
    const std::size_t rows = std::min(group, m - g);
    stats::resample_counts(stream, start + g, rows, std::span(weights_).subspan(g * n, rows * n));
    if (n >= 0x8000)
      for (std::size_t b = g; b < g + rows; ++b) {
        const std::span<std::uint16_t> row = std::span(weights_).subspan(b * n, n);
        if (draws_fit_16_bits(row, n)) continue;
        std::fill(row.begin(), row.end(), std::uint16_t{0});
        wide_.push_back(b);
      }
  }
  const std::size_t m4 = (m + 3) / 4 * 4;  // the last batch's unused rows: zero weights
  std::fill(weights_.begin() + static_cast<std::ptrdiff_t>(m * n),
            weights_.begin() + static_cast<std::ptrdiff_t>(m4 * n), std::uint16_t{0});
  sums_.assign(m4 * width, 0.0);
  add_weighted_sums(std::span(weights_).first(m4 * n), m4, table, sums_, weighted_sums_code::best, n);
  for (const std::size_t b : wide_) {
    const std::span<std::uint32_t> counts = std::span(counts_).first(n);
    stats::resample_counts(stream, start + b, counts);
    add_weighted_sums(counts, table, std::span(sums_).subspan(b * width, width));
  }
  return sums_;
}

void add_weighted_sums(std::span<const std::uint32_t> counts, const panel_table& table,
                       std::span<double> sums) noexcept {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double c = counts[i];
    for (std::size_t j = 0; j < table.width(); ++j) sums[j] += c * table.value(i, j);
  }
}

}  // namespace judgebias::detail
