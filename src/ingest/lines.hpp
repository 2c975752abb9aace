#pragma once
// Bytes → lines: the one place where judgment input is cut into lines. A source (a file, standard input,
// text in memory or a stream) is read in blocks of whole lines (block_reader, or read_blocks over it), and
// a block is split at its newlines (for_each_line). A line over the limit is cut short: the block ends after
// its first bytes, which the line reader rejects as too long, and the rest of the line is dropped, so memory
// stays bounded by the block size and the limit. The serial reader and the parallel load() share both.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <istream>
#include <memory>
#include <optional>
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

/// Reads `src` in blocks of whole lines of about `block_bytes` (more for a longer line: the bytes read
/// double until the line ends or passes max_line_bytes + 1, so a block may reach about twice that). A
/// block's memory is reused by the next call, unless that call keeps it (with two buffers): it then stays
/// readable and unchanged until the call after, so that one block can be parsed while the next is read.
/// With two buffers, a buffer grown for a long line is given back when the next block but one is read
/// into the other buffer, so that two large ones are held only for long lines in two blocks in a row, the
/// second read while the first was kept; a block read in place, and any with one buffer, keeps the buffer
/// as it grew.
class block_reader {
 public:
  block_reader(byte_source& src, std::size_t block_bytes, std::uint64_t max_line_bytes, std::size_t buffers)
      : src_(src), block_bytes_(block_bytes), max_line_bytes_(max_line_bytes), target_(block_bytes) {
    bufs_.resize(std::clamp<std::size_t>(buffers, 1, 2));
    bufs_[0].resize(block_bytes + line_padding);
  }

  /// The next block in `out`, or false at the input's end; `keep_last`: the block last returned is still
  /// in use (two buffers only). Throws io_error.
  bool next(line_block& out, bool keep_last) {
    assert(!keep_last || bufs_.size() == 2);
    if (have_block_ && !advance(keep_last)) return false;
    have_block_ = false;
    std::vector<char>& buf = bufs_[now_];
    while (true) {
      while (!eof_ && filled_ < target_) {
        if (buf.size() < target_ + line_padding) buf.resize(target_ + line_padding);
        const std::size_t got = src_.read(buf.data() + filled_, target_ - filled_);
        if (got == 0) eof_ = true;
        filled_ += got;
        bytes_ += got;
      }
      if (discarding_) {  // the rest of a line already cut as too long
        const char* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', filled_));
        const std::size_t drop = nl ? static_cast<std::size_t>(nl - buf.data()) + 1 : filled_;
        discarding_ = nl == nullptr;
        std::memmove(buf.data(), buf.data() + drop, filled_ - drop);
        filled_ -= drop;
        if (eof_ && filled_ == 0) return false;
        continue;
      }
      // Whole lines only (all of it at the end of the input).
      cut_ = filled_;
      cut_short_ = false;
      if (!eof_) {
        const std::size_t last = std::string_view(buf.data(), filled_).rfind('\n');
        if (last == std::string_view::npos) {
          if (filled_ <= max_line_bytes_ + 1) {  // a line longer than the block: read more of it (+ 1: a \r)
            target_ = filled_ * 2;
            continue;
          }
          cut_short_ = true;  // over the limit: its first bytes go to the line reader, which rejects them
        } else {
          cut_ = last + 1;
        }
      }
      if (cut_ == 0) return false;
      std::memset(buf.data() + filled_, 0, line_padding);  // what follows the input's last line is defined
      out = line_block{buf.data(), cut_, buf.size(), line_base_, bytes_ - (filled_ - cut_)};
      have_block_ = true;
      return true;
    }
  }

  /// The newlines in [data, data + size) of the block last returned, when the caller has counted them:
  /// the next block's first_line adds `n` as given, unchecked, so a wrong count shifts every later line
  /// number. Without it the reader counts them itself when the next block is read.
  void set_newlines(std::uint64_t n) noexcept { newlines_ = n; }

  /// The bytes read so far (all of the input's once next() has returned false).
  std::uint64_t bytes() const noexcept { return bytes_; }
  /// The bytes its buffers hold now.
  std::size_t held() const noexcept { return bufs_[0].size() + (bufs_.size() > 1 ? bufs_[1].size() : 0); }

 private:
  // Past the block last returned: its lines counted, the bytes after it moved to the start of the buffer
  // the next block fills (the other one when the block is kept). False at the input's end.
  bool advance(bool keep_last) {
    std::vector<char>& from = bufs_[now_];
    line_base_ += newlines_ ? *newlines_ : count_newlines(from.data(), from.data() + cut_);
    newlines_.reset();
    if (cut_ == filled_ && eof_) return false;
    const std::size_t rest = filled_ - cut_;
    // The other buffer's block (the one before the last) is done: one grown past twice what the next
    // block needs is given back.
    const std::size_t need = std::max(block_bytes_, rest) + line_padding;
    if (bufs_.size() == 2 && bufs_[now_ ^ 1].size() > 2 * need) std::vector<char>().swap(bufs_[now_ ^ 1]);
    if (!keep_last) {
      std::memmove(from.data(), from.data() + cut_, rest);
    } else {
      std::vector<char>& to = bufs_[now_ ^ 1];
      if (to.size() < need) std::vector<char>(need).swap(to);
      std::memcpy(to.data(), from.data() + cut_, rest);
      now_ ^= 1;
    }
    filled_ = rest;
    target_ = block_bytes_;
    if (cut_short_) {
      discarding_ = true;
      line_base_ += 1;
    }
    return true;
  }

  byte_source& src_;
  std::size_t block_bytes_;
  std::uint64_t max_line_bytes_;
  std::vector<std::vector<char>> bufs_;
  std::size_t now_ = 0;     // the buffer of the block being read
  std::size_t filled_ = 0;  // its bytes read
  std::size_t target_;      // the bytes to read before looking for the last newline
  std::size_t cut_ = 0;     // the end of its whole lines
  bool eof_ = false, discarding_ = false, cut_short_ = false, have_block_ = false;
  std::uint64_t line_base_ = 0, bytes_ = 0;
  std::optional<std::uint64_t> newlines_;  // set_newlines() of the block last returned
};

/// Reads `src` to its end and calls on_block(const line_block&) for each block (block_reader, one
/// buffer: the block's memory is reused once on_block returns). Returns the bytes read.
template <class OnBlock>
std::uint64_t read_blocks(byte_source& src, std::size_t block_bytes, std::uint64_t max_line_bytes,
                          OnBlock&& on_block) {
  block_reader blocks(src, block_bytes, max_line_bytes, 1);
  line_block b;
  while (blocks.next(b, false)) on_block(b);
  return blocks.bytes();
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
