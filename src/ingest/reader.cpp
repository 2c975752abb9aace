// Streaming reader for judgment format v1 (FORMAT.md): one simdjson on-demand pass per line, texts
// reduced to code-point counts as they are read, every error reported as path:line:column. Input is cut
// into lines by lines.hpp; each line goes through the field walk here (record_walker: JSON into a
// raw_record), then FORMAT v1's rules (format_v1.cpp: raw_record into a record), under the invalid-line
// policy (line_reader).
#include "judgebias/reader.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <istream>
#include <limits>
#include <new>
#include <optional>

#include <fmt/format.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include "common/utf8.hpp"
#include "ingest/format_v1.hpp"
#include "ingest/line_reader.hpp"
#include "ingest/lines.hpp"

namespace judgebias {

namespace od = simdjson::ondemand;

namespace {

using detail::fail;
using detail::line_failure;
using detail::quoted;
using detail::raw_candidate;
using detail::raw_record;

constexpr int max_depth = 64;  // FORMAT.md: nesting deeper than 64 levels is an error
constexpr std::size_t chunk_bytes = 1u << 20;

// Top-level fields, one bit each, to detect duplicates and presence.
enum field_bit : std::uint32_t {
  f_judge = 1u << 0,
  f_judge_model = 1u << 1,
  f_item = 1u << 2,
  f_task = 1u << 3,
  f_run = 1u << 4,
  f_mode = 1u << 5,
  f_perturbation = 1u << 6,
  f_meta = 1u << 7,
  f_a = 1u << 8,
  f_b = 1u << 9,
  f_response = 1u << 10,
  f_verdict = 1u << 11,
  f_score = 1u << 12,
  f_gold = 1u << 13,
  f_scale = 1u << 14,
  f_prob_a = 1u << 15,
  f_order_known = 1u << 16,
};

// k == lit for a string literal: the length first, then a comparison of a known size, which the
// compiler expands in place (std::string_view's == is a call to memcmp on this path).
template <std::size_t N>
bool is(std::string_view k, const char (&lit)[N]) noexcept {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

// The bit of a known top-level key, 0 for an unknown one.
field_bit top_field(std::string_view k) {
  switch (k.size()) {
    case 1:
      return k[0] == 'a' ? f_a : k[0] == 'b' ? f_b : field_bit{};
    case 3:
      return is(k, "run") ? f_run : field_bit{};
    case 4:
      return is(k, "item")   ? f_item
             : is(k, "task") ? f_task
             : is(k, "mode") ? f_mode
             : is(k, "meta") ? f_meta
             : is(k, "gold") ? f_gold
                             : field_bit{};
    case 5:
      return is(k, "judge") ? f_judge : is(k, "score") ? f_score : is(k, "scale") ? f_scale : field_bit{};
    case 6:
      return is(k, "prob_a") ? f_prob_a : field_bit{};
    case 7:
      return is(k, "verdict") ? f_verdict : field_bit{};
    case 8:
      return is(k, "response") ? f_response : field_bit{};
    case 11:
      return is(k, "judge_model") ? f_judge_model : is(k, "order_known") ? f_order_known : field_bit{};
    case 12:
      return is(k, "perturbation") ? f_perturbation : field_bit{};
    default:
      return field_bit{};
  }
}

// A candidate's fields, one bit each.
enum candidate_bit : std::uint32_t {
  c_id = 1u << 0,
  c_model = 1u << 1,
  c_length = 1u << 2,
  c_tokens = 1u << 3,
  c_text = 1u << 4,
  c_features = 1u << 5,
};

// The bit of a known candidate key, 0 for an unknown one.
candidate_bit candidate_field(std::string_view k) {
  switch (k.size()) {
    case 2:
      return is(k, "id") ? c_id : candidate_bit{};
    case 4:
      return is(k, "text") ? c_text : candidate_bit{};
    case 5:
      return is(k, "model") ? c_model : candidate_bit{};
    case 6:
      return is(k, "length") ? c_length : is(k, "tokens") ? c_tokens : candidate_bit{};
    case 8:
      return is(k, "features") ? c_features : candidate_bit{};
    default:
      return candidate_bit{};
  }
}

// The first '"' or '\\' from p on, eight bytes at a time (keys are short). Safe only inside a string
// that stage 1 has seen closed before the line's end: the words read end at most 7 bytes past that
// quote, within the line or its padding (lines.hpp).
const char* quote_or_backslash(const char* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    for (;; p += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, 8);
      const std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
      // A byte's high bit in m where q or b has a zero byte; the lowest one is exact (a borrow only
      // carries upwards).
      const std::uint64_t m = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
      if (m) return p + (std::countr_zero(m) >> 3);
    }
  } else {
    while (*p != '"' && *p != '\\') ++p;
    return p;
  }
}

// The field walk: one line's JSON into a raw_record, every value read with its type and checked on its
// own where it is met (format_v1.hpp says which checks are the walk's). Views into the line and into the
// walker live until the next line.
class record_walker {
 public:
  using unknown_counts = decltype(read_stats::unknown_fields);

