#include "traces/trace_dump.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace aerov::traces {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hex_bytes(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 0xf];
  }
  return s;
}

std::string bytes_text(std::span<const uint8_t> b) {
  if (b.empty()) return "-";
  if (b.size() <= kDumpFullBytes) return hex_bytes(b.data(), b.size());
  char hash[24];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a64(b)));
  return "len:" + std::to_string(b.size()) + ",head:" + hex_bytes(b.data(), kDumpHeadBytes) +
         ",fnv1a64:" + hash;
}

// Printable ASCII as is, everything else escaped: the line stays one line
// and the same bytes always print the same way.
std::string quoted(std::string_view text) {
  std::string s = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    } else {
      s += static_cast<char>(c);
    }
  }
  return s + "\"";
}

std::string field_text(const EventView& e, size_t i) {
  switch (e.fields[i].type) {
    case FieldType::kU8: return std::to_string(e.number(i));
    case FieldType::kU16:
    case FieldType::kU32:
    case FieldType::kU64: return hex(e.number(i));
    case FieldType::kBytes: return bytes_text(e.bytes(i));
    case FieldType::kText:
      return quoted(std::string_view(reinterpret_cast<const char*>(e.bytes(i).data()), e.fields[i].length));
  }
  return "?";
}

std::map<uint16_t, const KindSpec*> index_table(const Trace& trace) {
  std::map<uint16_t, const KindSpec*> index;
  for (const KindSpec& spec : trace.table) index.emplace(spec.kind, &spec);
  return index;
}

}  // namespace

std::string event_line(const KindSpec* spec, const EventView& event) {
  std::string line = "t=" + std::to_string(event.time_cycles) + " ";
  if (spec == nullptr || event.undescribed || event.fields.size() != spec->fields.size()) {
    return line + "kind" + std::to_string(event.kind) + " raw=" + bytes_text(event.raw());
  }
  line += spec->name;
  for (size_t i = 0; i < spec->fields.size(); ++i) {
    line += " " + spec->fields[i].name + "=" + field_text(event, i);
  }
  return line;
}

std::vector<std::string> event_lines(const Trace& trace) {
  const auto index = index_table(trace);
  std::vector<std::string> lines;
  lines.reserve(trace.events.size());
  for (const EventView& e : trace.events) {
    const auto it = index.find(e.kind);
    lines.push_back(event_line(it == index.end() ? nullptr : it->second, e));
  }
  return lines;
}

std::string dump_trace(const Trace& trace) {
  const Provenance& p = trace.provenance;
  std::string out = "aerov-trace v" + std::to_string(trace.version_major) + "." +
                    std::to_string(trace.version_minor) + "\n";
  out += "seed " + hex(p.root_seed) + "\n";
  out += "scenario " + quoted(p.scenario) + "\n";
  out += "commit " + quoted(p.commit) + "\n";
  out += "config " + quoted(p.config_json) + "\n";
  for (const Device& d : p.devices) {
    char bdf[16];
    std::snprintf(bdf, sizeof bdf, "%02x:%02x.%u", d.bus, d.slot, static_cast<unsigned>(d.function));
    out += "device " + std::to_string(d.id) + " " + quoted(d.type) + " " + bdf + "\n";
  }
  for (const KindSpec& spec : trace.table) {
    out += "kind " + std::to_string(spec.kind) + " " + quoted(spec.name);
    for (const FieldSpec& f : spec.fields) {
      out += " " + quoted(f.name) + ":" + std::string(field_type_name(f.type));
    }
    out += "\n";
  }
  for (const std::string& line : event_lines(trace)) out += line + "\n";
  out += "end events=" + std::to_string(trace.events.size()) + " hash=" + hex(trace.record_hash) +
         "\n";
  return out;
}

TraceDiff diff_traces(const Trace& a, const Trace& b) {
  TraceDiff d;
  d.events_a = a.events.size();
  d.events_b = b.events.size();
  d.provenance_differs = !(a.provenance == b.provenance);
  const std::vector<std::string> la = event_lines(a);
  const std::vector<std::string> lb = event_lines(b);
  const size_t n = std::max(la.size(), lb.size());
  for (size_t i = 0; i < n; ++i) {
    if (i < la.size() && i < lb.size() && la[i] == lb[i]) continue;
    d.identical = false;
    d.index = i;
    d.line_a = i < la.size() ? la[i] : "(end of trace)";
    d.line_b = i < lb.size() ? lb[i] : "(end of trace)";
    if (i < la.size()) d.time_a = a.events[i].time_cycles;
    if (i < lb.size()) d.time_b = b.events[i].time_cycles;
    break;
  }
  return d;
}

std::string TraceDiff::report() const {
  std::string out;
  if (provenance_differs) out += "note: provenance differs (seed, scenario, commit, config or devices)\n";
  if (identical) return out + "identical (" + std::to_string(events_a) + " events)\n";
  const uint64_t t = time_a ? *time_a : *time_b;
  out += "first divergence at event " + std::to_string(index) + " (t=" + std::to_string(t) + ")\n";
  out += "  a: " + line_a + "\n";
  out += "  b: " + line_b + "\n";
  return out;
}

}  // namespace aerov::traces
