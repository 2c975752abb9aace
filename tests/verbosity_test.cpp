// Verbosity (METRICS.md §3): rates on a hand-worked fixture, and the logistic regression against
// closed forms on designs whose maximum-likelihood fit reproduces the observed proportions exactly.
#include <cmath>
#include <numbers>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

std::string rec(const std::string& item, int len_a, int len_b, const std::string& verdict,
                const std::string& extra = "") {
  return R"({"judge":"J","item":")" + item + R"(","a":{"id":"x","length":)" + std::to_string(len_a) +
         R"(},"b":{"id":"y","length":)" + std::to_string(len_b) + R"(},"verdict":)" + verdict + extra + "}\n";
}

report run_verbosity(const std::string& text, config cfg = {}) {
  cfg.modules = {"verbosity"};
  cfg.bootstrap = 0;
  return jbtest::run_text(text, cfg);
}

double logit(double p) {
  return std::log(p / (1 - p));
}
double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

}  // namespace

TEST(Verbosity, PreferLongerRatesAndBias) {
  const std::string text =
      rec("r1", 100, 50, R"("A","gold":"B")") +     // judge longer, gold not
      rec("r2", 40, 100, R"("B","gold":"B")") +     // both longer
      rec("r3", 100, 80, R"("A","gold":"A")") +     // gap 20 ≤ 30: left out of the rates
      rec("r4", 200, 100, R"("tie","gold":"A")") +  // gold longer; judge not decisive
      rec("r5", 10, 90, R"("A","gold":"A")") +      // neither longer
      rec("r6", 300, 100, R"("A")") +               // judge longer, no gold
      R"({"judge":"J","item":"r7","a":{"id":"x"},"b":{"id":"y","length":5},"verdict":"A"})";
  report r = run_verbosity(text);
  const json v = r.to_json()["modules"]["verbosity"]["judges"]["J"];
  // Judge, decisive, gap > 30: r1 ✓ r2 ✓ r5 ✗ r6 ✓ → 3/4; binomial p = 2·P(X ≥ 3 | 4) = 2·5/16.
  EXPECT_DOUBLE_EQ(value(v["prefer_longer_rate"]), 0.75);
  EXPECT_EQ(v["prefer_longer_rate"]["n"], 4);
  EXPECT_NEAR(v["prefer_longer_rate"]["p"].get<double>(), 0.625, 1e-12);
  // Gold, decisive, gap > 30: r1 ✗ r2 ✓ r4 ✓ r5 ✗ → 2/4.
  EXPECT_DOUBLE_EQ(value(v["gold_prefer_longer_rate"]), 0.5);
  // Both decisive: r1 (1, 0), r2 (1, 1), r5 (0, 0) → (2 − 1)/3.
  EXPECT_DOUBLE_EQ(value(v["bias"]), 1.0 / 3.0);
  EXPECT_EQ(v["bias"]["n"], 3);
  EXPECT_EQ(r.to_json()["modules"]["verbosity"]["diagnostics"]["records_without_length"], 1);
  // A smaller gap lets r3 in: judge picks A, the longer → 4/5.
  config cfg;
  cfg.min_length_gap = 10;
  report r2 = run_verbosity(text, cfg);
  EXPECT_DOUBLE_EQ(value(r2.to_json()["modules"]["verbosity"]["judges"]["J"]["prefer_longer_rate"]), 0.8);
}

TEST(Verbosity, TokensInsteadOfCharacters) {
  // By characters A is longer; by tokens B is.
  const std::string text =
      R"({"judge":"J","item":"t","a":{"id":"x","length":500,"tokens":10},"b":{"id":"y","length":100,"tokens":90},"verdict":"B"})";
  config cfg;
  EXPECT_DOUBLE_EQ(
      value(run_verbosity(text, cfg).to_json()["modules"]["verbosity"]["judges"]["J"]["prefer_longer_rate"]),
      0.0);
  cfg.length = length_unit::tokens;
  EXPECT_DOUBLE_EQ(
      value(run_verbosity(text, cfg).to_json()["modules"]["verbosity"]["judges"]["J"]["prefer_longer_rate"]),
      1.0);
}

