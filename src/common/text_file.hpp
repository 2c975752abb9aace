#pragma once
// Small text helpers shared by the readers of files that users write by hand (cue and judge templates,
// request lines): reading a whole file with the messages the CLI documents, where an offset is as
// line and column, where a JSON string token ends, white space trimmed.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias::detail {

/// The whole of the file `path`, named `what` in messages ("the template file"). Throws io_error for a
/// folder, a file that cannot be opened, or a read that fails.
inline std::string read_text_file(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw io_error(fmt::format("{}: cannot read {}: it is a directory", path, what));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(fmt::format("{}: cannot open {}: {}", path, what, std::strerror(errno)));
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw io_error(fmt::format("{}: cannot read {}", path, what));
  return buf.str();
}

/// Line and column (1-based, bytes) of an offset in a text.
inline std::pair<std::uint64_t, std::uint64_t> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::uint64_t line = 1;
  std::size_t start = 0;
  for (std::size_t k = 0; k < offset; ++k)
    if (text[k] == '\n') ++line, start = k + 1;
  return {line, offset - start + 1};
}

/// The end (one past the closing quote) of the JSON string token that opens at `at`; the text's size
/// when it is not closed.
inline std::size_t string_end(std::string_view text, std::size_t at) {
  for (std::size_t k = at + 1; k < text.size(); ++k) {
    if (text[k] == '\\')
      ++k;
    else if (text[k] == '"')
      return k + 1;
  }
  return text.size();
}

/// `s` without the white space (space, tab, line ends, ...) around it.
inline std::string_view trimmed(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace judgebias::detail