  explicit record_walker(std::uint64_t max_line_bytes) : parser(std::max<std::size_t>(max_line_bytes, 1)) {}

  // Gives back the parser's buffers when a line longer than `bytes` made them grow (about 2.7 bytes per
  // byte of the longest line so far, which would otherwise stay with this walker, one per thread). The
  // next line allocates what it needs.
  void release_above(std::size_t bytes) noexcept {
    if (parser.capacity() > bytes && parser.allocate(0) != simdjson::SUCCESS) {
      // (No memory even for that: the next line's parse allocates again, and its failure is "out of
      // memory".)
    }
  }

  // Reads one line (without its newline; `capacity`: readable bytes from `p`, the padding included).
  // Fields judgebias does not know are counted in `unknown` as they are met. Throws line_failure.
  raw_record read(const char* p, std::size_t len, std::size_t capacity, unknown_counts& unknown) {
    line_start = p;
    line_len = len;
    nested_keys.clear();
    unknown_ = &unknown;

    if (len >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0)
      fail(1, "not_json", "the line starts with a UTF-8 byte order mark (BOM); save the file without it");
    od::document doc;
    if (auto err = parser.iterate(simdjson::padded_string_view(p, len, capacity)).get(doc)) {
      // No memory for the line's parse is no fault of the line: out of memory, not an invalid line.
      if (err == simdjson::MEMALLOC) throw std::bad_alloc();
      if (err == simdjson::UTF8_ERROR) {
        std::size_t bad = detail::first_invalid_utf8(std::string_view(p, len));
        fail(bad + 1, "invalid_utf8", "invalid UTF-8");
      }
      syntax_problem problem = find_syntax_error();
      if (problem.column) fail(problem.column, "not_json", fmt::format("not valid JSON: {}", problem.what));
      fail(1, "not_json", fmt::format("not valid JSON ({})", simdjson::error_message(err)));
    }
    raw_record raw;
    raw.column = std::string_view(p, len).find_first_not_of(" \t") + 1;
    od::json_type root_type{};
    if (auto err = doc.type().get(root_type)) fail_syntax(doc, err, raw.column);
    if (root_type != od::json_type::object) fail_not_object(doc, root_type, raw.column);
    od::object obj;
    if (auto err = doc.get_object().get(obj)) fail_syntax(doc, err, raw.column);
    read_fields(doc, obj, raw);
    check_large_object(0);
    // Anything after the object (a second value, a stray bracket) makes the line invalid.
    const char* after = nullptr;
    if (!doc.current_location().get(after)) {
      std::string_view rest(after, static_cast<std::size_t>(line_start + line_len - after));
      if (rest.find_first_not_of(" \t\r") != std::string_view::npos)
        fail(column_of(after), "not_json", "unexpected content after the JSON object");
    }
    return raw;
  }

 private:
  od::parser parser;
  // Per-line state.
  const char* line_start = nullptr;
  std::size_t line_len = 0;
  std::string item_buf;
  std::vector<std::pair<std::string_view, std::uint64_t>> nested_keys;  // duplicate-key checks
  unknown_counts* unknown_ = nullptr;

  std::uint64_t column_of(const char* p) const {
    if (p < line_start || p > line_start + line_len) return line_len + 1;
    return static_cast<std::uint64_t>(p - line_start) + 1;
  }
  std::uint64_t column_of(od::value& v) { return column_of(v.raw_json_token().data()); }
  std::uint64_t where_stopped() {
    // simdjson reports where parsing stopped only while in bounds; past the end, the line's end.
    return line_len + 1;
  }

  // Where a strict parser stops on this line (0 when it accepts it). Only runs on the error path:
  // simdjson's stage 1 says that a line is malformed, not where.
  struct syntax_problem {
    std::uint64_t column = 0;  // 0: the strict parser accepts the line
    std::string what;
  };
  syntax_problem find_syntax_error() const {
    syntax_problem out;
    // Invalid UTF-8 anywhere in the line is reported as such, at its byte (and the message then never
    // quotes broken bytes).
    if (const std::size_t bad = detail::first_invalid_utf8(std::string_view(line_start, line_len));
        bad < line_len)
      fail(bad + 1, "invalid_utf8", "invalid UTF-8");
    try {
      const auto parsed = nlohmann::json::parse(line_start, line_start + line_len);
      (void)parsed;
    } catch (const nlohmann::json::parse_error& e) {
      out.column = std::clamp<std::uint64_t>(e.byte, 1, line_len + 1);
      // "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ... - why"
      std::string_view w = e.what();
      if (auto at = w.find("column "); at != std::string_view::npos)
        if (auto colon = w.find(": ", at); colon != std::string_view::npos)
          out.what = std::string(w.substr(colon + 2));
    } catch (const std::exception&) {
    }
    return out;
  }

