#pragma once
// `judgebias judge`, `respond` and `pairs`: the seed paper's pipeline from prompts to judgment records,
// run against an OpenAI-compatible server (docs/workflow.md, docs/cli.md).
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace judgebias::judge {

/// How requests are sent: the server, the sampling, the retries and the cache (shared by judge and
/// respond).
struct server_options {
  std::string endpoint;  ///< e.g. http://127.0.0.1:8000/v1; requests go to {endpoint}/chat/completions
  std::string model;
  std::optional<double> temperature;
  std::optional<std::uint64_t> seed;  ///< run r sends seed + r
  std::optional<std::uint32_t> max_tokens;
  unsigned concurrency = 8;
  double timeout_s = 120;
  unsigned max_retries = 5;
  double backoff_s = 0.5;
  std::string api_key_env = "OPENAI_API_KEY";
  std::optional<std::string> cache_dir;  ///< default: .judgebias-cache beside the output
  bool use_cache = true;
  bool progress = false;  ///< a live line on stderr (a terminal)
};

struct judge_options {
  server_options server;
  std::string judge;          ///< the records' `judge`; default: the model
  std::string judge_model;    ///< the records' `judge_model`; default: the model
  std::string template_name;  ///< pairwise, letter, pointwise or a file; default per request mode
  bool both_orders = true;
  bool logprobs = false;
  unsigned top_logprobs = 5;
  unsigned runs = 1;
  bool keep_raw = false;
  double scale_min = 1, scale_max = 10;  ///< for pointwise requests without `scale`
};

/// What a run did, for the summary on stderr.
struct run_summary {
  std::uint64_t requests = 0;  ///< lines read
  std::uint64_t records = 0;   ///< lines written
  std::uint64_t calls = 0;     ///< HTTP attempts, retries included
  std::uint64_t cache_hits = 0;
  std::uint64_t duplicates = 0;  ///< calls that were the same request as an earlier one, sent once
  std::uint64_t retries = 0;
  std::uint64_t extraction_failures = 0;
  std::uint64_t prompt_tokens = 0, completion_tokens = 0;  ///< from this run's answers' `usage`
  double seconds = 0;
  std::string cache_dir;  ///< empty: no cache
};

/// Judges the request lines of `input` and writes FORMAT v1 records to `output` ("-": standard
/// output), in input order, through a temporary file. Throws parse_error for a bad request line,
/// usage_error for a bad option, error for a call that cannot succeed (naming the request's line).
run_summary judge_file(const std::string& input, const std::string& output, const judge_options& options);

struct respond_options {
  server_options server;
  std::string system;  ///< a system message, when not empty
};

/// Asks the model each prompt line's `question` and writes one answer line per prompt: every prompt
/// field, then model, text and length (code points).
run_summary respond_file(const std::string& input, const std::string& output, const respond_options& options);

/// From answer lines (respond's output; several files are read as one), writes one comparison request
/// per item and pair of models, in order of first appearance: item, question, task and a/b with id,
/// model and text. Returns {answers read, requests written}.
std::pair<std::uint64_t, std::uint64_t> pairs_files(const std::vector<std::string>& inputs,
                                                    const std::string& output);

/// The summary's lines, as printed on stderr.
std::string summary_text(const char* command, const run_summary& s);

}  // namespace judgebias::judge
