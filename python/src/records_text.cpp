// Python records and DataFrame columns → FORMAT v1 JSON Lines (records_text.hpp).
#include "records_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "judgebias/error.hpp"

namespace py = pybind11;

namespace judgebias::python {
namespace {

// Deeper than this is a value that contains itself (the reader refuses anything deeper than 64 anyway).
constexpr int max_depth = 200;

bool type_named(PyObject* v, std::string_view name) {
  std::string_view t = Py_TYPE(v)->tp_name;
  const auto dot = t.rfind('.');
  if (dot != std::string_view::npos) t = t.substr(dot + 1);
  return t == name;
}

// A missing cell of a DataFrame: None, NaN, pandas.NA, NaT.
bool missing(PyObject* v) {
  if (v == Py_None) return true;
  if (PyFloat_Check(v)) return std::isnan(PyFloat_AS_DOUBLE(v));
  return type_named(v, "NAType") || type_named(v, "NaTType");
}

void write_string(std::string& out, PyObject* s) {
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(s, &size);
  if (utf8 == nullptr) {
    // Not encodable as UTF-8 (a lone surrogate): as Python's json writes it, escaped, for the reader to
    // judge.
    PyErr_Clear();
    out +=
        py::module_::import("json").attr("dumps")(py::reinterpret_borrow<py::object>(s)).cast<std::string>();
    return;
  }
  out += '"';
  for (const char c : std::string_view(utf8, static_cast<std::size_t>(size))) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"')
      out += "\\\"";
    else if (c == '\\')
      out += "\\\\";
    else if (u < 0x20)
      out += fmt::format("\\u{:04x}", u);
    else
      out += c;
  }
  out += '"';
}

// A float as Python's repr writes it: the shortest text that reads back the same, with ".0" on a whole
// number (so that 622.0 stays a float for the reader), NaN and Infinity as json.dumps writes them.
void write_float(std::string& out, double d, bool whole) {
  if (std::isnan(d)) {
    out += "NaN";
  } else if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
  } else if (whole && d == std::floor(d)) {
    out += fmt::format("{:.0f}", d);
  } else {
    const std::size_t start = out.size();
    fmt::format_to(std::back_inserter(out), "{}", d);
    if (out.find_first_of(".en", start) == std::string::npos) out += ".0";
  }
}

void write_value(std::string& out, PyObject* v, int depth, bool whole = false);

void write_key(std::string& out, PyObject* key) {
  if (!PyUnicode_Check(key))
    throw usage_error(fmt::format("a record's keys must be strings, got {}",
                                  py::repr(py::reinterpret_borrow<py::object>(key)).cast<std::string>()));
  write_string(out, key);
  out += ':';
}

void write_value(std::string& out, PyObject* v, int depth, bool whole) {
  if (depth > max_depth)
    throw usage_error(
        fmt::format("a record is nested deeper than {} levels (or contains itself)", max_depth));
  if (v == Py_None) {
    out += "null";
  } else if (v == Py_True) {
    out += "true";
  } else if (v == Py_False) {
    out += "false";
  } else if (PyLong_Check(v)) {
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow == 0)
      fmt::format_to(std::back_inserter(out), "{}", x);
    else  // beyond 64 bits: its digits (of the plain int: a subclass may print itself otherwise), for the
          // reader to refuse as out of range
      out += py::str(py::reinterpret_steal<py::object>(PyNumber_Long(v))).cast<std::string>();
  } else if (PyFloat_Check(v)) {
    write_float(out, PyFloat_AS_DOUBLE(v), whole);
  } else if (PyUnicode_Check(v)) {
    write_string(out, v);
  } else if (PyDict_Check(v)) {
    out += '{';
    PyObject *key = nullptr, *value = nullptr;
    Py_ssize_t pos = 0;
    bool first = true;
    while (PyDict_Next(v, &pos, &key, &value)) {
      // Held while written: writing a value may call Python (a numpy value's tolist()).
      const py::object k = py::reinterpret_borrow<py::object>(key),
                       x = py::reinterpret_borrow<py::object>(value);
      if (!first) out += ',';
      first = false;
      write_key(out, k.ptr());
      write_value(out, x.ptr(), depth + 1);
    }
    out += '}';
  } else if (PyList_Check(v) || PyTuple_Check(v)) {
    out += '[';
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(v);
    for (std::size_t k = 0; k < seq.size(); ++k) {
      if (k > 0) out += ',';
      write_value(out, seq[k].ptr(), depth + 1);
    }
    out += ']';
  } else {
    const py::handle h(v);
    if (PyMapping_Check(v) && py::hasattr(h, "items")) {  // another mapping: as a dict
      const py::dict d(py::reinterpret_borrow<py::object>(v));
      write_value(out, d.ptr(), depth + 1);
    } else if (py::hasattr(h, "tolist")) {  // a numpy array or scalar
      const py::object x = h.attr("tolist")();
      write_value(out, x.ptr(), depth + 1, whole);
    } else {
      throw usage_error(
          fmt::format("a record holds a value JSON cannot hold: {}", py::repr(h).cast<std::string>()));
    }
  }
}

