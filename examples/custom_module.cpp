// A bias module written outside the library: the share of a judge's parsed pairwise verdicts that are
// ties. It uses only the public module kit (judgebias/module_kit.hpp), is registered beside the built-in
// modules, and gets what they get: item-bootstrap intervals, `--by task` breakdowns, a column in the
// terminal table, a chart in the HTML page, rows in the CSV and Markdown, and --fail-if gates.
//
// Usage: custom_module. It runs on the records below and checks the hand-worked values (exit 1 if one
// differs), then prints the terminal table. docs/architecture.md explains each step.
#include <cmath>
#include <cstdio>
#include <string>

#include "judgebias/judgebias.hpp"

namespace {

using namespace judgebias;

class tie_share_module final : public bias_module {
 public:
  std::string_view name() const noexcept override { return "tie_share"; }
  std::string_view description() const noexcept override {
    return "Share of a judge's parsed pairwise verdicts that are ties";
  }
  // The declaration: what `list`, the table (column 1), the HTML chart and the gates know of the metric.
  std::vector<metric_info> metrics() const override {
    return {metric_info{"tie_share", unit::fraction, bias_direction::none, "ties / parsed pairwise verdicts"}
                .shown(1)
                .drawn({"tie_share", 60, "Share of tie verdicts", "Ties among parsed pairwise verdicts.",
                        std::nullopt, "tie_share"})};
  }

 protected:
  // One judge on one selection of its records (all of them, or one --by group); the kit runs it for
  // every measured judge and group, and the builder adds the intervals.
  module_result do_evaluate(const dataset& d, const config& cfg) const override {
    module_result result;
    result.body = kit::per_judge(d, cfg, [&](const kit::selection& s) {
      kit::metric_builder mb(d, cfg, name(), s);
      kit::item_sums sums(d.items().size(), 2);  // per item: ties, parsed verdicts
      for (auto i : s.controls(d, judgment_mode::pairwise)) {
        if (d.verdict(i) == verdict::missing) continue;
        double* row = sums[d.item(i)];
        row[0] += d.verdict(i) == verdict::tie;
        row[1] += 1;
      }
      const auto t = sums.totals();
      mb.put(
          "tie_share", unit::fraction, static_cast<std::uint64_t>(t[1]), sums,
          [](std::span<const double> x) { return kit::ratio(x[0], x[1]); },
          kit::wilson_closed(t[0], t[1], cfg.confidence), "no parsed pairwise verdict");
      return mb.take();
    });
    return result;
  }
};

// Judge J: task t1 has verdicts A, tie, B, B (1 tie in 4), task t2 tie, tie (2 in 2): 3 ties in 6 = 0.5.
// Judge K: A, B, A on t1 and one unparsed verdict (null), which does not count: 0 ties in 3.
constexpr const char* records =
    R"({"judge":"J","item":"q1","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"A"}
{"judge":"J","item":"q2","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"tie"}
{"judge":"J","item":"q3","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"B"}
{"judge":"J","item":"q4","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"B"}
{"judge":"J","item":"q5","task":"t2","a":{"model":"x"},"b":{"model":"y"},"verdict":"tie"}
{"judge":"J","item":"q6","task":"t2","a":{"model":"x"},"b":{"model":"y"},"verdict":"tie"}
{"judge":"K","item":"q1","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"A"}
{"judge":"K","item":"q2","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"B"}
{"judge":"K","item":"q3","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":"A"}
{"judge":"K","item":"q4","task":"t1","a":{"model":"x"},"b":{"model":"y"},"verdict":null}
)";

int failures = 0;
void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "custom_module: not as hand-worked: %s\n", what.c_str());
    ++failures;
  }
}

}  // namespace

int main() {
  try {
    module_registry registry;
    register_builtin_modules(registry);
    registry.add("tie_share", [] { return std::make_unique<tie_share_module>(); });
    config cfg;
    cfg.modules = {"position", "tie_share"};
    cfg.by = {breakdown::task};
    cfg.bootstrap = 200;
    const pipeline p(registry, cfg);
    const report r = p.evaluate(load_texts({{"ties.jsonl", records}}, cfg));

    // The JSON form, where the built-in modules' sections are.
    const auto j = r.to_json();
    const auto& mine = j["modules"]["tie_share"];
    expect(mine["status"] == "ok", "status ok");
    expect(mine["judges"]["J"]["tie_share"]["value"] == 0.5, "J: 3 ties in 6 = 0.5");
    expect(mine["judges"]["J"]["tie_share"]["n"] == 6, "J: n = 6");
    expect(mine["judges"]["J"]["tie_share"]["ci"].is_array(), "J: a bootstrap interval");
    expect(mine["judges"]["K"]["tie_share"]["value"] == 0.0, "K: 0 ties in 3");
    expect(mine["by_task"]["J"]["t1"]["tie_share"]["value"] == 0.25, "J on t1: 1 tie in 4 = 0.25");
    expect(mine["by_task"]["J"]["t2"]["tie_share"]["value"] == 1.0, "J on t2: 2 ties in 2 = 1");

    // The other forms.
    const std::string csv = to_csv(r), md = to_markdown(r), html = to_html(r), table = format_table(r);
    expect(csv.find("tie_share,,J,,,,,tie_share,0.5,") != std::string::npos, "CSV row of J");
    expect(csv.find("tie_share,,J,,,t1,,tie_share,0.25,") != std::string::npos, "CSV row of J on t1");
    expect(md.find("## tie_share") != std::string::npos, "Markdown section");
    expect(html.find("Share of tie verdicts") != std::string::npos, "HTML chart");
    expect(table.find("tie_share (fraction)") != std::string::npos, "terminal table column");

    // A gate: J's 0.5 trips `> 0.4`, K's 0 does not.
    const auto results = check_gate(r, parse_gate("tie_share.tie_share > 0.4", registry));
    expect(results.size() == 2, "a gate result per judge");
    for (const auto& g : results) expect(g.tripped == (g.judge == "J"), "the gate trips for J only");

    std::fputs(table.c_str(), stdout);
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_module: %s\n", e.what());
    return 1;
  }
}