// Two length groups and no gold: the design is saturated, so the fit reproduces each group's mean label,
// ties counting ½: A longer (Δ = +100): A, A, A, tie → 0.875; B longer (Δ = −100): A, B, B, tie → 0.375.
TEST(Verbosity, LogisticOnASaturatedDesign) {
  std::string text;
  int k = 0;
  for (const char* v : {R"("A")", R"("A")", R"("A")", R"("tie")"})
    text += rec("p" + std::to_string(k++), 200, 100, v);
  for (const char* v : {R"("A")", R"("B")", R"("B")", R"("tie")"})
    text += rec("p" + std::to_string(k++), 100, 200, v);
  report r = run_verbosity(text);
  const json v = r.to_json()["modules"]["verbosity"]["judges"]["J"];
  // sd of Δ over ±100 (4 each) is 100·sqrt(8/7), so x = ±t with t = tanh(sqrt(7/8)).
  const double t = std::tanh(std::sqrt(7.0 / 8.0));
  const double b1 = (logit(0.875) - logit(0.375)) / (2 * t), b0 = (logit(0.875) + logit(0.375)) / 2;
  EXPECT_NEAR(value(v["length_coef"]), b1, 1e-9);
  EXPECT_EQ(v["length_coef"]["n"], 8);
  // Fisher information of two groups at ±t with weights w = n·p(1 − p): Var(β1) = (1/w₊ + 1/w₋) / (4t²).
  const double w_plus = 4 * 0.875 * 0.125, w_minus = 4 * 0.375 * 0.625;
  const double se = std::sqrt((1 / w_plus + 1 / w_minus) / (4 * t * t));
  const double z = 1.959963984540054;
  EXPECT_NEAR(v["length_coef"]["ci"][0].get<double>(), b1 - z * se, 1e-8);
  EXPECT_NEAR(v["length_coef"]["ci"][1].get<double>(), b1 + z * se, 1e-8);
  EXPECT_NEAR(v["length_coef"]["p"].get<double>(), std::erfc(std::fabs(b1 / se) / std::numbers::sqrt2),
              1e-10);
  // Length term at zero: σ(β0) for every record.
  EXPECT_NEAR(value(v["lc_first_slot_rate"]), sigmoid(b0), 1e-9);
}

// With gold: cell proportions chosen to be exactly additive on the logit scale, so the fit reproduces
// them: (x+, gold A) 3/4, (x+, gold B) 1/4, (x−, gold A) 1/2, (x−, gold B) 1/10.
// Then β_gold = ln 3, β_len = ln 3 / (2t), β0 = −ln 3 / 2.
TEST(Verbosity, LogisticWithTheGoldCovariate) {
  std::string text;
  int k = 0;
  auto add = [&](int la, int lb, const char* gold, int n_a, int n_b) {
    for (int i = 0; i < n_a; ++i)
      text += rec("g" + std::to_string(k++), la, lb, std::string(R"("A","gold":")") + gold + "\"");
    for (int i = 0; i < n_b; ++i)
      text += rec("g" + std::to_string(k++), la, lb, std::string(R"("B","gold":")") + gold + "\"");
  };
  add(200, 100, "A", 3, 1);
  add(200, 100, "B", 1, 3);
  add(100, 200, "A", 1, 1);
  add(100, 200, "B", 1, 9);
  report r = run_verbosity(text);
  const json v = r.to_json()["modules"]["verbosity"]["judges"]["J"];
  // Δ = +100 on 8 records and −100 on 12: mean −20, sample sd = 100·sqrt(19.2/19); x = ±tanh(±100/sd).
  const double t = std::tanh(std::sqrt(19.0 / 19.2));
  EXPECT_NEAR(value(v["length_coef"]), std::log(3.0) / (2 * t), 1e-8);
  // lc_first_slot_rate: gold A on 6 records → σ(β0 + ln 3) = σ(ln 3 / 2); gold B on 14 → σ(−3 ln 3 / 2).
  const double expected = (6 * sigmoid(std::log(3.0) / 2) + 14 * sigmoid(-1.5 * std::log(3.0))) / 20;
  EXPECT_NEAR(value(v["lc_first_slot_rate"]), expected, 1e-8);
}

TEST(Verbosity, SeparationAndSingularFitsAreNullWithAReason) {
  std::string separated;
  for (int k = 0; k < 4; ++k) separated += rec("s" + std::to_string(k), 200, 100, R"("A")");
  for (int k = 4; k < 8; ++k) separated += rec("s" + std::to_string(k), 100, 200, R"("B")");
  report r = run_verbosity(separated);
  const json c = r.to_json()["modules"]["verbosity"]["judges"]["J"]["length_coef"];
  EXPECT_TRUE(c["value"].is_null());
  EXPECT_NE(c["reason"].get<std::string>().find("separation"), std::string::npos) << c;
  std::string equal;
  for (int k = 0; k < 5; ++k) equal += rec("e" + std::to_string(k), 100, 100, k % 2 ? R"("A")" : R"("B")");
  report r2 = run_verbosity(equal);
  const json c2 = r2.to_json()["modules"]["verbosity"]["judges"]["J"]["length_coef"];
  EXPECT_TRUE(c2["value"].is_null());
  EXPECT_NE(c2["reason"].get<std::string>().find("does not vary"), std::string::npos) << c2;
  EXPECT_TRUE(r2.to_json()["modules"]["verbosity"]["judges"]["J"]["lc_first_slot_rate"]["value"].is_null());
}

