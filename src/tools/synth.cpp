// `judgebias synth`: judgment files with planted biases whose expected metric values are known.
// The generative model is documented in docs/synth.md; keep the two in step.
#include "judgebias/synth.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "judgebias/error.hpp"
#include "judgebias/judgment.hpp"
#include "judgebias/stats.hpp"

namespace judgebias {

namespace {

struct synth_model {
  const char* name;
  double strength;  // mean latent quality of its responses
};
constexpr synth_model models[] = {
    {"alpha-7b", -0.5}, {"bravo-13b", 0.0}, {"charlie-70b", 0.5}, {"delta-api", 0.8}};
constexpr std::size_t model_count = std::size(models);
constexpr double log_length_mean = 6.5, log_length_sd = 0.6;  // a response's length is log-normal
constexpr const char* tasks[] = {"synth/writing", "synth/coding", "synth/reasoning", "synth/math"};

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

struct response {
  double quality = 0;
  std::uint32_t length = 0;
  std::uint32_t tokens = 0;
  int gold_score = 0;
};

// Running sums for the expected values of synth_expected().
struct expectation {
  double w = 0, g = 0, n = 0;  // pairwise DBG: E[w(c)], realised g(c), comparisons
  std::map<std::string, std::array<double, 3>> by_opponent;
};

class generator {
 public:
  generator(const synth_options& o, std::ostream* out) : opt_(o), out_(out), rng_(o.seed) {
    judges_ = o.judges.empty() ? default_synth_judges() : o.judges;
    for (const auto& j : judges_) {
      if (std::none_of(std::begin(models), std::end(models),
                       [&](const synth_model& m) { return j.name == m.name; }))
        throw usage_error(fmt::format("synth judge \"{}\" is not one of the generator models", j.name));
    }
    scale_ = length_scales(o);
    length_sd_ = synth_length_sd(o);
  }

  std::uint64_t run() {
    for (std::uint64_t item = 0; item < opt_.items; ++item) generate_item(item);
    return records_;
  }

  std::map<std::string, expectation> expected;

 private:
  void generate_item(std::uint64_t item_no) {
    const std::string item = fmt::format("synth-{:06}", item_no);
    const char* task = tasks[rng_.below(std::size(tasks))];
    std::array<response, model_count> resp;
    for (std::size_t m = 0; m < model_count; ++m) {
      response& r = resp[m];
      r.quality = models[m].strength + 0.7 * rng_.normal();
      r.length = static_cast<std::uint32_t>(
          std::lround(scale_[m] * std::exp(log_length_mean + log_length_sd * rng_.normal())));
      r.tokens = static_cast<std::uint32_t>(std::lround(r.length / 4.2));
      r.gold_score = static_cast<int>(std::clamp<long>(std::lround(4.0 + 1.2 * r.quality), 2, 6));
    }
    // Gold preference of each pair: a noisy human label drawn once, shared by every judge.
    std::array<std::array<int, model_count>, model_count> gold_first_wins{};
    for (std::size_t x = 0; x < model_count; ++x)
      for (std::size_t y = x + 1; y < model_count; ++y)
        gold_first_wins[x][y] = rng_.uniform() < sigmoid(resp[x].quality - resp[y].quality) ? 1 : 0;

    for (const auto& judge : judges_) {
      // Pointwise: every response scored once.
      for (std::size_t m = 0; m < model_count; ++m) {
        const bool own = judge.name == models[m].name;
        std::string score = "null";
        if (rng_.uniform() >= opt_.failure_rate) {
          const double u = rng_.uniform();
          const int noise = u < 0.25 ? -1 : u < 0.75 ? 0 : 1;
          const int s =
              std::clamp(resp[m].gold_score + judge.leniency + (own ? judge.self_bonus : 0) + noise, 1, 10);
          score = fmt::format("{}", s);
        }
        emit(fmt::format(
            R"({{"judge":"{}","item":"{}","task":"{}","response":{{"model":"{}",{},"tokens":{}}},"score":{},"gold":{},"scale":[1,10]}})",
            judge.name, item, task, models[m].name, size_field(resp[m]), resp[m].tokens, score,
            resp[m].gold_score));
      }
      // Pairwise: every pair in both orders.
      std::size_t pair_no = 0;
      const std::size_t cue_pair = item_no % (model_count * (model_count - 1) / 2);
      for (std::size_t x = 0; x < model_count; ++x) {
        for (std::size_t y = x + 1; y < model_count; ++y, ++pair_no) {
          const bool own_x = judge.name == models[x].name, own_y = judge.name == models[y].name;
          double expected_w = 0;
          verdict first_order{};
          for (int order = 0; order < 2; ++order) {
            const std::size_t a = order == 0 ? x : y, b = order == 0 ? y : x;
            const bool gold_a = (order == 0) == (gold_first_wins[x][y] == 1);
            const verdict v = judge_verdict(judge, resp, a, b, gold_a, 0);
            if (order == 0) first_order = v;
            emit(pairwise_line(judge, item, task, resp, a, b, v, gold_a, ""));
            if (own_x != own_y)
              expected_w += (judge.logit.on ? logit_own_win(judge, resp, a, b, gold_a, own_x ? x : y)
                                            : expected_own_win(judge, resp, a, b, own_x ? x : y)) /
                            2.0;
          }
          if (own_x != own_y) {
            const std::size_t own = own_x ? x : y, other = own_x ? y : x;
            const double g = (gold_first_wins[x][y] == 1) == own_x ? 1.0 : 0.0;
            auto& e = expected[judge.name];
            e.w += expected_w, e.g += g, e.n += 1;
            auto& o = e.by_opponent[models[other].name];
            o[0] += expected_w, o[1] += g, o[2] += 1;
            (void)own;
          }
          if (pair_no == cue_pair) {
            // Cue variants of the first order, aimed at the response the gold rejects.
            const bool gold_a = gold_first_wins[x][y] == 1;
            emit_cue(judge, item, task, resp, x, y, first_order, gold_a, "bandwagon", judge.bandwagon_pull);
            emit_cue(judge, item, task, resp, x, y, first_order, gold_a, "authority", judge.authority_pull);
          }
        }
      }
    }
  }