  [[noreturn]] void fail_syntax(od::document& doc, simdjson::error_code code, std::uint64_t fallback = 0) {
    syntax_problem problem = find_syntax_error();
    if (problem.column) fail(problem.column, "not_json", fmt::format("not valid JSON: {}", problem.what));
    const char* loc = nullptr;
    std::uint64_t col = 0;
    if (!doc.current_location().get(loc)) col = column_of(loc);
    if (col == 0) col = fallback ? fallback : where_stopped();
    fail(col, "not_json", fmt::format("not valid JSON ({})", simdjson::error_message(code)));
  }

  // Errors of a value we asked for, mapped to the FORMAT.md error classes.
  [[noreturn]] void fail_value(std::string_view field, std::uint64_t col, simdjson::error_code code,
                               std::string_view expected) {
    std::string_view tok(line_start + col - 1, std::min<std::size_t>(line_len - (col - 1), 64));
    if (tok.starts_with("NaN") || tok.starts_with("Infinity") || tok.starts_with("-Infinity") ||
        tok.starts_with("inf") || tok.starts_with("-inf") || tok.starts_with("nan"))
      fail(col, "bad_number",
           fmt::format("\"{}\" must be a finite number, got {}", field,
                       tok.substr(0, tok.find_first_of(",} \t"))));
    if (code == simdjson::NUMBER_ERROR || code == simdjson::NUMBER_OUT_OF_RANGE) {
      // A fraction or exponent that overflows is an infinite number; an over-long integer is out of range.
      const std::string_view num = tok.substr(0, tok.find_first_of(",}] \t"));
      if (num.find_first_of(".eE") != std::string_view::npos)
        fail(col, "bad_number", fmt::format("\"{}\" must be a finite number, got {}", field, num));
      fail(col, "out_of_range", fmt::format("\"{}\" is a number out of range", field));
    }
    if (code == simdjson::INCORRECT_TYPE)
      fail(col, "wrong_type", fmt::format("\"{}\" must be {}, got {}", field, expected, token_kind(col)));
    if (code == simdjson::STRING_ERROR)
      fail(col, "not_json", fmt::format("\"{}\" has an invalid string escape", field));
    fail(col, "not_json", fmt::format("not valid JSON at \"{}\" ({})", field, simdjson::error_message(code)));
  }

  std::string token_kind(std::uint64_t col) const {
    if (col == 0 || col > line_len) return "nothing";
    switch (line_start[col - 1]) {
      case '"':
        return "a string";
      case '{':
        return "an object";
      case '[':
        return "an array";
      case 't':
      case 'f':
        return "a boolean";
      case 'n':
        return "null";
      default:
        return "a number";
    }
  }

  static bool is_null(od::value& v) {
    if (v.raw_json_token().front() != 'n') return false;  // cheap pre-check: only null starts with n
    bool null = false;
    return !v.is_null().get(null) && null;
  }

  // A field's key without copying it when it has no escapes (nearly always); `kcol` gets its column.
  std::string_view read_key(od::field& field, std::uint64_t& kcol) {
    const char* p = field.key().raw();
    kcol = column_of(p - 1);
    const char* end = line_start + line_len;
    if (p < end)  // (always, as simdjson finds keys only at the line's own quotes; checked all the same)
      if (const char* q = quote_or_backslash(p); q < end && *q == '"')
        return {p, static_cast<std::size_t>(q - p)};
    return escaped_key(field, kcol);
  }

