// The dataset: columns filled record by record, then every shared index built once in finish(), whose
// steps are dataset_builder::index_steps.
#include "judgebias/dataset.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <numeric>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "common/parallel.hpp"
#include "judgebias/error.hpp"
#include "judgebias/module.hpp"

namespace judgebias {

namespace {

// Hash of a fixed tuple of ids (splitmix64 finaliser over a running combination).
template <std::size_t N>
struct key_hash {
  std::size_t operator()(const std::array<std::uint32_t, N>& k) const noexcept {
    std::uint64_t h = 0x9E3779B97F4A7C15ull;
    for (std::uint32_t v : k) {
      h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
      h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
      h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
      h ^= h >> 31;
    }
    return static_cast<std::size_t>(h);
  }
};
template <std::size_t N>
using key_map = std::unordered_map<std::array<std::uint32_t, N>, std::uint32_t, key_hash<N>>;

std::uint32_t opt_len(const std::optional<std::uint32_t>& v) {
  return v ? *v : no_id;
}
double opt_num(const std::optional<double>& v) {
  return v ? *v : std::nan("");
}

// Majority of weighted votes for lo and hi (ties already counted half to each side).
std::uint32_t majority(double lo_votes, double hi_votes, std::uint32_t lo, std::uint32_t hi) {
  if (lo_votes > hi_votes) return lo;
  if (hi_votes > lo_votes) return hi;
  return tie_outcome;
}

}  // namespace

std::size_t string_table::slot_of(std::string_view s, std::uint64_t h) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  const auto low = static_cast<std::uint32_t>(h);
  // Fibonacci hashing spreads any hash (a 32-bit std::hash too) over the table's size.
  for (auto at = static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ull) >> shift_);; at = (at + 1) & mask) {
    const slot& x = slots_[at];
    if (x.id == no_id || (x.hash == low && names_[x.id] == s)) return at;
  }
}

void string_table::grow() {
  std::vector<slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 16 : 2 * old.size(), slot{});
  shift_ = 64 - static_cast<unsigned>(std::bit_width(slots_.size()) - 1);
  for (const slot& x : old)
    if (x.id != no_id) slots_[slot_of(names_[x.id], hash_of(names_[x.id]))] = x;
}

std::string_view string_table::store(std::string_view s) {
  if (s.size() > left_) {
    const std::size_t size = std::max(block_size, s.size());
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(size));
    next_ = blocks_.back().get(), left_ = size;
  }
  char* at = next_;
  std::copy(s.begin(), s.end(), at);
  next_ += s.size(), left_ -= s.size();
  return {at, s.size()};
}

std::uint32_t string_table::intern(std::string_view s) {
  if (2 * (names_.size() + 1) > slots_.size()) grow();
  const std::uint64_t h = hash_of(s);
  slot& x = slots_[slot_of(s, h)];
  if (x.id != no_id) return x.id;
  names_.push_back(store(s));  // (first: should it throw, the table is as it was)
  x.id = static_cast<std::uint32_t>(names_.size() - 1);
  x.hash = static_cast<std::uint32_t>(h);
  return x.id;
}

string_table::string_table(const string_table& other) {
  for (const std::string_view s : other.names_) intern(s);
}

string_table& string_table::operator=(const string_table& other) {
  if (this != &other) *this = string_table(other);
  return *this;
}

string_table::string_table(string_table&& other) noexcept {
  *this = std::move(other);
}

string_table& string_table::operator=(string_table&& other) noexcept {
  if (this != &other) {
    blocks_ = std::move(other.blocks_);
    next_ = std::exchange(other.next_, nullptr), left_ = std::exchange(other.left_, 0);
    names_ = std::move(other.names_), slots_ = std::move(other.slots_);
    shift_ = std::exchange(other.shift_, 64);
    other.blocks_.clear(), other.names_.clear(), other.slots_.clear();  // (moved-from: surely empty)
  }
  return *this;
}

std::uint32_t string_table::find(std::string_view s) const {
  if (slots_.empty()) return no_id;
  return slots_[slot_of(s, hash_of(s))].id;
}

std::uint32_t dataset::outcome(index i) const {
  switch (verdict(i)) {
    case verdict::a:
      return cand_a_[i];
    case verdict::b:
      return cand_b_[i];
    case verdict::tie:
      return tie_outcome;
    case verdict::missing:
      return no_id;
  }
  return no_id;
}

bool dataset::parsed(index i) const {
  return mode(i) == judgment_mode::pairwise ? verdict(i) != verdict::missing : !std::isnan(value_[i]);
}

std::span<const dataset::index> dataset::records_of_judge(std::uint32_t judge) const {
  return {judge_records_.data() + judge_offsets_[judge], judge_records_.data() + judge_offsets_[judge + 1]};
}

std::span<const dataset::index> dataset::comparison_records(std::uint32_t c) const {
  return {comparison_records_.data() + comparison_offsets_[c],
          comparison_records_.data() + comparison_offsets_[c + 1]};
}

std::span<const std::uint32_t> dataset::comparisons_of_judge(std::uint32_t judge) const {
  return {judge_comparisons_.data() + judge_comparison_offsets_[judge],
          judge_comparisons_.data() + judge_comparison_offsets_[judge + 1]};
}

std::span<const swap_pair> dataset::swap_pairs_of(std::uint32_t c) const {
  return {swap_pairs_.data() + swap_pair_offsets_[c], swap_pairs_.data() + swap_pair_offsets_[c + 1]};
}

