#pragma once
// The runner's commands on the command line: judge, respond, pairs (docs/cli.md).
#include <memory>

#include <CLI/CLI.hpp>

namespace judgebias::cli {

class judge_commands {
 public:
  /// Adds the three subcommands and their options to `app`.
  explicit judge_commands(CLI::App& app);
  ~judge_commands();
  /// Runs the one that was chosen, if any: true and its status in `status`, or false.
  bool dispatch(int& status);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace judgebias::cli
