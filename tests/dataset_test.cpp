// The dataset's shared indexes: duplicates, comparisons, swap pairs, control matches and gold.
#include <bit>
#include <cmath>
#include <limits>
#include <sstream>
#include <tuple>

#include "test_util.hpp"

using namespace judgebias;

namespace {

// A pairwise line of judge j on item q; `extra` adds fields.
std::string pw(const std::string& judge, const std::string& a, const std::string& b,
               const std::string& verdict, const std::string& extra = "") {
  return R"({"judge":")" + judge + R"(","item":"q","a":{"id":")" + a + R"("},"b":{"id":")" + b +
         R"("},"verdict":)" + verdict + extra + "}\n";
}

}  // namespace

TEST(Dataset, DuplicatesAreCountedAndMarked) {
  auto data = jbtest::load_text(
      pw("j", "x", "y", "\"A\"") + pw("j", "x", "y", "\"B\"") + pw("j", "x", "y", "\"B\"", R"(,"run":1)") +
      pw("j", "x", "y", "\"B\"", R"(,"perturbation":{"kind":"bandwagon","target":"B"})") +
      pw("j", "x", "y", "\"A\"", R"(,"perturbation":{"kind":"bandwagon","target":"B"})"));
  const dataset& d = data.dataset;
  EXPECT_EQ(d.diagnostics().duplicates, 2u);  // line 2 repeats line 1, line 5 repeats line 4
  EXPECT_FALSE(d.is_duplicate(0));
  EXPECT_TRUE(d.is_duplicate(1));
  EXPECT_FALSE(d.is_duplicate(2));  // another run
  EXPECT_FALSE(d.is_duplicate(3));  // a perturbation is another record
  EXPECT_TRUE(d.is_duplicate(4));
}

TEST(Dataset, ComparisonsAndSwapPairs) {
  auto data =
      jbtest::load_text(pw("j", "x", "y", "\"A\"") + pw("j", "y", "x", "\"A\"") +   // run 0, both orders
                        pw("j", "x", "y", "\"B\"", R"(,"run":1)") +                 // run 1, one order
                        pw("j", "x", "z", "\"tie\"") + pw("k", "y", "x", "null"));  // other pair, other judge
  const dataset& d = data.dataset;
  ASSERT_EQ(d.comparisons().size(), 3u);  // (j,x,y) (j,x,z) (k,x,y)
  EXPECT_EQ(d.comparison_records(0).size(), 3u);
  EXPECT_EQ(d.comparison_of(0), d.comparison_of(1));
  EXPECT_EQ(d.comparison_of(0), d.comparison_of(2));
  ASSERT_EQ(d.swap_pairs().size(), 1u);
  const swap_pair& s = d.swap_pairs()[0];
  EXPECT_EQ(s.run, 0u);
  EXPECT_EQ(d.candidates().name(d.cand_a(s.lo_first)), "x");  // "x" was interned first, so it is lo
  EXPECT_EQ(s.lo_first, 0u);
  EXPECT_EQ(s.hi_first, 1u);
  EXPECT_EQ(d.diagnostics().one_order_comparisons, 3u);  // (j,x,y) run 1, (j,x,z), (k,x,y)
  // Outcomes are candidate ids: record 1 shows y first and picks A = y.
  EXPECT_EQ(d.outcome(1), d.candidates().find("y"));
  EXPECT_EQ(d.outcome(3), tie_outcome);
  EXPECT_EQ(d.outcome(4), no_id);
  EXPECT_EQ(d.comparisons_of_judge(d.judges().find("k")).size(), 1u);
}

