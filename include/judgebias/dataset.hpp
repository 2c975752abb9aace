#pragma once
/// \file The in-memory dataset every module reads: records in columns with interned ids, and the
/// indexes the modules share (comparisons, swap pairs, control matches, gold).

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "judgebias/judgment.hpp"

namespace judgebias {

/// An interned id that is absent (no task, no model, no length, no gold...).
inline constexpr std::uint32_t no_id = std::numeric_limits<std::uint32_t>::max();
/// The outcome "tie" where an outcome is otherwise a candidate id.
inline constexpr std::uint32_t tie_outcome = no_id - 1;

namespace detail {

/// A column of 32-bit values (ids, runs, lengths, no_id and tie_outcome included) kept in the narrowest of
/// 8, 16 or 32 bits that holds every value so far: judges, models, tasks, kinds, runs and token counts
/// nearly always fit in 8 bits, lengths and items often in 16. It widens (a copy, at most twice) when a
/// value does not fit. A width's two largest codes stand for no_id and no_id - 1.
class packed_column {
 public:
  std::size_t size() const noexcept { return size_; }
  /// Bytes per value now: 1, 2 or 4.
  unsigned width() const noexcept { return width_; }
  std::uint32_t operator[](std::size_t i) const noexcept {
    switch (width_) {
      case 1:
        return decode(u8_[i]);
      case 2:
        return decode(u16_[i]);
      default:
        return u32_[i];
    }
  }
  void push_back(std::uint32_t v) {
    if (!fits(v, width_)) widen(v);
    switch (width_) {
      case 1:
        u8_.push_back(encode<std::uint8_t>(v));
        break;
      case 2:
        u16_.push_back(encode<std::uint16_t>(v));
        break;
      default:
        u32_.push_back(v);
    }
    ++size_;
  }
  /// Appends `from`'s values, each v but no_id replaced by map[v] when `map` is given: as push_back of
  /// each, widened at most once per run of values rather than checked value by value.
  void append(const packed_column& from, const std::vector<std::uint32_t>* map);
  /// Room for `n` values at the present width (and at a wider one, should it widen).
  void reserve(std::size_t n);
  void shrink_to_fit();

 private:
  template <class T>
  static std::uint32_t decode(T code) noexcept {
    constexpr std::uint32_t top = std::numeric_limits<T>::max();
    return code >= top - 1 ? code + (std::numeric_limits<std::uint32_t>::max() - top) : code;
  }
  template <class T>
  static T encode(std::uint32_t v) noexcept {
    constexpr std::uint32_t top = std::numeric_limits<T>::max();
    return static_cast<T>(v >= std::numeric_limits<std::uint32_t>::max() - 1
                              ? v - (std::numeric_limits<std::uint32_t>::max() - top)
                              : v);
  }
  static bool fits(std::uint32_t v, unsigned width) noexcept {
    if (width == 4 || v >= std::numeric_limits<std::uint32_t>::max() - 1) return true;
    return v < (std::uint32_t{1} << (8 * width)) - 2;
  }
  void widen(std::uint32_t v);
  std::size_t size_ = 0, reserved_ = 0;
  unsigned width_ = 1;
  std::vector<std::uint8_t> u8_;  // the values, in the one of the three that has the column's width
  std::vector<std::uint16_t> u16_;
  std::vector<std::uint32_t> u32_;
};

/// A column in which one value means "none" and may be most of them (NaN: a pairwise record has no score,
/// a record without gold no gold score; no_id: a control record has no cue target): the other values in
/// record order, a bit per record that says which records have one, and per 64 records the count of
/// values before them, so that a look-up is one popcount. 12 bytes per 64 records beside the values
/// themselves. A value read back has the bits it was given; a NaN comes back as the quiet NaN.
template <class T>
class sparse_column {
 public:
  std::size_t size() const noexcept { return size_; }
  T operator[](std::size_t i) const noexcept {
    const std::uint64_t word = bits_[i >> 6], bit = std::uint64_t{1} << (i & 63);
    if (!(word & bit)) return none();
    return values_[before_[i >> 6] + static_cast<std::size_t>(std::popcount(word & (bit - 1)))];
  }
  void push_back(T v) {
    if ((size_ & 63) == 0) {
      bits_.push_back(0);
      before_.push_back(static_cast<std::uint32_t>(values_.size()));
    }
    if (!is_none(v)) {
      bits_.back() |= std::uint64_t{1} << (size_ & 63);
      values_.push_back(v);
    }
    ++size_;
  }
  /// Room for `n` records, every one with a value (room never written costs no memory).
  void reserve(std::size_t n) {
    bits_.reserve((n + 63) / 64), before_.reserve((n + 63) / 64), values_.reserve(n);
  }

