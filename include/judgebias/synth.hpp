#pragma once
/// \file A seeded generator of realistic judgment files with planted biases (`judgebias synth`).

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace judgebias {

/// A judge whose pairwise verdict follows a logistic model (docs/synth.md "A logistic judge"): P(picks A) =
/// σ(position + gold·g + self·(own A − own B) + length·tanh((len A − len B) / s) + cue·c), with g = ±1 for
/// the gold's pick of A or B, c = ±1 for a cue aimed at A or B (0 on a control record), s the generator's
/// population sd of a length difference (synth_length_sd); no ties. The coefficients the attribution
/// module estimates.
struct synth_logit {
  bool on = false;
  double position = 0, gold = 0, self = 0, length = 0, cue = 0;
};

/// One synthetic judge and the strengths planted in it (docs/synth.md explains each).
struct synth_judge {
  std::string name;            ///< Also its judge_model: one of the generator models.
  double self_pull = 0;        ///< P(pick own response outright) when one candidate is own.
  double first_slot_pull = 0;  ///< P(pick slot A outright) otherwise.
  double length_pull = 0;      ///< P(pick the longer response outright) otherwise.
  double tie_rate = 0.08;      ///< P(tie) when no pull acts.
  int leniency = 0;            ///< Points added to every pointwise score.
  int self_bonus = 0;          ///< Points added to scores of own responses.
  double bandwagon_pull = 0;   ///< P(follow a bandwagon cue); else the verdict equals the control's.
  double authority_pull = 0;   ///< P(follow an authority cue); else the verdict equals the control's.
  synth_logit logit = {};      ///< When on, the pairwise verdicts follow this model instead of the pulls.
};

/// Options of the generator.
struct synth_options {
  std::uint64_t items = 80;
  std::uint64_t seed = 0;
  double failure_rate = 0.005;  ///< P(verdict or score is null).
  /// 0: responses carry "length". Otherwise they carry a "text" of about this many bytes on average
  /// (proportional to the planted length), and no "length": the reader counts it. Same data otherwise.
  std::uint64_t text_bytes = 0;
  /// Empty = the default panel of docs/synth.md.
  std::vector<synth_judge> judges;
  /// Per generator model, a factor on its responses' lengths (and tokens): (model, factor) pairs.
  std::vector<std::pair<std::string, double>> length_scale;
};

/// The population standard deviation of len A − len B over the generator's pairs of models (both
/// orders), given the length scales: the `s` of synth_logit's length term.
double synth_length_sd(const synth_options& options);

/// Parses a logistic judge "NAME:position=X,gold=X,self=X,length=X,cue=X" (any subset of the terms, the
/// rest 0); a usage_error names what is wrong.
synth_judge parse_synth_logit_judge(std::string_view text);

/// The default panel of judges and their planted strengths.
std::vector<synth_judge> default_synth_judges();

/// Writes JSON Lines records to `out`; returns how many.
std::uint64_t synthesize(const synth_options& options, std::ostream& out);

/// Expected values of the self-preference metrics for each judge, computed exactly from the
/// planted model over the comparisons generated with these options (what a correct tool should
/// recover, up to sampling noise): {"<judge>": {"dbg_pairwise": .., "dbg_pointwise": .., ...}}.
nlohmann::ordered_json synth_expected(const synth_options& options);

}  // namespace judgebias