std::uint32_t dataset::control_of(index i) const {
  auto it = std::lower_bound(control_matches_.begin(), control_matches_.end(), i,
                             [](const control_match& m, index x) { return m.perturbed < x; });
  return it != control_matches_.end() && it->perturbed == i ? it->control : no_id;
}

std::uint32_t dataset::vote(std::uint32_t c) const {
  const comparison& cmp = comparisons_[c];
  double lo = 0, hi = 0;
  bool any = false;
  for (auto i : comparison_records(c)) {
    const std::uint32_t o = outcome(i);
    if (o == no_id) continue;
    any = true;
    if (o == cmp.lo)
      lo += 1;
    else if (o == cmp.hi)
      hi += 1;
    else
      lo += 0.5, hi += 0.5;
  }
  return any ? majority(lo, hi, cmp.lo, cmp.hi) : no_id;
}

double dataset::gold_share_a(index i) const {
  const std::uint32_t c = comparison_of_[i];
  if (c == no_id) return std::nan("");
  const comparison& cmp = comparisons_[c];
  if (gold_votes2_.empty() || gold_votes2_[c][1] == 0) return std::nan("");
  const double lo = static_cast<double>(gold_votes2_[c][0]) / gold_votes2_[c][1];
  return cand_a_[i] == cmp.lo ? lo : 1.0 - lo;
}

verdict dataset::gold_in_presentation(index i) const {
  const std::uint32_t c = comparison_of_[i];
  if (c == no_id) return verdict::missing;
  const std::uint32_t g = comparisons_[c].gold;
  if (g == tie_outcome) return verdict::tie;
  if (g == cand_a_[i]) return verdict::a;
  if (g == cand_b_[i]) return verdict::b;
  return verdict::missing;
}

namespace detail {

void packed_column::reserve(std::size_t n) {
  reserved_ = std::max(reserved_, n);
  switch (width_) {
    case 1:
      u8_.reserve(n);
      break;
    case 2:
      u16_.reserve(n);
      break;
    default:
      u32_.reserve(n);
  }
}

void packed_column::append(const packed_column& from, const std::vector<std::uint32_t>* map) {
  // Runs of values decoded and mapped into a buffer, then widened once for the run's widest value
  // (no_id and no_id - 1 fit every width) and stored at the column's width.
  std::array<std::uint32_t, 1024> run{};
  for (std::size_t at = 0; at < from.size_; at += run.size()) {
    const std::size_t n = std::min(run.size(), from.size_ - at);
    switch (from.width_) {
      case 1:
        for (std::size_t k = 0; k < n; ++k) run[k] = decode(from.u8_[at + k]);
        break;
      case 2:
        for (std::size_t k = 0; k < n; ++k) run[k] = decode(from.u16_[at + k]);
        break;
      default:
        std::copy_n(from.u32_.begin() + static_cast<std::ptrdiff_t>(at), n, run.begin());
    }
    std::uint32_t widest = 0;
    for (std::size_t k = 0; k < n; ++k) {
      std::uint32_t v = run[k];
      if (map && v != no_id) run[k] = v = (*map)[v];
      if (v < no_id - 1) widest = std::max(widest, v);
    }
    if (!fits(widest, width_)) widen(widest);
    auto store = [&](auto& values) {
      using T = typename std::remove_reference_t<decltype(values)>::value_type;
      values.resize(size_ + n);
      for (std::size_t k = 0; k < n; ++k) values[size_ + k] = encode<T>(run[k]);
    };
    switch (width_) {
      case 1:
        store(u8_);
        break;
      case 2:
        store(u16_);
        break;
      default:
        store(u32_);
    }
    size_ += n;
  }
}

void packed_column::shrink_to_fit() {
  u8_.shrink_to_fit(), u16_.shrink_to_fit(), u32_.shrink_to_fit();
}

void packed_column::widen(std::uint32_t v) {
  const unsigned to = fits(v, 2) ? 2 : 4;
  const std::size_t room = std::max(reserved_, size_ + 1);
  // The wider copy complete before anything changes (an allocation failure leaves the column as it was).
  if (to == 2) {
    std::vector<std::uint16_t> wide;
    wide.reserve(room);
    for (std::size_t i = 0; i < size_; ++i) wide.push_back(encode<std::uint16_t>((*this)[i]));
    u16_ = std::move(wide);
  } else {
    std::vector<std::uint32_t> wide;
    wide.reserve(room);
    for (std::size_t i = 0; i < size_; ++i) wide.push_back((*this)[i]);
    u32_ = std::move(wide);
  }
  if (width_ == 1) u8_ = {};
  if (width_ == 2) u16_ = {};
  width_ = to;
}

}  // namespace detail

template <std::size_t N>
std::uint32_t dataset_builder::recent<N>::intern(string_table& table, std::string_view s) {
  for (std::size_t k = 0; k < used; ++k)
    if (names[k] == s) return ids[k];
  const std::uint32_t id = table.intern(s);
  names[next].assign(s);
  ids[next] = id;
  next = (next + 1) % N;
  used = std::min(used + 1, N);
  return id;
}

