#pragma once
/// \file Loading: judgment files or texts → a dataset, through the reader, in parallel.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "judgebias/dataset.hpp"
#include "judgebias/importers.hpp"
#include "judgebias/module.hpp"
#include "judgebias/reader.hpp"

namespace judgebias {

/// A dataset with what the reader counted on the way.
struct loaded_data {
  judgebias::dataset dataset;
  read_stats stats;
};

/// The name under which the embedded sample is reported.
inline constexpr std::string_view sample_name = "sample.jsonl (embedded)";
/// The embedded sample judgment file (data/sample.jsonl).
std::string_view embedded_sample() noexcept;

/// Called while reading: bytes read so far and in all (0 when unknown: standard input), records so far.
using progress_callback = std::function<void(std::uint64_t done, std::uint64_t total, std::uint64_t records)>;

/// Reads the files ("-" = stdin; none = the embedded sample) into a dataset, keeping only the records
/// that pass cfg.judges and cfg.tasks. Throws io_error, parse_error (stop policy) or data_error (no
/// records). `progress`, when set, is called after each block of input (about every 8 MiB).
loaded_data load(const std::vector<std::string>& paths, const config& cfg,
                 const progress_callback& progress = {});

/// Like load(), for FORMAT v1 texts already in memory, as (name, text) pairs (what the importers make).
loaded_data load_texts(const std::vector<std::pair<std::string, std::string>>& inputs, const config& cfg);
/// Files in another tool's format (`run --from`): each converted in memory (importers.hpp), then read
/// as load_texts reads it under the name "PATH (from FORMAT)"; the inputs' sizes are the files' own.
/// Throws what import_file and load_texts throw.
loaded_data load_imported(const std::vector<std::string>& paths, import_format format,
                          const import_options& options, const config& cfg);

}  // namespace judgebias
