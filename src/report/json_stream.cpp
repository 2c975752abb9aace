// The report's JSON text written piece by piece: the same bytes as dumping report::to_json(), but no
// tree of the whole report is built, so memory stays in the rows (#13: a million judges).
#include <algorithm>
#include <memory>
#include <unordered_set>

#include "common/json_tree.hpp"
#include "judgebias/report.hpp"
#include "report/report_json.hpp"

namespace judgebias {

using json = nlohmann::ordered_json;

namespace {

// nlohmann's serializer writes here; the text goes to the sink in pieces of about a megabyte.
class sink_adapter final : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  explicit sink_adapter(const text_sink& sink) : sink_(sink) { buf_.reserve(limit + 4096); }
  void write_character(char c) override {
    buf_.push_back(c);
    if (buf_.size() >= limit) flush();
  }
  void write_characters(const char* s, std::size_t n) override {
    buf_.append(s, n);
    if (buf_.size() >= limit) flush();
  }
  void flush() {
    if (!buf_.empty()) sink_(buf_);
    buf_.clear();
  }

 private:
  static constexpr std::size_t limit = 1u << 20;
  const text_sink& sink_;
  std::string buf_;
};

// Writes objects member by member as dump(2) lays them out: a member at depth L is indented 2L
// spaces and its value dumped at indent 2L.
class json_writer {
 public:
  explicit json_writer(const text_sink& sink)
      : adapter_(std::make_shared<sink_adapter>(sink)), ser_(adapter_, ' ', json::error_handler_t::replace) {}

  void text(std::string_view s) { adapter_->write_characters(s.data(), s.size()); }
  // The separator and key of the next member of an object at `depth` whose members so far are `count`.
  void key(std::size_t depth, std::size_t count, std::string_view k) {
    text(count == 0 ? "\n" : ",\n");
    indent(depth);
    ser_.dump(json(k), false, false, 0);
    text(": ");
  }
  void value(const json& v, std::size_t depth) {
    ser_.dump(v, true, false, 2, static_cast<unsigned>(2 * depth));
  }
  // Closes an object at `depth - 1` whose members are at `depth`.
  void close(std::size_t depth, std::size_t count) {
    if (count > 0) {
      text("\n");
      indent(depth - 1);
    }
    text("}");
  }
  void flush() { adapter_->flush(); }

 private:
  void indent(std::size_t depth) {
    static const std::string spaces(64, ' ');
    for (std::size_t n = 2 * depth; n > 0;) {
      const std::size_t k = std::min(n, spaces.size());
      text(std::string_view(spaces).substr(0, k));
      n -= k;
    }
  }
  std::shared_ptr<sink_adapter> adapter_;
  nlohmann::detail::serializer<json> ser_;
};

// One module's section, streamed: its rows and extras are cut into units that share the keys of one
// JSON object (a judge's metrics, one opponent's, the module's diagnostics); each unit is built as a
// small tree and written below the objects open on a stack. This holds when the section's keys come in
// document order, as the kit and report_from_json place them: a dry pass checks that no object would
// be reopened and no key repeated, and a section that fails it is written from its whole tree instead.
class section_stream {
 public:
  /// Without a writer, the dry pass. `depth`: the depth of the section's members.
  section_stream(const module_section& s, json_writer* out, std::size_t depth)
      : s_(s), out_(out), depth_(depth) {}

  // Writes (or checks) the members after "status"; false if the section cannot be streamed.
  bool run() {
    levels_.assign(1, level{"", 1, {}});
    levels_[0].keys.insert("status");
    std::size_t x = 0;
    for (std::size_t k = 0; k < s_.rows.size(); ++k) {
      for (; x < s_.extras.size() && s_.extras[x].after_rows <= k; ++x)
        if (!extra(s_.extras[x])) return false;
      if (!row(s_.rows[k])) return false;
    }
    for (; x < s_.extras.size(); ++x)
      if (!extra(s_.extras[x])) return false;
    if (!flush()) return false;
    while (levels_.size() > 1) pop();
    return true;
  }

 private:
  struct level {
    std::string_view key;                       // its key in the level above
    std::size_t count;                          // members written
    std::unordered_set<std::string_view> keys;  // (dry pass) every key used, into the section's strings
  };
  struct item {
    std::vector<std::string_view> rel;  // keys under the unit's object
    const json* value;                  // an extra's value, or nullptr for a row
    const metric* row_value;
  };

