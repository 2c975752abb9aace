// Files and texts → a dataset: the blocks of lines of lines.hpp parsed by up to --threads line readers,
// records and counts merged in input order, so that nothing depends on the thread count.
#include "judgebias/load.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <exception>
#include <functional>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "ingest/line_reader.hpp"
#include "ingest/lines.hpp"
#include "judgebias/error.hpp"

namespace judgebias {

namespace {

constexpr std::size_t block_bytes = std::size_t{8} << 20;
// A block's parts per thread (when there are more threads than one): enough that the threads finish a
// block together, few enough that each part's builder has many records to merge at once.
constexpr std::size_t parts_per_thread = 4;

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

// Which records --judges and --tasks keep (gold judges always).
struct record_filter {
  std::set<std::string, std::less<>> judges, tasks;
  bool keep(const record& r) const {
    if (!judges.empty() && !judges.count(r.judge)) return false;
    if (!tasks.empty() && (!r.has_task || !tasks.count(r.task))) return false;
    return true;
  }
};

record_filter make_filter(const config& cfg) {
  record_filter filter;
  filter.judges.insert(cfg.judges.begin(), cfg.judges.end());
  if (!filter.judges.empty()) filter.judges.insert(cfg.gold_judges.begin(), cfg.gold_judges.end());
  filter.tasks.insert(cfg.tasks.begin(), cfg.tasks.end());
  return filter;
}

// Everything that reads one input into a dataset, the same for each input.
struct load_state {
  reader_options options;
  unsigned threads = 1;
  record_filter filter;
  const record_filter* keep = nullptr;  // nullptr: no --judges or --tasks
  dataset_builder builder;
  read_stats stats;
  std::uint64_t filtered = 0;
  const std::atomic<bool>* stop = nullptr;

