#pragma once
// Bytes → lines: the one place where judgment input is cut into lines. A source (a file, standard input,
// text in memory or a stream) is read in blocks of whole lines (read_blocks), and a block is split at its
// newlines (for_each_line). A line over the limit is cut short: the block ends after its first bytes,
// which the line reader rejects as too long, and the rest of the line is dropped, so memory stays bounded
// by the block size and the limit. The serial reader and the parallel load() share both.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "ingest/input_file.hpp"
#include "judgebias/error.hpp"

namespace judgebias::detail {

/// Readable bytes kept after the end of every block: simdjson may read that far past a line's end
/// (reader.cpp checks that this is at least simdjson's padding).
inline constexpr std::size_t line_padding = 64;

/// Where the bytes come from: a file ("-" = standard input), text in memory or a stream.
class byte_source {
 public:
  /// Opens the file now. Throws io_error.
  static byte_source file(const std::string& path) {
    byte_source s;
    s.file_ = std::make_unique<input_file>(path);
    return s;
  }
  /// Text in memory, which must outlive the source.
  static byte_source text(std::string_view data) {
    byte_source s;
    s.text_ = data;
    return s;
  }
  /// A stream, read to its end; `name` names it in errors.
  static byte_source stream(std::istream& in, std::string name) {
    byte_source s;
    s.stream_ = &in;
    s.name_ = std::move(name);
    return s;
  }

  /// The size when it is known (a regular file, a text), else 0.
  std::uint64_t size() const noexcept {
    if (file_) return file_->size();
    return stream_ ? 0 : text_.size();
  }

  /// Reads up to `room` bytes; 0 at the end. Throws io_error.
  std::size_t read(char* dst, std::size_t room) {
    if (file_) return file_->read(dst, room);
    if (stream_) {
      stream_->read(dst, static_cast<std::streamsize>(room));
      if (stream_->bad()) throw io_error(fmt::format("{}: read failed", name_));
      return static_cast<std::size_t>(stream_->gcount());
    }
    const std::size_t n = std::min(room, text_.size() - pos_);
    std::memcpy(dst, text_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  byte_source() = default;
  std::unique_ptr<input_file> file_;
  std::string_view text_;
  std::size_t pos_ = 0;
  std::istream* stream_ = nullptr;
  std::string name_;
};

/// The newlines in [begin, end), found by memchr: several times faster than std::count on lines of
/// JSON, which are tens of bytes long or more.
inline std::uint64_t count_newlines(const char* begin, const char* end) noexcept {
  std::uint64_t n = 0;
  while (begin < end) {
    const void* nl = std::memchr(begin, '\n', static_cast<std::size_t>(end - begin));
    if (!nl) break;
    ++n;
    begin = static_cast<const char*>(nl) + 1;
  }
  return n;
}

/// Whole lines of the input, in its order.
struct line_block {
  const char* data = nullptr;
  /// Whole lines; the last one lacks its newline only at the end of the input, or when it is the first
  /// bytes (more than the limit + 1) of a line over the limit.
  std::size_t size = 0;
  std::size_t room = 0;          ///< Readable bytes from data: size and at least line_padding more.
  std::uint64_t first_line = 0;  ///< Lines of the input before the block.
  std::uint64_t done = 0;        ///< Bytes of the input up to the block's end.
};

/// Reads `src` to its end and calls on_block(const line_block&) for each block of about `block_bytes`
/// (more for a longer line, up to max_line_bytes + 1). Returns the bytes read. The block's memory is
/// reused once on_block returns.
template <class OnBlock>
std::uint64_t read_blocks(byte_source& src, std::size_t block_bytes, std::uint64_t max_line_bytes,
                          OnBlock&& on_block) {
  std::vector<char> buf(block_bytes + line_padding);
  std::size_t filled = 0, target = block_bytes;
  bool eof = false, discarding = false;
  std::uint64_t line_base = 0, bytes = 0;
  while (true) {
    while (!eof && filled < target) {
      if (buf.size() < target + line_padding) buf.resize(target + line_padding);
      const std::size_t got = src.read(buf.data() + filled, target - filled);
      if (got == 0) eof = true;
      filled += got;
      bytes += got;
    }
    if (discarding) {  // the rest of a line already cut as too long
      const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', filled));
      const std::size_t drop = nl ? static_cast<std::size_t>(nl - buf.data()) + 1 : filled;
      discarding = nl == nullptr;
      std::memmove(buf.data(), buf.data() + drop, filled - drop);
      filled -= drop;
      if (eof && filled == 0) break;
      continue;
    }
    // Whole lines only (all of it at the end of the input).
    std::size_t cut = filled;
    bool cut_short = false;
    if (!eof) {
      const std::size_t last = std::string_view(buf.data(), filled).rfind('\n');
      if (last == std::string_view::npos) {
        if (filled <= max_line_bytes + 1) {  // a line longer than the block: read more of it (+ 1: a \r)
          target = filled * 2;
          continue;
        }
        cut_short = true;  // over the limit: its first bytes go to the line reader, which rejects them
      } else {
        cut = last + 1;
      }
    }
    if (cut == 0) break;
    std::memset(buf.data() + filled, 0, line_padding);  // what follows the input's last line is defined
    on_block(line_block{buf.data(), cut, buf.size(), line_base, bytes - (filled - cut)});
    line_base += count_newlines(buf.data(), buf.data() + cut);
    if (cut == filled && eof) break;
    std::memmove(buf.data(), buf.data() + cut, filled - cut);
    filled -= cut;
    target = block_bytes;
    if (cut_short) {
      discarding = true;
      line_base += 1;
    }
  }
  return bytes;
}

/// Calls on_line(number, start, length, room) for each line of [data, data + size), numbered from
/// first_line + 1; a line excludes its newline (not a \r before it), `room` counts the readable bytes
/// from its start. A final line without a newline counts; an empty block has no lines.
template <class OnLine>
void for_each_line(const char* data, std::size_t size, std::size_t room, std::uint64_t first_line,
                   OnLine&& on_line) {
  std::uint64_t line_no = first_line;
  for (std::size_t begin = 0; begin < size;) {
    const char* nl = static_cast<const char*>(std::memchr(data + begin, '\n', size - begin));
    const std::size_t stop = nl ? static_cast<std::size_t>(nl - data) : size;
    on_line(++line_no, data + begin, stop - begin, room - begin);
    begin = stop + 1;
  }
}

}  // namespace judgebias::detail