  // A key with an escape, unescaped into the parser's buffer (rare: kept apart so that read_key stays
  // small enough to inline).
  [[gnu::noinline]] std::string_view escaped_key(od::field& field, std::uint64_t kcol) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) fail_value("key", kcol, err, "a string");
    return key;
  }

  // (The value's column is looked up only on the error paths: a value keeps its start after a failed get.)
  std::string_view get_string(od::value& v, std::string_view field, std::string_view expected = "a string") {
    std::string_view s;
    if (auto err = v.get_string().get(s)) fail_value(field, column_of(v), err, expected);
    return s;
  }

  double get_finite(od::value& v, std::string_view field) {
    double d = 0;
    if (auto err = v.get_double().get(d)) fail_value(field, column_of(v), err, "a number");
    if (!std::isfinite(d))
      fail(column_of(v), "bad_number", fmt::format("\"{}\" must be a finite number", field));
    return d;
  }

  // A non-negative integer below `limit`.
  std::uint64_t get_count(od::value& v, std::string_view field, std::uint64_t limit, const char* neg_reason) {
    std::int64_t fast = 0;
    if (!v.get_int64().get(fast) && fast >= 0 && static_cast<std::uint64_t>(fast) < limit)
      return static_cast<std::uint64_t>(fast);
    const std::uint64_t col = column_of(v);
    od::number_type type{};
    if (auto err = v.get_number_type().get(type)) fail_value(field, col, err, "an integer");
    if (type == od::number_type::floating_point_number) {
      double d = 0;
      if (auto err = v.get_double().get(d)) fail_value(field, col, err, "an integer");
      fail(col, "wrong_type", fmt::format("\"{}\" must be an integer, got {}", field, d));
    }
    if (type == od::number_type::unsigned_integer)
      fail(col, "out_of_range", fmt::format("\"{}\" is an integer out of range", field));
    std::int64_t i = 0;
    if (auto err = v.get_int64().get(i)) fail_value(field, col, err, "an integer");
    if (i < 0) fail(col, neg_reason, fmt::format("\"{}\" must not be negative, got {}", field, i));
    if (static_cast<std::uint64_t>(i) >= limit)
      fail(col, "out_of_range", fmt::format("\"{}\" is out of range (at most {})", field, limit - 1));
    return static_cast<std::uint64_t>(i);
  }

  bool check_duplicate(std::size_t begin, std::string_view key, std::uint64_t col) {
    const std::size_t n = nested_keys.size() - begin;
    if (n <= 64) {
      for (std::size_t i = begin; i < nested_keys.size(); ++i)
        if (nested_keys[i].first == key) return true;
    }
    nested_keys.emplace_back(key, col);
    return false;
  }

  // Large objects are checked once at their end, by sorting (keeps the common case linear-small).
  void check_large_object(std::size_t begin) {
    if (nested_keys.size() - begin <= 64) return;
    std::vector<std::pair<std::string_view, std::uint64_t>> keys(
        nested_keys.begin() + static_cast<std::ptrdiff_t>(begin), nested_keys.end());
    std::sort(keys.begin(), keys.end());
    std::optional<std::pair<std::string_view, std::uint64_t>> first_dup;
    for (std::size_t i = 1; i < keys.size(); ++i)
      if (keys[i].first == keys[i - 1].first && (!first_dup || keys[i].second < first_dup->second))
        first_dup = keys[i];
    if (first_dup)
      fail(first_dup->second, "duplicate_key", fmt::format("duplicate key {}", quoted(first_dup->first)));
  }

  // Walks a value judgebias does not interpret, so that the whole line is validated.
  // `field` names the top-level field the value sits in, for messages.
  void walk(od::value v, int depth, std::string_view field) {
    std::uint64_t col = column_of(v);
    od::json_type type{};
    if (auto err = v.type().get(type)) fail_value(field, col, err, "JSON");
    switch (type) {
      case od::json_type::object: {
        if (depth > max_depth) fail(col, "too_deep", fmt::format("nesting deeper than {} levels", max_depth));
        od::object obj;
        if (auto err = v.get_object().get(obj)) fail_value(field, col, err, "an object");
        const std::size_t begin = nested_keys.size();
        for (auto f : obj) {
          od::field member;
          if (auto err = std::move(f).get(member)) fail_value(field, col, err, "an object");
          std::uint64_t kcol = 0;
          const std::string_view key = read_key(member, kcol);
          if (check_duplicate(begin, key, kcol))
            fail(kcol, "duplicate_key", fmt::format("duplicate key {}", quoted(key)));
          walk(member.value(), depth + 1, field);
        }
        check_large_object(begin);
        nested_keys.resize(begin);
        break;
      }
      case od::json_type::array: {
        if (depth > max_depth) fail(col, "too_deep", fmt::format("nesting deeper than {} levels", max_depth));
        od::array arr;
        if (auto err = v.get_array().get(arr)) fail_value(field, col, err, "an array");
        for (auto e : arr) {
          od::value elem;
          // NOLINTNEXTLINE(performance-move-const-arg): simdjson's get() takes an rvalue
          if (auto err = std::move(e).get(elem)) fail_value(field, col, err, "an array");
          walk(elem, depth + 1, field);
        }
        break;
      }
      case od::json_type::string: {
        std::string_view s;
        if (auto err = v.get_string().get(s)) fail_value(field, col, err, "a string");
        break;
      }
      case od::json_type::number: {
        double d = 0;
        if (auto err = v.get_double().get(d)) fail_value(field, col, err, "a number");
        break;
      }
      case od::json_type::boolean: {
        bool b = false;
        if (auto err = v.get_bool().get(b)) fail_value(field, col, err, "a boolean");
        break;
      }
      case od::json_type::null: {
        if (!is_null(v)) fail(col, "not_json", fmt::format("invalid literal in \"{}\"", field));
        break;
      }
    }
  }

  void note_unknown(std::string_view prefix, std::string_view key) {
    std::string name = prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
    auto it = unknown_->find(name);
    if (it == unknown_->end())
      unknown_->emplace(std::move(name), 1);
    else
      ++it->second;
  }

  raw_candidate read_candidate(od::value v, std::string_view slot) {
    raw_candidate c;
    c.present = true;
    c.column = column_of(v);
    od::object obj;
    if (auto err = v.get_object().get(obj)) fail_value(slot, c.column, err, "an object");
    const std::size_t begin = nested_keys.size();
    std::uint32_t seen = 0;  // candidate_bit
    for (auto f : obj) {
      od::field field;
      if (auto err = std::move(f).get(field)) fail_value(slot, c.column, err, "an object");
      std::uint64_t kcol = 0;
      const std::string_view key = read_key(field, kcol);
      const candidate_bit bit = candidate_field(key);
      if (bit ? (seen & bit) != 0 : check_duplicate(begin, key, kcol))
        fail(kcol, "duplicate_key", fmt::format("duplicate key {} in \"{}\"", quoted(key), slot));
      seen |= bit;
      od::value val = field.value();
      if (is_null(val)) continue;  // an optional field set to null is absent
      switch (bit) {
        case c_id:
          c.id = get_string(val, "id");
          break;
        case c_model:
          c.model = get_string(val, "model");
          break;
        case c_length:
          c.length = static_cast<std::uint32_t>(
              get_count(val, "length", std::numeric_limits<std::uint32_t>::max(), "negative_length"));
          break;
        case c_tokens:
          c.tokens = static_cast<std::uint32_t>(
              get_count(val, "tokens", std::numeric_limits<std::uint32_t>::max(), "negative_length"));
          break;
        case c_text:
          c.text_length = count_code_points(get_string(val, "text"));
          break;
        case c_features:
          read_features(val, slot, c);
          break;
        default:
          note_unknown(slot, key);
          walk(val, 3, key);
      }
    }
    check_large_object(begin);
    nested_keys.resize(begin);
    return c;
  }

  // A candidate's "features": an object of finite numbers, each name once.
  void read_features(od::value& v, std::string_view slot, raw_candidate& c) {
    const std::uint64_t col = column_of(v);
    od::object obj;
    if (auto err = v.get_object().get(obj)) fail_value("features", col, err, "an object of numbers");
    const std::size_t begin = nested_keys.size();
    for (auto f : obj) {
      od::field field;
      if (auto err = std::move(f).get(field)) fail_value("features", col, err, "an object of numbers");
      std::uint64_t kcol = 0;
      const std::string_view key = read_key(field, kcol);
      if (check_duplicate(begin, key, kcol))
        fail(kcol, "duplicate_key", fmt::format("duplicate key {} in \"{}\".features", quoted(key), slot));
      od::value val = field.value();
      const std::uint64_t vcol = column_of(val);
      double x = 0;
      if (auto err = val.get_double().get(x))
        fail_value(fmt::format("features.{}", key), vcol, err, "a number");
      if (!std::isfinite(x))
        fail(vcol, "bad_number", fmt::format("\"features.{}\" must be a finite number", key));
      c.features.push_back({key, x});
    }
    check_large_object(begin);
    nested_keys.resize(begin);
  }

  // A line whose JSON is not an object: "not an object" only when it is valid JSON, else not JSON.
  [[noreturn]] void fail_not_object(od::document& doc, od::json_type root_type, std::uint64_t brace_col) {
    simdjson::error_code err = simdjson::SUCCESS;
    switch (root_type) {
      case od::json_type::array: {
        // get_array() on the document checks that the line ends with the array's closing bracket;
        // simdjson 3.0's on-demand iterator would otherwise read past the end of an unclosed one.
        od::array root;
        err = doc.get_array().get(root);
        if (!err) {
          for (auto e : root) {
            od::value elem;
            // NOLINTNEXTLINE(performance-move-const-arg): simdjson's get() takes an rvalue
            if (auto e2 = std::move(e).get(elem)) fail_syntax(doc, e2, brace_col);
            walk(elem, 2, "record");
          }
        }
        break;
      }
      case od::json_type::string:
        err = doc.get_string().error();
        break;
      case od::json_type::number:
        err = doc.get_double().error();
        break;
      case od::json_type::boolean:
        err = doc.get_bool().error();
        break;
      default: {
        bool null = false;
        err = doc.is_null().get(null);
        if (!err && !null) err = simdjson::N_ATOM_ERROR;
      }
    }
    if (err) fail_syntax(doc, err, brace_col);
    const char* rest = nullptr;
    if (!doc.current_location().get(rest) &&
        std::string_view(rest, static_cast<std::size_t>(line_start + line_len - rest))
                .find_first_not_of(" \t") != std::string_view::npos)
      fail(column_of(rest), "not_json", "unexpected content after a JSON value");
    fail(brace_col, "not_object",
         fmt::format("a record must be a JSON object, got {}", token_kind(brace_col)));
  }

  // The record's top-level fields, in the line's order.
  void read_fields(od::document& doc, od::object& obj, raw_record& raw) {
    std::uint32_t seen = 0;
    for (auto f : obj) {
      od::field field;
      if (auto err = std::move(f).get(field)) fail_syntax(doc, err);
      std::uint64_t kcol = 0;
      const std::string_view key = read_key(field, kcol);
      od::value v = field.value();
      const field_bit bit = top_field(key);
      if (bit == 0) {
        if (check_duplicate(0, key, kcol))
          fail(kcol, "duplicate_key", fmt::format("duplicate key {}", quoted(key)));
        note_unknown("", key);
        walk(v, 2, key);
        continue;
      }
      if (seen & bit) fail(kcol, "duplicate_key", fmt::format("duplicate key {}", quoted(key)));
      seen |= bit;
      read_field(bit, key, v, raw);
    }
  }

  // One known top-level field. A null optional field is absent (its column is still kept).
  void read_field(field_bit bit, std::string_view key, od::value& v, raw_record& raw) {
    const char* at = v.raw_json_token().data();  // (once, for the column and the null check)
    const std::uint64_t vcol = column_of(at);
    const bool null = *at == 'n' && is_null(v);
    switch (bit) {
      case f_judge:
        raw.judge = get_string(v, key);
        break;
      case f_judge_model:
        if (!null) raw.judge_model = get_string(v, key);
        break;
      case f_item:
        raw.item_column = vcol;
        if (!null) raw.item = read_item(v, key, vcol);
        break;
      case f_task:
        if (!null) raw.task = get_string(v, key);
        break;
      case f_run:
        if (!null)
          raw.run = static_cast<std::uint32_t>(
              get_count(v, key, std::numeric_limits<std::uint32_t>::max(), "out_of_range"));
        break;
      case f_mode:
        raw.mode_column = vcol;
        if (!null) raw.mode = get_string(v, key, "\"pairwise\" or \"pointwise\"");
        break;
      case f_perturbation:
        if (!null) read_perturbation(v, key, vcol, raw);
        break;
      case f_meta:
        walk(v, 2, "meta");
        break;
      case f_a:
        raw.a = read_candidate(v, "a");
        break;
      case f_b:
        raw.b = read_candidate(v, "b");
        break;
      case f_response:
        raw.response = read_candidate(v, "response");
        break;
      case f_verdict:
        raw.has_verdict = true;
        raw.verdict_column = vcol;
        if (!null) raw.verdict = get_string(v, key, "\"A\", \"B\", \"tie\" or null");
        break;
      case f_score:
        raw.has_score = true;
        raw.score_column = vcol;
        if (!null) raw.score = get_finite(v, key);
        break;
      case f_gold:
        raw.gold_column = vcol;
        if (!null) read_gold(v, key, vcol, raw);
        break;
      case f_scale:
        if (!null) raw.scale = read_scale(v, key, vcol);
        break;
      case f_prob_a: {
        if (null) break;
        double d = get_finite(v, key);
        if (d < 0 || d > 1) fail(vcol, "bad_number", fmt::format("\"prob_a\" must be in [0, 1], got {}", d));
        raw.prob_a = d;
        break;
      }
      case f_order_known: {
        if (null) break;
        bool b = true;
        if (auto err = v.get_bool().get(b)) fail_value(key, vcol, err, "a boolean");
        raw.order_known = b;
        break;
      }
      default:
        break;
    }
  }

  // "item": a string, or an integer as its decimal text.
  std::string_view read_item(od::value& v, std::string_view key, std::uint64_t vcol) {
    od::json_type t{};
    if (auto err = v.type().get(t)) fail_value(key, vcol, err, "a string or an integer");
    if (t == od::json_type::string) return get_string(v, key);
    if (t != od::json_type::number)
      fail(vcol, "wrong_type",
           fmt::format("\"item\" must be a string or an integer, got {}", token_kind(vcol)));
    od::number_type nt{};
    if (auto err = v.get_number_type().get(nt)) {
      const std::string_view num = v.raw_json_token();
      if (num.substr(0, num.find_first_of(",}] \t")).find_first_of(".eE") == std::string_view::npos)
        fail(vcol, "out_of_range", "\"item\" is an integer out of range (use a string)");
      fail_value(key, vcol, err, "a string or an integer");
    }
    if (nt == od::number_type::signed_integer) {
      std::int64_t i = 0;
      if (auto err = v.get_int64().get(i)) fail_value(key, vcol, err, "a string or an integer");
      item_buf = fmt::format("{}", i);
    } else if (nt == od::number_type::unsigned_integer) {
      std::uint64_t u = 0;
      if (v.get_uint64().get(u))
        fail(vcol, "out_of_range", "\"item\" is an integer out of range (use a string)");
      item_buf = fmt::format("{}", u);
    } else {
      const std::string_view num = v.raw_json_token();
      if (num.substr(0, num.find_first_of(",}] \t")).find_first_of(".eE") == std::string_view::npos)
        fail(vcol, "out_of_range", "\"item\" is an integer out of range (use a string)");
      fail(vcol, "wrong_type", "\"item\" must be a string or an integer, got a fractional number");
    }
    return item_buf;
  }

  // "perturbation": {"kind", "target"?, "detail"?}.
  void read_perturbation(od::value& v, std::string_view key, std::uint64_t vcol, raw_record& raw) {
    raw.perturbation_column = vcol;
    od::object po;
    if (auto err = v.get_object().get(po)) fail_value(key, vcol, err, "an object");
    const std::size_t begin = nested_keys.size();
    for (auto pf : po) {
      od::field pfield;
      if (auto err = std::move(pf).get(pfield)) fail_value(key, vcol, err, "an object");
      std::uint64_t pkcol = 0;
      const std::string_view pkey = read_key(pfield, pkcol);
      if (check_duplicate(begin, pkey, pkcol))
        fail(pkcol, "duplicate_key", fmt::format("duplicate key {} in \"perturbation\"", quoted(pkey)));
      od::value pv = pfield.value();
      if (is(pkey, "kind")) {
        raw.perturbation_kind = get_string(pv, "perturbation.kind");
        if (raw.perturbation_kind->empty())
          fail(pkcol, "wrong_type", "\"perturbation.kind\" must not be empty");
      } else if (is(pkey, "target")) {
        raw.target_column = column_of(pv);
        if (!is_null(pv))
          raw.perturbation_target = get_string(pv, "perturbation.target", "\"A\", \"B\" or a candidate id");
      } else {
        if (!is(pkey, "detail")) note_unknown("perturbation", pkey);
        walk(pv, 3, pkey);
      }
    }
    check_large_object(begin);
    nested_keys.resize(begin);
    if (!raw.perturbation_kind) fail(vcol, "missing_field", "\"perturbation\" has no \"kind\"");
  }

  // "gold": a verdict string (pairwise) or a number (pointwise).
  void read_gold(od::value& v, std::string_view key, std::uint64_t vcol, raw_record& raw) {
    od::json_type t{};
    if (auto err = v.type().get(t)) fail_value(key, vcol, err, "a verdict or a score");
    if (t == od::json_type::string)
      raw.gold_verdict = get_string(v, key);
    else if (t == od::json_type::number)
      raw.gold_score = get_finite(v, key);
    else
      fail(vcol, "wrong_type",
           fmt::format("\"gold\" must be a verdict string or a score, got {}", token_kind(vcol)));
  }

  // "scale": [min, max] with min < max.
  std::pair<double, double> read_scale(od::value& v, std::string_view key, std::uint64_t vcol) {
    od::array arr;
    if (auto err = v.get_array().get(arr)) fail_value(key, vcol, err, "[min, max]");
    double bounds[2] = {0, 0};
    std::size_t count = 0;
    for (auto e : arr) {
      od::value ev;
      // NOLINTNEXTLINE(performance-move-const-arg): simdjson's get() takes an rvalue
      if (auto err = std::move(e).get(ev)) fail_value(key, vcol, err, "[min, max]");
      if (count < 2)
        bounds[count] = get_finite(ev, "scale");
      else
        walk(ev, 3, "scale");
      ++count;
    }
    if (count != 2 || !(bounds[0] < bounds[1]))
      fail(vcol, "wrong_type", "\"scale\" must be [min, max] with min < max");
    return {bounds[0], bounds[1]};
  }
};

}  // namespace

