// The perturbation engine and the cue modules (METRICS.md §4), and `judgebias perturb` end to end.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

namespace {

std::string rec(const std::string& item, const std::string& verdict, const std::string& extra = "") {
  return R"({"judge":"J","item":")" + item + R"(","a":{"id":"x"},"b":{"id":"y"},"verdict":)" + verdict +
         R"(,"gold":"A")" + extra + "}\n";
}
const std::string cue_y = R"(,"perturbation":{"kind":"bandwagon","target":"B"})";  // aimed at y (slot B)

double value(const json& m) {
  return m["value"].get<double>();
}

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

TEST(Perturb, WritesControlsAndVariantsInBothOrders) {
  std::istringstream in(
      R"({"item":"q1","question":"2+2?","a":{"model":"m1","text":"4"},"b":{"model":"m2","text":"5"},"gold":"A"})"
      "\n"
      R"({"item":2,"question":"a color","a":{"text":"red"},"b":{"text":"blue"}})"
      "\n");
  perturb_options opt;
  opt.judge = "gpt-4o";
  opt.kinds = {"bandwagon", "reflection"};
  std::ostringstream out;
  // q1 (gold A): 2 controls + 2 kinds × 1 target × 2 orders = 6; item 2 (no gold): 2 + 2 × 2 × 2 = 10.
  EXPECT_EQ(perturb_requests(in, "req.jsonl", opt, out), 16u);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<json> recs;
  while (std::getline(lines, line)) recs.push_back(json::parse(line));
  ASSERT_EQ(recs.size(), 16u);
  EXPECT_EQ(recs[0]["a"]["id"], "q1:m1");
  EXPECT_EQ(recs[1]["a"]["id"], "q1:m2");  // the other order
  EXPECT_EQ(recs[1]["gold"], "B");         // gold follows the presentation
  EXPECT_FALSE(recs[0].contains("verdict"));
  // The bandwagon cue aims at the gold-rejected answer and names its slot in each order.
  EXPECT_EQ(recs[2]["perturbation"]["target"], "q1:m2");
  EXPECT_NE(recs[2]["perturbation"]["detail"]["cue"].get<std::string>().find("Output (b)"),
            std::string::npos);
  EXPECT_NE(recs[3]["perturbation"]["detail"]["cue"].get<std::string>().find("Output (a)"),
            std::string::npos);
  // Reflection is put before the target answer's text.
  EXPECT_EQ(
      recs[4]["b"]["text"].get<std::string>().substr(recs[4]["b"]["text"].get<std::string>().size() - 1),
      "5");
  EXPECT_NE(recs[4]["b"]["text"].get<std::string>(), "5");
  EXPECT_EQ(recs[4]["a"]["text"], "4");
  // Without gold, each answer is the target in turn; ids are explicit so that the orders pair up.
  EXPECT_EQ(recs[6]["a"]["id"], "2:1");
  EXPECT_EQ(recs[8]["perturbation"]["target"], "2:1");
  EXPECT_EQ(recs[10]["perturbation"]["target"], "2:2");
  // The records are FORMAT v1 but for their verdict: `run` rejects them until a judge fills it in.
  try {
    jbtest::load_text(out.str());
    FAIL() << "records without a verdict were accepted";
  } catch (const parse_error& e) {
    EXPECT_EQ(e.reason(), "missing_field");
    EXPECT_NE(std::string(e.what()).find("\"verdict\""), std::string::npos);
  }
  // The same seed gives the same bytes.
  std::istringstream again(
      R"({"item":"q1","question":"2+2?","a":{"model":"m1","text":"4"},"b":{"model":"m2","text":"5"},"gold":"A"})"
      "\n"
      R"({"item":2,"question":"a color","a":{"text":"red"},"b":{"text":"blue"}})"
      "\n");
  std::ostringstream out2;
  perturb_requests(again, "req.jsonl", opt, out2);
  EXPECT_EQ(out.str(), out2.str());
}

TEST(Perturb, BadRequestsAreReportedWithTheirLocation) {
  perturb_options opt;
  opt.judge = "j";
  auto error_of = [&](const std::string& text) -> parse_error {
    std::istringstream in(text);
    std::ostringstream out;
    try {
      perturb_requests(in, "req.jsonl", opt, out);
    } catch (const parse_error& e) {
      return e;
    }
    ADD_FAILURE() << "no error for " << text;
    return parse_error("", 0, 0, "", "");
  };
  parse_error e = error_of(
      "\n"
      R"({"item":"q","question":"?","a":{"text":"x"}})");
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.reason(), "missing_field");
  e = error_of(R"({"item":"q","question":"?","a":{"text":"x"},"b":{"text":"y"},"gold":"maybe"})");
  EXPECT_EQ(e.reason(), "unknown_verdict");
  EXPECT_EQ(e.column(), 62u);  // the "gold" key
  e = error_of(R"({"item":"q",)");
  EXPECT_EQ(e.reason(), "not_json");
  opt.kinds = {"nonsense"};
  std::istringstream in("");
  std::ostringstream out;
  EXPECT_THROW(perturb_requests(in, "req.jsonl", opt, out), usage_error);
}

