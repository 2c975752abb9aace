#pragma once
/// \file Library version.

#include <string_view>

namespace judgebias {

/// The library's version, "MAJOR.MINOR.PATCH".
std::string_view version() noexcept;

/// The report's schema_version (REPORT.md).
inline constexpr int report_schema_version = 1;

}  // namespace judgebias
