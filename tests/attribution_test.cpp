// Attribution (docs/metrics.md "Attribution"): the logistic model of the pairwise verdict on a saturated
// design worked by hand, terms that cannot be estimated (collinear, separating, absent), and planted
// judges from synth: a judge biased only by length, one biased only by authorship, and every planted
// coefficient recovered on 20,000 items.
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {

// Judge J (model m1) on its own response x (model m1) against y (model m2), one item per record, with
// optional lengths and gold: `own_first` puts x in slot A.
std::string rec(int item, bool own_first, const char* verdict, int len_x = -1, int len_y = -1,
                const char* gold = nullptr) {
  auto cand = [](const char* id, const char* model, int len) {
    std::string c = std::string(R"({"id":")") + id + R"(","model":")" + model + "\"";
    if (len >= 0) c += ",\"length\":" + std::to_string(len);
    return c + "}";
  };
  const std::string x = cand("x", "m1", len_x), y = cand("y", "m2", len_y);
  std::string line = R"({"judge":"J","judge_model":"m1","item":"i)" + std::to_string(item) + R"(","a":)" +
                     (own_first ? x : y) + R"(,"b":)" + (own_first ? y : x) + R"(,"verdict":")" + verdict +
                     "\"";
  if (gold) line += R"(,"gold":")" + std::string(gold) + "\"";
  return line + "}\n";
}

json attribution_of(const std::string& text, config cfg) {
  cfg.modules = {"attribution"};
  const report r = jbtest::run_text(text, cfg);
  json out = r.to_json()["modules"]["attribution"];
  EXPECT_EQ(out["status"], "ok") << out;
  return out;
}

double sigmoid(double x) {
  return 1 / (1 + std::exp(-x));
}

json synth_judge_report(const synth_judge& judge, std::uint64_t items, std::uint64_t seed, config cfg,
                        std::vector<std::pair<std::string, double>> scale = {}) {
  synth_options o;
  o.items = items;
  o.seed = seed;
  o.judges = {judge};
  o.length_scale = std::move(scale);
  std::ostringstream text;
  synthesize(o, text);
  cfg.modules = {"attribution"};
  return jbtest::run_text(text.str(), cfg).to_json()["modules"]["attribution"]["judges"][judge.name];
}

// Under the sanitizers (the sanitize preset sets JUDGEBIAS_SANITIZED) the planted data sets are smaller:
// the same assertions, at a fifth of the time that ASan takes over a full one.
bool sanitized() {
  return std::getenv("JUDGEBIAS_SANITIZED") != nullptr;
}

bool covers(const json& m, double x) {
  return m["ci"][0].get<double>() <= x && x <= m["ci"][1].get<double>();
}

}  // namespace

