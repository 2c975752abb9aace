// Google Benchmark micro-benchmarks of each stage on synth data held in memory: the reader, the dataset's
// indexes, each module (closed-form intervals, then with the bootstrap), a floor for the modules (one
// fused pass over their columns), the bootstrap's draws and the bootstrap alone.
// Run: build/bench/judgebias_micro [--benchmark_filter=...]. Numbers go in docs/performance.md.
#include <cmath>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include <judgebias/judgebias.hpp>

namespace {

using namespace judgebias;

constexpr std::uint64_t items = 2000;  // 108,000 records

const std::string& sample_text() {
  static const std::string text = [] {
    std::ostringstream out;
    synth_options so;
    so.items = items;
    synthesize(so, out);
    return out.str();
  }();
  return text;
}

void read_into(dataset_builder& b) {
  reader rd;
  rd.read_buffer("synth", sample_text(), [&](const record& r) { b.add(r); });
}

const dataset& sample_dataset() {
  static const dataset d = [] {
    dataset_builder b;
    read_into(b);
    return std::move(b).finish();
  }();
  return d;
}

void set_counters(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * sample_text().size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sample_dataset().size()));
}

void reader_only(benchmark::State& state) {
  sample_text();  // made before the timing
  for (auto _ : state) {
    reader rd;
    std::uint64_t n = 0;
    rd.read_buffer("synth", sample_text(), [&](const record&) { ++n; });
    benchmark::DoNotOptimize(n);
  }
  set_counters(state);
}
BENCHMARK(reader_only)->Unit(benchmark::kMillisecond);

void reader_and_columns(benchmark::State& state) {
  for (auto _ : state) {
    dataset_builder b;
    read_into(b);
    benchmark::DoNotOptimize(b.size());
  }
  set_counters(state);
}
BENCHMARK(reader_and_columns)->Unit(benchmark::kMillisecond);

void dataset_indexes(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    dataset_builder b;
    read_into(b);
    state.ResumeTiming();
    dataset d = std::move(b).finish();
    benchmark::DoNotOptimize(d.comparisons().size());
  }
  set_counters(state);
}
BENCHMARK(dataset_indexes)->Unit(benchmark::kMillisecond);

void module(benchmark::State& state, const char* name, std::uint32_t bootstrap) {
  module_registry reg;
  register_builtin_modules(reg);
  config cfg;
  cfg.bootstrap = bootstrap;
  cfg.threads = 1;
  auto m = reg.create(name);
  for (auto _ : state) benchmark::DoNotOptimize(m->evaluate(sample_dataset(), cfg));
  set_counters(state);
}
BENCHMARK_CAPTURE(module, self_preference, "self_preference", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, position, "position", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, verbosity, "verbosity", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, bandwagon, "bandwagon", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, authority, "authority", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, agreement, "agreement", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, winrate, "winrate", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, sensitivity, "sensitivity", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, judge_agreement, "judge_agreement", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, attribution, "attribution", 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, self_preference_bootstrap, "self_preference", 1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, position_bootstrap, "position", 1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, winrate_bootstrap, "winrate", 1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, judge_agreement_bootstrap, "judge_agreement", 1000)->Unit(benchmark::kMillisecond);

