// `judgebias perturb`: requests to controls and cue variants, templates, and the round trip through run.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

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
