#pragma once
/// \file One judgment record as the reader delivers it (FORMAT.md, version 1).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace judgebias {

/// Pairwise verdict in a record's own presentation; `missing` is an extraction failure (`null`).
enum class verdict : std::uint8_t { a, b, tie, missing };

/// Whether a record compares two responses or scores one.
enum class judgment_mode : std::uint8_t { pairwise, pointwise };

/// Parses a verdict string with the aliases of FORMAT.md ("A", "a>>b", "C", "draw", "1", ...).
/// Returns nullopt when the string is not a verdict.
std::optional<verdict> parse_verdict(std::string_view text) noexcept;

/// "A", "B", "tie" or "null".
std::string_view to_string(verdict v) noexcept;

/// A number the user's pipeline counted or measured on a response (`features`: markdown headers, list
/// items...), a term of the attribution model.
struct candidate_feature {
  std::string_view name;
  double value = 0;
};

/// A candidate response; strings are views valid only while the record is being delivered.
struct candidate_view {
  std::string_view id;                  ///< Resolved id (FORMAT.md default applied).
  std::string_view model;               ///< Author model; meaningful only when has_model.
  bool has_model = false;               ///< False when the record names no model.
  std::optional<std::uint32_t> length;  ///< Code points (explicit `length`, else counted from `text`).
  std::optional<std::uint32_t> tokens;  ///< Tokens, when the record carries them.
  std::span<const candidate_feature> features;  ///< `features`, in input order, names unique.
};

/// One validated record. Views point into the reader's buffers (or the caller's strings when built
/// by hand) and are valid only during the call that receives the record.
struct record {
  std::string_view judge;
  std::string_view judge_model;  ///< Defaults to judge.
  std::string_view item;         ///< Integers already converted to decimal text.
  std::string_view task;         ///< Empty with has_task false when absent.
  bool has_task = false;
  std::uint32_t run = 0;
  judgment_mode mode = judgment_mode::pairwise;
  candidate_view a;              ///< Shown first (pairwise), or the scored response (pointwise).
  candidate_view b;              ///< Shown second (pairwise only).
  verdict v = verdict::missing;  ///< Pairwise verdict.
  std::optional<double> score;   ///< Pointwise score; nullopt = extraction failure.
  /// The judge's score was outside the record's scale: kept as an extraction failure (score nullopt).
  bool score_out_of_scale = false;
  std::optional<double> gold_score;  ///< Pointwise gold score.
  std::optional<verdict> gold;       ///< Pairwise gold in this record's presentation (never missing).
  std::optional<double> prob_a;      ///< Judge's probability that A is better.
  bool order_known = true;
  std::string_view perturbation_kind;    ///< Empty for a control record.
  std::string_view perturbation_target;  ///< Resolved candidate id the cue favours.
  bool is_perturbed() const noexcept { return !perturbation_kind.empty(); }
};

}  // namespace judgebias
