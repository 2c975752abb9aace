#pragma once
/// \file Importers: judgment files other tools write, turned into FORMAT v1 records
/// (`judgebias import --from FORMAT`, `judgebias run --from FORMAT`; docs/ecosystem.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace judgebias {

/// The formats judgebias imports.
enum class import_format : std::uint8_t {
  fastchat,         ///< FastChat MT-Bench pairwise judgments (JSON Lines).
  fastchat_single,  ///< FastChat MT-Bench single-answer grading (JSON Lines).
  arena_hard,       ///< Arena-Hard-Auto judgments (JSON Lines), against a baseline model.
  alpaca_eval,      ///< AlpacaEval annotations (one JSON array).
  judgebench,       ///< JudgeBench pair judgments (JSON Lines).
};

/// The format's name as `--from` takes it: fastchat, fastchat-single, arena-hard, alpaca-eval, judgebench.
std::string_view to_string(import_format f) noexcept;
/// Parses a `--from` name; throws usage_error naming the known ones.
import_format parse_import_format(std::string_view name);

/// What an importer needs besides the file.
struct import_options {
  std::string baseline;  ///< arena-hard: the baseline model's name (required there).
};

/// Converts one input (its text, reported under `name`) to FORMAT v1 JSON Lines appended to `out`, and
/// returns the number of records written. Malformed input throws parse_error at `name:line:column`
/// (reason `import`), like FORMAT v1's errors; the column is where the value sits, or the object's
/// opening brace for a missing field.
std::uint64_t import_text(std::string_view name, std::string_view text, import_format format,
                          const import_options& options, std::string& out);

/// The same for a file ("-" = standard input); throws io_error when it cannot be read.
std::uint64_t import_file(const std::string& path, import_format format, const import_options& options,
                          std::string& out);

}  // namespace judgebias
