// docs/contract.md vs docs/windows-device-contract.json.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "contract_md_check.hpp"

namespace {

using aerov::contract_check::check_identifiers_and_numbers;
using aerov::contract_check::check_rules;
using aerov::contract_check::parse_rules;
using aerov::contract_check::read_file;
using Errors = std::vector<std::string>;

const std::string& contract_md() {
  static const std::string text = read_file(AEROV_CONTRACT_MD);
  return text;
}

const nlohmann::json& contract_json() {
  static const nlohmann::json j = nlohmann::json::parse(read_file(AEROV_CONTRACT_JSON));
  return j;
}

// Replaces the single occurrence of `from`; fails the test if `from` is absent
// or ambiguous, so a corruption test cannot silently corrupt nothing.
std::string replace_once(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  REQUIRE(text.find(from, pos + 1) == std::string::npos);
  text.replace(pos, from.size(), to);
  return text;
}

std::string remove_line_starting(std::string text, const std::string& prefix) {
  const auto pos = text.find("\n" + prefix);
  REQUIRE(pos != std::string::npos);
  const auto end = text.find('\n', pos + 1);
  REQUIRE(end != std::string::npos);
  text.erase(pos, end - pos);
  return text;
}

}  // namespace

TEST_CASE("contract.md and the JSON agree on identifiers and numbers",
          "[contract][PCI-1][PCI-2][PCI-3][PCI-4][PCI-6][PCI-7][VQ-3][FEAT-1]"
          "[BLK-1][BLK-2][NET-1][NET-2][INP-1][SND-1]") {
  CHECK(check_identifiers_and_numbers(contract_md(), contract_json()) == Errors{});
}

TEST_CASE("contract.md identifier check reports a corrupted device ID and queue sizes",
          "[contract][PCI-2][VQ-3]") {
  std::string md = contract_md();
  md = replace_once(md, "blk = 0x1042 (type 2)", "blk = 0x1043 (type 2)");
  md = replace_once(md, "| rxq (0): 256, txq (1): 256 |", "| rxq (0): 256, txq (1): 512 |");
  md = replace_once(md, "snd = [64, 64, 256, 64]", "snd = [64, 64, 128, 64]");

  const Errors expected = {
      "Identifiers net, Queues: contract.md has 'rxq (0): 256, txq (1): 512', "
      "JSON has 'rxq (0): 256, txq (1): 256'",
      "PCI-2 blk device ID: contract.md has '0x1043', JSON has '0x1042'",
      "VQ-3 snd queue sizes: contract.md has '[64, 64, 128, 64]', JSON has '[64, 64, 256, 64]'",
  };
  CHECK(check_identifiers_and_numbers(md, contract_json()) == expected);
}

TEST_CASE("contract.md identifier check reports corrupted Windows identifiers",
          "[contract][VER-1]") {
  std::string md = contract_md();
  md = replace_once(md, "`PCI\\VEN_1AF4&DEV_1052&SUBSYS_00111AF4&REV_01`",
                    "`PCI\\VEN_1AF4&DEV_1052&SUBSYS_00111AF4&REV_02`");
  md = replace_once(md, "| SERVICE_BOOT_START |", "| SERVICE_DEMAND_START |");

  const Errors expected = {
      "Identifiers blk, Start type: contract.md has 'SERVICE_DEMAND_START', "
      "JSON has 'SERVICE_BOOT_START'",
      "Identifiers input-mouse, Hardware ID: contract.md has "
      "'PCI\\VEN_1AF4&DEV_1052&SUBSYS_00111AF4&REV_02', "
      "JSON has 'PCI\\VEN_1AF4&DEV_1052&SUBSYS_00111AF4&REV_01'",
  };
  CHECK(check_identifiers_and_numbers(md, contract_json()) == expected);
}

TEST_CASE("contract.md feature check reports a wrong bit and a missing offered feature",
          "[contract][FEAT-1][BLK-2][NET-2]") {
  std::string md = contract_md();
  md = replace_once(md, "VIRTIO_BLK_F_FLUSH (bit 9)", "VIRTIO_BLK_F_FLUSH (bit 10)");
  md = replace_once(md, ", VIRTIO_NET_F_STATUS (bit 16). Never offered:", ". Never offered:");

  const Errors expected = {
      "BLK-2 feature BLK_FLUSH bit: contract.md has '10', JSON has '9'",
      "NET-2 net offered features: contract.md has 'NET_MAC, RING_INDIRECT_DESC, VERSION_1', "
      "JSON has 'NET_MAC, NET_STATUS, RING_INDIRECT_DESC, VERSION_1'",
  };
  CHECK(check_identifiers_and_numbers(md, contract_json()) == expected);
}

TEST_CASE("contract.md and the JSON list the same rules with the same kinds", "[contract]") {
  CHECK(check_rules(contract_md(), contract_json()) == Errors{});
  CHECK(parse_rules(contract_md()).size() == contract_json().at("rules").size());
}

TEST_CASE("contract.md rule check reports a changed kind and a missing rule", "[contract]") {
  std::string md = contract_md();
  md = replace_once(md, "| BAR-4 | P |", "| BAR-4 | M |");
  md = remove_line_starting(md, "| DRV-2 |");

  const Errors expected = {
      "rule BAR-4 kind: contract.md has 'M', JSON has 'P'",
      "rule DRV-2: missing from contract.md",
  };
  CHECK(check_rules(md, contract_json()) == expected);
}

TEST_CASE("contract rule list is exactly the fact sheet's IDs, in order", "[contract]") {
  // Rule families of the AERO-W7-VIRTIO v1 fact sheet and how many rules each has.
  const std::vector<std::pair<std::string, int>> families = {
      {"PCI", 7}, {"BAR", 4}, {"CAP", 4}, {"CFG", 5},  {"FEAT", 2}, {"STAT", 4},
      {"Q", 2},   {"NTF", 3}, {"ISR", 2}, {"IRQ", 4},  {"VQ", 9},   {"DMA", 2},
      {"BLK", 8}, {"NET", 7}, {"INP", 9}, {"SND", 8},  {"VER", 2},  {"DRV", 2}};
  std::vector<std::string> expected;
  for (const auto& [prefix, count] : families) {
    for (int i = 1; i <= count; ++i) expected.push_back(prefix + "-" + std::to_string(i));
  }
  std::vector<std::string> ids;
  for (const auto& rule : contract_json().at("rules")) ids.push_back(rule.at("id").get<std::string>());
  CHECK(ids == expected);
}
