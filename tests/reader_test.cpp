// The reader against FORMAT.md: fields, defaults, aliases, and every error class with its column.
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "ingest/format_v1.hpp"
#include "ingest/lines.hpp"
#include "test_util.hpp"

using namespace judgebias;

namespace {

struct owned_record {
  std::string judge, judge_model, item, task, a_id, b_id, a_model, kind, target;
  bool has_task = false, a_has_model = false, order_known = true;
  std::uint32_t run = 0;
  judgment_mode mode{};
  verdict v{};
  std::optional<std::uint32_t> a_len, b_len, a_tokens;
  std::optional<double> score, gold_score, prob_a;
  std::optional<verdict> gold;
};

std::vector<owned_record> read_all(std::string_view text, reader_options opt = {},
                                   read_stats* stats = nullptr) {
  std::vector<owned_record> out;
  reader rd(opt);
  rd.read_buffer("in.jsonl", text, [&](const record& r) {
    owned_record o;
    o.judge = r.judge, o.judge_model = r.judge_model, o.item = r.item, o.task = r.task,
    o.has_task = r.has_task;
    o.a_id = r.a.id, o.b_id = r.b.id, o.a_model = r.a.model, o.a_has_model = r.a.has_model;
    o.kind = r.perturbation_kind, o.target = r.perturbation_target, o.order_known = r.order_known;
    o.run = r.run, o.mode = r.mode, o.v = r.v, o.a_len = r.a.length, o.b_len = r.b.length,
    o.a_tokens = r.a.tokens;
    o.score = r.score, o.gold_score = r.gold_score, o.prob_a = r.prob_a, o.gold = r.gold;
    out.push_back(std::move(o));
  });
  if (stats) *stats = rd.stats();
  return out;
}

// Reads one line under the stop policy and returns the error it raises.
parse_error error_of(const std::string& line, reader_options opt = {}) {
  try {
    read_all(line, opt);
  } catch (const parse_error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for: " << line;
  return parse_error("", 0, 0, "", "");
}

std::uint64_t col(const std::string& line, const std::string& needle) {
  return line.find(needle) + 1;
}

const std::string pair_prefix = R"({"judge":"j","item":"q","a":{"id":"x"},"b":{"id":"y"},)";

}  // namespace

TEST(Reader, PairwiseFieldsAndDefaults) {
  auto recs = read_all(
      R"({"judge":"gpt-4o","item":17,"a":{"model":"m1","text":"héllo"},"b":{"model":"m2","length":3,"tokens":2},"verdict":"A>>B","gold":"b","prob_a":0.25,"run":2})"
      "\n");
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = recs[0];
  EXPECT_EQ(r.judge, "gpt-4o");
  EXPECT_EQ(r.judge_model, "gpt-4o");  // defaults to judge
  EXPECT_EQ(r.item, "17");             // integer item becomes its decimal text
  EXPECT_FALSE(r.has_task);
  EXPECT_EQ(r.mode, judgment_mode::pairwise);  // inferred from a + b
  EXPECT_EQ(r.a_id, "17:m1");                  // default id "<item>:<model>"
  EXPECT_EQ(r.b_id, "17:m2");
  EXPECT_EQ(r.a_len, 5u);  // "héllo" is 5 code points, 6 bytes
  EXPECT_EQ(r.b_len, 3u);
  EXPECT_EQ(r.v, verdict::a);
  EXPECT_EQ(r.gold, verdict::b);
  EXPECT_EQ(r.prob_a, 0.25);
  EXPECT_EQ(r.run, 2u);
  EXPECT_TRUE(r.order_known);
}

TEST(Reader, PointwiseAndNulls) {
  auto recs = read_all(
      R"({"judge":"j","judge_model":"m","item":"q","task":"t","response":{"text":"\u65e5\u672c"},"score":null,"gold":7,"scale":[1,10],"meta":{"x":[1,{"y":null}]},"run":null,"prob_a":null})");
  ASSERT_EQ(recs.size(), 1u);
  const auto& r = recs[0];
  EXPECT_EQ(r.mode, judgment_mode::pointwise);
  EXPECT_EQ(r.judge_model, "m");
  EXPECT_EQ(r.task, "t");
  EXPECT_EQ(r.a_id, "response");      // no id, no model: the slot name
  EXPECT_EQ(r.a_len, 2u);             // two escaped CJK characters
  EXPECT_FALSE(r.score.has_value());  // null score = extraction failure
  EXPECT_EQ(r.gold_score, 7.0);
  EXPECT_EQ(r.run, 0u);
  EXPECT_FALSE(r.prob_a.has_value());
}

TEST(Reader, VerdictAliases) {
  const std::pair<const char*, verdict> cases[] = {
      {"A", verdict::a},     {"a", verdict::a},   {"A>B", verdict::a},    {"a>>b", verdict::a},
      {"1", verdict::a},     {"B", verdict::b},   {"b", verdict::b},      {"B>A", verdict::b},
      {"B>>A", verdict::b},  {"2", verdict::b},   {"tie", verdict::tie},  {"TIE", verdict::tie},
      {"A=B", verdict::tie}, {"C", verdict::tie}, {"draw", verdict::tie},
  };
  for (const auto& [text, expected] : cases) {
    auto v = parse_verdict(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(*v, expected) << text;
  }
  EXPECT_FALSE(parse_verdict("maybe").has_value());
  EXPECT_FALSE(parse_verdict("").has_value());
  auto recs = read_all(pair_prefix + R"("verdict":null})");
  EXPECT_EQ(recs.at(0).v, verdict::missing);
}

TEST(Reader, LinesCrlfBlanksAndNoFinalNewline) {
  const std::string good = pair_prefix + R"("verdict":"A"})";
  read_stats st;
  auto recs = read_all(good + "\r\n\r\n   \n" + good + "\n\n" + good, {}, &st);
  EXPECT_EQ(recs.size(), 3u);
  EXPECT_EQ(st.lines, 6u);  // blank lines are counted physically; the last has no newline
  EXPECT_EQ(st.records, 3u);
  // Physical line numbers in errors count the blank lines.
  try {
    read_all(good + "\n\n" + "{oops}\n");
    FAIL() << "no error";
  } catch (const parse_error& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_EQ(e.path(), "in.jsonl");
  }
}

TEST(Reader, PerturbationTargets) {
  auto recs = read_all(pair_prefix +
                       R"("verdict":"B","perturbation":{"kind":"bandwagon","target":"B","detail":{"p":90}}})"
                       "\n" +
                       pair_prefix + R"("verdict":"B","perturbation":{"kind":"authority","target":"x"}})");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].kind, "bandwagon");
  EXPECT_EQ(recs[0].target, "y");  // slot B resolved to its id
  EXPECT_EQ(recs[1].target, "x");  // an id stays
}