// Own response in slot A on 8 records (7 pick A), in slot B on 8 (4 pick A). Intercept + self on two
// cells is saturated: the fit reproduces P(A | self = +1) = 7/8 and P(A | self = −1) = 1/2, so
// β0 + βs = logit 7/8 = ln 7 and β0 − βs = logit 1/2 = 0: β0 = βs = ln 7 / 2 = 0.972955.
// Var βs = (1/(8·7/8·1/8) + 1/(8·1/2·1/2)) / 4 = (8/7 + 1/2) / 4 = 23/56, se = 0.640870.
// self_effect = mean over the 16 records of the change in P(own) from the self term: on own-first records
// 7/8 − σ(β0), on own-second ones σ(β0) − 1/2: (7/8 − 1/2)/2 = 18.75 pp. position_effect = mean of
// σ(η) − σ(η − β0): (7/8 − σ(βs)) and (1/2 − σ(−βs)) with σ(ln 7 / 2) = √7/(1 + √7): 18.75 pp too.
TEST(Attribution, SaturatedDesignMatchesTheCellProportions) {
  std::string text;
  int item = 0;
  for (int k = 0; k < 8; ++k) text += rec(++item, true, k < 7 ? "A" : "B");
  for (int k = 0; k < 8; ++k) text += rec(++item, false, k < 4 ? "A" : "B");
  config cfg;
  cfg.bootstrap = 0;
  cfg.gold_covariate = false;
  const json a = attribution_of(text, cfg);
  const json j = a["judges"]["J"];
  const double b = std::log(7.0) / 2, se = std::sqrt(23.0 / 56.0), z = stats::normal_quantile(0.975);
  EXPECT_NEAR(j["self_coef"]["value"].get<double>(), b, 1e-9) << j;
  EXPECT_NEAR(j["position_coef"]["value"].get<double>(), b, 1e-9);
  EXPECT_NEAR(j["self_coef_wald"]["ci"][0].get<double>(), b - z * se, 1e-7);
  EXPECT_NEAR(j["self_coef_wald"]["ci"][1].get<double>(), b + z * se, 1e-7);
  EXPECT_NEAR(j["self_odds_ratio"]["value"].get<double>(), std::sqrt(7.0), 1e-9);
  EXPECT_NEAR(j["self_effect"]["value"].get<double>(), 18.75, 1e-9);
  EXPECT_EQ(j["self_effect"]["n"], 16);
  EXPECT_NEAR(j["position_effect"]["value"].get<double>(), 18.75, 1e-9);
  const double s = sigmoid(b);
  EXPECT_NEAR(s, std::sqrt(7.0) / (1 + std::sqrt(7.0)), 1e-12);
  // Wald p of βs: 2·(1 − Φ(|b|/se)).
  EXPECT_NEAR(j["self_coef"]["p"].get<double>(), std::erfc(b / se / std::sqrt(2.0)), 1e-12);
  // Terms that cannot be estimated are null with the reason, never a number.
  EXPECT_TRUE(j["gold_coef"]["value"].is_null());
  EXPECT_NE(j["gold_coef"]["reason"].get<std::string>().find("--no-gold-covariate"), std::string::npos);
  EXPECT_TRUE(j["length_effect"]["value"].is_null());
  EXPECT_NE(j["length_coef"]["reason"].get<std::string>().find("lengths"), std::string::npos);
  // No gold at all: the raw DBG beside it is null too, with self_preference's reason.
  EXPECT_TRUE(j["dbg_pairwise"]["value"].is_null());
  EXPECT_FALSE(j["dbg_pairwise"]["reason"].get<std::string>().empty());
  // With the gold covariate (the default) and no gold: nothing to fit, and it says how to fit anyway.
  config with_gold = cfg;
  with_gold.gold_covariate = true;
  const json g = attribution_of(text, with_gold);
  EXPECT_TRUE(g["judges"]["J"]["self_coef"]["value"].is_null());
  EXPECT_NE(g["judges"]["J"]["self_coef"]["reason"].get<std::string>().find("--no-gold-covariate"),
            std::string::npos);
  EXPECT_EQ(g["diagnostics"]["records_without_gold"], 16);
}

// The bootstrap interval of the saturated design is an item bootstrap (one record per item here): it
// exists, holds the estimate, and is of the Wald interval's width within a factor of two.
TEST(Attribution, BootstrapIntervalIsBesideTheWaldInterval) {
  std::string text;
  int item = 0;
  for (int k = 0; k < 40; ++k) text += rec(++item, true, k % 8 < 6 ? "A" : "B");
  for (int k = 0; k < 40; ++k) text += rec(++item, false, k % 8 < 3 ? "A" : "B");
  config cfg;
  cfg.gold_covariate = false;
  const json j = attribution_of(text, cfg)["judges"]["J"];
  const json& boot = j["self_coef"];
  const json& wald = j["self_coef_wald"];
  ASSERT_TRUE(boot["ci"].is_array()) << boot;
  EXPECT_TRUE(covers(boot, boot["value"].get<double>()));
  const double wb = boot["ci"][1].get<double>() - boot["ci"][0].get<double>(),
               ww = wald["ci"][1].get<double>() - wald["ci"][0].get<double>();
  EXPECT_GT(wb, ww / 2);
  EXPECT_LT(wb, ww * 2);
}

