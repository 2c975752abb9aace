#include "judgebias/report.hpp"

#include "judgebias/output.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

// Messages quote the input; should one ever carry invalid UTF-8, its bytes are written as U+FFFD
// rather than failing the whole report.
std::string report::dump() const {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_json_file(const report& r, const std::string& path) {
  write_file_atomic(path, r.dump());
}

}  // namespace judgebias
