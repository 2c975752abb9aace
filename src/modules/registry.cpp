#include "judgebias/registry.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias {

void module_registry::add(std::string name, factory make) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == name; });
  if (it != entries_.end())
    it->second = std::move(make);
  else
    entries_.emplace_back(std::move(name), std::move(make));
}

bool module_registry::contains(std::string_view name) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == name; });
}

std::unique_ptr<bias_module> module_registry::create(std::string_view name) const {
  for (const auto& [n, make] : entries_)
    if (n == name) return make();
  throw usage_error(fmt::format("unknown module \"{}\" (known: {})", name, fmt::join(names(), ", ")));
}

std::vector<std::string> module_registry::names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
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
  X(winrate)                         \
  X(sensitivity)

#define JUDGEBIAS_DECLARE(name) std::unique_ptr<bias_module> make_##name##_module();
JUDGEBIAS_BUILTIN_MODULES(JUDGEBIAS_DECLARE)
#undef JUDGEBIAS_DECLARE

void register_builtin_modules(module_registry& registry) {
#define JUDGEBIAS_REGISTER(name) registry.add(#name, make_##name##_module);
  JUDGEBIAS_BUILTIN_MODULES(JUDGEBIAS_REGISTER)
#undef JUDGEBIAS_REGISTER
}

}  // namespace judgebias