// Own responses always 100 characters longer: tanh(Δ/sd) is a fixed multiple of the self covariate, so
// the two terms cannot be told apart; both are null, naming each other, and the intercept still fits.
TEST(Attribution, CollinearSelfAndLengthAreBothNull) {
  std::string text;
  int item = 0;
  for (int k = 0; k < 10; ++k) text += rec(++item, true, k < 7 ? "A" : "B", 300, 200);
  for (int k = 0; k < 10; ++k) text += rec(++item, false, k < 4 ? "A" : "B", 300, 200);
  config cfg;
  cfg.bootstrap = 0;
  cfg.gold_covariate = false;
  const json j = attribution_of(text, cfg)["judges"]["J"];
  for (const char* m : {"self_coef", "length_coef", "self_effect", "length_effect"}) {
    EXPECT_TRUE(j[m]["value"].is_null()) << m << j[m];
    const std::string why = j[m]["reason"].get<std::string>();
    EXPECT_NE(why.find("collinear"), std::string::npos) << why;
    EXPECT_NE(why.find("self, length"), std::string::npos) << why;
  }
  // The intercept alone: P(A) = 11/20, β0 = logit 0.55.
  EXPECT_NEAR(j["position_coef"]["value"].get<double>(), std::log(11.0 / 9.0), 1e-9);
}

// A judge that always picks its own response: self separates the verdicts. It is null with the reason;
// the rest is fitted without it (then A is picked half the time: β0 = 0).
TEST(Attribution, SeparationNullsTheSeparatingTerm) {
  std::string text;
  int item = 0;
  for (int k = 0; k < 6; ++k) text += rec(++item, true, "A");
  for (int k = 0; k < 6; ++k) text += rec(++item, false, "B");
  config cfg;
  cfg.bootstrap = 0;
  cfg.gold_covariate = false;
  const json j = attribution_of(text, cfg)["judges"]["J"];
  EXPECT_TRUE(j["self_coef"]["value"].is_null());
  EXPECT_NE(j["self_coef"]["reason"].get<std::string>().find("separation"), std::string::npos);
  EXPECT_NEAR(j["position_coef"]["value"].get<double>(), 0.0, 1e-9);
}

// synth's logistic judge biased by length only, its own model writing twice as long: the raw DBG is
// positive (its own responses win by being long), the self effect net of length covers 0. (99 %
// intervals: a null effect outside a 95 % interval is a 1-in-20 event, not a defect.)
TEST(Attribution, LengthOnlyJudgeHasNoSelfEffect) {
  const synth_judge judge = parse_synth_logit_judge("alpha-7b:gold=1,length=1.2");
  config cfg;
  cfg.confidence = 0.99;
  const json j = synth_judge_report(judge, sanitized() ? 1500 : 3000, 11, cfg, {{"alpha-7b", 2.0}});
  EXPECT_GT(j["dbg_pairwise"]["ci"][0].get<double>(), 0) << j["dbg_pairwise"];
  EXPECT_TRUE(covers(j["self_effect"], 0)) << j["self_effect"];
  EXPECT_GT(j["length_effect"]["ci"][0].get<double>(), 0) << j["length_effect"];
}

// The reverse: authorship only, lengths unrelated to it.
TEST(Attribution, SelfOnlyJudgeHasNoLengthEffect) {
  const synth_judge judge = parse_synth_logit_judge("alpha-7b:gold=1,self=0.6");
  config cfg;
  cfg.confidence = 0.99;
  const json j = synth_judge_report(judge, sanitized() ? 1500 : 3000, 12, cfg);
  EXPECT_GT(j["dbg_pairwise"]["ci"][0].get<double>(), 0) << j["dbg_pairwise"];
  EXPECT_GT(j["self_effect"]["ci"][0].get<double>(), 0) << j["self_effect"];
  EXPECT_TRUE(covers(j["length_effect"], 0)) << j["length_effect"];
  EXPECT_TRUE(covers(j["length_coef"], 0)) << j["length_coef"];
}

