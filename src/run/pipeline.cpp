// Files → dataset → modules → report (REPORT.md).
#include "judgebias/pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <functional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "ingest/input_file.hpp"
#include "common/json_object.hpp"
#include "common/parallel.hpp"
#include "judgebias/error.hpp"
#include "judgebias/version.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

// Adds the counts of a reader that read a later part of the input.
void merge_stats(read_stats& into, const read_stats& from, std::size_t keep_errors) {
  into.lines += from.lines;
  into.records += from.records;
  into.skipped += from.skipped;
  for (const auto& [reason, n] : from.skipped_by_reason) into.skipped_by_reason[reason] += n;
  for (const auto& e : from.first_errors)
    if (into.first_errors.size() < keep_errors) into.first_errors.push_back(e);
  for (const auto& [name, n] : from.unknown_fields) into.unknown_fields[name] += n;
}

// Reads one input with one or more threads. The input goes in blocks of whole lines; each block is split at
// newlines into one part per thread, each part is parsed into its own builder, and the builders and
// counts are merged in input order, so that the dataset, the counts and the first error are exactly
// those of one thread. Memory stays bounded: one block (grown only for a longer line, up to the limit).
// Which records --judges and --tasks keep (gold judges always).
struct record_filter {
  std::set<std::string, std::less<>> judges, tasks;
  bool keep(const record& r) const {
    if (!judges.empty() && !judges.count(r.judge)) return false;
    if (!tasks.empty() && (!r.has_task || !tasks.count(r.task))) return false;
    return true;
  }
};

void read_parallel(const std::string& path, const reader_options& ro, unsigned threads, dataset_builder& out,
                   read_stats& stats, const record_filter* filter, std::uint64_t& filtered,
                   const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  detail::input_file in(path);
  constexpr std::size_t block = std::size_t{8} << 20;
  std::vector<char> buf(block);
  std::size_t filled = 0, target = block;
  bool eof = false, discarding = false;
  std::uint64_t line_base = 0, bytes = 0, records = 0;
  while (true) {
    while (!eof && filled < target) {
      if (buf.size() < target) buf.resize(target);
      const std::size_t got = in.read(buf.data() + filled, target - filled);
      if (got == 0) eof = true;
      filled += got;
      bytes += got;
    }
    if (discarding) {  // the rest of a line already rejected as too long
      const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', filled));
      const std::size_t drop = nl ? static_cast<std::size_t>(nl - buf.data()) + 1 : filled;
      discarding = nl == nullptr;
      std::memmove(buf.data(), buf.data() + drop, filled - drop);
      filled -= drop;
      if (eof && filled == 0) break;
      continue;
    }
    // Whole lines only (all of it at the end of the input).
    std::size_t cut = filled;
    if (!eof) {
      const char* last = nullptr;
      for (std::size_t k = filled; k > 0; --k)
        if (buf[k - 1] == '\n') {
          last = buf.data() + k - 1;
          break;
        }
      if (!last) {
        if (filled <= ro.max_line_bytes + 1) {  // a line longer than the block: read more of it
          target = filled * 2;
          continue;
        }
        cut = filled;  // over the limit: its first bytes go to a reader, which rejects it; drop the rest
        discarding = true;
      } else {
        cut = static_cast<std::size_t>(last - buf.data()) + 1;
      }
    }
    if (cut == 0) break;
    // Parts split at newlines.
    // Parts split at newlines, at most one per 64 KiB: a part per thread while there is work for it.
    const std::size_t part_count = std::clamp<std::size_t>(cut >> 16, 1, threads);
    std::vector<std::size_t> bounds{0};
    for (std::size_t t = 1; t < part_count; ++t) {
      std::size_t at = std::max(bounds.back(), cut * t / part_count);
      const char* nl =
          at < cut ? static_cast<const char*>(std::memchr(buf.data() + at, '\n', cut - at)) : nullptr;
      bounds.push_back(nl ? static_cast<std::size_t>(nl - buf.data()) + 1 : cut);
    }
    bounds.push_back(cut);
    const std::size_t parts = bounds.size() - 1;
    std::vector<std::uint64_t> first_line(parts, line_base);
    for (std::size_t p = 1; p < parts; ++p)
      first_line[p] = first_line[p - 1] + static_cast<std::uint64_t>(std::count(
                                              buf.data() + bounds[p - 1], buf.data() + bounds[p], '\n'));
    std::vector<reader> readers;
    std::vector<dataset_builder> builders(parts);
    for (std::size_t p = 0; p < parts; ++p) readers.emplace_back(ro);
    std::vector<std::uint64_t> left_out(parts, 0);
    detail::parallel_for(parts, [&](std::size_t p) {
      readers[p].read_buffer(
          path, std::string_view(buf.data() + bounds[p], bounds[p + 1] - bounds[p]),
          [&](const record& r) {
            if (!filter || filter->keep(r))
              builders[p].add(r);
            else
              ++left_out[p];
          },
          first_line[p]);
    });  // the earliest part's error is rethrown: it is the first in the input
    if (records == 0 && in.size() > cut) {
      // From the first block's density, room for the whole file: the columns then never grow by doubling,
      // which would hold up to twice their size during the copy.
      std::uint64_t first = 0;
      for (const auto& r : readers) first += r.stats().records;
      out.reserve(static_cast<std::size_t>(static_cast<double>(first) / static_cast<double>(cut) *
                                           static_cast<double>(in.size()) * 1.02) +
                  16);
    }
    for (std::size_t p = 0; p < parts; ++p) {
      filtered += left_out[p];
      records += readers[p].stats().records;
      merge_stats(stats, readers[p].stats(), ro.keep_errors);
      out.append(std::move(builders[p]));
    }
    line_base += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + cut, '\n'));
    if (progress) progress(bytes - (filled - cut), in.size());
    if (cut == filled && eof) break;
    std::memmove(buf.data(), buf.data() + cut, filled - cut);
    filled -= cut;
    target = block;
    if (discarding) line_base += 1;
  }
  stats.inputs.push_back(input_summary{path, records, bytes});
}

