// Prints each judge's position bias for a judgment file: how often its verdict survives swapping the two
// responses, which slot it leans to, and how often it picks the first slot.
// Usage: position_per_judge [FILE.jsonl] (no file: the embedded sample).
#include <cstdio>
#include <string>
#include <vector>

#include <judgebias/judgebias.hpp>

namespace {

std::string show(const nlohmann::ordered_json& m) {
  if (m["value"].is_null()) return "null";
  char buf[64];
  if (m["ci"].is_null())
    std::snprintf(buf, sizeof buf, "%.3f", m["value"].get<double>());
  else
    std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", m["value"].get<double>(), m["ci"][0].get<double>(),
                  m["ci"][1].get<double>());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    judgebias::config cfg;
    cfg.modules = {"position"};
    judgebias::module_registry registry;
    judgebias::register_builtin_modules(registry);
    const judgebias::report report =
        judgebias::pipeline(std::move(registry), cfg).run(std::vector<std::string>(argv + 1, argv + argc));
    const auto section = report.to_json()["modules"]["position"];
    if (section["status"] != "ok") {
      std::printf("position: %s\n", section["reason"].get<std::string>().c_str());
      return 0;
    }
    std::printf("%-14s %-24s %-26s %-24s %s\n", "judge", "consistency", "fairness", "first_slot_rate", "p");
    for (const auto& [judge, m] : section["judges"].items()) {
      const auto& first = m["first_slot_rate"];
      std::printf("%-14s %-24s %-26s %-24s %.3g\n", judge.c_str(), show(m["consistency"]).c_str(),
                  show(m["fairness"]).c_str(), show(first).c_str(),
                  first.contains("p") ? first["p"].get<double>() : 1.0);
    }
  } catch (const judgebias::error& e) {
    std::fprintf(stderr, "position_per_judge: %s\n", e.what());
    return 1;
  }
  return 0;
}
