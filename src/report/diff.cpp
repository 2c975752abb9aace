// Reading a saved JSON report back, checked against docs/report.schema.json, and the diff of two
// reports. Every message is ours and located: NAME:LINE:COLUMN for the JSON text, a JSON pointer for
// its shape.
#include "judgebias/diff.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/json_stop.hpp"
#include "judgebias/error.hpp"
#include "judgebias/writers.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

// ---- The JSON text ----

using stop_point = detail::json_stop_point<json>;

// 1-based line and byte column of a byte index (the index may be the text's size: its end).
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t index) {
  std::size_t line = 1, start = 0;
  for (std::size_t k = 0; k < index && k < text.size(); ++k)
    if (text[k] == '\n') ++line, start = k + 1;
  return {line, index - start + 1};
}

// Input text shown in a message: control characters visible, at most 40 bytes.
std::string excerpt(std::string_view s) {
  constexpr std::size_t most = 40;
  return s.size() <= most ? printable(s) : printable(s.substr(0, most)) + "...";
}

std::string byte_text(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7F) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", u);
}

// Where a syntax error is (a byte index) and our words for it (nlohmann's message is never shown).
struct syntax_error {
  std::size_t index;
  std::string reason;
};

syntax_error describe_syntax_error(const stop_point& stop, std::string_view text) {
  const std::string_view what = stop.what;
  auto has = [&](std::string_view s) { return what.find(s) != std::string_view::npos; };
  std::size_t index = stop.position > 0 ? stop.position - 1 : 0;
  if (has("invalid string")) {
    if (has("ill-formed UTF-8")) return {index, "invalid UTF-8 in a string"};
    if (has("control character")) return {index, "a control character in a string must be escaped"};
    if (has("missing closing quote")) return {index, "unterminated string"};
    return {index, "invalid escape sequence in a string"};
  }
  if (has("invalid number")) return {index, "invalid number"};
  auto quoted = [](std::string_view token) {
    return token.size() == 1 ? byte_text(token[0]) : "'" + excerpt(token) + "'";
  };
  std::string at;
  const bool literal = has("invalid literal");
  if (index >= text.size()) {
    at = "unexpected end of input";
  } else if (literal) {  // a word that is not true, false or null: from its first letter
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    std::size_t first = index;
    while (first > 0 && letter(text[first - 1])) --first;
    const std::size_t end = letter(text[index]) ? index + 1 : index;
    at = "unexpected " + (end - first > 1 ? quoted(text.substr(first, end - first)) : byte_text(text[index]));
    index = first;
  } else if (const std::string_view token = stop.token;
             has(" literal;") && !token.empty() && token.size() <= stop.position &&
             text.substr(stop.position - token.size(), token.size()) == token) {
    // A whole token in the wrong place (a number, a string, true...): the position is its last byte.
    index = stop.position - token.size();
    at = "unexpected " + quoted(token);
  } else {
    at = "unexpected " + byte_text(text[index]);
  }
  // With "; ": "unexpected end of input" contains "expected end of input".
  if (has("; expected end of input")) return {index, at + "; expected nothing after the JSON value"};
  if (literal) return {index, at + "; expected a value"};
  static const std::pair<std::string_view, std::string_view> expected[] = {
      {"expected string literal", "expected a key in double quotes"},
      {"expected ':'", "expected ':'"},
      {"expected ']'", "expected ',' or ']'"},
      {"expected '}'", "expected ',' or '}'"},
      {"expected '[', '{', or a literal", "expected a value"}};
  for (const auto& [theirs, ours] : expected)
    if (has(theirs)) return {index, fmt::format("{}; {}", at, ours)};
  return {index, at};
}

[[noreturn]] void not_json(std::string_view text, std::string_view name) {
  const stop_point stop = detail::json_stop_of<json>(text);
  if (stop.id == 406) {  // the position is the number's last byte + 1
    const std::size_t start = stop.position >= stop.token.size() ? stop.position - stop.token.size() : 0;
    const auto [line, column] = line_column(text, start);
    throw data_error(
        fmt::format("{}:{}:{}: number out of range: {}", printable(name), line, column, excerpt(stop.token)));
  }
  const auto [index, reason] = describe_syntax_error(stop, text);
  const auto [line, column] = line_column(text, index);
  throw data_error(fmt::format("{}:{}:{}: not JSON: {}", printable(name), line, column, reason));
}

