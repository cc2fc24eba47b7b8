// Cross-checks docs/contract.md (prose) against
// docs/windows-device-contract.json (machine-readable source of truth).
//
// The checks return human-readable mismatch strings instead of asserting, so
// the tests can feed deliberately corrupted text and prove that a check is
// able to fail and names exactly what is wrong.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aerov::contract_check {

// One `| ID | Kind | text |` row of contract.md.
struct MdRule {
  std::string id;
  std::string kind;
  std::string section;  // heading of the enclosing "## N. ..." section, number stripped
  std::string title;    // the leading **bold** phrase of the text, final '.' stripped
  std::string text;
};

// A markdown table: header cells and body rows (separator row dropped).
struct MdTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string read_file(const std::string& path);

std::vector<MdRule> parse_rules(const std::string& md);

// The first table below the "## <heading>" line (empty table if none).
MdTable parse_table_in_section(const std::string& md, const std::string& heading);

// Rule IDs, kinds, sections, titles and order: contract.md vs JSON "rules".
std::vector<std::string> check_rules(const std::string& md, const nlohmann::json& contract);

// Every number or identifier stated by both documents: the Identifiers table
// and the values spelled out in rule rows (PCI-1..4, PCI-6, PCI-7, VER-1, VQ-3,
// queue rules, feature bits, offered/never-offered feature sets).
std::vector<std::string> check_identifiers_and_numbers(const std::string& md,
                                                       const nlohmann::json& contract);

}  // namespace aerov::contract_check