void dataset_builder::add(const record& r) {
  dataset& d = data_;
  if (d.judge_.size() >= no_id - 2)
    throw data_error(
        fmt::format("more than {} records; this build keeps record indexes in 32 bits", no_id - 2));
  const bool has_features =
      !r.a.features.empty() || (r.mode == judgment_mode::pairwise && !r.b.features.empty());
  if (has_features || !d.feature_start_.empty()) {
    if (d.feature_start_.empty()) d.feature_start_.assign(d.judge_.size() + 1, 0);
    for (std::uint32_t slot = 0; slot < 2; ++slot) {
      if (slot == 1 && r.mode != judgment_mode::pairwise) break;
      for (const candidate_feature& f : slot == 0 ? r.a.features : r.b.features)
        d.feature_values_.push_back({d.feature_names_.intern(f.name), slot, f.value});
    }
    if (d.feature_values_.size() >= no_id)
      throw data_error(fmt::format("more than {} candidate features in all", no_id - 1));
    d.feature_start_.push_back(static_cast<std::uint32_t>(d.feature_values_.size()));
  }
  d.judge_.push_back(judge_.intern(d.judges_, r.judge));
  d.judge_model_.push_back(model_.intern(d.models_, r.judge_model));
  d.item_.push_back(item_.intern(d.items_, r.item));
  d.task_.push_back(r.has_task ? task_.intern(d.tasks_, r.task) : no_id);
  d.run_.push_back(r.run);
  const bool pairwise = r.mode == judgment_mode::pairwise;
  d.state_.push_back(
      dataset::state_of(r.mode, pairwise ? r.v : verdict::missing, r.gold ? *r.gold : verdict::missing,
                        static_cast<std::uint8_t>((r.order_known ? dataset::flag_order_known : 0) |
                                                  (r.score_out_of_scale ? dataset::flag_out_of_scale : 0))));
  d.cand_a_.push_back(candidate_.intern(d.candidates_, r.a.id));
  d.model_a_.push_back(r.a.has_model ? model_.intern(d.models_, r.a.model) : no_id);
  d.len_a_.push_back(opt_len(r.a.length));
  d.tok_a_.push_back(opt_len(r.a.tokens));
  if (pairwise) {
    d.cand_b_.push_back(candidate_.intern(d.candidates_, r.b.id));
    d.model_b_.push_back(r.b.has_model ? model_.intern(d.models_, r.b.model) : no_id);
    d.len_b_.push_back(opt_len(r.b.length));
    d.tok_b_.push_back(opt_len(r.b.tokens));
  } else {
    d.cand_b_.push_back(no_id);
    d.model_b_.push_back(no_id);
    d.len_b_.push_back(no_id);
    d.tok_b_.push_back(no_id);
  }
  d.value_.push_back(pairwise ? opt_num(r.prob_a) : opt_num(r.score));
  d.gold_score_.push_back(pairwise ? std::nan("") : opt_num(r.gold_score));
  if (r.is_perturbed()) {
    d.kind_.push_back(kind_.intern(d.kinds_, r.perturbation_kind));
    d.target_.push_back(candidate_.intern(d.candidates_, r.perturbation_target));
  } else {
    d.kind_.push_back(no_id);
    d.target_.push_back(no_id);
  }
}

void dataset_builder::reserve(std::size_t records) {
  dataset& d = data_;
  for (auto col : {&dataset::judge_, &dataset::judge_model_, &dataset::item_, &dataset::task_, &dataset::run_,
                   &dataset::cand_a_, &dataset::cand_b_, &dataset::model_a_, &dataset::model_b_,
                   &dataset::len_a_, &dataset::len_b_, &dataset::tok_a_, &dataset::tok_b_, &dataset::kind_})
    (d.*col).reserve(records);
  d.target_.reserve(records);
  d.state_.reserve(records);
  for (auto col : {&dataset::value_, &dataset::gold_score_}) (d.*col).reserve(records);
}

void dataset_builder::append(dataset_builder&& other) {
  dataset& d = data_;
  dataset& o = other.data_;
  if (d.judge_.size() + o.judge_.size() >= no_id - 2)
    throw data_error(
        fmt::format("more than {} records; this build keeps record indexes in 32 bits", no_id - 2));
  // Interning the other table's names in its own first-appearance order keeps the global order.
  auto mapping = [](string_table& into, const string_table& from) {
    std::vector<std::uint32_t> m(from.size());
    for (std::uint32_t k = 0; k < from.size(); ++k) m[k] = into.intern(from.name(k));
    return m;
  };
  // Candidate features, before the record columns grow: both sides get offsets if either has any.
  if (!d.feature_start_.empty() || !o.feature_start_.empty()) {
    if (d.feature_start_.empty()) d.feature_start_.assign(d.judge_.size() + 1, 0);
    if (o.feature_start_.empty()) o.feature_start_.assign(o.judge_.size() + 1, 0);
    const auto names = mapping(d.feature_names_, o.feature_names_);
    const auto base = static_cast<std::uint32_t>(d.feature_values_.size());
    if (static_cast<std::uint64_t>(base) + o.feature_values_.size() >= no_id)
      throw data_error(fmt::format("more than {} candidate features in all", no_id - 1));
    for (const auto& f : o.feature_values_) d.feature_values_.push_back({names[f.feature], f.slot, f.value});
    for (std::size_t k = 1; k < o.feature_start_.size(); ++k)
      d.feature_start_.push_back(base + o.feature_start_[k]);
  }
  const auto judges = mapping(d.judges_, o.judges_), models = mapping(d.models_, o.models_),
             items = mapping(d.items_, o.items_), candidates = mapping(d.candidates_, o.candidates_),
             tasks = mapping(d.tasks_, o.tasks_), kinds = mapping(d.kinds_, o.kinds_);
  d.judge_.append(o.judge_, &judges);
  d.judge_model_.append(o.judge_model_, &models);
  d.item_.append(o.item_, &items);
  d.task_.append(o.task_, &tasks);
  d.run_.append(o.run_, nullptr);
  d.cand_a_.append(o.cand_a_, &candidates);
  d.cand_b_.append(o.cand_b_, &candidates);
  d.model_a_.append(o.model_a_, &models);
  d.model_b_.append(o.model_b_, &models);
  d.len_a_.append(o.len_a_, nullptr);
  d.len_b_.append(o.len_b_, nullptr);
  d.tok_a_.append(o.tok_a_, nullptr);
  d.tok_b_.append(o.tok_b_, nullptr);
  d.kind_.append(o.kind_, &kinds);
  for (std::size_t i = 0; i < o.target_.size(); ++i) {
    const std::uint32_t v = o.target_[i];
    d.target_.push_back(v != no_id ? candidates[v] : v);
  }
  d.state_.insert(d.state_.end(), o.state_.begin(), o.state_.end());
  for (auto col : {&dataset::value_, &dataset::gold_score_})
    for (std::size_t i = 0; i < (o.*col).size(); ++i) (d.*col).push_back((o.*col)[i]);
  other = dataset_builder{};
}