// A floor for the modules at --bootstrap 0: one pass over the records that reads the columns they read
// (judge and its model, item, task, run, mode and verdict, outcome, candidates, models, lengths in
// characters and tokens, the score or prob_a, the gold score, the gold in the record's order, the
// perturbation and the candidate its cue favours, comparison) and adds them into per-(judge, item) sums, as
// one pass shared by every module would. It bounds the modules' reading of the data only: no pairing of
// records, no per-model tables, no fit or interval. docs/performance.md sets it beside the sum of the module
// rows above.
void modules_floor(benchmark::State& state) {
  const dataset& d = sample_dataset();
  const std::size_t n_items = d.items().size();
  constexpr std::size_t width = 10;
  std::vector<double> sums(d.judges().size() * n_items * width);
  auto id = [](std::uint32_t v) { return v == no_id ? 0.0 : static_cast<double>(v); };
  for (auto _ : state) {
    std::fill(sums.begin(), sums.end(), 0.0);
    for (dataset::index i = 0; i < d.size(); ++i) {
      double* r = &sums[(std::size_t{d.judge(i)} * n_items + d.item(i)) * width];
      r[0] += d.outcome(i) == d.cand_a(i);
      r[1] += d.model_a(i) == d.judge_model(i);
      r[2] += d.model_b(i) == d.judge_model(i) || d.cand_b(i) == no_id;
      r[3] += id(d.length_a(i)) - id(d.length_b(i));
      r[4] += id(d.tokens_a(i)) - id(d.tokens_b(i));
      r[5] += static_cast<double>(d.gold_in_presentation(i)) + static_cast<double>(d.verdict(i));
      r[6] += d.is_control(i) + (d.comparison_of(i) & 1) + (d.target(i) == d.cand_a(i));
      r[7] += id(d.run(i)) + id(d.task(i));
      // The score (pointwise) or prob_a (pairwise), and the gold score: NaN when absent.
      const double v = d.mode(i) == judgment_mode::pointwise ? d.score(i) : d.prob_a(i), g = d.gold_score(i);
      r[8] += std::isnan(v) ? 0.0 : v;
      r[9] += std::isnan(g) ? 0.0 : g;
    }
    benchmark::DoNotOptimize(sums.data());
  }
  set_counters(state);
}
BENCHMARK(modules_floor)->Unit(benchmark::kMillisecond);

// gold_noise needs a gold panel: two of synth's judges as gold judges (the third is measured).
void gold_noise(benchmark::State& state, std::uint32_t bootstrap) {
  static const dataset d = [] {
    dataset_builder b;
    read_into(b);
    dataset_options o;
    o.gold_judges = {"charlie-70b", "delta-api"};
    return std::move(b).finish(o);
  }();
  module_registry reg;
  register_builtin_modules(reg);
  config cfg;
  cfg.bootstrap = bootstrap;
  cfg.threads = 1;
  cfg.gold_judges = {"charlie-70b", "delta-api"};
  auto m = reg.create("gold_noise");
  for (auto _ : state) benchmark::DoNotOptimize(m->evaluate(d, cfg));
  set_counters(state);
}
BENCHMARK_CAPTURE(gold_noise, closed_form, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gold_noise, bootstrap, 1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(module, attribution_bootstrap, "attribution", 1000)->Unit(benchmark::kMillisecond);

// The draws of one resample of 2000 items (every bootstrap of the library draws this way).
void resample_draws(benchmark::State& state) {
  std::vector<std::uint32_t> counts(items);
  std::uint64_t b = 0;
  for (auto _ : state) {
    stats::resample_counts(7, b++, counts);
    benchmark::DoNotOptimize(counts.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * items));
}
BENCHMARK(resample_draws);

// The shared bootstrap alone: 1000 resamples of 2000 items, one table of 14 columns, 8 statistics; the
// per-item sums whole numbers 0-4 (counts, tallies: the product packs them into 16-bit integers) or
// thirds of them (the product in doubles).
void bootstrap(benchmark::State& state, double divisor) {
  stats::cluster_sums rows(14);
  stats::rng g(1);
  for (std::uint64_t i = 0; i < items; ++i) {
    double* r = rows.add_row();
    for (int k = 0; k < 14; ++k) r[k] = static_cast<double>(g.below(5)) / divisor;
  }
  std::vector<stats::bootstrap_table> tables(1);
  tables[0].rows = &rows;
  for (std::uint32_t i = 0; i < items; ++i) tables[0].cluster_of_row.push_back(i);
  std::vector<stats::bootstrap_statistic> statistics;
  for (std::size_t k = 0; k < 8; ++k)
    statistics.push_back(
        {0, [k](std::span<const double> s) -> std::optional<double> { return s[k] / s[13]; }});
  stats::bootstrap_options bo;
  bo.threads = 1;
  for (auto _ : state) benchmark::DoNotOptimize(stats::bootstrap_intervals(items, tables, statistics, bo, 7));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 1000 * items));
}
BENCHMARK_CAPTURE(bootstrap, whole_numbers, 1.0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bootstrap, thirds, 3.0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