 private:
  static T none() noexcept {
    if constexpr (std::is_floating_point_v<T>)
      return std::numeric_limits<T>::quiet_NaN();
    else
      return std::numeric_limits<T>::max();
  }
  static bool is_none(T v) noexcept {
    if constexpr (std::is_floating_point_v<T>)
      return std::isnan(v);
    else
      return v == std::numeric_limits<T>::max();
  }
  std::size_t size_ = 0;
  std::vector<std::uint64_t> bits_;    // bit r % 64 of word r / 64: record r has a value
  std::vector<std::uint32_t> before_;  // per word: the values of the records before it
  std::vector<T> values_;
};

}  // namespace detail

/// Strings interned to dense integer ids, in order of first appearance. Each string is kept once, its
/// bytes packed in blocks that never move (a name's view stays valid as the table grows); the look-up is
/// an open-addressing table of ids (8 bytes a slot, at most half full), not a second copy.
class string_table {
 public:
  string_table() = default;
  string_table(const string_table& other);
  string_table& operator=(const string_table& other);
  string_table(string_table&& other) noexcept;
  string_table& operator=(string_table&& other) noexcept;
  ~string_table() = default;

  /// The id of `s`, adding it when new.
  std::uint32_t intern(std::string_view s);
  /// The id of `s`, or no_id.
  std::uint32_t find(std::string_view s) const;
  std::string_view name(std::uint32_t id) const { return names_[id]; }  ///< The string of an id.
  std::size_t size() const noexcept { return names_.size(); }           ///< Number of strings.