// perturb → a scripted judge that follows each cue with probability 0.35, else repeats its control verdict →
// run: the follow rate comes back within its interval.
TEST(Perturb, RoundTripRecoversTheFollowProbability) {
  std::string requests;
  for (int i = 0; i < 300; ++i)
    requests += R"({"item":"r)" + std::to_string(i) + R"(","question":"q","a":{"model":"m1","text":")" +
                std::string(static_cast<std::size_t>(20 + i % 7), 'x') +
                R"("},"b":{"model":"m2","text":"yy"}})" + "\n";
  std::istringstream in(requests);
  perturb_options opt;
  opt.judge = "fake";
  opt.kinds = {"bandwagon", "authority"};
  std::ostringstream out;
  perturb_requests(in, "req.jsonl", opt, out);

  constexpr double follow = 0.35;
  stats::rng g(11);
  std::map<std::string, std::string> control;  // (item, first id) → control verdict
  std::string judged;
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line)) {
    json r = json::parse(line);
    const std::string key = r["item"].get<std::string>() + "|" + r["a"]["id"].get<std::string>();
    if (!r.contains("perturbation")) {
      r["verdict"] = g.uniform() < 0.6 ? "A" : "B";
      control[key] = r["verdict"];
    } else {
      const bool target_first = r["perturbation"]["target"] == r["a"]["id"];
      r["verdict"] = g.uniform() < follow ? (target_first ? "A" : "B") : control.at(key);
    }
    judged += r.dump() + "\n";
  }
  config cfg;
  cfg.modules = {"bandwagon", "authority"};
  report rep = jbtest::run_text(judged, cfg);
  for (const char* kind : {"bandwagon", "authority"}) {
    const json m = rep.to_json()["modules"][kind]["judges"]["fake"]["follow_rate"];
    EXPECT_LE(m["ci"][0].get<double>(), follow) << kind << " " << m;
    EXPECT_GE(m["ci"][1].get<double>(), follow) << kind << " " << m;
    EXPECT_GT(m["n"].get<int>(), 250) << kind;
  }
}

TEST(Perturb, TemplateFileAddsAndReplacesKinds) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("judgebias-templates-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cues.json").string();
  {
    std::ofstream out(path);
    out << R"({"sentiment": {"placement": "prepend", "templates": ["What a delight! "]},
              "bandwagon": {"placement": "prompt", "templates": ["Our team voted {pct}% for Output ({slot})."]}})";
  }
  perturb_options opt;
  opt.judge = "j";
  opt.kinds = {"sentiment", "bandwagon", "authority"};
  opt.templates = load_cue_templates(path);
  std::istringstream in(R"({"item":"q","question":"?","a":{"text":"x"},"b":{"text":"y"},"gold":"B"})");
  std::ostringstream out;
  EXPECT_EQ(perturb_requests(in, "req.jsonl", opt, out), 8u);  // 2 controls + 3 kinds × 2 orders
  std::vector<json> recs;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) recs.push_back(json::parse(line));
  // The new kind, prepended to the answer the gold rejects (a = "x").
  EXPECT_EQ(recs[2]["perturbation"]["kind"], "sentiment");
  EXPECT_EQ(recs[2]["a"]["text"], "What a delight! x");
  // The replaced bandwagon template, its slot filled per order.
  const std::string cue = recs[4]["perturbation"]["detail"]["cue"];
  EXPECT_EQ(cue.rfind("Our team voted ", 0), 0u) << cue;
  EXPECT_NE(cue.find("Output (a)."), std::string::npos) << cue;
  // Built-in kinds not in the file stay.
  EXPECT_EQ(recs[6]["perturbation"]["kind"], "authority");
  // A broken file is a parse_error naming it.
  { std::ofstream(path) << "{\"x\": [1,\n 2"; }
  try {
    load_cue_templates(path);
    FAIL() << "no error";
  } catch (const parse_error& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_EQ(e.line(), 2u);
  }
  std::filesystem::remove_all(dir);
}

