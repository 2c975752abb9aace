// Importers: FastChat (pairwise and single), Arena-Hard-Auto, AlpacaEval and JudgeBench judgments to
// FORMAT v1 records. Field meanings as those projects document them; docs/ecosystem.md shows one
// worked example per format.
#include "judgebias/importers.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_stop.hpp"
#include "judgebias/error.hpp"
#include "judgebias/reader.hpp"

namespace judgebias {

namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// One input value (a line's object, or an element of alpaca-eval's array) with where it starts, so that
// errors name the value's line and column.
struct located {
  std::string_view name;
  std::uint64_t line = 0;
  std::string_view text;     // the value's own text
  std::uint64_t column = 1;  // of its first byte, 1-based on its line
  json value;

  [[noreturn]] void fail(std::uint64_t col, const std::string& message) const {
    throw parse_error(std::string(name), line, col, "import", message);
  }
  [[noreturn]] void fail(const std::string& message) const { fail(column, message); }

  // The column of a top-level key's value on its line (the object's brace when not found: nested or
  // on another line).
  std::uint64_t column_of(std::string_view key) const {
    const std::string quoted = "\"" + std::string(key) + "\"";
    auto at = text.find(quoted);
    if (at == std::string_view::npos) return column;
    at += quoted.size();
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == ':')) ++at;
    if (text.substr(0, at).find('\n') != std::string_view::npos) return column;
    return column + at;
  }

  const json& field(std::string_view key) const {
    auto it = value.find(std::string(key));
    if (it == value.end()) fail(fmt::format("missing required field \"{}\"", key));
    return *it;
  }
  std::string string(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_string())
      fail(column_of(key), fmt::format("\"{}\" must be a string, got {}", key, v.type_name()));
    return v.get<std::string>();
  }
  // Integers or strings both name things (question ids are numbers in MT-Bench, strings in Arena-Hard).
  std::string id(std::string_view key) const {
    const json& v = field(key);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return v.dump();
    fail(column_of(key), fmt::format("\"{}\" must be a string or an integer, got {}", key, v.type_name()));
  }
  std::int64_t integer(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_number_integer())
      fail(column_of(key), fmt::format("\"{}\" must be an integer, got {}", key, v.type_name()));
    // Above 2^63 - 1 an unsigned value would wrap to a negative one.
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      fail(column_of(key), fmt::format("\"{}\" must be an integer below 2^63, got {}", key, v.dump()));
    return v.get<std::int64_t>();
  }
};

// Line and column (1-based, bytes) of offsets in a text, counted on from the previous offset asked for,
// so that locating every element of a file costs one pass over it, not one pass per element.
class line_counter {
 public:
  explicit line_counter(std::string_view text) : text_(text) {}
  std::pair<std::uint64_t, std::uint64_t> at(std::size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset < at_) *this = line_counter(text_);  // backwards: start again
    for (; at_ < offset; ++at_)
      if (text_[at_] == '\n') ++line_, line_start_ = at_ + 1;
    return {line_, offset - line_start_ + 1};
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0, line_start_ = 0;
  std::uint64_t line_ = 1;
};

std::pair<std::uint64_t, std::uint64_t> line_column(std::string_view text, std::size_t offset) {
  return line_counter(text).at(offset);
}

// Parses one JSON value of `text` (which starts at byte `base` of `whole`); every refusal is a
// parse_error at name:line:column, never nlohmann's own exception.
json parse_value(std::string_view name, std::string_view whole, std::size_t base, std::string_view text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    const auto where = detail::json_refusal_of<json>(text);
    const auto [line, col] = line_column(whole, base + where.offset);
    throw parse_error(std::string(name), line, col, "import", where.message);
  }
}

// Every non-blank line of a JSON Lines text as a located object.
template <class Fn>
void each_line(std::string_view name, std::string_view text, Fn&& fn) {
  std::uint64_t line = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++line;
    std::string_view l = text.substr(pos, end - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    const std::size_t first = l.find_first_not_of(" \t");
    if (first != std::string_view::npos) {
      located v{name, line, l.substr(first), first + 1, {}};
      v.value = parse_value(name, text, pos, l);
      if (!v.value.is_object())
        v.fail(fmt::format("a judgment must be a JSON object, got {}", v.value.type_name()));
      fn(v);
    }
    pos = end + 1;
  }
}