TEST(Reader, UnknownFieldsAreCountedNotRejected) {
  read_stats st;
  auto recs = read_all(pair_prefix + R"("verdict":"A","my_column":[1,2],"extra":{}})", {}, &st);
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(st.unknown_fields.at("my_column"), 1u);
  EXPECT_EQ(st.unknown_fields.at("extra"), 1u);
}

// Keys are found eight bytes at a time: keys of every length from 1 to 20 bytes, at the top and in a
// candidate, are each counted by their own name; a key with an escape is the key it spells (an escaped
// "judge" is the judge, an escaped "model" the model), so that it is also a duplicate of that key.
TEST(Reader, KeysOfEveryLengthAndWithEscapes) {
  std::string top, inner;
  for (int n = 1; n <= 20; ++n) {
    top += fmt::format(R"("{}":{},)", std::string(static_cast<std::size_t>(n), 'k'), n);
    inner += fmt::format(R"(,"{}":{})", std::string(static_cast<std::size_t>(n), 'q'), n);
  }
  read_stats st;
  const std::string line = "{" + top + R"("jud\u0067e":"j","item":"q","a":{"id":"x","mod\u0065l":"m1")" +
                           inner + R"(},"b":{"id":"y"},"ver\"dict":1,"verdict":"A"})";
  auto recs = read_all(line, {}, &st);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].judge, "j");
  EXPECT_EQ(recs[0].a_model, "m1");
  EXPECT_TRUE(recs[0].a_has_model);
  EXPECT_EQ(recs[0].v, verdict::a);
  EXPECT_EQ(st.unknown_fields.size(), 41u);
  for (std::size_t n = 1; n <= 20; ++n) {
    EXPECT_EQ(st.unknown_fields.at(std::string(n, 'k')), 1u) << n;
    EXPECT_EQ(st.unknown_fields.at("a." + std::string(n, 'q')), 1u) << n;
  }
  EXPECT_EQ(st.unknown_fields.at("ver\"dict"), 1u);
  const std::string dup = R"({"judge":"j","jud\u0067e":"k","item":"q","response":{},"score":1})";
  const parse_error e = error_of(dup);
  EXPECT_EQ(e.reason(), "duplicate_key");
  EXPECT_EQ(e.column(), col(dup, R"("jud\u0067e")"));
}

TEST(Reader, OrderKnownFalse) {
  auto recs = read_all(pair_prefix + R"("verdict":"A","order_known":false})");
  EXPECT_FALSE(recs.at(0).order_known);
}

