// The runner: request lines in, one call per (line, order, run) through the cache and the client, and
// the records written in input order once every answer is in. An interrupted run leaves its answers in
// the cache, so the same command finishes the job calling only what is missing.
#include "judge/runner.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_stop.hpp"
#include "common/text_file.hpp"
#include "common/utf8.hpp"
#include "judge/cache.hpp"
#include "judge/http.hpp"
#include "judge/prompt.hpp"
#include "judge/sha256.hpp"
#include "judgebias/error.hpp"
#include "judgebias/output.hpp"
#include "judgebias/reader.hpp"

namespace judgebias::judge {

namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

// One non-blank line of an input file: its text (for the columns of messages) and its value.
struct input_line {
  std::uint64_t number;
  std::string text;
  ojson value;
};

std::vector<input_line> read_objects(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw io_error(fmt::format("{}: is a folder", path));
    file.open(path, std::ios::binary);
    if (!file) throw io_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    in = &file;
  }
  std::vector<input_line> lines;
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(*in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    ojson value;
    try {
      value = ojson::parse(line);
    } catch (const ojson::exception&) {
      const auto refused = detail::json_refusal_of<ojson>(line);
      throw parse_error(path, number, refused.offset + 1, "not_json", refused.message);
    }
    if (!value.is_object())
      throw parse_error(path, number, first + 1, "not_object", "a line must be a JSON object");
    lines.push_back({number, line, std::move(value)});
  }
  if (in->bad()) throw io_error(fmt::format("{}: read failed", path));
  return lines;
}

// Scanning a line's JSON text for where values are (for the columns of messages): positions of
// bytes, strings skipped with their escapes, nesting followed, so that a key is matched only as a key
// of the object in question, never inside a string or a nested value.
std::size_t skip_space(std::string_view t, std::size_t p) {
  while (p < t.size() && (t[p] == ' ' || t[p] == '\t' || t[p] == '\r' || t[p] == '\n')) ++p;
  return p;
}
std::size_t skip_value(std::string_view t, std::size_t p) {
  if (p >= t.size()) return p;
  if (t[p] == '"') return detail::string_end(t, p);
  if (t[p] == '{' || t[p] == '[') {
    int depth = 0;
    while (p < t.size()) {
      if (t[p] == '"') {
        p = detail::string_end(t, p);
        continue;
      }
      if (t[p] == '{' || t[p] == '[') ++depth;
      if (t[p] == '}' || t[p] == ']') {
        if (--depth == 0) return p + 1;
      }
      ++p;
    }
    return p;
  }
  while (p < t.size() && t[p] != ',' && t[p] != '}' && t[p] != ']') ++p;
  return p;
}
// The offset of the value of `key` in the object that opens at `object`, or npos.
std::size_t member_value(std::string_view t, std::size_t object, std::string_view key) {
  std::size_t p = skip_space(t, object + 1);
  while (p < t.size() && t[p] == '"') {
    const std::size_t end = detail::string_end(t, p);
    const std::string_view name = t.substr(p + 1, end - p - 2);
    p = skip_space(t, end);
    if (p >= t.size() || t[p] != ':') return std::string_view::npos;
    const std::size_t value = skip_space(t, p + 1);
    if (name == key) return value;
    p = skip_space(t, skip_value(t, value));
    if (p >= t.size() || t[p] != ',') return std::string_view::npos;
    p = skip_space(t, p + 1);
  }
  return std::string_view::npos;
}

