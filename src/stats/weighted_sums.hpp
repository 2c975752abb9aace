#pragma once
// The bootstrap's inner product: the resampled sums of a table of per-cluster sums, for a batch of
// resamples at once. Private to the library.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace judgebias::detail {

/// Which code computes the sums: the widest the CPU runs (AVX2 where there is one), or the portable one
/// (SSE2 on x86-64). Both give the same bits; the choice is for the tests, which compare them.
enum class weighted_sums_code { best, portable };

/// Whether the CPU runs AVX2 (false off x86-64), for the code chosen at run time.
bool cpu_has_avx2() noexcept;

/// A clusters × width table of per-cluster sums (width a multiple of 8) in panels of 8 columns, each
/// panel cut into blocks of block_rows clusters (8 sums a cluster, 1 MiB a block), each block allocated
/// and zeroed when first asked for. The table thus takes memory as it is filled, in pieces small enough
/// to reuse what was freed meanwhile (a single block as large as the table would be a mapping of its
/// own, which cannot).
///
/// A filled panel whose sums are all small whole numbers, or whole numbers of halves, quarters... can be
/// packed (pack()): each column as 16-bit integers times a power of two, so that the product multiplies
/// and adds integers, exactly. Its sums are then the same bits as the doubles' would be, since those are
/// exact too: every product and partial sum is a whole number of the column's step, far below 2^53.
class panel_table {
 public:
  static constexpr std::size_t columns = 8;           ///< columns per panel
  static constexpr std::size_t block_rows = 1 << 14;  ///< clusters per block
  panel_table(std::size_t clusters, std::size_t width);
  std::size_t clusters() const noexcept { return clusters_; }
  std::size_t width() const noexcept { return width_; }
  /// Block b of panel p: clusters b·block_rows onwards, cluster i's column 8p + k at [8(i − b·block_rows)
  /// + k]. Allocated and zeroed on the first call. Not for a packed panel.
  double* block(std::size_t p, std::size_t b);
  /// Block b of panel p, or nullptr when it was never asked for (its sums are zeros) or the panel is
  /// packed.
  const double* block(std::size_t p, std::size_t b) const noexcept {
    return blocks_[p * per_panel_ + b].get();
  }
  /// The sum of cluster i in column j, allocating its block when needed. Not for a packed panel.
  double& at(std::size_t i, std::size_t j) {
    return block(j / columns, i / block_rows)[(i % block_rows) * columns + j % columns];
  }

  /// Packs panel p (once it is filled) when each of its columns is a whole number of some power of two,
  /// its step, at most 2^15 − 1 steps from 0 in every cluster, and a resample's draws of the clusters (as
  /// many as they are) stay within its weight_limit; its blocks are then freed. False, and the panel left
  /// as it is, otherwise (a third, a NaN, a value too large or too fine, too many clusters for its values).
  bool pack(std::size_t p);
  bool packed(std::size_t p) const noexcept { return limits_[p] != 0; }
  /// Block b of packed panel p: clusters in pairs, pair q (clusters 2q and 2q + 1 of the block) at
  /// [16q, 16q + 16), column k's two values at 16q + 2k and 16q + 2k + 1 (a block's last pair padded
  /// with a zero cluster). nullptr where the panel had no block.
  const std::int16_t* packed_block(std::size_t p, std::size_t b) const noexcept {
    return packed_[p * per_panel_ + b].get();
  }
  /// Packed panel p's 8 steps (powers of two), a column's value being its integer times its step.
  const double* steps(std::size_t p) const noexcept { return steps_.data() + p * columns; }
  /// The most a resample's weights may add up to for packed panel p's sums to stay within 32 bits
  /// (2^31 − 1 over its largest value in steps).
  std::uint64_t weight_limit(std::size_t p) const noexcept { return limits_[p]; }
  /// The sum of cluster i in column j, packed or not.
  double value(std::size_t i, std::size_t j) const noexcept;

 private:
  std::size_t clusters_, width_, per_panel_;             // per_panel_: blocks in a panel
  std::vector<std::unique_ptr<double[]>> blocks_;        // panel after panel
  std::vector<std::unique_ptr<std::int16_t[]>> packed_;  // the same, for packed panels
  std::vector<double> steps_;                            // per column: its step once packed
  std::vector<std::uint64_t> limits_;                    // per panel: weight_limit once packed, else 0
};

/// sums += weights · table: `weights` is resamples × clusters, row-major (how many times each resample
/// draws each cluster, in 16 bits), `sums` resamples × width, row-major. `resamples` is a multiple of 4
/// (pad with zero rows).
///
/// Each sum is accumulated over the clusters in increasing order, as a product then an addition (never
/// a fused multiply-add), whatever the vector width: the bits are the same on every CPU, in every thread,
/// and do not depend on the batch or the cache sizes (a blocked matrix product's do). A packed panel's
/// sums are exact (the products and sums of integers, added to `sums` a chunk of clusters at a time),
/// hence the same bits, for the rows whose weights are below 2^15 and add up to at most its
/// weight_limit; other rows take the doubles' way. `drawn`, when not 0, is the caller's word that every
/// weight is below 2^15 and each row's add up to at most `drawn` (a resample's draws: as many as the
/// clusters), so that the rows need not be counted. A packed panel's sums are those bits when they start
/// at +0, as the bootstrap's do (or at a whole number of the column's step: one that starts at −0 and adds
/// only −0 ends at +0, and one that starts off the step's grid, at 10^17 say, may round differently).
void add_weighted_sums(std::span<const std::uint16_t> weights, std::size_t resamples,
                       const panel_table& table, std::span<double> sums,
                       weighted_sums_code code = weighted_sums_code::best, std::uint64_t drawn = 0);

/// Whether a resample's draws of n clusters, counted modulo 2^16 (stats::resample_counts), are exact and
/// fit the packed panels' products: every count below 2^15 and all of them adding up to n (a count that
/// wrapped past 65,535 makes them add up to less). Only from 32,768 clusters can one not.
bool draws_fit_16_bits(std::span<const std::uint16_t> row, std::size_t n) noexcept;

/// sums += counts · table for one resample (`sums` one row of the table's width), the same bits as the
/// batch's product: the resamples whose counts draws_fit_16_bits does not take.
void add_weighted_sums(std::span<const std::uint32_t> counts, const panel_table& table,
                       std::span<double> sums) noexcept;

/// A bootstrap's resampled sums of one table, a batch of resamples at a time: each resample's draws
/// (stats::resample_counts on the stream) as 16-bit weights, the batch's product, and the resamples with
/// a count of 2^15 or more added on their own. It holds the batch's buffers: one per thread.
class resampled_sums {
 public:
  /// Resamples per batch for `clusters` clusters: 32, fewer past 262,144 (a multiple of 4, at least 4),
  /// so that the weights take at most 16 MiB (8 bytes a cluster past 2^21). No sum depends on it.
  static std::size_t batch_size(std::size_t clusters) noexcept;

  resampled_sums(std::size_t clusters, std::size_t batch);
  /// Resamples start .. start + m − 1 (m at most the batch) of `stream` over `table`: row b of the
  /// result, the table's width of sums, is resample start + b's.
  std::span<const double> of(std::uint64_t stream, std::uint64_t start, std::size_t m,
                             const panel_table& table);

 private:
  std::size_t clusters_, batch_;
  std::vector<std::uint32_t> counts_;
  std::vector<std::uint16_t> weights_;
  std::vector<double> sums_;
  std::vector<std::size_t> wide_;  // the batch's resamples whose counts do not fit the weights
};

}  // namespace judgebias::detail