// Every error class of FORMAT.md: reason key and the column of the offending value.
TEST(ReaderErrors, EachClassWithColumn) {
  struct error_case {
    std::string line;
    std::string reason;
    std::uint64_t column;
  };
  const std::string pw = pair_prefix;
  const std::string pt = R"({"judge":"j","item":"q","response":{"id":"r"},)";
  std::vector<error_case> cases;
  auto add = [&](std::string line, std::string reason, std::uint64_t column) {
    cases.push_back({std::move(line), std::move(reason), column});
  };
  {
    std::string l = R"({"judge":"j","item":"q")";  // truncated
    add(l, "not_json", 0);
  }
  add("[1,2]", "not_object", 1);
  add("   42", "not_object", 4);
  add(R"(  {"item":"q","response":{},"score":1})", "missing_field", 3);  // the object's brace
  {
    std::string l = R"({"judge":5,"item":"q","response":{},"score":1})";
    add(l, "wrong_type", col(l, "5"));
  }
  {
    std::string l = pw + R"("verdict":"maybe"})";
    add(l, "unknown_verdict", col(l, "\"maybe\""));
  }
  {
    std::string l = pw + R"("verdict":7})";
    add(l, "wrong_type", col(l, "7}"));
  }
  {
    std::string l = pt + R"("score":NaN})";
    add(l, "bad_number", col(l, "NaN"));
  }
  {
    std::string l = pt + R"("score":1e999})";
    add(l, "bad_number", col(l, "1e999"));
  }
  {
    std::string l = pt + R"("score":5,"gold":11,"scale":[1,10]})";  // a gold outside: always an error
    add(l, "bad_number", col(l, "11"));
  }
  {
    std::string l = pw + R"("verdict":"A","prob_a":1.5})";
    add(l, "bad_number", col(l, "1.5"));
  }
  {
    std::string l = R"({"judge":"j","item":"q","response":{"length":-3},"score":1})";
    add(l, "negative_length", col(l, "-3"));
  }
  add(R"({"judge":"j","item":"q","a":{},"b":{},"response":{},"verdict":"A","score":1})", "bad_mode", 1);
  add(R"({"judge":"j","item":"q","verdict":"A"})", "bad_mode", 1);
  {
    std::string l = R"({"judge":"j","item":"q","a":{"model":"m"},"b":{"model":"m"},"verdict":"A"})";
    add(l, "same_id", col(l, "{\"model\":\"m\"},\"v"));  // the column of b
  }
  {
    std::string l = pw + R"("verdict":"A","perturbation":{"kind":"authority","target":"z"}})";
    add(l, "bad_target", col(l, "\"z\""));
  }
  {
    std::string l = pw + "\"verdict\":\"A\",\"meta\":\"caf\xC3\x28\"}";
    add(l, "invalid_utf8", col(l, "\xC3\x28"));
  }
  {
    std::string l = pw + R"("verdict":"A","verdict":"B"})";
    add(l, "duplicate_key", l.rfind("\"verdict\"") + 1);
  }
  {
    std::string l = pw + R"("verdict":"A","meta":{"k":1,"k":2}})";
    add(l, "duplicate_key", l.rfind("\"k\"") + 1);
  }
  {
    std::string deep = std::string(64, '[') + std::string(64, ']');
    std::string l = pw + R"("verdict":"A","meta":)" + deep + "}";
    add(l, "too_deep", col(l, "[") + 63);  // the 64th bracket is the 65th level under the record
  }
  {
    std::string l = pw + R"("verdict":"A","run":99999999999})";
    add(l, "out_of_range", col(l, "99999999999"));
  }
  {
    std::string l = pw + R"("verdict":"A","run":-1})";
    add(l, "out_of_range", col(l, "-1"));
  }
  {
    std::string l = R"({"judge":"j","item":"q","response":{"length":18446744073709551616},"score":1})";
    add(l, "out_of_range", col(l, "18446"));
  }
  {
    std::string l = pw + R"("verdict":"A"} {"x":1})";
    add(l, "not_json", col(l, " {\"x\"") + 1);
  }
  {
    std::string l = pw + R"("gold":"A"})";  // verdict missing
    add(l, "missing_field", 1);
  }
  {
    std::string l = R"({"judge":"j","item":123456789012345678901234,"response":{},"score":1})";
    add(l, "out_of_range", col(l, "1234"));
  }
  add("\xEF\xBB\xBF" + pw + R"("verdict":"A"})", "not_json", 1);  // a byte order mark
  for (const auto& c : cases) {
    parse_error e = error_of(c.line);
    EXPECT_EQ(e.reason(), c.reason) << c.line << "\n" << e.what();
    if (c.column) {
      EXPECT_EQ(e.column(), c.column) << c.line << "\n" << e.what();
    }
    EXPECT_EQ(e.line(), 1u);
    // what() is path:line:column: message
    EXPECT_EQ(std::string(e.what()).rfind(fmt::format("in.jsonl:1:{}: ", e.column()), 0), 0u) << e.what();
  }
}

// FORMAT.md, `scale`: a judge's score outside its scale is the judge's extraction failure, not the
// file's error; --strict-scale makes it one.
TEST(Reader, ScoreOutsideScaleIsAnExtractionFailure) {
  const std::string l = R"({"judge":"j","item":"q","response":{"id":"r"},"score":11,"scale":[1,10]})";
  read_stats st;
  std::vector<bool> flags;
  reader rd;
  rd.read_buffer(
      "in.jsonl",
      l + "\n" + R"({"judge":"j","item":"q","response":{"id":"s"},"score":10,"scale":[1,10]})" + "\n",
      [&](const record& r) {
        flags.push_back(r.score_out_of_scale);
        EXPECT_EQ(r.score.has_value(), !r.score_out_of_scale);
      });
  st = rd.stats();
  EXPECT_EQ(st.records, 2u);  // both kept; the bound itself (10) is inside
  EXPECT_EQ(st.skipped, 0u);
  EXPECT_EQ(flags, (std::vector<bool>{true, false}));
  reader_options strict;
  strict.strict_scale = true;
  parse_error e = error_of(l, strict);
  EXPECT_EQ(e.reason(), "bad_number");
  EXPECT_EQ(e.column(), col(l, "11"));
  EXPECT_EQ(e.message(), "\"score\" 11 is outside the scale [1, 10] (--strict-scale)");
}

