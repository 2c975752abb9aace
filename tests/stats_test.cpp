// Statistics against values worked out by hand (or from closed forms, written next to each check).
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "judgebias/module_kit.hpp"
#include "stats/regression.hpp"
#include "stats/weighted_sums.hpp"
#include "test_util.hpp"

using namespace judgebias::stats;

TEST(Stats, XoshiroIsTheSpecifiedGenerator) {
  // xoshiro256** seeded with four splitmix64 outputs from state 0 (reference implementation).
  rng g(0);
  EXPECT_EQ(g.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(g.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(g.next(), 0x1a5f849d4933e6e0ull);
}

TEST(Stats, BelowIsUniformAndInRange) {
  rng g(42);
  std::array<int, 3> counts{};
  for (int i = 0; i < 30000; ++i) ++counts[g.below(3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 400);  // ~4.7 sd of a binomial(30000, 1/3)
}

TEST(Stats, StreamSeedsDifferByName) {
  EXPECT_NE(stream_seed(0, {"self_preference", "j1", "", "dbg_pairwise"}),
            stream_seed(0, {"self_preference", "j2", "", "dbg_pairwise"}));
  EXPECT_NE(stream_seed(0, {"ab", "c"}), stream_seed(0, {"a", "bc"}));
  EXPECT_NE(stream_seed(0, {"x"}), stream_seed(1, {"x"}));
  EXPECT_EQ(stream_seed(7, {"x", "y"}), stream_seed(7, {"x", "y"}));
}

TEST(Stats, QuantileType7) {
  const double x[] = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_type7(x, 0.25), 1.75);  // h = 3 * 0.25 = 0.75: 1 + 0.75 * (2 - 1)
  EXPECT_DOUBLE_EQ(quantile_type7(x, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_type7(x, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile_type7(x, 1.0), 4.0);
}

TEST(Stats, Quantiles) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(t_quantile(0.975, 10), 2.2281388519649385, 1e-10);
  EXPECT_NEAR(t_quantile(0.025, 10), -2.2281388519649385, 1e-10);
  EXPECT_NEAR(t_quantile(0.975, 1), 12.706204736174707, 1e-8);  // tan(pi * 0.475) for df = 1
}

TEST(Stats, WilsonInterval) {
  // k = 8, n = 10, z = 1.96: centre (0.8 + z²/20) / (1 + z²/10), half-width z·sqrt(.16/10 + z²/400) / (1 +
  // z²/10).
  auto ci = wilson_interval(8, 10, 0.95);
  ASSERT_TRUE(ci);
  EXPECT_NEAR((*ci)[0], 0.49016247153664183, 1e-12);
  EXPECT_NEAR((*ci)[1], 0.9433178485456247, 1e-12);
  EXPECT_FALSE(wilson_interval(0, 0, 0.95));
}

TEST(Stats, ExactBinomialTest) {
  // 7 of 10 at 1/2: 2 · P(X ≥ 7) = 2 · (120 + 45 + 10 + 1) / 1024.
  EXPECT_NEAR(binomial_test(7, 10), 0.34375, 1e-12);
  EXPECT_NEAR(binomial_test(0, 10), 2.0 / 1024, 1e-15);
  EXPECT_NEAR(binomial_test(5, 10), 1.0, 1e-12);
  // Asymmetric: 3 of 10 at 0.2, sum of outcomes no more likely than P(X = 3) (computed with fractions).
  EXPECT_NEAR(binomial_test(3, 10, 0.2), 0.429574656, 1e-9);
  // Far beyond a double: floored at the smallest positive double, never 0.
  EXPECT_EQ(binomial_test(0, 5000), std::numeric_limits<double>::denorm_min());
}

TEST(Stats, ExactMcNemar) {
  // 1 vs 9 discordant pairs: 2 · (C(10,0) + C(10,1)) / 2^10.
  EXPECT_NEAR(mcnemar_exact(1, 9), 22.0 / 1024, 1e-14);
  EXPECT_NEAR(mcnemar_exact(9, 1), 22.0 / 1024, 1e-14);
  EXPECT_DOUBLE_EQ(mcnemar_exact(0, 0), 1.0);
}

TEST(Stats, OneSampleTTest) {
  // 1..5: mean 3, sd sqrt(2.5), t = 3 / (sqrt(2.5)/sqrt(5)) = 4.2426; df = 4 has the closed form
  // F(t) = 1/2 + t (t² + 6) / (2 (t² + 4)^1.5), so p = 2 (1 − F(t)) = 0.0132355995636828.
  const double v[] = {1, 2, 3, 4, 5};
  auto p = t_test_one_sample(v);
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 0.01323559956368281, 1e-12);
  const double one[] = {1};
  EXPECT_FALSE(t_test_one_sample(one));
  const double zeros[] = {0, 0, 0};
  EXPECT_EQ(*t_test_one_sample(zeros), 1.0);
}

TEST(Stats, TInterval) {
  // mean 3, sd sqrt(2.5), n 5: 3 ± t(0.975, 4) · sqrt(2.5)/sqrt(5), t(0.975, 4) = 2.7764451051977987.
  auto ci = t_interval(3, std::sqrt(2.5), 5, 0.95);
  ASSERT_TRUE(ci);
  EXPECT_NEAR((*ci)[0], 3 - 2.7764451051977987 * std::sqrt(0.5), 1e-9);
  EXPECT_NEAR((*ci)[1], 3 + 2.7764451051977987 * std::sqrt(0.5), 1e-9);
}

TEST(Bootstrap, ConstantRowsGiveAPointInterval) {
  cluster_sums rows(2);
  for (int i = 0; i < 10; ++i) {
    double* r = rows.add_row();
    r[0] = 3, r[1] = 4;
  }
  statistic ratio = [](std::span<const double> s) -> std::optional<double> { return s[0] / s[1]; };
  auto res = bootstrap_interval(rows, ratio, {}, 1);
  ASSERT_TRUE(res.ci);
  EXPECT_DOUBLE_EQ((*res.ci)[0], 0.75);
  EXPECT_DOUBLE_EQ((*res.ci)[1], 0.75);
}

TEST(Bootstrap, SameResultWhateverTheThreads) {
  cluster_sums rows(2);
  rng g(3);
  for (int i = 0; i < 2000; ++i) {
    double* r = rows.add_row();
    r[0] = static_cast<double>(g.below(5)), r[1] = 4;
  }
  statistic ratio = [](std::span<const double> s) -> std::optional<double> { return s[0] / s[1]; };
  bootstrap_options one, two;
  one.threads = 1;
  two.threads = 2;
  auto a = bootstrap_interval(rows, ratio, one, 99), b = bootstrap_interval(rows, ratio, two, 99);
  ASSERT_TRUE(a.ci && b.ci);
  EXPECT_EQ(*a.ci, *b.ci);  // bit for bit
  // The mean of 0..4 over 4 is 0.5; the interval must cover it and be narrow for 2000 items.
  EXPECT_LT((*a.ci)[0], 0.5);
  EXPECT_GT((*a.ci)[1], 0.5);
  EXPECT_LT((*a.ci)[1] - (*a.ci)[0], 0.1);
}

// The bootstrap sums a column equal to another only once and a column of zeros not at all: each
// statistic must still get its own column's interval, that of the column bootstrapped alone.
TEST(Bootstrap, ColumnsEqualToOthersOrZeroKeepTheirOwnIntervals) {
  const std::size_t n = 300;
  rng g(5);
  cluster_sums a(3), b(2), a0(1), b1(1);  // a: x, x, 0; b: y, x; a0: x; b1: y
  std::vector<bootstrap_table> tables(2), alone(1);
  for (std::uint32_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(g.below(1000)) / 3.0, y = static_cast<double>(g.below(7));
    double* r = a.add_row();
    r[0] = x, r[1] = x, r[2] = 0;
    tables[0].cluster_of_row.push_back(i);
    r = b.add_row();
    r[0] = y, r[1] = x;
    tables[1].cluster_of_row.push_back(i);
    a0.add_row()[0] = x;
    b1.add_row()[0] = y;
    alone[0].cluster_of_row.push_back(i);
  }
  tables[0].rows = &a, tables[1].rows = &b;
  auto column = [](std::size_t k) {
    return [k](std::span<const double> s) -> std::optional<double> { return s[k]; };
  };
  const std::vector<bootstrap_statistic> stats = {
      {0, column(0)}, {0, column(1)}, {0, column(2)}, {1, column(0)}, {1, column(1)}};
  const bootstrap_options bo;
  const auto r = bootstrap_intervals(n, tables, stats, bo, 11);
  alone[0].rows = &a0;
  const auto x = bootstrap_intervals(n, alone, {{0, column(0)}}, bo, 11).front();
  alone[0].rows = &b1;
  const auto y = bootstrap_intervals(n, alone, {{0, column(0)}}, bo, 11).front();
  ASSERT_TRUE(x.ci && y.ci);
  EXPECT_LT((*x.ci)[0], (*x.ci)[1]);
  for (const std::size_t k : {0u, 1u, 4u}) {
    ASSERT_TRUE(r[k].ci) << k;
    EXPECT_EQ(*r[k].ci, *x.ci) << k;  // bit for bit
  }
  ASSERT_TRUE(r[2].ci && r[3].ci);
  EXPECT_EQ(*r[2].ci, (std::array<double, 2>{0, 0}));
  EXPECT_EQ(*r[3].ci, *y.ci);

  // The same values as a's first column put in other clusters (row i in cluster n - 1 - i) are another
  // column: beside a they keep the interval they have alone.
  std::vector<bootstrap_table> with_c = tables, c_alone(1);
  with_c.push_back({&a0, {}, {}});
  for (std::uint32_t i = 0; i < n; ++i)
    with_c.back().cluster_of_row.push_back(static_cast<std::uint32_t>(n - 1 - i));
  c_alone[0] = with_c.back();
  const auto rc = bootstrap_intervals(n, with_c, {{0, column(0)}, {2, column(0)}}, bo, 11);
  const auto c = bootstrap_intervals(n, c_alone, {{0, column(0)}}, bo, 11).front();
  ASSERT_TRUE(rc[0].ci && rc[1].ci && c.ci);
  EXPECT_EQ(*rc[0].ci, *x.ci);
  EXPECT_EQ(*rc[1].ci, *c.ci);
  EXPECT_NE(*c.ci, *x.ci);  // (the draws tell the two apart)

  // Every column zero: nothing to sum, a point interval at 0.
  cluster_sums zeros(2);
  for (int i = 0; i < 5; ++i) zeros.add_row()[0] = 0;
  const auto z = bootstrap_interval(zeros, column(1), bo, 3);
  ASSERT_TRUE(z.ci);
  EXPECT_EQ(*z.ci, (std::array<double, 2>{0, 0}));
}

// A table is released once the bootstrap's matrix holds all its columns, and not before: a release that
// empties the rows (as item_sums::release_rows does) leaves every interval as it is without releases.
// 20,000 clusters (the matrix in blocks of 16,384). Kept columns: t0's 5 (0-4), t1's last 2 (5, 6: its
// first is t0's first), none of t2's (t0's again), t3's 8 (7-14): panel 0 holds 0-7, panel 1 8-15, so t3
// is needed until the end, and t2, with nothing to copy, goes after panel 0 with t0 and t1.
TEST(Bootstrap, ReleasesEachTableOnceItsColumnsAreCopied) {
  const std::uint32_t n = 20000;
  rng g(3);
  cluster_sums t0(5), t1(3), t2(2), t3(8);
  std::vector<bootstrap_table> tables(4);
  for (std::uint32_t i = 0; i < n; ++i) {
    double* r0 = t0.add_row();
    for (std::size_t k = 0; k < 5; ++k) r0[k] = static_cast<double>(g.below(100)) / 7.0;
    double* r1 = t1.add_row();
    r1[0] = r0[0], r1[1] = static_cast<double>(g.below(9)), r1[2] = 1;
    double* r2 = t2.add_row();
    r2[0] = r0[0], r2[1] = r0[1];
    double* r3 = t3.add_row();
    for (std::size_t k = 0; k < 8; ++k) r3[k] = static_cast<double>(g.below(50)) + static_cast<double>(k);
    for (auto& t : tables) t.cluster_of_row.push_back(i);
  }
  const std::array<cluster_sums*, 4> rows = {&t0, &t1, &t2, &t3};
  std::vector<bootstrap_statistic> stats;
  for (std::size_t t = 0; t < 4; ++t) {
    tables[t].rows = rows[t];
    for (std::size_t k = 0; k < rows[t]->width(); ++k)
      stats.push_back({t, [k](std::span<const double> s) -> std::optional<double> { return s[k]; }});
  }
  bootstrap_options bo;
  bo.resamples = 40;
  const auto kept = bootstrap_intervals(n, tables, stats, bo, 5);
  std::array<int, 4> calls{};
  for (std::size_t t = 0; t < 4; ++t)
    tables[t].release = [&, t] {
      ++calls[t];
      *rows[t] = cluster_sums(rows[t]->width());  // the rows gone
    };
  const auto released = bootstrap_intervals(n, tables, stats, bo, 5);
  EXPECT_EQ(calls, (std::array<int, 4>{1, 1, 1, 1}));
  EXPECT_EQ(t3.rows(), 0u);
  ASSERT_EQ(released.size(), kept.size());
  for (std::size_t s = 0; s < kept.size(); ++s) {
    ASSERT_TRUE(kept[s].ci) << s;
    EXPECT_EQ(released[s].ci, kept[s].ci) << s;  // bit for bit
  }
  EXPECT_NE((*kept.back().ci)[1], 0.0);  // (t3's last column is not zeros: released early, it would be)
}

// The bootstrap worked out again from its definition: resample b's counts (resample_counts), each table's
// sums added up cluster by cluster in cluster order (a rounded product, then a rounded sum), the
// statistic of those sums, and the percentiles of the statistics. 203 resamples leave a last batch that
// is not a multiple of 4; two threads split the batches. One table has a row per cluster, in reverse
// cluster order; the other rows for the odd clusters only, with values that are not whole numbers.
TEST(Bootstrap, IsTheStatisticOfEachResamplesSumsInClusterOrder) {
  const std::uint32_t n = 1000;  // 1000 × 203 draws: enough work for the bootstrap to use the two threads
  rng g(9);
  cluster_sums a(2), b(1);
  std::vector<bootstrap_table> tables(2);
  std::vector<std::array<double, 3>> by_cluster(n, {0, 0, 0});  // a's two columns and b's, by cluster
  for (std::uint32_t r = 0; r < n; ++r) {
    const std::uint32_t cluster = n - 1 - r;
    double* row = a.add_row();
    row[0] = static_cast<double>(g.below(1000)) / 7.0, row[1] = 1 + static_cast<double>(g.below(3));
    tables[0].cluster_of_row.push_back(cluster);
    by_cluster[cluster][0] = row[0], by_cluster[cluster][1] = row[1];
    if (r % 2 == 1) {
      b.add_row()[0] = static_cast<double>(g.below(100)) / 3.0 - 10;
      tables[1].cluster_of_row.push_back(r);
      by_cluster[r][2] = *b.row(b.rows() - 1);
    }
  }
  tables[0].rows = &a, tables[1].rows = &b;
  const std::vector<bootstrap_statistic> stats = {
      {0, [](std::span<const double> s) -> std::optional<double> { return s[0] / s[1]; }},
      {1, [](std::span<const double> s) -> std::optional<double> { return s[0]; }}};
  bootstrap_options bo;
  bo.resamples = 203;
  bo.threads = 2;
  const auto r = bootstrap_intervals(n, tables, stats, bo, 21);

  std::vector<double> ratio(bo.resamples), sum(bo.resamples);
  std::vector<std::uint32_t> counts(n);
  for (std::uint32_t k = 0; k < bo.resamples; ++k) {
    resample_counts(21, k, counts);
    double s0 = 0, s1 = 0, s2 = 0;
    for (std::uint32_t c = 0; c < n; ++c) {
      const volatile double p0 = counts[c] * by_cluster[c][0], p1 = counts[c] * by_cluster[c][1],
                            p2 = counts[c] * by_cluster[c][2];
      s0 += p0, s1 += p1, s2 += p2;
    }
    ratio[k] = s0 / s1, sum[k] = s2;
  }
  const auto want_ratio = percentile_interval(ratio, bo.confidence),
             want_sum = percentile_interval(sum, bo.confidence);
  ASSERT_TRUE(r[0].ci && r[1].ci && want_ratio.ci && want_sum.ci);
  EXPECT_EQ(*r[0].ci, *want_ratio.ci);
  EXPECT_EQ(*r[1].ci, *want_sum.ci);
}

TEST(Bootstrap, TooManyUndefinedResamplesGiveNoInterval) {
  // Two items, one with a zero denominator: about a quarter of resamples draw it twice.
  cluster_sums rows(2);
  double* r = rows.add_row();
  r[0] = 1, r[1] = 1;
  r = rows.add_row();
  r[0] = 0, r[1] = 0;
  statistic ratio = [](std::span<const double> s) -> std::optional<double> {
    if (s[1] == 0) return std::nullopt;
    return s[0] / s[1];
  };
  auto res = bootstrap_interval(rows, ratio, {}, 5);
  EXPECT_FALSE(res.ci);
  EXPECT_NE(res.reason.find("more than 1%"), std::string::npos) << res.reason;
}

// A value list keeps each value as a one-byte code while it has seen at most 256 distinct values, then as
// doubles: every value reads back with its bits (-0 apart from 0), before and after the change, and its
// moments are those of the same values in a vector, to the bit.
TEST(ValueList, EveryValueReadsBackAndTheMomentsAreTheVectorsToTheBit) {
  judgebias::kit::value_list few, many;
  std::vector<double> few_in, many_in;
  for (int k = 0; k < 3000; ++k) {
    // Three values over and over (0, 0.5 and 1/3), and -0 once: four codes.
    const double f = k == 17 ? -0.0 : k % 3 == 0 ? 0.0 : k % 3 == 1 ? 0.5 : 1.0 / 3.0;
    few.push_back(f), few_in.push_back(f);
    // 256 distinct values, then a 257th at k = 1000 (codes up to then), then more.
    const double m = k < 1000 ? 0.1 * static_cast<double>(k % 256) : 1e16 + static_cast<double>(k);
    many.push_back(m), many_in.push_back(m);
  }
  ASSERT_EQ(few.size(), few_in.size());
  ASSERT_EQ(many.size(), many_in.size());
  for (std::size_t k = 0; k < few_in.size(); ++k) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(few[k]), std::bit_cast<std::uint64_t>(few_in[k])) << k;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(many[k]), std::bit_cast<std::uint64_t>(many_in[k])) << k;
  }
  EXPECT_TRUE(std::signbit(few[17]));
  EXPECT_FALSE(std::signbit(few[0]));
  for (const auto* pair : {&few_in, &many_in}) {
    const auto& in = *pair;
    const judgebias::kit::moments a = judgebias::kit::moments_of(in);
    const judgebias::kit::moments b = judgebias::kit::moments_of(pair == &few_in ? few : many);
    EXPECT_EQ(a.n, b.n);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.mean), std::bit_cast<std::uint64_t>(b.mean));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.sd), std::bit_cast<std::uint64_t>(b.sd));
  }
  // The moments by hand: 1000 of 0, 1000 of 0.5, 999 of 1/3 and the -0 (k = 17 would have been 1/3):
  // mean (500 + 333) / 3000.
  EXPECT_NEAR(judgebias::kit::moments_of(few).mean, 833.0 / 3000.0, 1e-13);
}

