#include "judgebias/error.hpp"

#include <fmt/format.h>

namespace judgebias {

parse_error::parse_error(std::string path, std::uint64_t line, std::uint64_t column, std::string reason,
                         std::string message)
    : error(fmt::format("{}:{}:{}: {}", path, line, column, message)),
      path_(std::move(path)),
      line_(line),
      column_(column),
      reason_(std::move(reason)),
      message_(std::move(message)) {}

void throw_if_stopped(const std::atomic<bool>* stop) {
  if (stop != nullptr && stop->load(std::memory_order_relaxed)) throw cancelled("interrupted");
}

}  // namespace judgebias
