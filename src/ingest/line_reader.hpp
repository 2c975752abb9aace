#pragma once
// Lines → records: each line of a block (lines.hpp) through the field walk and FORMAT v1's rules
// (reader.cpp, format_v1.cpp) under the invalid-line policy, with the counts. One per thread: the reader
// runs one, load() one per thread, each parsing the parts of a block it takes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "judgebias/reader.hpp"

namespace judgebias::detail {

class line_reader {
 public:
  explicit line_reader(const reader_options& options);
  ~line_reader();
  line_reader(line_reader&&) noexcept;
  line_reader& operator=(line_reader&&) noexcept;

  /// Reads the whole lines of [data, data + size), numbered from first_line + 1, of input `path`; `room`
  /// is the readable bytes from data (line_padding past the end at least). Each valid record goes to
  /// `sink`; lines, records, skipped lines and unknown fields are counted in `st` (not st.inputs).
  /// Throws parse_error at the first bad line under the stop policy.
  void read_lines(const std::string& path, const char* data, std::size_t size, std::size_t room,
                  std::uint64_t first_line, const record_sink& sink, read_stats& st);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace judgebias::detail