TEST(Verbosity, ScoreLengthSlope) {
  // Lengths 0, 1, 3, 7 give ln(length + 1) = k·ln 2 for k = 0..3; score − gold = 0, 1, 1, 3.
  // In k: slope = Σ(k − 1.5)(y − 1.25) / Σ(k − 1.5)² = 4.5 / 5 = 0.9, residuals 0.1, 0.2, −0.7, 0.4,
  // SSR 0.7, SE = sqrt(0.7 / 2 / 5). In ln(length + 1) both divide by ln 2.
  std::string text;
  const int lens[] = {0, 1, 3, 7}, diff[] = {0, 1, 1, 3};
  for (int k = 0; k < 4; ++k)
    text += R"({"judge":"J","item":"w)" + std::to_string(k) + R"(","response":{"id":"r","length":)" +
            std::to_string(lens[k]) + R"(},"score":)" + std::to_string(5 + diff[k]) + R"(,"gold":5})" + "\n";
  report r = run_verbosity(text);
  const json s = r.to_json()["modules"]["verbosity"]["judges"]["J"]["score_length_slope"];
  EXPECT_NEAR(value(s), 0.9 / std::log(2.0), 1e-12);
  const double se = std::sqrt(0.07) / std::log(2.0);
  EXPECT_NEAR(s["ci"][1].get<double>() - value(s), 1.959963984540054 * se, 1e-9);
  EXPECT_EQ(s["n"], 4);
}

TEST(Verbosity, PlantedLengthPreferenceIsRecoveredInRankOrder) {
  synth_options so;
  so.items = 400;
  std::ostringstream out;
  synthesize(so, out);
  config cfg;
  cfg.modules = {"verbosity"};
  cfg.bootstrap = 0;
  report r = jbtest::run_text(out.str(), cfg);
  const json j = r.to_json()["modules"]["verbosity"]["judges"];
  // Planted length pulls: alpha-7b 0.20 > charlie-70b 0.10 > delta-api 0.05; lengths are independent of
  // quality, so the gold prefers the longer half the time and every pull shows as a positive bias.
  for (const char* metric : {"bias", "length_coef", "prefer_longer_rate"}) {
    EXPECT_GT(value(j["alpha-7b"][metric]), value(j["charlie-70b"][metric])) << metric;
    EXPECT_GT(value(j["charlie-70b"][metric]), value(j["delta-api"][metric])) << metric;
  }
  for (const char* judge : {"alpha-7b", "charlie-70b", "delta-api"}) {
    EXPECT_GT(value(j[judge]["bias"]), 0) << judge;
    EXPECT_GT(value(j[judge]["length_coef"]), 0) << judge;
    EXPECT_NEAR(value(j[judge]["gold_prefer_longer_rate"]), 0.5, 0.03) << judge;
  }
}

TEST(Verbosity, LlmbarGoldPrefersTheLongerInAQuarterOfPairs) {
  JBTEST_REQUIRE_REAL_DATA(dir);
  config cfg;
  cfg.skip_invalid = true;
  cfg.bootstrap = 0;
  cfg.modules = {"verbosity"};
  module_registry reg;
  register_builtin_modules(reg);
  loaded_data data = load({(dir / "llmbar.jsonl").string()}, cfg);
  report r = pipeline(reg, cfg).evaluate(data);
  const json j = r.to_json()["modules"]["verbosity"]["judges"];
  // Independently of the module: count GPT-4/Vanilla's records (LLMBar's own sets only) whose lengths
  // differ by more than 30 and whose gold picks the longer.
  const dataset& d = data.dataset;
  double longer = 0, n = 0;
  for (auto i : d.records_of_judge(d.judges().find("GPT-4/Vanilla"))) {
    if (d.mode(i) != judgment_mode::pairwise) continue;
    const double diff = static_cast<double>(d.length_a(i)) - static_cast<double>(d.length_b(i));
    const verdict g = d.inline_gold(i);
    if (std::fabs(diff) <= 30 || (g != verdict::a && g != verdict::b)) continue;
    n += 1;
    longer += (diff > 0) == (g == verdict::a);
  }
  EXPECT_DOUBLE_EQ(value(j["GPT-4/Vanilla"]["gold_prefer_longer_rate"]), longer / n);
  EXPECT_NEAR(longer / n, 0.25, 0.03);  // "about a quarter"
  // ...while most judges pick the longer answer most of the time on the same pairs.
  int prefer = 0;
  for (const char* judge : {"ChatGPT/Vanilla", "ChatGPT-0301/Vanilla", "LLaMA2/Vanilla", "Falcon/Vanilla"})
    prefer += value(j[judge]["prefer_longer_rate"]) > 0.5;
  EXPECT_EQ(prefer, 4);
}