// The 1-based column of a field's value in a line: `path` is the field's keys from the top ("a.text");
// where a key is missing, the column of the object that should hold it (for a missing top-level field,
// the line's opening brace), as FORMAT.md places errors.
std::uint64_t column_of(std::string_view text, std::string_view path) {
  std::size_t at = text.find('{');
  if (at == std::string_view::npos) return 1;
  while (!path.empty() && text[at] == '{') {
    const std::size_t dot = path.find('.');
    const std::size_t v = member_value(text, at, path.substr(0, dot));
    if (v == std::string_view::npos) break;
    at = v;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return at + 1;
}

struct line_error {
  const std::string& path;
  const input_line& line;
  [[noreturn]] void operator()(std::string_view field, const std::string& reason,
                               const std::string& message) const {
    throw parse_error(path, line.number, column_of(line.text, field), reason, message);
  }
};

// The record a request line becomes, checked by the FORMAT v1 reader before any call is made, so that
// a request whose records `run` would refuse (the same id on both sides, a negative run, a bad
// perturbation) costs nothing: the line with a placeholder judge (when it has none) and a null verdict
// or score put after its opening brace; errors are moved back to the line's own columns.
void check_as_record(const std::string& path, const input_line& l, bool pairwise, reader& format) {
  const std::size_t brace = l.text.find('{');
  std::string inserted;
  if (!l.value.contains("judge")) inserted += "\"judge\":\"judge\",";
  const char* judged = pairwise ? "verdict" : "score";
  if (!l.value.contains(judged)) inserted += fmt::format("\"{}\":null,", judged);
  std::string text = l.text;
  text.insert(brace + 1, inserted);
  try {
    format.read_buffer(
        path, text, [](const record&) {}, l.number - 1);
  } catch (const parse_error& e) {
    std::uint64_t col = e.column();
    if (col > brace + 1 + inserted.size())
      col -= inserted.size();
    else if (col > brace + 1)
      col = brace + 1;
    throw parse_error(path, l.number, col, e.reason(), e.message());
  }
}

std::string default_cache(const server_options& s, const std::string& output) {
  if (s.cache_dir) return *s.cache_dir;
  if (output == "-") return ".judgebias-cache";
  const fs::path parent = fs::path(output).parent_path();
  return (parent.empty() ? fs::path(".judgebias-cache") : parent / ".judgebias-cache").string();
}

std::string secret_of(const server_options& s) {
  const char* v = std::getenv(s.api_key_env.c_str());
  return v ? std::string(v) : std::string();
}

std::string url_of(const server_options& s) {
  std::string u = s.endpoint;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
    throw usage_error(fmt::format("--endpoint must start with http:// or https://, got \"{}\"", s.endpoint));
  return u + "/chat/completions";
}

// The request body of one call. The same options give the same text, so the cache key is stable.
std::string body_text(const server_options& s, ojson messages, std::uint64_t run, bool logprobs, unsigned top,
                      std::optional<std::uint32_t> max_tokens) {
  ojson b;
  b["model"] = s.model;
  b["messages"] = std::move(messages);
  if (s.temperature) b["temperature"] = *s.temperature;
  if (s.seed) b["seed"] = *s.seed + run;
  if (max_tokens) b["max_tokens"] = *max_tokens;
  if (logprobs) {
    b["logprobs"] = true;
    b["top_logprobs"] = top;
  }
  return b.dump();
}

// The text with each byte that does not begin or continue a valid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string text) {
  std::size_t bad = detail::first_invalid_utf8(text);
  if (bad == text.size()) return text;
  std::string out;
  out.reserve(text.size() + 16);
  std::size_t from = 0;
  while (bad < text.size()) {
    out.append(text, from, bad - from);
    out += "\xEF\xBF\xBD";
    from = bad + 1;
    const std::size_t next = detail::first_invalid_utf8(std::string_view(text).substr(from));
    bad = from + next;
  }
  out.append(text, from, std::string::npos);
  return out;
}

// What makes a 200 answer usable: JSON, with a first choice that has a message.
std::string usable(const nlohmann::json& j) {
  if (!j.is_object()) return "the answer is not a JSON object";
  if (!j.contains("choices") || !j["choices"].is_array()) return "the answer has no \"choices\"";
  if (j["choices"].empty()) return "the answer's \"choices\" is empty";
  const auto& c = j["choices"][0];
  if (!c.is_object() || !c.contains("message") || !c["message"].is_object())
    return "the answer's first choice has no \"message\"";
  const auto& m = c["message"];
  if (m.contains("content") && !m["content"].is_string() && !m["content"].is_null())
    return "the answer's message content is not text";
  return {};
}

std::string content_of(const nlohmann::json& j) {
  const auto& m = j["choices"][0]["message"];
  return m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : std::string();
}

// One call to make: which line, run and order, and its cache key.
struct call {
  std::size_t line;
  std::uint64_t run;
  bool swapped;
  std::string key;
};

