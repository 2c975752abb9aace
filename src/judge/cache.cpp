// Entries live at DIR/<first two hex digits>/<key>.json, so that no folder holds more than a few
// thousand files for a million requests.
#include "judge/cache.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "judge/sha256.hpp"
#include "judgebias/error.hpp"

namespace judgebias::judge {

std::string cache_key(std::string_view url, std::string_view body, std::uint64_t run) {
  sha256 h;
  // Each part with its length, so that no two different triples hash the same text.
  for (std::string_view part : {std::string_view("judgebias-cache/1"), url, body}) {
    h.update(fmt::format("{}:", part.size()));
    h.update(part);
  }
  h.update(fmt::format("run:{}", run));
  return h.hex();
}

response_cache::response_cache(std::string dir) : dir_(std::move(dir)) {}

std::string response_cache::path_of(const std::string& key) const {
  return (std::filesystem::path(dir_) / key.substr(0, 2) / (key + ".json")).string();
}

std::optional<std::string> response_cache::get(const std::string& key) const {
  if (dir_.empty()) return std::nullopt;
  std::ifstream in(path_of(key), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  // An entry that is not JSON (edited by hand, or a disk fault) is asked again, not trusted.
  if (!nlohmann::json::accept(text)) return std::nullopt;
  return text;
}

void response_cache::put(const std::string& key, const std::string& answer) const {
  if (dir_.empty()) return;
  const std::filesystem::path folder = std::filesystem::path(dir_) / key.substr(0, 2);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec)
    throw io_error(fmt::format("{}: cannot create the cache folder: {}", folder.string(), ec.message()));
  // A temporary file renamed into place: a process killed at any moment leaves a whole entry or none.
  // Not flushed to the disk (that would cost a disk round trip per request): after a power cut an
  // entry may be empty, which get() takes for a miss.
  const std::string target = path_of(key);
  const std::string temporary =
      (std::filesystem::path(dir_) / fmt::format(".tmp-{}-{}", static_cast<long>(::getpid()), key)).string();
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << answer;
    out.close();
    if (!out) {
      std::filesystem::remove(temporary, ec);
      throw io_error(fmt::format("{}: cannot write the cache entry", temporary));
    }
  }
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw io_error(fmt::format("{}: cannot write the cache entry: {}", target, ec.message()));
  }
}

void response_cache::remove_stale_temporaries() const {
  if (dir_.empty()) return;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + 5, nullptr, 10);
    // A writer that is gone (killed mid-write) left it; a live one's is its own business. Older than a
    // minute too, in case the folder is shared with processes this one cannot see (another container).
    const auto written = std::filesystem::last_write_time(e.path(), ec);
    if (ec || std::filesystem::file_time_type::clock::now() - written < std::chrono::minutes(1)) continue;
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      std::filesystem::remove(e.path(), ec);
  }
}

}  // namespace judgebias::judge
