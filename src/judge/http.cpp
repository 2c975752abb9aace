// The multi loop: a free slot takes the next job whose time has come (new jobs in order, retries when
// their backoff ends); an answer is accepted, retried, or the end of the run.
#include "judge/http.hpp"

#include "judge/curl_api.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <deque>
#include <mutex>
#include <queue>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace judgebias::judge {

namespace {

using clock_type = std::chrono::steady_clock;

// One transfer slot: an easy handle reused across jobs, so that connections stay open.
struct slot {
  CURL* easy = nullptr;
  std::size_t job = 0;
  unsigned attempt = 0;
  bool busy = false;
  std::string body, reply, retry_after;
  char error[CURL_ERROR_SIZE] = {};
};

std::size_t on_data(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<slot*>(user)->reply.append(p, size * n);
  return size * n;
}

std::size_t on_header(char* p, std::size_t size, std::size_t n, void* user) {
  const std::string_view line(p, size * n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    bool same = true;
    for (std::size_t k = 0; k < name.size() && same; ++k)
      same = std::tolower(static_cast<unsigned char>(line[k])) == name[k];
    if (same) {
      std::string v(line.substr(name.size()));
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.erase(v.begin());
      static_cast<slot*>(user)->retry_after = std::move(v);
    }
  }
  return size * n;
}

// A fault a later attempt may not meet: a timeout, a refused or reset connection, nothing received.
bool retriable(CURLcode c) {
  switch (c) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_OUT_OF_MEMORY:
      return false;
    default:
      return true;
  }
}

bool retriable_status(long s) {
  return s == 408 || s == 429 || s >= 500;
}

struct pending_retry {
  clock_type::time_point at;
  std::size_t job;
  unsigned attempt;
  bool operator>(const pending_retry& o) const { return at > o.at; }
};

}  // namespace

std::string server_message(const std::string& body, const std::string& secret) {
  std::string text;
  try {
    const auto j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains("error")) {
      const auto& e = j["error"];
      if (e.is_object() && e.contains("message") && e["message"].is_string())
        text = e["message"].get<std::string>();
      else if (e.is_string())
        text = e.get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  if (text.empty()) text = body;
  // The key out first, over the whole text: cut first, and a key that straddles the cut would show.
  if (!secret.empty())
    for (std::size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 3))
      text.replace(p, secret.size(), "***");
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return text;
}

std::optional<double> retry_after_seconds(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return value.size() > 9 ? 1e9 : std::stod(value);
  // An HTTP date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT": libcurl parses it.
  const time_t when = curl().getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::max(0.0, std::difftime(when, std::time(nullptr)));
}

chat_client::chat_client(client_options options) : options_(std::move(options)) {
  curl();  // loaded and initialised here, so that a missing libcurl is reported before any work
  options_.concurrency = std::max(1u, options_.concurrency);
}

chat_client::~chat_client() = default;

