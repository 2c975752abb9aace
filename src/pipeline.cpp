// Files → dataset → modules → report (REPORT.md).
#include "judgebias/pipeline.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "judgebias/version.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

loaded_data load(const std::vector<std::string>& paths, const config& cfg) {
  reader_options ro;
  ro.on_invalid = cfg.skip_invalid ? invalid_policy::skip : invalid_policy::stop;
  ro.max_line_bytes = cfg.max_line_bytes;
  reader rd(ro);
  dataset_builder builder;
  auto sink = [&](const record& r) { builder.add(r); };
  if (paths.empty()) {
    rd.read_buffer(sample_name, embedded_sample(), sink);
  } else {
    for (const auto& p : paths) rd.read_file(p, sink);
  }
  if (builder.size() == 0) {
    std::string where = paths.empty() ? std::string(sample_name) : fmt::format("{}", fmt::join(paths, ", "));
    if (rd.stats().skipped)
      throw data_error(
          fmt::format("{}: no valid records ({} line(s) skipped as invalid)", where, rd.stats().skipped));
    throw data_error(fmt::format("{}: no records", where));
  }
  dataset_options dopt;
  dopt.gold_judges = cfg.gold_judges;
  return loaded_data{std::move(builder).finish(dopt), rd.stats()};
}

pipeline::pipeline(module_registry registry, config cfg)
    : registry_(std::move(registry)), cfg_(std::move(cfg)) {
  if (cfg_.modules.empty()) cfg_.modules = registry_.names();
  for (const auto& m : cfg_.modules)
    if (!registry_.contains(m))
      throw usage_error(
          fmt::format("unknown module \"{}\" (known: {})", m, fmt::join(registry_.names(), ", ")));
  if (!(cfg_.confidence > 0 && cfg_.confidence < 1))
    throw usage_error(fmt::format("--confidence must be between 0 and 1, got {}", cfg_.confidence));
  for (const auto& b : cfg_.by)
    if (b != "task" && b != "run") throw usage_error(fmt::format("--by takes task or run, got \"{}\"", b));
  if (cfg_.length != "chars" && cfg_.length != "tokens")
    throw usage_error(fmt::format("--length takes chars or tokens, got \"{}\"", cfg_.length));
  if (cfg_.threads == 0) cfg_.threads = std::max(1u, std::thread::hardware_concurrency());
}

report pipeline::run(const std::vector<std::string>& paths) const {
  return evaluate(load(paths, cfg_));
}

report pipeline::evaluate(const loaded_data& data) const {
  const dataset& d = data.dataset;
  const read_stats& st = data.stats;
  json r;
  r["schema_version"] = report_schema_version;
  r["tool"] = {{"name", "judgebias"}, {"version", std::string(version())}};
  json inputs = json::array();
  for (const auto& in : st.inputs)
    inputs.push_back({{"path", in.path}, {"records", in.records}, {"bytes", in.bytes}});
  r["inputs"] = std::move(inputs);

  json self = json::array();
  for (const auto& [m, j] : cfg_.self) self.push_back({m, j});
  r["config"] = {{"modules", cfg_.modules},
                 {"bootstrap", cfg_.bootstrap},
                 {"seed", cfg_.seed},
                 {"confidence", cfg_.confidence},
                 {"gold_judges", cfg_.gold_judges},
                 {"self", std::move(self)},
                 {"soft", cfg_.soft},
                 {"length", cfg_.length},
                 {"min_length_gap", cfg_.min_length_gap},
                 {"skip_invalid", cfg_.skip_invalid},
                 {"by", cfg_.by}};

  // Extraction failures over the records every module may use (non-duplicates).
  std::vector<std::uint64_t> failures(d.judges().size(), 0);
  std::uint64_t total_failures = 0;
  for (dataset::index i = 0; i < d.size(); ++i)
    if (!d.is_duplicate(i) && !d.parsed(i)) ++failures[d.judge(i)], ++total_failures;
  std::vector<std::uint32_t> all_judges(d.judges().size());
  for (std::uint32_t j = 0; j < all_judges.size(); ++j) all_judges[j] = j;
  std::sort(all_judges.begin(), all_judges.end(),
            [&](auto x, auto y) { return d.judges().name(x) < d.judges().name(y); });
  json by_judge = json::object();
  for (auto j : all_judges) by_judge[d.judges().name(j)] = failures[j];

  json first_errors = json::array();
  for (const auto& e : st.first_errors)
    first_errors.push_back({{"path", e.path},
                            {"line", e.line},
                            {"column", e.column},
                            {"reason", e.reason},
                            {"message", e.message}});
  json warnings = json::array();
  for (const auto& w : d.diagnostics().warnings) warnings.push_back(w);
  r["diagnostics"] = {{"lines", st.lines},
                      {"records", st.records},
                      {"skipped", st.skipped},
                      {"skipped_by_reason", st.skipped_by_reason},
                      {"first_errors", std::move(first_errors)},
                      {"duplicates", d.diagnostics().duplicates},
                      {"extraction_failures", total_failures},
                      {"extraction_failures_by_judge", std::move(by_judge)},
                      {"warnings", std::move(warnings)}};

  json modules = json::object();
  for (const auto& name : cfg_.modules) modules[name] = registry_.create(name)->evaluate(d, cfg_);
  r["modules"] = std::move(modules);
  return report{std::move(r)};
}

}  // namespace judgebias