// One warning naming the judge-level metrics that rest on fewer than 30 units (their intervals are wide
// and the closed forms approximate).
void warn_small_samples(report& r) {
  constexpr std::uint64_t enough = 30;
  std::vector<std::string> small;
  std::size_t count = 0;
  for (const auto& row : tidy_rows(r)) {
    if (!row.value || row.n >= enough || row.unit == "count" || !row.opponent.empty() || !row.task.empty() ||
        !row.run.empty())
      continue;
    if (++count <= 8)
      small.push_back(fmt::format("{}{}.{} of {} (n={})", row.module, row.kind.empty() ? "" : "." + row.kind,
                                  row.metric, row.judge.empty() ? "all judges" : row.judge, row.n));
  }
  if (count == 0) return;
  std::string text = fmt::format("{} metric(s) rest on fewer than {} units, so their intervals are wide: {}",
                                 count, enough, fmt::join(small, ", "));
  if (count > small.size()) text += fmt::format(" and {} more", count - small.size());
  r.meta["diagnostics"]["warnings"].push_back(text);
}

record_filter make_filter(const config& cfg) {
  record_filter filter;
  filter.judges.insert(cfg.judges.begin(), cfg.judges.end());
  if (!filter.judges.empty()) filter.judges.insert(cfg.gold_judges.begin(), cfg.gold_judges.end());
  filter.tasks.insert(cfg.tasks.begin(), cfg.tasks.end());
  return filter;
}

// The dataset of what was read, or why there is none.
loaded_data finish_load(dataset_builder builder, read_stats stats, const std::string& where,
                        const config& cfg) {
  if (builder.size() == 0) {
    if (stats.skipped)
      throw data_error(
          fmt::format("{}: no valid records ({} line(s) skipped as invalid)", where, stats.skipped));
    if (stats.filtered)
      throw data_error(
          fmt::format("{}: no records left after --judges/--tasks ({} left out)", where, stats.filtered));
    throw data_error(fmt::format("{}: no records", where));
  }
  dataset_options dopt;
  dopt.gold_judges = cfg.gold_judges;
  return loaded_data{std::move(builder).finish(dopt), std::move(stats)};
}

}  // namespace

