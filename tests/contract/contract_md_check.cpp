#include "contract_md_check.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace aerov::contract_check {
namespace {

using nlohmann::json;

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

bool is_table_line(const std::string& line) {
  const std::string t = trim(line);
  return !t.empty() && t.front() == '|';
}

// "| a | b |" -> {"a", "b"}
std::vector<std::string> split_row(const std::string& line) {
  std::string t = trim(line);
  if (!t.empty() && t.front() == '|') t.erase(0, 1);
  if (!t.empty() && t.back() == '|') t.pop_back();
  std::vector<std::string> cells;
  std::istringstream in(t);
  std::string cell;
  while (std::getline(in, cell, '|')) cells.push_back(trim(cell));
  return cells;
}

bool is_separator_row(const std::vector<std::string>& cells) {
  static const std::regex dashes(R"(^:?-+:?$)");
  return !cells.empty() && std::all_of(cells.begin(), cells.end(), [](const std::string& c) {
    return std::regex_match(c, dashes);
  });
}

// "## 3. Common configuration" -> "Common configuration"; "" if not a level-2 heading.
std::optional<std::string> level2_heading(const std::string& line) {
  if (line.rfind("## ", 0) != 0) return std::nullopt;
  static const std::regex numbered(R"(^\d+\.\s+)");
  return std::regex_replace(trim(line.substr(3)), numbered, "");
}

std::string strip_backticks(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '`'), s.end());
  return trim(s);
}

// "0x1AF4" or "256" -> value; nullopt for anything else.
std::optional<unsigned long long> parse_number(const std::string& raw) {
  static const std::regex hex(R"(^0[xX][0-9A-Fa-f]+$)");
  static const std::regex dec(R"(^[0-9]+$)");
  const std::string s = trim(raw);
  if (std::regex_match(s, hex)) return std::stoull(s.substr(2), nullptr, 16);
  if (std::regex_match(s, dec)) return std::stoull(s, nullptr, 10);
  return std::nullopt;
}

// True if both strings are numbers (hex or decimal) with the same value.
bool same_number(const std::string& a, const std::string& b) {
  const auto x = parse_number(a);
  const auto y = parse_number(b);
  return x && y && *x == *y;
}

// A JSON scalar as the text it would be written as in the markdown.
std::string json_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string difference(const std::string& where, const std::string& md, const std::string& js) {
  return where + ": contract.md has '" + md + "', JSON has '" + js + "'";
}

const std::string kNotStated = "(not stated)";

void expect_number(std::vector<std::string>& errors, const std::string& where,
                   const std::optional<std::string>& md, const json& js) {
  const std::string js_text = json_text(js);
  if (!md) {
    errors.push_back(difference(where, kNotStated, js_text));
    return;
  }
  if (!same_number(*md, js_text)) errors.push_back(difference(where, *md, js_text));
}

void expect_text(std::vector<std::string>& errors, const std::string& where,
                 const std::optional<std::string>& md, const std::string& js) {
  if (!md) {
    errors.push_back(difference(where, kNotStated, js));
  } else if (*md != js) {
    errors.push_back(difference(where, *md, js));
  }
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string join(const std::set<std::string>& items) {
  return join(std::vector<std::string>(items.begin(), items.end()));
}

// Queues in the canonical form used in contract.md: "rxq (0): 256, txq (1): 256".
using Queue = std::tuple<std::string, unsigned long long, unsigned long long>;  // name, index, size

std::string queues_text(const std::vector<Queue>& queues) {
  std::vector<std::string> parts;
  for (const auto& [name, index, size] : queues) {
    parts.push_back(name + " (" + std::to_string(index) + "): " + std::to_string(size));
  }
  return join(parts);
}

std::vector<Queue> json_queues(const json& device) {
  std::vector<Queue> queues;
  for (const auto& q : device.at("queues")) {
    queues.emplace_back(q.at("name").get<std::string>(), q.at("index").get<unsigned long long>(),
                        q.at("size").get<unsigned long long>());
  }
  return queues;
}

// Every match of `re` in `text` as (name, index, size) from groups 1..3.
std::vector<Queue> regex_queues(const std::string& text, const std::regex& re) {
  std::vector<Queue> queues;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    queues.emplace_back((*it)[1].str(), std::stoull((*it)[2].str()), std::stoull((*it)[3].str()));
  }
  return queues;
}