// The columns as a tree of keys: a record's objects and their fields.
struct node {
  std::string name;
  int column = -1;  // a leaf: the column whose cells it writes
  std::vector<node> children;
};

node& child(node& parent, const std::string& name) {
  for (auto& c : parent.children)
    if (c.name == name) return c;
  parent.children.push_back(node{name, -1, {}});
  return parent.children.back();
}

// Writes one row's object at `n`; false (and nothing written) when none of its fields is present.
bool write_object(std::string& out, const node& n, const std::vector<frame_column>& columns, std::size_t row,
                  std::vector<std::string_view>* present) {
  const std::size_t open = out.size();
  out += '{';
  bool any = false;
  for (const node& c : n.children) {
    const std::size_t mark = out.size();
    if (any) out += ',';
    out += '"';
    out += c.name;  // (frame_text refused a name that would need escaping)
    out += "\":";
    bool wrote = false;
    if (c.column >= 0) {
      const frame_column& col = columns[static_cast<std::size_t>(c.column)];
      py::object cell =
          py::reinterpret_borrow<py::object>(PyList_GET_ITEM(col.cells.ptr(), static_cast<Py_ssize_t>(row)));
      // A numpy value in an object column (a float32 NaN, a datetime64 NaT): its Python value first.
      if (!PyFloat_Check(cell.ptr()) && !PyLong_Check(cell.ptr()) && !PyUnicode_Check(cell.ptr()) &&
          cell.ptr() != Py_None && py::hasattr(cell, "dtype") && py::hasattr(cell, "item"))
        cell = cell.attr("item")();
      if (!missing(cell.ptr())) {
        write_value(out, cell.ptr(), 1, col.whole);
        wrote = true;
      }
    } else {
      wrote = write_object(out, c, columns, row, nullptr);
    }
    if (wrote) {
      any = true;
      if (present != nullptr) present->push_back(c.name);
    } else {
      out.resize(mark);
    }
  }
  if (!any) {
    out.resize(open);
    return false;
  }
  out += '}';
  return true;
}

bool plain_name(std::string_view s) {
  for (const char c : s)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
  return !s.empty();
}

}  // namespace

std::string records_text(const py::iterable& records) {
  std::string out;
  std::size_t count = 0;
  for (const py::handle r : records) {
    if (++count % 65536 == 0 && PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!PyDict_Check(r.ptr()) && !(PyMapping_Check(r.ptr()) && py::hasattr(r, "items")))
      throw usage_error(
          fmt::format("records must be mappings (dicts), got {}", py::repr(r).cast<std::string>()));
    write_value(out, r.ptr(), 0);
    out += '\n';
  }
  return out;
}

std::string frame_text(const std::vector<frame_column>& columns) {
  node root;
  std::size_t rows = 0;
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const auto& path = columns[k].path;
    if (path.empty()) throw usage_error("a DataFrame column without a name");
    for (const auto& key : path)
      if (!plain_name(key))
        throw usage_error(
            fmt::format("a DataFrame column's name holds a quote, backslash or control character: "
                        "\"{}\"",
                        fmt::join(path, ".")));
    node* n = &root;
    for (std::size_t p = 0; p < path.size(); ++p) {
      n = &child(*n, path[p]);
      const bool leaf = p + 1 == path.size();
      if ((leaf && (!n->children.empty() || n->column >= 0)) || (!leaf && n->column >= 0))
        throw usage_error(
            fmt::format("DataFrame columns give \"{}\" twice (nested and flat columns of one field?)",
                        fmt::join(path.begin(), path.begin() + static_cast<std::ptrdiff_t>(p) + 1, ".")));
    }
    n->column = static_cast<int>(k);
    const auto size = static_cast<std::size_t>(PyList_GET_SIZE(columns[k].cells.ptr()));
    if (k > 0 && size != rows) throw usage_error("DataFrame columns of different lengths");
    rows = size;
  }
  const bool has_verdict = std::any_of(root.children.begin(), root.children.end(),
                                       [](const node& c) { return c.name == "verdict" && c.column >= 0; });
  const bool has_score = std::any_of(root.children.begin(), root.children.end(),
                                     [](const node& c) { return c.name == "score" && c.column >= 0; });
  std::string out;
  std::vector<std::string_view> present;
  for (std::size_t row = 0; row < rows; ++row) {
    // Holding the GIL (the cells are Python objects), so Ctrl-C is seen here, between rows.
    if (row % 65536 == 65535 && PyErr_CheckSignals() != 0) throw py::error_already_set();
    present.clear();
    if (!write_object(out, root, columns, row, &present)) {
      out += "{}\n";  // an empty row: the reader says what it lacks
      continue;
    }
    auto has = [&](std::string_view name) {
      return std::find(present.begin(), present.end(), name) != present.end();
    };
    // A missing verdict or score is the judge's extraction failure: null, as a file has it.
    out.pop_back();  // the closing brace
    if (has_verdict && has("a") && !has("verdict")) out += ",\"verdict\":null";
    if (has_score && has("response") && !has("score")) out += ",\"score\":null";
    out += "}\n";
  }
  return out;
}

}  // namespace judgebias::python
