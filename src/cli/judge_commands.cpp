// judge, respond and pairs: options in, judge::judge_file / respond_file / pairs_files, a summary out.
#include "cli/judge_commands.hpp"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "judge/runner.hpp"
#include "judgebias/error.hpp"
#include "judgebias/output.hpp"

namespace judgebias::cli {

struct judge_commands::state {
  CLI::App* judge = nullptr;
  CLI::App* respond = nullptr;
  CLI::App* pairs = nullptr;
  judge::judge_options jopt;
  judge::respond_options ropt;
  std::string jinput, joutput, orders = "both", scale = "1,10";
  std::string rinput, routput;
  std::vector<std::string> pinputs;
  std::string poutput;
  std::string jcache, rcache;
  bool jno_cache = false, rno_cache = false, quiet_j = false, quiet_r = false;
  double jtemperature = 0, rtemperature = 0;
  std::uint64_t jseed = 0, rseed = 0;
  std::uint32_t jmax_tokens = 0, rmax_tokens = 0;
};

namespace {

// The options judge and respond share: the server, sampling, retries and the cache.
void add_server_options(CLI::App* c, judge::server_options& s, double& temperature, std::uint64_t& seed,
                        std::uint32_t& max_tokens, std::string& cache, bool& no_cache, bool& quiet) {
  c->add_option(
       "--endpoint", s.endpoint,
       "The server's OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (POSTs to /chat/completions)")
      ->required();
  c->add_option("--model", s.model, "The model's name at the server")->required();
  c->add_option("--temperature", temperature, "Sampling temperature, passed to the server")
      ->check(CLI::Range(0.0, 2.0));
  c->add_option("--seed", seed, "Sampling seed, passed to the server (run r sends SEED + r)");
  c->add_option("--max-tokens", max_tokens,
                "Longest answer, in tokens (default: the template's, else the server's)")
      ->check(CLI::Range(1u, 1000000u));
  c->add_option("--concurrency", s.concurrency, "Requests in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  c->add_option("--timeout", s.timeout_s, "Seconds an attempt may take")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  c->add_option("--max-retries", s.max_retries,
                "Retries of an attempt that failed on 429, 5xx, a timeout or a connection error")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100u));
  c->add_option("--backoff", s.backoff_s,
                "Seconds: the ceiling of the first retry's random wait, doubled for each further one")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  c->add_option("--api-key-env", s.api_key_env,
                "The environment variable holding the API key (sent as a Bearer token)")
      ->capture_default_str();
  c->add_option("--cache", cache, "The cache folder (default: .judgebias-cache beside the output)");
  c->add_flag("--no-cache", no_cache, "Neither read nor write the cache");
  c->add_flag("-q,--quiet", quiet, "No progress line and no summary on stderr");
}

void finish_server_options(const CLI::App* c, judge::server_options& s, double temperature,
                           std::uint64_t seed, std::uint32_t max_tokens, const std::string& cache,
                           bool no_cache, bool quiet) {
  if (c->count("--temperature") > 0) s.temperature = temperature;
  if (c->count("--seed") > 0) s.seed = seed;
  if (c->count("--max-tokens") > 0) s.max_tokens = max_tokens;
  if (c->count("--cache") > 0) {
    if (cache.empty()) throw usage_error("--cache: an empty path names no folder");
    if (no_cache) throw usage_error("--cache and --no-cache contradict each other");
    s.cache_dir = cache;
  }
  s.use_cache = !no_cache;
  s.progress = !quiet && ::isatty(2) == 1;
}

}  // namespace