loaded_data load(const std::vector<std::string>& paths, const config& cfg,
                 const progress_callback& progress) {
  reader_options ro;
  ro.on_invalid = cfg.skip_invalid ? invalid_policy::skip : invalid_policy::stop;
  ro.max_line_bytes = cfg.max_line_bytes;
  ro.strict_scale = cfg.strict_scale;
  const unsigned threads = std::min(
      cfg.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : cfg.threads, max_threads);
  const record_filter filter = make_filter(cfg);
  const record_filter* keep = filter.judges.empty() && filter.tasks.empty() ? nullptr : &filter;
  read_stats stats;
  dataset_builder builder;
  std::uint64_t filtered = 0;
  if (paths.empty()) {
    reader rd(ro);
    rd.read_buffer(sample_name, embedded_sample(), [&](const record& r) {
      if (!keep || keep->keep(r))
        builder.add(r);
      else
        ++filtered;
    });
    stats = rd.stats();
  } else {
    // Progress over all inputs: the sizes of the regular files, known before reading.
    std::uint64_t total = 0, before = 0;
    if (progress)
      for (const auto& p : paths) total += p == "-" ? 0 : detail::input_file(p).size();
    for (const auto& p : paths) {
      std::function<void(std::uint64_t, std::uint64_t)> step;
      if (progress)
        step = [&](std::uint64_t done, std::uint64_t) { progress(before + done, total, stats.records); };
      read_parallel(p, ro, threads, builder, stats, keep, filtered, step);
      if (!stats.inputs.empty()) before += stats.inputs.back().bytes;
    }
  }
  stats.filtered = filtered;
  return finish_load(std::move(builder), std::move(stats),
                     paths.empty() ? std::string(sample_name) : fmt::format("{}", fmt::join(paths, ", ")),
                     cfg);
}

loaded_data load_texts(const std::vector<std::pair<std::string, std::string>>& inputs, const config& cfg) {
  reader_options ro;
  ro.on_invalid = cfg.skip_invalid ? invalid_policy::skip : invalid_policy::stop;
  ro.max_line_bytes = cfg.max_line_bytes;
  ro.strict_scale = cfg.strict_scale;
  const record_filter filter = make_filter(cfg);
  const bool filtering = !filter.judges.empty() || !filter.tasks.empty();
  reader rd(ro);
  dataset_builder builder;
  std::uint64_t filtered = 0;
  std::vector<std::string> names;
  for (const auto& [name, text] : inputs) {
    names.push_back(name);
    rd.read_buffer(name, text, [&](const record& r) {
      if (!filtering || filter.keep(r))
        builder.add(r);
      else
        ++filtered;
    });
  }
  read_stats stats = rd.stats();
  stats.filtered = filtered;
  return finish_load(std::move(builder), std::move(stats), fmt::format("{}", fmt::join(names, ", ")), cfg);
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
  if (!(cfg_.min_length_gap >= 0) || !std::isfinite(cfg_.min_length_gap))
    throw usage_error(fmt::format("--min-length-gap must be a number >= 0, got {}", cfg_.min_length_gap));
  if (cfg_.max_line_bytes == 0) throw usage_error("--max-line-bytes must be at least 1");
  if (cfg_.bootstrap > max_bootstrap)
    throw usage_error(
        fmt::format("--bootstrap must be at most {} resamples, got {}", max_bootstrap, cfg_.bootstrap));
  auto no_repeats = [](const std::vector<std::string>& v, const char* option) {
    for (std::size_t k = 0; k < v.size(); ++k)
      if (std::find(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v[k]) !=
          v.begin() + static_cast<std::ptrdiff_t>(k))
        throw usage_error(fmt::format("{} lists \"{}\" twice", option, v[k]));
  };
  no_repeats(cfg_.modules, "--modules");
  no_repeats(cfg_.by, "--by");
  if (cfg_.length != "chars" && cfg_.length != "tokens")
    throw usage_error(fmt::format("--length takes chars or tokens, got \"{}\"", cfg_.length));
  // More threads than there is work only costs memory: each use takes at most one per unit of work
  // (module, block part, resample batch), and no more than max_threads in all.
  if (cfg_.threads == 0) cfg_.threads = std::max(1u, std::thread::hardware_concurrency());
  cfg_.threads = std::min(cfg_.threads, max_threads);
}

report pipeline::run(const std::vector<std::string>& paths) const {
  return evaluate(load(paths, cfg_));
}

