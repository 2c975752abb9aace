#pragma once
/// \file The bias-module interface, the run configuration and the metric value every module reports.

#include <array>
#include <atomic>
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

/// What verbosity measures a length in (`--length`).
enum class length_unit : std::uint8_t { chars, tokens };
std::string_view to_string(length_unit u) noexcept;
/// "chars" or "tokens"; anything else is a usage_error naming --length.
length_unit parse_length_unit(std::string_view text);

/// How a comparison judged in both orders is scored (`--pair-rule`, docs/metrics.md "Pair rules").
enum class pair_rule : std::uint8_t {
  each,          ///< every record counts on its own
  conservative,  ///< FastChat's MT-Bench rule: both orders must pick the same answer, else a tie
  counter,       ///< JudgeBench's rule: +1 per order picking a side, -1 per order picking the other
};
std::string_view to_string(pair_rule r) noexcept;
/// "each", "conservative" or "counter"; anything else is a usage_error naming --pair-rule.
pair_rule parse_pair_rule(std::string_view text);

struct config {
  std::vector<std::string> modules;  ///< Modules to run, in report order; empty = all registered.
  std::uint32_t bootstrap = 1000;    ///< Resamples; 0 = closed-form intervals.
  std::uint64_t seed = 0;
  double confidence = 0.95;
  std::vector<std::string> gold_judges;
  std::vector<std::pair<std::string, std::string>> self;  ///< (response model, judge model) pairs.
  bool soft = false;                                      ///< Use prob_a in pairwise self-preference.
  judgebias::pair_rule pair_rule =
      pair_rule::each;   ///< Scoring of both orders (self_preference, agreement, winrate).
  std::string baseline;  ///< winrate: the model each model's win rate is against (`--baseline`); empty: all.
  length_unit length = length_unit::chars;
  double min_length_gap = 30;
  /// attribution: the gold verdict is a covariate, and records without gold are left out
  /// (`--no-gold-covariate`: false, every parsed record is used and the gold is not).
  bool gold_covariate = true;
  /// gold_noise: the whole panel's DBG gets a two-level bootstrap interval that resamples the gold judges
  /// as well as the items (`--gold-bootstrap`), instead of the closed form.
  bool gold_bootstrap = false;
  bool skip_invalid = false;
  std::vector<breakdown> by;  ///< Breakdowns, each at most once.
  unsigned threads = 0;       ///< 0 = all cores. Results do not depend on it.
  std::uint64_t max_line_bytes = 64ull << 20;
  bool strict_scale = false;        ///< A judge's score outside its scale is an error, not a failure.
  std::vector<std::string> judges;  ///< Keep only these judges' records (gold judges are always kept).
  std::vector<std::string> tasks;   ///< Keep only records of these tasks.
  /// When set, the run stops with judgebias::cancelled soon after this becomes true (a block of input, a
  /// batch of resamples, a module later): how a caller on another thread interrupts it. Not a setting
  /// of the report.
  const std::atomic<bool>* stop = nullptr;
};

/// Units of METRICS.md / REPORT.md.
enum class unit : std::uint8_t { fraction, pp, score, coefficient, count };
std::string_view to_string(unit u) noexcept;

/// One reported number: `{"value", "ci", "n", "p"?, "mde"?, "unit", "reason"?}` (REPORT.md).
struct metric {
  std::optional<double> value;  ///< nullopt = cannot be computed (see reason).
  std::optional<std::array<double, 2>> ci;
  std::uint64_t n = 0;
  std::optional<double> p;
  /// The minimum detectable effect (headline metrics with an interval): the smallest distance from no
  /// bias that these data would detect with 80 % power at the level 1 - confidence (docs/metrics.md).
  std::optional<double> mde;
  judgebias::unit unit = unit::fraction;
  std::string reason;  ///< Why value or ci is null; empty otherwise.
};
/// The metric as REPORT.md writes it.
nlohmann::ordered_json to_json(const metric& m);
/// A metric read back from its JSON (keys it lacks or cannot read stay empty).
metric metric_from_json(const nlohmann::ordered_json& m);
/// The metric as REPORT.md's JSON reads back: no value that is not finite, no interval or p without a
/// value, and "not computable" as the reason of a null value that has none.
metric normal_form(metric m);

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
  /// Drawn as a heat map of the metric's per-opponent values, a judge's row against each opponent's
  /// column (judge_agreement's judge-by-judge κ), instead of dots per judge.
  bool matrix = false;
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
  bool overall = false;       ///< Also reported over all judges together (gates: module.overall.metric).
  bool overall_only = false;  ///< Reported over all judges together only (a gold panel's own κ).
  int headline = 0;           ///< Its column in the terminal table (1 first); 0: not shown there.
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
  /// The same declaration, reported over all judges only (never per judge).
  metric_info only_overall() const {
    metric_info m = with_overall();
    m.overall_only = true;
    return m;
  }
};

