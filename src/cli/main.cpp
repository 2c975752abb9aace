// The judgebias program: the allocator's settings for one run, then the command line.
#include <cstdlib>  // (which defines __GLIBC__ with the GNU C library)

#include "cli/commands.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // Memory freed during a run (each block's parsed records, each judge's tables) is kept in the process
  // for the next allocation instead of going back to the kernel and faulting in again: blocks up to
  // 32 MiB come from the heap, and a heap gives memory back only when 64 MiB or more lie free at its
  // top. Keeping it all (measured with no trimming at all): at 1M records a fifth fewer page faults, 5 %
  // less CPU time, 5 MB more peak memory; but at 10M freed memory piled up (a peak of 1185 to 1443 MiB
  // with the bootstrap, against 1161 to 1197 with the 64 MiB bound, which changed neither time nor peak
  // at 1M; docs/performance.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  return judgebias::cli::run_command_line(argc, argv);
}