static_assert(detail::line_padding >= simdjson::SIMDJSON_PADDING, "lines.hpp keeps too little padding");

namespace detail {

struct line_reader::impl {
  reader_options opt;
  record_walker walker;
  id_buffers ids;

  explicit impl(const reader_options& o) : opt(o), walker(o.max_line_bytes) {}

  void reject(read_stats& st, const std::string& path, std::uint64_t line_no, std::uint64_t column,
              const std::string& reason, const std::string& message) {
    if (opt.on_invalid == invalid_policy::stop) throw parse_error(path, line_no, column, reason, message);
    ++st.skipped;
    ++st.skipped_by_reason[reason];
    if (st.first_errors.size() < opt.keep_errors)
      st.first_errors.push_back(line_error{path, line_no, column, reason, message});
  }
};

line_reader::line_reader(const reader_options& options) : impl_(std::make_unique<impl>(options)) {}
line_reader::~line_reader() = default;
line_reader::line_reader(line_reader&&) noexcept = default;
line_reader& line_reader::operator=(line_reader&&) noexcept = default;

void line_reader::read_lines(const std::string& path, const char* data, std::size_t size, std::size_t room,
                             std::uint64_t first_line, const record_sink& sink, read_stats& st) {
  impl& m = *impl_;
  for_each_line(data, size, room, first_line,
                [&](std::uint64_t line_no, const char* p, std::size_t len, std::size_t capacity) {
                  ++st.lines;
                  // The limit is on the line's content: a CRLF line's \r does not count.
                  const bool cr = len > 0 && p[len - 1] == '\r';
                  if (len - cr > m.opt.max_line_bytes) {
                    m.reject(st, path, line_no, m.opt.max_line_bytes + 1, "line_too_long",
                             fmt::format("line is longer than the limit of {} bytes (--max-line-bytes)",
                                         m.opt.max_line_bytes));
                    return;
                  }
                  if (cr) --len;
                  if (std::string_view(p, len).find_first_not_of(" \t") == std::string_view::npos) return;
                  try {
                    // Built in place; the record's feature spans point into `raw`, which outlives the
                    // sink's call. Only the walk and the rules throw line_failure, never the sink.
                    const raw_record raw = m.walker.read(p, len, capacity, st.unknown_fields);
                    sink(resolve_record(raw, m.opt.strict_scale, m.ids));
                  } catch (const line_failure& e) {
                    m.reject(st, path, line_no, e.column, e.reason, e.message);
                    return;
                  }
                  ++st.records;
                });
  // A part's long lines do not hold their memory for the parts that follow.
  m.walker.release_above(std::size_t{1} << 20);
}

}  // namespace detail

