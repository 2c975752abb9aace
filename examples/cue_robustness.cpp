// Prints, per judge and cue kind, how robust the judge's verdicts are to the cue and how often it follows
// the cue. Usage: cue_robustness [FILE.jsonl...] (no file: the embedded sample).
#include <cstdio>
#include <string>
#include <vector>

#include <judgebias/judgebias.hpp>

namespace {

void print_row(const std::string& judge, const std::string& kind, const nlohmann::ordered_json& m) {
  auto cell = [](const nlohmann::ordered_json& x) {
    return x["value"].is_null() ? std::string("null") : std::to_string(x["value"].get<double>()).substr(0, 5);
  };
  std::printf("%-14s %-12s %-10s %-10s %d\n", judge.c_str(), kind.c_str(), cell(m["robustness_rate"]).c_str(),
              cell(m["follow_rate"]).c_str(), m["robustness_rate"]["n"].get<int>());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    judgebias::config cfg;
    cfg.modules = {"bandwagon", "authority", "cue"};
    cfg.bootstrap = 0;
    judgebias::module_registry registry;
    judgebias::register_builtin_modules(registry);
    const judgebias::report report =
        judgebias::pipeline(std::move(registry), cfg).run(std::vector<std::string>(argv + 1, argv + argc));
    const auto modules = report.to_json()["modules"];
    std::printf("%-14s %-12s %-10s %-10s %s\n", "judge", "kind", "robustness", "follow", "pairs");
    for (const char* kind : {"bandwagon", "authority"}) {
      if (modules[kind]["status"] != "ok") continue;
      for (const auto& [judge, m] : modules[kind]["judges"].items()) print_row(judge, kind, m);
    }
    if (modules["cue"]["status"] == "ok")
      for (const auto& [kind, section] : modules["cue"]["kinds"].items())
        for (const auto& [judge, m] : section["judges"].items()) print_row(judge, kind, m);
  } catch (const judgebias::error& e) {
    std::fprintf(stderr, "cue_robustness: %s\n", e.what());
    return 1;
  }
  return 0;
}