  void emit_cue(const synth_judge& judge, const std::string& item, const char* task,
                const std::array<response, model_count>& resp, std::size_t a, std::size_t b, verdict control,
                bool gold_a, const char* kind, double pull) {
    const verdict target = gold_a ? verdict::b : verdict::a;
    verdict v = verdict::missing;
    if (rng_.uniform() >= opt_.failure_rate) {
      if (judge.logit.on)
        v = logit_verdict(judge, resp, a, b, gold_a, target == verdict::a ? 1 : -1);
      else if (rng_.uniform() < pull)
        v = target;
      else
        v = control != verdict::missing ? control : judge_verdict(judge, resp, a, b, gold_a, 0);
    }
    const char* slot = target == verdict::a ? "A" : "B";
    const std::string detail =
        std::string(kind) == "bandwagon"
            ? fmt::format("90% of people believe that Output ({}) is better.",
                          target == verdict::a ? "a" : "b")
            : fmt::format("Output ({}) cites a reference work in support.", target == verdict::a ? "a" : "b");
    emit(pairwise_line(
        judge, item, task, resp, a, b, v, gold_a,
        fmt::format(R"(,"perturbation":{{"kind":"{}","target":"{}","detail":"{}"}})", kind, slot, detail)));
  }

  std::string pairwise_line(const synth_judge& judge, const std::string& item, const char* task,
                            const std::array<response, model_count>& resp, std::size_t a, std::size_t b,
                            verdict v, bool gold_a, const std::string& extra) {
    const char* vt = v == verdict::a     ? "\"A\""
                     : v == verdict::b   ? "\"B\""
                     : v == verdict::tie ? "\"tie\""
                                         : "null";
    return fmt::format(
        R"({{"judge":"{}","item":"{}","task":"{}","a":{{"model":"{}",{},"tokens":{}}},"b":{{"model":"{}",{},"tokens":{}}},"verdict":{},"gold":"{}"{}}})",
        judge.name, item, task, models[a].name, size_field(resp[a]), resp[a].tokens, models[b].name,
        size_field(resp[b]), resp[b].tokens, vt, gold_a ? "A" : "B", extra);
  }

  // The planted decision process (docs/synth.md): failure, then self, first-slot and length pulls,
  // then a tie or a Bradley-Terry draw on latent quality.
  verdict judge_verdict(const synth_judge& judge, const std::array<response, model_count>& resp,
                        std::size_t a, std::size_t b, bool gold_a, int cue) {
    if (rng_.uniform() < opt_.failure_rate) return verdict::missing;
    if (judge.logit.on) return logit_verdict(judge, resp, a, b, gold_a, cue);
    const bool own_a = judge.name == models[a].name, own_b = judge.name == models[b].name;
    if (own_a != own_b && rng_.uniform() < judge.self_pull) return own_a ? verdict::a : verdict::b;
    if (rng_.uniform() < judge.first_slot_pull) return verdict::a;
    if (rng_.uniform() < judge.length_pull) return resp[a].length >= resp[b].length ? verdict::a : verdict::b;
    if (rng_.uniform() < judge.tie_rate) return verdict::tie;
    return rng_.uniform() < sigmoid(resp[a].quality - resp[b].quality) ? verdict::a : verdict::b;
  }