TEST(ReaderErrors, MessagesNameTheField) {
  // A value judgebias does not interpret is still checked, and the message names its field.
  parse_error e = error_of(pair_prefix + R"("verdict":"A","meta":{"x":[1e999]}})");
  EXPECT_EQ(e.reason(), "bad_number");
  EXPECT_NE(e.message().find("\"meta\""), std::string::npos) << e.what();
  e = error_of("\xEF\xBB\xBF" + pair_prefix + R"("verdict":"A"})");
  EXPECT_NE(e.message().find("byte order mark"), std::string::npos) << e.what();
}

TEST(ReaderErrors, CarriageReturnDoesNotCountAgainstTheLineLimit) {
  const std::string l = pair_prefix + R"("verdict":"A"})";
  reader_options opt;
  opt.max_line_bytes = l.size();
  EXPECT_EQ(read_all(l + "\r\n" + l + "\r\n", opt).size(), 2u);
  opt.max_line_bytes = l.size() - 1;
  EXPECT_EQ(error_of(l + "\r\n", opt).reason(), "line_too_long");
}

TEST(ReaderErrors, MessageNamesTheValue) {
  const std::string l = pair_prefix + R"("verdict":"maybe"})";
  parse_error e = error_of(l);
  EXPECT_STREQ(e.what(), "in.jsonl:1:65: \"verdict\" must be \"A\", \"B\", \"tie\" or null, got \"maybe\"");
}

TEST(ReaderErrors, LineTooLong) {
  reader_options opt;
  opt.max_line_bytes = 40;
  const std::string l = pair_prefix + R"("verdict":"A"})";
  parse_error e = error_of(l, opt);
  EXPECT_EQ(e.reason(), "line_too_long");
  EXPECT_EQ(e.column(), 41u);
  // Under skip, the over-long line is dropped and the next one is still read.
  opt.on_invalid = invalid_policy::skip;
  read_stats st;
  auto recs = read_all(l + "\n" + R"({"judge":"j","item":1,"response":{},"score":1})", opt, &st);
  EXPECT_EQ(st.skipped_by_reason.at("line_too_long"), 2u);
  EXPECT_EQ(recs.size(), 0u);  // the second line is 47 bytes, also over 40
  opt.max_line_bytes = 60;
  recs = read_all(l + "\n" + R"({"judge":"j","item":1,"response":{},"score":1})", opt, &st);
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(st.skipped, 1u);
}

TEST(ReaderErrors, LongLineAcrossReadChunks) {
  // A line longer than the reader's 1 MiB chunk is read whole; one over the limit is skipped whole.
  std::string big(3u << 20, 'x');
  const std::string ok = pair_prefix + R"("verdict":"A","meta":")" + big + "\"}";
  read_stats st;
  auto recs = read_all(ok + "\n" + ok + "\n", {}, &st);
  EXPECT_EQ(recs.size(), 2u);
  reader_options opt;
  opt.on_invalid = invalid_policy::skip;
  opt.max_line_bytes = 2u << 20;
  recs = read_all(ok + "\n" + pair_prefix + R"("verdict":"B"})" + "\n", opt, &st);
  EXPECT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].v, verdict::b);
  EXPECT_EQ(st.lines, 2u);
  EXPECT_EQ(st.first_errors.at(0).line, 1u);
}

TEST(ReaderErrors, SkipPolicyCountsAndKeepsFirstErrors) {
  reader_options opt;
  opt.on_invalid = invalid_policy::skip;
  std::string text;
  const std::string good = pair_prefix + R"("verdict":"A"})";
  for (int i = 0; i < 25; ++i) text += pair_prefix + R"("verdict":"maybe"})" + "\n";
  text += good + "\n" + "not json\n" + good + "\n";
  read_stats st;
  auto recs = read_all(text, opt, &st);
  EXPECT_EQ(recs.size(), 2u);
  EXPECT_EQ(st.skipped, 26u);
  EXPECT_EQ(st.skipped_by_reason.at("unknown_verdict"), 25u);
  EXPECT_EQ(st.skipped_by_reason.at("not_json"), 1u);
  ASSERT_EQ(st.first_errors.size(), 20u);  // only the first 20 are kept
  EXPECT_EQ(st.first_errors[0].line, 1u);
  EXPECT_EQ(st.first_errors[19].line, 20u);
  EXPECT_EQ(st.first_errors[0].column, 65u);
}