// "net" for net's only function, "input-mouse" for a function of input.
std::string function_key(const json& device, const json& function) {
  const auto name = device.at("name").get<std::string>();
  const auto role = function.at("role").get<std::string>();
  return role == name ? name : name + "-" + role;
}

// First match of `<key> = <value_pattern>` (key not part of a longer word or
// of a dashed name); returns the capture groups after the key.
std::optional<std::smatch> find_key_value(const std::string& text, const std::string& key,
                                          const std::string& value_pattern) {
  const std::regex re("(?:^|[^A-Za-z0-9_-])" + key + " = " + value_pattern);
  std::smatch m;
  if (std::regex_search(text, m, re)) return m;
  return std::nullopt;
}

std::optional<std::string> group(const std::optional<std::smatch>& m, size_t index) {
  if (!m) return std::nullopt;
  return (*m)[index].str();
}

// VIRTIO_F_X -> X, VIRTIO_BLK_F_X -> BLK_X, VIRTIO_NET_F_X -> NET_X
const std::regex kFeatureName(R"(VIRTIO_(?:(BLK|NET)_)?F_([A-Z0-9_]+))");
const std::regex kFeatureWithBit(R"(VIRTIO_(?:(BLK|NET)_)?F_([A-Z0-9_]+) \(bit (\d+)\))");

std::string feature_key(const std::smatch& m) {
  return m[1].matched ? m[1].str() + "_" + m[2].str() : m[2].str();
}

struct FeatureClauses {
  std::set<std::string> offered;
  std::set<std::string> never;
};

// "Offered: A, B. Never offered: C, D." -> {A, B}, {C, D} (JSON feature names).
FeatureClauses feature_clauses(const std::string& text) {
  static const std::regex clause(R"((Never offered|Offered): ([^.]*)\.)");
  FeatureClauses result;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), clause);
       it != std::sregex_iterator(); ++it) {
    auto& target = (*it)[1].str() == "Offered" ? result.offered : result.never;
    const std::string body = (*it)[2].str();
    for (auto f = std::sregex_iterator(body.begin(), body.end(), kFeatureName);
         f != std::sregex_iterator(); ++f) {
      target.insert(feature_key(*f));
    }
  }
  return result;
}

std::set<std::string> json_name_set(const json& list) {
  std::set<std::string> names;
  for (const auto& n : list) names.insert(n.get<std::string>());
  return names;
}