namespace {

// Counting sort of the indexes [0, n) by group_of(k) (no_id: left out): the members of group g are
// members[offsets[g]] .. members[offsets[g + 1] - 1], in index order.
template <class GroupOf>
void group_by(std::size_t groups, std::uint32_t n, GroupOf&& group_of, std::vector<std::uint32_t>& offsets,
              std::vector<std::uint32_t>& members) {
  offsets.assign(groups + 1, 0);
  for (std::uint32_t k = 0; k < n; ++k)
    if (const std::uint32_t g = group_of(k); g != no_id) ++offsets[g + 1];
  std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
  members.resize(offsets.back());
  std::vector<std::uint32_t> next(offsets.begin(), offsets.end() - 1);
  for (std::uint32_t k = 0; k < n; ++k)
    if (const std::uint32_t g = group_of(k); g != no_id) members[next[g]++] = k;
}

// A record's identity within its item: judge, ids in slot order, run, perturbation kind and target.
struct keyed {
  std::array<std::uint32_t, 6> key;
  std::uint32_t index;
  bool operator<(const keyed& o) const { return std::tie(key, index) < std::tie(o.key, o.index); }
};

// A pairwise record's comparison within its item.
struct pair_key {
  std::array<std::uint32_t, 3> key;  // judge, lo, hi
  std::uint32_t index;
  bool operator<(const pair_key& o) const { return std::tie(key, index) < std::tie(o.key, o.index); }
};

}  // namespace

// The steps of dataset_builder::finish(), in order: each builds one part of the dataset's indexes.
struct dataset_builder::index_steps {
  // The --by groups of every measured judge, once for all modules (the last step: it reads the
  // comparisons and swap pairs).
  static void index_breakdowns(dataset& d, const dataset_options& options) {
    d.measured_slot_.assign(d.judges_.size(), no_id);
    for (std::uint32_t k = 0; k < d.measured_.size(); ++k) d.measured_slot_[d.measured_[k]] = k;
    for (breakdown by : options.breakdowns) {
      auto& all = d.groups_[static_cast<std::size_t>(by)];
      if (!all.empty()) continue;  // (named twice)
      all.reserve(d.measured_.size());
      for (std::uint32_t j : d.measured_) all.emplace_back(d, j, by);
    }
  }

  // Gold judges and the judges to measure.
  static void resolve_judges(dataset& d, const dataset_options& options) {
    const std::size_t judges = d.judges_.size();
    d.gold_judge_.assign(judges, 0);
    for (const auto& name : options.gold_judges) {
      const std::uint32_t j = d.judges_.find(name);
      if (j == no_id)
        d.diag_.warnings.push_back(fmt::format("gold judge \"{}\" has no records", name));
      else
        d.gold_judge_[j] = 1;
    }
    for (std::uint32_t j = 0; j < judges; ++j)
      if (!d.gold_judge_[j]) d.measured_.push_back(j);
    std::sort(d.measured_.begin(), d.measured_.end(),
              [&](std::uint32_t x, std::uint32_t y) { return d.judges_.name(x) < d.judges_.name(y); });
  }

  // Records by judge (counting sort keeps input order within a judge).
  static void index_judges(dataset& d) {
    group_by(
        d.judges_.size(), static_cast<std::uint32_t>(d.size()), [&](std::uint32_t i) { return d.judge_[i]; },
        d.judge_offsets_, d.judge_records_);
  }

  // What the per-item work of a range of items finds: its comparisons (numbered from 0 in the range),
  // control matches and counts, added to the dataset's in item order.
  struct item_findings {
    std::vector<comparison> comparisons;
    std::vector<control_match> control_matches;
    std::uint64_t duplicates = 0, unmatched_perturbed = 0;
  };