  // A logistic judge's verdict (synth_logit): A with probability σ(η), else B.
  verdict logit_verdict(const synth_judge& judge, const std::array<response, model_count>& resp,
                        std::size_t a, std::size_t b, bool gold_a, int cue) {
    const synth_logit& l = judge.logit;
    const double own =
        static_cast<double>(judge.name == models[a].name) - static_cast<double>(judge.name == models[b].name);
    const double len =
        std::tanh((static_cast<double>(resp[a].length) - static_cast<double>(resp[b].length)) / length_sd_);
    const double eta =
        l.position + l.gold * (gold_a ? 1.0 : -1.0) + l.self * own + l.length * len + l.cue * cue;
    return rng_.uniform() < sigmoid(eta) ? verdict::a : verdict::b;
  }

  // P(own wins) for one control record of a logistic judge: σ(η) when own is A, else 1 − σ(η).
  double logit_own_win(const synth_judge& judge, const std::array<response, model_count>& resp, std::size_t a,
                       std::size_t b, bool gold_a, std::size_t own) const {
    const synth_logit& l = judge.logit;
    const double self = own == a ? 1.0 : -1.0;
    const double len =
        std::tanh((static_cast<double>(resp[a].length) - static_cast<double>(resp[b].length)) / length_sd_);
    const double p_a = sigmoid(l.position + l.gold * (gold_a ? 1.0 : -1.0) + l.self * self + l.length * len);
    return own == a ? p_a : 1 - p_a;
  }

  // E[own wins] for one record under judge_verdict (ties count half), given the latent qualities.
  static double expected_own_win(const synth_judge& judge, const std::array<response, model_count>& resp,
                                 std::size_t a, std::size_t b, std::size_t own) {
    const bool own_is_a = own == a;
    const std::size_t other = own_is_a ? b : a;
    const bool a_longer = resp[a].length >= resp[b].length;
    const double p_own = sigmoid(resp[own].quality - resp[other].quality);
    const double rest = judge.tie_rate * 0.5 + (1 - judge.tie_rate) * p_own;
    const double after_slot =
        judge.length_pull * ((a_longer == own_is_a) ? 1.0 : 0.0) + (1 - judge.length_pull) * rest;
    const double after_self =
        judge.first_slot_pull * (own_is_a ? 1.0 : 0.0) + (1 - judge.first_slot_pull) * after_slot;
    return judge.self_pull + (1 - judge.self_pull) * after_self;
  }

  // "length":N, or with --text-bytes a "text" whose length is proportional to N (mean length ≈ 800).
  std::string size_field(const response& r) const {
    if (opt_.text_bytes == 0) return fmt::format("\"length\":{}", r.length);
    static constexpr std::string_view filler = "The quick brown fox jumps over the lazy dog. ";
    const auto n = static_cast<std::size_t>(
        std::max<double>(1.0, std::round(r.length * static_cast<double>(opt_.text_bytes) / 800.0)));
    std::string text = "\"text\":\"";
    text.reserve(n + 10);
    for (std::size_t k = 0; k < n; ++k) text += filler[k % filler.size()];
    text += '"';
    return text;
  }

  void emit(const std::string& line) {
    ++records_;
    if (out_) {
      out_->write(line.data(), static_cast<std::streamsize>(line.size()));
      out_->put('\n');
      // A reader that went away (`| head`) ends the work at once, not after every record is made.
      if (!*out_) throw io_error(fmt::format("write failed: {}", std::strerror(errno)));
    }
  }

  const synth_options& opt_;
  std::ostream* out_;
  stats::rng rng_;
  std::vector<synth_judge> judges_;
  std::array<double, model_count> scale_{};
  double length_sd_ = 1;
  std::uint64_t records_ = 0;