void chat_client::run(const std::vector<std::size_t>& jobs, const body_fn& body_of, const accept_fn& accept,
                      const tick_fn& tick) {
  CURLM* multi = curl().multi_init();
  if (!multi) throw io_error("libcurl could not start a transfer");
  curl_slist* headers = curl().slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" for large bodies: a server that does not answer it costs a second wait.
  headers = curl().slist_append(headers, "Expect:");
  if (!options_.api_key.empty())
    headers = curl().slist_append(headers, ("Authorization: Bearer " + options_.api_key).c_str());
  std::vector<slot> slots(std::min<std::size_t>(options_.concurrency, std::max<std::size_t>(jobs.size(), 1)));
  // Everything libcurl holds is released on every way out, a thrown call_failure included.
  struct cleanup {
    CURLM* multi;
    curl_slist* headers;
    std::vector<slot>& slots;
    ~cleanup() {
      for (auto& s : slots)
        if (s.easy) {
          curl().multi_remove_handle(multi, s.easy);
          curl().easy_cleanup(s.easy);
        }
      curl().multi_cleanup(multi);
      curl().slist_free_all(headers);
    }
  } guard{multi, headers, slots};
  for (auto& s : slots) {
    s.easy = curl().easy_init();
    if (!s.easy) throw io_error("libcurl could not start a transfer");
    curl().easy_setopt(s.easy, CURLOPT_URL, options_.url.c_str());
    curl().easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl().easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, on_data);
    curl().easy_setopt(s.easy, CURLOPT_WRITEDATA, &s);
    curl().easy_setopt(s.easy, CURLOPT_HEADERFUNCTION, on_header);
    curl().easy_setopt(s.easy, CURLOPT_HEADERDATA, &s);
    curl().easy_setopt(s.easy, CURLOPT_ERRORBUFFER, s.error);
    curl().easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl().easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, static_cast<long>(std::ceil(options_.timeout_s * 1000)));
    curl().easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    curl().easy_setopt(s.easy, CURLOPT_USERAGENT, "judgebias");
  }

  std::mt19937_64 jitter{std::random_device{}()};
  std::size_t next = 0;  // the next new job
  std::priority_queue<pending_retry, std::vector<pending_retry>, std::greater<>> retries;
  std::size_t busy = 0;
  auto last_tick = clock_type::now();

  auto start = [&](slot& s, std::size_t job, unsigned attempt) {
    s.job = job;
    s.attempt = attempt;
    s.body = body_of(job);
    s.reply.clear();
    s.retry_after.clear();
    s.error[0] = '\0';
    curl().easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.c_str());
    curl().easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
    if (curl().multi_add_handle(multi, s.easy) != CURLM_OK)
      throw io_error("libcurl could not start a transfer");
    s.busy = true;
    ++busy;
    ++stats_.calls;
    if (attempt > 0) ++stats_.retries;
  };
  // Schedules a retry of the slot's job, or ends the run when its retries are spent.
  // The first call that cannot succeed; thrown once the answers already in are taken, so that they
  // reach the cache.
  std::optional<call_failure> fatal;
  auto again = [&](slot& s, long status, const std::string& why, std::optional<double> asked) {
    if (s.attempt >= options_.max_retries) {
      if (!fatal)
        fatal.emplace(s.job, status,
                      fmt::format("no usable answer after {} {}: {}", s.attempt + 1,
                                  s.attempt == 0 ? "attempt" : "attempts", why));
      return;
    }
    if (asked && *asked > 600) {  // a quota, not a hiccup: waiting in silence would not help
      if (!fatal)
        fatal.emplace(
            s.job, status,
            fmt::format("{}; the server asks to wait {:.0f} s (Retry-After), more than 10 minutes: run the "
                        "same command again later",
                        why, *asked));
      return;
    }
    const double ceiling =
        std::min(options_.max_backoff_s, options_.backoff_s * std::ldexp(1.0, static_cast<int>(s.attempt)));
    double wait = std::uniform_real_distribution<double>(0.0, std::max(ceiling, 0.0))(jitter);
    if (asked) wait = std::max(wait, *asked);
    retries.push({clock_type::now() +
                      std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(wait)),
                  s.job, s.attempt + 1});
  };

  while (next < jobs.size() || !retries.empty() || busy > 0) {
    const auto now = clock_type::now();
    for (auto& s : slots) {
      if (s.busy) continue;
      if (!retries.empty() && retries.top().at <= now) {
        const auto r = retries.top();
        retries.pop();
        start(s, r.job, r.attempt);
      } else if (next < jobs.size()) {
        start(s, jobs[next++], 0);
      }
    }
    int running = 0;
    curl().multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* m = curl().multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      slot* s = nullptr;
      curl().easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      const CURLcode code = m->data.result;
      curl().multi_remove_handle(multi, s->easy);
      s->busy = false;
      --busy;
      long status = 0;
      curl().easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
      if (code != CURLE_OK) {
        const std::string what = s->error[0] ? std::string(s->error) : curl().easy_strerror(code);
        if (!retriable(code)) {
          if (!fatal) fatal.emplace(s->job, 0, fmt::format("cannot reach the server: {}", what));
        } else {
          again(*s, 0, what, std::nullopt);
        }
      } else if (status == 200) {
        std::string problem = accept(s->job, std::move(s->reply));
        if (!problem.empty()) again(*s, status, problem, std::nullopt);
      } else if (retriable_status(status)) {
        again(*s, status, fmt::format("HTTP {}: {}", status, server_message(s->reply, options_.api_key)),
              retry_after_seconds(s->retry_after));
      } else if (!fatal) {
        fatal.emplace(s->job, status, server_message(s->reply, options_.api_key));
      }
      tick(stats_);
      last_tick = clock_type::now();
    }
    if (fatal) throw *fatal;
    if (next >= jobs.size() && retries.empty() && busy == 0) break;
    // Sleep until a socket is ready, the next retry is due, or a quarter second has passed.
    int wait_ms = 250;
    const bool free_slot = busy < slots.size();
    if (free_slot && next < jobs.size()) wait_ms = 0;
    if (free_slot && !retries.empty()) {
      const auto due =
          std::chrono::duration_cast<std::chrono::milliseconds>(retries.top().at - clock_type::now());
      wait_ms = std::clamp(static_cast<int>(due.count()), 0, wait_ms);
    }
    if (busy > 0)
      curl().multi_poll(multi, nullptr, 0, wait_ms, nullptr);
    else if (wait_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    if (clock_type::now() - last_tick >= std::chrono::milliseconds(250)) {
      tick(stats_);
      last_tick = clock_type::now();
    }
  }
}

}  // namespace judgebias::judge