  // The per-item work (duplicates, control matches, comparisons) sorts each item's few records instead of
  // hashing every record: no index grows with the number of records but these columns. Items are split
  // into ranges of about as many records, one per thread; each range marks its own records and numbers
  // its comparisons from 0, and the ranges' comparisons are then numbered on in item order, as one
  // thread would have numbered them.
  static void index_items(dataset& d, unsigned threads) {
    const auto n = static_cast<std::uint32_t>(d.size());
    std::vector<std::uint32_t> item_offsets;
    std::vector<std::uint32_t> item_records;
    group_by(
        d.items_.size(), n, [&](std::uint32_t i) { return d.item_[i]; }, item_offsets, item_records);
    d.comparison_of_.assign(n, no_id);
    const std::size_t items = item_offsets.size() - 1;
    // A range per thread while each has many records (below that, one thread is faster than starting one).
    constexpr std::uint32_t records_per_range = 1u << 16;
    const std::size_t ranges =
        std::clamp<std::size_t>(n / records_per_range, 1, std::clamp(threads, 1u, max_threads));
    std::vector<std::size_t> first_item(ranges + 1, items);
    first_item[0] = 0;
    for (std::size_t r = 1; r < ranges; ++r)  // the first item at or past the range's share of records
      first_item[r] = static_cast<std::size_t>(
          std::lower_bound(item_offsets.begin(), item_offsets.end(),
                           static_cast<std::uint32_t>(std::uint64_t{n} * r / ranges)) -
          item_offsets.begin());
    // Each range's findings are reserved here, on this thread, for as many as it has records (a
    // comparison or a match has one record at least), so that the threads never allocate them: memory a
    // thread's own heap took would stay with that heap, away from the modules that run next (only the
    // threads' small scratch vectors are theirs). Pages never written to are never in memory.
    std::vector<item_findings> found(ranges);
    for (std::size_t r = 0; r < ranges; ++r) {
      const std::size_t records = item_offsets[first_item[r + 1]] - item_offsets[first_item[r]];
      found[r].comparisons.reserve(records);
      found[r].control_matches.reserve(records);
    }
    auto work = [&](std::size_t r) {
      std::vector<keyed> keys;
      std::vector<pair_key> pairs;
      std::vector<std::pair<std::uint32_t, std::uint32_t>> groups;  // (first index, start in pairs)
      for (std::size_t item = first_item[r]; item < first_item[r + 1]; ++item) {
        const std::span<const std::uint32_t> recs(item_records.data() + item_offsets[item],
                                                  item_records.data() + item_offsets[item + 1]);
        keys.clear();
        for (std::uint32_t i : recs)
          keys.push_back({{d.judge_[i], d.cand_a_[i], d.cand_b_[i], d.run_[i], d.kind_[i], d.target_[i]}, i});
        std::sort(keys.begin(), keys.end());
        mark_duplicates(d, keys, found[r]);
        match_controls(d, recs, keys, found[r]);
        number_comparisons(d, static_cast<std::uint32_t>(item), recs, pairs, groups, found[r]);
      }
    };
    if (ranges == 1)
      work(0);
    else
      detail::parallel_for(ranges, work);
    std::size_t comparisons = 0, matches = 0;
    for (const auto& f : found) comparisons += f.comparisons.size(), matches += f.control_matches.size();
    d.comparisons_.reserve(comparisons);
    d.control_matches_.reserve(matches);
    for (std::size_t r = 0; r < ranges; ++r) {
      const auto base = static_cast<std::uint32_t>(d.comparisons_.size());
      if (base != 0)
        for (std::uint32_t k = item_offsets[first_item[r]]; k < item_offsets[first_item[r + 1]]; ++k)
          if (std::uint32_t& c = d.comparison_of_[item_records[k]]; c != no_id) c += base;
      d.comparisons_.insert(d.comparisons_.end(), found[r].comparisons.begin(), found[r].comparisons.end());
      d.control_matches_.insert(d.control_matches_.end(), found[r].control_matches.begin(),
                                found[r].control_matches.end());
      d.diag_.duplicates += found[r].duplicates;
      d.diag_.unmatched_perturbed += found[r].unmatched_perturbed;
      found[r] = {};
    }
    // (A perturbed record has one match at most: the order is the same whatever the ranges.)
    std::sort(d.control_matches_.begin(), d.control_matches_.end(),
              [](const control_match& x, const control_match& y) { return x.perturbed < y.perturbed; });
  }

  // Duplicates among an item's records (`keys` sorted): the first in input order counts.
  static void mark_duplicates(dataset& d, const std::vector<keyed>& keys, item_findings& found) {
    for (std::size_t k = 1; k < keys.size(); ++k)
      if (keys[k].key == keys[k - 1].key) {
        d.state_[keys[k].index] |= dataset::flag_duplicate;
        ++found.duplicates;
      }
  }

  // Control matches of an item's perturbed records: the same presentation order preferred, the other
  // order accepted.
  static void match_controls(const dataset& d, std::span<const std::uint32_t> recs,
                             const std::vector<keyed>& keys, item_findings& found) {
    auto first_control = [&](std::uint32_t judge, std::uint32_t a, std::uint32_t b, std::uint32_t run) {
      const keyed probe{{judge, a, b, run, no_id, no_id}, 0};
      auto it = std::lower_bound(keys.begin(), keys.end(), probe);
      return it != keys.end() && it->key == probe.key ? it->index : no_id;
    };
    for (std::uint32_t i : recs) {
      if (d.is_control(i) || d.is_duplicate(i)) continue;
      std::uint32_t control = first_control(d.judge_[i], d.cand_a_[i], d.cand_b_[i], d.run_[i]);
      if (control == no_id && d.mode(i) == judgment_mode::pairwise)
        control = first_control(d.judge_[i], d.cand_b_[i], d.cand_a_[i], d.run_[i]);
      if (control == no_id)
        ++found.unmatched_perturbed;
      else
        found.control_matches.push_back(control_match{i, control});
    }
  }

