// Google Benchmark of the input stages whose cost must grow linearly with their input (issue 13):
// the alpaca-eval importer at N annotations, and perturb's template rendering at N placeholders in one
// cue template. Inputs are synthetic and held in memory; the time per N shows the scaling.
// Run: build/bench/judgebias_input_scaling [--benchmark_filter=...]. Numbers go in docs/performance.md.
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include <judgebias/judgebias.hpp>

namespace {

using namespace judgebias;

// N annotations as AlpacaEval writes them (json.dump with indent=2), each answer ~300 bytes.
std::string alpaca_eval_text(std::int64_t n) {
  const std::string answer(300, 'x');
  std::string text = "[";
  for (std::int64_t k = 0; k < n; ++k) {
    text += k == 0 ? "\n" : ",\n";
    text += "  {\n    \"instruction\": \"instruction " + std::to_string(k) + "\",\n";
    text += "    \"output_1\": \"" + answer + "\",\n    \"generator_1\": \"gpt4_1106_preview\",\n";
    text += "    \"output_2\": \"" + answer + "\",\n    \"generator_2\": \"llama-2-70b-chat\",\n";
    text += "    \"annotator\": \"weighted_alpaca_eval_gpt4_turbo\",\n";
    text += "    \"preference\": " + std::string(k % 3 == 0 ? "1.25" : k % 3 == 1 ? "1.75" : "1.5") + "\n  }";
  }
  text += "\n]\n";
  return text;
}

void import_alpaca_eval(benchmark::State& state) {
  const std::string text = alpaca_eval_text(state.range(0));
  for (auto _ : state) {
    std::string out;
    benchmark::DoNotOptimize(import_text("bench.json", text, import_format::alpaca_eval, {}, out));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(import_alpaca_eval)->Arg(2500)->Arg(5000)->Arg(10000)->Arg(20000)->Unit(benchmark::kMillisecond);

// One request, one cue kind whose single template holds N placeholders (every known one in turn):
// 2 controls + 2 orders of one variant, each cue rendered once per order.
void perturb_template(benchmark::State& state) {
  static const char* const names[] = {"{slot}",  "{slot_upper}", "{pct}",  "{author}",
                                      "{title}", "{publisher}",  "{year}", "{page}",
                                      "{site}",  "{slug}",       "{hobby}"};
  std::string big;
  for (std::int64_t k = 0; k < state.range(0); ++k) {
    big += names[k % std::size(names)];
    big += ' ';
  }
  perturb_options opt;
  opt.judge = "bench";
  opt.kinds = {"big"};
  opt.templates["big"] = {cue_placement::prompt, {big}};
  const std::string request =
      R"({"item":"q","question":"?","a":{"model":"m1","text":"x"},"b":{"model":"m2","text":"y"},"gold":"A"})"
      "\n";
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::istringstream in(request);
    std::ostringstream out;
    benchmark::DoNotOptimize(perturb_requests(in, "bench.jsonl", opt, out));
    bytes = out.str().size();
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(perturb_template)->Arg(10000)->Arg(100000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
