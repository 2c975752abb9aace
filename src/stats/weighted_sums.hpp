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

/// A clusters × width table of per-cluster sums (width a multiple of 8) in panels of 8 columns, each
/// panel cut into blocks of block_rows clusters (8 sums a cluster, 1 MiB a block), each block allocated
/// and zeroed when first asked for. The table thus takes memory as it is filled, in pieces small enough
/// to reuse what was freed meanwhile (a single block as large as the table would be a mapping of its
/// own, which cannot).
class panel_table {
 public:
  static constexpr std::size_t columns = 8;           ///< columns per panel
  static constexpr std::size_t block_rows = 1 << 14;  ///< clusters per block
  panel_table(std::size_t clusters, std::size_t width);
  std::size_t clusters() const noexcept { return clusters_; }
  std::size_t width() const noexcept { return width_; }
  /// Block b of panel p: clusters b·block_rows onwards, cluster i's column 8p + k at [8(i − b·block_rows)
  /// + k]. Allocated and zeroed on the first call.
  double* block(std::size_t p, std::size_t b);
  /// Block b of panel p, or nullptr when it was never asked for (its sums are zeros).
  const double* block(std::size_t p, std::size_t b) const noexcept {
    return blocks_[p * per_panel_ + b].get();
  }
  /// The sum of cluster i in column j, allocating its block when needed.
  double& at(std::size_t i, std::size_t j) {
    return block(j / columns, i / block_rows)[(i % block_rows) * columns + j % columns];
  }

 private:
  std::size_t clusters_, width_, per_panel_;       // per_panel_: blocks in a panel
  std::vector<std::unique_ptr<double[]>> blocks_;  // panel after panel
};

/// sums += weights · table: `weights` is resamples × clusters, row-major (how many times each resample
/// draws each cluster, in 16 bits: to_weights), `sums` resamples × width, row-major. `resamples` is a
/// multiple of 4 (pad with zero rows).
///
/// Each sum is accumulated over the clusters in increasing order, as a product then an addition (never
/// a fused multiply-add), whatever the vector width: the bits are the same on every CPU, in every thread,
/// and do not depend on the batch or the cache sizes (a blocked matrix product's do).
void add_weighted_sums(std::span<const std::uint16_t> weights, std::size_t resamples,
                       const panel_table& table, std::span<double> sums,
                       weighted_sums_code code = weighted_sums_code::best);

/// One resample's counts as its row of a batch's weights. False, and the row left at zeros, when a
/// count does not fit 16 bits (a cluster drawn 65,536 times or more, which needs as many clusters): add
/// that resample with the other add_weighted_sums after the batch's.
bool to_weights(std::span<const std::uint32_t> counts, std::span<std::uint16_t> row) noexcept;

/// sums += counts · table for one resample (`sums` one row of the table's width), the same bits as the
/// batch's product: the resamples whose counts to_weights does not take.
void add_weighted_sums(std::span<const std::uint32_t> counts, const panel_table& table,
                       std::span<double> sums) noexcept;

/// A bootstrap's resampled sums of one table, a batch of resamples at a time: each resample's draws
/// (stats::resample_counts on the stream) as 16-bit weights, the batch's product, and the resamples whose
/// counts pass 16 bits added on their own. It holds the batch's buffers: one per thread.
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