TEST(ReaderErrors, FilesThatCannotBeRead) {
  reader rd;
  auto sink = [](const record&) {};
  EXPECT_THROW(rd.read_file("/nonexistent/judgments.jsonl", sink), io_error);
  try {
    rd.read_file(JUDGEBIAS_TEST_DATA, sink);
    FAIL() << "a directory was read";
  } catch (const io_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

// A stream, a buffer and a file are one way of reading (src/ingest/lines.hpp): the same records, counts
// and errors.
TEST(Reader, StreamReadsLikeABuffer) {
  const std::string good = pair_prefix + R"("verdict":"A"})";
  const std::string text = good + "\r\n\n" + pair_prefix + R"("verdict":"maybe"})" + "\n" + good;
  reader_options opt;
  opt.on_invalid = invalid_policy::skip;
  reader from_buffer(opt), from_stream(opt);
  std::vector<std::string> a, b;
  from_buffer.read_buffer("in.jsonl", text, [&](const record& r) { a.emplace_back(r.a.id); });
  std::istringstream in(text);
  from_stream.read_stream("in.jsonl", in, [&](const record& r) { b.emplace_back(r.a.id); });
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.size(), 2u);
  const read_stats& st = from_stream.stats();
  EXPECT_EQ(st.lines, 4u);
  EXPECT_EQ(st.skipped, 1u);
  ASSERT_EQ(st.first_errors.size(), 1u);
  EXPECT_EQ(st.first_errors[0].line, 3u);
  EXPECT_EQ(st.first_errors[0].column, from_buffer.stats().first_errors.at(0).column);
  ASSERT_EQ(st.inputs.size(), 1u);
  EXPECT_EQ(st.inputs[0].records, 2u);
  EXPECT_EQ(st.inputs[0].bytes, text.size());
}

namespace {

// A block as block_reader gave it.
struct seen_block {
  std::string bytes;
  std::uint64_t first_line, done;
  bool operator==(const seen_block&) const = default;
};

// Every block of `text` read with `block`-byte blocks and a `limit`-byte line limit, from the text or (with
// `stream`) an istream, with one or two buffers. With two, each block's whole readable range (its padding
// too) is checked unchanged after the next block is read.
std::vector<seen_block> blocks_of(const std::string& text, std::size_t block, std::uint64_t limit,
                                  std::size_t buffers, bool stream = false) {
  std::istringstream in(text);
  auto src = stream ? detail::byte_source::stream(in, "in") : detail::byte_source::text(text);
  detail::block_reader reader(src, block, limit, buffers);
  std::vector<seen_block> out;
  detail::line_block b, before;
  std::string before_bytes;  // the previous block's readable bytes, [data, data + room)
  while (reader.next(b, buffers == 2)) {
    if (buffers == 2 && !out.empty()) {
      EXPECT_EQ(std::string(before.data, before.room), before_bytes) << "block " << out.size() - 1;
    }
    EXPECT_GE(b.room, b.size + detail::line_padding);
    out.push_back({std::string(b.data, b.size), b.first_line, b.done});
    before = b;
    before_bytes.assign(b.data, b.room);
  }
  EXPECT_FALSE(reader.next(b, buffers == 2));  // and stays at the end
  EXPECT_EQ(reader.bytes(), text.size());
  return out;
}

}  // namespace

// The blocks of lines.hpp's block_reader, read with 16-byte blocks: whole lines only, the lines before
// each block counted, a line longer than the block read whole, a line over the limit (20 bytes) cut short
// with its rest dropped, the last line without its newline. With two buffers, or from a stream, the blocks
// are those of one buffer from the text.
TEST(Reader, BlocksOfWholeLines) {
  const std::string text = std::string("aaa\nbbbbbb\nc\n")  // lines 1-3 (13 bytes)
                           + "dddddddddddddddddd\n"         // line 4: longer than a block (18 bytes + \n)
                           + std::string(50, 'e') + "\n"    // line 5: 50 bytes, over the limit
                           + "ff\ng";                       // lines 6 and 7 (no newline)
  const std::vector<seen_block> one = blocks_of(text, 16, 20, 1);
  ASSERT_EQ(one.size(), 4u);
  EXPECT_EQ(one[0], (seen_block{"aaa\nbbbbbb\nc\n", 0, 13}));
  EXPECT_EQ(one[1], (seen_block{"dddddddddddddddddd\n", 3, 32}));  // read on to twice the block
  // Line 5: 16 bytes without a newline (within the limit + 1: read on), then 32 (past it): those 32 go
  // to the line reader, which rejects them; the line's other 19 bytes are dropped.
  EXPECT_EQ(one[2], (seen_block{std::string(32, 'e'), 4, 64}));
  EXPECT_EQ(one[3], (seen_block{"ff\ng", 5, text.size()}));  // the end of the input: all that is left
  EXPECT_EQ(blocks_of(text, 16, 20, 2), one);
  EXPECT_EQ(blocks_of(text, 16, 20, 1, true), one);
  EXPECT_EQ(blocks_of(text, 16, 20, 2, true), one);

  // A first block grown to 512 bytes for a 400-byte line leaves 111 bytes of the next line, more than a
  // block and its padding: the other buffer takes them all.
  const std::string grown = std::string(400, 'x') + "\n" + std::string(200, 'y') + "\n";
  const std::vector<seen_block> two = blocks_of(grown, 16, 1000, 2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0], (seen_block{std::string(400, 'x') + "\n", 0, 401}));
  EXPECT_EQ(two[1], (seen_block{std::string(200, 'y') + "\n", 1, 602}));
  EXPECT_EQ(blocks_of(grown, 16, 1000, 1), two);
  // The buffer grown for the long line is given back once its block is done (two blocks later).
  {
    const std::string text2 = grown + std::string(60, 'z') + "\n";  // then lines of 16-byte blocks
    auto src = detail::byte_source::text(text2);
    detail::block_reader reader(src, 16, 1000, 2);
    detail::line_block b;
    std::vector<std::size_t> held;
    while (reader.next(b, true)) held.push_back(reader.held());
    ASSERT_EQ(held.size(), 3u);
    const std::size_t pad = detail::line_padding;
    EXPECT_EQ(held[0], 512 + pad);  // the first buffer grown 16 -> 512 bytes for the x line
    // The other: the 111 bytes left, then grown 16 -> 222 bytes for the y line.
    EXPECT_EQ(held[1], (512 + pad) + (222 + pad));
    // The first given back, then grown 16 -> 84 for the 61-byte z line (kept, it would stay at 512).
    EXPECT_EQ(held[2], (84 + pad) + (222 + pad));
    // Not keeping the last block, the reader stays in its buffer: one grown buffer, as with one.
    auto again = detail::byte_source::text(text2);
    detail::block_reader in_place(again, 16, 1000, 2);
    held.clear();
    std::vector<seen_block> blocks;
    while (in_place.next(b, false)) {
      held.push_back(in_place.held());
      blocks.push_back({std::string(b.data, b.size), b.first_line, b.done});
    }
    EXPECT_EQ(blocks, blocks_of(text2, 16, 1000, 1));
    EXPECT_EQ(held, (std::vector<std::size_t>{512 + pad, 512 + pad, 512 + pad}));
  }

  // Carriage returns stay (the line reader takes them off); an empty input has no block; newlines alone
  // are lines.
  EXPECT_EQ(blocks_of("a\r\nb\r\n", 16, 20, 2), (std::vector<seen_block>{{"a\r\nb\r\n", 0, 6}}));
  EXPECT_TRUE(blocks_of("", 16, 20, 2).empty());
  EXPECT_EQ(blocks_of("\n\n\n", 16, 20, 2), (std::vector<seen_block>{{"\n\n\n", 0, 3}}));

  // A block whose newlines the caller counted (set_newlines) is not counted again: the next block's first
  // line follows the caller's count, here 10 where the block has 2 lines.
  {
    auto src = detail::byte_source::text("aaa\nbbb\nccc\nddd\neee\n");
    detail::block_reader reader(src, 8, 20, 2);
    detail::line_block b;
    ASSERT_TRUE(reader.next(b, true));
    EXPECT_EQ(std::string(b.data, b.size), "aaa\nbbb\n");
    reader.set_newlines(10);
    ASSERT_TRUE(reader.next(b, true));
    EXPECT_EQ(b.first_line, 10u);
    ASSERT_TRUE(reader.next(b, true));  // not set for that block: counted (2 lines)
    EXPECT_EQ(b.first_line, 12u);
  }
}