TEST(Dataset, ControlMatchesPreferTheSameOrderAndTheSameRun) {
  auto data = jbtest::load_text(
      pw("j", "x", "y", "null") +   // 0 control, null verdict
      pw("j", "y", "x", "\"A\"") +  // 1 control, other order
      pw("j", "x", "y", "\"B\"",
         R"(,"perturbation":{"kind":"authority","target":"B"})") +  // 2 → 0 (same order)
      pw("j", "y", "x", "\"B\"", R"(,"perturbation":{"kind":"authority","target":"x"})") +  // 3 → 1
      pw("j", "x", "y", "\"B\"",
         R"(,"run":2,"perturbation":{"kind":"authority","target":"B"})") +  // 4 unmatched
      pw("j", "x", "z", "\"B\"",
         R"(,"run":0,"perturbation":{"kind":"authority","target":"B"})") +  // 5 unmatched
      pw("j", "z", "w", "\"B\"") +                                          // 6 control, z-w
      pw("j", "w", "z", "\"A\"",
         R"(,"perturbation":{"kind":"bandwagon","target":"A"})"));  // 7 → 6 (other order)
  const dataset& d = data.dataset;
  ASSERT_EQ(d.control_matches().size(), 3u);
  EXPECT_EQ(d.control_matches()[0].perturbed, 2u);
  EXPECT_EQ(d.control_matches()[0].control, 0u);  // same order even though its verdict is null
  EXPECT_EQ(d.control_matches()[1].control, 1u);
  EXPECT_EQ(d.control_matches()[2].perturbed, 7u);
  EXPECT_EQ(d.control_matches()[2].control, 6u);
  EXPECT_EQ(d.diagnostics().unmatched_perturbed, 2u);
  EXPECT_EQ(d.target(3), d.candidates().find("x"));
}

namespace {

// The dataset of JSONL `text` with its indexes built on `threads` threads.
dataset indexed_on(const std::string& text, unsigned threads) {
  reader rd;
  dataset_builder b;
  rd.read_buffer("in.jsonl", text, [&](const record& r) { b.add(r); });
  dataset_options o;
  o.threads = threads;
  return std::move(b).finish(o);
}

// Every per-item index and count of `many` is `one`'s.
void expect_same_indexes(const dataset& one, const dataset& many, unsigned threads) {
  EXPECT_EQ(many.diagnostics().duplicates, one.diagnostics().duplicates) << threads;
  EXPECT_EQ(many.diagnostics().unmatched_perturbed, one.diagnostics().unmatched_perturbed) << threads;
  EXPECT_EQ(many.diagnostics().one_order_comparisons, one.diagnostics().one_order_comparisons) << threads;
  ASSERT_EQ(many.comparisons().size(), one.comparisons().size()) << threads;
  for (std::size_t c = 0; c < one.comparisons().size(); ++c) {
    const comparison &x = many.comparisons()[c], &y = one.comparisons()[c];
    ASSERT_EQ(std::tie(x.judge, x.item, x.lo, x.hi, x.model_lo, x.model_hi, x.gold),
              std::tie(y.judge, y.item, y.lo, y.hi, y.model_lo, y.model_hi, y.gold))
        << threads << " " << c;
  }
  ASSERT_EQ(many.size(), one.size());
  for (dataset::index i = 0; i < one.size(); ++i) {
    ASSERT_EQ(many.comparison_of(i), one.comparison_of(i)) << threads << " " << i;
    ASSERT_EQ(many.is_duplicate(i), one.is_duplicate(i)) << threads << " " << i;
  }
  ASSERT_EQ(many.control_matches().size(), one.control_matches().size()) << threads;
  for (std::size_t k = 0; k < one.control_matches().size(); ++k) {
    ASSERT_EQ(many.control_matches()[k].perturbed, one.control_matches()[k].perturbed) << threads << " " << k;
    ASSERT_EQ(many.control_matches()[k].control, one.control_matches()[k].control) << threads << " " << k;
  }
  EXPECT_EQ(many.swap_pairs().size(), one.swap_pairs().size()) << threads;
}

}  // namespace