 private:
  struct slot {
    std::uint32_t id = std::numeric_limits<std::uint32_t>::max();  // no_id: empty
    std::uint32_t hash = 0;                                        // the string's hash, its low half
  };
  static constexpr std::size_t block_size = 64 << 10;
  static std::uint64_t hash_of(std::string_view s) noexcept { return std::hash<std::string_view>{}(s); }
  // The slot holding `s`, or the empty slot where it would go.
  std::size_t slot_of(std::string_view s, std::uint64_t h) const noexcept;
  void grow();
  // A copy of `s` among the blocks: in the last one when it fits, else in a new one (of block_size, or
  // of its own size when longer).
  std::string_view store(std::string_view s);
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* next_ = nullptr;  // the first free byte of the last block
  std::size_t left_ = 0;  // and the bytes free from there
  std::vector<std::string_view> names_;
  std::vector<slot> slots_;
  unsigned shift_ = 64;  // 64 - log2(slots_.size()): a hash's home slot is its Fibonacci product's top bits
};

/// One judge, one item, one unordered pair of candidate ids (METRICS.md "comparison").
struct comparison {
  std::uint32_t judge = no_id;
  std::uint32_t item = no_id;
  std::uint32_t lo = no_id;        ///< The smaller candidate id.
  std::uint32_t hi = no_id;        ///< The larger candidate id.
  std::uint32_t model_lo = no_id;  ///< Author of lo as first seen; no_id when unknown.
  std::uint32_t model_hi = no_id;  ///< Author of hi as first seen; no_id when unknown.
  std::uint32_t gold = no_id;      ///< Gold winner id, tie_outcome, or no_id (no gold).
};

/// The two orders of one comparison in the same run (METRICS.md "swap pair").
struct swap_pair {
  std::uint32_t comparison = no_id;
  std::uint32_t run = 0;
  std::uint32_t lo_first = no_id;  ///< Record showing lo as A.
  std::uint32_t hi_first = no_id;  ///< Record showing hi as A.
};

/// A perturbed record and its control (FORMAT.md "Perturbations").
struct control_match {
  std::uint32_t perturbed = no_id;
  std::uint32_t control = no_id;
};

/// A breakdown of every per-judge metric (`--by`): by task or by run.
enum class breakdown : std::uint8_t { task, run };
std::string_view to_string(breakdown b) noexcept;
/// "task" or "run"; anything else is a usage_error naming --by.
breakdown parse_breakdown(std::string_view text);

/// How the dataset's gold and judges are resolved, and which breakdowns it indexes.
struct dataset_options {
  /// Judges whose majority replaces inline gold; they are excluded from the measured judges.
  std::vector<std::string> gold_judges;
  /// Breakdowns whose groups are indexed for every measured judge (dataset::groups_of), once for all
  /// modules.
  std::vector<breakdown> breakdowns;
  /// Threads for the per-item indexes, at most max_threads (unlike config::threads, 0 means this thread
  /// only, as 1 does); the dataset is the same for any.
  unsigned threads = 1;
};

class dataset;

/// The groups of one breakdown (tasks or runs) among one judge's records, sorted by name bytes (runs as
/// decimal text), each with its records, its comparisons, and per comparison its records and swap pairs
/// in the group, in flat arrays: two passes over the judge's records and swap pairs. Records without a
/// task are in no task group.
class breakdown_groups {
 public:
  breakdown_groups(const dataset& d, std::uint32_t judge, breakdown by);

  std::size_t size() const noexcept { return order_.size(); }
  const std::string& name(std::size_t k) const { return names_[order_[k]]; }
  std::uint32_t id(std::size_t k) const { return ids_[order_[k]]; }  ///< The task id or the run.
  /// The group's records, in index order.
  std::span<const std::uint32_t> records(std::size_t k) const {
    return part(records_, record_start_, order_[k]);
  }
  /// The judge's comparisons with a record in the group, ascending.
  std::span<const std::uint32_t> comparisons(std::size_t k) const {
    return part(comparisons_, comp_start_, order_[k]);
  }
  /// Per comparison c of comparisons(k): its records in the group are comparison_records(k)[at[c],
  /// at[c + 1]) and its swap pairs with both records in the group swaps(k)[swap_at[c], swap_at[c + 1]).
  std::span<const std::size_t> record_at(std::size_t k) const { return offsets(record_at_, order_[k]); }
  std::span<const std::size_t> swap_at(std::size_t k) const { return offsets(swap_at_, order_[k]); }
  std::span<const std::uint32_t> comparison_records(std::size_t k) const {
    return part(comparison_records_, rec_start_, order_[k]);
  }
  std::span<const swap_pair> swaps(std::size_t k) const { return part(swaps_, swap_start_, order_[k]); }

