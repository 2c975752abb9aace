#pragma once
/// \file Output files: the checks made before anything is read, and the atomic writer.

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace judgebias {

/// One output of a command: the option that named it (for messages) and its path.
struct output_path {
  std::string option;  ///< e.g. "-o", "--per-item"
  std::string path;
};

/// The paths of one command, checked before anything is read or written. A usage_error, naming both,
/// for an output that is one of the inputs (the same file, also through a link: same device and inode),
/// an output that is the same file as another output (also when neither exists yet), an input given
/// twice, and an empty path; an io_error for an output that is a folder or whose folder is missing or
/// takes no new file. Every output is checked before any is written, so that a mistake in the last
/// leaves none written. "-" (standard input or output) is not a file and is not compared.
void check_paths(const std::vector<std::string>& inputs, const std::vector<output_path>& outputs);

/// Writes text to `path` so that a reader never sees half of it. A regular file (or a path that does
/// not exist yet) is written to a temporary file in the same folder, flushed and renamed into place; a
/// file that is replaced keeps its permission bits. A target that exists and is not a regular file (a
/// device such as /dev/null, a FIFO, a socket) is written through, never replaced; a name of one of the
/// process's descriptors (/dev/stdout, /dev/fd/N, /proc/self/fd/N, also at the end of a chain of links)
/// is written at that descriptor, after what it holds.
/// Throws io_error; on failure a previous file at `path` survives and no temporary file is left.
void write_file_atomic(const std::string& path, const std::string& content);

/// Where text is written piece by piece (a report too large to hold as one string).
using text_sink = std::function<void(std::string_view)>;
/// write_file_atomic with the text produced by `produce`, piece by piece into the sink it is given,
/// without holding the whole text. For a regular file the same guarantees: an exception from `produce`
/// (or a failed write) leaves the previous file and no temporary one. A target written through (a
/// device, a FIFO, a descriptor) gets the text as it comes, so there a failure part way leaves the part
/// written. `produce` must let the sink's exceptions pass.
void write_file_atomic(const std::string& path, const std::function<void(const text_sink&)>& produce);

/// write_file_atomic for a producer that writes to a std::ostream (synth's generator): the stream hands
/// the sink 64 KiB at a time, so a file of any size is written without being held. The stream throws
/// what the sink throws.
void write_stream_atomic(const std::string& path, const std::function<void(std::ostream&)>& produce);
/// Removes the temporary file of a write in progress, if any. Async-signal-safe: for a SIGINT or
/// SIGTERM handler, so that an interrupted write leaves nothing beside the target.
void remove_pending_temporary() noexcept;

}  // namespace judgebias
