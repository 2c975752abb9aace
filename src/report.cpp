#include "judgebias/report.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

// Messages quote the input; should one ever carry invalid UTF-8, its bytes are written as U+FFFD
// rather than failing the whole report.
std::string report::dump() const {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_file_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw io_error(
        fmt::format("{}: cannot create a file in {}: {}", path, dir.string(), std::strerror(errno)));
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw io_error(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
  };
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t w = ::write(fd, content.data() + done, content.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) fail("flush failed");
  // mkstemp creates 0600; a report is an ordinary file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw io_error(fmt::format("{}: close failed: {}", path, std::strerror(err)));
  }
  if (std::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw io_error(fmt::format("{}: cannot rename into place: {}", path, std::strerror(err)));
  }
}

void write_json_file(const report& r, const std::string& path) {
  write_file_atomic(path, r.dump());
}

namespace {

std::string format_number(double v, const std::string& unit) {
  if (unit == "pp") return fmt::format("{:+.1f}", v);
  if (unit == "score") return fmt::format("{:+.2f}", v);
  return fmt::format("{:.3f}", v);
}

std::string format_cell(const json& m) {
  if (!m.is_object() || !m.contains("value")) return "";
  if (m["value"].is_null()) return "null";
  const std::string unit = m.value("unit", "fraction");
  std::string s = format_number(m["value"].get<double>(), unit);
  if (m.contains("ci") && m["ci"].is_array())
    s += fmt::format(" [{}, {}]", format_number(m["ci"][0].get<double>(), unit),
                     format_number(m["ci"][1].get<double>(), unit));
  s += fmt::format(" n={}", m.value("n", 0));
  return s;
}

// The columns a module's block shows; other modules show their first three metrics.
const std::map<std::string, std::vector<std::string>, std::less<>> headline = {
    {"self_preference", {"dbg_pairwise", "dbg_pointwise", "dbg_adjusted"}},
    {"position", {"consistency", "fairness", "first_slot_rate"}},
    {"verbosity", {"prefer_longer_rate", "gold_prefer_longer_rate", "length_coef"}},
    {"agreement", {"accuracy", "kappa"}},
    {"bandwagon", {"robustness_rate", "follow_rate", "effect"}},
    {"authority", {"robustness_rate", "follow_rate", "effect"}},
};

}  // namespace

std::string format_summary(const report& r) {
  const json& j = r.json;
  std::string out;
  std::uint64_t bytes = 0;
  std::vector<std::string> names;
  for (const auto& in : j["inputs"]) {
    bytes += in.value("bytes", std::uint64_t{0});
    names.push_back(in.value("path", ""));
  }
  const json& diag = j["diagnostics"];
  out += fmt::format(
      "judgebias {}: {} records from {} ({} bytes); {} skipped, {} duplicates, {} extraction failures\n",
      j["tool"].value("version", ""), diag.value("records", 0), fmt::join(names, ", "), bytes,
      diag.value("skipped", 0), diag.value("duplicates", 0), diag.value("extraction_failures", 0));
  for (const auto& w : diag["warnings"]) out += fmt::format("warning: {}\n", w.get<std::string>());
  for (const auto& [name, section] : j["modules"].items()) {
    out += fmt::format("\n{}", name);
    const std::string status = section.value("status", "");
    if (status != "ok") {
      out += fmt::format(": {} ({})\n", status, section.value("reason", ""));
      continue;
    }
    out += "\n";
    const json& judges = section.contains("judges") ? section["judges"] : json::object();
    std::vector<std::string> cols;
    if (auto it = headline.find(name); it != headline.end()) {
      cols = it->second;
    } else if (!judges.empty()) {
      for (const auto& [k, v] : judges.begin().value().items())
        if (v.is_object() && v.contains("value") && cols.size() < 3) cols.push_back(k);
    }
    // Only columns with a value for some judge.
    std::erase_if(cols, [&](const std::string& c) {
      for (const auto& [jn, jm] : judges.items())
        if (jm.contains(c) && !jm[c]["value"].is_null()) return false;
      return true;
    });
    if (judges.empty() || cols.empty()) {
      out += "  (no judge has a value to show)\n";
      continue;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({"judge"});
    for (const auto& c : cols)
      rows[0].push_back(
          fmt::format("{} ({})", c,
                      judges.begin().value().contains(c) ? judges.begin().value()[c].value("unit", "") : ""));
    for (const auto& [jn, jm] : judges.items()) {
      std::vector<std::string> row{jn};
      for (const auto& c : cols) row.push_back(jm.contains(c) ? format_cell(jm[c]) : "");
      rows.push_back(std::move(row));
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& row : rows)
      for (std::size_t k = 0; k < row.size(); ++k) width[k] = std::max(width[k], row[k].size());
    for (const auto& row : rows) {
      std::string line = " ";
      for (std::size_t k = 0; k < row.size(); ++k) line += fmt::format(" {:<{}}", row[k], width[k]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace judgebias
