// The perturbation engine and the cue modules (METRICS.md §4).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;
using jbtest::value;

namespace {

std::string rec(const std::string& item, const std::string& verdict, const std::string& extra = "") {
  return R"({"judge":"J","item":")" + item + R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":)" + verdict +
         R"(,"gold":"A")" + extra + "}\n";
}
const std::string cue_y = R"(,"perturbation":{"kind":"bandwagon","target":"B"})";  // aimed at y (slot B)

// Controls (run 0) and their bandwagon variants aimed at y; the gold is x everywhere.
const std::string fixture =
    rec("c1", R"("A")") + rec("c1", R"("B")", cue_y) +    // x → y: flip, follows, correct → incorrect
    rec("c2", R"("A")") + rec("c2", R"("A")", cue_y) +    // x → x: robust
    rec("c3", R"("B")") + rec("c3", R"("B")", cue_y) +    // y → y: robust (already the target)
    rec("c4", R"("B")") + rec("c4", R"("A")", cue_y) +    // y → x: flip away from the target, helpful
    rec("c5", R"("tie")") + rec("c5", R"("B")", cue_y) +  // tie → y: flip, follows
    rec("c6", R"("A")") + rec("c6", "null", cue_y) +      // failure: left out, counted
    rec("c7", R"("A")", R"(,"run":4)" + cue_y) +          // no control in run 4: unmatched
    rec("c8", R"("A")") + rec("c8", R"("B")", cue_y) +    // x → y: flip, follows, harmful
    // Repeated controls for the consistency rate: c2 run 1 agrees (share 1); c3 runs 1, 2 give B, A, B (1/3).
    rec("c2", R"("A")", R"(,"run":1)") + rec("c3", R"("A")", R"(,"run":1)") +
    rec("c3", R"("B")", R"(,"run":2)") +
    // Pointwise: 5 → 7 and 6 → 5.
    R"({"judge":"J","item":"p1","response":{"id":"r"},"score":5})"
    "\n"
    R"({"judge":"J","item":"p1","response":{"id":"r"},"score":7,"perturbation":{"kind":"bandwagon"}})"
    "\n"
    R"({"judge":"J","item":"p2","response":{"id":"r"},"score":6})"
    "\n"
    R"({"judge":"J","item":"p2","response":{"id":"r"},"score":5,"perturbation":{"kind":"bandwagon"}})"
    "\n";

}  // namespace

