#pragma once
/// \file The bias-module interface, the run configuration and the metric value every module reports.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "judgebias/dataset.hpp"

namespace judgebias {

/// Options of one evaluation run (the `judgebias run` flags).
/// The most resamples `--bootstrap` takes: past it the intervals' Monte Carlo error is far below any
/// reported digit, and the time grows without bound.
inline constexpr std::uint32_t max_bootstrap = 100000;
/// The most threads a run uses, whatever `--threads` says (each use takes at most one per unit of work).
inline constexpr unsigned max_threads = 256;

struct config {
  std::vector<std::string> modules;  ///< Modules to run, in report order; empty = all registered.
  std::uint32_t bootstrap = 1000;    ///< Resamples; 0 = closed-form intervals.
  std::uint64_t seed = 0;
  double confidence = 0.95;
  std::vector<std::string> gold_judges;
  std::vector<std::pair<std::string, std::string>> self;  ///< (response model, judge model) pairs.
  bool soft = false;                                      ///< Use prob_a in pairwise self-preference.
  std::string length = "chars";                           ///< "chars" or "tokens".
  double min_length_gap = 30;
  bool skip_invalid = false;
  std::vector<std::string> by;  ///< Breakdowns: "task", "run".
  unsigned threads = 0;         ///< 0 = all cores. Results do not depend on it.
  std::uint64_t max_line_bytes = 64ull << 20;
  bool strict_scale = false;        ///< A judge's score outside its scale is an error, not a failure.
  std::vector<std::string> judges;  ///< Keep only these judges' records (gold judges are always kept).
  std::vector<std::string> tasks;   ///< Keep only records of these tasks.
};

/// Units of METRICS.md / REPORT.md.
enum class unit : std::uint8_t { fraction, pp, score, coefficient, count };
std::string_view to_string(unit u) noexcept;

/// One reported number: `{"value", "ci", "n", "p"?, "unit", "reason"?}` (REPORT.md).
struct metric {
  std::optional<double> value;  ///< nullopt = cannot be computed (see reason).
  std::optional<std::array<double, 2>> ci;
  std::uint64_t n = 0;
  std::optional<double> p;
  judgebias::unit unit = unit::fraction;
  std::string reason;  ///< Why value or ci is null; empty otherwise.
};
/// The metric as REPORT.md writes it.
nlohmann::ordered_json to_json(const metric& m);

/// Which direction of a metric means more bias.
enum class bias_direction : std::uint8_t { higher, lower, away_from_zero, away_from_half, none };

/// Where a metric is drawn in the HTML report: charts of one `id` are one chart, with one series per
/// declaring metric (or per sub-section, for a metric declared in every sub-section).
struct chart_spec {
  std::string id;
  int order = 100;  ///< Charts are placed by this, then by first declaration.
  std::string caption, note;
  std::optional<double> reference;  ///< The no-bias value, drawn as a dashed line.
  std::string series;               ///< The series' label; empty: the module's name (or the kind).
  int series_order = 0;             ///< Series within a chart are placed by this.
};

/// Any sub-section: the metric is reported in each sub-section the module writes (a cue kind).
inline constexpr std::string_view every_section = "*";

/// Declares a metric: what `judgebias list`, the report forms and `--fail-if` know of it. A module's
/// declarations name exactly the metrics it emits (a test checks it), so nothing outside the module has
/// to spell a module's or a metric's name.
struct metric_info {
  std::string name;
  judgebias::unit unit;
  bias_direction direction;
  std::string description;
  /// The sub-section the metric is in: empty for the module's own, a name (verbosity's
  /// "counterfactual") for one sub-section, every_section for each kind the module finds.
  std::string section = {};
  bool overall = false;  ///< Also reported over all judges together (gates: module.overall.metric).
  int headline = 0;      ///< Its column in the terminal table (1 first); 0: not shown there.
  std::optional<chart_spec> chart = {};

  /// The same declaration shown in column `column` of the terminal table.
  metric_info shown(int column) const {
    metric_info m = *this;
    m.headline = column;
    return m;
  }
  /// The same declaration drawn in a chart.
  metric_info drawn(chart_spec spec) const {
    metric_info m = *this;
    m.chart = std::move(spec);
    return m;
  }
  /// The same declaration, also reported over all judges.
  metric_info with_overall() const {
    metric_info m = *this;
    m.overall = true;
    return m;
  }
};

/// What a module's do_evaluate returns: its section, or a reason to skip.
struct module_result {
  bool skipped = false;
  std::string reason;           ///< Why skipped.
  nlohmann::ordered_json body;  ///< Keys after "status" (judges, by_task, diagnostics...).
};

/// A bias module: reads the dataset, never the file, and reports one section.
class bias_module {
 public:
  virtual ~bias_module() = default;
  virtual std::string_view name() const noexcept = 0;         ///< Report key, e.g. "self_preference".
  virtual std::string_view description() const noexcept = 0;  ///< One line for `judgebias list`.
  virtual std::vector<metric_info> metrics() const = 0;       ///< The metrics it reports.
  /// The module's report section, with "status" first; never throws (errors become status "error").
  nlohmann::ordered_json evaluate(const dataset& data, const config& cfg) const;

 protected:
  virtual module_result do_evaluate(const dataset& data, const config& cfg) const = 0;
};

}  // namespace judgebias
