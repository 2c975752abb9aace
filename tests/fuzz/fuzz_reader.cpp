// Fuzz target: the record parser on one buffer, under both invalid-line policies.
// Built with libFuzzer by tests/fuzz/run.sh; replayed over tests/fuzz/corpus/ by ctest (replay.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "judgebias/error.hpp"
#include "judgebias/reader.hpp"

namespace {

// Reads every byte of every view of a record, so that the sanitizers see any view left dangling.
std::size_t touch(const judgebias::record& r) {
  std::size_t n = 0;
  auto sum = [&](std::string_view s) {
    for (char c : s) n += static_cast<unsigned char>(c);
  };
  for (auto s : {r.judge, r.judge_model, r.item, r.task, r.perturbation_kind, r.perturbation_target}) sum(s);
  for (const auto* c : {&r.a, &r.b}) {
    sum(c->id);
    sum(c->model);
    n += c->length.value_or(0) + c->tokens.value_or(0);
  }
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  judgebias::reader_options options;
  options.max_line_bytes = 4096;  // small, so that the over-the-limit path is reached too
  std::size_t seen = 0;
  std::uint64_t stop_records = 0;
  bool stopped = false;
  {
    judgebias::reader r(options);
    try {
      r.read_buffer("fuzz.jsonl", text, [&](const judgebias::record& rec) { seen += touch(rec); });
    } catch (const judgebias::parse_error&) {
      stopped = true;  // the documented way to refuse a line; anything else escapes and is a finding
    }
    stop_records = r.stats().records;
  }
  options.on_invalid = judgebias::invalid_policy::skip;
  judgebias::reader r(options);
  r.read_buffer("fuzz.jsonl", text, [&](const judgebias::record& rec) { seen += touch(rec); });
  const judgebias::read_stats& st = r.stats();
  // Invariants: every line is a record, a skipped line or blank; the reasons add up to the skips; the
  // stop policy delivered exactly the records before its first error, all of them when nothing failed.
  std::uint64_t by_reason = 0;
  for (const auto& [reason, n] : st.skipped_by_reason) by_reason += n;
  if (by_reason != st.skipped || st.records + st.skipped > st.lines) __builtin_trap();
  if (!stopped && (st.skipped != 0 || stop_records != st.records)) __builtin_trap();
  if (stopped && (st.skipped == 0 || stop_records > st.records)) __builtin_trap();
  return seen == static_cast<std::size_t>(-1) ? 1 : 0;
}
