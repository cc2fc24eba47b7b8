// The `aero-virtio` command. Subcommands only wire modules together.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "aerov/contract/windows_device_contract.hpp"
#include "conformance/report.hpp"

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + path);
}

int conform(const std::string& filter, const std::string& json_path,
            const std::string& junit_path, bool verbose) {
  using namespace aerov::conformance;
  const Report r = run_checks(all_checks(), filter);
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
  bool verbose = false;
  auto* conform_cmd =
      app.add_subcommand("conform", "Run the conformance checks and print the rule table");
  conform_cmd->add_option("--filter", filter, "Run only checks whose name contains this text");
  conform_cmd->add_option("--json", json_path, "Also write the report as JSON to this file");
  conform_cmd->add_option("--junit", junit_path, "Also write a JUnit XML report to this file");
  conform_cmd->add_flag("-v,--verbose", verbose, "List every check, not only failures");

  auto* rules_cmd = app.add_subcommand("rules", "List the contract's rule IDs");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*conform_cmd) return conform(filter, json_path, junit_path, verbose);
    if (*rules_cmd) list_rules();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "aero-virtio: " << e.what() << "\n";
    return 2;
  }
}
