#pragma once
/// \file Exceptions thrown by judgebias: one small hierarchy under judgebias::error.

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace judgebias {

/// Base of every exception judgebias throws.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A rejected input line: carries where (`path:line:column`) and why (a stable reason key).
class parse_error : public error {
 public:
  /// \param reason stable key used to count skipped lines (e.g. "unknown_verdict").
  parse_error(std::string path, std::uint64_t line, std::uint64_t column, std::string reason,
              std::string message);
  const std::string& path() const noexcept { return path_; }        ///< Input path, "-" for stdin.
  std::uint64_t line() const noexcept { return line_; }             ///< 1-based physical line.
  std::uint64_t column() const noexcept { return column_; }         ///< 1-based byte offset in the line.
  const std::string& reason() const noexcept { return reason_; }    ///< Stable reason key.
  const std::string& message() const noexcept { return message_; }  ///< Message without the location.

 private:
  std::string path_;
  std::uint64_t line_;
  std::uint64_t column_;
  std::string reason_;
  std::string message_;
};

/// A file could not be opened, read or written.
class io_error : public error {
 public:
  using error::error;
};

/// The input as a whole is unusable (for example: no records at all).
class data_error : public error {
 public:
  using error::error;
};

/// The run was stopped at the caller's request (config::stop; Ctrl-C in Python): what it had computed is
/// dropped.
class cancelled : public error {
 public:
  using error::error;
};

/// Throws cancelled when `stop` is set and true. The long loops call it: each block of input, each
/// batch of resamples, each module.
void throw_if_stopped(const std::atomic<bool>* stop);

/// A bad option or argument given by the caller.
class usage_error : public error {
 public:
  using error::error;
};

}  // namespace judgebias
