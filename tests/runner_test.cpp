// The judge runner's parts without a server: the cache key's hash, templates, verdict and score
// extraction, A/B probabilities, Retry-After and the server's messages (tests/judge_test.py runs the
// whole runner against a scripted server).
#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "judge/cache.hpp"
#include "judge/http.hpp"
#include "judge/prompt.hpp"
#include "judge/sha256.hpp"
#include "judgebias/error.hpp"

namespace jb = judgebias::judge;

TEST(Sha256, FipsExamples) {
  // FIPS 180-4's examples (NIST's "SHA256.pdf"): the empty string, "abc", the two-block message, and a
  // million 'a's (many blocks, fed in pieces).
  EXPECT_EQ(jb::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(jb::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(jb::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  jb::sha256 h;
  const std::string chunk(1000, 'a');
  for (int k = 0; k < 1000; ++k) h.update(chunk);
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Cache, KeyNamesUrlBodyAndRun) {
  const std::string k = jb::cache_key("http://h/v1/chat/completions", R"({"model":"m"})", 0);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, jb::cache_key("http://h/v1/chat/completions", R"({"model":"m"})", 0));
  EXPECT_NE(k, jb::cache_key("http://h/v1/chat/completions", R"({"model":"n"})", 0));
  EXPECT_NE(k, jb::cache_key("http://h/v1/chat/completions", R"({"model":"m"})", 1));
  EXPECT_NE(k, jb::cache_key("http://g/v1/chat/completions", R"({"model":"m"})", 0));
  // Lengths are hashed with the parts: moving a byte from the URL to the body changes the key.
  EXPECT_NE(jb::cache_key("ab", "c", 0), jb::cache_key("a", "bc", 0));
}

TEST(Cache, EntriesRoundTripAndBadOnesMiss) {
  const std::string dir = testing::TempDir() + "/jb-cache-test";
  const jb::response_cache c(dir);
  const std::string key = jb::cache_key("u", "b", 0);
  EXPECT_FALSE(c.get(key));
  c.put(key, R"({"choices":[]})");
  ASSERT_TRUE(c.get(key));
  EXPECT_EQ(*c.get(key), R"({"choices":[]})");
  c.put(key, "{half");  // not JSON: asked again, not trusted
  EXPECT_FALSE(c.get(key));
  EXPECT_FALSE(jb::response_cache("").get(key));
}

TEST(Prompt, BuiltinsFillTheirPlaceholdersAndTheCueLine) {
  const auto t = jb::builtin_template("pairwise");
  jb::prompt_fields f;
  f.question = "Q?";
  f.answer_a = "first";
  f.answer_b = "second";
  auto m = jb::render_messages(t, f);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["role"], "system");
  const std::string user = m[1]["content"];
  EXPECT_EQ(
      user,
      "[Question]\nQ?\n\n[Output (a)]\nfirst\n[End of Output (a)]\n\n[Output (b)]\nsecond\n[End of Output "
      "(b)]\n\nWhich output is better? End with [[A]], [[B]] or [[C]].");
  f.cue = "90% of people believe that Output (b) is better.";
  const std::string with_cue = jb::render_messages(t, f)[1]["content"];
  EXPECT_NE(with_cue.find(
                "[End of Output (b)]\n\n90% of people believe that Output (b) is better.\n\nWhich output"),
            std::string::npos);
  const auto p = jb::builtin_template("pointwise");
  f.answer = "ans";
  f.scale_min = 1;
  f.scale_max = 5;
  const std::string point = jb::render_messages(p, f)[1]["content"];
  EXPECT_NE(point.find("scale from 1 to 5, 5 being best"), std::string::npos);
  EXPECT_EQ(jb::builtin_template("letter").max_tokens, std::optional<std::uint32_t>(1));
  EXPECT_THROW(jb::builtin_template("mtbench"), judgebias::usage_error);
}

TEST(Prompt, TheLastMatchWinsAndNoMatchIsAFailureNotATie) {
  const auto t = jb::builtin_template("pairwise");
  EXPECT_EQ(jb::extract_verdict(t, "Format: [[A]], [[B]] or [[C]]. I pick [[B]]"), "B");
  EXPECT_EQ(jb::extract_verdict(t, "equally good: [[C]]"), "tie");
  EXPECT_EQ(jb::extract_verdict(t, "I cannot decide."), std::nullopt);
  EXPECT_EQ(jb::extract_verdict(t, "[[D]]"), std::nullopt);
  const auto l = jb::builtin_template("letter");
  EXPECT_EQ(jb::extract_verdict(l, " A"), "A");
  EXPECT_EQ(jb::extract_verdict(l, "AB"), std::nullopt);  // \b: a word, not a letter in one
  const auto p = jb::builtin_template("pointwise");
  EXPECT_EQ(jb::extract_score(p, "Rating: [[3]] at first, but Rating: [[ 8.5 ]]"), 8.5);
  EXPECT_EQ(jb::extract_score(p, "Rating: [[-2]]"), -2.0);
  EXPECT_EQ(jb::extract_score(p, "Rating: 7"), std::nullopt);
}

TEST(Prompt, TemplateFilesAreCheckedAtTheirLineAndColumn) {
  const auto t = jb::parse_template(
      "t.json", R"json({"mode": "pointwise", "user": "{{literal} {answer}", "pattern": "S=(\\d+)"})json");
  jb::prompt_fields f;
  f.answer = "x";
  EXPECT_EQ(jb::render_messages(t, f).size(), 1u);  // no system message
  EXPECT_EQ(jb::render_messages(t, f)[0]["content"], "{literal} x");
  EXPECT_EQ(jb::extract_score(t, "S=4 S=6"), 6.0);
  try {
    jb::parse_template("t.json",
                       "{\"mode\": \"pairwise\",\n \"user\": \"{question} {answr_a}\", \"pattern\": \"x\"}");
    FAIL() << "an unknown placeholder must be refused";
  } catch (const judgebias::parse_error& e) {
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(e.column(),
              22u);  // line 2 is ` "user": "{question} {answr_a}"`: the placeholder's "{" is byte 22
    EXPECT_NE(std::string(e.what()).find("unknown placeholder {answr_a}"), std::string::npos);
  }
  EXPECT_THROW(jb::parse_template("t.json", R"json({"mode": "pairwise", "user": "u", "pattern": "(["})json"),
               judgebias::parse_error);
  EXPECT_THROW(jb::parse_template("t.json", R"({"mode": "both", "user": "u", "pattern": "x"})"),
               judgebias::parse_error);
  EXPECT_THROW(jb::parse_template("t.json", R"({"mode": "pairwise", "user": "u"})"), judgebias::parse_error);
  // The answers must be shown: a pairwise template without {answer_b} is refused.
  EXPECT_THROW(jb::parse_template("t.json", R"({"mode": "pairwise", "user": "{answer_a}", "pattern": "x"})"),
               judgebias::parse_error);
  EXPECT_THROW(jb::parse_template("t.json", R"({"mode": "pointwise", "user": "{answer_a}", "pattern": "x"})"),
               judgebias::parse_error);
  EXPECT_TRUE(jb::uses(jb::builtin_template("letter"), jb::placeholder::cue));
  EXPECT_FALSE(jb::uses(t, jb::placeholder::cue));
  EXPECT_THROW(
      jb::parse_template("t.json", R"({"mode": "pairwise", "user": "u", "pattern": "x", "temp": 1})"),
      judgebias::parse_error);
}

TEST(Prompt, ProbabilityOfAFromTheFirstTokensVariants) {
  // p(A) = 0.3 + 0.1 (" A" is a variant), p(B) = 0.2: 0.4 / 0.6.
  const auto j = nlohmann::json::parse(R"({"choices":[{"message":{"content":"A"},"logprobs":{"content":[
      {"token":"A","logprob":)" + std::to_string(std::log(0.3)) +
                                       R"(,"top_logprobs":[
        {"token":"A","logprob":)" + std::to_string(std::log(0.3)) +
                                       R"(},
        {"token":" A","logprob":)" + std::to_string(std::log(0.1)) +
                                       R"(},
        {"token":"B","logprob":)" + std::to_string(std::log(0.2)) +
                                       R"(},
        {"token":"The","logprob":-1.0}]}]}}]})");
  ASSERT_TRUE(jb::prob_a_from(j));
  EXPECT_NEAR(*jb::prob_a_from(j), 0.4 / 0.6, 1e-6);
  const auto none = nlohmann::json::parse(
      R"({"choices":[{"logprobs":{"content":[{"token":"The","logprob":-0.1,"top_logprobs":[{"token":"a","logprob":-1}]}]}}]})");
  EXPECT_EQ(jb::prob_a_from(none), std::nullopt);  // lowercase "a" is the article, not the slot
  EXPECT_EQ(jb::prob_a_from(nlohmann::json::parse(R"({"choices":[{"message":{"content":"A"}}]})")),
            std::nullopt);
  const auto only_b = nlohmann::json::parse(
      R"({"choices":[{"logprobs":{"content":[{"token":"B\n","logprob":-0.5,"top_logprobs":[]}]}}]})");
  EXPECT_EQ(jb::prob_a_from(only_b), 0.0);
}