// A logistic fit whose design is made row by row as it is read, in chunks of 1024 rows, is the fit of the
// same rows held whole, to the bit, and both are the saturated model's closed form: 2500 rows, x = 0 on
// the first 1250 (y = 1 on the last 500 of them: p0 = 0.4) and x = 1 on the rest (y = 1 on the last 1000
// of them: p1 = 0.8), so that a chunk read wrong moves the estimate. β0 = logit 0.4, β1 = logit 0.8 −
// logit 0.4; Var β0 = 1 / (1250 · 0.4 · 0.6).
TEST(Logistic, ADesignReadRowByRowIsTheSameFitAcrossChunks) {
  const std::size_t rows = 2500;
  auto x1 = [](std::size_t r) { return r < 1250 ? 0.0 : 1.0; };
  auto y = [](std::size_t r) { return (r >= 750 && r < 1250) || r >= 1500 ? 1.0 : 0.0; };
  std::vector<double> design, labels;
  for (std::size_t r = 0; r < rows; ++r)
    design.push_back(1.0), design.push_back(x1(r)), labels.push_back(y(r));
  const judgebias::detail::logistic_fit held = judgebias::detail::fit_logistic(design, labels, 2);
  const judgebias::detail::logistic_fit read = judgebias::detail::fit_logistic(
      rows, 2, [&](std::size_t first, std::size_t count, double* x, double* yb) {
        EXPECT_LE(count, 1024u);
        for (std::size_t r = first; r < first + count; ++r) *x++ = 1.0, *x++ = x1(r), *yb++ = y(r);
      });
  ASSERT_TRUE(held.ok) << held.reason;
  ASSERT_TRUE(read.ok) << read.reason;
  auto logit = [](double p) { return std::log(p / (1 - p)); };
  EXPECT_NEAR(read.coef[0], logit(0.4), 1e-9);
  EXPECT_NEAR(read.coef[1], logit(0.8) - logit(0.4), 1e-9);
  EXPECT_NEAR(read.cov[0][0], 1.0 / (1250 * 0.4 * 0.6), 1e-9);
  for (std::size_t a = 0; a < 2; ++a) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(read.coef[a]), std::bit_cast<std::uint64_t>(held.coef[a]));
    for (std::size_t c = 0; c < 2; ++c)
      EXPECT_EQ(std::bit_cast<std::uint64_t>(read.cov[a][c]), std::bit_cast<std::uint64_t>(held.cov[a][c]));
  }
}

