// `judgebias perturb`: writes the control and cue variants of each comparison request, in both orders,
// as FORMAT v1 records waiting for their verdict. Cue templates follow the structure of the published
// ones (CALM's bandwagon and authority forms, padding, a distracting remark, the LRM study's
// superficial reflection), in our own words; docs/workflow.md cites them.
#include "judgebias/perturb.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_stop.hpp"
#include "common/text_file.hpp"
#include "judgebias/error.hpp"
#include "judgebias/stats.hpp"

namespace judgebias {

namespace {

using json = nlohmann::ordered_json;

// Fill-ins for the templates' placeholders: fictional names, drawn with the seed.
constexpr const char* authors[] = {"Dr. Helen Marsh", "Prof. Daniel Okafor", "Dr. Lena Vogt",
                                   "Prof. Arun Mehta"};
constexpr const char* titles[] = {"Principles of Careful Reasoning", "The Handbook of Applied Knowledge",
                                  "Foundations of Clear Thinking", "A Guide to Expert Judgment"};
constexpr const char* publishers[] = {"Meridian Press", "Northgate Academic", "Harbor University Press"};
constexpr const char* sites[] = {"knowledge-archive", "research-digest", "reference-hub", "expert-answers"};
constexpr const char* slugs[] = {"answers/verified", "articles/consensus-view", "reviews/best-answer"};
constexpr const char* hobbies[] = {"enjoys hiking on weekends", "has a cat named Pixel",
                                   "likes to bake bread", "collects old maps"};
constexpr int percents[] = {70, 80, 90};

template <std::size_t N>
const char* pick(stats::rng& g, const char* const (&list)[N]) {
  return list[g.below(N)];
}

// The placeholders a template may hold, in the order of their fill-ins.
enum class fill_in : std::uint8_t {
  slot,
  slot_upper,
  pct,
  author,
  title,
  publisher,
  year,
  page,
  site,
  slug,
  hobby
};
constexpr std::string_view placeholder_names[] = {
    "slot", "slot_upper", "pct", "author", "title", "publisher", "year", "page", "site", "slug", "hobby"};
constexpr std::size_t placeholder_count = std::size(placeholder_names);

// A template cut once into literal text and placeholders, so that rendering is one pass however many
// placeholders it holds. The literals view the template's string.
struct template_part {
  std::string_view literal;
  std::optional<fill_in> placeholder;
};

// A placeholder the template uses but perturb does not know.
struct unknown_placeholder {
  std::size_t offset;  // of its "{" in the template
  std::string_view name;
};

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

// Cuts a template into parts: "{name}" (a letter or "_", then letters, digits, "_" or "-") is a
// placeholder, "{{" a literal "{", any other brace literal text.
std::optional<unknown_placeholder> cut(std::string_view t, std::vector<template_part>& parts) {
  parts.clear();
  std::size_t literal_start = 0, k = 0;
  auto flush = [&](std::size_t end) {
    if (end > literal_start) parts.push_back({t.substr(literal_start, end - literal_start), {}});
  };
  while ((k = t.find('{', k)) != std::string_view::npos) {
    if (k + 1 < t.size() && t[k + 1] == '{') {  // "{{": the first brace is kept, the second dropped
      flush(k + 1);
      literal_start = k += 2;
      continue;
    }
    std::size_t end = k + 1;
    if (end < t.size() && name_start(t[end]))
      while (end < t.size() && name_char(t[end])) ++end;
    if (end == k + 1 || end >= t.size() || t[end] != '}') {  // not a placeholder: literal text
      ++k;
      continue;
    }
    const std::string_view name = t.substr(k + 1, end - k - 1);
    const auto* known = std::find(std::begin(placeholder_names), std::end(placeholder_names), name);
    if (known == std::end(placeholder_names)) return unknown_placeholder{k, name};
    flush(k);
    parts.push_back({{}, static_cast<fill_in>(known - std::begin(placeholder_names))});
    literal_start = k = end + 1;
  }
  flush(t.size());
  return std::nullopt;
}

std::string known_placeholders() {
  std::string s;
  for (auto name : placeholder_names) s += fmt::format("{}{{{}}}", s.empty() ? "" : ", ", name);
  return s;
}

std::string unknown_message(const unknown_placeholder& u, const std::string& kind, std::size_t index) {
  return fmt::format(
      "unknown placeholder {{{}}} in template {} of \"{}\" (known: {}; write {{{{ for a literal {{)", u.name,
      index + 1, kind, known_placeholders());
}

std::string render(const std::vector<template_part>& parts,
                   const std::string_view (&fills)[placeholder_count]) {
  std::size_t size = 0;
  for (const auto& p : parts)
    size += p.placeholder ? fills[static_cast<std::size_t>(*p.placeholder)].size() : p.literal.size();
  std::string s;
  s.reserve(size);
  for (const auto& p : parts)
    s += p.placeholder ? fills[static_cast<std::size_t>(*p.placeholder)] : p.literal;
  return s;
}

// One chosen cue: a template with its fill-ins, rendered for each presentation order.
struct chosen_cue {
  std::string text[2];  // [0]: the target shown first (slot a), [1]: shown second (slot b)
  cue_placement placement{};
};

// `kind` holds the kind's templates, each cut into parts.
chosen_cue choose(const cue_placement placement, const std::vector<std::vector<template_part>>& kind,
                  stats::rng& g) {
  chosen_cue c;
  c.placement = placement;
  // Every fill-in is drawn, used or not, in this order, so that a seed gives the same cues as before.
  const auto& parts = kind[g.below(kind.size())];
  const std::string pct = std::to_string(percents[g.below(std::size(percents))]);
  const char* author = pick(g, authors);
  const char* title = pick(g, titles);
  const char* publisher = pick(g, publishers);
  const std::string year = std::to_string(2012 + g.below(12));
  const std::string page = std::to_string(12 + g.below(320));
  const char* site = pick(g, sites);
  const char* slug = pick(g, slugs);
  const char* hobby = pick(g, hobbies);
  std::string_view fills[placeholder_count] = {"a",  "A",  pct,  author, title, publisher,
                                               year, page, site, slug,   hobby};
  c.text[0] = render(parts, fills);
  fills[0] = "b";
  fills[1] = "B";
  c.text[1] = render(parts, fills);
  return c;
}

using detail::line_column;
using detail::string_end;

// Where each kind of a template file sits: indexes into the file's string tokens (keys and string
// values, in the order they appear), npos where the value is not a string.
struct kind_location {
  std::size_t key = std::string::npos;
  std::size_t placement = std::string::npos;
  std::vector<std::size_t> templates;
};

// A request's response.
struct response {
  std::string id, text;
  std::optional<std::string> model;
};

}  // namespace

cue_templates builtin_cue_templates() {
  cue_templates t;
  t["bandwagon"] = {cue_placement::prompt,
                    {"{pct}% of people believe that Output ({slot}) is better.",
                     "Most evaluators who compared these two responses ({pct}%) chose Output ({slot}).",
                     "A large majority of users ({pct}%) found Output ({slot}) more helpful."}};
  t["authority"] = {cue_placement::answer_append,
                    {"(Reference: {author}, {title}, {publisher}, {year}, p. {page}.)",
                     "As {author} wrote in {title} ({year}): \"This is the answer experts accept.\"",
                     "(Source: https://www.{site}.org/{slug})"}};
  t["verbosity"] = {
      cue_placement::answer_append,
      {"To put it another way, the answer above responds to the question as it was asked. In summary, "
       "the points made above are the key ones, and together they address the request completely.",
       "It is worth restating that the response above covers the question. Each part of the answer "
       "has been explained, and the conclusion follows from the explanation already given."}};
  t["distraction"] = {cue_placement::prompt, {"Note: the assistant that wrote Output ({slot}) {hobby}."}};
  t["reflection"] = {
      cue_placement::answer_prepend,
      {"Wait, let me think about this again... ", "Hmm, let me double-check that before answering. ",
       "Let me reconsider this step by step. "}};
  return t;
}

cue_templates parse_cue_templates(const std::string& name, std::string_view text) {
  // The string tokens' offsets, and which of them are each kind's name, placement and templates (found
  // by the parser's callback, which sees keys and values in the order they appear).
  std::vector<std::size_t> tokens;
  std::map<std::string, kind_location> where;
  std::string kind_key, field_key;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    const bool in_templates = depth == 3 && field_key == "templates";
    if (event == json::parse_event_t::key) {
      if (depth == 1) {
        kind_key = parsed.get<std::string>();
        where[kind_key] = {tokens.size(), std::string::npos, {}};
        field_key.clear();
      } else if (depth == 2) {
        field_key = parsed.get<std::string>();
        if (field_key == "templates") where[kind_key].templates.clear();
        if (field_key == "placement") where[kind_key].placement = std::string::npos;
      }
      tokens.push_back(0);
    } else if (event == json::parse_event_t::value) {
      const std::size_t token = parsed.is_string() ? tokens.size() : std::string::npos;
      if (depth == 2 && field_key == "placement") where[kind_key].placement = token;
      if (in_templates) where[kind_key].templates.push_back(token);
      if (parsed.is_string()) tokens.push_back(0);
    } else if ((event == json::parse_event_t::object_end || event == json::parse_event_t::array_end) &&
               in_templates) {
      where[kind_key].templates.push_back(std::string::npos);
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text, callback);
  } catch (const json::exception&) {
    const auto refused = detail::json_refusal_of<json>(text);
    const auto [line, col] = line_column(text, refused.offset);
    throw parse_error(name, line, col, "not_json", refused.message);
  }
  // The text is valid JSON: every quote outside a string opens one.
  for (std::size_t k = 0, n = 0; n < tokens.size() && k < text.size(); ++k)
    if (text[k] == '"') {
      tokens[n++] = k;
      k = string_end(text, k) - 1;
    }
  auto fail_at = [&](std::size_t token, const std::string& reason, const std::string& message) {
    const auto [line, col] =
        line_column(text, token < tokens.size() ? tokens[token] : text.find_first_not_of(" \t\r\n"));
    throw parse_error(name, line, col, reason, message);
  };
  if (!j.is_object()) fail_at(std::string::npos, "not_object", "a template file is a JSON object of kinds");
  cue_templates t = builtin_cue_templates();
  std::vector<template_part> parts;
  for (const auto& [kind, spec] : j.items()) {
    const kind_location& at = where[kind];
    if (!spec.is_object() || !spec.contains("templates") || !spec["templates"].is_array() ||
        spec["templates"].empty())
      fail_at(at.key, "wrong_type",
              fmt::format("\"{}\" must be an object with a non-empty \"templates\" array", kind));
    cue_kind_templates k;
    if (spec.contains("placement")) {
      const json& p = spec["placement"];
      const std::string s = p.is_string() ? p.get<std::string>() : std::string();
      if (s == "prompt")
        k.placement = cue_placement::prompt;
      else if (s == "append")
        k.placement = cue_placement::answer_append;
      else if (s == "prepend")
        k.placement = cue_placement::answer_prepend;
      else
        fail_at(p.is_string() ? at.placement : at.key, "wrong_type",
                fmt::format("\"{}\": \"placement\" must be \"prompt\", \"append\" or \"prepend\", got {}",
                            kind, p.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    const json& list = spec["templates"];
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::size_t token = i < at.templates.size() ? at.templates[i] : std::string::npos;
      if (!list[i].is_string())
        fail_at(
            at.key, "wrong_type",
            fmt::format("\"{}\": template {} must be a string, got {}", kind, i + 1, list[i].type_name()));
      const std::string& s = list[i].get_ref<const std::string&>();
      if (const auto u = cut(s, parts)) {
        // The placeholder's column: exact when the string has no escapes before it, else where its text
        // first appears in the string, else the string's opening quote.
        std::size_t offset = text.size();
        if (token < tokens.size()) {
          const std::size_t open = tokens[token];
          const std::string_view raw = text.substr(open + 1, string_end(text, open) - open - 2);
          const std::size_t escape = raw.find('\\');
          if (escape == std::string_view::npos || escape > u->offset)
            offset = open + 1 + u->offset;
          else if (const auto found = raw.find(fmt::format("{{{}}}", u->name));
                   found != std::string_view::npos)
            offset = open + 1 + found;
          else
            offset = open;
        }
        const auto [line, col] = line_column(text, offset);
        throw parse_error(name, line, col, "unknown_placeholder", unknown_message(*u, kind, i));
      }
      k.templates.push_back(s);
    }
    t[kind] = std::move(k);
  }
  return t;
}

cue_templates load_cue_templates(const std::string& path) {
  return parse_cue_templates(path, detail::read_text_file(path, "the template file"));
}

std::uint64_t perturb_requests(std::istream& in, const std::string& name, const perturb_options& options,
                               std::ostream& out) {
  if (options.judge.empty()) throw usage_error("perturb needs --judge, the judge's name for the records");
  // Each kind's templates cut once into parts; an unknown placeholder is refused before anything is written.
  std::map<std::string, std::vector<std::vector<template_part>>> cut_kinds;
  for (const auto& k : options.kinds) {
    const auto it = options.templates.find(k);
    if (it == options.templates.end() || it->second.templates.empty())
      throw usage_error(fmt::format("no templates for the cue kind \"{}\"", k));
    auto& kind = cut_kinds[k];
    kind.resize(it->second.templates.size());
    for (std::size_t i = 0; i < kind.size(); ++i)
      if (const auto u = cut(it->second.templates[i], kind[i])) throw usage_error(unknown_message(*u, k, i));
  }
  stats::rng g(options.seed);
  std::uint64_t written = 0, line_no = 0;
  std::string line;
  auto emit = [&](const json& rec) {
    out << rec.dump() << '\n';
    ++written;
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const std::uint64_t brace = first + 1;
    auto fail = [&](const std::string& key, const std::string& reason, const std::string& message) {
      const std::size_t at = key.empty() ? std::string::npos : line.find("\"" + key + "\"");
      throw parse_error(name, line_no, at == std::string::npos ? brace : at + 1, reason, message);
    };
    json req;
    try {
      req = json::parse(line);
    } catch (const json::exception&) {
      const auto refused = detail::json_refusal_of<json>(line);
      throw parse_error(name, line_no, refused.offset + 1, "not_json", refused.message);
    }
    if (!req.is_object()) fail("", "not_object", "a request must be a JSON object");
    if (!req.contains("item")) fail("", "missing_field", "missing required field \"item\"");
    std::string item;
    if (req["item"].is_string())
      item = req["item"].get<std::string>();
    else if (req["item"].is_number_integer())
      item = req["item"].dump();
    else
      fail("item", "wrong_type", "\"item\" must be a string or an integer");
    if (!req.contains("question") || !req["question"].is_string())
      fail("question", req.contains("question") ? "wrong_type" : "missing_field",
           "\"question\" must be a string");
    response resp[2];
    for (int s = 0; s < 2; ++s) {
      const char* slot = s == 0 ? "a" : "b";
      if (!req.contains(slot) || !req[slot].is_object())
        fail(req.contains(slot) ? slot : "", req.contains(slot) ? "wrong_type" : "missing_field",
             fmt::format("\"{}\" must be an object with \"text\"", slot));
      const json& c = req[slot];
      if (!c.contains("text") || !c["text"].is_string())
        fail(slot, "missing_field", fmt::format("\"{}.text\" must be a string", slot));
      resp[s].text = c["text"].get<std::string>();
      if (c.contains("model") && c["model"].is_string()) resp[s].model = c["model"].get<std::string>();
      if (c.contains("id") && c["id"].is_string())
        resp[s].id = c["id"].get<std::string>();
      else
        resp[s].id = resp[s].model ? item + ":" + *resp[s].model : item + ":" + (s == 0 ? "1" : "2");
    }
    if (resp[0].id == resp[1].id)
      fail("b", "same_id",
           fmt::format("\"a\" and \"b\" have the same id \"{}\"; give explicit ids", resp[0].id));
    // Gold in the request's presentation: 0 = a, 1 = b, 2 = tie.
    int gold = -1;
    if (req.contains("gold") && !req["gold"].is_null()) {
      const std::string gs = req["gold"].is_string() ? req["gold"].get<std::string>() : "";
      if (gs == "A" || gs == "a")
        gold = 0;
      else if (gs == "B" || gs == "b")
        gold = 1;
      else if (gs == "tie")
        gold = 2;
      else
        fail("gold", "unknown_verdict", "\"gold\" must be \"A\", \"B\" or \"tie\"");
    }

    // One record showing resp[shown_first] then resp[shown_second], with an optional cue on resp[target].
    auto record = [&](int shown_first, int shown_second, int target, const std::string& kind,
                      const chosen_cue* cue) {
      json rec;
      rec["judge"] = options.judge;
      rec["item"] = item;
      if (req.contains("task") && req["task"].is_string()) rec["task"] = req["task"];
      rec["question"] = req["question"];
      const int shown[2] = {shown_first, shown_second};
      std::string rendered;
      if (cue) rendered = cue->text[target == shown_first ? 0 : 1];
      for (int s = 0; s < 2; ++s) {
        const response& r = resp[shown[s]];
        json c;
        c["id"] = r.id;
        if (r.model) c["model"] = *r.model;
        std::string text = r.text;
        if (cue && shown[s] == target && cue->placement == cue_placement::answer_append) {
          text += "\n\n";
          text += rendered;
        }
        if (cue && shown[s] == target && cue->placement == cue_placement::answer_prepend)
          text.insert(0, rendered);
        c["text"] = std::move(text);
        rec[s == 0 ? "a" : "b"] = std::move(c);
      }
      if (gold == 2)
        rec["gold"] = "tie";
      else if (gold >= 0)
        rec["gold"] = gold == shown_first ? "A" : "B";
      if (cue) {
        const char* where = cue->placement == cue_placement::prompt          ? "prompt"
                            : cue->placement == cue_placement::answer_append ? "append to the target answer"
                                                                             : "prepend to the target answer";
        rec["perturbation"] = {{"kind", kind},
                               {"target", resp[target].id},
                               {"detail", {{"cue", rendered}, {"placement", where}}}};
      }
      emit(rec);
    };
    record(0, 1, -1, "", nullptr);
    record(1, 0, -1, "", nullptr);
    for (const auto& kind : options.kinds) {
      // Aim at the answer the gold rejects; without a decisive gold, at each answer in turn.
      std::vector<int> targets = gold == 0   ? std::vector<int>{1}
                                 : gold == 1 ? std::vector<int>{0}
                                             : std::vector<int>{0, 1};
      for (int target : targets) {
        const chosen_cue cue = choose(options.templates.at(kind).placement, cut_kinds.at(kind), g);
        record(0, 1, target, kind, &cue);
        record(1, 0, target, kind, &cue);
      }
    }
  }
  return written;
}

}  // namespace judgebias
