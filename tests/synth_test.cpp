// judgebias synth: the embedded sample is its output, and each planted self-preference is recovered.
#include <fstream>
#include <sstream>

#include "test_util.hpp"

using namespace judgebias;
using json = nlohmann::ordered_json;

TEST(Synth, EmbeddedSampleIsSynthItems80Seed0) {
  std::ostringstream out;
  synth_options so;  // defaults: 80 items, seed 0
  EXPECT_EQ(synthesize(so, out), 4320u);
  EXPECT_EQ(out.str(), std::string(embedded_sample()))
      << "data/sample.jsonl is stale: regenerate it with `judgebias synth --items 80 --seed 0 -o "
         "data/sample.jsonl`";
}

TEST(Synth, SameSeedSameBytes) {
  std::ostringstream a, b, c;
  synth_options so;
  so.items = 5;
  synthesize(so, a);
  synthesize(so, b);
  so.seed = 1;
  synthesize(so, c);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_NE(a.str(), c.str());
}

TEST(Synth, PlantedSelfPreferenceIsRecovered) {
  synth_options so;
  so.items = 400;
  std::ostringstream out;
  synthesize(so, out);
  const json expected = synth_expected(so);
  config cfg;
  cfg.threads = 2;
  report r = jbtest::run_text(out.str(), cfg);
  const json judges = r.to_json()["modules"]["self_preference"]["judges"];
  for (const auto& [name, e] : expected.items()) {
    for (const char* metric : {"dbg_pairwise", "wr_judge", "dbg_pointwise", "leniency", "dbg_adjusted"}) {
      const json& m = judges[name][metric];
      ASSERT_FALSE(m["ci"].is_null()) << name << " " << metric;
      const double truth = e[metric].get<double>();
      EXPECT_LE(m["ci"][0].get<double>(), truth) << name << " " << metric << " = " << m["value"];
      EXPECT_GE(m["ci"][1].get<double>(), truth) << name << " " << metric << " = " << m["value"];
    }
  }
  // Rank order of the planted pulls (alpha 0.25 > charlie 0.10 > delta 0) and bonuses (2 > 1 > 0).
  auto v = [&](const char* judge, const char* metric) {
    return judges[judge][metric]["value"].get<double>();
  };
  EXPECT_GT(v("alpha-7b", "dbg_pairwise"), v("charlie-70b", "dbg_pairwise"));
  EXPECT_GT(v("charlie-70b", "dbg_pairwise"), v("delta-api", "dbg_pairwise"));
  EXPECT_GT(v("alpha-7b", "dbg_adjusted"), v("charlie-70b", "dbg_adjusted"));
  EXPECT_GT(v("charlie-70b", "dbg_adjusted"), v("delta-api", "dbg_adjusted"));
  // The unbiased judge's adjusted DBG is near 0 (its interval covers 0).
  EXPECT_LE(judges["delta-api"]["dbg_adjusted"]["ci"][0].get<double>(), 0.0);
  EXPECT_GE(judges["delta-api"]["dbg_adjusted"]["ci"][1].get<double>(), 0.0);
}

// --text-bytes gives every response a text instead of a length; nothing else changes, so the metrics that
// do not use lengths come out the same, and the counted lengths are proportional to the planted ones.
TEST(Synth, TextBytesGiveTextsInsteadOfLengths) {
  synth_options so;
  so.items = 30;
  std::ostringstream plain, texts;
  synthesize(so, plain);
  so.text_bytes = 400;
  synthesize(so, texts);
  EXPECT_EQ(texts.str().find("\"length\""), std::string::npos);
  EXPECT_GT(texts.str().size(), plain.str().size() * 2);
  config cfg;
  cfg.bootstrap = 0;
  cfg.modules = {"self_preference", "position", "bandwagon"};
  report a = jbtest::run_text(plain.str(), cfg), b = jbtest::run_text(texts.str(), cfg);
  EXPECT_EQ(a.to_json()["modules"], b.to_json()["modules"]);
  // First record: a length of 622 becomes round(622 · 400 / 800) = 311 characters.
  loaded_data d = jbtest::load_text(texts.str());
  EXPECT_EQ(d.dataset.length_a(0), 311u);
}
