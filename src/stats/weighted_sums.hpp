#pragma once
// The bootstrap's inner product: the resampled sums of a table of per-cluster sums, for a batch of
// resamples at once. Private to the library.

#include <cstddef>
#include <span>

namespace judgebias::detail {

/// Which code computes the sums: the widest the CPU runs (AVX2 where there is one), or the portable one
/// (SSE2 on x86-64). Both give the same bits; the choice is for the tests, which compare them.
enum class weighted_sums_code { best, portable };

/// sums += weights · table, all row-major: `weights` is resamples × clusters (how many times each
/// resample draws each cluster), `table` clusters × width (each cluster's sums), `sums` resamples ×
/// width. `resamples` is a multiple of 4 and `width` of 8 (pad with zero rows and columns).
///
/// Each sum is accumulated over the clusters in increasing order, as a product then an addition (never
/// a fused multiply-add), whatever the vector width: the bits are the same on every CPU, in every thread,
/// and do not depend on the batch or the cache sizes (a blocked matrix product's do).
void add_weighted_sums(std::span<const double> weights, std::size_t resamples, std::span<const double> table,
                       std::size_t width, std::span<double> sums,
                       weighted_sums_code code = weighted_sums_code::best);

}  // namespace judgebias::detail