// item_sums: a row per item touched, in first-touch order, found again after the table grows (many
// items, ids that collide in the low bits), and no memory in the items never touched.
TEST(ItemSums, RowsByItemThroughGrowthAndCollisions) {
  judgebias::kit::item_sums sums(1u << 30, 2);  // the dataset's item count no longer sizes anything
  std::vector<std::uint32_t> order;
  for (std::uint32_t k = 0; k < 5000; ++k) order.push_back((k * 7919u) % 5000u * 64u);  // distinct
  for (std::uint32_t item : order) sums[item][0] += 1, sums[item][1] += item % 7;
  for (std::uint32_t item : order) sums[item][0] += 1;  // a second touch: same rows
  ASSERT_EQ(sums.items().size(), order.size());
  EXPECT_EQ(sums.items(), order);
  for (std::size_t r = 0; r < order.size(); ++r) {
    EXPECT_EQ(sums.rows().row(r)[0], 2.0);
    EXPECT_EQ(sums.rows().row(r)[1], static_cast<double>(order[r] % 7));
  }
}

// Items first met in increasing order are found without a table (the row touched last, or a binary
// search of the items); a new item below a larger one switches to the table, which must then find every
// earlier row as well. Rows stay in first-touch order throughout.
TEST(ItemSums, RowsByItemInIncreasingOrderThenOutOfIt) {
  judgebias::kit::item_sums sums(0, 1);
  for (std::uint32_t item = 0; item < 3000; item += 3) sums[item][0] += 1;   // 1000 rows: 0, 3, ..., 2997
  for (std::uint32_t item = 3; item < 3000; item += 6) sums[item][0] += 10;  // earlier rows touched again
  sums[1500][0] += 100, sums[2997][0] += 100, sums[0][0] += 100;
  std::vector<std::uint32_t> order;
  for (std::uint32_t item = 0; item < 3000; item += 3) order.push_back(item);
  ASSERT_EQ(sums.items(), order);
  sums[1][0] += 1000;  // new, below 2997: through the table from here on
  sums[3001][0] += 1000;
  for (std::uint32_t item = 3; item < 3000; item += 6) sums[item][0] += 10000;
  order.push_back(1), order.push_back(3001);
  ASSERT_EQ(sums.items(), order);
  for (std::size_t r = 0; r < 1000; ++r) {
    const std::uint32_t item = order[r];
    const double want =
        1 + (item % 6 == 3 ? 10010 : 0) + (item == 1500 || item == 2997 || item == 0 ? 100 : 0);
    EXPECT_EQ(sums.rows().row(r)[0], want) << item;
  }
  EXPECT_EQ(sums.rows().row(1000)[0], 1000.0);
  EXPECT_EQ(sums.rows().row(1001)[0], 1000.0);
  EXPECT_EQ(sums.totals()[0], 1000 + 500 * 10010.0 + 300 + 2000);
}

