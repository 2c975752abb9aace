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
bool under_system_folder(const std::string& normal) {
  return normal.rfind("/dev/", 0) == 0 || normal.rfind("/proc/", 0) == 0 || normal.rfind("/sys/", 0) == 0;
}

// What the target is: a file to replace atomically (a regular file, or nothing yet), or something to
// write through (a device, a FIFO, a socket; anything under /dev, /proc or /sys, or reached by a link
// into them, such as /dev/stdout or a link to /proc/self/fd/1), which is never replaced.
struct target_kind {
  bool exists = false;
  bool through = false;
  struct stat st {};
};
target_kind kind_of(const std::string& path) {
  target_kind k;
  k.exists = ::stat(path.c_str(), &k.st) == 0;
  bool system = under_system_folder(normal_path(path));
  struct stat link {};
  if (!system && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
    std::error_code ec;
    fs::path to = fs::read_symlink(path, ec);
    if (!ec) {
      if (to.is_relative()) to = fs::path(normal_path(path)).parent_path() / to;
      system = under_system_folder(to.lexically_normal().string());
    }
  }
  k.through = system || (k.exists && !S_ISREG(k.st.st_mode));
  return k;
}

// Nothing is created where only devices and the kernel's files live (or through a link that leads
// there: a closed /proc/self/fd/N).
std::string no_new_file(const std::string& path) {
  return fmt::format("{}: cannot create a file in {}: it does not exist, and /dev, /proc and /sys take no "
                     "new files",
                     path, folder_of(path).string());
}

// The standard output or error the target is, if it is one of them (the same open file).
int standard_stream_of(const struct stat& st) {
  for (int fd : {1, 2}) {
    struct stat s {};
    if (::fstat(fd, &s) == 0 && s.st_dev == st.st_dev && s.st_ino == st.st_ino && S_ISREG(s.st_mode))
      return fd;
  }
  return -1;
}

// False on a write error, with errno set.
bool write_all(int fd, const std::string& content) {
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
      if (!k.exists) throw io_error(no_new_file(out.path));
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
    if (!k.exists) {
      const int own = ::open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (own < 0) throw io_error(fmt::format("{}: cannot create: {}", out.path, std::strerror(errno)));
      ::close(own);
      ::unlink(out.path.c_str());
    }
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const target_kind k = kind_of(path);
  const struct stat& existing = k.st;
  const bool exists = k.exists;
  if (exists && S_ISDIR(existing.st_mode)) throw io_error(fmt::format("{}: is a folder", path));
  if (k.through) {
    if (!exists) throw io_error(no_new_file(path));
    // /dev/stdout or /dev/stderr redirected to a file (perhaps with >>): written where that stream is,
    // after what it already holds, never truncated.
    const int stream = standard_stream_of(existing);
    if (stream >= 0) {
      std::fflush(stream == 1 ? stdout : stderr);
      if (!write_all(stream, content))
        throw io_error(fmt::format("{}: write failed: {}", path, std::strerror(errno)));
      return;
    }
    // Devices, FIFOs and sockets are opened as they are: no truncation, which some devices refuse.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw io_error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    if (!write_all(fd, content)) {
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
  if (!write_all(fd, content)) fail("write failed");
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

}  // namespace judgebias
