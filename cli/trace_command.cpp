#include "cli/trace_command.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

namespace aerov::cli {

namespace {

bool read_or_report(const std::string& path, traces::Trace* trace, std::ostream& err) {
  traces::ReadResult r = traces::read_trace_file(path);
  if (!r.ok()) {
    err << "aero-virtio: " << path << ": " << r.error->message << "\n";
    return false;
  }
  *trace = std::move(r.trace);
  return true;
}

// Runs a body and turns its result (or an unexpected exception) into the
// RuntimeError that carries the exit code out of CLI11's parse.
template <class Body>
[[noreturn]] void finish_with(Body body) {
  int code = kTraceBadInput;
  try {
    code = body();
  } catch (const std::exception& e) {
    std::cerr << "aero-virtio: " << e.what() << "\n";
  }
  std::cout.flush();
  throw CLI::RuntimeError(code);
}

}  // namespace

int trace_dump(const std::string& path, std::ostream& out, std::ostream& err) {
  traces::Trace trace;
  if (!read_or_report(path, &trace, err)) return kTraceBadInput;
  out << traces::dump_trace(trace);
  return kTraceOk;
}

int trace_diff(const std::string& path_a, const std::string& path_b, std::ostream& out,
               std::ostream& err) {
  traces::Trace a, b;
  if (!read_or_report(path_a, &a, err) || !read_or_report(path_b, &b, err)) return kTraceBadInput;
  const traces::TraceDiff d = traces::diff_traces(a, b);
  out << d.report();
  return d.identical ? kTraceOk : kTraceDivergent;
}

void add_trace_command(CLI::App& app) {
  auto* trace = app.add_subcommand("trace", "Read recorded simulation traces (docs/trace-format.md)");
  trace->require_subcommand(1);

  auto dump_path = std::make_shared<std::string>();
  auto* dump = trace->add_subcommand("dump", "Print a trace in canonical text form, one event per line");
  dump->add_option("file", *dump_path, "Trace file")->required();
  dump->callback([dump_path] {
    finish_with([&] { return trace_dump(*dump_path, std::cout, std::cerr); });
  });

  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto* diff = trace->add_subcommand(
      "diff", "Compare two traces' events; exit 0 identical, 1 divergent, 2 bad input");
  diff->add_option("a", paths->first, "First trace file")->required();
  diff->add_option("b", paths->second, "Second trace file")->required();
  diff->callback([paths] {
    finish_with([&] { return trace_diff(paths->first, paths->second, std::cout, std::cerr); });
  });
}

}  // namespace aerov::cli
