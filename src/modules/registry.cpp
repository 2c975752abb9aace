#include "judgebias/registry.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias {

void module_registry::add(std::string name, factory make, bool by_default) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.name == name; });
  if (it != entries_.end()) {
    it->make = std::move(make);
    it->by_default = by_default;
  } else {
    entries_.push_back(entry{std::move(name), std::move(make), by_default});
  }
}

bool module_registry::contains(std::string_view name) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.name == name; });
}

std::unique_ptr<bias_module> module_registry::create(std::string_view name) const {
  for (const auto& e : entries_)
    if (e.name == name) return e.make();
  throw usage_error(fmt::format("unknown module \"{}\" (known: {})", name, fmt::join(names(), ", ")));
}

std::vector<std::string> module_registry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.name);
  return out;
}

std::vector<std::string> module_registry::default_names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e.by_default) out.push_back(e.name);
  return out;
}

bool module_registry::by_default(std::string_view name) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const auto& e) { return e.name == name && e.by_default; });
}

// The built-in modules, in the report's default order. A built-in module is a file in src/modules/
// (CMake takes every .cpp there) that defines `std::unique_ptr<bias_module> make_NAME_module()`, and
// one X(NAME) here, which both declares that factory and registers it under "NAME".
#define JUDGEBIAS_BUILTIN_MODULES(X) \
  X(self_preference)                 \
  X(position)                        \
  X(verbosity)                       \
  X(bandwagon)                       \
  X(authority)                       \
  X(cue)                             \
  X(agreement)                       \
  X(judge_agreement)                 \
  X(gold_noise)                      \
  X(winrate)                         \
  X(sensitivity)
// Opt-in built-ins, run only when --modules names them (docs/metrics.md says why each is not a default).
#define JUDGEBIAS_OPT_IN_MODULES(X) X(attribution)

#define JUDGEBIAS_DECLARE(name) std::unique_ptr<bias_module> make_##name##_module();
JUDGEBIAS_BUILTIN_MODULES(JUDGEBIAS_DECLARE)
JUDGEBIAS_OPT_IN_MODULES(JUDGEBIAS_DECLARE)
#undef JUDGEBIAS_DECLARE

void register_builtin_modules(module_registry& registry) {
#define JUDGEBIAS_REGISTER(name) registry.add(#name, make_##name##_module);
  JUDGEBIAS_BUILTIN_MODULES(JUDGEBIAS_REGISTER)
#undef JUDGEBIAS_REGISTER
#define JUDGEBIAS_REGISTER_OPT_IN(name) registry.add(#name, make_##name##_module, false);
  JUDGEBIAS_OPT_IN_MODULES(JUDGEBIAS_REGISTER_OPT_IN)
#undef JUDGEBIAS_REGISTER_OPT_IN
}

}  // namespace judgebias
