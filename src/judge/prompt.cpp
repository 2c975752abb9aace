// Templates: cut once into literals and placeholders, filled per request; the verdict is the last match
// of the template's pattern; soft verdicts come from the first token's top log-probabilities.
#include "judge/prompt.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/json_stop.hpp"
#include "common/text_file.hpp"
#include "judgebias/error.hpp"

namespace judgebias::judge {

namespace {

using ojson = nlohmann::ordered_json;

constexpr std::pair<std::string_view, placeholder> placeholder_names[] = {
    {"question", placeholder::question},
    {"answer_a", placeholder::answer_a},
    {"answer_b", placeholder::answer_b},
    {"answer", placeholder::answer},
    {"cue", placeholder::cue},
    {"scale_min", placeholder::scale_min},
    {"scale_max", placeholder::scale_max}};

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

// Cuts a message into parts. Returns the offset and name of an unknown placeholder, if any. "{{" is a
// literal "{"; a brace not followed by a name and "}" is text.
std::optional<std::pair<std::size_t, std::string>> cut(const std::string& s,
                                                       std::vector<message_part>& parts) {
  parts.clear();
  std::string literal;
  for (std::size_t k = 0; k < s.size();) {
    if (s[k] == '{' && k + 1 < s.size() && s[k + 1] == '{') {
      literal += '{';
      k += 2;
      continue;
    }
    if (s[k] == '{' && k + 1 < s.size() && name_start(s[k + 1])) {
      std::size_t e = k + 1;
      while (e < s.size() && name_char(s[e])) ++e;
      if (e < s.size() && s[e] == '}') {
        const std::string name = s.substr(k + 1, e - k - 1);
        placeholder p = placeholder::none;
        for (const auto& [n, v] : placeholder_names)
          if (n == name) p = v;
        if (p == placeholder::none) return std::make_pair(k, name);
        parts.push_back({std::move(literal), p});
        literal.clear();
        k = e + 1;
        continue;
      }
    }
    literal += s[k++];
  }
  if (!literal.empty()) parts.push_back({std::move(literal), placeholder::none});
  return std::nullopt;
}

std::string number_text(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::string fill(const std::vector<message_part>& parts, const prompt_fields& f) {
  std::string out;
  for (const auto& p : parts) {
    out += p.literal;
    switch (p.fill) {
      case placeholder::none:
        break;
      case placeholder::question:
        out += f.question;
        break;
      case placeholder::answer_a:
        out += f.answer_a;
        break;
      case placeholder::answer_b:
        out += f.answer_b;
        break;
      case placeholder::answer:
        out += f.answer;
        break;
      case placeholder::cue:
        if (!f.cue.empty()) {
          out += f.cue;
          out += "\n\n";
        }
        break;
      case placeholder::scale_min:
        out += number_text(f.scale_min);
        break;
      case placeholder::scale_max:
        out += number_text(f.scale_max);
        break;
    }
  }
  return out;
}

std::string known_list() {
  std::string s;
  for (const auto& [n, v] : placeholder_names) s += fmt::format("{}{{{}}}", s.empty() ? "" : ", ", n);
  return s;
}

judge_template make(std::string name, template_mode mode, std::string system, std::string user,
                    std::string pattern, std::optional<std::uint32_t> max_tokens) {
  judge_template t;
  t.name = std::move(name);
  t.mode = mode;
  t.system = std::move(system);
  t.user = std::move(user);
  t.pattern = std::move(pattern);
  t.compiled = std::regex(t.pattern, std::regex::ECMAScript);
  t.max_tokens = max_tokens;
  cut(t.system, t.system_parts);
  cut(t.user, t.user_parts);
  return t;
}

// The text of the last match's first group (or of the whole match when the pattern has no group).
std::optional<std::string> last_match(const judge_template& t, std::string_view reply) {
  std::optional<std::string> found;
  using it = std::regex_iterator<std::string_view::const_iterator>;
  for (it m(reply.begin(), reply.end(), t.compiled), end; m != end; ++m) {
    const auto& g = m->size() > 1 && (*m)[1].matched ? (*m)[1] : (*m)[0];
    found = g.str();
  }
  return found;
}

}  // namespace

bool uses(const judge_template& t, placeholder p) {
  for (const auto* parts : {&t.system_parts, &t.user_parts})
    for (const auto& part : *parts)
      if (part.fill == p) return true;
  return false;
}

judge_template builtin_template(std::string_view name) {
  if (name == "pairwise")
    return make(
        "pairwise", template_mode::pairwise,
        "You are judging two answers that AI assistants gave to the same question. Decide which answer "
        "serves the user better: which follows the question's instructions and is more helpful, relevant, "
        "accurate and complete. Judge the content only: the order in which the answers appear, their "
        "length and who wrote them must not sway you. Compare the two briefly, then end with your verdict "
        "on a line of its own: [[A]] when Output (a) is better, [[B]] when Output (b) is better, [[C]] "
        "when they are equally good.",
        "[Question]\n{question}\n\n[Output (a)]\n{answer_a}\n[End of Output (a)]\n\n[Output (b)]\n"
        "{answer_b}\n[End of Output (b)]\n\n{cue}Which output is better? End with [[A]], [[B]] or [[C]].",
        R"(\[\[([ABC])\]\])", std::nullopt);
  if (name == "letter")
    return make("letter", template_mode::pairwise,
                "You compare two answers to a question and say which one is better.",
                "Question: {question}\n\nOutput (a):\n{answer_a}\n\nOutput (b):\n{answer_b}\n\n{cue}Which "
                "output is better, (a) or (b)? Reply with the single letter A or B and nothing else.",
                R"(\b([AB])\b)", 1);
  if (name == "pointwise")
    return make("pointwise", template_mode::pointwise,
                "You rate how well an AI assistant answered a question: helpfulness, relevance, accuracy "
                "and completeness. Judge the content only; the answer's length and author must not sway you.",
                "[Question]\n{question}\n\n[Answer]\n{answer}\n[End of Answer]\n\n{cue}Rate the answer on a "
                "scale from {scale_min} to {scale_max}, {scale_max} being best. Explain briefly, then give "
                "the rating on a line of its own as Rating: [[N]].",
                R"(Rating:\s*\[\[\s*(-?[0-9]+(?:\.[0-9]+)?)\s*\]\])", std::nullopt);
  throw usage_error(fmt::format(
      "--template: unknown template \"{}\" (built in: pairwise, letter, pointwise; or a template file)",
      name));
}

judge_template parse_template(const std::string& name, std::string_view text) {
  ojson j;
  try {
    j = ojson::parse(text);
  } catch (const ojson::exception&) {
    const auto refused = detail::json_refusal_of<ojson>(text);
    const auto [line, col] = detail::line_column(text, refused.offset);
    throw parse_error(name, line, col, "not_json", refused.message);
  }
  // Where a key is, for messages: the line and column of its first occurrence in the text (or of
  // `inside`, when given, after it: a placeholder in the key's string).
  auto at = [&](const std::string& key, const std::string& reason, const std::string& message,
                const std::string& inside = {}) {
    std::size_t off = key.empty() ? std::string_view::npos : text.find("\"" + key + "\"");
    if (off != std::string_view::npos && !inside.empty()) {
      const std::size_t found = text.find(inside, off + key.size() + 2);
      if (found != std::string_view::npos) off = found;
    }
    const auto [line, col] = detail::line_column(text, off == std::string_view::npos ? text.find('{') : off);
    return parse_error(name, line, col, reason, message);
  };
  if (!j.is_object()) throw at("", "not_object", "a template file is a JSON object");
  for (const auto& [key, value] : j.items())
    if (key != "mode" && key != "system" && key != "user" && key != "pattern" && key != "max_tokens")
      throw at(
          key, "unknown_field",
          fmt::format("unknown field \"{}\" (a template has mode, system, user, pattern, max_tokens)", key));
  auto text_of = [&](const char* key, bool required) -> std::string {
    if (!j.contains(key)) {
      if (required) throw at("", "missing_field", fmt::format("missing required field \"{}\"", key));
      return {};
    }
    if (!j[key].is_string()) throw at(key, "wrong_type", fmt::format("\"{}\" must be a string", key));
    return j[key].get<std::string>();
  };
  const std::string mode = text_of("mode", true);
  if (mode != "pairwise" && mode != "pointwise")
    throw at("mode", "wrong_type",
             fmt::format("\"mode\" must be \"pairwise\" or \"pointwise\", got \"{}\"", mode));
  std::string system = text_of("system", false), user = text_of("user", true),
              pattern = text_of("pattern", true);
  std::optional<std::uint32_t> max_tokens;
  if (j.contains("max_tokens")) {
    if (!j["max_tokens"].is_number_unsigned() || j["max_tokens"].get<std::uint64_t>() == 0 ||
        j["max_tokens"].get<std::uint64_t>() > 1'000'000)
      throw at("max_tokens", "wrong_type", "\"max_tokens\" must be a whole number from 1 to 1000000");
    max_tokens = static_cast<std::uint32_t>(j["max_tokens"].get<std::uint64_t>());
  }
  std::vector<message_part> parts;
  std::set<placeholder> used;
  for (const char* key : {"system", "user"}) {
    if (const auto u = cut(key[0] == 's' ? system : user, parts))
      throw at(key, "unknown_placeholder",
               fmt::format("unknown placeholder {{{}}} in \"{}\" (known: {}; write {{{{ for a literal {{)",
                           u->second, key, known_list()),
               fmt::format("{{{}}}", u->second));
    for (const auto& part : parts) used.insert(part.fill);
  }
  // The answers must reach the judge: a template without them would be judged on nothing.
  const std::vector<std::pair<placeholder, const char*>> needed =
      mode == "pairwise"
          ? std::vector<std::pair<placeholder, const char*>>{{placeholder::answer_a, "answer_a"},
                                                             {placeholder::answer_b, "answer_b"}}
          : std::vector<std::pair<placeholder, const char*>>{{placeholder::answer, "answer"}};
  for (const auto& [p, n] : needed)
    if (!used.count(p))
      throw at("user", "missing_placeholder",
               fmt::format("a {} template must show {{{}}} in \"system\" or \"user\"", mode, n));
  try {
    return make(name, mode == "pairwise" ? template_mode::pairwise : template_mode::pointwise,
                std::move(system), std::move(user), std::move(pattern), max_tokens);
  } catch (const std::regex_error& e) {
    throw at("pattern", "bad_pattern",
             fmt::format("\"pattern\" is not a valid regular expression: {}", e.what()));
  }
}

judge_template load_template(const std::string& path) {
  return parse_template(path, detail::read_text_file(path, "the template file"));
}

nlohmann::ordered_json render_messages(const judge_template& t, const prompt_fields& f) {
  ojson messages = ojson::array();
  std::string system = fill(t.system_parts, f);
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", std::move(system)}});
  messages.push_back({{"role", "user"}, {"content", fill(t.user_parts, f)}});
  return messages;
}

std::optional<std::string> verdict_word(std::string_view w) {
  std::string u(detail::trimmed(w));
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u == "A" || u == "1" || u == "A>B" || u == "A>>B") return "A";
  if (u == "B" || u == "2" || u == "B>A" || u == "B>>A") return "B";
  if (u == "C" || u == "TIE" || u == "DRAW" || u == "A=B") return "tie";
  return std::nullopt;
}

std::optional<std::string> extract_verdict(const judge_template& t, std::string_view reply) {
  const auto m = last_match(t, reply);
  if (!m) return std::nullopt;
  return verdict_word(*m);
}

std::optional<double> extract_score(const judge_template& t, std::string_view reply) {
  auto m = last_match(t, reply);
  if (!m) return std::nullopt;
  const std::string_view s = detail::trimmed(*m);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<double> prob_a_from(const nlohmann::json& completion) {
  const nlohmann::json* first = nullptr;
  try {
    const auto& content = completion.at("choices").at(0).at("logprobs").at("content");
    if (!content.is_array() || content.empty()) return std::nullopt;
    first = &content.at(0);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  // Each distinct token once: the generated one and its alternatives.
  std::map<std::string, double> seen;
  auto add = [&](const nlohmann::json& e) {
    if (!e.is_object() || !e.contains("token") || !e["token"].is_string() || !e.contains("logprob") ||
        !e["logprob"].is_number())
      return;
    seen.emplace(e["token"].get<std::string>(), e["logprob"].get<double>());
  };
  add(*first);
  if (first->contains("top_logprobs") && (*first)["top_logprobs"].is_array())
    for (const auto& e : (*first)["top_logprobs"]) add(e);
  double pa = 0, pb = 0;
  bool any = false;
  for (const auto& [token, logprob] : seen) {
    const std::string_view w = detail::trimmed(token);
    if (w == "A") {
      pa += std::exp(logprob);
      any = true;
    } else if (w == "B") {
      pb += std::exp(logprob);
      any = true;
    }
  }
  if (!any || pa + pb <= 0) return std::nullopt;
  return pa / (pa + pb);
}

}  // namespace judgebias::judge