  // Comparisons of an item: judge and unordered pair, numbered by first appearance (from the range's
  // comparisons so far).
  static void number_comparisons(dataset& d, std::uint32_t item, std::span<const std::uint32_t> recs,
                                 std::vector<pair_key>& pairs,
                                 std::vector<std::pair<std::uint32_t, std::uint32_t>>& groups,
                                 item_findings& found) {
    pairs.clear();
    for (std::uint32_t i : recs) {
      if (d.mode(i) != judgment_mode::pairwise || d.is_duplicate(i)) continue;
      pairs.push_back(
          {{d.judge_[i], std::min(d.cand_a_[i], d.cand_b_[i]), std::max(d.cand_a_[i], d.cand_b_[i])}, i});
    }
    std::sort(pairs.begin(), pairs.end());
    groups.clear();
    for (std::size_t k = 0; k < pairs.size(); ++k)
      if (k == 0 || pairs[k].key != pairs[k - 1].key)
        groups.emplace_back(pairs[k].index, static_cast<std::uint32_t>(k));
    std::sort(groups.begin(), groups.end());
    for (const auto& [first, start] : groups) {
      const auto c = static_cast<std::uint32_t>(found.comparisons.size());
      comparison cmp{
          pairs[start].key[0], item, pairs[start].key[1], pairs[start].key[2], no_id, no_id, no_id};
      for (std::size_t k = start; k < pairs.size() && pairs[k].key == pairs[start].key; ++k) {
        const std::uint32_t i = pairs[k].index;
        d.comparison_of_[i] = c;
        const bool a_lo = d.cand_a_[i] == cmp.lo;
        // The models as first seen (pairs are sorted by index within a group).
        if (cmp.model_lo == no_id) cmp.model_lo = a_lo ? d.model_a_[i] : d.model_b_[i];
        if (cmp.model_hi == no_id) cmp.model_hi = a_lo ? d.model_b_[i] : d.model_a_[i];
      }
      found.comparisons.push_back(cmp);
    }
  }

  // The control records of each comparison, and the comparisons of each judge.
  static void index_comparisons(dataset& d) {
    const auto n = static_cast<std::uint32_t>(d.size());
    const auto comps = static_cast<std::uint32_t>(d.comparisons_.size());
    group_by(
        comps, n,
        [&](std::uint32_t i) {
          return d.comparison_of_[i] != no_id && d.is_control(i) ? d.comparison_of_[i] : no_id;
        },
        d.comparison_offsets_, d.comparison_records_);
    group_by(
        d.judges_.size(), comps, [&](std::uint32_t c) { return d.comparisons_[c].judge; },
        d.judge_comparison_offsets_, d.judge_comparisons_);
  }

  // Gold from the gold judges (--gold-judges) instead of inline gold.
  static void gold_from_judges(dataset& d) {
    gold_verdicts_from_judges(d);
    gold_scores_from_judges(d);
  }

  // Each gold judge votes once per (item, pair): its majority over both orders and all runs; the gold of
  // every comparison of that pair is the majority of these votes.
  static void gold_verdicts_from_judges(dataset& d) {
    key_map<3> pair_of;
    std::vector<std::array<double, 2>> pair_votes;  // weighted votes for lo and hi
    std::vector<std::uint8_t> pair_voted;
    const auto comps = static_cast<std::uint32_t>(d.comparisons_.size());
    for (std::uint32_t c = 0; c < comps; ++c) {
      const comparison& cmp = d.comparisons_[c];
      auto [it, fresh] =
          pair_of.try_emplace({cmp.item, cmp.lo, cmp.hi}, static_cast<std::uint32_t>(pair_votes.size()));
      if (fresh) {
        pair_votes.push_back({0, 0});
        pair_voted.push_back(0);
      }
      if (!d.gold_judge_[cmp.judge]) continue;
      const std::uint32_t vote = d.vote(c);
      if (vote == no_id) continue;
      auto& votes = pair_votes[it->second];
      if (vote == cmp.lo)
        votes[0] += 1;
      else if (vote == cmp.hi)
        votes[1] += 1;
      else
        votes[0] += 0.5, votes[1] += 0.5;
      pair_voted[it->second] = 1;
    }
    for (std::size_t c = 0; c < d.comparisons_.size(); ++c) {
      comparison& cmp = d.comparisons_[c];
      const std::uint32_t p = pair_of.at({cmp.item, cmp.lo, cmp.hi});
      if (!pair_voted[p]) continue;
      cmp.gold = majority(pair_votes[p][0], pair_votes[p][1], cmp.lo, cmp.hi);
      if (d.gold_votes2_.empty()) d.gold_votes2_.assign(d.comparisons_.size(), {0, 0});
      d.gold_votes2_[c] = {static_cast<std::uint32_t>(2 * pair_votes[p][0]),
                           static_cast<std::uint32_t>(2 * (pair_votes[p][0] + pair_votes[p][1]))};
    }
  }