TEST(Reader, CodePoints) {
  EXPECT_EQ(count_code_points(""), 0u);
  EXPECT_EQ(count_code_points("abc"), 3u);
  EXPECT_EQ(count_code_points("h\xC3\xA9llo"), 5u);       // é is 2 bytes
  EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80!"), 2u);  // an emoji is 4 bytes
}

// Line numbers and counts are 64-bit: a part of a file that starts past line 2^32 (what the parallel
// reader gives each thread) reports its lines exactly, under both policies.
TEST(ReaderLimits, LineNumbersPast32Bits) {
  const std::uint64_t base = (std::uint64_t{1} << 32) + 7;  // lines before this part
  const std::string text = R"({"judge":"j","item":"q","response":{"id":"x"},"score":1})"
                           "\n\n"
                           R"({"judge":"j","item":"q","response":{"id":"x"},"score":"high"})"
                           "\n";
  reader stop;
  try {
    stop.read_buffer(
        "big.jsonl", text, [](const record&) {}, base);
    ADD_FAILURE() << "no error";
  } catch (const parse_error& e) {
    EXPECT_EQ(e.line(), base + 3);
    EXPECT_EQ(std::string(e.what()).rfind("big.jsonl:4294967306:", 0), 0u) << e.what();
  }
  reader_options skip;
  skip.on_invalid = invalid_policy::skip;
  reader rd(skip);
  rd.read_buffer(
      "big.jsonl", text, [](const record&) {}, base);
  ASSERT_EQ(rd.stats().first_errors.size(), 1u);
  EXPECT_EQ(rd.stats().first_errors[0].line, base + 3);
  EXPECT_EQ(rd.stats().lines, 3u);
  EXPECT_EQ(rd.stats().records, 1u);
}