report pipeline::evaluate(const loaded_data& data) const {
  const dataset& d = data.dataset;
  const read_stats& st = data.stats;
  if (!cfg_.gold_judges.empty() && d.size() > 0 && d.measured_judges().empty())
    throw usage_error(
        fmt::format("--gold-judges names every judge of the input ({}): no judge is left to "
                    "measure",
                    fmt::join(cfg_.gold_judges, ", ")));
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
  if (!cfg_.judges.empty()) r["config"]["judges"] = cfg_.judges;
  if (!cfg_.tasks.empty()) r["config"]["tasks"] = cfg_.tasks;

  // Extraction failures over the records every module may use (non-duplicates); of them, the scores
  // outside their scale.
  std::vector<std::uint64_t> failures(d.judges().size(), 0), out_of_scale(d.judges().size(), 0);
  std::uint64_t total_failures = 0, total_out_of_scale = 0;
  for (dataset::index i = 0; i < d.size(); ++i)
    if (!d.is_duplicate(i) && !d.parsed(i)) {
      ++failures[d.judge(i)], ++total_failures;
      if (d.out_of_scale(i)) ++out_of_scale[d.judge(i)], ++total_out_of_scale;
    }
  std::vector<std::uint32_t> all_judges(d.judges().size());
  for (std::uint32_t j = 0; j < all_judges.size(); ++j) all_judges[j] = j;
  std::sort(all_judges.begin(), all_judges.end(),
            [&](auto x, auto y) { return d.judges().name(x) < d.judges().name(y); });
  json by_judge = json::object(), scale_by_judge = json::object();
  for (auto j : all_judges) {
    detail::append_member(by_judge, d.judges().name(j), failures[j]);
    if (out_of_scale[j] > 0) detail::append_member(scale_by_judge, d.judges().name(j), out_of_scale[j]);
  }

  json first_errors = json::array();
  for (const auto& e : st.first_errors)
    first_errors.push_back({{"path", e.path},
                            {"line", e.line},
                            {"column", e.column},
                            {"reason", e.reason},
                            {"message", e.message}});
  json warnings = json::array();
  for (const auto& w : d.diagnostics().warnings) warnings.push_back(w);
  for (auto j : all_judges)
    if (out_of_scale[j] > 0)
      warnings.push_back(fmt::format(
          "judge \"{}\": {} score(s) outside their record's scale, counted as extraction failures and not "
          "measured (--strict-scale makes them errors)",
          d.judges().name(j), out_of_scale[j]));
  for (const auto& name : cfg_.judges)
    if (d.judges().find(name) == no_id)
      warnings.push_back(fmt::format("--judges: judge \"{}\" has no records", name));
  for (const auto& name : cfg_.tasks)
    if (d.tasks().find(name) == no_id)
      warnings.push_back(fmt::format("--tasks: task \"{}\" has no records", name));
  r["diagnostics"] = {{"lines", st.lines},
                      {"records", st.records},
                      {"skipped", st.skipped},
                      {"skipped_by_reason", st.skipped_by_reason},
                      {"first_errors", std::move(first_errors)},
                      {"duplicates", d.diagnostics().duplicates},
                      {"extraction_failures", total_failures},
                      {"extraction_failures_by_judge", std::move(by_judge)},
                      {"out_of_scale", total_out_of_scale},
                      {"out_of_scale_by_judge", std::move(scale_by_judge)},
                      {"warnings", std::move(warnings)}};
  if (!cfg_.judges.empty() || !cfg_.tasks.empty()) r["diagnostics"]["filtered_out"] = st.filtered;

  // Modules only read the dataset: they run side by side, up to --threads at a time, and their sections
  // are placed in config order, so the report does not depend on the thread count.
  report out;
  out.meta = std::move(r);
  out.modules.resize(cfg_.modules.size());
  std::atomic<std::size_t> next{0};
  const std::size_t workers =
      std::max<std::size_t>(1, std::min<std::size_t>(cfg_.threads, out.modules.size()));
  detail::parallel_for(workers, [&](std::size_t) {
    try {
      for (std::size_t k = next++; k < out.modules.size(); k = next++) {
        const auto module = registry_.create(cfg_.modules[k]);
        out.modules[k] = module_section_from_json(cfg_.modules[k], module->evaluate(d, cfg_));
        out.modules[k].metrics = module->metrics();
      }
    } catch (...) {
      next = out.modules.size();  // the others stop too; the failure is rethrown after the join
      throw;
    }
  });
  warn_small_samples(out);
  return out;
}

}  // namespace judgebias