// Sends every call that the cache does not answer and returns all answers, in call order. The live
// line and the summary's counts are kept in `sum`.
std::vector<std::string> answer_all(const char* command, const server_options& s, const std::string& url,
                                    const std::string& input, const std::vector<input_line>& lines,
                                    const std::vector<call>& calls,
                                    const std::function<std::string(std::size_t)>& body_of,
                                    const std::function<bool(std::size_t, const nlohmann::json&)>& unreadable,
                                    run_summary& sum) {
  const auto began = std::chrono::steady_clock::now();
  const response_cache cache(sum.cache_dir);
  cache.remove_stale_temporaries();
  std::vector<std::string> answers(calls.size());
  // One call per distinct key: two calls with one key (duplicate lines) share its answer, so that the
  // output depends only on what the cache holds and a resumed run writes what an uninterrupted one does.
  std::vector<std::size_t> missing, copies;  // copies: calls answered by an earlier call with their key
  std::map<std::string, std::size_t> first_with_key;
  std::uint64_t answered = 0, failures = 0;  // failures: answers whose verdict cannot be read, so far
  for (std::size_t k = 0; k < calls.size(); ++k) {
    if (!first_with_key.try_emplace(calls[k].key, k).second) {
      copies.push_back(k);
      ++sum.duplicates;
      continue;
    }
    if (auto hit = cache.get(calls[k].key)) {
      const auto j = nlohmann::json::parse(*hit, nullptr, false);
      if (usable(j).empty()) {
        failures += unreadable(k, j);
        answers[k] = std::move(*hit);
        ++sum.cache_hits;
        continue;
      }
    }
    missing.push_back(k);
  }
  const std::string secret = secret_of(s);
  std::uint64_t copied = 0;
  auto fill_copies = [&] {
    for (std::size_t k : copies) {
      answers[k] = answers[first_with_key.at(calls[k].key)];
      failures += unreadable(k, nlohmann::json::parse(answers[k]));
      ++copied;
    }
  };
  if (missing.empty()) {  // everything cached: no libcurl needed
    fill_copies();
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    return answers;
  }
  client_options co;
  co.url = url;
  co.api_key = secret;
  co.concurrency = s.concurrency;
  co.timeout_s = s.timeout_s;
  co.max_retries = s.max_retries;
  co.backoff_s = s.backoff_s;
  chat_client client(co);
  auto last_print = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto print = [&](const call_stats& st, bool final_line) {
    if (!s.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (!final_line && now - last_print < std::chrono::milliseconds(200)) return;
    last_print = now;
    const double secs = std::chrono::duration<double>(now - began).count();
    const double rate = secs > 0 ? static_cast<double>(answered) / secs : 0;
    const std::uint64_t done = sum.cache_hits + answered + copied, total = calls.size();
    const std::string eta =
        rate > 0 ? fmt::format("{:.0f} s", static_cast<double>(missing.size() - answered) / rate)
                 : std::string("-");
    std::fprintf(
        stderr, "\r%s: %llu/%llu done, %.1f requests/s, ETA %s, %llu retries, %llu extraction failures\033[K",
        command, static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate,
        eta.c_str(), static_cast<unsigned long long>(st.retries), static_cast<unsigned long long>(failures));
    if (final_line) std::fputc('\n', stderr);
  };
  auto accept = [&](std::size_t k, std::string&& reply) -> std::string {
    // Invalid UTF-8 (a server that cuts a character at max_tokens) would make the whole answer
    // unreadable: each bad byte becomes U+FFFD first.
    reply = valid_utf8(std::move(reply));
    const auto j = nlohmann::json::parse(reply, nullptr, false);
    if (j.is_discarded()) return "the answer is not valid JSON";
    if (std::string why = usable(j); !why.empty()) return why;
    if (j.contains("usage") && j["usage"].is_object()) {
      const auto& u = j["usage"];
      if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_unsigned())
        sum.prompt_tokens += u["prompt_tokens"].get<std::uint64_t>();
      if (u.contains("completion_tokens") && u["completion_tokens"].is_number_unsigned())
        sum.completion_tokens += u["completion_tokens"].get<std::uint64_t>();
    }
    failures += unreadable(k, j);
    cache.put(calls[k].key, reply);
    answers[k] = std::move(reply);
    ++answered;
    return {};
  };
  try {
    client.run(missing, body_of, accept, [&](const call_stats& st) { print(st, false); });
  } catch (const call_failure& f) {
    if (s.progress) std::fputc('\n', stderr);
    const std::uint64_t line = lines[calls[f.job()].line].number;
    std::string hint;
    if (f.status() == 401 || f.status() == 403)
      hint =
          fmt::format("; check --api-key-env ({} is {})", s.api_key_env, secret.empty() ? "not set" : "set");
    else if (f.status() == 404)
      hint = fmt::format("; check --endpoint ({}) and --model ({})", s.endpoint, s.model);
    // A status's own message, or a retry's account that already names the status ("HTTP 429: ...").
    const bool told = f.detail().rfind("no usable answer", 0) == 0 || f.detail().rfind("HTTP ", 0) == 0;
    const std::string what = f.status() > 0 && f.status() != 200 && !told
                                 ? fmt::format("the server answered HTTP {}: {}", f.status(), f.detail())
                             : f.detail().rfind("HTTP ", 0) == 0 ? "the server answered " + f.detail()
                                                                 : f.detail();
    throw data_error(
        fmt::format("{}:{}: {}{}; the answers received so far are in the cache ({}), so the same "
                    "command goes on from here",
                    input, line, what, hint, sum.cache_dir.empty() ? "none: --no-cache" : sum.cache_dir));
  }
  fill_copies();
  sum.calls = client.stats().calls;
  sum.retries = client.stats().retries;
  print(client.stats(), true);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return answers;
}

