#pragma once
/// \file A value-type registry of bias modules (no global state).

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "judgebias/module.hpp"

namespace judgebias {

/// Module factories by name, in the order they were added.
class module_registry {
 public:
  using factory = std::function<std::unique_ptr<bias_module>()>;
  /// Adds (or replaces) a module under `name`; `by_default` false makes it opt-in: run only when
  /// `--modules` (config::modules) names it.
  void add(std::string name, factory make, bool by_default = true);
  bool contains(std::string_view name) const;
  /// A new instance of the named module; throws usage_error for an unknown name.
  std::unique_ptr<bias_module> create(std::string_view name) const;
  std::vector<std::string> names() const;          ///< Registered names in order.
  std::vector<std::string> default_names() const;  ///< Those run when no module is named, in order.
  bool by_default(std::string_view name) const;    ///< Whether a registered module runs by default.

 private:
  struct entry {
    std::string name;
    factory make;
    bool by_default = true;
  };
  std::vector<entry> entries_;
};

/// Adds the built-in modules, in the report's default order.
void register_builtin_modules(module_registry& registry);

/// The self-preference (DBG) module (METRICS.md §1).
std::unique_ptr<bias_module> make_self_preference_module();
/// The position module (METRICS.md §2).
std::unique_ptr<bias_module> make_position_module();
/// The verbosity module (METRICS.md §3).
std::unique_ptr<bias_module> make_verbosity_module();
/// The bandwagon cue module (METRICS.md §4).
std::unique_ptr<bias_module> make_bandwagon_module();
/// The authority cue module (METRICS.md §4).
std::unique_ptr<bias_module> make_authority_module();
/// Every other cue kind (METRICS.md §4).
std::unique_ptr<bias_module> make_cue_module();
/// The agreement-with-gold module (METRICS.md §5).
std::unique_ptr<bias_module> make_agreement_module();

}  // namespace judgebias
