// Importers on hand-written fixtures (tests/data/import/): both game orders, ties, strong verdicts,
// extraction failures, and errors at path:line:column. The expected files were checked by hand against
// each format's documentation (docs/ecosystem.md walks through one record of each).
#include <algorithm>
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;

namespace {

const std::string dir = std::string(JUDGEBIAS_TEST_DATA) + "/import/";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string convert(const std::string& file, import_format f, const std::string& baseline = "") {
  std::string out;
  import_options o;
  o.baseline = baseline;
  import_file(dir + file, f, o, out);
  return out;
}

parse_error error_of(std::string_view text, import_format f, const std::string& baseline = "") {
  std::string out;
  import_options o;
  o.baseline = baseline;
  try {
    import_text("in.jsonl", text, f, o, out);
  } catch (const parse_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << text;
  return parse_error("", 0, 0, "", "");
}

// Every line the importers write is a valid FORMAT v1 record.
void expect_valid(const std::string& jsonl) {
  reader rd;
  std::size_t n = 0;
  EXPECT_NO_THROW(rd.read_buffer("converted.jsonl", jsonl, [&](const record&) { ++n; }));
  EXPECT_EQ(n, static_cast<std::size_t>(std::count(jsonl.begin(), jsonl.end(), '\n')));
}

}  // namespace

TEST(Import, FastChatPairwiseBothGamesMappedToSlots) {
  const std::string out = convert("fastchat.jsonl", import_format::fastchat);
  EXPECT_EQ(out, slurp(dir + "fastchat.expected.jsonl"));
  expect_valid(out);
  // Game 2 showed model_2 first: q82's g2_winner "model_2" (gpt-4) is then slot A.
  EXPECT_NE(
      out.find(
          R"({"judge":"gpt-4/pair-v2","judge_model":"gpt-4","item":"82:t1","a":{"model":"gpt-4"},"b":{"model":"vicuna-13b"},"verdict":"A"})"),
      std::string::npos);
  // "error" is an extraction failure; "tie" a tie; the prompt name is part of the judge.
  EXPECT_NE(out.find(R"("item":"84:t1","a":{"model":"llama-13b"},"b":{"model":"vicuna-13b"},"verdict":null)"),
            std::string::npos);
  EXPECT_NE(out.find(R"({"judge":"gpt-4/pair-v2-multi-turn","judge_model":"gpt-4","item":"83:t2")"),
            std::string::npos);
}

TEST(Import, FastChatSingleScoresAndUnparsedGrades) {
  const std::string out = convert("fastchat_single.jsonl", import_format::fastchat_single);
  EXPECT_EQ(out, slurp(dir + "fastchat_single.expected.jsonl"));
  expect_valid(out);
  EXPECT_NE(out.find(R"("response":{"model":"llama-13b"},"score":null,"scale":[1,10])"), std::string::npos);
}

TEST(Import, ArenaHardGamesAgainstTheBaseline) {
  const std::string out = convert("arena_hard.jsonl", import_format::arena_hard, "gpt-4-0314");
  EXPECT_EQ(out, slurp(dir + "arena_hard.expected.jsonl"));
  expect_valid(out);
  // 3 judged models × 2 games; the baseline's own line is left out.
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 6);
  // Game 1: baseline is A; game 2: the judged model is A; strong verdicts kept as their aliases.
  EXPECT_NE(out.find(R"("a":{"model":"gpt-4-0314"},"b":{"model":"llama-3-70b"},"verdict":"B>A")"),
            std::string::npos);
  EXPECT_NE(out.find(R"("a":{"model":"llama-3-70b"},"b":{"model":"gpt-4-0314"},"verdict":"A>>B")"),
            std::string::npos);
  EXPECT_NE(out.find(R"("a":{"model":"gpt-4-1106-preview"},"b":{"model":"gpt-4-0314"},"verdict":null)"),
            std::string::npos);
  std::string ignored;
  EXPECT_THROW(import_text("x", "", import_format::arena_hard, {}, ignored), usage_error);
}