 private:
  template <class T>
  static std::span<const T> part(const std::vector<T>& v, const std::vector<std::size_t>& start,
                                 std::size_t g) {
    return std::span<const T>(v.data() + start[g], start[g + 1] - start[g]);
  }
  std::span<const std::size_t> offsets(const std::vector<std::size_t>& v, std::size_t g) const {
    return std::span<const std::size_t>(v.data() + comp_start_[g] + g,
                                        comp_start_[g + 1] - comp_start_[g] + 1);
  }
  std::vector<std::uint32_t> ids_;  // task id or run, per group in first-seen order
  std::vector<std::string> names_;
  std::vector<std::uint32_t> order_;  // groups by name
  std::vector<std::size_t> record_start_, comp_start_, rec_start_, swap_start_;
  std::vector<std::uint32_t> records_, comparison_records_;
  std::vector<std::uint32_t> comparisons_;
  std::vector<std::size_t> record_at_, swap_at_;  // per group: its comparisons' starts and an end
  std::vector<swap_pair> swaps_;
};

/// Counts the dataset found while building its indexes.
struct dataset_diagnostics {
  std::uint64_t duplicates = 0;             ///< Records ignored as duplicates (FORMAT.md).
  std::uint64_t gold_conflicts = 0;         ///< Comparisons whose inline gold disagreed.
  std::uint64_t unmatched_perturbed = 0;    ///< Perturbed records without a control.
  std::uint64_t one_order_comparisons = 0;  ///< Comparison-runs seen in one order only.
  std::vector<std::string> warnings;
};

class dataset_builder;

/// Records in columns plus shared indexes. Build it with dataset_builder.
class dataset {
 public:
  using index = std::uint32_t;  ///< A record's position in input order.

  std::size_t size() const noexcept { return judge_.size(); }  ///< Number of records.

  // Interned names.
  const string_table& judges() const noexcept { return judges_; }
  const string_table& models() const noexcept { return models_; }  ///< Candidate and judge models.
  const string_table& items() const noexcept { return items_; }
  const string_table& candidates() const noexcept { return candidates_; }
  const string_table& tasks() const noexcept { return tasks_; }
  const string_table& kinds() const noexcept { return kinds_; }  ///< Perturbation kinds.
  /// Names of the candidates' numeric features (`features`), as first seen.
  const string_table& feature_names() const noexcept { return feature_names_; }

  /// One candidate feature of a record: its name's id in feature_names(), the slot (0: a or the scored
  /// response, 1: b) and the value.
  struct feature_value {
    std::uint32_t feature = no_id;
    std::uint32_t slot = 0;
    double value = 0;
  };
  /// The candidate features of record i, a's before b's, each in input order.
  std::span<const feature_value> features(index i) const {
    if (feature_start_.empty()) return {};
    return {feature_values_.data() + feature_start_[i], feature_start_[i + 1] - feature_start_[i]};
  }

  // Columns, by record index.
  std::uint32_t judge(index i) const { return judge_[i]; }
  std::uint32_t judge_model(index i) const { return judge_model_[i]; }  ///< An id in models().
  std::uint32_t item(index i) const { return item_[i]; }
  std::uint32_t task(index i) const { return task_[i]; }  ///< no_id when absent.
  std::uint32_t run(index i) const { return run_[i]; }
  judgment_mode mode(index i) const { return static_cast<judgment_mode>(state_[i] & 1); }
  judgebias::verdict verdict(index i) const { return static_cast<judgebias::verdict>((state_[i] >> 1) & 3); }
  std::uint32_t cand_a(index i) const { return cand_a_[i]; }  ///< Response id for pointwise.
  std::uint32_t cand_b(index i) const { return cand_b_[i]; }  ///< no_id for pointwise.
  std::uint32_t model_a(index i) const { return model_a_[i]; }
  std::uint32_t model_b(index i) const { return model_b_[i]; }
  std::uint32_t length_a(index i) const { return len_a_[i]; }  ///< no_id when unknown.
  std::uint32_t length_b(index i) const { return len_b_[i]; }
  std::uint32_t tokens_a(index i) const { return tok_a_[i]; }
  std::uint32_t tokens_b(index i) const { return tok_b_[i]; }
  /// Pointwise score; NaN = extraction failure (and for pairwise records).
  double score(index i) const { return mode(i) == judgment_mode::pointwise ? value_[i] : std::nan(""); }
  double gold_score(index i) const { return gold_score_[i]; }  ///< NaN = no gold (resolved).
  /// Pairwise prob_a; NaN = absent (and for pointwise records).
  double prob_a(index i) const { return mode(i) == judgment_mode::pairwise ? value_[i] : std::nan(""); }
  bool order_known(index i) const { return (state_[i] & flag_order_known) != 0; }
  bool is_duplicate(index i) const { return (state_[i] & flag_duplicate) != 0; }
  /// A pointwise score outside its scale, kept as an extraction failure (FORMAT.md, `scale`).
  bool out_of_scale(index i) const { return (state_[i] & flag_out_of_scale) != 0; }
  std::uint32_t kind(index i) const { return kind_[i]; }      ///< no_id for a control record.
  std::uint32_t target(index i) const { return target_[i]; }  ///< Candidate id the cue favours.
  bool is_control(index i) const { return kind_[i] == no_id; }
  /// Record's inline gold verdict as read (pairwise), verdict::missing when absent.
  judgebias::verdict inline_gold(index i) const {
    return static_cast<judgebias::verdict>((state_[i] >> 3) & 3);
  }
  /// The candidate id a pairwise record picks, tie_outcome, or no_id for an extraction failure.
  std::uint32_t outcome(index i) const;
  /// Whether the record has a parsed verdict (pairwise) or score (pointwise).
  bool parsed(index i) const;

