#pragma once
// An input file ("-" = standard input) opened for reading, with the errors judgebias reports.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias::detail {

class input_file {
 public:
  explicit input_file(std::string path) : path_(std::move(path)) {
    if (path_ == "-") return;
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw io_error(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
    owned_ = true;
    struct stat sb {};
    if (::fstat(fd_, &sb) == 0 && S_ISDIR(sb.st_mode))
      throw io_error(fmt::format("{}: is a directory, not a judgment file", path_));
    if (S_ISREG(sb.st_mode)) size_ = static_cast<std::uint64_t>(sb.st_size);
  }
  /// The file's size when it is a regular file, else 0 (standard input, a pipe).
  std::uint64_t size() const noexcept { return size_; }
  ~input_file() {
    if (owned_) ::close(fd_);
  }
  input_file(const input_file&) = delete;
  input_file& operator=(const input_file&) = delete;

  /// Reads up to `room` bytes; 0 at the end. Throws io_error.
  std::size_t read(char* dst, std::size_t room) {
    while (true) {
      const ssize_t n = ::read(fd_, dst, room);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno == EINTR) continue;
      throw io_error(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
    }
  }

 private:
  std::string path_;
  int fd_ = 0;
  bool owned_ = false;
  std::uint64_t size_ = 0;
};

}  // namespace judgebias::detail