  // A metric's unit is the object that holds it: its judge's (or group's), or its opponent's.
  bool row(const report_row& r) {
    detail::row_path(r, path_);
    const std::size_t cut = path_.size() - 1;
    if (items_.empty() || unit_.size() != cut || !std::equal(unit_.begin(), unit_.end(), path_.begin())) {
      if (!flush()) return false;
      unit_.assign(path_.begin(), path_.begin() + static_cast<std::ptrdiff_t>(cut));
    }
    items_.push_back(
        item{{path_.begin() + static_cast<std::ptrdiff_t>(cut), path_.end()}, nullptr, &r.value});
    return true;
  }
  // An extra inside the unit's object (a judge's empty by_opponent) joins it; any other is a unit of its
  // own in the object that holds it.
  bool extra(const section_extra& e) {
    path_.assign(e.path.begin(), e.path.end());
    if (path_.empty()) return false;
    std::size_t cut = unit_.size();
    if (items_.empty() || path_.size() <= unit_.size() ||
        !std::equal(unit_.begin(), unit_.end(), path_.begin())) {
      if (!flush()) return false;
      cut = path_.size() - 1;
      unit_.assign(path_.begin(), path_.begin() + static_cast<std::ptrdiff_t>(cut));
    }
    items_.push_back(
        item{{path_.begin() + static_cast<std::ptrdiff_t>(cut), path_.end()}, &e.value, nullptr});
    return true;
  }

  std::size_t depth() const { return depth_ + levels_.size() - 1; }  // of the top level's members

  // Opens the unit's object below the stack and writes its members.
  bool flush() {
    if (items_.empty()) return true;
    std::size_t common = 0;
    while (common < unit_.size() && common + 1 < levels_.size() && levels_[common + 1].key == unit_[common])
      ++common;
    while (levels_.size() > common + 1) pop();
    for (std::size_t k = common; k < unit_.size(); ++k) {
      if (out_) {
        out_->key(depth(), levels_.back().count, unit_[k]);
        out_->text("{");
      } else if (!levels_.back().keys.insert(unit_[k]).second) {
        return false;  // an object reopened
      }
      ++levels_.back().count;
      levels_.push_back(level{unit_[k], 0, {}});
    }
    level& here = levels_.back();
    if (!out_) {
      std::unordered_set<std::string_view> mine;
      for (const auto& it : items_)
        if (mine.insert(it.rel[0]).second && !here.keys.insert(it.rel[0]).second) return false;
      here.count += mine.size();
      items_.clear();
      return true;
    }
    detail::json_tree tree;
    for (const auto& it : items_) {
      const std::size_t n = tree.at(it.rel);
      if (it.row_value)
        tree.set(n, to_json(*it.row_value));
      else if (!(it.value->is_object() && it.value->empty()))
        tree.set(n, *it.value);
    }
    items_.clear();
    const json members = tree.take();
    for (const auto& [k, v] : members.items()) {
      out_->key(depth(), here.count++, k);
      out_->value(v, depth());
    }
    return true;
  }
  void pop() {
    if (out_) out_->close(depth(), levels_.back().count);
    levels_.pop_back();
  }

  const module_section& s_;
  json_writer* out_;
  std::size_t depth_;
  std::vector<level> levels_;
  std::vector<std::string_view> path_, unit_;
  std::vector<item> items_;
};

// A module's section as the value of its key at `depth`.
void write_section(const module_section& s, json_writer& w, std::size_t depth) {
  if (s.status == module_status::ok && section_stream(s, nullptr, depth + 1).run()) {
    w.text("{");
    w.key(depth + 1, 0, "status");
    w.value(json(std::string(to_string(s.status))), depth + 1);
    section_stream(s, &w, depth + 1).run();
    w.close(depth + 1, 1);
    return;
  }
  w.value(detail::section_json(s), depth);
}

}  // namespace

void write_json(const report& r, const text_sink& sink) {
  json_writer w(sink);
  w.text("{");
  std::size_t count = 0;
  detail::top_level_members(
      r,
      [&](const std::string& key, const json& v) {
        w.key(1, count++, key);
        w.value(v, 1);
      },
      [&](const json* kept) {
        w.key(1, count++, "modules");
        if (kept) {
          w.value(*kept, 1);
          return;
        }
        w.text("{");
        std::size_t k = 0;
        for (const auto& m : r.modules) {
          w.key(2, k++, m.name);
          write_section(m, w, 2);
        }
        w.close(2, k);
      });
  w.close(1, count);
  w.text("\n");
  w.flush();
}

}  // namespace judgebias
