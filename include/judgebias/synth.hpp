#pragma once
/// \file A seeded generator of realistic judgment files with planted biases (`judgebias synth`).

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace judgebias {

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
};

/// The default panel of judges and their planted strengths.
std::vector<synth_judge> default_synth_judges();

/// Writes JSON Lines records to `out`; returns how many.
std::uint64_t synthesize(const synth_options& options, std::ostream& out);

/// Expected values of the self-preference metrics for each judge, computed exactly from the
/// planted model over the comparisons generated with these options (what a correct tool should
/// recover, up to sampling noise): {"<judge>": {"dbg_pairwise": .., "dbg_pointwise": .., ...}}.
nlohmann::ordered_json synth_expected(const synth_options& options);

}  // namespace judgebias