namespace {

parse_error template_error_of(const std::string& text) {
  try {
    parse_cue_templates("cues.json", text);
  } catch (const parse_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << text;
  return parse_error("", 0, 0, "", "");
}

// The records perturb writes for one request whose gold is A (so every cue aims at b), with `templates`
// as the only kind "k" (a prompt cue).
std::vector<json> perturbed_with(const std::vector<std::string>& templates) {
  perturb_options opt;
  opt.judge = "j";
  opt.kinds = {"k"};
  opt.templates["k"] = {cue_placement::prompt, templates};
  std::istringstream in(R"({"item":"q","question":"?","a":{"text":"x"},"b":{"text":"y"},"gold":"A"})");
  std::ostringstream out;
  perturb_requests(in, "req.jsonl", opt, out);
  std::vector<json> recs;
  std::istringstream lines(out.str());
  for (std::string line; std::getline(lines, line);) recs.push_back(json::parse(line));
  return recs;
}

}  // namespace

// A misspelt placeholder used to reach the judge as text; it is refused at its "{" in the file.
TEST(Perturb, UnknownPlaceholderInTheTemplateFileIsRefusedWhereItIs) {
  parse_error e = template_error_of(
      R"({"sentiment": {"placement": "prepend", "templates": ["Fine. "]},)"
      "\n"
      R"( "bandwagon": {"templates": ["{pct}% say {slot}.", "Our team voted for Output ({slto})."]}})");
  // Line 2: " " 1, "bandwagon" 2-12, ": " 13-14, "{" 15, "templates" 16-26, ": " 27-28, "[" 29, the first
  // template's quotes at 30 and 49 around its 18 bytes, ", " 50-51, the second's quote 52, then
  // "Our team voted for Output (" (27 bytes) 53-79: "{slto}" at 80.
  EXPECT_EQ(e.path(), "cues.json");
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.column(), 80u);
  EXPECT_EQ(e.reason(), "unknown_placeholder");
  EXPECT_EQ(
      e.message().rfind(R"(unknown placeholder {slto} in template 2 of "bandwagon" (known: {slot}, )", 0), 0u)
      << e.message();
  // After an escape in the string, the column is where the placeholder's text is: "{" 1, "t" 2-4, ": " 5-6,
  // "{" 7, "templates" 8-18, ": " 19-20, "[" 21, the quote 22, \"Hi\" 23-28, " " 29, "{bogus}" at 30.
  e = template_error_of(R"({"t": {"templates": ["\"Hi\" {bogus}"]}})");
  EXPECT_EQ(e.column(), 30u);
  EXPECT_NE(e.message().find(R"({bogus} in template 1 of "t")"), std::string::npos) << e.message();
  // Through the file loader too: the path is the file's.
  const auto dir =
      std::filesystem::temp_directory_path() / ("judgebias-placeholder-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "cues.json").string();
  { std::ofstream(path) << R"({"x": {"templates": ["ok {slot}", "{Slot}"]}})"; }
  try {
    load_cue_templates(path);
    ADD_FAILURE() << "no error";
  } catch (const parse_error& p) {
    EXPECT_EQ(p.path(), path);
    EXPECT_EQ(p.reason(), "unknown_placeholder");
    EXPECT_EQ(p.column(), 36u);  // "{" 1, "x" 2-4, ": " 5-6, "{" 7, "templates" 8-18, ": " 19-20, "[" 21,
                                 // "ok {slot}" 22-32, ", " 33-34, the quote 35, "{Slot}" at 36
  }
  std::filesystem::remove_all(dir);
}