// ---- The report's shape (docs/report.schema.json, the parts under `modules`) ----

class checker {
 public:
  explicit checker(std::string_view name) : name_(name) {}

  void root(const json& j) {
    if (!j.is_object()) fail(fmt::format("must be a JSON object, got {}", describe(j)));
    {
      step s(*this, "schema_version");
      const json& v = required(j, "schema_version");
      if (!v.is_number() || v != 1) fail(fmt::format("must be 1, got {}", describe(v)));
    }
    step s(*this, "modules");
    const json& modules = object(required(j, "modules"));
    for (const auto& [name, section] : modules.items()) {
      step m(*this, name);
      module(section);
    }
  }

 private:
  // A path segment for the duration of a scope.
  class step {
   public:
    step(checker& owner, std::string_view key) : owner_(owner) { owner_.path_.push_back(key); }
    ~step() { owner_.path_.pop_back(); }
    step(const step&) = delete;
    step& operator=(const step&) = delete;

   private:
    checker& owner_;
  };

  [[noreturn]] void fail(const std::string& what) const {
    std::string pointer;  // RFC 6901: "~" is written "~0", "/" is written "~1"
    for (const auto key : path_) {
      pointer += '/';
      for (const char c : key) pointer += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    }
    throw data_error(fmt::format("{}: not a judgebias report: {}{}{}", printable(name_), printable(pointer),
                                 pointer.empty() ? "" : ": ", what));
  }

  // What a value is, for "got ...": a number as written, a string quoted, else its JSON type.
  static std::string describe(const json& v) {
    if (v.is_number_unsigned()) return fmt::format("{}", v.get<std::uint64_t>());
    if (v.is_number_integer()) return fmt::format("{}", v.get<std::int64_t>());
    if (v.is_number_float()) return fmt::format("{}", v.get<double>());
    if (v.is_string()) return fmt::format("\"{}\"", excerpt(v.get_ref<const std::string&>()));
    return v.type_name();
  }

  const json& required(const json& obj, std::string_view key) {
    const auto it = obj.find(key);
    if (it == obj.end()) fail("missing");  // the caller has put `key` on the path
    return *it;
  }

  const json& object(const json& v) {
    if (!v.is_object()) fail(fmt::format("must be an object, got {}", describe(v)));
    return v;
  }

  // Each value of an object, checked by `check` with its key on the path.
  template <class Check>
  void each(const json& v, Check&& check) {
    for (const auto& [key, item] : object(v).items()) {
      step s(*this, key);
      check(item);
    }
  }

  void string_field(const json& obj, std::string_view key) {
    const auto it = obj.find(key);
    if (it == obj.end()) return;
    step s(*this, key);
    if (!it->is_string()) fail(fmt::format("must be a string, got {}", describe(*it)));
  }

  void module(const json& section) {
    object(section);
    std::string_view status;
    {
      step s(*this, "status");
      const json& v = required(section, "status");
      if (v.is_string()) status = v.get_ref<const std::string&>();
      if (status != "ok" && status != "skipped" && status != "error")
        fail(fmt::format("must be \"ok\", \"skipped\" or \"error\", got {}", describe(v)));
    }
    if (status != "ok" && !section.contains("reason")) {
      step s(*this, "reason");
      fail(fmt::format("missing (status is \"{}\")", status));
    }
    groups(section);
    if (const auto it = section.find("counterfactual"); it != section.end()) {
      step s(*this, "counterfactual");
      groups(object(*it));
    }
    if (const auto it = section.find("kinds"); it != section.end()) {
      step s(*this, "kinds");
      each(*it, [&](const json& kind) { groups(object(kind)); });
    }
  }

  // `judges`, `by_task`, `by_run`, `overall`, `diagnostics` and `reason` of a module, a cue kind or
  // the counterfactual variants.
  void groups(const json& section) {
    if (const auto it = section.find("judges"); it != section.end()) {
      step s(*this, "judges");
      each(*it, [&](const json& m) { metrics(m); });
    }
    for (const char* by : {"by_task", "by_run"})
      if (const auto it = section.find(by); it != section.end()) {
        step s(*this, by);
        each(*it, [&](const json& judge) { each(judge, [&](const json& m) { metrics(m); }); });
      }
    if (const auto it = section.find("overall"); it != section.end()) {
      step s(*this, "overall");
      each(*it, [&](const json& m) { metric(m); });
    }
    if (const auto it = section.find("diagnostics"); it != section.end()) {
      step s(*this, "diagnostics");
      object(*it);
    }
    string_field(section, "reason");
  }