  // Pointwise: the mean of the gold judges' parsed control scores of the same response.
  static void gold_scores_from_judges(dataset& d) {
    const auto n = static_cast<std::uint32_t>(d.size());
    key_map<2> response_of;
    std::vector<std::pair<double, std::uint64_t>> sums;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (d.mode(i) != judgment_mode::pointwise || d.is_duplicate(i) || !d.is_control(i)) continue;
      if (!d.gold_judge_[d.judge_[i]] || std::isnan(d.value_[i])) continue;
      auto [it, fresh] =
          response_of.try_emplace({d.item_[i], d.cand_a_[i]}, static_cast<std::uint32_t>(sums.size()));
      if (fresh) sums.emplace_back(0.0, 0);
      sums[it->second].first += d.value_[i];
      ++sums[it->second].second;
    }
    detail::sparse_column<double> gold;  // every pointwise record's anew (a pairwise record has none)
    gold.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      auto it = d.mode(i) == judgment_mode::pointwise ? response_of.find({d.item_[i], d.cand_a_[i]})
                                                      : response_of.end();
      gold.push_back(it == response_of.end()
                         ? std::nan("")
                         : sums[it->second].first / static_cast<double>(sums[it->second].second));
    }
    d.gold_score_ = std::move(gold);
  }

  // Inline gold, turned into identity terms; disagreement within a comparison leaves it without gold.
  static void inline_gold(dataset& d) {
    const auto n = static_cast<std::uint32_t>(d.size());
    std::vector<std::uint8_t> conflict(d.comparisons_.size(), 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t c = d.comparison_of_[i];
      if (c == no_id) continue;
      const verdict g = d.inline_gold(i);
      if (g == verdict::missing) continue;
      const std::uint32_t id = g == verdict::a ? d.cand_a_[i] : g == verdict::b ? d.cand_b_[i] : tie_outcome;
      comparison& cmp = d.comparisons_[c];
      if (cmp.gold == no_id && !conflict[c])
        cmp.gold = id;
      else if (cmp.gold != id && !conflict[c]) {
        conflict[c] = 1;
        cmp.gold = no_id;
        ++d.diag_.gold_conflicts;
      }
    }
    if (d.diag_.gold_conflicts)
      d.diag_.warnings.push_back(fmt::format(
          "{} comparison(s) have inline gold that disagrees between their records; they have no gold",
          d.diag_.gold_conflicts));
  }

  // Swap pairs: per comparison and run, the first record of each order.
  static void find_swap_pairs(dataset& d) {
    const auto comps = static_cast<std::uint32_t>(d.comparisons_.size());
    d.swap_pair_offsets_.assign(comps + 1, 0);
    for (std::uint32_t c = 0; c < comps; ++c) {
      const comparison& cmp = d.comparisons_[c];
      std::vector<swap_pair> runs;
      for (auto i : d.comparison_records(c)) {
        if (!d.order_known(i)) continue;
        auto it =
            std::find_if(runs.begin(), runs.end(), [&](const swap_pair& s) { return s.run == d.run_[i]; });
        if (it == runs.end()) {
          runs.push_back(swap_pair{c, d.run_[i], no_id, no_id});
          it = runs.end() - 1;
        }
        std::uint32_t& slot = d.cand_a_[i] == cmp.lo ? it->lo_first : it->hi_first;
        if (slot == no_id) slot = i;
      }
      std::sort(runs.begin(), runs.end(),
                [](const swap_pair& x, const swap_pair& y) { return x.run < y.run; });
      for (const auto& s : runs) {
        if (s.lo_first != no_id && s.hi_first != no_id)
          d.swap_pairs_.push_back(s);
        else
          ++d.diag_.one_order_comparisons;
      }
      d.swap_pair_offsets_[c + 1] = static_cast<std::uint32_t>(d.swap_pairs_.size());
    }
    d.swap_pairs_.shrink_to_fit();
  }
};

std::string_view to_string(breakdown b) noexcept {
  return b == breakdown::run ? "run" : "task";
}

breakdown parse_breakdown(std::string_view text) {
  if (text == "task") return breakdown::task;
  if (text == "run") return breakdown::run;
  throw usage_error(fmt::format("--by takes task or run, got \"{}\"", text));
}