// FORMAT v1's rules without JSON: hand-built raw records through resolve_record (src/ingest/format_v1.hpp),
// with the reasons, columns and messages that the tests above see through whole lines.
namespace {

// What the walk gives for pair_prefix + R"("verdict":"A"})": a at column 29, b at 44, the verdict at 65.
detail::raw_record raw_pairwise() {
  detail::raw_record raw;
  raw.judge = "j";
  raw.item = "q";
  raw.a.present = true;
  raw.a.id = "x";
  raw.a.column = 29;
  raw.b.present = true;
  raw.b.id = "y";
  raw.b.column = 44;
  raw.has_verdict = true;
  raw.verdict = "A";
  raw.verdict_column = 65;
  return raw;
}

// What the walk gives for R"({"judge":"j","item":"q","response":{"id":"r"},"score":)" + the score.
detail::raw_record raw_pointwise(double score) {
  detail::raw_record raw;
  raw.judge = "j";
  raw.item = "q";
  raw.response.present = true;
  raw.response.id = "r";
  raw.response.column = 36;
  raw.has_score = true;
  raw.score = score;
  raw.score_column = 55;
  return raw;
}

detail::line_failure failure_of(const detail::raw_record& raw, bool strict_scale = false) {
  detail::id_buffers ids;
  try {
    detail::resolve_record(raw, strict_scale, ids);
  } catch (const detail::line_failure& e) {
    return e;
  }
  ADD_FAILURE() << "no failure";
  return {0, "", ""};
}

}  // namespace

TEST(FormatRules, DefaultsAndInference) {
  detail::raw_record raw;
  raw.judge = "gpt-4o";
  raw.item = "17";
  raw.a.present = raw.b.present = true;
  raw.a.model = "m1";
  raw.a.text_length = 5;
  raw.b.model = "m2";
  raw.b.length = 3;
  raw.b.tokens = 2;
  raw.has_verdict = true;
  raw.verdict = "A>>B";
  raw.gold_verdict = "b";
  raw.prob_a = 0.25;
  raw.run = 2;
  raw.perturbation_kind = "bandwagon";
  raw.perturbation_target = "B";
  detail::id_buffers ids;
  const record r = detail::resolve_record(raw, false, ids);
  EXPECT_EQ(r.judge_model, "gpt-4o");          // defaults to judge
  EXPECT_EQ(r.mode, judgment_mode::pairwise);  // inferred from a + b
  EXPECT_EQ(r.a.id, "17:m1");                  // default id "<item>:<model>"
  EXPECT_EQ(r.b.id, "17:m2");
  EXPECT_EQ(r.a.length, 5u);  // counted from the text
  EXPECT_EQ(r.b.length, 3u);
  EXPECT_EQ(r.b.tokens, 2u);
  EXPECT_EQ(r.v, verdict::a);
  EXPECT_EQ(r.gold, verdict::b);
  EXPECT_EQ(r.prob_a, 0.25);
  EXPECT_EQ(r.run, 2u);
  EXPECT_EQ(r.perturbation_kind, "bandwagon");
  EXPECT_EQ(r.perturbation_target, "17:m2");  // slot B resolved to its id
  EXPECT_FALSE(r.has_task);

  detail::raw_record point = raw_pointwise(3);
  point.response.id.reset();  // no id, no model: the slot name
  point.gold_score = 7;
  const record p = detail::resolve_record(point, false, ids);
  EXPECT_EQ(p.mode, judgment_mode::pointwise);
  EXPECT_EQ(p.a.id, "response");
  EXPECT_EQ(p.score, 3.0);
  EXPECT_EQ(p.gold_score, 7.0);
  point.has_score = true;
  point.score.reset();  // "score": null is an extraction failure, not an error
  EXPECT_FALSE(detail::resolve_record(point, false, ids).score.has_value());
}