struct reader::impl {
  reader_options opt;
  read_stats st;
  detail::line_reader lines;

  explicit impl(reader_options o) : opt(o), lines(o) {}

  // One input, serially: blocks of `block` bytes (lines.hpp), numbered after `first_line` lines.
  void read(const std::string& path, detail::byte_source& src, std::size_t block, std::uint64_t first_line,
            const record_sink& sink) {
    const std::uint64_t before = st.records;
    const std::uint64_t bytes =
        detail::read_blocks(src, block, opt.max_line_bytes, [&](const detail::line_block& b) {
          lines.read_lines(path, b.data, b.size, b.room, first_line + b.first_line, sink, st);
        });
    st.inputs.push_back(input_summary{path, st.records - before, bytes});
  }
};

reader::reader(reader_options options) : impl_(std::make_unique<impl>(options)) {}
reader::~reader() = default;
reader::reader(reader&&) noexcept = default;
reader& reader::operator=(reader&&) noexcept = default;

const read_stats& reader::stats() const noexcept {
  return impl_->st;
}

void reader::read_file(const std::string& path, const record_sink& sink) {
  auto src = detail::byte_source::file(path);
  impl_->read(path, src, chunk_bytes, 0, sink);
}

void reader::read_buffer(std::string_view name, std::string_view data, const record_sink& sink) {
  read_buffer(name, data, sink, 0);
}