judge_commands::judge_commands(CLI::App& app) : s_(std::make_unique<state>()) {
  state& s = *s_;
  s.judge = app.add_subcommand(
      "judge", "Run a judge on request lines against an OpenAI-compatible server (docs/workflow.md)");
  auto* j = s.judge;
  j->add_option("requests", s.jinput,
                "Request lines (perturb's output, or judgment lines without verdicts); - for stdin")
      ->required();
  j->add_option("-o,--output", s.joutput, "The judgment records (default: standard output)");
  j->add_option("--judge", s.jopt.judge, "The records' judge label (default: --model)");
  j->add_option("--judge-model", s.jopt.judge_model,
                "The records' judge_model, for self-preference (default: --model)");
  j->add_option(
      "--template", s.jopt.template_name,
      "pairwise, letter, pointwise, or a template file (default: pairwise, or letter with --logprobs; "
      "pointwise for pointwise requests)");
  j->add_option("--orders", s.orders,
                "both: judge each comparison in both orders, writing the missing one; as-given")
      ->capture_default_str()
      ->check(CLI::IsMember({"both", "as-given"}));
  j->add_flag("--logprobs", s.jopt.logprobs, "Ask for the first token's log-probabilities and write prob_a");
  j->add_option("--top-logprobs", s.jopt.top_logprobs, "How many alternatives of the first token to ask for")
      ->capture_default_str()
      ->check(CLI::Range(1u, 20u));
  j->add_option("--runs", s.jopt.runs, "Judge every request K times (run 0 .. K-1)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  j->add_flag("--keep-raw", s.jopt.keep_raw, "Keep the judge's text in meta.judge_raw");
  j->add_option("--scale", s.scale, "MIN,MAX: the score scale of pointwise requests without one")
      ->capture_default_str();
  add_server_options(j, s.jopt.server, s.jtemperature, s.jseed, s.jmax_tokens, s.jcache, s.jno_cache,
                     s.quiet_j);

  s.respond =
      app.add_subcommand("respond", "Ask a model every prompt and write its answers (docs/workflow.md)");
  auto* r = s.respond;
  r->add_option("prompts", s.rinput, "Prompt lines (item, question, task); - for stdin")->required();
  r->add_option("-o,--output", s.routput, "The answer lines (default: standard output)");
  r->add_option("--system", s.ropt.system, "A system message sent before each prompt");
  add_server_options(r, s.ropt.server, s.rtemperature, s.rseed, s.rmax_tokens, s.rcache, s.rno_cache,
                     s.quiet_r);

  s.pairs =
      app.add_subcommand("pairs", "Write a comparison request for every two models' answers to each prompt");
  s.pairs->add_option("answers", s.pinputs, "Answer lines (respond's output), one or more files")->required();
  s.pairs->add_option("-o,--output", s.poutput, "The request lines (default: standard output)");
}

judge_commands::~judge_commands() = default;

bool judge_commands::dispatch(int& status) {
  state& s = *s_;
  // An output option given an empty path names no file (rather than meaning standard output).
  for (CLI::App* c : {s.judge, s.respond, s.pairs})
    if (*c && c->count("--output") > 0 && c->get_option("--output")->as<std::string>().empty())
      throw usage_error("-o: an empty path names no file");
  auto out_or_stdout = [](const std::string& o) { return o.empty() ? std::string("-") : o; };
  auto checked = [](const std::vector<std::string>& in, const std::string& out) {
    std::vector<output_path> outs;
    if (out != "-") outs.push_back({"-o", out});
    std::vector<std::string> ins;
    for (const auto& i : in)
      if (i != "-") ins.push_back(i);
    check_paths(ins, outs);
  };
  if (*s.judge) {
    finish_server_options(s.judge, s.jopt.server, s.jtemperature, s.jseed, s.jmax_tokens, s.jcache,
                          s.jno_cache, s.quiet_j);
    s.jopt.both_orders = s.orders == "both";
    const auto comma = s.scale.find(',');
    auto number = [&](std::string_view t, double& v) {
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      return ec == std::errc() && end == t.data() + t.size() && std::isfinite(v);
    };
    if (comma == std::string::npos || !number(std::string_view(s.scale).substr(0, comma), s.jopt.scale_min) ||
        !number(std::string_view(s.scale).substr(comma + 1), s.jopt.scale_max))
      throw usage_error(fmt::format("--scale must be MIN,MAX (two numbers), got \"{}\"", s.scale));
    if (!(s.jopt.scale_min < s.jopt.scale_max)) throw usage_error("--scale: MIN must be below MAX");
    const std::string out = out_or_stdout(s.joutput);
    checked({s.jinput}, out);
    const auto sum = judge::judge_file(s.jinput, out, s.jopt);
    if (!s.quiet_j) std::fputs(judge::summary_text("judge", sum).c_str(), stderr);
    status = 0;
    return true;
  }
  if (*s.respond) {
    finish_server_options(s.respond, s.ropt.server, s.rtemperature, s.rseed, s.rmax_tokens, s.rcache,
                          s.rno_cache, s.quiet_r);
    const std::string out = out_or_stdout(s.routput);
    checked({s.rinput}, out);
    const auto sum = judge::respond_file(s.rinput, out, s.ropt);
    if (!s.quiet_r) std::fputs(judge::summary_text("respond", sum).c_str(), stderr);
    status = 0;
    return true;
  }
  if (*s.pairs) {
    const std::string out = out_or_stdout(s.poutput);
    checked(s.pinputs, out);
    const auto [read, written] = judge::pairs_files(s.pinputs, out);
    std::fprintf(stderr, "pairs: %llu answers read, %llu comparison requests written\n",
                 static_cast<unsigned long long>(read), static_cast<unsigned long long>(written));
    status = 0;
    return true;
  }
  return false;
}

}  // namespace judgebias::cli