// Templates given in code (not through a file) are checked too, before any record is written.
TEST(Perturb, UnknownPlaceholderInGivenTemplatesIsAUsageError) {
  perturb_options opt;
  opt.judge = "j";
  opt.kinds = {"k"};
  opt.templates["k"] = {cue_placement::prompt, {"fine {slot}", "also {slot_upper}", "{year} {hobbies}"}};
  std::istringstream in(R"({"item":"q","question":"?","a":{"text":"x"},"b":{"text":"y"}})");
  std::ostringstream out;
  try {
    perturb_requests(in, "req.jsonl", opt, out);
    ADD_FAILURE() << "no error";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find(R"(unknown placeholder {hobbies} in template 3 of "k")"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(out.str(), "");
}

// What is a placeholder: "{{" is a literal "{"; braces around nothing, spaces or punctuation are text; a
// placeholder repeated is filled every time, the same way in one cue.
TEST(Perturb, TemplatesRenderEveryPlaceholderAndLeaveOtherBracesAlone) {
  std::vector<json> recs =
      perturbed_with({"{{slot} is literal, {} and { pct } and {1} too; {slot}/{slot_upper}: "
                      "{slot}{slot}{slot_upper}"});
  ASSERT_EQ(recs.size(), 4u);  // 2 controls + 1 target (b, the gold's loser) × 2 orders
  // Order (a, b): the target b is shown second; order (b, a): first.
  EXPECT_EQ(recs[2]["perturbation"]["detail"]["cue"],
            "{slot} is literal, {} and { pct } and {1} too; b/B: bbB");
  EXPECT_EQ(recs[3]["perturbation"]["detail"]["cue"],
            "{slot} is literal, {} and { pct } and {1} too; a/A: aaA");
  // 1,000 placeholders: 1,000 letters.
  std::string many;
  for (int k = 0; k < 1000; ++k) many += "{slot_upper}";
  recs = perturbed_with({many});
  EXPECT_EQ(recs[2]["perturbation"]["detail"]["cue"], std::string(1000, 'B'));
  EXPECT_EQ(recs[3]["perturbation"]["detail"]["cue"], std::string(1000, 'A'));
  // The drawn fill-ins: pct in {70, 80, 90}, year in [2012, 2023], page in [12, 331]; both orders share them.
  recs = perturbed_with({"{pct}|{year}|{page}|{pct}"});
  const std::string cue = recs[2]["perturbation"]["detail"]["cue"];
  EXPECT_EQ(cue, recs[3]["perturbation"]["detail"]["cue"].get<std::string>());
  int pct = 0, year = 0, page = 0, pct2 = 0;
  ASSERT_EQ(std::sscanf(cue.c_str(), "%d|%d|%d|%d", &pct, &year, &page, &pct2), 4) << cue;
  EXPECT_TRUE(pct == 70 || pct == 80 || pct == 90) << cue;
  EXPECT_EQ(pct2, pct);
  EXPECT_GE(year, 2012);
  EXPECT_LE(year, 2023);
  EXPECT_GE(page, 12);
  EXPECT_LE(page, 331);
}

// The template file's other errors are located too, never nlohmann's exceptions.
TEST(Perturb, TemplateFileErrorsAreLocated) {
  // "{" 1, "k" 2-4, ": " 5-6, "{" 7, "placement" 8-18, ": " 19-20, the bad value at 21.
  parse_error e = template_error_of(R"({"k": {"placement": "sideways", "templates": ["x"]}})");
  EXPECT_EQ(e.column(), 21u);
  EXPECT_EQ(e.reason(), "wrong_type");
  // A placement that is not a string: at the kind's name, column 2 of line 2.
  e = template_error_of(
      "{\"j\": {\"templates\": [\"x\"]},\n \"k\": {\"placement\": 3, \"templates\": [\"x\"]}}");
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.column(), 2u);
  EXPECT_NE(e.message().find("\"placement\" must be"), std::string::npos) << e.message();
  // No templates: at the kind's name.
  e = template_error_of("{\n  \"k\": {\"templates\": []}}");
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.column(), 3u);
  // A number beyond a double: "{" 1, "k" 2-4, ": " 5-6, "{" 7, "templates" 8-18, ": " 19-20, "[" 21,
  // "x" 22-24, "]" 25, ", " 26-27, "n" 28-30, ": " 31-32, 1e400 at 33.
  e = template_error_of(R"({"k": {"templates": ["x"], "n": 1e400}})");
  EXPECT_EQ(e.column(), 33u);
  EXPECT_EQ(e.reason(), "not_json");
  EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
}