void emit(std::string& out, const ojson& record) {
  out += record.dump(-1, ' ', false, ojson::error_handler_t::replace);
  out += '\n';
}

// Arena-Hard's and JudgeBench's verdict labels are FORMAT v1 verdict aliases; null is an extraction failure.
ojson verdict_label(const located& v, const json& label, std::string_view what) {
  if (label.is_null()) return nullptr;
  static const char* const known[] = {"A>>B", "A>B", "A=B", "B>A", "B>>A"};
  if (label.is_string())
    for (const char* k : known)
      if (label.get<std::string>() == k) return k;
  v.fail(fmt::format("{} must be \"A>>B\", \"A>B\", \"A=B\", \"B>A\", \"B>>A\" or null, got {}", what,
                     label.dump()));
}

// FastChat: game 1 showed model_1 first, game 2 model_2 first; both winners name models.
void fastchat(const located& v, std::string& out) {
  const std::string m1 = v.string("model_1"), m2 = v.string("model_2");
  if (m1 == m2)
    v.fail(v.column_of("model_2"), fmt::format("model_1 and model_2 are the same model \"{}\"", m1));
  const json& judge = v.field("judge");
  if (!judge.is_array() || judge.size() < 2 || !judge[0].is_string() || !judge[1].is_string())
    v.fail(v.column_of("judge"), "\"judge\" must be a list [judge model, prompt name]");
  const std::string item = fmt::format("{}:t{}", v.id("question_id"), v.integer("turn"));
  for (int game = 1; game <= 2; ++game) {
    const std::string key = game == 1 ? "g1_winner" : "g2_winner";
    const std::string winner = v.string(key);
    const std::string& first = game == 1 ? m1 : m2;
    const std::string& second = game == 1 ? m2 : m1;
    ojson verdict;
    if (winner == "tie")
      verdict = "tie";
    else if (winner == "error")
      verdict = nullptr;
    else if (winner == "model_1" || winner == "model_2")
      verdict = (winner == "model_1" ? m1 : m2) == first ? "A" : "B";
    else
      v.fail(v.column_of(key),
             fmt::format("\"{}\" must be \"model_1\", \"model_2\", \"tie\" or \"error\", got \"{}\"", key,
                         winner));
    ojson r;
    r["judge"] = judge[0].get<std::string>() + "/" + judge[1].get<std::string>();
    r["judge_model"] = judge[0];
    r["item"] = item;
    r["a"] = {{"model", first}};
    r["b"] = {{"model", second}};
    r["verdict"] = verdict;
    emit(out, r);
  }
}

// FastChat single-answer grading: a score of 1-10, -1 when the grade could not be parsed.
void fastchat_single(const located& v, std::string& out) {
  const json& judge = v.field("judge");
  if (!judge.is_array() || judge.size() < 2 || !judge[0].is_string() || !judge[1].is_string())
    v.fail(v.column_of("judge"), "\"judge\" must be a list [judge model, prompt name]");
  const json& score = v.field("score");
  if (!score.is_number())
    v.fail(v.column_of("score"), fmt::format("\"score\" must be a number, got {}", score.type_name()));
  const double s = score.get<double>();
  if (s != -1 && !(s >= 1 && s <= 10))
    v.fail(v.column_of("score"),
           fmt::format("\"score\" must be in [1, 10] or -1 (not parsed), got {}", score.dump()));
  ojson r;
  r["judge"] = judge[0].get<std::string>() + "/" + judge[1].get<std::string>();
  r["judge_model"] = judge[0];
  r["item"] = fmt::format("{}:t{}", v.id("question_id"), v.integer("turn"));
  r["response"] = {{"model", v.string("model")}};
  r["score"] = s == -1 ? ojson(nullptr) : ojson(score);
  r["scale"] = {1, 10};
  emit(out, r);
}