/// What a row's judge and group mean: a judge's metric over all its records, over one `--by task` or
/// `--by run` group, or a metric over all judges together (agreement's `overall`).
enum class row_scope : std::uint8_t { judge, task, run, overall };

/// One metric of one module: where it belongs and its value (REPORT.md "metric").
struct report_row {
  /// The sub-section it is in, as its JSON keys under the module: empty for the module's own
  /// measurements, {"counterfactual"} for verbosity's padded variants, {"kinds", K} for cue kind K.
  std::vector<std::string> section;
  row_scope scope = row_scope::judge;
  std::string judge;          ///< Empty for row_scope::overall.
  std::string group;          ///< The task, or the run as decimal text; empty for judge and overall scopes.
  std::string model;          ///< The model of a per-model metric (winrate's, under `models`).
  bool per_model = false;     ///< Whether it is a per-model metric (under `models.MODEL`).
  std::string opponent;       ///< The opponent model of a per-opponent metric (which may be named "").
  bool per_opponent = false;  ///< Whether it is a per-opponent metric (under `by_opponent`).
  std::string metric;         ///< The metric's name.
  judgebias::metric value;

  /// The CSV's `kind`: the sub-section's last key, or "overall" for a metric over all judges.
  std::string_view kind() const noexcept;
};

/// A value of a module's section that is not a metric (its `diagnostics`, a sub-section's `reason`),
/// at its JSON keys under the module, placed after the first `after_rows` rows.
struct section_extra {
  std::vector<std::string> path;
  nlohmann::ordered_json value;
  std::size_t after_rows = 0;
};

/// A module's section as it is built: its rows and extras, in the order of its JSON keys. The kit
/// (module_kit.hpp) fills it; a module adds its diagnostics with extra().
struct section_body {
  std::vector<report_row> rows;
  std::vector<section_extra> extras;

  /// Adds `value` (not a metric) at `path` under the section, after the rows so far.
  void extra(std::vector<std::string> path, nlohmann::ordered_json value);
  /// Places the rows and extras of `sub` under `path` (`{"counterfactual"}`, `{"kinds", K}`), after
  /// the rows so far; an empty `sub` is written as an empty object.
  void nest(const std::vector<std::string>& path, section_body sub);
};

/// What a module's do_evaluate returns: its section, or a reason to skip.
struct module_result {
  bool skipped = false;
  std::string reason;  ///< Why skipped.
  section_body body;   ///< The section's rows and extras (judges, by_task, diagnostics...).
};

enum class module_status : std::uint8_t { ok, skipped, error };
std::string_view to_string(module_status s) noexcept;

/// One module's part of the report.
struct module_section {
  std::string name;
  module_status status = module_status::ok;
  std::string reason;            ///< Why skipped or failed; empty when ok.
  std::vector<report_row> rows;  ///< In the order the JSON holds them.
  std::vector<section_extra> extras;
  /// The module's declarations (its metrics(), when the module is known): what the terminal table
  /// shows, what the HTML charts draw. Not written to JSON.
  std::vector<metric_info> metrics;

  /// The declarations of the metrics in sub-section `kind` ("" for the module's own), or with
  /// `over_all_judges` those reported over all judges together.
  std::vector<const metric_info*> declared(std::string_view kind, bool over_all_judges = false) const;
};

/// A bias module: reads the dataset, never the file, and reports one section.
class bias_module {
 public:
  virtual ~bias_module() = default;
  virtual std::string_view name() const noexcept = 0;         ///< Report key, e.g. "self_preference".
  virtual std::string_view description() const noexcept = 0;  ///< One line for `judgebias list`.
  virtual std::vector<metric_info> metrics() const = 0;       ///< The metrics it reports.
  /// The module's report section, with its declarations; never throws but for out of memory (errors
  /// become status "error").
  module_section evaluate(const dataset& data, const config& cfg) const;

 protected:
  virtual module_result do_evaluate(const dataset& data, const config& cfg) const = 0;
};

}  // namespace judgebias
