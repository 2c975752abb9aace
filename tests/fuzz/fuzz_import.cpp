// Fuzz target: every importer (`import --from FORMAT`) on one buffer. An importer refuses a buffer only
// with a judgebias parse_error located in it (any other exception escapes and is a finding); when it
// accepts, what it wrote is FORMAT v1: one record per line, each read back by judgebias::reader.
// Built with libFuzzer by tests/fuzz/run.sh; replayed over tests/fuzz/corpus-import/ by ctest (replay.cpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "judgebias/error.hpp"
#include "judgebias/importers.hpp"
#include "judgebias/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')) + 1;
  judgebias::import_options options;
  options.baseline = "gpt-4-0314";  // the fixtures' Arena-Hard baseline
  for (auto format : {judgebias::import_format::fastchat, judgebias::import_format::fastchat_single,
                      judgebias::import_format::arena_hard, judgebias::import_format::alpaca_eval,
                      judgebias::import_format::judgebench}) {
    std::string out;
    std::uint64_t written = 0;
    try {
      written = judgebias::import_text("fuzz.json", text, format, options, out);
    } catch (const judgebias::parse_error& e) {
      // Located in the buffer: a real line, a column from 1, the name given.
      if (e.path() != "fuzz.json" || e.line() < 1 || e.line() > lines || e.column() < 1) __builtin_trap();
      continue;
    }
    if (written != static_cast<std::uint64_t>(std::count(out.begin(), out.end(), '\n'))) __builtin_trap();
    judgebias::reader rd;  // stops at the first invalid line: an importer wrote a bad record
    std::uint64_t read = 0;
    try {
      rd.read_buffer("imported.jsonl", out, [&](const judgebias::record&) { ++read; });
    } catch (const judgebias::error&) {
      __builtin_trap();
    }
    if (read != written) __builtin_trap();
  }
  return 0;
}
