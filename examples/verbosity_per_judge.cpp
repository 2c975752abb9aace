// Prints each judge's preference for longer answers beside the gold's, and the length coefficient of the
// length-controlled model. Usage: verbosity_per_judge [--skip-invalid] [FILE.jsonl...] (no file: the sample).
#include <cstdio>
#include <string>
#include <vector>

#include <judgebias/judgebias.hpp>

namespace {

void print_metric(const nlohmann::ordered_json& m) {
  if (m["value"].is_null())
    std::printf(" %-22s", "null");
  else if (m["ci"].is_null())
    std::printf(" %-22.3f", m["value"].get<double>());
  else
    std::printf(" %.3f [%.3f, %.3f]  ", m["value"].get<double>(), m["ci"][0].get<double>(),
                m["ci"][1].get<double>());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    judgebias::config cfg;
    cfg.modules = {"verbosity"};
    std::vector<std::string> files;
    for (int k = 1; k < argc; ++k) {
      const std::string arg = argv[k];
      if (arg == "--skip-invalid")
        cfg.skip_invalid = true;
      else
        files.push_back(arg);
    }
    judgebias::module_registry registry;
    judgebias::register_builtin_modules(registry);
    const judgebias::report report = judgebias::pipeline(std::move(registry), cfg).run(files);
    const auto section = report.to_json()["modules"]["verbosity"];
    if (section["status"] != "ok") {
      std::printf("verbosity: %s\n", section["reason"].get<std::string>().c_str());
      return 0;
    }
    std::printf("%-32s %-24s%-24s%-24s\n", "judge", "judge prefers longer", "gold prefers longer",
                "length_coef");
    for (const auto& [judge, m] : section["judges"].items()) {
      if (m["prefer_longer_rate"]["value"].is_null()) continue;  // e.g. a pointwise-only judge
      std::printf("%-32s", judge.c_str());
      print_metric(m["prefer_longer_rate"]);
      print_metric(m["gold_prefer_longer_rate"]);
      print_metric(m["length_coef"]);
      std::printf("\n");
    }
  } catch (const judgebias::error& e) {
    std::fprintf(stderr, "verbosity_per_judge: %s\n", e.what());
    return 1;
  }
  return 0;
}
