// `aero-virtio trace dump|diff`: output and exit codes.
#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <sstream>

#include "cli/trace_command.hpp"
#include "tests/traces/sample_trace.hpp"

using namespace aerov::traces;
using namespace aerov::traces::testing;

namespace {

struct TempTrace {
  std::string path;
  TempTrace(const std::string& name, const std::vector<uint8_t>& bytes)
      : path((std::filesystem::temp_directory_path() / ("aerov_trace_cli_" + name + "_" + std::to_string(::getpid()))).string()) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempTrace() { std::remove(path.c_str()); }
};

int run_app(std::vector<std::string> args) {
  CLI::App app{"test"};
  app.require_subcommand(1);
  aerov::cli::add_trace_command(app);
  std::reverse(args.begin(), args.end());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;  // the callbacks always end parsing with their exit code
}

}  // namespace

TEST_CASE("trace dump prints the canonical dump and exits 0", "[trace]") {
  const TempTrace t("dump", sample_bytes());
  std::ostringstream out, err;
  CHECK(aerov::cli::trace_dump(t.path, out, err) == aerov::cli::kTraceOk);
  CHECK(out.str().rfind("aerov-trace v2.0\n", 0) == 0);
  CHECK(out.str().find("t=1234 mmio_write device=0 bar=0 offset=0x3000 width=2 value=0x1\n") !=
        std::string::npos);
  CHECK(err.str().empty());
  CHECK(run_app({"trace", "dump", t.path}) == 0);
}

TEST_CASE("trace dump of a bad file exits 2 with the reader's message", "[trace]") {
  std::vector<uint8_t> bytes = sample_bytes();
  bytes.resize(100);
  const TempTrace t("bad", bytes);
  std::ostringstream out, err;
  CHECK(aerov::cli::trace_dump(t.path, out, err) == aerov::cli::kTraceBadInput);
  CHECK(out.str().empty());
  CHECK(err.str().find("truncated header at byte 12: ") != std::string::npos);
  CHECK(run_app({"trace", "dump", t.path}) == 2);
  CHECK(run_app({"trace", "dump", t.path + ".missing"}) == 2);
}

TEST_CASE("trace diff exits 0 identical and 1 divergent", "[trace]") {
  std::vector<Event> events = every_kind();
  const TempTrace a("a", write_trace(sample_provenance(), events));
  const TempTrace same("same", write_trace(sample_provenance(), events));
  events[4] = make::doorbell(1234, 0, 1);
  const TempTrace b("b", write_trace(sample_provenance(), events));
  std::ostringstream out, err;
  CHECK(aerov::cli::trace_diff(a.path, same.path, out, err) == aerov::cli::kTraceOk);
  CHECK(out.str() == "identical (14 events)\n");
  out.str("");
  CHECK(aerov::cli::trace_diff(a.path, b.path, out, err) == aerov::cli::kTraceDivergent);
  CHECK(out.str() ==
        "first divergence at event 4 (t=1234)\n"
        "  a: t=1234 doorbell device=0 queue=0x0\n"
        "  b: t=1234 doorbell device=0 queue=0x1\n");
  CHECK(run_app({"trace", "diff", a.path, b.path}) == 1);
  CHECK(run_app({"trace", "diff", a.path, same.path}) == 0);
  CHECK(run_app({"trace", "diff", a.path, a.path + ".missing"}) == 2);
}