// ----- judge -----

const char* const judged_fields[] = {"judge", "judge_model", "verdict", "score", "prob_a"};

// A candidate's id as the records will carry it: its own, else "<item>:<model>" (FORMAT's default),
// else "<item>:" and the first 12 hex digits of its text's SHA-256, so that an answer keeps its
// identity in both orders (FORMAT's last default, the slot name, would not).
std::string candidate_id(const ojson& c, const std::string& item) {
  if (c.contains("id") && c["id"].is_string()) return c["id"].get<std::string>();
  if (c.contains("model") && c["model"].is_string()) return item + ":" + c["model"].get<std::string>();
  // (a null id or model is an absent one, as FORMAT.md has it)
  return item + ":" + sha256_hex(c["text"].get<std::string>()).substr(0, 12);
}

struct request {
  bool pairwise = true;
  std::string item;
  std::string cue;          // a prompt cue's text
  bool prompt_cue = false;  // the cue names a slot in its text
  double scale_min = 1, scale_max = 10;
  bool needs_swap = false;  // --orders both and the other order is not in the input
};

request check_request(const std::string& path, const input_line& l, const judge_options& o, reader& format) {
  const ojson& r = l.value;
  const line_error fail{path, l};
  request q;
  if (!r.contains("item")) fail("", "missing_field", "missing required field \"item\"");
  if (r["item"].is_string())
    q.item = r["item"].get<std::string>();
  else if (r["item"].is_number_integer())
    q.item = r["item"].dump();
  else
    fail("item", "wrong_type", "\"item\" must be a string or an integer");
  if (!r.contains("question") || !r["question"].is_string())
    fail("question", r.contains("question") ? "wrong_type" : "missing_field",
         "\"question\" must be a string (the judge is shown it)");
  const bool pair = r.contains("a") || r.contains("b");
  const bool point = r.contains("response");
  if (pair == point) fail("", "mode", "a request has \"a\" and \"b\" (pairwise) or \"response\" (pointwise)");
  q.pairwise = pair;
  for (const char* judged : {"verdict", "score"})
    if (r.contains(judged) && !r[judged].is_null())
      fail(judged, "already_judged",
           fmt::format("the line already has a \"{}\"; judge requests (no verdict or score)", judged));
  for (const char* slot : pair ? std::vector<const char*>{"a", "b"} : std::vector<const char*>{"response"}) {
    if (!r.contains(slot) || !r[slot].is_object())
      fail(r.contains(slot) ? slot : "", r.contains(slot) ? "wrong_type" : "missing_field",
           fmt::format("\"{}\" must be an object with \"text\"", slot));
    if (!r[slot].contains("text") || !r[slot]["text"].is_string())
      fail(fmt::format("{}.text", slot), r[slot].contains("text") ? "wrong_type" : "missing_field",
           fmt::format("\"{}.text\" must be a string (the judge is shown it)", slot));
  }
  if (r.contains("run") && !r["run"].is_null() && o.runs > 1)
    fail("run", "run_and_runs",
         "the line has its own \"run\"; --runs numbers the runs itself (drop one of them)");
  // Everything FORMAT v1 asks of the record this line becomes (ids, run, perturbation, scale, ...).
  check_as_record(path, l, pair, format);
  if (r.contains("perturbation") && r["perturbation"].is_object()) {
    const auto& p = r["perturbation"];
    if (p.contains("detail") && p["detail"].is_object()) {
      const auto& d = p["detail"];
      if (d.contains("placement") && d["placement"] == "prompt" && d.contains("cue") &&
          d["cue"].is_string()) {
        q.cue = d["cue"].get<std::string>();
        q.prompt_cue = true;
      }
    }
  }
  if (pair) {
    // A cue variant changes an answer's text, so the text's hash cannot name the answer in both the
    // variant and its control: such answers need an id or a model (perturb writes ids).
    if (r.contains("perturbation") && !r["perturbation"].is_null())
      for (const char* slot : {"a", "b"})
        if (!(r[slot].contains("id") && r[slot]["id"].is_string()) &&
            !(r[slot].contains("model") && r[slot]["model"].is_string()))
          fail(slot, "no_id",
               fmt::format("a cue variant's \"{}\" needs an \"id\" or a \"model\", so that run can "
                           "match it with its control",
                           slot));
    const std::string ids[2] = {candidate_id(r["a"], q.item), candidate_id(r["b"], q.item)};
    if (ids[0] == ids[1])
      fail("b", "same_id",
           fmt::format(
               "\"a\" and \"b\" would have the same id \"{}\" (the same text and no id or model); give "
               "explicit ids",
               ids[0]));
  } else {
    if (r.contains("scale") && !r["scale"].is_null()) {
      q.scale_min = r["scale"][0].get<double>();  // checked by the reader: [min, max] with min < max
      q.scale_max = r["scale"][1].get<double>();
    } else {
      q.scale_min = o.scale_min;
      q.scale_max = o.scale_max;
    }
  }
  return q;
}

