#pragma once
/// \file Streaming reader for judgment files (JSON Lines, FORMAT.md version 1).

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "judgebias/error.hpp"
#include "judgebias/judgment.hpp"

namespace judgebias {

/// What the reader does with a bad line.
enum class invalid_policy : std::uint8_t {
  stop,  ///< Throw parse_error at the first bad line (the default).
  skip,  ///< Skip it, count it by reason, keep the first errors.
};

/// Options of the reader.
struct reader_options {
  invalid_policy on_invalid = invalid_policy::stop;
  std::uint64_t max_line_bytes = 64ull << 20;  ///< Longer lines are rejected (`--max-line-bytes`).
  std::size_t keep_errors = 20;                ///< How many skipped-line errors to keep.
  /// A judge's score outside its record's scale is an error (`--strict-scale`); by default it is an
  /// out-of-scale extraction failure (record::score_out_of_scale).
  bool strict_scale = false;
};

/// One kept error of a skipped line.
struct line_error {
  std::string path;
  std::uint64_t line = 0;
  std::uint64_t column = 0;
  std::string reason;
  std::string message;
};

/// Per-input counts.
struct input_summary {
  std::string path;
  std::uint64_t records = 0;  ///< Records delivered.
  std::uint64_t bytes = 0;    ///< Bytes read.
};

/// Everything the reader counted.
struct read_stats {
  std::vector<input_summary> inputs;
  std::uint64_t lines = 0;     ///< Physical lines, blank ones included.
  std::uint64_t records = 0;   ///< Records delivered.
  std::uint64_t skipped = 0;   ///< Lines rejected under the skip policy.
  std::uint64_t filtered = 0;  ///< Valid records left out by --judges / --tasks (counted by load()).
  std::map<std::string, std::uint64_t> skipped_by_reason;
  std::vector<line_error> first_errors;
  /// Fields judgebias does not know, by name (`a.` / `b.` / `response.` prefixes inside candidates).
  std::map<std::string, std::uint64_t, std::less<>> unknown_fields;
};

/// Receives each valid record; the record's views die when the call returns.
using record_sink = std::function<void(const record&)>;

/// Streaming JSON Lines reader, one thread (load() reads in parallel). One instance can read several
/// inputs; counts accumulate.
class reader {
 public:
  explicit reader(reader_options options = {});
  ~reader();
  reader(reader&&) noexcept;
  reader& operator=(reader&&) noexcept;

  /// Reads one file ("-" = standard input). Throws io_error, or parse_error under the stop policy.
  void read_file(const std::string& path, const record_sink& sink);
  /// Reads a stream to its end, reported under `name`.
  void read_stream(std::string_view name, std::istream& in, const record_sink& sink);
  /// Reads an in-memory buffer reported under `name`.
  void read_buffer(std::string_view name, std::string_view data, const record_sink& sink);
  /// Reads a buffer holding lines `first_line` + 1 onwards of input `name` (for a part of a file read in
  /// parallel): errors carry the file's line numbers.
  void read_buffer(std::string_view name, std::string_view data, const record_sink& sink,
                   std::uint64_t first_line);
  const read_stats& stats() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// What `validate` counts of one judge's valid records.
struct judge_counts {
  std::uint64_t pairwise = 0, pointwise = 0, perturbed = 0;
  std::uint64_t out_of_scale = 0;  ///< Scores outside their scale (record::score_out_of_scale).
};

/// What `validate` found: the reader's counts (every bad line skipped) and the valid records per judge.
struct validation {
  read_stats stats;
  std::map<std::string, judge_counts, std::less<>> judges;
  std::uint64_t out_of_scale = 0;  ///< Over all judges.
};

/// `judgebias validate`: reads every line of the files ("-" = standard input), then of the texts (name,
/// text), skipping bad lines whatever `options.on_invalid` says. Throws io_error; cancelled when `stop`
/// (config::stop) is set, checked between inputs.
validation validate_inputs(const std::vector<std::string>& paths,
                           const std::vector<std::pair<std::string, std::string>>& texts,
                           reader_options options, const std::atomic<bool>* stop = nullptr);

/// Number of Unicode code points in valid UTF-8 text.
std::uint64_t count_code_points(std::string_view utf8) noexcept;

}  // namespace judgebias