// Without rows (--bootstrap 0), a table keeps the current item's row only: its totals are bit for bit
// those of the kept rows while items come grouped in increasing order, and it says when an item came
// after a larger one (then it may have come before: the caller measures again with rows).
TEST(ItemSums, TotalsWithoutRowsAreTheRowsTotalsWhileItemsComeGrouped) {
  // Values whose sum depends on the order: 1e16 + 1 + 1 is 1e16 (each 1 rounds away) one way and
  // 1e16 + 2 the other.
  const std::vector<std::pair<std::uint32_t, double>> grouped{{3, 1e16}, {7, 1.0}, {7, 1.0}, {9, 0.5}};
  judgebias::kit::item_sums kept(0, 1), folded(0, 1, false);
  for (const auto& [item, x] : grouped) kept[item][0] += x, folded[item][0] += x;
  // Rows 1e16, 2 and 0.5, summed in that order: 1e16 + 2 (the 0.5 rounds away).
  const double expected = 1e16 + 2.0;
  EXPECT_EQ(kept.totals()[0], expected);
  EXPECT_EQ(folded.totals()[0], expected);
  EXPECT_NE(expected, ((1e16 + 1.0) + 1.0) + 0.5);  // the values one by one: 1e16
  EXPECT_FALSE(folded.interleaved());
  EXPECT_EQ(folded.rows().rows(), 0u);
  EXPECT_TRUE(folded.items().empty());

  judgebias::kit::item_sums again(0, 1, false);
  again[1][0] += 1, again[2][0] += 1;
  EXPECT_FALSE(again.interleaved());
  again[1][0] += 1;  // item 1 after item 2
  EXPECT_TRUE(again.interleaved());
  EXPECT_EQ(again.totals()[0], 3.0);
  judgebias::kit::item_sums down(0, 1, false);
  down[5][0] += 1, down[4][0] += 1;  // grouped, but decreasing: told too (it cannot know it is not back)
  EXPECT_TRUE(down.interleaved());
  EXPECT_FALSE(down.keeps_rows());
  EXPECT_TRUE(kept.keeps_rows());
}

// A builder reads the totals of a table it holds for the bootstrap once for all the metrics over it, and
// every other table's each time. With the bootstrap: 1 + 2 = 3 twice, 7 once item 2 gets 4 more, and 10
// on a new item 5 after the intervals were computed (resample: the builder no longer holds it), and tables
// made in a loop, each resampled before it goes, their own totals (11, 22, 33). Without:
// a table per opponent made in a loop, each at the same address and touched as often, gives each its own
// totals (11, 22, 33), as does a table moved into another between two metrics (9, then 4).
TEST(MetricBuilder, TotalsAreReadAgainWhenTheyMayHaveChanged) {
  namespace kit = judgebias::kit;
  auto first = [](std::span<const double> s) -> std::optional<double> { return s[0]; };
  {
    judgebias::config cfg;
    cfg.bootstrap = 50;
    kit::metric_builder mb(cfg, "test", "judge", "");
    kit::item_sums t(0, 1);
    t[1][0] += 1, t[2][0] += 2;
    EXPECT_EQ(*mb.put("a", judgebias::unit::count, 2, t, first, {}, "").value, 3.0);
    EXPECT_EQ(*mb.put("b", judgebias::unit::count, 2, t, first, {}, "").value, 3.0);
    t[2][0] += 4;
    EXPECT_EQ(*mb.put("c", judgebias::unit::count, 2, t, first, {}, "").value, 7.0);
    mb.resample();
    t[5][0] += 3;
    EXPECT_EQ(*mb.put("d", judgebias::unit::count, 3, t, first, {}, "").value, 10.0);
    for (int k = 1; k <= 3; ++k) {  // each resampled, then gone: the next may take its address
      kit::item_sums o(0, 1);
      o[1][0] += k, o[2][0] += 10 * k;
      EXPECT_EQ(*mb.put("o" + std::to_string(k), judgebias::unit::count, 2, o, first, {}, "").value,
                11.0 * k);
      mb.resample();
    }
  }
  judgebias::config cfg;
  cfg.bootstrap = 0;
  kit::metric_builder mb(cfg, "test", "judge", "");
  for (int k = 1; k <= 3; ++k) {
    kit::item_sums t(0, 1);
    t[1][0] += k, t[2][0] += 10 * k;
    EXPECT_EQ(*mb.put("opponent" + std::to_string(k), judgebias::unit::count, 2, t, first, {}, "").value,
              11.0 * k);
  }
  kit::item_sums t(0, 1), u(0, 1);
  t[1][0] += 9, u[1][0] += 4;
  EXPECT_EQ(*mb.put("t", judgebias::unit::count, 1, t, first, {}, "").value, 9.0);
  t = std::move(u);
  EXPECT_EQ(*mb.put("t again", judgebias::unit::count, 1, t, first, {}, "").value, 4.0);
}