  // Indexes.
  /// Every record of a judge, in input order.
  std::span<const index> records_of_judge(std::uint32_t judge) const;
  /// Judges that modules measure (gold judges excluded), sorted by name bytes.
  const std::vector<std::uint32_t>& measured_judges() const noexcept { return measured_; }
  bool is_gold_judge(std::uint32_t judge) const { return gold_judge_[judge] != 0; }

  const std::vector<comparison>& comparisons() const noexcept { return comparisons_; }
  /// The comparison of a pairwise record (perturbed ones included); no_id for pointwise.
  std::uint32_t comparison_of(index i) const { return comparison_of_[i]; }
  /// The control, non-duplicate records of a comparison, both orders, all runs, in input order.
  std::span<const index> comparison_records(std::uint32_t c) const;
  /// Comparisons of one judge, as a range of indexes into comparisons().
  std::span<const std::uint32_t> comparisons_of_judge(std::uint32_t judge) const;
  /// The one vote its judge casts on a comparison, as a gold judge's vote counts (FORMAT.md): the
  /// majority of its records' outcomes over both orders and all runs (a tie half to each side), the
  /// candidate id, tie_outcome for an even split, or no_id without a parsed verdict.
  std::uint32_t vote(std::uint32_t c) const;
  /// The gold judges' vote share for a pairwise record's A (its comparison's votes seen from the
  /// record's order); NaN without gold judges' votes.
  double gold_share_a(index i) const;
  /// Gold of a pairwise record in its own presentation (A/B/tie), verdict::missing when none.
  judgebias::verdict gold_in_presentation(index i) const;

  const std::vector<swap_pair>& swap_pairs() const noexcept { return swap_pairs_; }
  /// The swap pairs of one comparison, by run.
  std::span<const swap_pair> swap_pairs_of(std::uint32_t c) const;
  const std::vector<control_match>& control_matches() const noexcept { return control_matches_; }
  /// The control of a perturbed record, or no_id (a control record, a duplicate, or unmatched).
  std::uint32_t control_of(index i) const;
  const dataset_diagnostics& diagnostics() const noexcept { return diag_; }
  /// The groups of breakdown `by` among a measured judge's records, when the dataset was built with
  /// that breakdown (dataset_options::breakdowns); nullptr otherwise (build them with breakdown_groups).
  const breakdown_groups* groups_of(std::uint32_t judge, breakdown by) const;

 private:
  friend class dataset_builder;
  // A record's state_ byte: its mode (bit 0), verdict (bits 1-2), inline gold (bits 3-4) and three flags.
  static constexpr std::uint8_t flag_order_known = 1 << 5, flag_duplicate = 1 << 6,
                                flag_out_of_scale = 1 << 7;
  static std::uint8_t state_of(judgment_mode m, judgebias::verdict v, judgebias::verdict gold,
                               std::uint8_t flags) noexcept {
    return static_cast<std::uint8_t>(static_cast<unsigned>(m) | static_cast<unsigned>(v) << 1 |
                                     static_cast<unsigned>(gold) << 3 | flags);
  }