breakdown_groups::breakdown_groups(const dataset& d, std::uint32_t judge, breakdown by) {
  const bool tasks = by == breakdown::task;
  auto key_of = [&](dataset::index i) { return tasks ? d.task(i) : d.run(i); };
  std::unordered_map<std::uint32_t, std::uint32_t> slot;
  std::vector<std::uint32_t> group_of_record;  // by position among the judge's records in a group
  for (auto i : d.records_of_judge(judge)) {
    if (tasks && d.task(i) == no_id) continue;
    auto [it, added] = slot.try_emplace(key_of(i), static_cast<std::uint32_t>(ids_.size()));
    if (added) ids_.push_back(key_of(i));
    group_of_record.push_back(it->second);
  }
  const std::size_t groups = ids_.size();
  auto group = [&](dataset::index i) -> std::uint32_t {
    if (tasks && d.task(i) == no_id) return no_id;
    return slot.at(key_of(i));
  };
  // Records of each group, in index order (a stable counting sort).
  record_start_.assign(groups + 1, 0);
  for (auto g : group_of_record) ++record_start_[g + 1];
  for (std::size_t g = 0; g < groups; ++g) record_start_[g + 1] += record_start_[g];
  records_.resize(group_of_record.size());
  {
    std::vector<std::size_t> at(record_start_.begin(), record_start_.end() - 1);
    std::size_t k = 0;
    for (auto i : d.records_of_judge(judge))
      if (!(tasks && d.task(i) == no_id)) records_[at[group_of_record[k++]]++] = i;
  }
  // Comparisons of each group (the judge's are ascending, so each group's are too), with their records
  // and swap pairs in the group: counted, then placed.
  std::vector<std::uint32_t> last(groups, no_id);
  std::vector<std::size_t> comps(groups + 1, 0), recs(groups + 1, 0), swaps(groups + 1, 0);
  for (std::uint32_t c : d.comparisons_of_judge(judge)) {
    for (auto i : d.comparison_records(c)) {
      const std::uint32_t g = group(i);
      if (g == no_id) continue;
      if (last[g] != c) last[g] = c, ++comps[g + 1];
      ++recs[g + 1];
    }
    for (const swap_pair& s : d.swap_pairs_of(c)) {
      const std::uint32_t g = group(s.lo_first);
      if (g != no_id && g == group(s.hi_first)) ++swaps[g + 1];
    }
  }
  for (std::size_t g = 0; g < groups; ++g) {
    comps[g + 1] += comps[g];
    recs[g + 1] += recs[g];
    swaps[g + 1] += swaps[g];
  }
  comparisons_.resize(comps[groups]);
  record_at_.assign(comps[groups] + groups, 0);  // per group: its comparisons' starts and an end
  swap_at_.assign(comps[groups] + groups, 0);
  comparison_records_.resize(recs[groups]);
  swaps_.resize(swaps[groups]);
  std::vector<std::size_t> ci(comps.begin(), comps.end() - 1), ri(recs.begin(), recs.end() - 1),
      si(swaps.begin(), swaps.end() - 1);
  last.assign(groups, no_id);
  for (std::uint32_t c : d.comparisons_of_judge(judge)) {
    for (auto i : d.comparison_records(c)) {
      const std::uint32_t g = group(i);
      if (g == no_id) continue;
      if (last[g] != c) {
        last[g] = c;
        comparisons_[ci[g]] = c;
        record_at_[ci[g] + g] = ri[g] - recs[g];
        swap_at_[ci[g] + g] = si[g] - swaps[g];
        ++ci[g];
      }
      comparison_records_[ri[g]++] = i;
    }
    for (const swap_pair& s : d.swap_pairs_of(c)) {
      const std::uint32_t g = group(s.lo_first);
      if (g != no_id && g == group(s.hi_first)) swaps_[si[g]++] = s;
    }
  }
  for (std::size_t g = 0; g < groups; ++g) {  // each group's end
    record_at_[comps[g + 1] + g] = recs[g + 1] - recs[g];
    swap_at_[comps[g + 1] + g] = swaps[g + 1] - swaps[g];
  }
  comp_start_ = std::move(comps);
  rec_start_ = std::move(recs);
  swap_start_ = std::move(swaps);
  names_.reserve(groups);
  for (auto id : ids_) names_.push_back(tasks ? std::string(d.tasks().name(id)) : std::to_string(id));
  order_.resize(groups);
  for (std::uint32_t g = 0; g < groups; ++g) order_[g] = g;
  std::sort(order_.begin(), order_.end(), [&](auto x, auto y) { return names_[x] < names_[y]; });
}

record record_view(const dataset& d, dataset::index i, std::vector<candidate_feature>& features) {
  record r;
  features.clear();
  std::size_t in_a = 0;
  for (const auto& f : d.features(i)) {
    features.push_back({d.feature_names().name(f.feature), f.value});
    in_a += f.slot == 0;
  }
  r.judge = d.judges().name(d.judge(i));
  r.judge_model = d.models().name(d.judge_model(i));
  r.item = d.items().name(d.item(i));
  r.has_task = d.task(i) != no_id;
  if (r.has_task) r.task = d.tasks().name(d.task(i));
  r.run = d.run(i);
  r.mode = d.mode(i);
  auto candidate = [&](std::uint32_t id, std::uint32_t model, std::uint32_t len, std::uint32_t tok) {
    candidate_view c;
    c.id = d.candidates().name(id);
    c.has_model = model != no_id;
    if (c.has_model) c.model = d.models().name(model);
    if (len != no_id) c.length = len;
    if (tok != no_id) c.tokens = tok;
    return c;
  };
  r.a = candidate(d.cand_a(i), d.model_a(i), d.length_a(i), d.tokens_a(i));
  r.a.features = std::span<const candidate_feature>(features).first(in_a);
  if (r.mode == judgment_mode::pairwise) {
    r.b = candidate(d.cand_b(i), d.model_b(i), d.length_b(i), d.tokens_b(i));
    r.b.features = std::span<const candidate_feature>(features).subspan(in_a);
    r.v = d.verdict(i);
    if (d.inline_gold(i) != verdict::missing) r.gold = d.inline_gold(i);
    if (!std::isnan(d.prob_a(i))) r.prob_a = d.prob_a(i);
  } else {
    if (!std::isnan(d.score(i))) r.score = d.score(i);
    if (!std::isnan(d.gold_score(i))) r.gold_score = d.gold_score(i);
  }
  r.order_known = d.order_known(i);
  if (!d.is_control(i)) {
    r.perturbation_kind = d.kinds().name(d.kind(i));
    r.perturbation_target = d.candidates().name(d.target(i));
  }
  return r;
}

const breakdown_groups* dataset::groups_of(std::uint32_t judge, breakdown by) const {
  const auto& all = groups_[static_cast<std::size_t>(by)];
  if (all.empty() || judge >= measured_slot_.size() || measured_slot_[judge] == no_id) return nullptr;
  return &all[measured_slot_[judge]];
}

dataset dataset_builder::finish(const dataset_options& options) && {
  dataset d = std::move(data_);
  index_steps::resolve_judges(d, options);
  index_steps::index_judges(d);
  index_steps::index_items(d, options.threads);
  index_steps::index_comparisons(d);
  if (!options.gold_judges.empty())
    index_steps::gold_from_judges(d);
  else
    index_steps::inline_gold(d);
  index_steps::find_swap_pairs(d);
  index_steps::index_breakdowns(d, options);
  return d;
}

}  // namespace judgebias