  // A judge's metrics, self-preference's `by_opponent`, and winrate's `models` (each model's metrics
  // and its `by_opponent`).
  void metrics(const json& v, bool in_model = false) {
    each(v, [&](const json& m) {
      if (path_.back() == "by_opponent")
        each(m, [&](const json& opponent) { each(opponent, [&](const json& om) { metric(om); }); });
      else if (path_.back() == "models" && !in_model)
        each(m, [&](const json& model) { metrics(model, true); });
      else
        metric(m);
    });
  }

  void metric(const json& m) {
    if (!m.is_object()) fail(fmt::format("must be a metric object, got {}", describe(m)));
    {
      step s(*this, "value");
      const json& v = required(m, "value");
      if (!v.is_number() && !v.is_null()) fail(fmt::format("must be a number or null, got {}", describe(v)));
    }
    {
      step s(*this, "ci");
      interval(required(m, "ci"));
    }
    {
      step s(*this, "n");
      const json& v = required(m, "n");
      if (!is_count(v)) fail(fmt::format("must be a non-negative integer, got {}", describe(v)));
    }
    {
      step s(*this, "unit");
      const json& v = required(m, "unit");
      static constexpr std::string_view units[] = {"fraction", "pp", "score", "coefficient", "count"};
      bool known = false;
      if (v.is_string())
        for (const auto u : units) known |= v.get_ref<const std::string&>() == u;
      if (!known)
        fail(fmt::format("must be \"fraction\", \"pp\", \"score\", \"coefficient\" or \"count\", got {}",
                         describe(v)));
    }
    if (const auto it = m.find("p"); it != m.end()) {
      step s(*this, "p");
      if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1)
        fail(fmt::format("must be a number from 0 to 1, got {}", describe(*it)));
    }
    if (const auto it = m.find("mde"); it != m.end()) {
      step s(*this, "mde");
      if (!it->is_number() || it->get<double>() < 0)
        fail(fmt::format("must be a non-negative number, got {}", describe(*it)));
    }
    string_field(m, "reason");
    if (m["value"].is_null() && !m.contains("reason")) {
      step s(*this, "reason");
      fail("missing (the value is null)");
    }
  }

  // null, or [low, high]: two numbers with low <= high.
  void interval(const json& v) {
    if (v.is_null()) return;
    if (!v.is_array() || v.size() != 2)
      fail(fmt::format("must be null or [low, high], got {}",
                       v.is_array() ? fmt::format("an array of {}", v.size()) : describe(v)));
    for (std::size_t k = 0; k < 2; ++k)
      if (!v[k].is_number()) {
        step s(*this, k == 0 ? "0" : "1");
        fail(fmt::format("must be a number, got {}", describe(v[k])));
      }
    const double low = v[0].get<double>(), high = v[1].get<double>();
    if (!(low <= high))
      fail(fmt::format("must be [low, high] with low <= high, got [{}, {}]", describe(v[0]), describe(v[1])));
  }

  // A count: a non-negative integer (written as an integer, or as a float with no fraction, which
  // JSON Schema also calls an integer), small enough for tidy_rows' std::uint64_t.
  static bool is_count(const json& v) {
    if (v.is_number_unsigned()) return true;
    if (v.is_number_integer()) return v.get<std::int64_t>() >= 0;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return d >= 0 && d <= 9007199254740992.0 && d == std::floor(d);
  }

  std::string_view name_;
  std::vector<std::string_view> path_;  // keys of the values being checked, into the JSON value
};

// ---- The diff ----

std::string detail_cell(const metric_row& m) {
  if (!m.value) return "null";
  std::string s = fmt::format("{:.4g}", *m.value);
  if (m.ci_low && m.ci_high) s += fmt::format(" [{:.4g}, {:.4g}]", *m.ci_low, *m.ci_high);
  return s;
}

// new - old. Two finite doubles can differ by more than a double holds (1e308 - -1e308): then the
// difference is computed in long double, so that the table never shows inf.
std::string change_text(double before, double after) {
  const double d = after - before;
  if (std::isfinite(d)) return fmt::format("{:+.4g}", d);
  const long double wide = static_cast<long double>(after) - static_cast<long double>(before);
  if (std::isfinite(wide)) return fmt::format("{:+.4g}", wide);
  return after > before ? ">+1.797e+308" : "<-1.797e+308";  // where long double is a double
}