TEST(Import, AlpacaEvalPreferencesToVerdictsAndProbabilities) {
  const std::string out = convert("alpaca_eval.json", import_format::alpaca_eval);
  EXPECT_EQ(out, slurp(dir + "alpaca_eval.expected.jsonl"));
  expect_valid(out);
  // preference 1.75: B, prob_a = 2 - 1.75; 1.5 and 0: ties (0 has no probability); null: a failure.
  EXPECT_NE(out.find(R"("verdict":"B","prob_a":0.25,"order_known":false)"), std::string::npos);
  EXPECT_NE(out.find(R"("verdict":"tie","prob_a":0.5,"order_known":false)"), std::string::npos);
  EXPECT_NE(
      out.find(
          R"("item":"2+2?","a":{"model":"gpt4_1106_preview","length":1},"b":{"model":"llama-2-70b-chat","length":1},"verdict":"tie","order_known":false)"),
      std::string::npos);
  // Texts become lengths in code points: "Bonjour\u00a0!" is 9.
  EXPECT_NE(out.find(R"("a":{"model":"gpt4_1106_preview","length":9})"), std::string::npos);
}

TEST(Import, JudgeBenchSecondGameSwappedWithGoldInItsFrame) {
  const std::string out = convert("judgebench.jsonl", import_format::judgebench);
  EXPECT_EQ(out, slurp(dir + "judgebench.expected.jsonl"));
  expect_valid(out);
  // Game 2 shows B first: its "B>A" picks the original A, whose gold is then "B".
  EXPECT_NE(
      out.find(
          R"("a":{"id":"0a1b:B","model":"gpt-4o-2024-05-13","length":16},"b":{"id":"0a1b:A","model":"gpt-4o-2024-05-13","length":1},"verdict":"B>A","gold":"B")"),
      std::string::npos);
}

TEST(Import, ErrorsAtLineAndColumn) {
  // Not JSON on line 2, at the point the parser stopped.
  auto e = error_of("\n{\"question_id\": 1,\n", import_format::fastchat);
  EXPECT_EQ(e.line(), 2u);
  EXPECT_EQ(e.reason(), "import");
  // A missing field: the object's brace; a bad value: where the value sits.
  e = error_of(
      R"(  {"question_id": 1, "model_1": "a", "model_2": "b", "g1_winner": "model_1", "judge": ["j", "p"], "turn": 1})",
      import_format::fastchat);
  EXPECT_EQ(e.column(), 3u);
  EXPECT_EQ(e.message(), "missing required field \"g2_winner\"");
  const std::string bad =
      R"({"question_id": 1, "model_1": "a", "model_2": "b", "g1_winner": "model_3", "g2_winner": "tie", "judge": ["j", "p"], "turn": 1})";
  e = error_of(bad, import_format::fastchat);
  EXPECT_EQ(e.column(), bad.find("\"model_3\"") + 1);
  EXPECT_NE(e.message().find("\"g1_winner\" must be \"model_1\", \"model_2\", \"tie\" or \"error\""),
            std::string::npos);
  e = error_of(R"({"question_id": 1, "model": "m", "judge": ["j", "p"], "score": 11, "turn": 1})",
               import_format::fastchat_single);
  EXPECT_NE(e.message().find("[1, 10] or -1"), std::string::npos);
  e = error_of(
      R"({"question_id": "q", "model": "m", "judge": "j", "games": [{"score": "A>B"}, {"score": "A>>>B"}]})",
      import_format::arena_hard, "base");
  EXPECT_NE(e.message().find("game 2's \"score\""), std::string::npos);
  // alpaca-eval: the element's line, then the value's column.
  e = error_of(
      "[\n {\"instruction\": \"i\", \"output_1\": \"x\", \"generator_1\": \"g\", \"output_2\": \"y\",\n"
      "  \"generator_2\": \"h\", \"annotator\": \"a\", \"preference\": 1},\n"
      " {\"instruction\": \"j\", \"output_1\": \"x\", \"generator_1\": \"g\", \"output_2\": \"y\", "
      "\"generator_2\": \"h\", "
      "\"annotator\": \"a\", \"preference\": 3}\n]",
      import_format::alpaca_eval);
  EXPECT_EQ(e.line(), 4u);
  EXPECT_NE(e.message().find("\"preference\" must be in [1, 2], or 0, got 3"), std::string::npos);
  e = error_of(R"({"a": 1})", import_format::alpaca_eval);
  EXPECT_NE(e.message().find("must be one JSON array"), std::string::npos);
  e = error_of(
      R"({"pair_id": "p", "response_model": "m", "response_A": "x", "response_B": "y", "label": "A=B", "judgments": []})",
      import_format::judgebench);
  EXPECT_NE(e.message().find("\"label\" must be \"A>B\" or \"B>A\""), std::string::npos);
  EXPECT_THROW(parse_import_format("mt-bench"), usage_error);
}