  string_table judges_, models_, items_, candidates_, tasks_, kinds_, feature_names_;
  // Candidate features: empty while no record has any (nothing is spent on files without them), else
  // each record's start in feature_values_ and one past the last record's end.
  std::vector<std::uint32_t> feature_start_;
  std::vector<feature_value> feature_values_;
  detail::packed_column judge_, judge_model_, item_, task_, run_, cand_a_, cand_b_, model_a_, model_b_;
  detail::packed_column len_a_, len_b_, tok_a_, tok_b_, kind_;
  detail::sparse_column<std::uint32_t> target_;  // no_id but for perturbed records
  std::vector<std::uint8_t> state_;
  detail::sparse_column<double> value_;  // the score (pointwise) or prob_a (pairwise): one column for both
  detail::sparse_column<double> gold_score_;

  std::vector<std::uint32_t> judge_offsets_;
  std::vector<index> judge_records_;
  std::vector<std::uint32_t> measured_;
  std::vector<std::uint8_t> gold_judge_;
  std::vector<comparison> comparisons_;
  // Per comparison, with gold judges (empty without): twice their votes for lo (a tie vote is half to
  // each side) and twice all their votes (0: none voted), so that the share for lo is exact.
  std::vector<std::array<std::uint32_t, 2>> gold_votes2_;
  std::vector<std::uint32_t> comparison_of_;
  std::vector<std::uint32_t> comparison_offsets_;
  std::vector<index> comparison_records_;
  std::vector<std::uint32_t> judge_comparison_offsets_;
  std::vector<std::uint32_t> judge_comparisons_;
  std::vector<swap_pair> swap_pairs_;
  std::vector<std::uint32_t> swap_pair_offsets_;
  std::vector<control_match> control_matches_;
  dataset_diagnostics diag_;
  std::array<std::vector<breakdown_groups>, 2> groups_;  // per breakdown: per measured judge, or empty
  std::vector<std::uint32_t> measured_slot_;             // a judge's place in measured_, or no_id
};

/// Record i as the reader would give it (texts are gone; ids, models, lengths, verdicts, scores, inline
/// gold and perturbations remain), to build another dataset from (`--compare`'s resamples, a gold panel
/// without one judge). Its strings point into `d`'s tables: valid while `d` lives.
/// `features` holds the record's candidate features (its spans point there): valid while both live.
record record_view(const dataset& d, dataset::index i, std::vector<candidate_feature>& features);

/// Collects records (from the reader or by hand) and builds the dataset's indexes once.
class dataset_builder {
 public:
  /// Adds one record; its strings are copied into the intern tables.
  void add(const record& r);
  std::size_t size() const noexcept { return data_.size(); }  ///< Records added so far.
  /// Reserves room for `records` records in every column (avoids growing them by doubling).
  void reserve(std::size_t records);
  /// Appends another builder's records after this one's, as if they had been added here in order.
  void append(dataset_builder&& other);
  /// Resolves duplicates, comparisons, swap pairs, control matches and gold; the builder is spent.
  dataset finish(const dataset_options& options = {}) &&;

 private:
  // The last few strings interned through one field: records come grouped (one judge, one item, the
  // same few candidates), so most look-ups end here without hashing.
  template <std::size_t N>
  struct recent {
    std::array<std::string, N> names;
    std::array<std::uint32_t, N> ids{};
    std::size_t used = 0, next = 0;
    std::uint32_t intern(string_table& table, std::string_view s);
  };
  struct index_steps;  // finish()'s steps (dataset.cpp)
  dataset data_;
  recent<1> judge_, item_, task_, kind_;
  recent<4> model_, candidate_;
};

}  // namespace judgebias
