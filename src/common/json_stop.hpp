#pragma once
// Where and why nlohmann's parser refused a text, learned by parsing it again (only after a failure)
// with a SAX handler that keeps nothing: a syntax error stops at a byte; a number beyond the range of a
// double (nlohmann's out_of_range.406) ends at one. Its exception text is never shown to a user.

#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace judgebias::detail {

template <class BasicJson>
struct json_stop_point : nlohmann::json_sax<BasicJson> {
  using base = nlohmann::json_sax<BasicJson>;
  std::size_t position = 0;  // nlohmann's count of bytes read: the failing byte's index + 1
  std::string token;         // the token read last
  int id = 0;                // nlohmann's exception id: 406 is a number out of a double's range
  std::string what;          // its message: matched to choose our words, never shown

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(typename base::number_integer_t) override { return true; }
  bool number_unsigned(typename base::number_unsigned_t) override { return true; }
  bool number_float(typename base::number_float_t, const typename base::string_t&) override { return true; }
  bool string(typename base::string_t&) override { return true; }
  bool binary(typename base::binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(typename base::string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& last, const nlohmann::detail::exception& e) override {
    position = pos;
    token = last;
    id = e.id;
    what = e.what();
    return false;
  }
};

/// Where the parser stops on `text`.
template <class BasicJson>
json_stop_point<BasicJson> json_stop_of(std::string_view text) {
  json_stop_point<BasicJson> stop;
  BasicJson::sax_parse(text.data(), text.data() + text.size(), &stop);
  return stop;
}

/// The byte a refusal is reported at (the out-of-range number's first byte, else the refused byte) and
/// a one-line reason, as the importers and the cue template reader word it.
struct json_refusal {
  std::size_t offset = 0;
  std::string message;
};
template <class BasicJson>
json_refusal json_refusal_of(std::string_view text) {
  const auto stop = json_stop_of<BasicJson>(text);
  json_refusal r;
  if (stop.id == 406) {
    r.offset = stop.position >= stop.token.size() ? stop.position - stop.token.size() : 0;
    r.message = fmt::format("number {} is beyond the range of a double (about ±1.8e308)", stop.token);
  } else {
    r.offset = stop.position > 0 ? stop.position - 1 : 0;
    std::string what = stop.what;
    if (auto p = what.find("syntax error"); p != std::string::npos) what = what.substr(p);
    r.message = "not valid JSON: " + what;
  }
  return r;
}

}  // namespace judgebias::detail