  explicit load_state(const config& cfg) : filter(make_filter(cfg)), stop(cfg.stop) {
    options.on_invalid = cfg.skip_invalid ? invalid_policy::skip : invalid_policy::stop;
    options.max_line_bytes = cfg.max_line_bytes;
    options.strict_scale = cfg.strict_scale;
    threads = std::min(cfg.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : cfg.threads,
                       max_threads);
    if (!filter.judges.empty() || !filter.tasks.empty()) keep = &filter;
  }
  load_state(const load_state&) = delete;
  load_state& operator=(const load_state&) = delete;
};

// A block's parts, parsed, waiting to be merged into the dataset.
struct parsed_block {
  std::vector<dataset_builder> builders;
  std::vector<read_stats> counts;
  std::vector<std::uint64_t> left_out;  // records --judges/--tasks left out
  std::size_t cut = 0;                  // the block's bytes
  std::uint64_t done = 0;               // the input's bytes up to its end
  bool pending = false;
};

// Reads one input with one or more threads. The input comes in blocks of whole lines; each block is split
// at newlines into parts, and each part is parsed into its own builder while the first thread merges the
// previous block's builders into the dataset and reads the next block, then joins the others in parsing.
// Blocks are merged in input order, so that the dataset, the counts and the first error are exactly
// those of one thread. Memory stays bounded: two blocks (one with --threads 1; each grown only for a
// longer line, to about twice the limit at most, and not read past ahead) and two blocks' builders.
void read_input(const std::string& name, detail::byte_source& src, load_state& s,
                const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  std::vector<detail::line_reader> readers;  // one per thread, kept from block to block
  std::array<parsed_block, 2> blocks;        // the block being parsed and the one being merged
  std::size_t now = 0;
  std::uint64_t records = 0;
  auto merge = [&](parsed_block& pb) {
    if (!pb.pending) return;
    pb.pending = false;
    if (records == 0 && src.size() > pb.cut) {
      // From the first block's density, room for the whole file: the columns then never grow by
      // doubling, which would hold up to twice their size during the copy.
      std::uint64_t first = 0;
      for (const auto& c : pb.counts) first += c.records;
      s.builder.reserve(static_cast<std::size_t>(static_cast<double>(first) / static_cast<double>(pb.cut) *
                                                 static_cast<double>(src.size()) * 1.02) +
                        16);
    }
    for (std::size_t p = 0; p < pb.builders.size(); ++p) {
      s.filtered += pb.left_out[p];
      records += pb.counts[p].records;
      merge_stats(s.stats, pb.counts[p], s.options.keep_errors);
      s.builder.append(std::move(pb.builders[p]));
    }
    if (progress) progress(pb.done, src.size());
  };
  // With more than one thread the next block is read while this one is parsed, into a second buffer, but
  // for a block grown for a long line: its line's parsing then has the memory to itself.
  const bool two_buffers = s.threads > 1;
  detail::block_reader input(src, block_bytes, s.options.max_line_bytes, two_buffers ? 2 : 1);
  // A block cut into parts at newlines, at most one per 64 KiB: with more than one thread, a few per
  // thread, taken in turn by whichever thread is free, so that a thread whose parts went faster, or that
  // merged and read first, is not left waiting for the others.
  struct cut_block {
    detail::line_block lines;
    std::vector<std::size_t> bounds;        // part p is [bounds[p], bounds[p + 1])
    std::vector<std::uint64_t> first_line;  // the input's lines before part p
  };
  auto cut_into_parts = [&](cut_block& c) {
    const detail::line_block& b = c.lines;
    const std::size_t part_count =
        std::clamp<std::size_t>(b.size >> 16, 1, s.threads == 1 ? 1 : s.threads * parts_per_thread);
    c.bounds.assign(1, 0);
    for (std::size_t t = 1; t < part_count; ++t) {
      std::size_t at = std::max(c.bounds.back(), b.size * t / part_count);
      const char* nl =
          at < b.size ? static_cast<const char*>(std::memchr(b.data + at, '\n', b.size - at)) : nullptr;
      c.bounds.push_back(nl ? static_cast<std::size_t>(nl - b.data) + 1 : b.size);
    }
    c.bounds.push_back(b.size);
    // Each part's first line, and the block's newlines for `input` (which would count them again).
    c.first_line.assign(c.bounds.size(), b.first_line);
    for (std::size_t p = 1; p < c.bounds.size(); ++p)
      c.first_line[p] =
          c.first_line[p - 1] + detail::count_newlines(b.data + c.bounds[p - 1], b.data + c.bounds[p]);
    input.set_newlines(c.first_line.back() - b.first_line);
    c.first_line.pop_back();
  };
  std::array<cut_block, 2> cuts;  // the block being parsed and the one read ahead
  bool have = input.next(cuts[0].lines, false);
  if (have) cut_into_parts(cuts[0]);
  for (std::size_t at = 0; have; at ^= 1) {
    throw_if_stopped(s.stop);
    const cut_block& c = cuts[at];
    const bool read_ahead = two_buffers && c.lines.size <= block_bytes;
    const std::size_t parts = c.bounds.size() - 1;
    const std::size_t workers = std::min<std::size_t>(s.threads, parts + 1);
    while (readers.size() < workers) readers.emplace_back(s.options);
    parsed_block& pb = blocks[now];
    pb.builders.resize(parts);
    pb.counts.assign(parts, read_stats{});
    pb.left_out.assign(parts, 0);
    // The first thread (this one: progress is reported from here) merges the previous block and reads
    // the next, then parses parts like the others. Each failure is kept by its task and rethrown in the
    // input's order: the merge's, then the earliest part's, then the next block's read. With --threads 1,
    // on this thread: the merge, the one part, then the read.
    std::vector<std::exception_ptr> failed(parts + 2);
    bool have_next = false;
    auto read_next = [&] {
      try {
        have_next = input.next(cuts[at ^ 1].lines, read_ahead);  // (this block is in use while reading ahead)
        if (have_next) cut_into_parts(cuts[at ^ 1]);
      } catch (...) {
        failed[parts + 1] = std::current_exception();
      }
    };
    std::atomic<std::size_t> next_part{0};
    auto work = [&](std::size_t w) {
      if (w == 0) {
        try {
          merge(blocks[now ^ 1]);
        } catch (...) {
          failed[0] = std::current_exception();
        }
        if (read_ahead) read_next();
      }
      for (std::size_t p = next_part++; p < parts; p = next_part++) {
        try {
          readers[w].read_lines(
              name, c.lines.data + c.bounds[p], c.bounds[p + 1] - c.bounds[p], c.lines.room - c.bounds[p],
              c.first_line[p],
              [&](const record& r) {
                if (!s.keep || s.keep->keep(r))
                  pb.builders[p].add(r);
                else
                  ++pb.left_out[p];
              },
              pb.counts[p]);
        } catch (...) {
          failed[p + 1] = std::current_exception();
        }
      }
    };
    if (workers == 1)
      work(0);
    else
      detail::parallel_for(workers, work);
    if (!read_ahead) read_next();
    for (const auto& e : failed)
      if (e) std::rethrow_exception(e);
    pb.cut = c.lines.size;
    pb.done = c.lines.done;
    pb.pending = true;
    now ^= 1;
    have = have_next;
  }
  merge(blocks[now ^ 1]);
  s.stats.inputs.push_back(input_summary{name, records, input.bytes()});
}

// The dataset of what was read, or why there is none.
loaded_data finish_load(load_state& s, const std::string& where, const config& cfg) {
  s.stats.filtered = s.filtered;
  if (s.builder.size() == 0) {
    if (s.stats.skipped)
      throw data_error(
          fmt::format("{}: no valid records ({} line(s) skipped as invalid)", where, s.stats.skipped));
    if (s.stats.filtered)
      throw data_error(
          fmt::format("{}: no records left after --judges/--tasks ({} left out)", where, s.stats.filtered));
    throw data_error(fmt::format("{}: no records", where));
  }
  dataset_options dopt;
  dopt.gold_judges = cfg.gold_judges;
  dopt.breakdowns = cfg.by;  // the --by groups, indexed once for every module
  dopt.threads = s.threads;
  return loaded_data{std::move(s.builder).finish(dopt), std::move(s.stats)};
}

}  // namespace

loaded_data load(const std::vector<std::string>& paths, const config& cfg,
                 const progress_callback& progress) {
  load_state s(cfg);
  if (paths.empty()) {
    auto src = detail::byte_source::text(embedded_sample());
    read_input(std::string(sample_name), src, s, {});
    return finish_load(s, std::string(sample_name), cfg);
  }
  // Progress over all inputs: the sizes of the regular files, known before reading.
  std::uint64_t total = 0, before = 0;
  if (progress)
    for (const auto& p : paths) total += p == "-" ? 0 : detail::input_file(p).size();
  for (const auto& p : paths) {
    std::function<void(std::uint64_t, std::uint64_t)> step;
    if (progress)
      step = [&](std::uint64_t done, std::uint64_t) { progress(before + done, total, s.stats.records); };
    auto src = detail::byte_source::file(p);
    read_input(p, src, s, step);
    before += s.stats.inputs.back().bytes;
  }
  return finish_load(s, fmt::format("{}", fmt::join(paths, ", ")), cfg);
}

loaded_data load_texts(const std::vector<std::pair<std::string, std::string>>& inputs, const config& cfg) {
  load_state s(cfg);
  std::vector<std::string> names;
  for (const auto& [name, text] : inputs) {
    names.push_back(name);
    auto src = detail::byte_source::text(text);
    read_input(name, src, s, {});
  }
  return finish_load(s, fmt::format("{}", fmt::join(names, ", ")), cfg);
}

loaded_data load_imported(const std::vector<std::string>& paths, import_format format,
                          const import_options& options, const config& cfg) {
  std::vector<std::pair<std::string, std::string>> texts;
  texts.reserve(paths.size());
  for (const auto& path : paths) {
    throw_if_stopped(cfg.stop);
    std::string converted;
    import_file(path, format, options, converted);
    texts.emplace_back(fmt::format("{} (from {})", path, to_string(format)), std::move(converted));
  }
  loaded_data d = load_texts(texts, cfg);
  // The report's inputs name the files as read: their size, not the converted text's.
  for (std::size_t k = 0; k < paths.size() && k < d.stats.inputs.size(); ++k) {
    struct stat st {};
    if (paths[k] != "-" && ::stat(paths[k].c_str(), &st) == 0)
      d.stats.inputs[k].bytes = static_cast<std::uint64_t>(st.st_size);
  }
  return d;
}

}  // namespace judgebias
