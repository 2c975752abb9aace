#pragma once
// A line becomes a record in two steps: the field walk (reader.cpp, one simdjson pass) reads the values
// as written into a raw_record, and resolve_record() applies FORMAT.md's rules across the fields (the
// mode, required fields, defaults, verdicts, gold, the perturbation's target, the scale). The rules thus
// take plain values and can be tested without JSON (tests/reader_test.cpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "judgebias/judgment.hpp"

namespace judgebias::detail {

/// Why a line is rejected, and where in it; the reader adds the path and line number (parse_error) or
/// counts it (the skip policy).
struct line_failure {
  std::uint64_t column;
  const char* reason;  ///< A stable key of FORMAT.md's error classes ("missing_field", ...).
  std::string message;
};

/// Throws line_failure.
[[noreturn]] void fail(std::uint64_t column, const char* reason, std::string message);

/// A string as messages quote it: at most 60 bytes (whole characters), then "...".
std::string quoted(std::string_view s);

/// A candidate object ("a", "b" or "response") as written; an absent or null field is nullopt.
struct raw_candidate {
  bool present = false;  ///< The record has this object.
  std::optional<std::string_view> id, model;
  std::optional<std::uint32_t> length, tokens;
  std::optional<std::uint64_t> text_length;  ///< Code points of "text".
  std::vector<candidate_feature> features;   ///< "features", in input order.
  std::uint64_t column = 0;                  ///< Column of its opening brace.
};

/// One record's fields as the line gives them; an absent or null field is nullopt, an integer item is
/// already its decimal text. The walk checks each value on its own (its JSON type, a finite number, an
/// integer's range, prob_a in [0, 1], scale [min, max] with min < max, a non-empty perturbation kind) as it
/// meets it, so that a line's first error is the one reported; every rule that relates fields is
/// resolve_record()'s. A column is 0 when its field is absent, set when it is present (null included).
struct raw_record {
  std::uint64_t column = 1;  ///< Column of the record's opening brace.
  std::optional<std::string_view> judge, judge_model, item, task, mode;
  std::uint64_t item_column = 0, mode_column = 0;
  std::uint32_t run = 0;
  raw_candidate a, b, response;
  bool has_verdict = false;  ///< "verdict" is present (null included).
  std::optional<std::string_view> verdict;
  std::uint64_t verdict_column = 0;
  bool has_score = false;  ///< "score" is present (null included).
  std::optional<double> score;
  std::uint64_t score_column = 0;
  std::optional<std::string_view> gold_verdict;  ///< "gold" given as a string.
  std::optional<double> gold_score;              ///< "gold" given as a number.
  std::uint64_t gold_column = 0;
  std::optional<std::pair<double, double>> scale;
  std::optional<double> prob_a;
  bool order_known = true;
  std::optional<std::string_view> perturbation_kind, perturbation_target;
  std::uint64_t perturbation_column = 0;  ///< Set when "perturbation" is an object.
  std::uint64_t target_column = 0;        ///< Set when "perturbation" has "target" (null included).
};

/// Where resolve_record() builds default candidate ids ("<item>:<model>"): the record may point into it.
struct id_buffers {
  std::string a, b;
};

/// FORMAT v1's rules over one record's fields. The record's views point into `raw`'s views and into
/// `ids`. Throws line_failure; `strict_scale` makes a score outside the scale one (`--strict-scale`).
record resolve_record(const raw_record& raw, bool strict_scale, id_buffers& ids);

}  // namespace judgebias::detail
