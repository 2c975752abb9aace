// The per-item audit file: every swap pair and every matched cue pair, one JSON line each.
#include "judgebias/audit.hpp"

#include <nlohmann/json.hpp>

#include "modules/swap.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;

// A verdict as the report writes it: "A", "B", "tie", or null for an extraction failure.
json verdict_json(verdict v) {
  return v == verdict::missing ? json(nullptr) : json(std::string(to_string(v)));
}

void where(json& line, const dataset& d, dataset::index i) {
  line["judge"] = d.judges().name(d.judge(i));
  line["item"] = d.items().name(d.item(i));
  if (d.task(i) != no_id) line["task"] = d.tasks().name(d.task(i));
  line["run"] = d.run(i);
}

void append(std::string& out, const json& line) {
  out += line.dump(-1, ' ', false, json::error_handler_t::replace);
  out += '\n';
}

}  // namespace

std::string per_item_lines(const dataset& d) {
  std::vector<std::uint8_t> measured(d.judges().size(), 0);
  for (auto j : d.measured_judges()) measured[j] = 1;
  std::string out;
  for (const auto& s : d.swap_pairs()) {
    const comparison& c = d.comparisons()[s.comparison];
    if (!measured[c.judge]) continue;
    json line;
    line["type"] = "swap_pair";
    where(line, d, s.lo_first);
    line["ids"] = {d.candidates().name(c.lo), d.candidates().name(c.hi)};
    const verdict v1 = d.verdict(s.lo_first), v2 = d.verdict(s.hi_first);
    line["verdicts"] = {verdict_json(v1), verdict_json(v2)};
    switch (detail::classify_swap(v1, v2)) {
      case detail::swap_outcome::consistent:
        line["outcome"] = "consistent";
        break;
      case detail::swap_outcome::first_slot:
        line["outcome"] = "first_slot";
        break;
      case detail::swap_outcome::second_slot:
        line["outcome"] = "second_slot";
        break;
      case detail::swap_outcome::failure:
        line["outcome"] = "extraction_failure";
        break;
    }
    append(out, line);
  }
  for (const auto& m : d.control_matches()) {
    const dataset::index i = m.perturbed, k = m.control;
    if (!measured[d.judge(i)] || d.is_duplicate(i)) continue;
    json line;
    line["type"] = "cue";
    line["kind"] = d.kinds().name(d.kind(i));
    where(line, d, i);
    if (d.mode(i) == judgment_mode::pointwise) {
      line["ids"] = {d.candidates().name(d.cand_a(i))};
      line["scores"] = {d.parsed(k) ? json(d.score(k)) : json(nullptr),
                        d.parsed(i) ? json(d.score(i)) : json(nullptr)};
      if (d.parsed(i) && d.parsed(k)) {
        line["outcome"] = "score_shift";
        line["shift"] = d.score(i) - d.score(k);
      } else {
        line["outcome"] = "extraction_failure";
      }
      append(out, line);
      continue;
    }
    line["ids"] = {d.candidates().name(d.cand_a(i)), d.candidates().name(d.cand_b(i))};
    line["target"] = d.candidates().name(d.target(i));
    line["verdicts"] = {verdict_json(d.verdict(k)), verdict_json(d.verdict(i))};
    const std::uint32_t c = d.outcome(k), p = d.outcome(i);
    // The control may show the pair in the other order: its choice by id says what it picked.
    auto choice = [&](std::uint32_t o) -> json {
      if (o == no_id) return nullptr;
      if (o == tie_outcome) return "tie";
      return d.candidates().name(o);
    };
    line["choices"] = {choice(c), choice(p)};
    if (!d.parsed(i) || !d.parsed(k))
      line["outcome"] = "extraction_failure";
    else if (p == c)
      line["outcome"] = "same";
    else if (p == d.target(i))
      line["outcome"] = "followed_cue";
    else
      line["outcome"] = "flipped";
    append(out, line);
  }
  return out;
}

}  // namespace judgebias
