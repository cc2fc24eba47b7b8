// `aero-virtio trace dump <file>` and `aero-virtio trace diff <a> <b>`: thin
// wiring of traces/ (docs/trace-format.md) into the command line.
#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace aerov::cli {

// Exit codes of the trace subcommands.
inline constexpr int kTraceOk = 0;         // dumped, or the traces are identical
inline constexpr int kTraceDivergent = 1;  // diff found a divergent event
inline constexpr int kTraceBadInput = 2;   // a file is unreadable or not a valid trace

// Adds the `trace` subcommand to `app`. When `trace dump` or `trace diff`
// runs, its callback ends parsing by throwing CLI::RuntimeError with the
// exit code above, so CLI11_PARSE in main returns that code.
void add_trace_command(CLI::App& app);

// The subcommands' bodies: output on `out`, the reader's message on `err`.
int trace_dump(const std::string& path, std::ostream& out, std::ostream& err);
int trace_diff(const std::string& path_a, const std::string& path_b, std::ostream& out,
               std::ostream& err);

}  // namespace aerov::cli