// Arena-Hard-Auto: game 1 showed the baseline as A, game 2 the judged model as A.
void arena_hard(const located& v, const import_options& o, std::string& out) {
  const std::string model = v.string("model"), judge = v.string("judge"), item = v.id("question_id");
  if (model == o.baseline) return;  // the baseline against itself says nothing
  const json& games = v.field("games");
  if (!games.is_array() || games.size() != 2)
    v.fail(v.column_of("games"), "\"games\" must be a list of two games");
  for (std::size_t g = 0; g < 2; ++g) {
    if (!games[g].is_object() || !games[g].contains("score"))
      v.fail(v.column_of("games"), fmt::format("game {} has no \"score\"", g + 1));
    ojson r;
    r["judge"] = judge;
    r["item"] = item;
    r["a"] = {{"model", g == 0 ? o.baseline : model}};
    r["b"] = {{"model", g == 0 ? model : o.baseline}};
    r["verdict"] = verdict_label(v, games[g]["score"], fmt::format("game {}'s \"score\"", g + 1));
    emit(out, r);
  }
}

// AlpacaEval: the shown order is not stored; preference 1 = output_1 better, 2 = output_2, 1.5 or 0 = draw.
void alpaca_eval(const located& v, std::string& out) {
  const std::string g1 = v.string("generator_1"), g2 = v.string("generator_2");
  if (g1 == g2)
    v.fail(v.column_of("generator_2"), fmt::format("generator_1 and generator_2 are the same \"{}\"", g1));
  const json& pref = v.field("preference");
  ojson verdict, prob_a;
  if (pref.is_null()) {
    verdict = nullptr;
  } else if (!pref.is_number()) {
    v.fail(v.column_of("preference"),
           fmt::format("\"preference\" must be a number or null, got {}", pref.type_name()));
  } else {
    const double p = pref.get<double>();
    if (p == 0 || p == 1.5) {
      verdict = "tie";
    } else if (p >= 1 && p <= 2) {
      verdict = p < 1.5 ? "A" : "B";
    } else {
      v.fail(v.column_of("preference"),
             fmt::format("\"preference\" must be in [1, 2], or 0, got {}", pref.dump()));
    }
    if (p >= 1 && p <= 2) prob_a = 2 - p;
  }
  ojson r;
  r["judge"] = v.string("annotator");
  r["item"] = v.string("instruction");
  r["a"] = {{"model", g1}, {"length", count_code_points(v.string("output_1"))}};
  r["b"] = {{"model", g2}, {"length", count_code_points(v.string("output_2"))}};
  r["verdict"] = verdict;
  if (!prob_a.is_null()) r["prob_a"] = prob_a;
  r["order_known"] = false;
  emit(out, r);
}

// JudgeBench: both responses come from one model; the second game showed them swapped, and its decision
// is in the shown frame; the label is in the original frame.
void judgebench(const located& v, std::string& out) {
  const std::string pair = v.id("pair_id"), model = v.string("response_model"), label = v.string("label");
  if (label != "A>B" && label != "B>A")
    v.fail(v.column_of("label"), fmt::format("\"label\" must be \"A>B\" or \"B>A\", got \"{}\"", label));
  const std::string id_a = pair + ":A", id_b = pair + ":B";
  const std::size_t len_a = count_code_points(v.string("response_A")),
                    len_b = count_code_points(v.string("response_B"));
  const json& games = v.field("judgments");
  if (!games.is_array() || games.size() != 2)
    v.fail(v.column_of("judgments"), "\"judgments\" must be a list of two games");
  for (std::size_t g = 0; g < 2; ++g) {
    const json& game = games[g];
    if (!game.is_object() || !game.contains("judgment") || !game["judgment"].is_object() ||
        !game["judgment"].contains("judge_model") || !game["judgment"]["judge_model"].is_string())
      v.fail(v.column_of("judgments"), fmt::format("game {} has no \"judgment\".\"judge_model\"", g + 1));
    if (!game.contains("decision"))
      v.fail(v.column_of("judgments"), fmt::format("game {} has no \"decision\"", g + 1));
    const bool swapped = g == 1;
    ojson r;
    r["judge"] = game["judgment"]["judge_model"];
    r["item"] = pair;
    r["a"] = {{"id", swapped ? id_b : id_a}, {"model", model}, {"length", swapped ? len_b : len_a}};
    r["b"] = {{"id", swapped ? id_a : id_b}, {"model", model}, {"length", swapped ? len_a : len_b}};
    r["verdict"] = verdict_label(v, game["decision"], fmt::format("game {}'s \"decision\"", g + 1));
    r["gold"] = (label == "A>B") != swapped ? "A" : "B";
    if (v.value.contains("judge_name") && v.value["judge_name"].is_string())
      r["meta"] = {{"judge_name", v.value["judge_name"]}};
    emit(out, r);
  }
}