// The per-item indexes built on several threads (a range of items each, from 65,536 records a range) are
// those of one thread: about 200,000 synth records over 4,000 items (a copy of 2,000 items under other
// names, every 37th line of it left out, and the controls of a tenth of its items, so that some perturbed
// records lose their control and some comparisons one order), with bandwagon and authority records and their
// controls, and three repeated lines (one in each third of the items), so that each of three ranges has
// duplicates and comparisons numbered after the others. Then an item with two thirds of the records, which
// leaves the middle of three ranges without an item.
TEST(Dataset, IndexesOnSeveralThreadsAreThoseOfOne) {
  std::ostringstream out;
  synth_options so;
  so.items = 2000;
  synthesize(so, out);
  const std::string first = out.str();
  std::string renamed = first;
  for (std::size_t at = 0; (at = renamed.find("\"synth-", at)) != std::string::npos; at += 7)
    renamed.replace(at, 7, "\"other-");
  std::string second;
  std::size_t line = 0, left_out = 0;
  for (std::size_t at = 0; at < renamed.size(); ++line) {
    const std::size_t end = renamed.find('\n', at) + 1;
    const std::string_view l(renamed.data() + at, end - at);
    // Every 37th line, and the controls of the items numbered ...7 (their perturbed records unmatched).
    const std::size_t item = l.find("\"item\":\"other-") + 14;
    if (line % 37 == 36 || (l[item + 5] == '7' && l.find("perturbation") == std::string_view::npos))
      ++left_out;
    else
      second.append(l);
    at = end;
  }
  std::string text = first + second;
  for (const std::size_t at : {std::size_t{1000}, first.size() - 1000, text.size() - 1000}) {
    const std::size_t start = text.rfind('\n', at) + 1, end = text.find('\n', start) + 1;
    text += text.substr(start, end - start);  // the same line again: a duplicate
  }
  const dataset one = indexed_on(text, 1);
  ASSERT_EQ(one.size(), std::size_t{2} * 108000 - left_out + 3);
  ASSERT_GT(one.size(), std::size_t{3} * 65536);  // three ranges at 3 threads
  EXPECT_EQ(one.diagnostics().duplicates, 3u);
  EXPECT_GT(one.control_matches().size(), 0u);
  EXPECT_GT(one.diagnostics().unmatched_perturbed, 0u);
  EXPECT_GT(one.diagnostics().one_order_comparisons, 0u);
  for (const unsigned threads : {2u, 3u}) expect_same_indexes(one, indexed_on(text, threads), threads);
  // The repeated lines are the last three records: the copies, not the first, are the duplicates.
  const auto n = static_cast<dataset::index>(one.size());
  EXPECT_TRUE(one.is_duplicate(n - 3) && one.is_duplicate(n - 2) && one.is_duplicate(n - 1));

  // Every record of the first copy, twice, on one item (the same records: the second time duplicates).
  std::string big = first + first;
  for (std::size_t at = 0; (at = big.find("\"synth-", at)) != std::string::npos; at += 7)
    big.replace(at + 7, 6, "000000");
  big += second;
  const dataset one_big = indexed_on(big, 1);
  EXPECT_GE(one_big.diagnostics().duplicates, 108000u);
  expect_same_indexes(one_big, indexed_on(big, 3), 3);
}

TEST(Dataset, InlineGoldInIdentityTermsAndConflicts) {
  auto data = jbtest::load_text(pw("j", "x", "y", "\"A\"", R"(,"gold":"B")") +  // gold y
                                pw("j", "y", "x", "\"A\"", R"(,"gold":"A")") +  // gold y again, other order
                                pw("j", "x", "z", "\"A\"", R"(,"gold":"A")") +  // gold x
                                pw("j", "z", "x", "\"A\"", R"(,"gold":"A")"));  // gold z: conflict
  const dataset& d = data.dataset;
  EXPECT_EQ(d.comparisons()[0].gold, d.candidates().find("y"));
  EXPECT_EQ(d.gold_in_presentation(0), verdict::b);
  EXPECT_EQ(d.gold_in_presentation(1), verdict::a);
  EXPECT_EQ(d.comparisons()[1].gold, no_id);
  EXPECT_EQ(d.diagnostics().gold_conflicts, 1u);
  ASSERT_EQ(d.diagnostics().warnings.size(), 1u);
}

