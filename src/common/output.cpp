// Output files: checked before anything is read, then written atomically (or through, for devices).
#include "judgebias/output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <ostream>
#include <streambuf>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias {

namespace {

namespace fs = std::filesystem;

// The temporary file of the write in progress, for remove_pending_temporary(): a fixed buffer, so that
// a signal handler can read it without allocating.
std::array<char, 4352> pending_path{};
volatile std::sig_atomic_t pending_set = 0;

void set_pending(const std::string& path) noexcept {
  if (path.size() >= pending_path.size()) return;  // too long to keep: an interrupted write may leave it
  std::memcpy(pending_path.data(), path.c_str(), path.size() + 1);
  std::atomic_signal_fence(std::memory_order_seq_cst);  // the name is whole before the flag says so
  pending_set = 1;
}
void clear_pending() noexcept {
  pending_set = 0;
}

fs::path folder_of(const std::string& path) {
  const fs::path target(path);
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

// The temporary name is short and fixed in length, so that any name the target may have fits.
std::string temporary_template(const fs::path& dir) {
  return (dir / ".judgebias-XXXXXX").string();
}

// The path made absolute and normal (no ".", "..", or doubled slashes), without following links.
std::string normal_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) p = path;
  return p.lexically_normal().string();
}
// The descriptor a path names, when it names one of this process's: /dev/stdin, /dev/stdout,
// /dev/stderr, /dev/fd/N, /proc/self/fd/N or /proc/PID/fd/N with our PID; else -1.
int descriptor_named(const std::string& normal) {
  auto number = [](std::string_view digits) {
    if (digits.empty() || digits.size() > 9 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos)
      return -1;
    return std::stoi(std::string(digits));
  };
  const std::string_view p(normal);
  if (p == "/dev/stdin") return 0;
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  if (p.rfind("/dev/fd/", 0) == 0) return number(p.substr(8));
  const std::string own = fmt::format("/proc/{}/fd/", ::getpid());
  if (p.rfind("/proc/self/fd/", 0) == 0) return number(p.substr(14));
  if (p.rfind(own, 0) == 0) return number(p.substr(own.size()));
  return -1;
}

// What the target is: a file to replace atomically (a regular file, or nothing yet, or a link to
// either, which is replaced as a link), or something written through and never replaced: a device, a
// FIFO or a socket, or one of this process's descriptors by name (/dev/stdout, /dev/fd/5, a chain of
// links that ends at /proc/self/fd/1), which is written at the descriptor itself, after what it holds.
struct target_kind {
  bool exists = false;
  bool through = false;
  bool link = false;  // the path itself is a symbolic link
  int fd = -1;        // the descriptor it names, or -1
  struct stat st {};
};
target_kind kind_of(const std::string& path) {
  target_kind k;
  k.exists = ::stat(path.c_str(), &k.st) == 0;
  struct stat l {};
  k.link = ::lstat(path.c_str(), &l) == 0 && S_ISLNK(l.st_mode);
  // Follow the links by hand (at most 40, as the kernel does), stopping at a name of a descriptor: the
  // kernel would resolve /proc/self/fd/N to the file behind it, whose name says nothing of the stream.
  std::string at = normal_path(path);
  for (int hop = 0; hop <= 40 && k.fd < 0; ++hop) {
    k.fd = descriptor_named(at);
    if (k.fd >= 0 || ::lstat(at.c_str(), &l) != 0 || !S_ISLNK(l.st_mode)) break;
    std::error_code ec;
    fs::path to = fs::read_symlink(at, ec);
    if (ec) break;
    if (to.is_relative()) to = fs::path(at).parent_path() / to;
    at = to.lexically_normal().string();
  }
  k.through = k.fd >= 0 || (k.exists && !S_ISREG(k.st.st_mode));
  return k;
}