TEST(FormatRules, EachRuleWithReasonAndColumn) {
  struct rule_case {
    const char* what;
    detail::raw_record raw;
    std::string reason;
    std::uint64_t column;
  };
  std::vector<rule_case> cases;
  {
    detail::raw_record r = raw_pointwise(1);
    r.judge.reset();
    r.column = 3;  // "  {": the object's brace
    cases.push_back({"no judge", r, "missing_field", 3});
  }
  {
    detail::raw_record r = raw_pointwise(1);
    r.item.reset();
    r.item_column = 22;  // "item": null points at the null
    cases.push_back({"null item", r, "missing_field", 22});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.response.present = true;
    cases.push_back({"both modes", r, "bad_mode", 1});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.a.present = r.b.present = false;
    cases.push_back({"neither mode", r, "bad_mode", 1});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.mode = "sideways";
    r.mode_column = 30;
    cases.push_back({"unknown mode", r, "bad_mode", 30});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.verdict = "maybe";
    cases.push_back({"unknown verdict", r, "unknown_verdict", 65});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.a.id.reset();
    r.b.id.reset();
    r.a.model = r.b.model = "m";
    cases.push_back({"same default id", r, "same_id", 44});  // the column of b
  }
  {
    detail::raw_record r = raw_pairwise();
    r.has_verdict = false;
    r.verdict.reset();
    cases.push_back({"no verdict", r, "missing_field", 1});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.perturbation_kind = "authority";
    r.perturbation_target = "z";
    r.target_column = 108;
    cases.push_back({"target of neither candidate", r, "bad_target", 108});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.perturbation_kind = "authority";
    r.perturbation_column = 80;
    cases.push_back({"pairwise perturbation without target", r, "missing_field", 80});
  }
  {
    detail::raw_record r = raw_pairwise();
    r.gold_score = 1;
    r.gold_column = 77;
    cases.push_back({"pairwise gold as a number", r, "wrong_type", 77});
  }
  {
    detail::raw_record r = raw_pointwise(5);
    r.gold_score = 11;
    r.gold_column = 59;
    r.scale.emplace(1, 10);
    cases.push_back({"gold outside the scale", r, "bad_number", 59});  // always an error
  }
  {
    detail::raw_record r = raw_pointwise(5);
    r.gold_verdict = "A";
    r.gold_column = 59;
    cases.push_back({"pointwise gold as a string", r, "wrong_type", 59});
  }
  for (const auto& c : cases) {
    const detail::line_failure e = failure_of(c.raw);
    EXPECT_EQ(std::string(e.reason), c.reason) << c.what << ": " << e.message;
    EXPECT_EQ(e.column, c.column) << c.what << ": " << e.message;
  }
  detail::raw_record r = raw_pairwise();
  r.verdict = "maybe";
  EXPECT_EQ(failure_of(r).message, "\"verdict\" must be \"A\", \"B\", \"tie\" or null, got \"maybe\"");
}

TEST(FormatRules, ScoreOutsideScale) {
  detail::raw_record raw = raw_pointwise(11);
  raw.scale.emplace(1, 10);
  detail::id_buffers ids;
  const record r = detail::resolve_record(raw, false, ids);  // the judge's extraction failure
  EXPECT_TRUE(r.score_out_of_scale);
  EXPECT_FALSE(r.score.has_value());
  const detail::line_failure e = failure_of(raw, true);  // --strict-scale: the file's error
  EXPECT_EQ(std::string(e.reason), "bad_number");
  EXPECT_EQ(e.column, 55u);
  EXPECT_EQ(e.message, "\"score\" 11 is outside the scale [1, 10] (--strict-scale)");
  raw.score = 10;  // the bound itself is inside
  EXPECT_FALSE(detail::resolve_record(raw, true, ids).score_out_of_scale);
}

// A candidate's "features": numbers by name, a's and b's, in input order; null is absent.
TEST(Reader, CandidateFeatures) {
  std::vector<std::vector<std::pair<std::string, double>>> seen;
  reader rd;
  const std::string text =
      R"({"judge":"j","item":"q","a":{"id":"x","features":{"headers":3,"lists":-1.5}},"b":{"id":"y","features":{"headers":0}},"verdict":"A"})"
      "\n" +
      pair_prefix + R"("verdict":"B"})" + "\n" +
      R"({"judge":"j","item":"q","a":{"id":"x","features":null},"b":{"id":"y","features":{}},"verdict":"A"})";
  rd.read_buffer("in.jsonl", text, [&](const record& r) {
    for (const auto* c : {&r.a, &r.b}) {
      seen.emplace_back();
      for (const auto& f : c->features) seen.back().emplace_back(std::string(f.name), f.value);
    }
  });
  using v = std::vector<std::pair<std::string, double>>;
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0], (v{{"headers", 3}, {"lists", -1.5}}));
  EXPECT_EQ(seen[1], (v{{"headers", 0}}));
  for (std::size_t k = 2; k < 6; ++k) EXPECT_TRUE(seen[k].empty()) << k;
}

// Its errors, each at the offending value's column (or the repeated key's).
TEST(Reader, CandidateFeatureErrors) {
  const std::string a = R"({"judge":"j","item":"q","b":{"id":"y"},"verdict":"A","a":{"id":"x","features":)";
  struct error_case {
    std::string features, reason, message, at;
  };
  for (const error_case& c : std::vector<error_case>{
           {R"({"h":"3"})", "wrong_type", R"("features.h" must be a number, got a string)", R"("3")"},
           {R"([1])", "wrong_type", R"("features" must be an object of numbers, got an array)", "[1]"},
           {R"({"h":1,"h":2})", "duplicate_key", R"(duplicate key "h" in "a".features)", R"("h":2)"},
           {R"({"h":1e999})", "bad_number", R"("features.h" must be a finite number, got 1e999)", "1e999"}}) {
    const std::string line = a + c.features + "}}";
    const parse_error e = error_of(line);
    EXPECT_EQ(e.reason(), c.reason) << line;
    EXPECT_EQ(e.message(), c.message) << line;
    EXPECT_EQ(e.column(), col(line, c.at)) << line;
  }
}