TEST(Dataset, GoldJudgesMajority) {
  // Gold judges g1..g3 on pair (x, y), verdicts over both orders and runs:
  //   g1: x, x, y      → x 2 vs 1: votes x
  //   g2: tie, y       → x 0.5 vs y 1.5: votes y
  //   g3: x, tie       → x 1.5 vs 0.5: votes x
  // Gold: x 2 votes vs y 1 → x. Pair (x, z): g1 x, g2 z → an even split → tie.
  std::string t = pw("g1", "x", "y", "\"A\"") + pw("g1", "y", "x", "\"B\"") +
                  pw("g1", "x", "y", "\"B\"", R"(,"run":1)") + pw("g2", "x", "y", "\"tie\"") +
                  pw("g2", "y", "x", "\"A\"") + pw("g3", "x", "y", "\"A\"") + pw("g3", "y", "x", "\"tie\"") +
                  pw("g3", "x", "y", "null", R"(,"run":1)") + pw("g1", "x", "z", "\"A\"") +
                  pw("g2", "z", "x", "\"A\"") +
                  pw("j", "y", "x", "\"A\"", R"(,"gold":"A")") +  // inline gold is replaced
                  pw("j", "x", "z", "\"A\"") + pw("j", "z", "w", "\"A\"");
  t += R"({"judge":"g1","item":"q","response":{"id":"x"},"score":6})"
       "\n";
  t += R"({"judge":"g2","item":"q","response":{"id":"x"},"score":9})"
       "\n";
  t += R"({"judge":"g3","item":"q","response":{"id":"x"},"score":null})"
       "\n";
  t += R"({"judge":"j","item":"q","response":{"id":"x"},"score":8,"gold":1})"
       "\n";
  t += R"({"judge":"j","item":"q","response":{"id":"y"},"score":8,"gold":1})"
       "\n";
  config cfg;
  cfg.gold_judges = {"g1", "g2", "g3"};
  auto data = jbtest::load_text(t, cfg);
  const dataset& d = data.dataset;
  const std::uint32_t j = d.judges().find("j"), x = d.candidates().find("x");
  ASSERT_EQ(d.measured_judges().size(), 1u);  // gold judges are not measured
  EXPECT_EQ(d.measured_judges()[0], j);
  auto comps = d.comparisons_of_judge(j);
  ASSERT_EQ(comps.size(), 3u);
  EXPECT_EQ(d.comparisons()[comps[0]].gold, x);
  EXPECT_EQ(d.comparisons()[comps[1]].gold, tie_outcome);
  EXPECT_EQ(d.comparisons()[comps[2]].gold, no_id);  // no gold judge judged (z, w)
  // Pointwise gold: mean of the parsed gold scores (6 + 9) / 2; none for y.
  const auto n = static_cast<dataset::index>(d.size());
  EXPECT_DOUBLE_EQ(d.gold_score(n - 2), 7.5);
  EXPECT_TRUE(std::isnan(d.gold_score(n - 1)));
}

TEST(Dataset, UnknownGoldJudgeIsAWarning) {
  config cfg;
  cfg.gold_judges = {"nobody"};
  auto data = jbtest::load_text(pw("j", "x", "y", "\"A\""), cfg);
  ASSERT_EQ(data.dataset.diagnostics().warnings.size(), 1u);
  EXPECT_NE(data.dataset.diagnostics().warnings[0].find("nobody"), std::string::npos);
}

// Candidate features are kept per record (a's, then b's), survive the merge of blocks read in parallel
// and record_view, and cost nothing in a dataset without them.
TEST(Dataset, CandidateFeaturesKeptThroughAppendAndRecordView) {
  const std::string with =
      R"({"judge":"j","item":"q","a":{"id":"x","features":{"h":3}},"b":{"id":"y","features":{"h":1,"l":2}},"verdict":"A"})"
      "\n";
  const std::string without = R"({"judge":"j","item":"r","a":{"id":"x"},"b":{"id":"y"},"verdict":"B"})"
                              "\n";
  EXPECT_TRUE(jbtest::load_text(without + without).dataset.features(0).empty());
  // Blocks: records without features first, then with, then without (the offsets start mid-way).
  dataset_builder first, second;
  reader rd;
  rd.read_buffer("a.jsonl", without, [&](const record& r) { first.add(r); });
  rd.read_buffer("b.jsonl", with + without, [&](const record& r) { second.add(r); });
  first.append(std::move(second));
  const dataset d = std::move(first).finish({});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(d.features(0).empty());
  EXPECT_TRUE(d.features(2).empty());
  const auto f = d.features(1);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(d.feature_names().name(f[0].feature), "h");
  EXPECT_EQ(f[0].slot, 0u);
  EXPECT_DOUBLE_EQ(f[0].value, 3.0);
  EXPECT_EQ(f[1].slot, 1u);
  EXPECT_EQ(d.feature_names().name(f[2].feature), "l");
  EXPECT_DOUBLE_EQ(f[2].value, 2.0);
  std::vector<candidate_feature> buffer;
  const record r = record_view(d, 1, buffer);
  ASSERT_EQ(r.a.features.size(), 1u);
  ASSERT_EQ(r.b.features.size(), 2u);
  EXPECT_EQ(r.b.features[1].name, "l");
  EXPECT_DOUBLE_EQ(r.b.features[0].value, 1.0);
}