// Every planted coefficient inside its 99 % Wald interval on 20,000 items (one judge: 360,000 records;
// 4,000 under the sanitizers), the cue terms in their kinds' sub-sections.
TEST(Attribution, RecoversPlantedCoefficients) {
  synth_options o;
  o.items = sanitized() ? 4000 : 20000;
  o.seed = 5;
  o.judges = {parse_synth_logit_judge("alpha-7b:position=0.3,gold=1.2,self=0.5,length=0.8,cue=0.7")};
  o.length_scale = {{"alpha-7b", 1.5}};
  std::ostringstream text;
  synthesize(o, text);
  config cfg;
  cfg.bootstrap = 0;
  cfg.confidence = 0.99;
  cfg.modules = {"attribution"};
  const json a = jbtest::run_text(text.str(), cfg).to_json()["modules"]["attribution"];
  const json j = a["judges"]["alpha-7b"];
  EXPECT_TRUE(covers(j["position_coef"], 0.3)) << j["position_coef"];
  EXPECT_TRUE(covers(j["gold_coef"], 1.2)) << j["gold_coef"];
  EXPECT_TRUE(covers(j["self_coef"], 0.5)) << j["self_coef"];
  EXPECT_TRUE(covers(j["length_coef"], 0.8)) << j["length_coef"];
  for (const char* kind : {"bandwagon", "authority"}) {
    const json c = a["kinds"][kind]["judges"]["alpha-7b"]["cue_coef"];
    EXPECT_TRUE(covers(c, 0.7)) << kind << c;
  }
  // Narrow enough to mean something: each interval is under 0.1 wide (0.25 on 4,000 items).
  for (const char* m : {"position_coef", "gold_coef", "self_coef", "length_coef"})
    EXPECT_LT(j[m]["ci"][1].get<double>() - j[m]["ci"][0].get<double>(), sanitized() ? 0.25 : 0.1) << m;
}

// The dbg_pairwise beside self_effect is self_preference's own number, interval and all.
TEST(Attribution, RawDbgIsSelfPreferences) {
  synth_options o;
  o.items = 40;
  std::ostringstream text;
  synthesize(o, text);
  config cfg;
  cfg.modules = {"self_preference", "attribution"};
  cfg.bootstrap = 200;
  const json m = jbtest::run_text(text.str(), cfg).to_json()["modules"];
  for (const char* judge : {"alpha-7b", "charlie-70b", "delta-api"})
    EXPECT_EQ(m["attribution"]["judges"][judge]["dbg_pairwise"],
              m["self_preference"]["judges"][judge]["dbg_pairwise"])
        << judge;
}

// A judge that answers A on every record: the intercept itself separates, and no other term can be
// estimated either (a fit without the intercept would make up a gold or self effect).
TEST(Attribution, InterceptSeparationNullsEveryTerm) {
  std::string text;
  int item = 0;
  for (int k = 0; k < 10; ++k) text += rec(++item, k % 2 == 0, "A", -1, -1, k % 3 == 0 ? "B" : "A");
  config cfg;
  cfg.bootstrap = 0;
  const json j = attribution_of(text, cfg)["judges"]["J"];
  for (const char* m : {"position_coef", "gold_coef", "self_coef", "gold_effect", "self_effect"}) {
    EXPECT_TRUE(j[m]["value"].is_null()) << m << j[m];
    EXPECT_NE(j[m]["reason"].get<std::string>().find("separation"), std::string::npos) << m;
  }
}

// synth --expected follows a logistic judge's own model: the measured DBG lies in its interval around
// the expectation.
TEST(Attribution, SynthExpectationOfALogisticJudge) {
  synth_options o;
  o.items = 2000;
  o.seed = 21;
  o.judges = {parse_synth_logit_judge("alpha-7b:gold=1,self=2")};
  const double expected = synth_expected(o)["alpha-7b"]["dbg_pairwise"].get<double>();
  const json j = synth_judge_report(o.judges[0], o.items, o.seed, config{});
  EXPECT_GT(expected, 40);  // a strong pull: far from the pull model's 0.65
  EXPECT_TRUE(covers(j["dbg_pairwise"], expected)) << expected << j["dbg_pairwise"];
}