// The comparison a pairwise line shows, whatever its order: item, the two ids, the cue, the run.
std::string comparison_of(const ojson& r, const std::string& item, std::string* first_id) {
  std::string ids[2] = {candidate_id(r["a"], item), candidate_id(r["b"], item)};
  *first_id = ids[0];
  std::string kind, target;
  if (r.contains("perturbation") && r["perturbation"].is_object()) {
    const auto& p = r["perturbation"];
    kind = p.contains("kind") ? p["kind"].dump() : "";
    if (p.contains("target") && p["target"].is_string()) {
      target = p["target"].get<std::string>();
      if (target == "A" || target == "a") target = ids[0];
      if (target == "B" || target == "b") target = ids[1];
    }
  }
  if (ids[1] < ids[0]) std::swap(ids[0], ids[1]);
  const std::string run = r.contains("run") ? r["run"].dump() : "0";
  return ojson::array({item, ids[0], ids[1], kind, target, run}).dump();
}

std::string swap_letter(const std::string& v) {
  if (v == "A") return "B";
  if (v == "B") return "A";
  if (v == "a") return "b";
  if (v == "b") return "a";
  return v;
}

// A pairwise line with ids on the answers that have neither id nor model (their text's hash, as
// candidate_id gives), so that `run` matches the two orders; other lines as they are.
ojson named(const ojson& r, const std::string& item) {
  if (!r.contains("a")) return r;
  ojson s = r;
  for (const char* slot : {"a", "b"}) {
    const ojson& c = r[slot];
    const bool has_id = c.contains("id") && c["id"].is_string();
    const bool has_model = c.contains("model") && c["model"].is_string();
    if (has_id || has_model) continue;
    s[slot]["id"] = candidate_id(c, item);
    // A target that named this answer by its default id (the slot name) names its new one.
    if (s.contains("perturbation") && s["perturbation"].is_object() && s["perturbation"].contains("target") &&
        s["perturbation"]["target"] == slot)
      s["perturbation"]["target"] = s[slot]["id"];
  }
  return s;
}

// The request as the judge sees it in the other order: a and b exchanged, the slot letters of gold
// and perturbation.target exchanged.
ojson swapped(const ojson& r, const std::string& item) {
  ojson s = named(r, item);
  std::swap(s["a"], s["b"]);
  if (s.contains("gold") && s["gold"].is_string()) s["gold"] = swap_letter(s["gold"].get<std::string>());
  if (s.contains("perturbation") && s["perturbation"].is_object() && s["perturbation"].contains("target") &&
      s["perturbation"]["target"].is_string())
    s["perturbation"]["target"] = swap_letter(s["perturbation"]["target"].get<std::string>());
  return s;
}

}  // namespace