void reader::read_buffer(std::string_view name, std::string_view data, const record_sink& sink,
                         std::uint64_t first_line) {
  auto src = detail::byte_source::text(data);
  // A small buffer gets a small block (room for all of it and the end-of-input check).
  impl_->read(std::string(name), src, std::clamp<std::size_t>(data.size() + 1, 64, chunk_bytes), first_line,
              sink);
}

void reader::read_stream(std::string_view name, std::istream& in, const record_sink& sink) {
  auto src = detail::byte_source::stream(in, std::string(name));
  impl_->read(std::string(name), src, chunk_bytes, 0, sink);
}

std::uint64_t count_code_points(std::string_view utf8) noexcept {
  std::uint64_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0u) != 0x80u;
  return n;
}

std::optional<verdict> parse_verdict(std::string_view t) noexcept {
  auto eq = [&](std::string_view w) {
    return t.size() == w.size() && std::equal(t.begin(), t.end(), w.begin(), [](char x, char y) {
             return (x >= 'A' && x <= 'Z' ? static_cast<char>(x - 'A' + 'a') : x) == y;
           });
  };
  if (eq("a") || eq("a>b") || eq("a>>b") || eq("1")) return verdict::a;
  if (eq("b") || eq("b>a") || eq("b>>a") || eq("2")) return verdict::b;
  if (eq("tie") || eq("a=b") || eq("c") || eq("draw")) return verdict::tie;
  return std::nullopt;
}

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::a:
      return "A";
    case verdict::b:
      return "B";
    case verdict::tie:
      return "tie";
    case verdict::missing:
      return "null";
  }
  return "null";
}

validation validate_inputs(const std::vector<std::string>& paths,
                           const std::vector<std::pair<std::string, std::string>>& texts,
                           reader_options options, const std::atomic<bool>* stop) {
  options.on_invalid = invalid_policy::skip;
  reader rd(options);
  validation v;
  auto sink = [&](const record& rec) {
    auto it = v.judges.find(rec.judge);
    if (it == v.judges.end()) it = v.judges.emplace(std::string(rec.judge), judge_counts{}).first;
    judge_counts& c = it->second;
    ++(rec.mode == judgment_mode::pairwise ? c.pairwise : c.pointwise);
    if (rec.is_perturbed()) ++c.perturbed;
    if (rec.score_out_of_scale) ++c.out_of_scale, ++v.out_of_scale;
  };
  for (const auto& p : paths) {
    throw_if_stopped(stop);
    rd.read_file(p, sink);
  }
  for (const auto& [name, text] : texts) {
    throw_if_stopped(stop);
    rd.read_buffer(name, text, sink);
  }
  v.stats = rd.stats();
  return v;
}

}  // namespace judgebias
