// Newton/IRLS for the soft-label logistic regression of the verbosity module (AlpacaEval 2's
// length-controlled GLM has the same form), and OLS for score-on-length slopes.
#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "stats/regression.hpp"

namespace judgebias::detail {

namespace {

constexpr std::size_t chunk = 1024;  // rows read at a time

// The fit of `rows` rows; rows_at(first, count) gives the rows [first, first + count) (count ≤ chunk) and
// their labels, as two pointers.
template <class RowsAt>
logistic_fit fit_rows(std::size_t rows, std::size_t cols, RowsAt&& rows_at) {
  logistic_fit fit;
  const auto k = static_cast<Eigen::Index>(cols);
  if (rows == 0 || cols == 0) {
    fit.reason = "no records to fit";
    return fit;
  }
  Eigen::VectorXd beta = Eigen::VectorXd::Zero(k);
  Eigen::MatrixXd info(k, k);
  // The Fisher information X'WX at b, and the score X'(y − p) when asked: plain loops over the few
  // columns (Eigen's dynamic-size outer products per record cost more than the sums themselves).
  std::vector<double> h(cols * cols), g(cols);
  auto accumulate = [&](const Eigen::VectorXd& b, Eigen::MatrixXd& out, Eigen::VectorXd* score) {
    std::fill(h.begin(), h.end(), 0.0);
    std::fill(g.begin(), g.end(), 0.0);
    for (std::size_t first = 0; first < rows; first += chunk) {
      const std::size_t count = std::min(chunk, rows - first);
      const auto [x, y] = rows_at(first, count);
      for (std::size_t r = 0; r < count; ++r) {
        const double* xr = x + r * cols;
        double eta = 0;
        for (std::size_t a = 0; a < cols; ++a) eta += xr[a] * b[static_cast<Eigen::Index>(a)];
        const double p = 1.0 / (1.0 + std::exp(-eta)), w = p * (1.0 - p);
        for (std::size_t a = 0; a < cols; ++a) {
          g[a] += (y[r] - p) * xr[a];
          for (std::size_t c = 0; c <= a; ++c) h[a * cols + c] += w * xr[a] * xr[c];
        }
      }
    }
    for (std::size_t a = 0; a < cols; ++a)
      for (std::size_t c = 0; c <= a; ++c)
        out(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(c)) =
            out(static_cast<Eigen::Index>(c), static_cast<Eigen::Index>(a)) = h[a * cols + c];
    if (score)
      for (std::size_t a = 0; a < cols; ++a) (*score)[static_cast<Eigen::Index>(a)] = g[a];
  };
  constexpr int max_iterations = 100;
  constexpr double max_abs_coef = 30;  // |β| this large means a fitted probability of ~1e-13: separation
  bool converged = false;
  for (int it = 1; it <= max_iterations && !converged; ++it) {
    Eigen::VectorXd score(k);
    accumulate(beta, info, &score);
    Eigen::FullPivLU<Eigen::MatrixXd> lu(info);
    lu.setThreshold(1e-10);
    if (lu.rank() < k) {
      fit.separated = it > 1;  // the weights vanished on the way out: separation
      fit.reason = it == 1
                       ? "singular design: a covariate does not vary (or duplicates another)"
                       : "the fit does not converge (separation: a covariate predicts the verdict perfectly)";
      if (fit.separated) fit.coef.assign(beta.data(), beta.data() + k);
      return fit;
    }
    const Eigen::VectorXd step = lu.solve(score);
    beta += step;
    fit.iterations = it;
    if (beta.cwiseAbs().maxCoeff() > max_abs_coef) {
      fit.reason = "the fit does not converge (separation: a covariate predicts the verdict perfectly)";
      fit.separated = true;
      fit.coef.assign(beta.data(), beta.data() + k);
      return fit;
    }
    converged = step.cwiseAbs().maxCoeff() < 1e-10;
  }
  if (!converged) {
    fit.reason = "the fit does not converge in 100 Newton steps";
    return fit;
  }
  // Fisher information at the estimate.
  accumulate(beta, info, nullptr);
  Eigen::FullPivLU<Eigen::MatrixXd> lu(info);
  lu.setThreshold(1e-10);
  if (lu.rank() < k) {
    fit.reason = "singular information matrix at the estimate";
    return fit;
  }
  const Eigen::MatrixXd cov = lu.inverse();
  fit.ok = true;
  fit.coef.assign(beta.data(), beta.data() + k);
  fit.cov.assign(cols, std::vector<double>(cols));
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index b = 0; b < k; ++b)
      fit.cov[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)] = cov(a, b);
  return fit;
}

}  // namespace

