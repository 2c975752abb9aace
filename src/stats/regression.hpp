#pragma once
// Regressions the modules fit: a soft-label logistic regression by Newton/IRLS (Eigen) and a simple OLS
// slope. Private: no Eigen type appears in a public header.

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace judgebias::detail {

/// A fitted logistic regression: coefficients, their covariance (inverse Fisher information), or why
/// there is no fit.
struct logistic_fit {
  bool ok = false;
  std::string reason;                    ///< Why not ok: singular design, separation, no convergence.
  std::vector<double> coef;              ///< One per column of the design.
  std::vector<std::vector<double>> cov;  ///< Inverse Fisher information at the estimate.
  int iterations = 0;
  /// Not ok because the coefficients run off to infinity (a covariate, or a combination, predicts the
  /// label perfectly); `coef` then holds the last Newton iterate, whose largest entries name the culprits.
  bool separated = false;
};

/// Fits P(y = 1) = σ(Xβ) by maximum likelihood with soft labels y in [0, 1]. `x` holds `rows` rows of
/// `cols` values each (row-major), `y` one label per row.
logistic_fit fit_logistic(std::span<const double> x, std::span<const double> y, std::size_t cols);

/// Writes rows [first, first + count) of a design into `x` (count × cols, row-major) and their labels into
/// `y`: a design made as it is read, so that it is never held whole.
using design_rows = std::function<void(std::size_t first, std::size_t count, double* x, double* y)>;
/// The same fit of `rows` rows of `cols` columns read through `fill`, a chunk at a time (the same bits as
/// the fit of the same values held in full).
logistic_fit fit_logistic(std::size_t rows, std::size_t cols, const design_rows& fill);

/// The columns of a design (`rows` rows of `cols` values, row-major) that take part in an exact linear
/// dependence among the columns: the eigenvectors of the scaled cross-product matrix whose eigenvalues are
/// numerically zero, and the columns with weight in them. An all-zero column is dependent on its own.
std::vector<bool> dependent_columns(std::span<const double> x, std::size_t cols);

/// Ordinary least-squares slope of y on x with its standard error; nullopt with < 3 points or no spread.
struct ols_slope {
  double slope = 0, se = 0;
};
std::optional<ols_slope> fit_slope(std::span<const double> x, std::span<const double> y);

}  // namespace judgebias::detail
