#pragma once
// The runner's cache: one file per request, named by the SHA-256 of everything that determines the
// server's answer, holding the answer as the server sent it. Written atomically, so that a process
// killed at any moment leaves whole entries or none.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace judgebias::judge {

/// The key of one request: the hash of the URL it is sent to, its whole body (the model, the messages,
/// every sampling and log-probability setting) and its run index. The API key is not part of it.
std::string cache_key(std::string_view url, std::string_view body, std::uint64_t run);

class response_cache {
 public:
  /// `dir` empty: no cache (every lookup misses, nothing is stored).
  explicit response_cache(std::string dir);
  /// The stored answer, when there is a whole, parseable entry for the key.
  std::optional<std::string> get(const std::string& key) const;
  /// Stores an answer (creating the folders it needs). Throws io_error.
  void put(const std::string& key, const std::string& answer) const;
  /// Removes the temporary files that writers killed mid-write left (`.tmp-<pid>-<key>` in the cache
  /// folder, of processes that no longer run).
  void remove_stale_temporaries() const;
  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

 private:
  std::string path_of(const std::string& key) const;
  std::string dir_;
};

}  // namespace judgebias::judge
