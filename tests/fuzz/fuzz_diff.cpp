// Fuzz target: `judgebias diff`'s report reader on one buffer (parse_report: JSON syntax and the
// report's shape), then, for an accepted report, the diff of the report with itself and with a report
// of no modules. Only judgebias errors may come out; a report diffed with itself has every interval
// overlapping its own.
// Built with libFuzzer by tests/fuzz/run.sh; replayed over tests/fuzz/corpus-diff/ by ctest (replay.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "judgebias/diff.hpp"
#include "judgebias/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > (1U << 20)) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  judgebias::report r;
  try {
    r = judgebias::parse_report(text, "fuzz.json");
  } catch (const judgebias::error&) {
    return 0;  // rejected with our message: what the reader is for
  }
  // An accepted report must diff without any exception at all.
  const judgebias::report empty =
      judgebias::report_from_json({{"schema_version", 1}, {"modules", nlohmann::ordered_json::object()}});
  for (const bool breakdowns : {false, true}) {
    const std::string same = judgebias::diff_reports(r, r, breakdowns);
    // Table cells never hold a newline (names are escaped): the only blank line starts the summary.
    if (same.find("\n\n0 of ") == std::string::npos) __builtin_trap();
    (void)judgebias::diff_reports(r, empty, breakdowns);
    (void)judgebias::diff_reports(empty, r, breakdowns);
  }
  return 0;
}