// alpaca-eval: each element is located from the previous one's position (one pass over the file); an
// error in element 3, after an element over two lines and strings holding brackets, commas and escaped
// quotes, is at its own line and column.
TEST(Import, AlpacaEvalErrorInALaterElementIsAtItsLineAndColumn) {
  const std::string text =
      "[\n"
      R"(  {"instruction": "a [tricky], \"quoted\" {one}", "output_1": "x", "generator_1": "g", )"
      R"("output_2": "y", "generator_2": "h", "annotator": "j", "preference": 1},)"
      "\n"
      R"(  {"instruction": "b", "output_1": "x", "generator_1": "g",)"
      "\n"
      R"(   "output_2": "y,]", "generator_2": "h", "annotator": "j", "preference": 2},)"
      "\n"
      R"(  {"instruction": "c", "output_1": "x", "generator_1": "g", "output_2": "y", "generator_2": "g", )"
      R"("annotator": "j", "preference": 1})"
      "\n]\n";
  const parse_error e = error_of(text, import_format::alpaca_eval);
  // Line 5 (element 3). Its columns: 2 spaces, "{" at 3, "instruction" (13 bytes with its quotes) 4-16,
  // ": " 17-18, "c" 19-21, ", " 22-23, "output_1" 24-33, ": " 34-35, "x" 36-38, ", " 39-40,
  // "generator_1" 41-53, ": " 54-55, "g" 56-58, ", " 59-60, "output_2" 61-70, ": " 71-72, "y" 73-75,
  // ", " 76-77, "generator_2" 78-90, ": " 91-92, then its value "g" at 93.
  EXPECT_EQ(e.line(), 5u);
  EXPECT_EQ(e.column(), 93u);
  EXPECT_EQ(e.message(), R"(generator_1 and generator_2 are the same "g")");
  EXPECT_EQ(std::string(e.what()).rfind("in.jsonl:5:93: ", 0), 0u) << e.what();
  // A missing field in element 2 is at its brace: line 3, column 3.
  std::string missing = text;
  missing.erase(missing.find(R"( "annotator": "j", "preference": 2)"), 18);  // drops ` "annotator": "j",`
  const parse_error m = error_of(missing, import_format::alpaca_eval);
  EXPECT_EQ(m.line(), 3u);
  EXPECT_EQ(m.column(), 3u);
  EXPECT_EQ(m.message(), R"(missing required field "annotator")");
}

