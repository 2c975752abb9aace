// The bootstrap's resampled sums (weighted_sums.hpp): one register-blocked kernel, written once over a
// vector type and compiled twice, for AVX2 and for the portable baseline, the AVX2 one chosen at run
// time. The library is compiled with -ffp-contract=off (CMakeLists.txt): a product and a sum are never
// fused, so that both give the same bits.
#include "stats/weighted_sums.hpp"

#include "judgebias/stats.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>

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

// The clusters go in chunks whose table rows stay in the first cache levels (about 64 KiB, at most
// max_chunk rows) while every resample of the batch reads them; each group of 4 resamples has its chunk's
// weights as doubles, and its running sums of 2 vectors of columns in registers across the chunk (a
// panel's 8 columns, or 4 of them in 2-lane vectors). A sum's terms are added in cluster order either way.
constexpr std::size_t max_chunk = 512;
template <class V>
[[gnu::always_inline]] inline void kernel(const std::uint16_t* weights, std::size_t clusters,
                                          std::size_t resamples, const panel_table& table, double* sums) {
  constexpr std::size_t panel = panel_table::columns;
  const std::size_t width = table.width();
  constexpr std::size_t lanes = sizeof(V) / sizeof(double);
  // (A power of two, so that a chunk never straddles two of the table's blocks.)
  const std::size_t chunk = std::bit_floor(
      std::clamp<std::size_t>((std::size_t{64} << 10) / (width * sizeof(double)), 16, max_chunk));
  double w[4][max_chunk];
  for (std::size_t i0 = 0; i0 < clusters; i0 += chunk) {
    const std::size_t len = std::min(clusters - i0, chunk);
    for (std::size_t b = 0; b < resamples; b += 4) {
      for (std::size_t q = 0; q < 4; ++q) {
        const std::uint16_t* from = weights + (b + q) * clusters + i0;
        for (std::size_t i = 0; i < len; ++i) w[q][i] = from[i];
      }
      double* s0 = sums + b * width;
      double *s1 = s0 + width, *s2 = s1 + width, *s3 = s2 + width;
      for (std::size_t j = 0; j < width; j += 2 * lanes) {
        const std::size_t b0 = i0 / panel_table::block_rows;
        const double* block = table.block(j / panel, b0);
        if (!block) continue;  // a block never asked for: zeros, which add nothing
        V a00, a01, a10, a11, a20, a21, a30, a31, r0, r1;
        load(a00, s0 + j), load(a01, s0 + j + lanes);
        load(a10, s1 + j), load(a11, s1 + j + lanes);
        load(a20, s2 + j), load(a21, s2 + j + lanes);
        load(a30, s3 + j), load(a31, s3 + j + lanes);
        const double* row = block + (i0 - b0 * panel_table::block_rows) * panel + j % panel;
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

using vec2 = double __attribute__((vector_size(16)));  // the baseline: SSE2 on x86-64, NEON on ARM
void portable(const std::uint16_t* w, std::size_t n, std::size_t m, const panel_table& t, double* s) {
  kernel<vec2>(w, n, m, t, s);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
using vec4 = double __attribute__((vector_size(32)));
[[gnu::target("avx2")]] void avx2(const std::uint16_t* w, std::size_t n, std::size_t m, const panel_table& t,
                                  double* s) {
  kernel<vec4>(w, n, m, t, s);
}
bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

}  // namespace

panel_table::panel_table(std::size_t clusters, std::size_t width)
    : clusters_(clusters),
      width_(width),
      per_panel_((clusters + block_rows - 1) / block_rows),
      blocks_(width / columns * per_panel_) {
  assert(width % columns == 0);
}

double* panel_table::block(std::size_t p, std::size_t b) {
  std::unique_ptr<double[]>& data = blocks_[p * per_panel_ + b];
  if (!data) {
    const std::size_t size = std::min(block_rows, clusters_ - b * block_rows) * columns;
    data = std::make_unique_for_overwrite<double[]>(size);
    std::fill_n(data.get(), size, 0.0);
  }
  return data.get();
}

void add_weighted_sums(std::span<const std::uint16_t> weights, std::size_t resamples,
                       const panel_table& table, std::span<double> sums, weighted_sums_code code) {
  assert(resamples % 4 == 0);
  if (resamples == 0 || table.width() == 0) return;  // (every column zero: nothing to add)
  const std::size_t clusters = table.clusters();
  assert(weights.size() == resamples * clusters && sums.size() == resamples * table.width());
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (code == weighted_sums_code::best && has_avx2()) {
    avx2(weights.data(), clusters, resamples, table, sums.data());
    return;
  }
#endif
  (void)code;
  portable(weights.data(), clusters, resamples, table, sums.data());
}

bool to_weights(std::span<const std::uint32_t> counts, std::span<std::uint16_t> row) noexcept {
  std::uint32_t any = 0;  // the counts' bits together: past 16 bits iff a count is
  for (std::size_t i = 0; i < counts.size(); ++i) {
    row[i] = static_cast<std::uint16_t>(counts[i]);
    any |= counts[i];
  }
  if (any <= 0xFFFF) return true;
  std::fill(row.begin(), row.end(), std::uint16_t{0});
  return false;
}

std::size_t resampled_sums::batch_size(std::size_t clusters) noexcept {
  return std::clamp<std::size_t>((std::size_t{1} << 23) / std::max<std::size_t>(clusters, 1) / 4 * 4, 4, 32);
}

resampled_sums::resampled_sums(std::size_t clusters, std::size_t batch)
    : clusters_(clusters), batch_(batch), counts_(clusters), weights_(batch * clusters) {}

std::span<const double> resampled_sums::of(std::uint64_t stream, std::uint64_t start, std::size_t m,
                                           const panel_table& table) {
  const std::size_t width = table.width();
  const std::size_t n = clusters_;
  wide_.clear();
  for (std::size_t b = 0; b < m; ++b) {
    // Below 65,536 clusters no count can pass 16 bits: the draws are counted in the weights' row itself.
    const std::span<std::uint16_t> row = std::span(weights_).subspan(b * n, n);
    if (n <= 0xFFFF) {
      stats::resample_counts(stream, start + b, row);
    } else {
      stats::resample_counts(stream, start + b, counts_);
      if (!to_weights(counts_, row)) wide_.push_back(b);
    }
  }
  const std::size_t m4 = (m + 3) / 4 * 4;  // the last batch's unused rows: zero weights
  std::fill(weights_.begin() + static_cast<std::ptrdiff_t>(m * n),
            weights_.begin() + static_cast<std::ptrdiff_t>(m4 * n), std::uint16_t{0});
  sums_.assign(m4 * width, 0.0);
  add_weighted_sums(std::span(weights_).first(m4 * n), m4, table, sums_);
  for (const std::size_t b : wide_) {
    stats::resample_counts(stream, start + b, counts_);
    add_weighted_sums(counts_, table, std::span(sums_).subspan(b * width, width));
  }
  return sums_;
}

void add_weighted_sums(std::span<const std::uint32_t> counts, const panel_table& table,
                       std::span<double> sums) noexcept {
  constexpr std::size_t panel = panel_table::columns;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const double c = counts[i];
    const std::size_t b = i / panel_table::block_rows, r = i % panel_table::block_rows;
    for (std::size_t j = 0; j < table.width(); ++j)
      if (const double* block = table.block(j / panel, b)) sums[j] += c * block[r * panel + j % panel];
  }
}

}  // namespace judgebias::detail
