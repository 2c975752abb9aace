#pragma once
// The judge's prompt and what is read back from its answer: the built-in templates (pairwise, letter,
// pointwise) and the user's own, the placeholders they are filled with, the verdict or score pattern,
// and the A/B probabilities of the first generated token.
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace judgebias::judge {

enum class template_mode : std::uint8_t { pairwise, pointwise };

/// One placeholder-free piece of a message, or a placeholder.
enum class placeholder : std::uint8_t {
  none,
  question,
  answer_a,
  answer_b,
  answer,
  cue,
  scale_min,
  scale_max
};

struct message_part {
  std::string literal;
  placeholder fill = placeholder::none;
};

struct judge_template {
  std::string name;  ///< "pairwise", "letter", "pointwise", or the file's path
  template_mode mode = template_mode::pairwise;
  std::string system, user;  ///< the messages as written (part of the cache key through the rendering)
  std::vector<message_part> system_parts, user_parts;
  std::string pattern;  ///< ECMAScript; group 1 (or the whole match) is the verdict or the score
  std::regex compiled;
  std::optional<std::uint32_t> max_tokens;  ///< the template's default for --max-tokens
};

/// Whether the template's messages use a placeholder.
bool uses(const judge_template& t, placeholder p);

/// A built-in template by name; usage_error for another name.
judge_template builtin_template(std::string_view name);

/// A template file: JSON {"mode": "pairwise"|"pointwise", "system": "...", "user": "...",
/// "pattern": "...", "max_tokens": N (optional)}. parse_error at the file's line and column for a bad
/// file, an unknown placeholder or a pattern that does not compile; io_error when it cannot be read.
judge_template load_template(const std::string& path);
/// The same from a template file's text, reported as `name`.
judge_template parse_template(const std::string& name, std::string_view text);

/// What the placeholders are filled with.
struct prompt_fields {
  std::string_view question, answer_a, answer_b, answer, cue;
  double scale_min = 1, scale_max = 10;
};

/// The messages of one request: [{"role": "system", ...}, {"role": "user", ...}] (no system message
/// when the template's is empty).
nlohmann::ordered_json render_messages(const judge_template& t, const prompt_fields& f);

/// The verdict in the last match of the template's pattern: "A", "B" or "tie"; nullopt when nothing
/// matches or the match names none of them (an extraction failure, never a tie).
std::optional<std::string> extract_verdict(const judge_template& t, std::string_view reply);
/// The score in the last match; nullopt when nothing matches or the match is not a number.
std::optional<double> extract_score(const judge_template& t, std::string_view reply);

/// p(A) / (p(A) + p(B)) from the first generated token's log-probabilities in a chat completion
/// (choices[0].logprobs.content[0]: the token and its top_logprobs). A token counts as "A" or "B" when
/// it is that letter once surrounding white space is removed (" A", "A\n"); the probabilities of all
/// such variants are added. nullopt when neither letter is among them.
std::optional<double> prob_a_from(const nlohmann::json& completion);

/// The letter a verdict word names: A, B, tie (C, tie, draw, A=B), or nullopt. Case-insensitive;
/// "1" and "2" name the first and second slot.
std::optional<std::string> verdict_word(std::string_view word);

}  // namespace judgebias::judge
