#include "judgebias/module.hpp"

#include <cmath>
#include <exception>
#include <new>

namespace judgebias {

std::string_view to_string(unit u) noexcept {
  switch (u) {
    case unit::fraction:
      return "fraction";
    case unit::pp:
      return "pp";
    case unit::score:
      return "score";
    case unit::coefficient:
      return "coefficient";
    case unit::count:
      return "count";
  }
  return "fraction";
}

nlohmann::ordered_json to_json(const metric& m) {
  nlohmann::ordered_json j;
  const bool has_value = m.value && std::isfinite(*m.value);
  j["value"] = has_value ? nlohmann::ordered_json(*m.value) : nlohmann::ordered_json(nullptr);
  if (has_value && m.ci && std::isfinite((*m.ci)[0]) && std::isfinite((*m.ci)[1]))
    j["ci"] = {(*m.ci)[0], (*m.ci)[1]};
  else
    j["ci"] = nullptr;
  j["n"] = m.n;
  if (has_value && m.p && std::isfinite(*m.p)) j["p"] = *m.p;
  j["unit"] = std::string(to_string(m.unit));
  if (!m.reason.empty())
    j["reason"] = m.reason;
  else if (!has_value)
    j["reason"] = "not computable";
  return j;
}

nlohmann::ordered_json bias_module::evaluate(const dataset& data, const config& cfg) const {
  nlohmann::ordered_json out;
  try {
    module_result r = do_evaluate(data, cfg);
    if (r.skipped) {
      out["status"] = "skipped";
      out["reason"] = r.reason;
      return out;
    }
    out["status"] = "ok";
    for (auto& [key, value] : r.body.items()) out[key] = std::move(value);
  } catch (const std::bad_alloc&) {
    throw;  // out of memory is the run's failure (exit status 1), not one module's
  } catch (const std::exception& e) {
    out = nlohmann::ordered_json::object();
    out["status"] = "error";
    out["reason"] = e.what();
  }
  return out;
}

}  // namespace judgebias