const MdRule* find_rule(const std::vector<MdRule>& rules, const std::string& id) {
  for (const auto& r : rules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// --- Identifiers table -------------------------------------------------------

void check_identifiers(const std::string& md, const json& contract,
                       std::vector<std::string>& errors) {
  const MdTable table = parse_table_in_section(md, "Identifiers");
  if (table.header.empty()) {
    errors.push_back("Identifiers: no table found in contract.md");
    return;
  }
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < table.header.size(); ++i) column[table.header[i]] = i;

  std::map<std::string, const std::vector<std::string>*> md_rows;
  for (const auto& row : table.rows) {
    if (row.empty()) continue;
    if (!md_rows.emplace(row[0], &row).second) {
      errors.push_back("Identifiers: row '" + row[0] + "' appears twice in contract.md");
    }
  }

  std::set<std::string> json_keys;
  for (const auto& device : contract.at("devices")) {
    const json& pci = device.at("pci");
    const json& windows = device.at("windows");
    const json& cls = pci.at("class");
    for (const auto& function : device.at("functions")) {
      const std::string key = function_key(device, function);
      json_keys.insert(key);
      const auto found = md_rows.find(key);
      if (found == md_rows.end()) {
        errors.push_back("Identifiers: row '" + key + "' missing from contract.md");
        continue;
      }
      const auto& row = *found->second;
      auto cell = [&](const std::string& name) -> std::optional<std::string> {
        const auto c = column.find(name);
        if (c == column.end() || c->second >= row.size()) return std::nullopt;
        return strip_backticks(row[c->second]);
      };
      const std::string where = "Identifiers " + key + ", ";

      expect_number(errors, where + "PCI function", cell("PCI function"), function.at("function"));
      expect_number(errors, where + "Virtio type", cell("Virtio type"), device.at("virtio_type"));
      expect_number(errors, where + "Device ID", cell("Device ID"), pci.at("device_id"));
      expect_number(errors, where + "Subsystem vendor", cell("Subsystem vendor"),
                    pci.at("subsystem_vendor_id"));
      expect_number(errors, where + "Subsystem ID", cell("Subsystem ID"),
                    function.at("subsystem_id"));
      expect_number(errors, where + "Revision", cell("Revision"), pci.at("revision"));

      // Class "0x01/0x00/0x00": three numbers.
      {
        const std::vector<std::string> js_parts = {
            json_text(cls.at("base")), json_text(cls.at("sub")), json_text(cls.at("prog_if"))};
        const std::string js = js_parts[0] + "/" + js_parts[1] + "/" + js_parts[2];
        const auto md_class = cell("Class");
        std::vector<std::string> md_parts;
        if (md_class) {
          std::istringstream in(*md_class);
          std::string part;
          while (std::getline(in, part, '/')) md_parts.push_back(part);
        }
        const bool same = md_parts.size() == 3 && same_number(md_parts[0], js_parts[0]) &&
                          same_number(md_parts[1], js_parts[1]) &&
                          same_number(md_parts[2], js_parts[2]);
        if (!same) errors.push_back(difference(where + "Class", md_class.value_or(kNotStated), js));
      }

      // Queues "rxq (0): 256, txq (1): 256".
      {
        static const std::regex queue_re(R"(([A-Za-z0-9_]+) \((\d+)\): (\d+))");
        const std::string js = queues_text(json_queues(device));
        const auto md_queues = cell("Queues");
        if (!md_queues) {
          errors.push_back(difference(where + "Queues", kNotStated, js));
        } else if (queues_text(regex_queues(*md_queues, queue_re)) != js) {
          errors.push_back(difference(where + "Queues", *md_queues, js));
        }
      }

      expect_text(errors, where + "Hardware ID", cell("Hardware ID"),
                  function.at("hardware_id").get<std::string>());
      expect_text(errors, where + "INF", cell("INF"), windows.at("inf").get<std::string>());
      expect_text(errors, where + "Service", cell("Service"),
                  windows.at("service").get<std::string>());
      expect_text(errors, where + "Setup class", cell("Setup class"),
                  windows.at("setup_class").get<std::string>());
      expect_text(errors, where + "Setup class GUID", cell("Setup class GUID"),
                  windows.at("setup_class_guid").get<std::string>());
      expect_text(errors, where + "Start type", cell("Start type"),
                  windows.at("start_type").get<std::string>());
      expect_text(errors, where + "Load order group", cell("Load order group"),
                  windows.value("load_order_group", std::string("—")));
    }
  }
  for (const auto& [key, row] : md_rows) {
    if (json_keys.count(key) == 0) {
      errors.push_back("Identifiers: row '" + key + "' in contract.md but not in the JSON");
    }
  }
}

// --- numbers stated in rule rows ----------------------------------------------

void check_rule_numbers(const std::string& md, const json& contract,
                        std::vector<std::string>& errors) {
  const auto rules = parse_rules(md);
  auto rule_text = [&](const std::string& id) -> std::optional<std::string> {
    const MdRule* r = find_rule(rules, id);
    if (r == nullptr) {
      errors.push_back(id + ": rule missing from contract.md");
      return std::nullopt;
    }
    return r->text;
  };
  const json& devices = contract.at("devices");

  // PCI-1: vendor ID and subsystem vendor ID.
  if (const auto text = rule_text("PCI-1")) {
    static const std::regex re(R"((subsystem )?vendor ID (0x[0-9A-Fa-f]+))", std::regex::icase);
    std::optional<std::string> vendor, subsystem_vendor;
    for (auto it = std::sregex_iterator(text->begin(), text->end(), re);
         it != std::sregex_iterator(); ++it) {
      auto& slot = (*it)[1].matched ? subsystem_vendor : vendor;
      if (!slot) slot = (*it)[2].str();
    }
    expect_number(errors, "PCI-1 vendor ID", vendor, contract.at("vendor_id"));
    for (const auto& d : devices) {
      const auto name = d.at("name").get<std::string>();
      expect_number(errors, "PCI-1 " + name + " vendor ID", vendor, d.at("pci").at("vendor_id"));
      expect_number(errors, "PCI-1 " + name + " subsystem vendor ID", subsystem_vendor,
                    d.at("pci").at("subsystem_vendor_id"));
    }
  }

  // PCI-2: "blk = 0x1042 (type 2)".
  if (const auto text = rule_text("PCI-2")) {
    for (const auto& d : devices) {
      const auto name = d.at("name").get<std::string>();
      const auto m = find_key_value(*text, name, R"((0x[0-9A-Fa-f]+) \(type (\d+)\))");
      expect_number(errors, "PCI-2 " + name + " device ID", group(m, 1), d.at("pci").at("device_id"));
      expect_number(errors, "PCI-2 " + name + " virtio type", group(m, 2), d.at("virtio_type"));
    }
  }

  // PCI-3: "revision ID 0x01".
  if (const auto text = rule_text("PCI-3")) {
    static const std::regex re(R"(revision ID (0x[0-9A-Fa-f]+))", std::regex::icase);
    std::smatch m;
    std::optional<std::string> revision;
    if (std::regex_search(*text, m, re)) revision = m[1].str();
    expect_number(errors, "PCI-3 revision", revision, contract.at("pci_revision"));
    for (const auto& d : devices) {
      expect_number(errors, "PCI-3 " + d.at("name").get<std::string>() + " revision", revision,
                    d.at("pci").at("revision"));
    }
  }

  // VER-1: INFs match on "&REV_01".
  if (const auto text = rule_text("VER-1")) {
    static const std::regex re(R"(&REV_([0-9A-Fa-f]{2}))");
    std::smatch m;
    std::optional<std::string> revision;
    if (std::regex_search(*text, m, re)) revision = "0x" + m[1].str();
    expect_number(errors, "VER-1 INF revision", revision, contract.at("pci_revision"));
  }

  // PCI-4: "input-mouse = 0x0011".
  if (const auto text = rule_text("PCI-4")) {
    for (const auto& d : devices) {
      for (const auto& f : d.at("functions")) {
        const auto key = function_key(d, f);
        expect_number(errors, "PCI-4 " + key + " subsystem ID",
                      group(find_key_value(*text, key, "(0x[0-9A-Fa-f]+)"), 1),
                      f.at("subsystem_id"));
      }
    }
  }

  // PCI-6: "function 1 is the mouse" for multi-function devices.
  if (const auto text = rule_text("PCI-6")) {
    for (const auto& d : devices) {
      if (d.at("functions").size() < 2) continue;
      for (const auto& f : d.at("functions")) {
        const auto role = f.at("role").get<std::string>();
        const std::regex re("function (\\d+)(?:, which may be absent,)? is the " + role + "\\b");
        std::smatch m;
        std::optional<std::string> number;
        if (std::regex_search(*text, m, re)) number = m[1].str();
        expect_number(errors, "PCI-6 " + function_key(d, f) + " function number", number,
                      f.at("function"));
      }
    }
  }

  // PCI-7: "blk = 0x01/0x00/0x00".
  if (const auto text = rule_text("PCI-7")) {
    for (const auto& d : devices) {
      const auto name = d.at("name").get<std::string>();
      const json& cls = d.at("pci").at("class");
      const auto m = find_key_value(*text, name,
                                    "(0x[0-9A-Fa-f]+)/(0x[0-9A-Fa-f]+)/(0x[0-9A-Fa-f]+)");
      expect_number(errors, "PCI-7 " + name + " class base", group(m, 1), cls.at("base"));
      expect_number(errors, "PCI-7 " + name + " class sub", group(m, 2), cls.at("sub"));
      expect_number(errors, "PCI-7 " + name + " class prog-if", group(m, 3), cls.at("prog_if"));
    }
  }

  // VQ-3: "snd = [64, 64, 256, 64]".
  if (const auto text = rule_text("VQ-3")) {
    for (const auto& d : devices) {
      const auto name = d.at("name").get<std::string>();
      std::vector<std::string> js_sizes;
      for (const auto& q : d.at("queues")) js_sizes.push_back(std::to_string(q.at("size").get<int>()));
      const std::string js = "[" + join(js_sizes) + "]";
      const auto m = find_key_value(*text, name, R"(\[([0-9, ]*)\])");
      if (!m) {
        errors.push_back(difference("VQ-3 " + name + " queue sizes", kNotStated, js));
        continue;
      }
      std::vector<std::string> md_sizes;
      std::istringstream in((*m)[1].str());
      std::string size;
      while (std::getline(in, size, ',')) md_sizes.push_back(trim(size));
      const std::string md_text = "[" + join(md_sizes) + "]";
      if (md_text != js) errors.push_back(difference("VQ-3 " + name + " queue sizes", md_text, js));
    }
  }

  // Device queue rules: "rxq (index 0, size 256)".
  static const std::regex queue_re(R"(([A-Za-z0-9_]+) \(index (\d+), size (\d+)\))");
  const std::vector<std::pair<std::string, std::string>> queue_rules = {
      {"BLK-1", "blk"}, {"NET-1", "net"}, {"INP-1", "input"}, {"SND-1", "snd"}};
  for (const auto& [id, name] : queue_rules) {
    const auto text = rule_text(id);
    if (!text) continue;
    for (const auto& d : devices) {
      if (d.at("name") != name) continue;
      const std::string md_q = queues_text(regex_queues(*text, queue_re));
      const std::string js_q = queues_text(json_queues(d));
      if (md_q != js_q) errors.push_back(difference(id + " " + name + " queues", md_q, js_q));
    }
  }

  // Feature bits stated anywhere as "VIRTIO_..._F_X (bit N)".
  const json& bits = contract.at("feature_bits");
  for (const auto& r : rules) {
    for (auto it = std::sregex_iterator(r.text.begin(), r.text.end(), kFeatureWithBit);
         it != std::sregex_iterator(); ++it) {
      const std::string key = feature_key(*it);
      const std::string where = r.id + " feature " + key + " bit";
      if (!bits.contains(key)) {
        errors.push_back(difference(where, (*it)[3].str(), "(not listed)"));
      } else {
        expect_number(errors, where, (*it)[3].str(), bits.at(key));
      }
    }
  }

  // Offered / never-offered feature sets.
  FeatureClauses common;
  if (const auto text = rule_text("FEAT-1")) common = feature_clauses(*text);
  const std::vector<std::pair<std::string, std::string>> feature_rules = {
      {"BLK-2", "blk"}, {"NET-2", "net"}, {"INP-1", "input"}, {"SND-1", "snd"}};
  for (const auto& [id, name] : feature_rules) {
    const auto text = rule_text(id);
    if (!text) continue;
    for (const auto& d : devices) {
      if (d.at("name") != name) continue;
      const FeatureClauses own = feature_clauses(*text);
      const auto js_offered = json_name_set(d.at("features_offered"));
      const auto js_forbidden = json_name_set(d.at("features_forbidden"));
      if (own.offered != js_offered) {
        errors.push_back(difference(id + " " + name + " offered features", join(own.offered),
                                  join(js_offered)));
      }
      std::set<std::string> md_forbidden = own.never;
      md_forbidden.insert(common.never.begin(), common.never.end());
      if (md_forbidden != js_forbidden) {
        errors.push_back(difference(id + " + FEAT-1 " + name + " never-offered features",
                                  join(md_forbidden), join(js_forbidden)));
      }
      for (const auto& f : common.offered) {
        if (js_offered.count(f) == 0) {
          errors.push_back("FEAT-1 " + name + ": contract.md requires " + f +
                           ", JSON does not offer it");
        }
      }
    }
  }
}

}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<MdRule> parse_rules(const std::string& md) {
  static const std::regex id_re(R"(^[A-Z]+-[0-9]+$)");
  static const std::regex title_re(R"(^\*\*([^*]+)\*\*)");
  std::vector<MdRule> rules;
  std::string section;
  for (const auto& line : split_lines(md)) {
    if (const auto heading = level2_heading(line)) {
      section = *heading;
      continue;
    }
    if (!is_table_line(line)) continue;
    const auto cells = split_row(line);
    if (cells.size() != 3 || !std::regex_match(cells[0], id_re)) continue;
    MdRule rule{cells[0], cells[1], section, "", cells[2]};
    std::smatch m;
    if (std::regex_search(rule.text, m, title_re)) {
      rule.title = trim(m[1].str());
      if (!rule.title.empty() && rule.title.back() == '.') rule.title.pop_back();
    }
    rules.push_back(rule);
  }
  return rules;
}

