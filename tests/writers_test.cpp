// The report's human forms on a fixed report (tests/data/report/fixed.json): tidy rows, CSV, Markdown,
// HTML and the terminal table against golden files, escaping, and --fail-if gates.
// JUDGEBIAS_UPDATE_GOLDEN=1 rewrites the golden files (then read the diff before committing it).
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "test_util.hpp"

using namespace judgebias;

namespace {

const std::string dir = std::string(JUDGEBIAS_TEST_DATA) + "/report/";
const std::string evil = "<script>alert(1)</script>";

report fixed() {
  return jbtest::fixed_report();
}

void expect_golden(const std::string& name, const std::string& text) {
  if (std::getenv("JUDGEBIAS_UPDATE_GOLDEN")) {
    std::ofstream(dir + name, std::ios::binary) << text;
    return;
  }
  const std::string want = jbtest::slurp(dir + name);
  EXPECT_EQ(text, want) << "differs from tests/data/report/" << name;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(Tidy, EveryMetricOnceWithItsPlace) {
  const auto rows = tidy_rows(fixed());
  // 2 + 1 (by opponent) + 2 (gpt-4o) + 1 (by task) self-preference, 4 position, 2 + 1 verbosity, 2 bandwagon,
  // 1 cue, 2 + 1 agreement = 19; the skipped authority module has none.
  ASSERT_EQ(rows.size(), 19u);
  const auto& opp = rows[2];
  EXPECT_EQ(opp.module, "self_preference");
  EXPECT_EQ(opp.judge, evil);
  EXPECT_EQ(opp.opponent, "llama-3");
  EXPECT_EQ(opp.metric, "dbg_pairwise");
  EXPECT_EQ(*opp.value, 10.0);
  EXPECT_EQ(*opp.ci_low, -5.0);
  EXPECT_EQ(opp.n, 20u);
  const auto& null_row = rows[4];
  EXPECT_EQ(null_row.metric, "dbg_pointwise");
  EXPECT_FALSE(null_row.value);
  EXPECT_EQ(null_row.reason, "no pointwise record with gold");
  EXPECT_EQ(rows[5].task, "math");
  EXPECT_EQ(rows[12].kind, "counterfactual");
  EXPECT_EQ(rows[15].kind, "distraction");
  EXPECT_EQ(rows[18].kind, "overall");
  EXPECT_EQ(rows[18].judge, "");
}

TEST(Writers, CsvIsTidyQuotedAndGolden) {
  const std::string csv = to_csv(fixed());
  expect_golden("fixed.csv", csv);
  EXPECT_EQ(count(csv, "\r\n"), 20u);  // header + 19 rows
  // A judge name with a comma, a quote and a bar is one quoted field.
  EXPECT_NE(
      csv.find("position,,\"judge|x,\"\"y\"\"\",,,,,first_slot_rate,0.75,0.5,1,12,0.146,fraction,,0.357\r\n"),
      std::string::npos);
  // A null value: empty cells and the reason.
  EXPECT_NE(
      csv.find("self_preference,,gpt-4o,,,,,dbg_pointwise,,,,0,,score,no pointwise record with gold,\r\n"),
      std::string::npos);
}

TEST(Writers, MarkdownTablesEscapedAndGolden) {
  const std::string md = to_markdown(fixed());
  expect_golden("fixed.md", md);
  // Judges are rows, value [CI] n= in each cell; names cannot break a table or add markup.
  EXPECT_NE(
      md.find("| \\<script\\>alert(1)\\</script\\> | +12.5 [+2.5, +22.5] n=40 | +0.75 [+0.25, +1.25] n=40 |"),
      std::string::npos);
  EXPECT_NE(md.find("| judge\\|x,\"y\" |"), std::string::npos);
  // The mde fixed.json gives the judge's first_slot_rate (0.357 = 1.4294 x half of [0.5, 1]) follows it.
  EXPECT_NE(md.find("| 0.750 [0.500, 1.000] n=12 mde=0.357 |"), std::string::npos);
  EXPECT_EQ(md.find("<script>"), std::string::npos);
  EXPECT_NE(md.find("authority\n\nskipped: no record with perturbation.kind \"authority\""),
            std::string::npos);
}

TEST(Writers, HtmlSelfContainedEscapedAndGolden) {
  const std::string html = to_html(fixed());
  expect_golden("fixed.html", html);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // no scripts at all, and the judge's name is text
  // The table's mde column: fixed.json's one mde, after the p of 0.146.
  EXPECT_NE(html.find("<td class=\"num\">0.146</td><td class=\"num\">0.357</td>"), std::string::npos);
  EXPECT_GE(count(html, "&lt;script&gt;alert(1)&lt;/script&gt;"), 3u);
  // No external resource: the only addresses are the SVG namespace names.
  EXPECT_EQ(count(html, "http://") + count(html, "https://"),
            count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_EQ(count(html, "src="), 0u);
  // Marks per chart: DBG pairwise for both judges, pointwise only where it has a value.
  auto marks = [&](const std::string& id) {
    const auto start = html.find("id=\"chart-" + id + "\"");
    const auto end = html.find("</figure>", start);
    return count(html.substr(start, end - start), "class=\"mark ");
  };
  EXPECT_EQ(marks("dbg_pairwise"), 2u);
  EXPECT_EQ(marks("dbg_pointwise"), 1u);
  EXPECT_EQ(marks("consistency"), 2u);
  EXPECT_EQ(marks("first_slot_rate"), 2u);
  EXPECT_EQ(marks("prefer_longer"), 2u);  // gpt-4o and its gold
  EXPECT_EQ(marks("robustness"), 3u);     // bandwagon, verbosity padding, distraction
}

TEST(Writers, TableGolden) {
  expect_golden("fixed.table.txt", format_table(fixed()));
  const std::string colored = format_table(fixed(), table_style{true});
  EXPECT_NE(colored.find("\x1b[1mself_preference\x1b[0m"), std::string::npos);
  EXPECT_EQ(format_table(fixed()).find('\x1b'), std::string::npos);
}

TEST(Writers, FormatOfPath) {
  EXPECT_EQ(format_of_path("r.json"), output_format::json);
  EXPECT_EQ(format_of_path("dir.v2/R.MD"), output_format::markdown);
  EXPECT_EQ(format_of_path("r.csv"), output_format::csv);
  EXPECT_EQ(format_of_path("r.htm"), output_format::html);
  EXPECT_THROW(format_of_path("r.txt"), usage_error);
  EXPECT_THROW(format_of_path("json"), usage_error);
}

// A cue kind may be called "overall": it is still per judge, unlike agreement's all-judges row.
TEST(Writers, CueKindNamedOverallStaysPerJudge) {
  const report r = report_from_json(
      nlohmann::ordered_json::parse(R"({"schema_version":1,"tool":{"name":"judgebias","version":"0"},
    "inputs":[],"config":{"confidence":0.95,"bootstrap":0},"diagnostics":{"records":4,"warnings":[]},
    "modules":{"cue":{"status":"ok","kinds":{"overall":{"judges":{
      "j":{"robustness_rate":{"value":1.0,"ci":null,"n":2,"unit":"fraction","reason":"x"}},
      "k":{"robustness_rate":{"value":0.0,"ci":null,"n":2,"unit":"fraction","reason":"x"}}}}}}}})"));
  const std::string md = to_markdown(r);
  EXPECT_NE(md.find("| j | 1.000 n=2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| k | 0.000 n=2 |"), std::string::npos);
  EXPECT_EQ(md.find("(all judges)"), std::string::npos);
  const std::string table = format_table(r);
  EXPECT_NE(table.find("cue.overall"), std::string::npos) << table;
  EXPECT_NE(table.find("  k     0.000 n=2"), std::string::npos) << table;
}

namespace {

// A report with one judge `p + "j"`: self-preference overall, by opponent `p + "o"`, by task `p + "t"`
// and by run `p + "u"`, and a cue kind `p + "k"` whose metric's reason is `p + "r"`. Negative values
// and interval ends: numbers, never prefixed.
report named(const std::string& p) {
  using oj = nlohmann::ordered_json;
  const oj dbg = {{"value", -0.5}, {"ci", {-1.5, 0.5}}, {"n", 8}, {"unit", "pp"}};
  oj r = oj::parse(R"({"schema_version":1,"tool":{"name":"judgebias","version":"0"},"inputs":[],
    "config":{"confidence":0.95,"bootstrap":0},"diagnostics":{"records":4,"warnings":[]}})");
  oj sp = {{"status", "ok"}};
  sp["judges"][p + "j"]["dbg_pairwise"] = dbg;
  sp["judges"][p + "j"]["by_opponent"][p + "o"]["dbg_pairwise"] = dbg;
  sp["by_task"][p + "j"][p + "t"]["dbg_pairwise"] = dbg;
  sp["by_run"][p + "j"][p + "u"]["dbg_pairwise"] = dbg;
  oj cue = {{"status", "ok"}};
  cue["kinds"][p + "k"]["judges"][p + "j"]["robustness_rate"] = {
      {"value", 1.0}, {"ci", nullptr}, {"n", 2}, {"unit", "fraction"}, {"reason", p + "r"}};
  r["modules"]["self_preference"] = sp;
  r["modules"]["cue"] = cue;
  return report_from_json(r);
}

// The CSV of named(p) when each of its text cells reads `q` + letter.
std::string named_csv(const std::string& q) {
  return fmt::format(
      "module,kind,judge,model,opponent,task,run,metric,value,ci_low,ci_high,n,p,unit,reason,mde\r\n"
      "self_preference,,{0}j,,,,,dbg_pairwise,-0.5,-1.5,0.5,8,,pp,,\r\n"
      "self_preference,,{0}j,,{0}o,,,dbg_pairwise,-0.5,-1.5,0.5,8,,pp,,\r\n"
      "self_preference,,{0}j,,,{0}t,,dbg_pairwise,-0.5,-1.5,0.5,8,,pp,,\r\n"
      "self_preference,,{0}j,,,,{0}u,dbg_pairwise,-0.5,-1.5,0.5,8,,pp,,\r\n"
      "cue,{0}k,{0}j,,,,,robustness_rate,1,,,2,,fraction,{0}r,\r\n",
      q);
}

// One of each class printable() escapes, between printable ASCII: ESC (an SGR sequence), BEL,
// newline, NUL, DEL, a C1 control (CSI), RLO, LRI, RLM, ALM, U+2028, U+2029, and a byte that is not
// UTF-8 (0xFF).
const std::string hostile =
    std::string("a\x1b[31m\x07\n") + '\0' +
    "\x7f\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8\xe2\x80\xa9\xffz";
const std::string hostile_shown =
    "a\\x1b[31m\\x07\\x0a\\x00\\x7f\\u{009b}\\u{202e}\\u{2066}\\u{200f}\\u{061c}\\u{2028}\\u{2029}\\xffz";

}  // namespace

TEST(Printable, AsciiControlsAsBytes) {
  EXPECT_EQ(printable("x\x1b[2J"), "x\\x1b[2J");
  EXPECT_EQ(printable("\x1b]0;title\x07"), "\\x1b]0;title\\x07");
  EXPECT_EQ(printable("a\nb\rc\td"), "a\\x0ab\\x0dc\\x09d");
  EXPECT_EQ(printable(std::string("n\0l", 3)), "n\\x00l");
  EXPECT_EQ(printable("\x7f\x01\x1f"), "\\x7f\\x01\\x1f");
}

TEST(Printable, BidiControlsAndSeparatorsAsCodePoints) {
  const std::pair<const char*, const char*> cases[] = {
      {"\xd8\x9c", "\\u{061c}"},      // ARABIC LETTER MARK
      {"\xe2\x80\x8e", "\\u{200e}"},  // LRM
      {"\xe2\x80\x8f", "\\u{200f}"},  // RLM
      {"\xe2\x80\xa8", "\\u{2028}"},  // LINE SEPARATOR
      {"\xe2\x80\xa9", "\\u{2029}"},  // PARAGRAPH SEPARATOR
      {"\xe2\x80\xaa", "\\u{202a}"},  // LRE
      {"\xe2\x80\xab", "\\u{202b}"},  // RLE
      {"\xe2\x80\xac", "\\u{202c}"},  // PDF
      {"\xe2\x80\xad", "\\u{202d}"},  // LRO
      {"\xe2\x80\xae", "\\u{202e}"},  // RLO
      {"\xe2\x81\xa6", "\\u{2066}"},  // LRI
      {"\xe2\x81\xa7", "\\u{2067}"},  // RLI
      {"\xe2\x81\xa8", "\\u{2068}"},  // FSI
      {"\xe2\x81\xa9", "\\u{2069}"},  // PDI
      {"\xc2\x80", "\\u{0080}"},      // C1 controls
      {"\xc2\x9b", "\\u{009b}"},      // CSI
      {"\xc2\x9f", "\\u{009f}"},
  };
  for (const auto& [in, want] : cases)
    EXPECT_EQ(printable(std::string("<") + in + ">"), std::string("<") + want + ">") << want;
}

TEST(Printable, KeepsOtherText) {
  // Printable ASCII (backslashes too), accents, emoji, and the neighbours of the escaped ranges.
  for (const char* kept :
       {"gpt-4o \\x1b", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xe2\x80\x8d", "\xe2\x80\xaf",
        "\xe2\x81\xa5", "\xe2\x81\xaa", "\xd8\x9b", "\xef\xbb\xbf", ""})
    EXPECT_EQ(printable(kept), kept);
}

TEST(Printable, InvalidUtf8AsBytes) {
  EXPECT_EQ(printable("a\xff!"), "a\\xff!");
  EXPECT_EQ(printable("\x80!"), "\\x80!");                              // a stray continuation byte
  EXPECT_EQ(printable("\xe2\x80!"), "\\xe2\\x80!");                     // truncated
  EXPECT_EQ(printable("ab\xe2"), "ab\\xe2");                            // truncated at the end
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                       // overlong '/'
  EXPECT_EQ(printable("\xe0\x80\xae"), "\\xe0\\x80\\xae");              // overlong, not an RLO
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");              // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");     // above U+10FFFF
  EXPECT_EQ(printable("\xe2\x80\xae\xe2\x80"), "\\u{202e}\\xe2\\x80");  // valid, then truncated
}

TEST(Writers, CsvFormulaCellsGetAQuote) {
  // Each prefix a spreadsheet reads as a formula, in every text cell; numbers (-0.5, -1.5) stay numbers.
  EXPECT_EQ(to_csv(named("=")), named_csv("'="));
  EXPECT_EQ(to_csv(named("+")), named_csv("'+"));
  EXPECT_EQ(to_csv(named("-")), named_csv("'-"));
  EXPECT_EQ(to_csv(named("@")), named_csv("'@"));
  EXPECT_EQ(to_csv(named("\t")), named_csv("'\\x09"));
  EXPECT_EQ(to_csv(named("\r")), named_csv("'\\x0d"));
  // Elsewhere in a cell they are harmless; a quote-prefixed cell with a comma is still one field.
  EXPECT_EQ(to_csv(named("x=")), named_csv("x="));
  EXPECT_NE(to_csv(named("=1,")).find("\r\nself_preference,,\"'=1,j\",,\"'=1,o\",,,dbg_pairwise,-0.5,"),
            std::string::npos);
}

TEST(Writers, CsvNegativeNumbersAreNotPrefixed) {
  const std::string csv = to_csv(named(""));
  EXPECT_EQ(csv, named_csv(""));
  EXPECT_NE(csv.find(",dbg_pairwise,-0.5,-1.5,0.5,8,"), std::string::npos);
  EXPECT_EQ(csv.find('\''), std::string::npos);
}

TEST(Writers, HostileNamesEscapedInCsv) {
  EXPECT_EQ(to_csv(named(hostile)), named_csv(hostile_shown));
}

TEST(Writers, HostileNamesEscapedInTable) {
  const std::string judge = hostile_shown + "j", pad(judge.size() - 5, ' ');
  EXPECT_EQ(
      format_table(named(hostile)),
      fmt::format("judgebias 0: 4 records from  (0 bytes); 0 skipped, 0 duplicates, 0 extraction failures\n"
                  "\nself_preference\n  judge{1} dbg_pairwise (pp)\n  {0} -0.5 [-1.5, +0.5] n=8\n"
                  "\ncue.{2}k\n  judge{1} robustness_rate (fraction)\n  {0} 1.000 n=2\n",
                  judge, pad, hostile_shown));
}

TEST(Writers, HostileNamesEscapedInHtml) {
  const std::string html = to_html(named(hostile));
  // The escapes are text; printable ASCII around them is HTML-escaped as before.
  EXPECT_NE(html.find("<tr><td>" + hostile_shown + "j</td><td>" + hostile_shown + "o</td><td>dbg_pairwise"),
            std::string::npos);
  EXPECT_NE(html.find("<h3>" + hostile_shown + "k</h3>"), std::string::npos);
  EXPECT_NE(html.find("<td>" + hostile_shown + "r</td></tr>"), std::string::npos);
  for (const std::string raw : {"\x1b", "\x07", "\x7f", "\xc2\x9b", "\xe2\x80\xae", "\xe2\x81\xa6",
                                "\xe2\x80\x8f", "\xd8\x9c", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xff"})
    EXPECT_EQ(html.find(raw), std::string::npos) << printable(raw);
  EXPECT_EQ(html.find('\0'), std::string::npos);
  EXPECT_EQ(html_escape("<b>\xe2\x80\xae&"), "&lt;b&gt;\\u{202e}&amp;");
}

TEST(Writers, HostileNamesEscapedInMarkdown) {
  const std::string md = to_markdown(named(hostile));
  // Markdown escapes the backslashes of the visible escapes (they render as one) and the bracket;
  // a line end is a space there.
  EXPECT_NE(md.find("| a\\\\x1b\\[31m\\\\x07 \\\\x00\\\\x7f\\\\u{009b}\\\\u{202e}\\\\u{2066}\\\\u{200f}"
                    "\\\\u{061c}\\\\u{2028}\\\\u{2029}\\\\xffzj | -0.5 [-1.5, +0.5] n=8 |"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("\xe2\x80\xae"), std::string::npos);
}
