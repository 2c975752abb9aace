// The judgebias program.
#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return judgebias::cli::run_command_line(argc, argv);
}
