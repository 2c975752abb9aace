// Cue modules (METRICS.md §4): bandwagon and authority report their kind; cue reports every other kind
// found, one section each (verbosity's padded variants go to the verbosity module). The metrics are the
// perturbation engine's (src/cue_engine.cpp).
// Sources: Ye et al. 2024 (CALM); Wang et al. 2025 (LRM judging bias); Yang et al. 2025 (RBD).
#include <fmt/format.h>
#include <algorithm>

#include "judgebias/registry.hpp"
#include "modules/cues.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;

// bandwagon / authority: one kind, its section at the module's top level.
class single_cue_module final : public bias_module {
 public:
  single_cue_module(std::string kind, std::string description, int series_order)
      : kind_(std::move(kind)), description_(std::move(description)), series_order_(series_order) {}
  std::string_view name() const noexcept override { return kind_; }
  std::string_view description() const noexcept override { return description_; }
  std::vector<metric_info> metrics() const override { return detail::cue_metrics("", series_order_); }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    const std::uint32_t kind = d.kinds().find(kind_);
    if (kind == no_id) {
      result.skipped = true;
      result.reason = fmt::format("no record with perturbation.kind \"{}\"", kind_);
      return result;
    }
    result.body = detail::cue_section(d, cfg, kind_, kind);
    return result;
  }

 private:
  std::string kind_, description_;
  int series_order_;  // of its series in the robustness chart
};

class cue_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "cue"; }
  std::string_view description() const noexcept override {
    return "Every other perturbation kind (distraction, reflection, sentiment, ...): how a cue moves "
           "verdicts";
  }
  std::vector<metric_info> metrics() const override { return detail::cue_metrics(every_section, 4); }

 protected:
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    std::vector<std::pair<std::string, std::uint32_t>> kinds;
    for (std::uint32_t k = 0; k < d.kinds().size(); ++k) {
      const std::string name(d.kinds().name(k));
      if (name != "bandwagon" && name != "authority" && name != "verbosity") kinds.emplace_back(name, k);
    }
    if (kinds.empty()) {
      result.skipped = true;
      result.reason = "no perturbation kind other than bandwagon, authority and verbosity";
      return result;
    }
    std::sort(kinds.begin(), kinds.end());
    for (const auto& [name, k] : kinds)
      result.body.nest({"kinds", name}, detail::cue_section(d, cfg, "cue/" + name, k));
    return result;
  }
};

}  // namespace

std::unique_ptr<bias_module> make_bandwagon_module() {
  return std::make_unique<single_cue_module>(
      "bandwagon", "How a crowd's stated opinion (\"90% of people prefer B\") moves a judge's verdict", 1);
}

std::unique_ptr<bias_module> make_authority_module() {
  return std::make_unique<single_cue_module>(
      "authority", "How a fake citation, quote or link in a response moves a judge's verdict", 2);
}

std::unique_ptr<bias_module> make_cue_module() {
  return std::make_unique<cue_module>();
}

}  // namespace judgebias