using row_key = std::tuple<std::string, std::string, std::string, std::string, bool, std::string, bool,
                           std::string, std::string, std::string>;

row_key key_of(const metric_row& m) {
  return {m.module, m.kind,         m.metric,   m.judge, m.per_model,
          m.model,  m.per_opponent, m.opponent, m.task,  m.run};
}

std::string label(const metric_row& m) {
  std::string s = m.module + (m.kind.empty() ? "" : "." + m.kind) + "." + m.metric;
  if (m.per_model) s += " of " + m.model;
  if (m.per_opponent) s += " vs " + m.opponent;
  if (!m.task.empty()) s += " task " + m.task;
  if (!m.run.empty()) s += " run " + m.run;
  return printable(s);
}

std::string judge_text(const metric_row& m) {
  return m.judge.empty() ? "(all)" : printable(m.judge);
}

}  // namespace

void validate_report(const json& j, std::string_view name) {
  checker(name).root(j);
}

report parse_report(std::string_view text, std::string_view name) {
  json j = json::parse(text.data(), text.data() + text.size(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) not_json(text, name);
  validate_report(j, name);
  return report_from_json(j);
}

report read_report(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    throw io_error(fmt::format("{}: cannot open: {}", printable(path), std::strerror(e)));
  }
  struct closer {
    int handle;
    ~closer() { ::close(handle); }
  } const guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    throw io_error(fmt::format("{}: cannot open: {}", printable(path), std::strerror(e)));
  }
  if (S_ISDIR(st.st_mode))
    throw io_error(fmt::format("{}: cannot open: {}", printable(path), std::strerror(EISDIR)));
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      throw io_error(fmt::format("{}: cannot read: {}", printable(path), std::strerror(e)));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  return parse_report(text, path);
}

std::string diff_reports(const report& before, const report& after, bool breakdowns) {
  validate_report(before.to_json(), "old report");
  validate_report(after.to_json(), "new report");
  auto shown = [&](const metric_row& m) {
    return breakdowns || (!m.per_opponent && m.task.empty() && m.run.empty());
  };
  // A crafted report can name one metric twice (a cue kind called "counterfactual"): the first counts.
  std::map<row_key, metric_row> old_rows;
  std::vector<row_key> order;
  for (auto& m : tidy_rows(before)) {
    if (!shown(m)) continue;
    row_key k = key_of(m);
    if (old_rows.emplace(k, std::move(m)).second) order.push_back(std::move(k));
  }
  std::vector<std::vector<std::string>> table{{"metric", "judge", "old", "new", "change", "intervals"}};
  std::size_t separated = 0, compared = 0;
  std::set<row_key> seen;
  for (const auto& m : tidy_rows(after)) {
    if (!shown(m)) continue;
    const row_key k = key_of(m);
    if (!seen.insert(k).second) continue;
    const auto it = old_rows.find(k);
    if (it == old_rows.end()) {
      table.push_back({label(m), judge_text(m), "", detail_cell(m), "", "new"});
      continue;
    }
    const metric_row& o = it->second;
    std::string change, overlap;
    if (o.value && m.value) change = change_text(*o.value, *m.value);
    if (o.ci_low && o.ci_high && m.ci_low && m.ci_high) {
      const bool apart = *m.ci_low > *o.ci_high || *o.ci_low > *m.ci_high;
      overlap = apart ? "apart" : "overlap";
      separated += apart;
      ++compared;
    }
    table.push_back({label(m), judge_text(m), detail_cell(o), detail_cell(m), change, overlap});
  }
  for (const auto& k : order)
    if (!seen.count(k)) {
      const metric_row& o = old_rows.at(k);
      table.push_back({label(o), judge_text(o), detail_cell(o), "", "", "gone"});
    }
  std::vector<std::size_t> width(table[0].size(), 0);
  for (const auto& row : table)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (const auto& row : table) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) line += fmt::format("{:<{}}  ", row[c], width[c]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += fmt::format(
      "\n{} of {} metric(s) with an interval in both reports have intervals that do not overlap. Reports of "
      "different runs are not paired: for two judges on the same items, `judgebias run --compare A,B` gives "
      "the paired difference.\n",
      separated, compared);
  return out;
}

}  // namespace judgebias
