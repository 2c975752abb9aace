// Fuzz target: the cue template file (`perturb --template-file`) on one buffer, then perturb with every
// kind it defines on a fixed request. The file is refused only with a judgebias parse_error located in it
// (any other exception escapes and is a finding); a file accepted renders without error, and perturb
// writes the documented number of JSON records, each variant with its kind and its cue.
// Built with libFuzzer by tests/fuzz/run.sh; replayed over tests/fuzz/corpus-templates/ by ctest.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "judgebias/error.hpp"
#include "judgebias/perturb.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  judgebias::perturb_options options;
  try {
    options.templates = judgebias::parse_cue_templates("cues.json", text);
  } catch (const judgebias::parse_error& e) {
    if (e.path() != "cues.json" || e.line() < 1 || e.line() > lines || e.column() < 1) __builtin_trap();
    return 0;
  }
  options.judge = "j";
  options.seed = size;
  options.kinds.clear();
  for (const auto& [kind, t] : options.templates)
    if (options.kinds.size() < 16) options.kinds.push_back(kind);
  // No gold: each answer is the target in turn, so every kind gives 2 targets × 2 orders.
  std::istringstream in(R"({"item":"q","question":"?","a":{"text":"x"},"b":{"text":"y"}})");
  std::ostringstream out;
  const std::uint64_t written = judgebias::perturb_requests(in, "req.jsonl", options, out);
  if (written != 2 + 4 * options.kinds.size()) __builtin_trap();
  std::istringstream records(out.str());
  std::uint64_t n = 0;
  for (std::string line; std::getline(records, line); ++n) {
    const auto r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (r.is_discarded() || !r.is_object()) __builtin_trap();
    if (n < 2) continue;  // the controls
    const std::size_t variant = (n - 2) / 4;
    if (!r.contains("perturbation") || r["perturbation"]["kind"] != options.kinds[variant] ||
        !r["perturbation"]["detail"]["cue"].is_string())
      __builtin_trap();
  }
  if (n != written) __builtin_trap();
  return 0;
}