logistic_fit fit_logistic(std::span<const double> x, std::span<const double> y, std::size_t cols) {
  return fit_rows(x.size() == y.size() * cols ? y.size() : 0, cols, [&](std::size_t first, std::size_t) {
    return std::pair<const double*, const double*>{x.data() + first * cols, y.data() + first};
  });
}

logistic_fit fit_logistic(std::size_t rows, std::size_t cols, const design_rows& fill) {
  std::vector<double> x(std::min(rows, chunk) * cols), y(std::min(rows, chunk));
  return fit_rows(rows, cols, [&](std::size_t first, std::size_t count) {
    fill(first, count, x.data(), y.data());
    return std::pair<const double*, const double*>{x.data(), y.data()};
  });
}

std::vector<bool> dependent_columns(std::span<const double> x, std::size_t cols) {
  std::vector<bool> out(cols, false);
  if (cols == 0) return out;
  const std::size_t rows = x.size() / cols;
  const auto k = static_cast<Eigen::Index>(cols);
  Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(k, k);
  for (std::size_t r = 0; r < rows; ++r) {
    const double* xr = x.data() + r * cols;
    for (std::size_t a = 0; a < cols; ++a)
      for (std::size_t c = 0; c <= a; ++c)
        xtx(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(c)) += xr[a] * xr[c];
  }
  // Scaled to unit diagonal, so that a column's units do not decide what counts as zero.
  Eigen::VectorXd scale(k);
  for (Eigen::Index a = 0; a < k; ++a) {
    if (!(xtx(a, a) > 0)) {
      out[static_cast<std::size_t>(a)] = true;  // an all-zero column
      scale(a) = 0;
    } else {
      scale(a) = 1 / std::sqrt(xtx(a, a));
    }
  }
  for (Eigen::Index a = 0; a < k; ++a)
    for (Eigen::Index c = 0; c <= a; ++c) xtx(a, c) = xtx(c, a) = xtx(a, c) * scale(a) * scale(c);
  for (Eigen::Index a = 0; a < k; ++a)
    if (scale(a) == 0) xtx(a, a) = 1;  // kept out of the dependences of the others
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(xtx);
  constexpr double zero = 1e-9;  // relative to the largest eigenvalue (at least 1 with unit diagonal)
  const double top = eig.eigenvalues().maxCoeff();
  for (Eigen::Index e = 0; e < k; ++e) {
    if (eig.eigenvalues()(e) > zero * top) continue;
    for (Eigen::Index a = 0; a < k; ++a)
      if (scale(a) != 0 && std::fabs(eig.eigenvectors()(a, e)) > 1e-6)
        out[static_cast<std::size_t>(a)] = true;
  }
  return out;
}

std::optional<ols_slope> fit_slope(std::span<const double> x, std::span<const double> y) {
  const std::size_t n = x.size();
  if (n < 3 || y.size() != n) return std::nullopt;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  if (!(sxx > 0)) return std::nullopt;
  const double slope = sxy / sxx, intercept = my - slope * mx;
  double ssr = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = y[i] - intercept - slope * x[i];
    ssr += e * e;
  }
  return ols_slope{slope, std::sqrt(ssr / static_cast<double>(n - 2) / sxx)};
}

}  // namespace judgebias::detail
