#pragma once
// Calls to an OpenAI-compatible server with libcurl's multi interface: N requests in flight on one
// thread, retries with exponential backoff and full jitter (at least what Retry-After asks), and a stop
// at the first answer that no retry can change.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "judgebias/error.hpp"

namespace judgebias::judge {

struct client_options {
  std::string url;      ///< the full URL POSTed to ({endpoint}/chat/completions)
  std::string api_key;  ///< sent as "Authorization: Bearer ..." when not empty; never in a message
  unsigned concurrency = 8;
  double timeout_s = 120;  ///< per attempt, connection included
  unsigned max_retries = 5;
  double backoff_s = 0.5;  ///< the first retry's ceiling; doubled for each further one
  double max_backoff_s = 60;
};

struct call_stats {
  std::uint64_t calls = 0;    ///< attempts sent, retries included
  std::uint64_t retries = 0;  ///< attempts that were repeats
};

/// A call that cannot succeed: a status no retry changes (400, 401, 403, 404, other 4xx), or a
/// retriable fault that lasted through every retry. `job` is the caller's index.
class call_failure : public error {
 public:
  call_failure(std::size_t job, long status, std::string detail)
      : error(detail), job_(job), status_(status), detail_(std::move(detail)) {}
  std::size_t job() const { return job_; }
  long status() const { return status_; }  ///< the HTTP status, or 0 when there was no answer
  const std::string& detail() const { return detail_; }

 private:
  std::size_t job_;
  long status_;
  std::string detail_;
};

/// What the caller says of a 200 answer: empty = taken; otherwise why it is unusable (malformed JSON,
/// no choices), which is retried like a 5xx.
using accept_fn = std::function<std::string(std::size_t job, std::string&& body)>;
using body_fn = std::function<std::string(std::size_t job)>;
using tick_fn = std::function<void(const call_stats&)>;

class chat_client {
 public:
  explicit chat_client(client_options options);
  ~chat_client();
  chat_client(const chat_client&) = delete;
  chat_client& operator=(const chat_client&) = delete;

  /// Sends every job (at most `concurrency` at once), each until accepted; calls `tick` after every
  /// answer and at least four times a second. Throws call_failure at the first job that cannot succeed
  /// (answers already accepted stay accepted), io_error when libcurl cannot start.
  void run(const std::vector<std::size_t>& jobs, const body_fn& body, const accept_fn& accept,
           const tick_fn& tick);

  const call_stats& stats() const { return stats_; }

 private:
  client_options options_;
  call_stats stats_;
};

/// The server's own message in an error answer: "error.message" of a JSON body, else the body's text
/// (at most 300 bytes), with every occurrence of `secret` replaced by "***".
std::string server_message(const std::string& body, const std::string& secret);

/// Seconds that a Retry-After value asks for (a number of seconds or an HTTP date), if it is one.
std::optional<double> retry_after_seconds(const std::string& value);

}  // namespace judgebias::judge