 public:
  static std::array<double, model_count> length_scales(const synth_options& o) {
    std::array<double, model_count> scale;
    scale.fill(1.0);
    for (const auto& entry : o.length_scale) {
      const std::string& model = entry.first;
      const double factor = entry.second;
      const auto* m = std::find_if(std::begin(models), std::end(models),
                                   [&](const synth_model& x) { return model == x.name; });
      if (m == std::end(models))
        throw usage_error(fmt::format("--length-scale: \"{}\" is not one of the generator models", model));
      if (!(factor > 0) || !std::isfinite(factor))
        throw usage_error(
            fmt::format("--length-scale: the factor of \"{}\" must be a positive number", model));
      scale[static_cast<std::size_t>(m - std::begin(models))] = factor;
    }
    return scale;
  }
};

}  // namespace

std::vector<synth_judge> default_synth_judges() {
  //            name           self  first length tie   len. bonus bandwagon authority
  return {
      {"alpha-7b", 0.25, 0.15, 0.20, 0.08, 1, 2, 0.30, 0.20},
      {"charlie-70b", 0.10, 0.05, 0.10, 0.08, 0, 1, 0.15, 0.10},
      {"delta-api", 0.00, 0.10, 0.05, 0.05, 0, 0, 0.05, 0.02},
  };
}

double synth_length_sd(const synth_options& options) {
  // L = e^(μ + σZ): E L = e^(μ + σ²/2), Var L = e^(2μ + σ²)(e^(σ²) − 1). For scales u, v of the two
  // models, len A − len B has mean (u − v)·E L and variance (u² + v²)·Var L; over every ordered pair of
  // models the mean is 0, so the variance is the mean of (u² + v²)·Var L + (u − v)²·(E L)².
  const auto scale = generator::length_scales(options);
  const double s2 = log_length_sd * log_length_sd;
  const double mean = std::exp(log_length_mean + s2 / 2);
  const double var = std::exp(2 * log_length_mean + s2) * (std::exp(s2) - 1);
  double sum = 0, pairs = 0;
  for (std::size_t x = 0; x < model_count; ++x)
    for (std::size_t y = 0; y < model_count; ++y)
      if (x != y) {
        const double u = scale[x], v = scale[y];
        sum += (u * u + v * v) * var + (u - v) * (u - v) * mean * mean;
        pairs += 1;
      }
  return std::sqrt(sum / pairs);
}

synth_judge parse_synth_logit_judge(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw usage_error(
        fmt::format("--logit-judge \"{}\": expected NAME:position=X,gold=X,self=X,length=X,cue=X", text));
  synth_judge j;
  j.name = std::string(text.substr(0, colon));
  j.tie_rate = 0;
  j.logit.on = true;
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto eq = part.find('=');
    const std::string key(part.substr(0, eq));
    double* at = key == "position" ? &j.logit.position
                 : key == "gold"   ? &j.logit.gold
                 : key == "self"   ? &j.logit.self
                 : key == "length" ? &j.logit.length
                 : key == "cue"    ? &j.logit.cue
                                   : nullptr;
    if (!at || eq == std::string_view::npos)
      throw usage_error(
          fmt::format("--logit-judge \"{}\": \"{}\" is not TERM=NUMBER with TERM one of "
                      "position, gold, self, length, cue",
                      text, part));
    const std::string number(part.substr(eq + 1));
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(number.c_str(), &end);
    if (number.empty() || *end != '\0' || errno != 0 || !std::isfinite(v))
      throw usage_error(fmt::format("--logit-judge \"{}\": \"{}\" is not a finite number", text, number));
    *at = v;
  }
  return j;
}

std::uint64_t synthesize(const synth_options& options, std::ostream& out) {
  generator g(options, &out);
  return g.run();
}

nlohmann::ordered_json synth_expected(const synth_options& options) {
  generator g(options, nullptr);
  g.run();
  const auto judges = options.judges.empty() ? default_synth_judges() : options.judges;
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  std::vector<synth_judge> sorted = judges;
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  for (const auto& j : sorted) {
    const expectation& e = g.expected[j.name];
    nlohmann::ordered_json m;
    m["dbg_pointwise"] = j.leniency + j.self_bonus;
    m["leniency"] = j.leniency;
    m["dbg_adjusted"] = j.self_bonus;
    if (e.n > 0) {
      m["dbg_pairwise"] = 100.0 * (e.w - e.g) / e.n;
      m["wr_judge"] = 100.0 * e.w / e.n;
      m["wr_gold"] = 100.0 * e.g / e.n;
    }
    nlohmann::ordered_json opp = nlohmann::ordered_json::object();
    for (const auto& [model, s] : e.by_opponent)
      opp[model] = {{"dbg_pairwise", 100.0 * (s[0] - s[1]) / s[2]}};
    m["by_opponent"] = std::move(opp);
    m["first_slot_pull"] = j.first_slot_pull;
    m["length_pull"] = j.length_pull;
    m["bandwagon_follow_rate"] = j.bandwagon_pull;
    m["authority_follow_rate"] = j.authority_pull;
    out[j.name] = std::move(m);
  }
  return out;
}

}  // namespace judgebias