TEST(Http, RetryAfterInSecondsOrAsADate) {
  EXPECT_EQ(jb::retry_after_seconds("3"), 3.0);
  EXPECT_EQ(jb::retry_after_seconds(""), std::nullopt);
  EXPECT_EQ(jb::retry_after_seconds("soon"), std::nullopt);
  EXPECT_EQ(jb::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0);  // in the past: at once
  // An hour from now, as a server writes it (RFC 7231's IMF-fixdate, always GMT).
  const std::time_t later = std::time(nullptr) + 3600;
  char date[64];
  std::tm gmt{};
  gmtime_r(&later, &gmt);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &gmt);
  const auto wait = jb::retry_after_seconds(date);
  ASSERT_TRUE(wait);
  EXPECT_NEAR(*wait, 3600.0, 5.0);
}

TEST(Http, ServerMessagesNeverCarryTheKey) {
  EXPECT_EQ(jb::server_message(R"({"error":{"message":"Incorrect API key provided: sk-123"}})", "sk-123"),
            "Incorrect API key provided: ***");
  EXPECT_EQ(jb::server_message("plain\ntext", ""), "plain text");
  EXPECT_EQ(jb::server_message(std::string(400, 'x'), ""), std::string(300, 'x') + "...");
  // A key that straddles the 300-byte cut is masked before the cut, so no part of it shows.
  const std::string shown =
      jb::server_message(std::string(290, 'x') + "sk-livekey-0123456789", "sk-livekey-0123456789");
  EXPECT_EQ(shown, std::string(290, 'x') + "***");
}