// A number beyond a double's range is valid JSON that nlohmann refuses with its own exception: it is ours,
// at the number's first byte, in every importer.
TEST(Import, NumberOutOfRangeIsOursAndLocated) {
  // Line 3: 2 spaces, "{" at 3, "instruction" 4-16, ": " 17-18, "b" 19-21, ", " 22-23, "preference"
  // (12 bytes) 24-35, ": " 36-37, then 1e400 at 38.
  parse_error e = error_of(
      "[\n"
      R"(  {"instruction": "a", "output_1": "x", "generator_1": "g", "output_2": "y", "generator_2": "h", )"
      R"("annotator": "j", "preference": 1},)"
      "\n"
      R"(  {"instruction": "b", "preference": 1e400})"
      "\n]",
      import_format::alpaca_eval);
  EXPECT_EQ(e.line(), 3u);
  EXPECT_EQ(e.column(), 38u);
  EXPECT_EQ(e.reason(), "import");
  EXPECT_EQ(e.message(), "number 1e400 is beyond the range of a double (about ±1.8e308)");
  EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
  // JSON Lines formats: line 2, "{" at 1, "question_id" 2-14, ": " 15-16, -1e999 at 17.
  for (auto f : {import_format::fastchat, import_format::fastchat_single, import_format::judgebench}) {
    e = error_of(
        "\n"
        R"({"question_id": -1e999, "pair_id": 1})",
        f);
    EXPECT_EQ(e.line(), 2u) << to_string(f);
    EXPECT_EQ(e.column(), 17u) << to_string(f);
    EXPECT_EQ(e.message(), "number -1e999 is beyond the range of a double (about ±1.8e308)");
  }
  // An integer beyond int64 used to wrap ("turn" 2^64 - 1 gave the item "1:t-1"): "{" 1, "question_id"
  // 2-14, ": " 15-16, "1" 17, ", " 18-19, "model" 20-26, ": " 27-28, "m" 29-31, ", " 32-33, "judge" 34-40,
  // ": " 41-42, ["j", "p"] 43-52, ", " 53-54, "score" 55-61, ": " 62-63, 5 at 64, ", " 65-66, "turn" 67-72,
  // ": " 73-74, the value at 75.
  e = error_of(
      R"({"question_id": 1, "model": "m", "judge": ["j", "p"], "score": 5, "turn": 18446744073709551615})",
      import_format::fastchat_single);
  EXPECT_EQ(e.column(), 75u);
  EXPECT_EQ(e.message(), R"("turn" must be an integer below 2^63, got 18446744073709551615)");
  e = error_of(R"({"games": [1e309]})", import_format::arena_hard, "base");
  EXPECT_EQ(e.column(), 12u);  // "{" 1, "games" 2-8, ": " 9-10, "[" 11, the number at 12
}

// run --from fastchat: the fixture's judge gpt-4/pair-v2 has four comparisons (q81, q82, q84, q85):
// q81 picks gpt-4 in both orders (consistent), q82 the first slot twice, q85 the second slot twice,
// q84 failed to parse in game 1. Consistency = 1 / 3; first-slot rate = 4 A of 7 decisive records;
// self-preference without gold: dp = P(picks own) - P(picks other) over its 6 own-vs-other records,
// 4 own and 2 other = 1/3; the DBG needs gold, which MT-Bench's pairwise judgments do not carry.
TEST(Import, RunFromFastChat) {
  std::string text;
  import_file(dir + "fastchat.jsonl", import_format::fastchat, {}, text);
  config cfg;
  cfg.bootstrap = 0;
  cfg.threads = 1;
  cfg.modules = {"position", "self_preference"};
  module_registry reg;
  register_builtin_modules(reg);
  const pipeline p(std::move(reg), cfg);
  const report r = p.evaluate(load_texts({{"fastchat.jsonl", text}}, cfg));
  const auto pos = r.to_json()["modules"]["position"]["judges"]["gpt-4/pair-v2"];
  EXPECT_DOUBLE_EQ(pos["consistency"]["value"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(pos["consistency"]["n"], 3);
  EXPECT_DOUBLE_EQ(pos["first_slot_rate"]["value"].get<double>(), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(pos["extraction_failure_rate"]["value"].get<double>(), 1.0 / 8.0);
  const auto sp = r.to_json()["modules"]["self_preference"]["judges"]["gpt-4/pair-v2"];
  EXPECT_DOUBLE_EQ(sp["dp"]["value"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(sp["dp"]["n"], 6);
  EXPECT_TRUE(sp["dbg_pairwise"]["value"].is_null());
  EXPECT_EQ(r.to_json()["modules"]["self_preference"]["diagnostics"]["comparisons_without_gold"], 4);
}