run_summary judge_file(const std::string& input, const std::string& output, const judge_options& o) {
  const server_options& s = o.server;
  if (s.model.empty()) throw usage_error("judge needs --model, the model's name at the server");
  if (o.runs == 0) throw usage_error("--runs must be at least 1");
  const std::string url = url_of(s);
  std::optional<judge_template> chosen;
  if (!o.template_name.empty()) {
    const std::string& n = o.template_name;
    chosen = n == "pairwise" || n == "letter" || n == "pointwise" ? builtin_template(n) : load_template(n);
  }
  const judge_template pair_template = chosen && chosen->mode == template_mode::pairwise
                                           ? *chosen
                                           : builtin_template(o.logprobs ? "letter" : "pairwise");
  const judge_template point_template =
      chosen && chosen->mode == template_mode::pointwise ? *chosen : builtin_template("pointwise");

  auto lines = read_objects(input);
  if (lines.empty()) throw data_error(fmt::format("{}: no requests", input));
  std::vector<request> requests;
  requests.reserve(lines.size());
  reader format;
  for (const auto& l : lines) {
    request q = check_request(input, l, o, format);
    if (chosen && (chosen->mode == template_mode::pairwise) != q.pairwise)
      throw parse_error(
          input, l.number, column_of(l.text, q.pairwise ? "a" : "response"), "template_mode",
          fmt::format("a {} request, but the template \"{}\" is {}", q.pairwise ? "pairwise" : "pointwise",
                      chosen->name, q.pairwise ? "pointwise" : "pairwise"));
    // A cue the judge is to read must reach the prompt: a template without {cue} would send the
    // variant as if it were the control, and the cue's measured effect would be nothing.
    if (q.prompt_cue && !uses(q.pairwise ? pair_template : point_template, placeholder::cue))
      throw parse_error(
          input, l.number, column_of(l.text, "perturbation.detail.cue"), "template_without_cue",
          fmt::format("the request has a prompt cue, but the template \"{}\" has no {{cue}} to put it in",
                      (q.pairwise ? pair_template : point_template).name));
    requests.push_back(std::move(q));
  }
  // --orders both: a comparison that comes in one order only gets the other, after its first line.
  if (o.both_orders) {
    std::map<std::string, std::pair<std::size_t, std::set<std::string>>> orders;  // first line, first ids
    for (std::size_t k = 0; k < lines.size(); ++k) {
      if (!requests[k].pairwise) continue;
      std::string first;
      const std::string c = comparison_of(lines[k].value, requests[k].item, &first);
      auto [it, fresh] = orders.try_emplace(c, k, std::set<std::string>{});
      it->second.second.insert(first);
    }
    for (const auto& [c, seen] : orders) {
      if (seen.second.size() != 1) continue;
      request& q = requests[seen.first];
      if (q.prompt_cue)
        throw parse_error(
            input, lines[seen.first].number, column_of(lines[seen.first].text, "perturbation.detail.cue"),
            "one_order_cue",
            "the request's prompt cue comes in one order only and its text names a slot, so the other "
            "order cannot be written; give both orders (perturb writes them) or use --orders as-given");
      q.needs_swap = true;
    }
  }

  run_summary sum;
  sum.requests = lines.size();
  sum.cache_dir = s.use_cache ? default_cache(s, output) : std::string();
  // Calls in output order: each line, its runs, and in each run the line's order then the other.
  std::vector<call> calls;
  auto shown = [&](const call& c) {
    return c.swapped ? swapped(lines[c.line].value, requests[c.line].item) : lines[c.line].value;
  };
  auto body_of = [&](const call& c) {
    const ojson r = shown(c);
    const request& q = requests[c.line];
    prompt_fields f;
    const std::string question = r["question"].get<std::string>();
    std::string ta, tb, tr;
    f.question = question;
    f.cue = q.cue;
    if (q.pairwise) {
      ta = r["a"]["text"].get<std::string>();
      tb = r["b"]["text"].get<std::string>();
      f.answer_a = ta;
      f.answer_b = tb;
    } else {
      tr = r["response"]["text"].get<std::string>();
      f.answer = tr;
      f.scale_min = q.scale_min;
      f.scale_max = q.scale_max;
    }
    const judge_template& t = q.pairwise ? pair_template : point_template;
    const auto max_tokens = s.max_tokens ? s.max_tokens : t.max_tokens;
    return body_text(s, render_messages(t, f), c.run, o.logprobs && q.pairwise, o.top_logprobs, max_tokens);
  };
  for (std::size_t k = 0; k < lines.size(); ++k)
    for (unsigned run = 0; run < o.runs; ++run)
      for (bool swap : {false, true}) {
        if (swap && !requests[k].needs_swap) continue;
        // A line's own run (with one --runs) is its run index too: its repeats are separate calls.
        const auto& v = lines[k].value;
        const std::uint64_t index = o.runs == 1 && v.contains("run") && v["run"].is_number_unsigned()
                                        ? v["run"].get<std::uint64_t>()
                                        : run;
        call c{k, index, swap, {}};
        c.key = cache_key(url, body_of(c), index);
        calls.push_back(std::move(c));
      }
  const std::string judge = o.judge.empty() ? s.model : o.judge;
  const std::string judge_model = o.judge_model.empty() ? s.model : o.judge_model;
  // The record of a call up to its verdict: judge and judge_model first, then the request's fields.
  auto record_of = [&](const call& c, const ojson& r) {
    ojson rec;
    rec["judge"] = judge;
    rec["judge_model"] = judge_model;
    for (const auto& [key, value] : r.items()) {
      bool ours = key == "run" && o.runs > 1;
      for (const char* f : judged_fields) ours = ours || key == f;
      if (!ours && key != "meta") rec[key] = value;
    }
    if (o.runs > 1) rec["run"] = c.run;
    return rec;
  };
  // Every record as it will be written (with a null verdict or score) through the FORMAT v1 reader,
  // before any call: what judge writes, run reads.
  for (const call& c : calls) {
    const request& q = requests[c.line];
    ojson rec =
        record_of(c, c.swapped ? swapped(lines[c.line].value, q.item) : named(lines[c.line].value, q.item));
    rec[q.pairwise ? "verdict" : "score"] = nullptr;
    try {
      format.read_buffer(
          input, rec.dump(-1, ' ', false, ojson::error_handler_t::replace), [](const record&) {},
          lines[c.line].number - 1);
    } catch (const parse_error& e) {
      throw data_error(
          fmt::format("{}:{}: the record judge would write for this line{} is not valid FORMAT v1: {}", input,
                      lines[c.line].number, c.swapped ? " (in the other order)" : "", e.message()));
    }
  }
  auto unreadable = [&](std::size_t k, const nlohmann::json& completion) {
    const std::string text = content_of(completion);
    return requests[calls[k].line].pairwise ? !extract_verdict(pair_template, text)
                                            : !extract_score(point_template, text);
  };
  const auto answers = answer_all(
      "judge", s, url, input, lines, calls, [&](std::size_t k) { return body_of(calls[k]); }, unreadable,
      sum);

  write_file_atomic(output == "-" ? "/dev/stdout" : output, [&](const text_sink& sink) {
    for (std::size_t k = 0; k < calls.size(); ++k) {
      const call& c = calls[k];
      const request& q = requests[c.line];
      const ojson r = c.swapped ? swapped(lines[c.line].value, q.item) : named(lines[c.line].value, q.item);
      const auto completion = nlohmann::json::parse(answers[k]);
      const std::string text = content_of(completion);
      ojson rec = record_of(c, r);
      if (q.pairwise) {
        const auto v = extract_verdict(pair_template, text);
        rec["verdict"] = v ? ojson(*v) : ojson(nullptr);
        if (!v) ++sum.extraction_failures;
        if (o.logprobs) {
          const auto p = prob_a_from(completion);
          rec["prob_a"] = p ? ojson(*p) : ojson(nullptr);
        }
      } else {
        const auto v = extract_score(point_template, text);
        if (v && std::floor(*v) == *v && std::fabs(*v) < 1e15)
          rec["score"] = static_cast<long long>(*v);
        else
          rec["score"] = v ? ojson(*v) : ojson(nullptr);
        if (!v) ++sum.extraction_failures;
        if (!r.contains("scale") || r["scale"].is_null()) rec["scale"] = {q.scale_min, q.scale_max};
      }
      if (r.contains("meta") || o.keep_raw) {
        ojson meta = r.contains("meta") ? r["meta"] : ojson::object();
        if (o.keep_raw) {
          if (!meta.is_object()) meta = ojson{{"value", meta}};
          meta["judge_raw"] = text;
        }
        rec["meta"] = std::move(meta);
      }
      sink(rec.dump(-1, ' ', false, ojson::error_handler_t::replace));
      sink("\n");
      ++sum.records;
    }
  });
  return sum;
}