// With a gold panel the gold term is the panel's vote share for A minus its share for B. Three gold
// judges vote A A B on items 1-4 (x = 2/3 - 1/3 = +1/3) and A B B on items 5-8 (x = -1/3); J picks A on
// 3 of 4 of the first and 1 of 4 of the second. The saturated fit: b0 + b1/3 = ln 3, b0 - b1/3 = -ln 3,
// so b0 = 0 and b1 = 3 ln 3 = 3.2958 (with the majority's +1/-1 it would be ln 3).
TEST(Attribution, AGoldPanelEntersAsItsVoteShare) {
  auto line = [](const std::string& judge, int item, char verdict) {
    return R"({"judge":")" + judge + R"(","item":"i)" + std::to_string(item) +
           R"(","a":{"id":"x","model":"m1"},"b":{"id":"y","model":"m2"},"verdict":")" +
           std::string(1, verdict) + "\"}\n";
  };
  const std::string g3 = "BBBBBBBB", g2 = "AAAABBBB", j = "AAABABBB";
  std::string t;
  for (int i = 0; i < 8; ++i)
    t +=
        line("G1", i + 1, 'A') + line("G2", i + 1, g2[i]) + line("G3", i + 1, g3[i]) + line("J", i + 1, j[i]);
  config cfg;
  cfg.bootstrap = 0;
  cfg.gold_judges = {"G1", "G2", "G3"};
  const json m = attribution_of(t, cfg)["judges"]["J"];
  EXPECT_NEAR(m["gold_coef"]["value"].get<double>(), 3 * std::log(3.0), 1e-9) << m;
  EXPECT_NEAR(m["position_coef"]["value"].get<double>(), 0.0, 1e-6);
}

// A candidate feature is a term: its A-minus-B difference. Items 1-4 show A one header more than B
// (x = +1), items 5-8 one fewer (x = -1); J picks A on 3 of 4 and 1 of 4. Saturated: b0 + b = ln 3,
// b0 - b = -ln 3, so b = ln 3 and b0 = 0; the effect, from x to 0, is 75 % - 50 % = +25 pp on every
// record. A ninth record whose B lacks the feature is left out and counted.
TEST(Attribution, ACandidateFeatureIsATerm) {
  auto line = [](int item, int ha, int hb, char verdict) {
    std::string b =
        hb < 0 ? R"({"id":"y"})" : R"({"id":"y","features":{"headers":)" + std::to_string(hb) + "}}";
    return R"({"judge":"J","item":"i)" + std::to_string(item) + R"(","a":{"id":"x","features":{"headers":)" +
           std::to_string(ha) + R"(}},"b":)" + b + R"(,"verdict":")" + std::string(1, verdict) + "\"}\n";
  };
  const std::string verdicts = "AAABABBB";
  std::string t;
  for (int i = 0; i < 8; ++i) t += line(i + 1, i < 4 ? 2 : 1, i < 4 ? 1 : 2, verdicts[i]);
  t += line(9, 3, -1, 'A');
  config cfg;
  cfg.bootstrap = 0;
  cfg.gold_covariate = false;
  const json a = attribution_of(t, cfg);
  const json m = a["features"]["headers"]["judges"]["J"];
  EXPECT_NEAR(m["feature_coef"]["value"].get<double>(), std::log(3.0), 1e-9) << m;
  EXPECT_NEAR(m["feature_odds_ratio"]["value"].get<double>(), 3.0, 1e-9);
  EXPECT_NEAR(m["feature_effect"]["value"].get<double>(), 25.0, 1e-9);
  EXPECT_NEAR(a["judges"]["J"]["position_coef"]["value"].get<double>(), 0.0, 1e-9);
  EXPECT_EQ(a["diagnostics"]["records_without_features"], 1);
}