// A builder's metrics share one draw (METRICS.md): the clusters are the items of all their tables, in
// increasing id, resampled on the stream (seed, module, judge, group, ""), and each table reads the draws
// of its own items. Worked out again through bootstrap_intervals: `all` holds items 10..59, `some` the
// odd items 41..69 (five of them past `all`), so the clusters are 10..59 and the odd 61..69, 55 of them;
// a table over one item is not resampled. A metric over some of the same items leaves the others' intervals
// as they were alone.
TEST(MetricBuilder, MetricsShareOneDrawOfAllTheirItems) {
  namespace kit = judgebias::kit;
  judgebias::config cfg;
  cfg.bootstrap = 300, cfg.seed = 7;
  rng g(9);
  kit::item_sums all(0, 2), some(0, 2), one(0, 2), inside(0, 2), few(0, 2);
  for (std::uint32_t item = 10; item < 60; ++item) {
    all[item][0] += static_cast<double>(g.below(5)), all[item][1] += 1;
    if (item % 3 == 0) inside[item][0] += static_cast<double>(g.below(7)), inside[item][1] += 2;
  }
  for (std::uint32_t item = 69; item > 40; item -= 2)  // rows in decreasing item order
    some[item][0] += static_cast<double>(g.below(9)), some[item][1] += 1;
  one[3][0] += 1, one[3][1] += 1;
  for (std::uint32_t item : {12u, 30u, 50u}) few[item][0] += 1, few[item][1] += 1;
  const statistic ratio = [](std::span<const double> s) -> std::optional<double> { return s[0] / s[1]; };
  auto interval = [](const kit::measurement& m, const std::string& name) {
    for (const auto& member : m.members)
      if (member.path == std::vector<std::string>{name}) return *member.value;
    ADD_FAILURE() << name;
    return judgebias::metric{};
  };
  kit::metric_builder b(cfg, "s", "J", "");
  b.put("all", judgebias::unit::fraction, 50, all, ratio, {}, "-");
  b.put("some", judgebias::unit::fraction, 15, some, ratio, {}, "-");
  b.put("one", judgebias::unit::fraction, 1, one, ratio, {}, "-");
  b.put("few", judgebias::unit::fraction, 3, few, ratio, {}, "-");
  const kit::measurement m = b.take();

  std::vector<std::uint32_t> clusters;
  for (std::uint32_t item = 10; item < 60; ++item) clusters.push_back(item);
  for (std::uint32_t item = 61; item < 70; item += 2) clusters.push_back(item);
  std::vector<bootstrap_table> tables{{&all.rows(), {}, {}}, {&some.rows(), {}, {}}};
  for (std::size_t t = 0; t < 2; ++t)
    for (std::uint32_t item : (t == 0 ? all : some).items())
      tables[t].cluster_of_row.push_back(static_cast<std::uint32_t>(
          std::lower_bound(clusters.begin(), clusters.end(), item) - clusters.begin()));
  bootstrap_options bo;
  bo.resamples = 300;
  const auto r = bootstrap_intervals(clusters.size(), tables, {{0, ratio}, {1, ratio}}, bo,
                                     stream_seed(7, {"s", "J", "", ""}));
  ASSERT_TRUE(r[0].ci && r[1].ci);
  EXPECT_EQ(interval(m, "all").ci, r[0].ci);  // bit for bit
  EXPECT_EQ(interval(m, "some").ci, r[1].ci);
  // Each table over its own items alone would draw otherwise.
  const auto own =
      bootstrap_intervals(15, {{&some.rows(), {14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, {}}},
                          {{0, ratio}}, bo, stream_seed(7, {"s", "J", "", ""}));
  EXPECT_NE(own.front().ci, r[1].ci);
  const judgebias::metric single = interval(m, "one");
  EXPECT_FALSE(single.ci);
  EXPECT_EQ(single.reason, "the data come from a single item: nothing to resample");
  // Three of the 55 items: none of them drawn in about (52/55)^55 = 4.6 % of the resamples, where the
  // ratio is undefined, so no interval, and the reason says why.
  const judgebias::metric sparse = interval(m, "few");
  EXPECT_FALSE(sparse.ci);
  EXPECT_NE(sparse.reason.find("resamples (more than 1%); it covers 3 of the 55 items resampled"),
            std::string::npos)
      << sparse.reason;

  kit::metric_builder alone(cfg, "s", "J", ""), with(cfg, "s", "J", "");
  alone.put("all", judgebias::unit::fraction, 50, all, ratio, {}, "-");
  with.put("inside", judgebias::unit::fraction, 17, inside, ratio, {}, "-");
  with.put("all", judgebias::unit::fraction, 50, all, ratio, {}, "-");
  const judgebias::metric a = interval(alone.take(), "all");
  ASSERT_TRUE(a.ci);
  EXPECT_EQ(interval(with.take(), "all").ci, a.ci);
  EXPECT_NE(a.ci, interval(m, "all").ci);  // (the five items past `all` change its draw)
}

namespace {

// Items 0-29 in each table, a row (item % 3, 1 + item % 2) each: totals 30 and 45.
void fill_thirty_items(std::initializer_list<judgebias::kit::item_sums*> tables) {
  for (std::uint32_t item = 0; item < 30; ++item)
    for (judgebias::kit::item_sums* t : tables) {
      double* r = (*t)[item];
      r[0] += item % 3, r[1] += 1 + item % 2;
    }
}

// The first sum over the second.
const statistic first_over_second = [](std::span<const double> s) -> std::optional<double> {
  return s[0] / s[1];
};

}  // namespace

// A table handed over is released by the bootstrap at take() (its totals and items stay, its rows go,
// and touching one throws) and gets the interval it gets when kept; a table not resampled (without a
// bootstrap) is left as it is.
TEST(MetricBuilder, HandedOverTablesKeepTheirTotalsAndIntervals) {
  namespace kit = judgebias::kit;
  judgebias::config cfg;
  cfg.bootstrap = 200;
  kit::item_sums mine(0, 2), kept(0, 2);
  fill_thirty_items({&mine, &kept});
  kit::metric_builder a(cfg, "s", "J", ""), b(cfg, "s", "J", "");
  a.put("r", judgebias::unit::fraction, 30, mine, first_over_second, {}, "-");
  a.hand_over(mine);
  b.put("r", judgebias::unit::fraction, 30, kept, first_over_second, {}, "-");
  const kit::measurement ma = a.take(), mb = b.take();
  ASSERT_TRUE(ma.members.at(0).value && ma.members.at(0).value->ci);
  EXPECT_EQ(ma.members.at(0).value->ci, mb.members.at(0).value->ci);  // bit for bit
  EXPECT_EQ(*ma.members.at(0).value->value, 30.0 / 45);  // 0+1+2 ten times over 1+2 fifteen times each
  EXPECT_FALSE(mine.keeps_rows());
  EXPECT_EQ(mine.rows().rows(), 0u);
  EXPECT_EQ(mine.totals(), (std::vector<double>{30, 45}));
  EXPECT_EQ(mine.items(), kept.items());
  EXPECT_TRUE(kept.keeps_rows());
  EXPECT_THROW(mine[29], std::logic_error);  // its last row, and a new item: no row once released
  EXPECT_THROW(mine[40], std::logic_error);

  cfg.bootstrap = 0;
  kit::metric_builder c(cfg, "s", "J", "");
  c.put("r", judgebias::unit::fraction, 30, kept, first_over_second, {}, "-");
  c.hand_over(kept);
  (void)c.take();
  EXPECT_TRUE(kept.keeps_rows());
  EXPECT_EQ(kept.rows().rows(), 30u);
}

// A metric over two tables reads their sums one after the other, and covers the items of both: over
// tables split by item (a on items 0-19, b on 10-29) its value and interval are those of one table of
// all their rows (integer sums: exact in any order), and a table over a few of them says how few.
TEST(MetricBuilder, AMetricOverSeveralTablesIsTheMetricOfTheirRowsTogether) {
  namespace kit = judgebias::kit;
  judgebias::config cfg;
  cfg.bootstrap = 200;
  kit::item_sums a(0, 2), b(0, 2), together(0, 2), few(0, 2);
  for (std::uint32_t item = 0; item < 30; ++item) {
    const double x = item % 3, y = 1 + item % 2;  // a row's (x, y)
    if (item < 20) (a[item][0] += x, a[item][1] += y);
    if (item >= 10) (b[item][0] += 2 * x, b[item][1] += y);
    double* r = together[item];
    if (item < 20) r[0] += x, r[1] += y;
    if (item >= 10) r[0] += 2 * x, r[1] += y;
    if (item < 3) few[item][0] += 1, few[item][1] += 1;
  }
  const statistic of_both = [](std::span<const double> s) -> std::optional<double> {
    EXPECT_EQ(s.size(), 4u);
    return (s[0] + s[2]) / (s[1] + s[3]);
  };
  kit::metric_builder m(cfg, "s", "J", ""), one(cfg, "s", "J", "");
  m.put({"both"}, judgebias::unit::fraction, 40, {&a, &b}, of_both, {}, "-");
  m.put("few", judgebias::unit::fraction, 3, few, first_over_second, {}, "-");
  one.put("both", judgebias::unit::fraction, 40, together, first_over_second, {}, "-");
  one.put("few", judgebias::unit::fraction, 3, few, first_over_second, {}, "-");
  const kit::measurement mm = m.take(), mo = one.take();
  ASSERT_TRUE(mm.members.at(0).value && mm.members.at(0).value->ci);
  // a: Σx = 19 (items 0-19: 0+1+2 six times, then 0+1), Σy = 30; b: Σ2x = 2 × 21 (items 10-29: 1+2+0
  // six times, then 1+2), Σy = 30.
  EXPECT_EQ(*mm.members.at(0).value->value, (19.0 + 42) / 60);
  EXPECT_EQ(mm.members.at(0).value->ci, mo.members.at(0).value->ci);  // bit for bit
  EXPECT_EQ(mm.members.at(1).value->ci, mo.members.at(1).value->ci);
  EXPECT_EQ(mm.members.at(1).value->reason, mo.members.at(1).value->reason);
  EXPECT_NE(mm.members.at(0).value->ci, mm.members.at(1).value->ci);
}

// resample() computes the intervals put so far and frees the tables handed over; a metric put after it
// is resampled at take() on the same stream (over the same items: the same interval as put before), and a
// metric put again at a path takes the first one's place in the report.
TEST(MetricBuilder, ResampleEarlyThenPutAgainInAKeptPlace) {
  namespace kit = judgebias::kit;
  judgebias::config cfg;
  cfg.bootstrap = 200;
  kit::item_sums first(0, 2), later(0, 2);
  fill_thirty_items({&first, &later});
  kit::metric_builder m(cfg, "s", "J", "");
  m.put("a", judgebias::unit::fraction, 30, first, first_over_second, {}, "-");
  m.put("kept", judgebias::metric{});
  m.put("b", judgebias::unit::fraction, 30, first, first_over_second, {}, "-");
  m.hand_over(first);
  m.resample();
  EXPECT_FALSE(first.keeps_rows());
  m.put("kept", judgebias::unit::fraction, 30, later, first_over_second, {}, "-");
  const kit::measurement out = m.take();
  ASSERT_EQ(out.members.size(), 3u);
  EXPECT_EQ(out.members[1].path, std::vector<std::string>{"kept"});
  ASSERT_TRUE(out.members[1].value && out.members[1].value->value && out.members[1].value->ci);
  EXPECT_EQ(*out.members[1].value->value, 30.0 / 45);
  EXPECT_EQ(out.members[1].value->ci, out.members[0].value->ci);  // the same draws, the same sums
  EXPECT_EQ(out.members[2].path, std::vector<std::string>{"b"});
}

// Rows in chunks: a row keeps its place and sums across chunk boundaries (16, 32, 64 rows), a copy has the
// same rows, and a moved-from table is empty and usable again.
TEST(ClusterSums, ChunkedRowsCopyAndMove) {
  judgebias::stats::cluster_sums rows(2);
  std::vector<double*> at;
  for (int r = 0; r < 100; ++r) {
    double* x = rows.add_row();
    EXPECT_EQ(x[0], 0.0);
    x[0] = r, x[1] = 2 * r;
    at.push_back(x);
  }
  for (int r = 0; r < 100; ++r) EXPECT_EQ(rows.row(r), at[static_cast<std::size_t>(r)]) << r;
  EXPECT_EQ(rows.totals(), (std::vector<double>{4950, 9900}));
  const judgebias::stats::cluster_sums copy = rows;
  EXPECT_EQ(copy.rows(), 100u);
  EXPECT_EQ(copy.totals(), rows.totals());
  judgebias::stats::cluster_sums moved = std::move(rows);
  EXPECT_EQ(moved.rows(), 100u);
  EXPECT_EQ(rows.rows(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from table is empty
  rows.add_row()[1] = 5;
  EXPECT_EQ(rows.totals(), (std::vector<double>{0, 5}));
}

// The bootstrap's draws in one loop are exactly n calls of below32: the same counts and the same state
// after (the next output), whether the spare half is used first or not; n = 1,000,000 draws about 230
// low words below 2^32 mod n, so the rejection path is taken too.
TEST(Rng, CountBelow32IsNCallsOfBelow32) {
  for (const std::uint32_t n : {1u, 7u, 18519u, 1000000u})
    for (const bool spare_first : {false, true}) {
      judgebias::stats::rng loop(n * 31 + 5), calls(n * 31 + 5);
      if (spare_first) loop.below32(3), calls.below32(3);  // leaves a spare half
      std::vector<std::uint32_t> a(n, 0), b(n, 0);
      loop.count_below32(a);
      for (std::uint32_t k = 0; k < n; ++k) ++b[calls.below32(n)];
      EXPECT_EQ(a, b) << n;
      if (n <= 0xFFFF) {  // the same draws counted in 16 bits
        judgebias::stats::rng narrow(n * 31 + 5);
        if (spare_first) narrow.below32(3);
        std::vector<std::uint16_t> c(n, 0);
        narrow.count_below32(c);
        EXPECT_TRUE(std::equal(a.begin(), a.end(), c.begin())) << n;
        EXPECT_EQ(narrow.next(), loop.next()) << n;
        calls.next();
      }
      EXPECT_EQ(loop.below32(1000), calls.below32(1000)) << n;
      EXPECT_EQ(loop.next(), calls.next()) << n;
    }
}

// A spare half left by an earlier draw is the first half count_below32 takes; when it is rejected (its
// product with n, in its low 32 bits, falls below 2^32 mod n), the next output's low half draws again, as
// in below32. The seed is found by that definition: the first whose first output's high half is rejected
// for n = 1,000,000 (2^32 mod n = 967,296: about one seed in 4,440).
TEST(Rng, ARejectedSpareHalfDrawsAgain) {
  const std::uint32_t n = 1000000, threshold = (0u - n) % n;
  std::uint64_t seed = 0;
  for (; seed < 1000000; ++seed) {
    judgebias::stats::rng probe(seed);
    const auto high = static_cast<std::uint32_t>(probe.next() >> 32);
    if (static_cast<std::uint32_t>(std::uint64_t{high} * n) < threshold) break;
  }
  ASSERT_LT(seed, 1000000u);
  judgebias::stats::rng loop(seed), calls(seed);
  loop.below32(3), calls.below32(3);  // the first output's low half; its high half is left over
  std::vector<std::uint32_t> a(n, 0), b(n, 0);
  loop.count_below32(a);
  for (std::uint32_t k = 0; k < n; ++k) ++b[calls.below32(n)];
  EXPECT_EQ(a, b);
  EXPECT_EQ(loop.below32(1000), calls.below32(1000));
  EXPECT_EQ(loop.next(), calls.next());
}

// Resamples drawn side by side (four lanes at a time with AVX2, the rest one by one) are those drawn one
// at a time, bit for bit: odd and even n, n of 1, rows that are not a multiple of four, 16- and 32-bit
// counts, and an n whose halves get rejected often (2^32 mod n of every 2^32: 65,146 for n = 65,175, about
// one a resample), which the test counts from the generator's outputs itself.
TEST(Rng, ResamplesSideBySideAreResamplesOneByOne) {
  auto rejections = [](std::uint64_t stream, std::uint64_t b, std::uint32_t n) {
    std::uint64_t state = stream + b;
    judgebias::stats::rng gen(splitmix64(state));
    const std::uint32_t threshold = (0u - n) % n;
    std::uint32_t drawn = 0, rejected = 0;
    while (drawn < n) {
      const std::uint64_t word = gen.next();
      for (const std::uint64_t half : {word & 0xFFFFFFFF, word >> 32})
        if (drawn < n) static_cast<std::uint32_t>(half * n) < threshold ? ++rejected : ++drawn;
    }
    return rejected;
  };
  std::uint32_t rejected = 0;
  for (const std::uint32_t n : {1u, 2u, 7u, 2000u, 2001u, 65175u}) {
    for (const std::size_t rows : {std::size_t{1}, std::size_t{4}, std::size_t{11}}) {
      std::vector<std::uint16_t> side(rows * n, 9);  // (zeroed first)
      resample_counts(77, 5, rows, side);
      std::vector<std::uint32_t> side32(rows * n, 9);
      resample_counts(77, 5, rows, side32);
      for (std::size_t r = 0; r < rows; ++r) {
        std::vector<std::uint16_t> one(n, 9);  // (zeroed first too)
        resample_counts(77, 5 + r, one);
        ASSERT_TRUE(std::equal(one.begin(), one.end(), side.begin() + static_cast<std::ptrdiff_t>(r * n)))
            << "n " << n << " row " << r << " of " << rows;
        ASSERT_TRUE(std::equal(one.begin(), one.end(), side32.begin() + static_cast<std::ptrdiff_t>(r * n)))
            << "n " << n << " row " << r << " of " << rows << " (32 bits)";
        if (rows == 11) rejected += rejections(77, 5 + r, n);
      }
    }
  }
  EXPECT_GE(rejected, 3u);              // (the lanes' rejected halves were met, and drawn again)
  constexpr std::size_t past = 100003;  // 32-bit counts past 65,535 clusters
  std::vector<std::uint32_t> big(4 * past);
  resample_counts(3, 0, 4, big);
  std::vector<std::uint32_t> one(past);
  resample_counts(3, 2, one);
  EXPECT_TRUE(std::equal(one.begin(), one.end(), big.begin() + static_cast<std::ptrdiff_t>(2 * past)));
}

namespace {
// A resample's 32-bit counts as its 16-bit row of a batch's weights (each count below 2^16 here).
void as_weights(std::span<const std::uint32_t> counts, std::span<std::uint16_t> row) {
  for (std::size_t i = 0; i < counts.size(); ++i) {
    ASSERT_LE(counts[i], 0xFFFFu);
    row[i] = static_cast<std::uint16_t>(counts[i]);
  }
}
}  // namespace

TEST(WeightedSums, HandWorked) {
  using judgebias::detail::add_weighted_sums;
  using judgebias::detail::weighted_sums_code;
  // 3 clusters × 16 columns (two panels of 8): cluster i's row is (i + 1) · (1, 2, ..., 16), halved in
  // the second panel. Packed, the first panel is whole numbers and the second halves (a step of 1/2); 3
  // clusters make a pair and a padded one.
  for (const bool pack : {false, true}) {
    judgebias::detail::panel_table table(3, 16);
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t k = 0; k < 16; ++k)
        table.at(i, k) = static_cast<double>((i + 1) * (k + 1)) / (k < 8 ? 1.0 : 2.0);
    if (pack) {
      ASSERT_TRUE(table.pack(0));
      ASSERT_TRUE(table.pack(1));
      EXPECT_EQ(table.steps(0)[0], 1.0);
      EXPECT_EQ(table.steps(1)[0], 0.5);  // (k + 1)(i + 1)/2 with k = 8: 4.5 at i = 0
      EXPECT_EQ(table.steps(1)[1], 1.0);  // k = 9: 5, 10, 15
      EXPECT_EQ(table.value(2, 8), 13.5);
    }
    // 4 resamples' draws of the 3 clusters: (3, 0, 0), (1, 1, 1), (0, 0, 3), (0, 2, 1).
    const std::vector<std::uint16_t> weights = {3, 0, 0, 1, 1, 1, 0, 0, 3, 0, 2, 1};
    auto at = [](std::size_t resample, std::size_t k) { return resample * 16 + k; };  // the sums, row-major
    for (const auto code : {weighted_sums_code::best, weighted_sums_code::portable}) {
      std::vector<double> sums(at(4, 0), 1.0);  // added to: each sum starts at 1
      add_weighted_sums(weights, 4, table, sums, code);
      // Column k (value c at weight 1, c = k + 1, halved from k = 8): 3·1, 1 + 2 + 3 = 6, 3·3 = 9,
      // 2·2 + 3 = 7 times c, plus 1.
      for (std::size_t k = 0; k < 16; ++k) {
        const double c = static_cast<double>(k + 1) / (k < 8 ? 1.0 : 2.0);
        EXPECT_EQ(sums[at(0, k)], 1 + 3 * c) << k << " packed " << pack;
        EXPECT_EQ(sums[at(1, k)], 1 + 6 * c) << k << " packed " << pack;
        EXPECT_EQ(sums[at(2, k)], 1 + 9 * c) << k << " packed " << pack;
        EXPECT_EQ(sums[at(3, k)], 1 + 7 * c) << k << " packed " << pack;
      }
    }
  }
}

// What pack() takes: a column whose values are whole numbers of one power of two, at most 2^15 − 1 of
// it from 0; anything else leaves the panel as it was.
TEST(WeightedSums, PackTakesOnlyWhatIsExact) {
  using judgebias::detail::panel_table;
  auto packs = [](double v, double other = 1.0) {
    panel_table t(5, 8);
    t.at(0, 3) = v, t.at(4, 3) = other, t.at(2, 0) = -7;
    const bool packed = t.pack(0);
    // Packed or not, the table reads back the same values.
    EXPECT_EQ(std::bit_cast<std::uint64_t>(t.value(0, 3)), std::bit_cast<std::uint64_t>(v == 0 ? 0.0 : v));
    EXPECT_EQ(t.value(4, 3), other);
    EXPECT_EQ(t.value(2, 0), -7);
    EXPECT_EQ(t.value(1, 3), 0);
    EXPECT_EQ(t.packed(0), packed);
    return packed;
  };
  EXPECT_TRUE(packs(32767));
  EXPECT_TRUE(packs(-32767));
  EXPECT_FALSE(packs(32768));
  EXPECT_FALSE(packs(1e6));
  EXPECT_TRUE(packs(0.25, 8191.75));                               // 32767 quarters
  EXPECT_FALSE(packs(0.25, 8192));                                 // 32768 quarters
  EXPECT_TRUE(packs(std::ldexp(1.0, -30), std::ldexp(5.0, -30)));  // steps of 2^-30
  EXPECT_FALSE(packs(std::ldexp(1.0, -31), std::ldexp(5.0, -31)));
  EXPECT_FALSE(packs(1.0 / 3));
  EXPECT_FALSE(packs(0.1));
  EXPECT_FALSE(packs(std::nan("")));
  EXPECT_FALSE(packs(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(packs(std::numeric_limits<double>::denorm_min()));
  EXPECT_TRUE(packs(-0.0, 0.0));
  // 32,767 steps over 70,000 clusters: a resample's draws (70,000) would pass 2^31 − 1 (limit 65,538).
  {
    panel_table big(70000, 8);
    big.at(69999, 2) = 32767;
    EXPECT_FALSE(big.pack(0));
    panel_table fewer(65538, 8);
    fewer.at(65537, 2) = 32767;
    EXPECT_TRUE(fewer.pack(0));
  }
  // The weights a resample may add up to: 2^31 − 1 over the largest value in steps (7 in column 0;
  // 5.25, 21 quarters, in column 1).
  panel_table t(2, 8);
  t.at(0, 0) = 7, t.at(0, 1) = 0.25, t.at(1, 1) = 5.25;
  ASSERT_TRUE(t.pack(0));
  EXPECT_EQ(t.weight_limit(0), 2147483647u / 21);
}

// The 32-bit bound, hand-worked: 32,767 (its largest value) on clusters 0-2 of 5 makes the limit
// (2^31 − 1) / 32,767 = 65,538. A row whose weights add up to it is summed in 32 bits: 21,846 + 21,846 +
// 21,845 draws of 32,767 = 2,147,450,879, and one draw of cluster 4 (−1 in column 1). A row one past it
// (21,846 + 21,846 + 21,847 = 65,539: 2,147,516,413, past 2^31 − 1) is summed as doubles. Each row in
// a group of 4 of its own (the bound is checked per group).
TEST(WeightedSums, RowsPastTheWeightLimitAreSummedAsDoubles) {
  using judgebias::detail::add_weighted_sums;
  using judgebias::detail::weighted_sums_code;
  constexpr std::size_t n = 5, width = 8;
  judgebias::detail::panel_table table(n, width);
  for (std::size_t i = 0; i < 3; ++i) table.at(i, 0) = 32767;
  table.at(4, 1) = -1;
  ASSERT_TRUE(table.pack(0));
  ASSERT_EQ(table.weight_limit(0), 65538u);
  std::vector<std::uint16_t> weights(8 * n, 0);
  const std::vector<std::uint16_t> at = {21846, 21846, 21845, 0, 1}, past = {21846, 21846, 21847, 0, 0};
  std::copy(at.begin(), at.end(), weights.begin());
  std::copy(past.begin(), past.end(), weights.begin() + static_cast<std::ptrdiff_t>(4 * n));
  for (const auto code : {weighted_sums_code::best, weighted_sums_code::portable}) {
    std::vector<double> sums(8 * width, 0.0);
    add_weighted_sums(weights, 8, table, sums, code);
    EXPECT_EQ(sums[0], 2147450879.0);
    EXPECT_EQ(sums[1], -1.0);
    EXPECT_EQ(sums[4 * width], 2147516413.0);
    EXPECT_EQ(sums[4 * width + 1], 0.0);
  }
}

// Packed panels give the bits of the same panels unpacked, on every code: whole numbers up to 2^15 − 1,
// quarters, a panel that does not pack (thirds), one never filled; an odd number of clusters over three
// blocks (40,001); draws as the bootstrap makes them, and rows the packed sums cannot take (a weight of
// 2^15, weights whose products would pass 32 bits), which go the doubles' way.
TEST(WeightedSums, PackedPanelsGiveTheSameBits) {
  using judgebias::detail::add_weighted_sums;
  using judgebias::detail::panel_table;
  using judgebias::detail::weighted_sums_code;
  const std::size_t clusters = 40001, width = 40, resamples = 12;
  panel_table plain(clusters, width), packed(clusters, width);
  judgebias::stats::rng gen(11);
  for (std::size_t i = 0; i < clusters; ++i)
    for (std::size_t k = 0; k < width; ++k) {
      const std::size_t panel = k / 8;
      if (panel == 3) continue;  // never filled
      const double whole = static_cast<double>(gen.below32(65535)) - 32767;
      const double v = panel == 0   ? whole
                       : panel == 1 ? whole / 4
                       : panel == 2 ? whole / 3
                                    : std::floor(whole / 300);
      plain.at(i, k) = v, packed.at(i, k) = v;
    }
  const std::vector<bool> packs = {true, true, false, true, true};
  for (std::size_t p = 0; p < width / 8; ++p) EXPECT_EQ(packed.pack(p), packs[p]) << p;
  std::vector<std::uint16_t> weights(resamples * clusters);
  std::vector<std::vector<std::uint32_t>> draws;
  for (std::size_t b = 0; b < resamples; ++b) {
    std::vector<std::uint32_t>& counts = draws.emplace_back(clusters, 0);
    if (b == 5) {
      counts[5] = 32768, counts[40000] = 3;  // a weight of 2^15 (no 16-bit signed one) among draws
    } else if (b < 8) {
      resample_counts(3, b, counts);
    } else {
      // 4,000 on every cluster: 1.6e8 in all, whose products with 32767 pass 2^31.
      std::fill(counts.begin(), counts.end(), 4000u - static_cast<std::uint32_t>(b));
    }
    as_weights(counts, std::span(weights).subspan(b * clusters, clusters));
  }
  std::vector<double> want(resamples * width, 0.0);
  add_weighted_sums(weights, resamples, plain, want, weighted_sums_code::portable);
  EXPECT_NE(want[9 * width + 0], 0.0);
  for (const auto code : {weighted_sums_code::best, weighted_sums_code::portable}) {
    std::vector<double> sums(resamples * width, 0.0);
    add_weighted_sums(weights, resamples, packed, sums, code);
    for (std::size_t j = 0; j < sums.size(); ++j)
      ASSERT_EQ(sums[j], want[j]) << "resample " << j / width << " column " << j % width
                                  << (code == weighted_sums_code::best ? " (best)" : " (portable)");
  }
  // Draws of as many as the clusters, told so (`drawn`: each weight below 2^15, rows 0-3 here): the same
  // bits.
  std::vector<double> sums(4 * width, 0.0);
  add_weighted_sums(std::span(weights).first(4 * clusters), 4, packed, sums, weighted_sums_code::best,
                    clusters);
  for (std::size_t j = 0; j < sums.size(); ++j) ASSERT_EQ(sums[j], want[j]) << j;
  // And one resample at a time from its 32-bit counts.
  for (std::size_t b = 0; b < resamples; ++b) {
    std::vector<double> one(width, 0.0);
    add_weighted_sums(draws[b], packed, one);
    for (std::size_t k = 0; k < width; ++k) ASSERT_EQ(one[k], want[b * width + k]) << b << " " << k;
  }
}

// A batch of the bootstrap's resampled sums (its draws side by side, counted in 16 bits, then the
// product over packed and unpacked panels) is each resample's 32-bit counts times the unpacked table, one
// resample at a time: below and past 32,768 and 65,536 clusters (where each row's counts are checked),
// 5 resamples (a group of 4 and one padded).
TEST(WeightedSums, ABatchOfResamplesIsEachResampleOnItsOwn) {
  using judgebias::detail::panel_table;
  for (const std::size_t clusters : {std::size_t{3001}, std::size_t{40001}, std::size_t{70001}}) {
    const std::size_t width = 16;
    panel_table plain(clusters, width), packed(clusters, width);
    judgebias::stats::rng gen(5);
    for (std::size_t i = 0; i < clusters; ++i)
      for (std::size_t k = 0; k < width; ++k) {
        const double v = static_cast<double>(gen.below32(61)) / (k < 8 ? 2.0 : 3.0);  // halves, thirds
        plain.at(i, k) = v, packed.at(i, k) = v;
      }
    ASSERT_TRUE(packed.pack(0));
    ASSERT_FALSE(packed.pack(1));
    judgebias::detail::resampled_sums batch(clusters,
                                            judgebias::detail::resampled_sums::batch_size(clusters));
    const std::span<const double> sums = batch.of(99, 10, 5, packed);
    for (std::size_t b = 0; b < 5; ++b) {
      std::vector<std::uint32_t> counts(clusters);
      resample_counts(99, 10 + b, counts);
      std::vector<double> one(width, 0.0);
      judgebias::detail::add_weighted_sums(counts, plain, one);
      for (std::size_t k = 0; k < width; ++k)
        ASSERT_EQ(sums[b * width + k], one[k]) << clusters << " clusters, resample " << b << " column " << k;
    }
  }
}

// A batch's row of draws fits the packed panels when every count is below 2^15 and they add up to the
// draws (a count that wrapped past 65,535 makes them add up to less); a row that does not goes to the
// one-resample sums from 32-bit counts, which take any count.
TEST(WeightedSums, DrawsPast16BitsAreLeftToTheOneResampleSums) {
  using judgebias::detail::draws_fit_16_bits;
  EXPECT_TRUE(draws_fit_16_bits(std::vector<std::uint16_t>{0, 32767, 2}, 32769));
  EXPECT_FALSE(draws_fit_16_bits(std::vector<std::uint16_t>{0, 32768, 1}, 32769));  // a count of 2^15
  EXPECT_FALSE(draws_fit_16_bits(std::vector<std::uint16_t>{3, 0, 4}, 65543));      // 65,536 + 3 wrapped to 3
  EXPECT_FALSE(draws_fit_16_bits(std::vector<std::uint16_t>{1, 2, 3}, 7));          // (fewer than drawn)
  // 70,000 draws of the second cluster: 70000 · 0.5 + 1 · 3 in the first column, 70000 · 2 in the
  // second; the second panel, never asked for, is zeros.
  judgebias::detail::panel_table table(2, 16);
  table.at(0, 0) = 3.0, table.at(1, 0) = 0.5, table.at(1, 1) = 2.0;
  std::vector<double> sums(16, 0.0);
  sums[0] = 1.0, sums[9] = 4.0;
  judgebias::detail::add_weighted_sums(std::vector<std::uint32_t>{1, 70000}, table, sums);
  EXPECT_EQ(sums[0], 1 + 3 + 35000);
  EXPECT_EQ(sums[1], 140000);
  EXPECT_EQ(sums[9], 4.0);
}

// Blocks of the table never asked for are zeros: a panel filled in its last block only, beside panels
// filled whole and one never filled, gives the sums of the same table with every block there (40,000
// clusters: blocks of 16,384, 16,384 and 7,232).
TEST(WeightedSums, BlocksNeverFilledAddNothing) {
  using judgebias::detail::add_weighted_sums;
  using judgebias::detail::panel_table;
  using judgebias::detail::weighted_sums_code;
  const std::size_t clusters = 40000, width = 32, resamples = 4;
  panel_table sparse(clusters, width), full(clusters, width);
  judgebias::stats::rng gen(8);
  for (std::size_t i = 0; i < clusters; ++i)
    for (std::size_t k = 0; k < width; ++k) {
      const std::size_t panel = k / 8;
      full.at(i, k) = 0;                                                            // every block there
      if (panel == 2 || (panel == 1 && i < 2 * panel_table::block_rows)) continue;  // never filled
      const double v = static_cast<double>(gen.below32(1000)) / 7.0;
      sparse.at(i, k) = v, full.at(i, k) = v;
    }
  ASSERT_EQ(std::as_const(sparse).block(1, 0), nullptr);
  ASSERT_EQ(std::as_const(sparse).block(2, 2), nullptr);
  ASSERT_NE(std::as_const(sparse).block(1, 2), nullptr);
  std::vector<std::uint16_t> weights(resamples * clusters);
  std::vector<std::uint32_t> counts(clusters);
  for (std::size_t b = 0; b < resamples; ++b) {
    resample_counts(4, b, counts);
    as_weights(counts, std::span(weights).subspan(b * clusters, clusters));
  }
  std::vector<double> want(resamples * width, 0.0);
  add_weighted_sums(weights, resamples, full, want, weighted_sums_code::portable);
  EXPECT_NE(want[1 * width + 9], 0.0);   // (panel 1's last block counts)
  EXPECT_NE(want[2 * width + 31], 0.0);  // (and panel 3, after the panel never filled)
  for (const auto code : {weighted_sums_code::best, weighted_sums_code::portable}) {
    std::vector<double> sums(resamples * width, 0.0);
    add_weighted_sums(weights, resamples, sparse, sums, code);
    EXPECT_EQ(sums, want);
  }
  std::vector<double> one(width, 0.0), one_full(width, 0.0);
  add_weighted_sums(counts, sparse, one);
  add_weighted_sums(counts, full, one_full);
  EXPECT_EQ(one, one_full);
}

TEST(WeightedSums, EveryCodeAddsInClusterOrderToTheBit) {
  using judgebias::detail::add_weighted_sums;
  using judgebias::detail::panel_table;
  using judgebias::detail::weighted_sums_code;
  // Values whose sums depend on the order of the terms (thirds and large magnitudes), more clusters
  // than one chunk of the product holds (8 columns: chunks of the most rows, 512) and than one block of
  // the table (16,384, the last block partly full), and draws as the bootstrap makes them.
  for (const std::size_t width : {std::size_t{8}, std::size_t{24}}) {
    const std::size_t clusters = 40000, resamples = 8;
    panel_table table(clusters, width);
    std::vector<std::uint16_t> weights(resamples * clusters);
    std::vector<std::vector<std::uint32_t>> draws;
    judgebias::stats::rng gen(42);
    for (std::size_t i = 0; i < clusters; ++i)
      for (std::size_t k = 0; k < width; ++k)
        table.at(i, k) = (static_cast<double>(gen.below32(1000000)) - 500000) / 3.0 * 1e3;
    for (std::size_t b = 0; b < resamples; ++b) {
      std::vector<std::uint32_t>& counts = draws.emplace_back(clusters, 0);
      resample_counts(7, b, counts);
      as_weights(counts, std::span(weights).subspan(b * clusters, clusters));
    }
    // The reference: each sum in cluster order, a rounded product then a rounded sum (volatile keeps the
    // compiler from fusing them).
    std::vector<double> forward(resamples * width, 0.0), backward(resamples * width, 0.0);
    for (std::size_t b = 0; b < resamples; ++b)
      for (std::size_t k = 0; k < width; ++k) {
        double s = 0;
        for (std::size_t i = 0; i < clusters; ++i) {
          const volatile double p = weights[b * clusters + i] * table.at(i, k);
          s += p;
        }
        forward[b * width + k] = s;
        s = 0;
        for (std::size_t i = clusters; i-- > 0;) {
          const volatile double p = weights[b * clusters + i] * table.at(i, k);
          s += p;
        }
        backward[b * width + k] = s;
      }
    ASSERT_NE(forward, backward) << "the data should tell the order of the terms apart";
    for (const auto code : {weighted_sums_code::best, weighted_sums_code::portable}) {
      std::vector<double> sums(resamples * width, 0.0);
      add_weighted_sums(weights, resamples, table, sums, code);
      for (std::size_t j = 0; j < sums.size(); ++j)
        ASSERT_EQ(sums[j], forward[j])
            << "sum " << j << (code == weighted_sums_code::best ? " (best)" : " (portable)");
    }
    // The one-resample sums from 32-bit counts (for counts past 16 bits) give the same bits.
    for (std::size_t b = 0; b < resamples; ++b) {
      std::vector<double> one(width, 0.0);
      add_weighted_sums(draws[b], table, one);
      for (std::size_t k = 0; k < width; ++k) ASSERT_EQ(one[k], forward[b * width + k]) << b << " " << k;
    }
  }
}
