// Links judgebias into a harness: load a judgment file, run the self-preference module, print the
// pairwise DBG of each judge.
// Usage: dbg_per_judge [--self MODEL=JUDGE_MODEL]... [--skip-invalid] [FILE.jsonl...] (no file: the sample).
#include <cstdio>
#include <string>
#include <vector>

#include <judgebias/judgebias.hpp>

int main(int argc, char** argv) {
  try {
    judgebias::config cfg;
    cfg.modules = {"self_preference"};
    std::vector<std::string> files;
    for (int k = 1; k < argc; ++k) {
      const std::string arg = argv[k];
      if (arg == "--skip-invalid") {
        cfg.skip_invalid = true;
      } else if (arg == "--self" && k + 1 < argc) {
        const std::string pair = argv[++k];
        const auto eq = pair.find('=');
        cfg.self.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      } else {
        files.push_back(arg);
      }
    }
    judgebias::module_registry registry;
    judgebias::register_builtin_modules(registry);
    judgebias::pipeline pipeline(std::move(registry), cfg);
    judgebias::report report = pipeline.run(files);

    const auto section = report.to_json()["modules"]["self_preference"];
    if (section["status"] != "ok") {
      std::printf("self_preference: %s\n", section["reason"].get<std::string>().c_str());
      return 0;
    }
    std::printf("%-26s %10s  %-20s %5s\n", "judge", "DBG (pp)", "95% CI", "n");
    for (const auto& [judge, metrics] : section["judges"].items()) {
      const auto& dbg = metrics["dbg_pairwise"];
      if (dbg["value"].is_null()) {
        std::printf("%-26s %10s  %-20s %5d\n", judge.c_str(), "null", "", dbg["n"].get<int>());
        continue;
      }
      const std::string ci = dbg["ci"].is_null()
                                 ? std::string("null")
                                 : "[" + std::to_string(dbg["ci"][0].get<double>()).substr(0, 6) + ", " +
                                       std::to_string(dbg["ci"][1].get<double>()).substr(0, 6) + "]";
      std::printf("%-26s %+10.1f  %-20s %5d\n", judge.c_str(), dbg["value"].get<double>(), ci.c_str(),
                  dbg["n"].get<int>());
    }
  } catch (const judgebias::error& e) {
    std::fprintf(stderr, "dbg_per_judge: %s\n", e.what());
    return 1;
  }
  return 0;
}
