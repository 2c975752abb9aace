// Fuzz target: the whole pipeline on a small buffer (reader with --skip-invalid, dataset, every module
// with a small bootstrap, the JSON report), checking that the report is valid JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "judgebias/judgebias.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 65536) return 0;  // small buffers: the pipeline's cost grows with the records
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  judgebias::config cfg;
  cfg.bootstrap = 20;
  cfg.threads = 1;
  cfg.skip_invalid = true;
  cfg.by = {judgebias::breakdown::task, judgebias::breakdown::run};
  // The first byte picks a few settings, so that the fuzzer explores them too.
  const unsigned flags = size > 0 ? static_cast<unsigned char>(text[0]) : 0;
  if (flags & 1) cfg.bootstrap = 0;
  if (flags & 2) cfg.soft = true;
  if (flags & 4) cfg.length = judgebias::length_unit::tokens;
  if (flags & 8) cfg.gold_judges = {"gold"};
  if (flags & 16) cfg.self = {{"m1", "j"}};
  judgebias::reader_options ro;
  ro.on_invalid = judgebias::invalid_policy::skip;
  ro.max_line_bytes = 4096;
  judgebias::reader rd(ro);
  judgebias::dataset_builder builder;
  rd.read_buffer("fuzz.jsonl", text, [&](const judgebias::record& r) { builder.add(r); });
  if (builder.size() == 0) return 0;
  judgebias::dataset_options dopt;
  dopt.gold_judges = cfg.gold_judges;
  judgebias::loaded_data loaded{std::move(builder).finish(dopt), rd.stats()};
  judgebias::module_registry registry;
  judgebias::register_builtin_modules(registry);
  const judgebias::pipeline p(std::move(registry), cfg);
  const judgebias::report r = p.evaluate(loaded);
  const std::string out = r.dump();
  const auto back = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (back.is_discarded() || !back.contains("modules")) __builtin_trap();
  for (const auto& [name, section] : back["modules"].items())
    if (section.value("status", "") == "error") __builtin_trap();  // a module failing is a finding
  (void)judgebias::format_table(r);
  return 0;
}
