// `judgebias perturb`: writes the control and cue variants of each comparison request, in both orders,
// as FORMAT v1 records waiting for their verdict. Cue templates follow the structure of the published
// ones (CALM's bandwagon and authority forms, padding, a distracting remark, the LRM study's
// superficial reflection), in our own words; docs/workflow.md cites them.
#include "judgebias/perturb.hpp"

#include <algorithm>

#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

// One chosen cue: a template and its fill-ins; the slot is filled per presentation order.
struct chosen_cue {
  std::string text;  // with every placeholder but {slot} / {slot_upper} filled
  cue_placement placement{};
};

chosen_cue choose(const cue_kind_templates& t, stats::rng& g) {
  chosen_cue c;
  c.placement = t.placement;
  c.text = t.templates[g.below(t.templates.size())];
  c.text = replace_all(c.text, "{pct}", std::to_string(percents[g.below(std::size(percents))]));
  c.text = replace_all(c.text, "{author}", pick(g, authors));
  c.text = replace_all(c.text, "{title}", pick(g, titles));
  c.text = replace_all(c.text, "{publisher}", pick(g, publishers));
  c.text = replace_all(c.text, "{year}", std::to_string(2012 + g.below(12)));
  c.text = replace_all(c.text, "{page}", std::to_string(12 + g.below(320)));
  c.text = replace_all(c.text, "{site}", pick(g, sites));
  c.text = replace_all(c.text, "{slug}", pick(g, slugs));
  c.text = replace_all(c.text, "{hobby}", pick(g, hobbies));
  return c;
}

std::string render(const chosen_cue& c, bool target_first) {
  return replace_all(replace_all(c.text, "{slot}", target_first ? "a" : "b"), "{slot_upper}",
                     target_first ? "A" : "B");
}

cue_placement placement_of(const std::string& s, const std::string& path) {
  if (s == "prompt") return cue_placement::prompt;
  if (s == "append") return cue_placement::answer_append;
  if (s == "prepend") return cue_placement::answer_prepend;
  throw parse_error(
      path, 1, 1, "wrong_type",
      fmt::format("\"placement\" must be \"prompt\", \"append\" or \"prepend\", got \"{}\"", s));
}

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

cue_templates load_cue_templates(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw io_error(fmt::format("{}: cannot open the template file", path));
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into line and column.
    const std::size_t at = std::min<std::size_t>(e.byte ? e.byte - 1 : 0, text.size());
    const std::size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
    const std::uint64_t line = 1 + static_cast<std::uint64_t>(std::count(
                                       text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    const std::uint64_t column = at - (line_start == std::string::npos ? 0 : line_start + 1) + 1;
    throw parse_error(path, line, column, "not_json", "not valid JSON");
  }
  if (!j.is_object())
    throw parse_error(path, 1, 1, "not_object", "a template file is a JSON object of kinds");
  cue_templates t = builtin_cue_templates();
  for (const auto& [kind, spec] : j.items()) {
    if (!spec.is_object() || !spec.contains("templates") || !spec["templates"].is_array() ||
        spec["templates"].empty())
      throw parse_error(path, 1, 1, "wrong_type",
                        fmt::format("\"{}\" must be an object with a non-empty \"templates\" array", kind));
    cue_kind_templates k;
    k.placement = placement_of(spec.value("placement", std::string("prompt")), path);
    for (const auto& s : spec["templates"]) {
      if (!s.is_string())
        throw parse_error(path, 1, 1, "wrong_type", fmt::format("\"{}\" templates must be strings", kind));
      k.templates.push_back(s.get<std::string>());
    }
    t[kind] = std::move(k);
  }
  return t;
}

std::uint64_t perturb_requests(std::istream& in, const std::string& name, const perturb_options& options,
                               std::ostream& out) {
  if (options.judge.empty()) throw usage_error("perturb needs --judge, the judge's name for the records");
  for (const auto& k : options.kinds)
    if (!options.templates.count(k))
      throw usage_error(fmt::format("no templates for the cue kind \"{}\"", k));
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
    } catch (const json::parse_error& e) {
      throw parse_error(name, line_no, std::max<std::size_t>(e.byte, 1), "not_json", "not valid JSON");
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
      if (cue) rendered = render(*cue, target == shown_first);
      for (int s = 0; s < 2; ++s) {
        const response& r = resp[shown[s]];
        json c;
        c["id"] = r.id;
        if (r.model) c["model"] = *r.model;
        std::string text = r.text;
        if (cue && shown[s] == target && cue->placement == cue_placement::answer_append)
          text += "\n\n" + rendered;
        if (cue && shown[s] == target && cue->placement == cue_placement::answer_prepend)
          text = rendered + text;
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
        const chosen_cue cue = choose(options.templates.at(kind), g);
        record(0, 1, target, kind, &cue);
        record(1, 0, target, kind, &cue);
      }
    }
  }
  return written;
}

}  // namespace judgebias