// The score and gold-score column keeps only the values that are not NaN, found again through a bit per
// record and a count per 64 records: every value (of any bits, -0 and the smallest subnormal included) at
// its record, across word boundaries, and NaN elsewhere.
TEST(SparseColumn, EachValueAtItsRecordAndNaNElsewhere) {
  judgebias::detail::sparse_column<double> c;
  std::vector<double> in;
  for (std::size_t i = 0; i < 200; ++i) {
    // Values at every third record, and at 63, 64 and 127 (the words' edges); none in 130..199 but 199.
    const bool has = (i % 3 == 0 && i < 130) || i == 63 || i == 64 || i == 127 || i == 199;
    double v = has ? static_cast<double>(i) + 0.25 : std::nan("");
    if (i == 3) v = -0.0;
    if (i == 6) v = std::numeric_limits<double>::denorm_min();
    in.push_back(v);
    c.push_back(v);
  }
  ASSERT_EQ(c.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (std::isnan(in[i]))
      EXPECT_TRUE(std::isnan(c[i])) << i;
    else
      EXPECT_EQ(std::bit_cast<std::uint64_t>(c[i]), std::bit_cast<std::uint64_t>(in[i])) << i;
  }
  EXPECT_TRUE(std::signbit(c[3]));
  judgebias::detail::sparse_column<double> none;  // all NaN: no value kept, every record NaN
  for (int i = 0; i < 70; ++i) none.push_back(std::nan(""));
  EXPECT_TRUE(std::isnan(none[0]) && std::isnan(none[69]));
  // Ids, no_id the none: the cue targets of perturbed records only.
  judgebias::detail::sparse_column<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 150; ++i) ids.push_back(i % 7 == 0 ? i * 1000 : judgebias::no_id);
  for (std::uint32_t i = 0; i < 150; ++i) EXPECT_EQ(ids[i], i % 7 == 0 ? i * 1000 : judgebias::no_id) << i;
}

// Blocks of records merged into the dataset (a parallel read) keep each record's score, prob_a and gold
// score where a block ends inside a word of the sparse columns: 70 records, then 50.
TEST(SparseColumn, BlocksAppendedKeepEveryRecordsValues) {
  auto make = [](std::size_t first, std::size_t count) {
    dataset_builder b;
    for (std::size_t i = first; i < first + count; ++i) {
      const std::string item = "q" + std::to_string(i);
      record r;
      r.judge = "j";
      r.judge_model = "m";
      r.item = item;
      r.a.id = "x";
      if (i % 2 == 0) {
        r.mode = judgment_mode::pointwise;
        if (i % 4 == 0) r.score = static_cast<double>(i);
        if (i % 3 == 0) r.gold_score = static_cast<double>(i) + 0.5;
      } else {
        r.mode = judgment_mode::pairwise;
        r.b.id = "y";
        r.v = verdict::a;
        r.order_known = true;
        if (i % 5 == 0) r.prob_a = 1.0 / static_cast<double>(i);
      }
      b.add(r);
    }
    return b;
  };
  dataset_builder all = make(0, 70);
  all.append(make(70, 50));
  const dataset d = std::move(all).finish();
  ASSERT_EQ(d.size(), 120u);
  for (dataset::index i = 0; i < 120; ++i) {
    const bool pointwise = i % 2 == 0;
    const double score = pointwise && i % 4 == 0 ? static_cast<double>(i) : std::nan("");
    const double gold = pointwise && i % 3 == 0 ? static_cast<double>(i) + 0.5 : std::nan("");
    const double prob = !pointwise && i % 5 == 0 ? 1.0 / static_cast<double>(i) : std::nan("");
    auto same = [](double x, double y) { return std::isnan(x) ? std::isnan(y) : x == y; };
    EXPECT_TRUE(same(score, d.score(i))) << i;
    EXPECT_TRUE(same(gold, d.gold_score(i))) << i;
    EXPECT_TRUE(same(prob, d.prob_a(i))) << i;
    EXPECT_EQ(d.parsed(i), !pointwise || i % 4 == 0) << i;
  }
}