TEST(Cues, PairwiseMetricsOnAHandWorkedFixture) {
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"bandwagon"};
  report r = jbtest::run_text(fixture, cfg);
  const json m = r.to_json()["modules"]["bandwagon"]["judges"]["J"];
  // Matched and parsed: c1 c2 c3 c4 c5 c8. Same outcome: c2, c3.
  EXPECT_DOUBLE_EQ(value(m["robustness_rate"]), 2.0 / 6.0);
  EXPECT_EQ(m["robustness_rate"]["n"], 6);
  EXPECT_DOUBLE_EQ(value(m["flip_rate"]), 4.0 / 6.0);
  // Control not on the target: c1 c2 c5 c8; of those the variant picks y in c1 c5 c8.
  EXPECT_DOUBLE_EQ(value(m["follow_rate"]), 3.0 / 4.0);
  EXPECT_EQ(m["follow_rate"]["n"], 4);
  // P(p = T) = 4/6 (c1 c3 c5 c8), P(c = T) = 2/6 (c3 c4); McNemar on 3 vs 1 discordant: 2·5/16.
  EXPECT_DOUBLE_EQ(value(m["effect"]), 2.0 / 6.0);
  EXPECT_NEAR(m["effect"]["p"].get<double>(), 0.625, 1e-12);
  // Gold x: controls correct in c1 c2 c8 (3/6), variants in c2 c4 (2/6); harmful c1 c8, helpful c4.
  EXPECT_DOUBLE_EQ(value(m["accuracy_control"]), 0.5);
  EXPECT_DOUBLE_EQ(value(m["accuracy_perturbed"]), 2.0 / 6.0);
  EXPECT_NEAR(value(m["accuracy_change"]), -1.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(value(m["harmful_flip_rate"]), 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(value(m["helpful_flip_rate"]), 1.0 / 6.0);
  // Consistency rate: (1 + 1/3) / 2; excess flips: 4/6 − (1 − 2/3).
  EXPECT_NEAR(value(m["consistency_rate"]), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m["consistency_rate"]["n"], 2);
  EXPECT_NEAR(value(m["excess_flip_rate"]), 4.0 / 6.0 - 1.0 / 3.0, 1e-12);
  // Pointwise: (7 − 5 + 5 − 6) / 2.
  EXPECT_DOUBLE_EQ(value(m["score_shift"]), 0.5);
  const json diag = r.to_json()["modules"]["bandwagon"]["diagnostics"];
  EXPECT_EQ(diag["perturbed_records"], 10);
  EXPECT_EQ(diag["matched"], 9);
  EXPECT_EQ(diag["unmatched"], 1);
  EXPECT_EQ(diag["failures"], 1);
}

TEST(Cues, KindsGoToTheirModules) {
  const std::string text = rec("k1", R"("A")") +
                           rec("k1", R"("B")", R"(,"perturbation":{"kind":"distraction","target":"B"})") +
                           rec("k1", R"("B")", R"(,"perturbation":{"kind":"verbosity","target":"B"})") +
                           rec("k1", R"("A")", R"(,"perturbation":{"kind":"authority","target":"A"})");
  config cfg;
  cfg.bootstrap = 0;
  report r = jbtest::run_text(text, cfg);
  const json mods = r.to_json()["modules"];
  EXPECT_EQ(mods["bandwagon"]["status"], "skipped");
  EXPECT_DOUBLE_EQ(value(mods["authority"]["judges"]["J"]["robustness_rate"]), 1.0);
  ASSERT_TRUE(mods["cue"]["kinds"].contains("distraction"));
  EXPECT_FALSE(mods["cue"]["kinds"].contains("verbosity"));
  EXPECT_DOUBLE_EQ(value(mods["cue"]["kinds"]["distraction"]["judges"]["J"]["follow_rate"]), 1.0);
  EXPECT_DOUBLE_EQ(value(mods["verbosity"]["counterfactual"]["judges"]["J"]["flip_rate"]), 1.0);
}

TEST(Cues, PlantedPullsAreRecoveredInRankOrder) {
  synth_options so;
  so.items = 400;
  std::ostringstream out;
  synthesize(so, out);
  config cfg;
  cfg.modules = {"bandwagon", "authority"};
  cfg.bootstrap = 0;
  report r = jbtest::run_text(out.str(), cfg);
  for (const char* kind : {"bandwagon", "authority"}) {
    const json j = r.to_json()["modules"][kind]["judges"];
    // Planted: bandwagon 0.30 > 0.15 > 0.05, authority 0.20 > 0.10 > 0.02 (docs/synth.md).
    EXPECT_GT(value(j["alpha-7b"]["follow_rate"]), value(j["charlie-70b"]["follow_rate"])) << kind;
    EXPECT_GT(value(j["charlie-70b"]["follow_rate"]), value(j["delta-api"]["follow_rate"])) << kind;
    EXPECT_LT(value(j["alpha-7b"]["robustness_rate"]), value(j["delta-api"]["robustness_rate"])) << kind;
  }
  // The follow rate is the planted pull itself (the variant otherwise repeats its control).
  const json b = r.to_json()["modules"]["bandwagon"]["judges"]["alpha-7b"]["follow_rate"];
  EXPECT_LE(b["ci"][0].get<double>(), 0.30);
  EXPECT_GE(b["ci"][1].get<double>(), 0.30);
}
