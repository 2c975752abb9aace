// FORMAT.md version 1, the rules across a record's fields: which fields a mode needs, the defaults, the
// verdict and gold vocabularies, the perturbation's target and the scale.
#include "ingest/format_v1.hpp"

#include <limits>

#include <fmt/format.h>

namespace judgebias::detail {

void fail(std::uint64_t column, const char* reason, std::string message) {
  throw line_failure{column, reason, std::move(message)};
}

std::string quoted(std::string_view s) {
  std::size_t shown = 60;
  if (s.size() <= shown) return fmt::format("\"{}\"", s);
  while (shown > 0 && (static_cast<unsigned char>(s[shown]) & 0xC0u) == 0x80u) --shown;  // whole characters
  return fmt::format("\"{}...\"", s.substr(0, shown));
}

namespace {

// A candidate's id (explicit, else "<item>:<model>", else the slot's name) and length (explicit, else the
// text's code points).
candidate_view resolve_candidate(const raw_candidate& c, std::string_view slot, std::string_view item,
                                 std::string& buf) {
  candidate_view out;
  if (c.model) {
    out.model = *c.model;
    out.has_model = true;
  }
  if (c.id) {
    out.id = *c.id;
  } else if (c.model) {
    buf.assign(item);
    buf += ':';
    buf += *c.model;
    out.id = buf;
  } else {
    out.id = slot;
  }
  out.length = c.length;
  if (!out.length && c.text_length) {
    if (*c.text_length >= std::numeric_limits<std::uint32_t>::max())
      fail(c.column, "out_of_range", fmt::format("\"{}\" text is too long to count", slot));
    out.length = static_cast<std::uint32_t>(*c.text_length);
  }
  out.tokens = c.tokens;
  out.features = c.features;
  return out;
}

// The mode: as given, else inferred from the candidates ("a" and "b", or "response").
judgment_mode resolve_mode(const raw_record& raw) {
  const bool has_pair = raw.a.present || raw.b.present, has_response = raw.response.present;
  judgment_mode mode{};
  if (raw.mode) {
    if (*raw.mode == "pairwise")
      mode = judgment_mode::pairwise;
    else if (*raw.mode == "pointwise")
      mode = judgment_mode::pointwise;
    else
      fail(raw.mode_column, "bad_mode",
           fmt::format("\"mode\" must be \"pairwise\" or \"pointwise\", got {}", quoted(*raw.mode)));
  }
  if (has_pair && has_response)
    fail(raw.column, "bad_mode",
         "a record has either \"a\" and \"b\" (pairwise) or \"response\" (pointwise), not both");
  if (!raw.mode) {
    if (!has_pair && !has_response)
      fail(raw.column, "bad_mode", "a record needs \"a\" and \"b\" (pairwise) or \"response\" (pointwise)");
    mode = has_pair ? judgment_mode::pairwise : judgment_mode::pointwise;
  }
  return mode;
}

void resolve_pairwise(const raw_record& raw, record& r, id_buffers& ids) {
  if (!raw.a.present) fail(raw.column, "missing_field", "missing required field \"a\"");
  if (!raw.b.present) fail(raw.column, "missing_field", "missing required field \"b\"");
  if (!raw.has_verdict) fail(raw.column, "missing_field", "missing required field \"verdict\"");
  r.a = resolve_candidate(raw.a, "a", r.item, ids.a);
  r.b = resolve_candidate(raw.b, "b", r.item, ids.b);
  if (r.a.id == r.b.id)
    fail(raw.b.column, "same_id",
         fmt::format("\"a\" and \"b\" have the same id {}; give explicit ids", quoted(r.a.id)));
  if (!raw.verdict) {
    r.v = verdict::missing;
  } else {
    auto v = parse_verdict(*raw.verdict);
    if (!v)
      fail(raw.verdict_column, "unknown_verdict",
           fmt::format("\"verdict\" must be \"A\", \"B\", \"tie\" or null, got {}", quoted(*raw.verdict)));
    r.v = *v;
  }
  if (raw.gold_score)
    fail(raw.gold_column, "wrong_type",
         "\"gold\" of a pairwise record must be \"A\", \"B\" or \"tie\", got a number");
  if (raw.gold_verdict) {
    auto g = parse_verdict(*raw.gold_verdict);
    if (!g)
      fail(raw.gold_column, "unknown_verdict",
           fmt::format("\"gold\" must be \"A\", \"B\" or \"tie\", got {}", quoted(*raw.gold_verdict)));
    r.gold = *g;
  }
  if (raw.perturbation_kind) {
    const auto& target = raw.perturbation_target;
    if (!target)
      fail(raw.target_column ? raw.target_column : raw.perturbation_column, "missing_field",
           "\"perturbation\" of a pairwise record needs a \"target\"");
    if (*target == "A")
      r.perturbation_target = r.a.id;
    else if (*target == "B")
      r.perturbation_target = r.b.id;
    else if (*target == r.a.id || *target == r.b.id)
      r.perturbation_target = *target;
    else
      fail(
          raw.target_column, "bad_target",
          fmt::format("\"perturbation.target\" must be \"A\", \"B\" or a candidate id of this record, got {}",
                      quoted(*target)));
    r.perturbation_kind = *raw.perturbation_kind;
  }
}

void resolve_pointwise(const raw_record& raw, bool strict_scale, record& r, id_buffers& ids) {
  if (!raw.response.present) fail(raw.column, "missing_field", "missing required field \"response\"");
  if (!raw.has_score) fail(raw.column, "missing_field", "missing required field \"score\"");
  r.a = resolve_candidate(raw.response, "response", r.item, ids.a);
  if (raw.gold_verdict)
    fail(raw.gold_column, "wrong_type", "\"gold\" of a pointwise record must be a number, got a string");
  std::optional<double> score = raw.score;
  if (const auto& scale = raw.scale) {
    if (score && (*score < scale->first || *score > scale->second)) {
      if (strict_scale)
        fail(raw.score_column, "bad_number",
             fmt::format("\"score\" {} is outside the scale [{}, {}] (--strict-scale)", *score, scale->first,
                         scale->second));
      score.reset();
      r.score_out_of_scale = true;
    }
    if (raw.gold_score && (*raw.gold_score < scale->first || *raw.gold_score > scale->second))
      fail(raw.gold_column, "bad_number",
           fmt::format("\"gold\" {} is outside the scale [{}, {}]", *raw.gold_score, scale->first,
                       scale->second));
  }
  r.score = score;
  r.gold_score = raw.gold_score;
  if (raw.perturbation_kind) {
    const auto& target = raw.perturbation_target;
    if (target && *target != r.a.id && *target != "A")
      fail(raw.target_column, "bad_target",
           fmt::format("\"perturbation.target\" of a pointwise record must be the response, got {}",
                       quoted(*target)));
    r.perturbation_kind = *raw.perturbation_kind;
    r.perturbation_target = r.a.id;
  }
}

}  // namespace

record resolve_record(const raw_record& raw, bool strict_scale, id_buffers& ids) {
  if (!raw.judge) fail(raw.column, "missing_field", "missing required field \"judge\"");
  if (!raw.item)
    fail(raw.item_column ? raw.item_column : raw.column, "missing_field", "missing required field \"item\"");
  const judgment_mode mode = resolve_mode(raw);
  record r;
  r.judge = *raw.judge;
  r.judge_model = raw.judge_model ? *raw.judge_model : *raw.judge;
  r.item = *raw.item;
  if (raw.task) {
    r.task = *raw.task;
    r.has_task = true;
  }
  r.run = raw.run;
  r.mode = mode;
  r.order_known = raw.order_known;
  r.prob_a = raw.prob_a;
  if (mode == judgment_mode::pairwise)
    resolve_pairwise(raw, r, ids);
  else
    resolve_pointwise(raw, strict_scale, r, ids);
  return r;
}

}  // namespace judgebias::detail
