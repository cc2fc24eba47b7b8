// The `aero-virtio` command. Subcommands only wire modules together.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "aerov/contract/windows_device_contract.hpp"
#include "cli/serve_command.hpp"
#include "cli/sim_command.hpp"
#include "cli/trace_command.hpp"
#include "conformance/report.hpp"

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

// One line per check: name, a tab, comma-separated rule IDs.
std::string check_list() {
  std::string out;
  for (const auto& c : aerov::conformance::all_checks()) {
    out += c.name + "\t";
    for (size_t i = 0; i < c.rules.size(); ++i) out += (i ? "," : "") + c.rules[i];
    out += "\n";
  }
  return out;
}

int conform(const std::string& filter, bool exact, const std::string& json_path,
            const std::string& junit_path, bool verbose) {
  using namespace aerov::conformance;
  std::vector<Check> checks = all_checks();
  if (exact) {
    std::erase_if(checks, [&](const Check& c) { return c.name != filter; });
  }
  const Report r = run_checks(checks, exact ? "" : filter);
  print_rule_table(r, std::cout, verbose);
  if (!json_path.empty()) write_file(json_path, to_json(r).dump(2) + "\n");
  if (!junit_path.empty()) write_file(junit_path, to_junit(r));
  if (r.checks.empty()) {
    std::cerr << "aero-virtio: no check matches filter '" << filter << "'\n";
    return 2;
  }
  return r.ok() ? 0 : 1;
}

void list_rules() {
  for (const auto& rule : aerov::contract::kRules) {
    std::cout << rule.id << "\t" << rule.kind << "\t" << rule.section << "\t" << rule.title
              << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aero-virtio: conformance tooling for the AERO-W7-VIRTIO contract"};
  app.require_subcommand(1);

  std::string filter, json_path, junit_path;
  std::string list_file;
  bool verbose = false, exact = false, list = false;
  auto* conform_cmd =
      app.add_subcommand("conform", "Run the conformance checks and print the rule table");
  conform_cmd->add_option("--filter", filter, "Run only checks whose name contains this text");
  conform_cmd->add_option("--json", json_path, "Also write the report as JSON to this file");
  conform_cmd->add_option("--junit", junit_path, "Also write a JUnit XML report to this file");
  conform_cmd->add_flag("--exact", exact, "Match --filter against whole check names");
  conform_cmd->add_flag("--list", list, "List the checks (name, tab, rule IDs) and exit");
  conform_cmd->add_option("--list-file", list_file, "Write that list to this file and exit");
  conform_cmd->add_flag("-v,--verbose", verbose, "List every check, not only failures");

  auto* rules_cmd = app.add_subcommand("rules", "List the contract's rule IDs");
  aerov::cli::add_trace_command(app);
  aerov::cli::add_trace_sim_commands(*app.get_subcommand("trace"));
  const auto run_sim = aerov::cli::add_sim_command(app);
  const auto run_replay = aerov::cli::add_replay_command(app);
  const auto run_serve = aerov::cli::add_serve_command(app);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*conform_cmd && (list || !list_file.empty())) {
      if (list_file.empty()) std::cout << check_list();
      else write_file(list_file, check_list());
      return 0;
    }
    if (*conform_cmd) return conform(filter, exact, json_path, junit_path, verbose);
    if (const int code = run_sim(); code >= 0) return code;
    if (const int code = run_replay(); code >= 0) return code;
    if (const int code = run_serve(); code >= 0) return code;
    if (*rules_cmd) list_rules();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "aero-virtio: " << e.what() << "\n";
    return 2;
  }
}