// AlpacaEval's file is one JSON array: each element located by a scan of the top level.
template <class Fn>
void each_element(std::string_view name, std::string_view text, Fn&& fn) {
  json all = parse_value(name, text, 0, text);
  const std::size_t open = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (!all.is_array()) {
    const auto [line, col] = line_column(text, open);
    throw parse_error(std::string(name), line, col, "import",
                      fmt::format("alpaca-eval annotations must be one JSON array, got {}", all.type_name()));
  }
  // Element starts: depth-1 positions after '[' or ',' outside strings.
  std::vector<std::size_t> starts;
  int depth = 0;
  bool in_string = false, escaped = false, expect = false;
  for (std::size_t k = open; k < text.size(); ++k) {
    const char c = text[k];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (expect && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      starts.push_back(k);
      expect = false;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth == 1) expect = true;
    } else if (c == ']' || c == '}')
      --depth;
    else if (c == ',' && depth == 1)
      expect = true;
  }
  line_counter lines(text);
  for (std::size_t k = 0; k < all.size(); ++k) {
    const std::size_t at = k < starts.size() ? starts[k] : open;
    const auto [line, col] = lines.at(at);
    const std::size_t end = k + 1 < starts.size() ? starts[k + 1] : text.size();
    located v{name, line, text.substr(at, end - at), col, std::move(all[k])};
    if (!v.value.is_object())
      v.fail(fmt::format("an annotation must be a JSON object, got {}", v.value.type_name()));
    fn(v);
  }
}

}  // namespace

std::string_view to_string(import_format f) noexcept {
  switch (f) {
    case import_format::fastchat:
      return "fastchat";
    case import_format::fastchat_single:
      return "fastchat-single";
    case import_format::arena_hard:
      return "arena-hard";
    case import_format::alpaca_eval:
      return "alpaca-eval";
    case import_format::judgebench:
      return "judgebench";
  }
  return "";
}

import_format parse_import_format(std::string_view name) {
  for (auto f : {import_format::fastchat, import_format::fastchat_single, import_format::arena_hard,
                 import_format::alpaca_eval, import_format::judgebench})
    if (to_string(f) == name) return f;
  throw usage_error(fmt::format(
      "--from: unknown format \"{}\" (known: fastchat, fastchat-single, arena-hard, alpaca-eval, judgebench)",
      name));
}

std::uint64_t import_text(std::string_view name, std::string_view text, import_format format,
                          const import_options& options, std::string& out) {
  if (format == import_format::arena_hard && options.baseline.empty())
    throw usage_error("--from arena-hard needs --baseline MODEL (the model of game 1's answer A)");
  const std::size_t before = out.size();
  switch (format) {
    case import_format::fastchat:
      each_line(name, text, [&](const located& v) { fastchat(v, out); });
      break;
    case import_format::fastchat_single:
      each_line(name, text, [&](const located& v) { fastchat_single(v, out); });
      break;
    case import_format::arena_hard:
      each_line(name, text, [&](const located& v) { arena_hard(v, options, out); });
      break;
    case import_format::alpaca_eval:
      each_element(name, text, [&](const located& v) { alpaca_eval(v, out); });
      break;
    case import_format::judgebench:
      each_line(name, text, [&](const located& v) { judgebench(v, out); });
      break;
  }
  // One record per line written.
  return static_cast<std::uint64_t>(
      std::count(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(), '\n'));
}

std::uint64_t import_file(const std::string& path, import_format format, const import_options& options,
                          std::string& out) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw io_error(fmt::format("{}: read failed", path));
  }
  return import_text(path, text, format, options, out);
}

}  // namespace judgebias
