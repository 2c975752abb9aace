// The module kit's metric builder (values now, bootstrap intervals at take(), the metrics in the order
// of the judge's JSON object), the placing of a measurement's metrics as rows, and the value list's
// palette.
#include "judgebias/module_kit.hpp"
#include "judgebias/error.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

#include "common/json_tree.hpp"

namespace judgebias::kit {

std::uint8_t value_list::code_of(std::uint64_t bits, std::size_t home) {
  std::size_t c = 0;
  while (c < palette_.size() && std::bit_cast<std::uint64_t>(palette_[c]) != bits) ++c;
  if (c == 256) {  // a 257th value: every value as a double from now on
    doubles_.reserve(std::max(codes_.capacity(), codes_.size() + 1));
    for (const std::uint8_t k : codes_) doubles_.push_back(palette_[k]);
    codes_ = {};
    palette_ = {};
    wide_ = true;
    return 0;
  }
  if (c == palette_.size()) palette_.push_back(std::bit_cast<double>(bits));
  slot_bits_[home] = bits;
  slot_code_[home] = static_cast<std::uint16_t>(c + 1);
  return static_cast<std::uint8_t>(c);
}

std::vector<double> totals_of(std::span<const item_sums* const> tables) {
  std::vector<double> all;
  for (const item_sums* t : tables) {
    const std::vector<double> one = t->totals();
    all.insert(all.end(), one.begin(), one.end());
  }
  return all;
}

std::vector<double> metric_builder::totals_of(const std::vector<const item_sums*>& tables) const {
  std::vector<double> all;
  for (const item_sums* t : tables) {
    if (const auto it = totals_.find(t); it != totals_.end() && it->second.first == t->version()) {
      all.insert(all.end(), it->second.second.begin(), it->second.second.end());
      continue;
    }
    const std::vector<double> one = t->totals();
    all.insert(all.end(), one.begin(), one.end());
  }
  return all;
}

void metric_builder::keep_totals(const std::vector<const item_sums*>& tables,
                                 const std::vector<double>& all) {
  std::size_t at = 0;
  for (const item_sums* t : tables) {
    const std::size_t width = t->rows().width();
    totals_[t] = {t->version(), std::vector<double>(all.begin() + static_cast<std::ptrdiff_t>(at),
                                                    all.begin() + static_cast<std::ptrdiff_t>(at + width))};
    at += width;
  }
}

metric& metric_builder::put(std::vector<std::string> path, unit u, std::uint64_t n, const item_sums& rows,
                            const stats::statistic& stat, const closed_form& closed,
                            std::string_view empty_reason) {
  return put(std::move(path), u, n, std::vector<const item_sums*>{&rows}, stat, closed, empty_reason);
}

metric& metric_builder::put(std::vector<std::string> path, unit u, std::uint64_t n,
                            std::vector<const item_sums*> tables, const stats::statistic& stat,
                            const closed_form& closed, std::string_view empty_reason) {
  entry& e = entries_.emplace_back();
  e.path = std::move(path);
  metric& m = e.value;
  m.unit = u;
  m.n = n;
  std::optional<double> value;
  std::vector<double> totals;
  if (n > 0) value = stat(totals = totals_of(tables));
  if (!value) {
    m.reason = std::string(empty_reason);
    return m;
  }
  if (!std::isfinite(*value)) {  // sums of values near the largest double (1e308)
    m.reason = fmt::format("the value overflows a double: the {} values are too large to sum", n);
    return m;
  }
  m.value = *value;
  if (cfg_.bootstrap > 0) {
    for (const item_sums* t : tables)
      if (!t->keeps_rows())
        throw std::logic_error(fmt::format(
            "metric {}: its item_sums keep no rows, and the bootstrap needs them", fmt::join(e.path, ".")));
    keep_totals(tables, totals);
    e.rows = std::move(tables);
    e.stat = stat;
  } else if (closed) {
    m.ci = closed();
    if (!m.ci) m.reason = "no closed-form interval for fewer than 2 units";
  }
  return m;
}

metric& metric_builder::put(std::vector<std::string> path, metric m) {
  entry& e = entries_.emplace_back();
  e.path = std::move(path);
  e.value = std::move(m);
  return e.value;
}

void metric_builder::open(std::vector<std::string> path) {
  entry& e = entries_.emplace_back();
  e.path = std::move(path);
  e.object = true;
}

// The builder's metrics share one draw (METRICS.md: a module's metrics share its resamples): the items
// of all their tables together are the clusters, resampled on one stream, and a table over some of them
// reads the draws of its own, so that a resample may hold more or fewer of them than the table has. A
// table over fewer than two items is not resampled and takes no part in the draw.
void metric_builder::bootstrap() {
  totals_.clear();  // (the tables may be released, or go, once their intervals are computed)
  std::vector<entry*> pending;
  for (auto& e : entries_)
    if (!e.rows.empty()) pending.push_back(&e);
  if (pending.empty()) return;
  std::vector<const item_sums*> tables;  // each once, in the order put
  std::unordered_map<const item_sums*, std::size_t> table_of;
  std::vector<std::size_t> owners;                // the entries resampled
  std::vector<std::vector<std::size_t>> where;    // the tables of each
  std::vector<std::size_t> covered;               // the items each covers
  std::vector<std::uint32_t> items, own, merged;  // (scratch)
  // The items of a metric's tables together, in increasing id, in `items`.
  auto union_of = [&](const std::vector<const item_sums*>& of) {
    items.clear();
    for (const item_sums* t : of) {
      own.assign(t->items().begin(), t->items().end());
      if (!std::is_sorted(own.begin(), own.end())) std::sort(own.begin(), own.end());
      if (own == items) continue;
      merged.clear();
      std::set_union(items.begin(), items.end(), own.begin(), own.end(), std::back_inserter(merged));
      items.swap(merged);
    }
  };
  for (std::size_t k = 0; k < pending.size(); ++k) {
    const std::vector<const item_sums*>& of = pending[k]->rows;
    std::size_t n = of.front()->items().size();
    if (of.size() > 1) union_of(of), n = items.size();
    if (n < 2) {
      pending[k]->value.reason = "the data come from a single item: nothing to resample";
      continue;
    }
    owners.push_back(k), covered.push_back(n);
    auto& w = where.emplace_back();
    for (const item_sums* t : of) {
      auto [it, added] = table_of.try_emplace(t, tables.size());
      if (added) tables.push_back(t);
      w.push_back(it->second);
    }
  }
  union_of(tables);
  std::vector<stats::bootstrap_table> btables(tables.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    btables[t].rows = &tables[t]->rows();
    if (const auto h = handed_.find(tables[t]); h != handed_.end())
      btables[t].release = [rows = h->second] { rows->release_rows(); };
    btables[t].cluster_of_row.reserve(tables[t]->items().size());
    std::size_t at = 0;  // rows nearly always come in item order: the next row's cluster is the next one
    for (std::uint32_t item : tables[t]->items()) {
      if (at >= items.size() || items[at] != item)
        at = at + 1 < items.size() && items[at + 1] == item
                 ? at + 1
                 : static_cast<std::size_t>(std::lower_bound(items.begin(), items.end(), item) -
                                            items.begin());
      btables[t].cluster_of_row.push_back(static_cast<std::uint32_t>(at));
    }
  }
  std::vector<stats::bootstrap_statistic> bstats;
  bstats.reserve(owners.size());
  for (std::size_t k = 0; k < owners.size(); ++k)
    bstats.push_back({where[k].front(), pending[owners[k]]->stat, {where[k].begin() + 1, where[k].end()}});
  stats::bootstrap_options bo;
  bo.resamples = cfg_.bootstrap;
  bo.stop = cfg_.stop;
  bo.confidence = cfg_.confidence;
  bo.threads = cfg_.threads == 0 ? 1 : cfg_.threads;
  // (The fourth name, empty, is the stream that the builder's first set of items had when each set drew
  // its own: where that first set was all the items, as it nearly always was, intervals over all of them
  // keep their bits.)
  const std::vector<stats::interval_result> r =
      bstats.empty()
          ? std::vector<stats::interval_result>{}
          : stats::bootstrap_intervals(items.size(), btables, bstats, bo,
                                       stats::stream_seed(cfg_.seed, {stream_, judge_, group_, ""}));
  for (std::size_t k = 0; k < owners.size(); ++k) {
    metric& m = pending[owners[k]]->value;
    m.ci = r[k].ci;
    if (!r[k].ci) {
      m.reason = r[k].reason;
      // A metric over few of the items drawn has none of them in some resamples: say so.
      if (covered[k] < items.size())
        m.reason += fmt::format("; it covers {} of the {} items resampled", covered[k], items.size());
    } else if (!std::isfinite((*m.ci)[0]) || !std::isfinite((*m.ci)[1])) {
      m.ci.reset();
      m.reason = "the interval overflows a double: resampled sums are too large";
    }
  }
  for (entry* e : pending) e->rows.clear();
}

void metric_builder::resample() {
  bootstrap();
  handed_.clear();
}

measurement metric_builder::take() {
  resample();
  detail::key_tree<const entry*> tree;
  std::vector<std::string_view> path;
  for (const auto& e : entries_) {
    path.assign(e.path.begin(), e.path.end());
    const std::size_t n = tree.at(path);
    if (!e.object) tree.set(n, &e);
  }
  measurement out;
  tree.walk([&](const std::vector<std::string_view>& keys, const entry* const* leaf) {
    measurement::member m;
    m.path.assign(keys.begin(), keys.end());
    if (leaf) m.value = (*leaf)->value;
    out.members.push_back(std::move(m));
  });
  entries_.clear();
  return out;
}

void place(section_body& body, row_scope scope, const std::string& judge, const std::string& group,
           measurement&& m, const std::vector<std::string>& object) {
  if (m.members.empty()) {
    body.extra(object, nlohmann::ordered_json::object());
    return;
  }
  for (auto& [path, value] : m.members) {
    // {NAME}, {"by_opponent", O, NAME}, {"models", M, NAME} or {"models", M, "by_opponent", O, NAME}.
    const bool per_model = scope != row_scope::overall && path.size() >= 3 && path[0] == "models";
    const std::size_t rest = per_model ? 2 : 0;  // where the path after the model starts
    const bool own = path.size() == rest + 1;
    const bool per_opponent =
        scope != row_scope::overall && path.size() == rest + 3 && path[rest] == "by_opponent";
    if (!value || !(own || per_opponent)) {  // an empty object, or keys no row has: kept as they are
      std::vector<std::string> at = object;
      at.insert(at.end(), path.begin(), path.end());
      body.extra(std::move(at), value ? to_json(*value) : nlohmann::ordered_json::object());
      continue;
    }
    report_row& row = body.rows.emplace_back();
    row.scope = scope;
    row.judge = judge;
    row.group = group;
    row.per_model = per_model;
    if (per_model) row.model = std::move(path[1]);
    row.per_opponent = per_opponent;
    if (per_opponent) row.opponent = std::move(path[rest + 1]);
    row.metric = std::move(path.back());
    row.value = normal_form(std::move(*value));
  }
}

void score_comparison(const dataset& d, const selection& s, std::size_t k, pair_rule rule,
                      std::vector<scored_unit>& out) {
  const auto records = s.comparison_records(d, k);
  if (rule == pair_rule::each) {
    for (auto i : records) out.push_back({d.outcome(i), i, false, 0});
    return;
  }
  const comparison& c = d.comparisons()[s.comparisons(d)[k]];
  const auto pairs = s.swap_pairs(d, k);
  // The records of the selection's swap pairs are scored by pair; the others alone, in record order.
  std::vector<dataset::index> paired;
  paired.reserve(2 * pairs.size());
  for (const swap_pair& p : pairs) paired.push_back(p.lo_first), paired.push_back(p.hi_first);
  std::sort(paired.begin(), paired.end());
  for (auto i : records)
    if (!std::binary_search(paired.begin(), paired.end(), i)) out.push_back({d.outcome(i), i, false, 0});
  for (const swap_pair& p : pairs) {
    const std::uint32_t o1 = d.outcome(p.lo_first), o2 = d.outcome(p.hi_first);
    std::uint32_t o = no_id;
    if (rule == pair_rule::conservative) {
      if (o1 != no_id && o2 != no_id) o = o1 != tie_outcome && o1 == o2 ? o1 : tie_outcome;
    } else {
      auto vote = [&](std::uint32_t x) { return x == c.lo ? 1 : x == c.hi ? -1 : 0; };
      const int sum = vote(o1) + vote(o2);
      if (o1 != no_id || o2 != no_id) o = sum > 0 ? c.lo : sum < 0 ? c.hi : tie_outcome;
    }
    out.push_back({o, p.lo_first, true, p.hi_first});
  }
}

}  // namespace judgebias::kit