// ----- respond and pairs -----

namespace {

std::uint64_t code_points(std::string_view s) {
  std::uint64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

run_summary respond_file(const std::string& input, const std::string& output, const respond_options& o) {
  const server_options& s = o.server;
  if (s.model.empty()) throw usage_error("respond needs --model, the model's name at the server");
  const std::string url = url_of(s);
  auto lines = read_objects(input);
  if (lines.empty()) throw data_error(fmt::format("{}: no prompts", input));
  for (const auto& l : lines) {
    const line_error fail{input, l};
    if (!l.value.contains("item") || !(l.value["item"].is_string() || l.value["item"].is_number_integer()))
      fail("item", l.value.contains("item") ? "wrong_type" : "missing_field",
           "\"item\" must be a string or an integer");
    if (!l.value.contains("question") || !l.value["question"].is_string())
      fail("question", l.value.contains("question") ? "wrong_type" : "missing_field",
           "\"question\" must be a string");
  }
  run_summary sum;
  sum.requests = lines.size();
  sum.cache_dir = s.use_cache ? default_cache(s, output) : std::string();
  std::vector<call> calls;
  auto body_of = [&](const call& c) {
    ojson messages = ojson::array();
    if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
    messages.push_back({{"role", "user"}, {"content", lines[c.line].value["question"]}});
    return body_text(s, std::move(messages), 0, false, 0, s.max_tokens);
  };
  for (std::size_t k = 0; k < lines.size(); ++k) {
    call c{k, 0, false, {}};
    c.key = cache_key(url, body_of(c), 0);
    calls.push_back(std::move(c));
  }
  const auto answers = answer_all(
      "respond", s, url, input, lines, calls, [&](std::size_t k) { return body_of(calls[k]); },
      [](std::size_t, const nlohmann::json& completion) { return content_of(completion).empty(); }, sum);
  write_file_atomic(output == "-" ? "/dev/stdout" : output, [&](const text_sink& sink) {
    for (std::size_t k = 0; k < calls.size(); ++k) {
      ojson rec = lines[k].value;
      const std::string text = content_of(nlohmann::json::parse(answers[k]));
      if (text.empty()) ++sum.extraction_failures;
      rec["model"] = s.model;
      rec["text"] = text;
      rec["length"] = code_points(text);
      sink(rec.dump(-1, ' ', false, ojson::error_handler_t::replace));
      sink("\n");
      ++sum.records;
    }
  });
  return sum;
}

std::pair<std::uint64_t, std::uint64_t> pairs_files(const std::vector<std::string>& inputs,
                                                    const std::string& output) {
  struct answer {
    std::string model;
    ojson text;
  };
  // clang-tidy 14 reports an exception escaping the implicit members of a struct of JSON values,
  // which throw nothing (the same false report as json_tree's node).
  struct item_answers {  // NOLINT(bugprone-exception-escape)
    ojson item, question, task;
    std::vector<answer> answers;
  };
  std::vector<std::string> order;  // items in order of first appearance
  std::map<std::string, item_answers> items;
  std::uint64_t read = 0;
  for (const auto& path : inputs) {
    for (auto& l : read_objects(path)) {
      const line_error fail{path, l};
      ojson& r = l.value;
      if (!r.contains("item") || !(r["item"].is_string() || r["item"].is_number_integer()))
        fail("item", r.contains("item") ? "wrong_type" : "missing_field",
             "\"item\" must be a string or an integer");
      for (const char* f : {"question", "model", "text"})
        if (!r.contains(f) || !r[f].is_string())
          fail(f, r.contains(f) ? "wrong_type" : "missing_field", fmt::format("\"{}\" must be a string", f));
      const std::string item = r["item"].is_string() ? r["item"].get<std::string>() : r["item"].dump();
      auto [it, fresh] = items.try_emplace(item);
      if (fresh) {
        order.push_back(item);
        it->second.item = r["item"];
        it->second.question = r["question"];
        if (r.contains("task")) it->second.task = r["task"];
      } else if (it->second.question != r["question"]) {
        fail("question", "question_differs",
             fmt::format("item \"{}\" was asked another question on an earlier line", item));
      }
      const std::string model = r["model"].get<std::string>();
      for (const auto& a : it->second.answers)
        if (a.model == model)
          fail("model", "duplicate_answer",
               fmt::format("a second answer of \"{}\" to item \"{}\"", model, item));
      it->second.answers.push_back({model, r["text"]});
      ++read;
    }
  }
  if (read == 0) throw data_error("pairs: no answers in the input");
  std::uint64_t written = 0;
  write_file_atomic(output == "-" ? "/dev/stdout" : output, [&](const text_sink& sink) {
    for (const auto& item : order) {
      const auto& ia = items.at(item);
      for (std::size_t x = 0; x < ia.answers.size(); ++x)
        for (std::size_t y = x + 1; y < ia.answers.size(); ++y) {
          ojson rec;
          rec["item"] = ia.item;
          if (!ia.task.is_null()) rec["task"] = ia.task;
          rec["question"] = ia.question;
          for (int s = 0; s < 2; ++s) {
            const answer& a = ia.answers[s == 0 ? x : y];
            rec[s == 0 ? "a" : "b"] = {{"id", item + ":" + a.model}, {"model", a.model}, {"text", a.text}};
          }
          sink(rec.dump(-1, ' ', false, ojson::error_handler_t::replace));
          sink("\n");
          ++written;
        }
    }
  });
  return {read, written};
}

std::string summary_text(const char* command, const run_summary& s) {
  std::string t = fmt::format("{}: {} requests, {} records written in {:.1f} s\n", command, s.requests,
                              s.records, s.seconds);
  t += fmt::format(
      "  calls made {}, cache hits {}, duplicates sent once {}, retries {}, extraction failures {}\n",
      s.calls, s.cache_hits, s.duplicates, s.retries, s.extraction_failures);
  t += fmt::format("  tokens (this run's answers): prompt {}, completion {}\n", s.prompt_tokens,
                   s.completion_tokens);
  t += s.cache_dir.empty() ? std::string("  cache: none (--no-cache)\n")
                           : fmt::format("  cache: {}\n", s.cache_dir);
  return t;
}

}  // namespace judgebias::judge