MdTable parse_table_in_section(const std::string& md, const std::string& heading) {
  MdTable table;
  bool in_section = false;
  bool in_table = false;
  for (const auto& line : split_lines(md)) {
    if (const auto h = level2_heading(line)) {
      if (in_section) break;
      in_section = (*h == heading);
      continue;
    }
    if (!in_section) continue;
    if (!is_table_line(line)) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    const auto cells = split_row(line);
    if (table.header.empty()) {
      table.header = cells;
    } else if (!is_separator_row(cells)) {
      table.rows.push_back(cells);
    }
  }
  return table;
}

std::vector<std::string> check_rules(const std::string& md, const json& contract) {
  std::vector<std::string> errors;
  const auto md_rules = parse_rules(md);

  std::vector<std::string> md_ids;
  std::set<std::string> seen;
  for (const auto& r : md_rules) {
    if (!seen.insert(r.id).second) {
      errors.push_back("rule " + r.id + ": appears twice in contract.md");
    } else {
      md_ids.push_back(r.id);
    }
  }

  std::vector<std::string> json_ids;
  std::set<std::string> json_seen;
  for (const auto& jr : contract.at("rules")) {
    const auto id = jr.at("id").get<std::string>();
    json_ids.push_back(id);
    json_seen.insert(id);
    const MdRule* r = find_rule(md_rules, id);
    if (r == nullptr) {
      errors.push_back("rule " + id + ": missing from contract.md");
      continue;
    }
    const std::string where = "rule " + id + " ";
    expect_text(errors, where + "kind", r->kind, jr.at("kind").get<std::string>());
    expect_text(errors, where + "section", r->section, jr.at("section").get<std::string>());
    expect_text(errors, where + "title", r->title, jr.at("title").get<std::string>());
  }
  for (const auto& id : md_ids) {
    if (json_seen.count(id) == 0) {
      errors.push_back("rule " + id + ": in contract.md but not in the JSON");
    }
  }
  if (errors.empty() && md_ids != json_ids) {
    errors.push_back("rules: contract.md and the JSON list the rules in a different order");
  }
  return errors;
}

std::vector<std::string> check_identifiers_and_numbers(const std::string& md,
                                                       const json& contract) {
  std::vector<std::string> errors;
  check_identifiers(md, contract, errors);
  check_rule_numbers(md, contract, errors);
  return errors;
}

}  // namespace aerov::contract_check