// The dataset's columns keep each value in the narrowest width that holds all of them so far, widening
// (8 → 16 → 32 bits) without changing what was stored; no_id and no_id - 1 survive every width.
TEST(PackedColumn, WidensOnlyWhenAValueDoesNotFitAndKeepsEveryValue) {
  judgebias::detail::packed_column c;
  const std::uint32_t tie = judgebias::no_id - 1;
  std::vector<std::uint32_t> in{0, 7, judgebias::no_id, 253, tie};
  for (std::uint32_t v : in) c.push_back(v);
  EXPECT_EQ(c.width(), 1u);  // 0..253 and the two codes above them
  c.push_back(254);          // the first value that needs 16 bits
  in.push_back(254);
  EXPECT_EQ(c.width(), 2u);
  c.push_back(65533);
  in.push_back(65533);
  EXPECT_EQ(c.width(), 2u);
  c.reserve(100);
  c.push_back(65534);  // 16 bits' own codes for no_id - 1 and no_id: now 32 bits
  in.push_back(65534);
  EXPECT_EQ(c.width(), 4u);
  c.push_back(judgebias::no_id);
  in.push_back(judgebias::no_id);
  ASSERT_EQ(c.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(c[i], in[i]) << i;
  judgebias::detail::packed_column straight;  // 8 bits to 32 at once
  straight.push_back(judgebias::no_id);
  straight.push_back(3);
  straight.push_back(70000);
  EXPECT_EQ(straight.width(), 4u);
  EXPECT_EQ(straight[0], judgebias::no_id);
  EXPECT_EQ(straight[1], 3u);
  EXPECT_EQ(straight[2], 70000u);
}

// Appending a column (the parallel reader's merge of a block's columns) is push_back of each value,
// mapped: over 3,000 values in runs of 1,024, a mapping that widens the column mid-run from 8 to 16
// bits, then to 32, no_id kept as no_id, and an unmapped column whose no_id - 1 survives a narrower one;
// 16-bit columns decoded, mapped into an 8-bit one and copied into a 32-bit one with both codes.
TEST(PackedColumn, AppendIsPushBackOfEachMappedValue) {
  using judgebias::detail::packed_column;
  packed_column from;
  std::vector<std::uint32_t> values;
  for (std::uint32_t k = 0; k < 3000; ++k) values.push_back(k % 7 == 3 ? judgebias::no_id : k % 40);
  for (std::uint32_t v : values) from.push_back(v);
  std::vector<std::uint32_t> map(40);
  for (std::uint32_t k = 0; k < 40; ++k) map[k] = k < 30 ? k : 1000 * k;  // 30..39 need 16 bits
  packed_column to, expected;
  for (std::uint32_t v : {5u, judgebias::no_id}) to.push_back(v), expected.push_back(v);
  to.append(from, &map);
  for (std::uint32_t v : values) expected.push_back(v == judgebias::no_id ? v : map[v]);
  ASSERT_EQ(to.size(), expected.size());
  EXPECT_EQ(to.width(), 2u);
  for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(to[i], expected[i]) << i;
  map[39] = 70000;  // 32 bits from the first 39 on
  to.append(from, &map);
  for (std::uint32_t v : values) expected.push_back(v == judgebias::no_id ? v : map[v]);
  EXPECT_EQ(to.width(), 4u);
  ASSERT_EQ(to.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(to[i], expected[i]) << i;
  packed_column wide, narrow;  // 32-bit values that fit 8 bits, and no_id - 1, appended as they are
  for (std::uint32_t v : {70000u, 3u, judgebias::no_id - 1}) wide.push_back(v);
  narrow.push_back(1);
  packed_column part;
  for (std::uint32_t v : {3u, judgebias::no_id - 1, 253u}) part.push_back(v);
  narrow.append(part, nullptr);
  EXPECT_EQ(narrow.width(), 1u);
  EXPECT_EQ(narrow.size(), 4u);
  EXPECT_EQ(narrow[2], judgebias::no_id - 1);
  EXPECT_EQ(narrow[3], 253u);
  narrow.append(wide, nullptr);
  EXPECT_EQ(narrow.width(), 4u);
  ASSERT_EQ(narrow.size(), 7u);
  EXPECT_EQ(narrow[4], 70000u);
  EXPECT_EQ(narrow[5], 3u);
  EXPECT_EQ(narrow[6], judgebias::no_id - 1);
  EXPECT_EQ(narrow[2], judgebias::no_id - 1);  // widened without changing what was stored
  packed_column mid, into;  // a 16-bit column into an 8-bit one, mapped (ids: never no_id - 1)
  for (std::uint32_t v : {300u, judgebias::no_id, 2u, 65533u}) mid.push_back(v);
  ASSERT_EQ(mid.width(), 2u);
  into.push_back(7);
  std::vector<std::uint32_t> halve(65534);
  for (std::uint32_t k = 0; k < halve.size(); ++k) halve[k] = k / 2;
  into.append(mid, &halve);
  ASSERT_EQ(into.size(), 5u);
  EXPECT_EQ(into.width(), 2u);  // 32766 needs 16 bits
  EXPECT_EQ(into[0], 7u);
  EXPECT_EQ(into[1], 150u);
  EXPECT_EQ(into[2], judgebias::no_id);
  EXPECT_EQ(into[3], 1u);
  EXPECT_EQ(into[4], 32766u);
  packed_column lengths, copy;  // a 16-bit column with both codes, unmapped, into a 32-bit one
  for (std::uint32_t v : {300u, judgebias::no_id, 2u, judgebias::no_id - 1, 65533u}) lengths.push_back(v);
  ASSERT_EQ(lengths.width(), 2u);
  copy.push_back(70000);
  copy.append(lengths, nullptr);
  ASSERT_EQ(copy.size(), 6u);
  EXPECT_EQ(copy.width(), 4u);
  EXPECT_EQ(copy[1], 300u);
  EXPECT_EQ(copy[2], judgebias::no_id);
  EXPECT_EQ(copy[3], 2u);
  EXPECT_EQ(copy[4], judgebias::no_id - 1);
  EXPECT_EQ(copy[5], 65533u);
}

// Names packed in blocks of 64 KiB: 20,000 names of 10 bytes and more fill four blocks, an empty name and
// one longer than a block get ids of their own, every view stays what it was as the table grows, and a
// copy or a move has the same ids (a moved-from table is empty and takes names again).
TEST(StringTable, NamesKeepTheirBytesAsTheTableGrowsCopiesAndMoves) {
  string_table t;
  std::vector<std::string_view> views;
  for (int k = 0; k < 20000; ++k) {
    EXPECT_EQ(t.intern("name-" + std::to_string(100000 + k)), static_cast<std::uint32_t>(k));
    views.push_back(t.name(static_cast<std::uint32_t>(k)));
  }
  const std::string long_name(100000, 'x');
  EXPECT_EQ(t.intern(""), 20000u);
  EXPECT_EQ(t.intern(long_name), 20001u);
  EXPECT_EQ(t.intern("after"), 20002u);
  EXPECT_EQ(t.intern("name-100007"), 7u);  // already there
  EXPECT_EQ(t.size(), 20003u);
  for (int k = 0; k < 20000; k += 997)
    EXPECT_EQ(views[static_cast<std::size_t>(k)], "name-" + std::to_string(100000 + k));
  EXPECT_EQ(t.name(20001), long_name);
  EXPECT_EQ(t.name(20000), "");
  const string_table copy = t;
  EXPECT_EQ(copy.size(), t.size());
  EXPECT_EQ(copy.find("name-119999"), 19999u);
  EXPECT_NE(copy.name(5).data(), t.name(5).data());  // its own bytes
  string_table moved = std::move(t);
  EXPECT_EQ(moved.name(20002), "after");
  EXPECT_EQ(moved.find(long_name), 20001u);
  EXPECT_EQ(t.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from table is empty
  EXPECT_EQ(t.find("after"), no_id);
  EXPECT_EQ(t.intern("again"), 0u);
  EXPECT_EQ(t.name(0), "again");
}