// False on a write error, with errno set.
bool write_all(int fd, std::string_view content) {
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// What identifies an output: its device and inode when it exists, else its absolute path.
struct identity {
  std::optional<std::pair<dev_t, ino_t>> inode;
  std::string path;
  bool device = false;  // a device (/dev/null, a terminal) may well be named twice: never the same
  bool operator==(const identity& o) const {
    if (device || o.device) return false;
    return inode || o.inode ? inode == o.inode : path == o.path;
  }
};

identity identify(const std::string& path) {
  identity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {  // only files and FIFOs are compared
    if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))
      id.inode = std::make_pair(st.st_dev, st.st_ino);
    else
      id.device = true;
  }
  std::error_code ec;
  id.path = fs::weakly_canonical(fs::absolute(path, ec), ec).lexically_normal().string();
  if (ec) id.path = path;
  return id;
}

}  // namespace

void check_paths(const std::vector<std::string>& inputs, const std::vector<output_path>& outputs) {
  std::vector<std::pair<const std::string*, identity>> ins;
  for (const auto& in : inputs) {
    if (in.empty()) throw usage_error("an empty path names no input file");
    identity id;
    if (in == "-") {  // standard input redirected from a file is that file
      struct stat st {};
      if (::fstat(0, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      id.inode = std::make_pair(st.st_dev, st.st_ino);
      id.path.assign(1, '-');
    } else {
      id = identify(in);
    }
    for (const auto& [name, other] : ins)
      if (id.inode && other == id)
        throw usage_error(
            in == *name ? fmt::format("{} is given twice: its records would all count as duplicates", in)
                        : fmt::format("{} and {} are the same file: its records would all count as "
                                      "duplicates",
                                      *name, in));
    ins.emplace_back(&in, std::move(id));
  }
  std::vector<identity> outs;
  for (const auto& out : outputs) {
    if (out.path.empty()) throw usage_error(fmt::format("{}: an empty path names no file", out.option));
    const identity id = identify(out.path);
    if (out.path != "-") {
      for (const auto& [name, in] : ins)
        if (in.inode && in == id)
          throw usage_error(
              fmt::format("{} {} is the input {}: it would be overwritten", out.option, out.path, *name));
      for (std::size_t k = 0; k < outs.size(); ++k)
        if (outputs[k].path != "-" && outs[k] == id)
          throw usage_error(fmt::format("{} {} and {} {} are the same file", outputs[k].option,
                                        outputs[k].path, out.option, out.path));
    }
    outs.push_back(id);
  }
  // Each output's folder must take a new file (probed with one, and with the output's own name when it
  // does not exist yet: a name too long fails now, not after the work); what is written through must
  // exist.
  for (const auto& out : outputs) {
    if (out.path == "-") continue;
    const target_kind k = kind_of(out.path);
    if (k.exists && S_ISDIR(k.st.st_mode)) throw io_error(fmt::format("{}: is a folder", out.path));
    if (k.through) {
      if (k.fd >= 0 && ::fcntl(k.fd, F_GETFD) < 0)
        throw io_error(fmt::format("{}: names descriptor {}, which is not open", out.path, k.fd));
      continue;
    }
    const fs::path dir = folder_of(out.path);
    std::string probe = temporary_template(dir);
    const int fd = ::mkstemp(probe.data());
    if (fd < 0)
      throw io_error(
          fmt::format("{}: cannot create a file in {}: {}", out.path, dir.string(), std::strerror(errno)));
    ::close(fd);
    ::unlink(probe.c_str());
    if (!k.exists && !k.link) {  // (a dangling link is replaced as a link)
      const int own = ::open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (own < 0) throw io_error(fmt::format("{}: cannot create: {}", out.path, std::strerror(errno)));
      ::close(own);
      ::unlink(out.path.c_str());
    }
  }
}

namespace {

// A write that failed inside produce(): errno at the failure, carried out of it.
struct write_failed {
  int err;
};

// Runs produce() with a sink that writes to fd; false (errno set) if a write failed. Other exceptions
// of produce() pass through.
bool produce_into(int fd, const std::function<void(const text_sink&)>& produce) {
  const text_sink sink = [fd](std::string_view piece) {
    if (!write_all(fd, piece)) throw write_failed{errno};
  };
  try {
    produce(sink);
  } catch (const write_failed& f) {
    errno = f.err;
    return false;
  }
  return true;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, [&](const text_sink& sink) { sink(content); });
}

void write_file_atomic(const std::string& path, const std::function<void(const text_sink&)>& produce) {
  const target_kind k = kind_of(path);
  const struct stat& existing = k.st;
  const bool exists = k.exists;
  if (exists && S_ISDIR(existing.st_mode)) throw io_error(fmt::format("{}: is a folder", path));
  if (k.through) {
    // One of our descriptors by name (/dev/stdout redirected with >>, /dev/fd/5): written at that
    // descriptor, after what it already holds, never truncated.
    if (k.fd >= 0) {
      if (k.fd == 1) std::fflush(stdout);
      if (k.fd == 2) std::fflush(stderr);
      if (::fcntl(k.fd, F_GETFD) < 0)
        throw io_error(fmt::format("{}: names descriptor {}, which is not open", path, k.fd));
      if (!produce_into(k.fd, produce))
        throw io_error(fmt::format("{}: write failed: {}", path, std::strerror(errno)));
      return;
    }
    // Devices, FIFOs and sockets are opened as they are: no truncation, which some devices refuse.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw io_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    bool written = false;
    try {
      written = produce_into(fd, produce);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (!written) {
      const int err = errno;
      ::close(fd);
      throw io_error(fmt::format("{}: write failed: {}", path, std::strerror(err)));
    }
    if (::close(fd) != 0) throw io_error(fmt::format("{}: close failed: {}", path, std::strerror(errno)));
    return;
  }

  const fs::path dir = folder_of(path);
  std::string tmpl = temporary_template(dir);
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw io_error(
        fmt::format("{}: cannot create a file in {}: {}", path, dir.string(), std::strerror(errno)));
  set_pending(tmpl);
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    clear_pending();
    throw io_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
  };
  bool written = false;
  try {
    written = produce_into(fd, produce);
  } catch (...) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    clear_pending();
    throw;
  }
  if (!written) fail("write failed");
  if (::fsync(fd) != 0) fail("flush failed");
  // mkstemp creates 0600: a new report is an ordinary file (0666 less the umask); a replaced one keeps
  // its permission bits and, where allowed, its owner.
  if (exists) {
    ::fchmod(fd, existing.st_mode & 07777);
    if (::fchown(fd, existing.st_uid, existing.st_gid) != 0) {
      // Not allowed for others' files; the permission bits still hold.
    }
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    clear_pending();
    throw io_error(fmt::format("{}: close failed: {}", path, std::strerror(err)));
  }
  if (std::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    clear_pending();
    throw io_error(fmt::format("{}: cannot rename into place: {}", path, std::strerror(err)));
  }
  clear_pending();
}

void remove_pending_temporary() noexcept {
  if (pending_set) ::unlink(pending_path.data());
}

namespace {

// A stream buffer that passes what is written to a text_sink in pieces of its size.
class sink_buffer final : public std::streambuf {
 public:
  explicit sink_buffer(const text_sink& sink) : sink_(sink) { reset(); }

 protected:
  int_type overflow(int_type ch) override {
    pass();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override {
    pass();
    return 0;
  }

 private:
  void reset() { setp(piece_.data(), piece_.data() + piece_.size()); }
  void pass() {
    if (pptr() > pbase()) sink_(std::string_view(pbase(), static_cast<std::size_t>(pptr() - pbase())));
    reset();
  }
  const text_sink& sink_;
  std::array<char, std::size_t{64} << 10> piece_{};
};

}  // namespace

void write_stream_atomic(const std::string& path, const std::function<void(std::ostream&)>& produce) {
  write_file_atomic(path, [&](const text_sink& sink) {
    sink_buffer buffer(sink);
    std::ostream out(&buffer);
    out.exceptions(std::ios::badbit);  // the sink's exception, not a quiet failed stream
    produce(out);
    out.flush();
  });
}

}  // namespace judgebias
