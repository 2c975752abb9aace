#pragma once
// Records from Python (dicts, or a DataFrame's columns) written as FORMAT v1 JSON Lines, one record per
// line in order, for the reader to validate exactly as it validates a file: the line of a bad record is
// its index + 1. Values are written as Python's json module writes them (622.0 stays a float, NaN is
// written as NaN for the reader to refuse), without building Python strings on the way.
#include <string>
#include <vector>

#include <pybind11/pybind11.h>

namespace judgebias::python {

/// An iterable of mappings as JSON Lines. Throws usage_error for a value JSON cannot hold (a set, an
/// object of another class; numpy scalars are read through their item()) or a key that is not a string.
std::string records_text(const pybind11::iterable& records);

/// One column of a DataFrame: where its cells go in a record (a path of keys: ("a", "model") for
/// `a_model`), the cells, and whether a float cell is written as the whole number it holds (a column of
/// whole numbers with gaps, which pandas stores as floats).
struct frame_column {
  std::vector<std::string> path;
  pybind11::list cells;
  bool whole = false;
};

/// A DataFrame's rows as JSON Lines: missing cells (None, NaN, pandas.NA, NaT) are left out, an object
/// none of whose fields is present is left out, and a pairwise record (one with "a") without a verdict
/// or a pointwise record (one with "response") without a score gets null there, as the file has it.
std::string frame_text(const std::vector<frame_column>& columns);

}  // namespace judgebias::python
