#pragma once
/// \file The evaluation pipeline: files → dataset (load.hpp) → selected modules → report.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "judgebias/dataset.hpp"
#include "judgebias/load.hpp"
#include "judgebias/module.hpp"
#include "judgebias/reader.hpp"
#include "judgebias/registry.hpp"
#include "judgebias/report.hpp"

namespace judgebias {

/// Runs modules on a loaded dataset and assembles the report.
class pipeline {
 public:
  /// Checks the configuration (module names, confidence, breakdowns); throws usage_error.
  pipeline(module_registry registry, config cfg);
  /// Loads the files and evaluates them.
  report run(const std::vector<std::string>& paths) const;
  /// Evaluates an already loaded dataset.
  report evaluate(const loaded_data& data) const;
  const config& settings() const noexcept { return cfg_; }
  const module_registry& registry() const noexcept { return registry_; }

 private:
  module_registry registry_;
  config cfg_;
};

}  // namespace judgebias
