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

void register_builtin_modules(module_registry& registry) {
  registry.add("self_preference", make_self_preference_module);
  registry.add("position", make_position_module);
  registry.add("verbosity", make_verbosity_module);
  registry.add("bandwagon", make_bandwagon_module);
  registry.add("authority", make_authority_module);
  registry.add("cue", make_cue_module);
  registry.add("agreement", make_agreement_module);
}

}  // namespace judgebias
