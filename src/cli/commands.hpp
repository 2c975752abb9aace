#pragma once
// The judgebias command line as a function: the program's main() and the Python package's
// `python -m judgebias` both call it.

namespace judgebias::cli {

/// Parses the arguments (argv[0] is the program's name), runs the command and returns its exit status
/// (docs/cli.md): 0 ok, 1 bad data or an I/O error, 2 a usage error, 3 a tripped gate. Messages go to
/// standard error, the report to standard output. It installs the program's handlers for SIGINT,
/// SIGTERM, SIGPIPE and SIGXFSZ and for a failed allocation: a process runs it once.
int run_command_line(int argc, char** argv);

}  // namespace judgebias::cli
