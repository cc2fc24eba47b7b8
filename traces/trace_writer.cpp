#include "traces/trace_writer.hpp"

#include <set>
#include <stdexcept>

namespace aerov::traces {

namespace {

// File mode writes in chunks of this size, so a long run is not held in memory.
constexpr size_t kFileChunkBytes = 64 * 1024;

void put_string(std::vector<uint8_t>& out, const std::string& s, const char* what) {
  if (s.size() > UINT32_MAX) throw std::invalid_argument(std::string(what) + " longer than 4 GiB");
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

void check_table(const std::vector<KindSpec>& table) {
  if (table.size() > UINT16_MAX) throw std::invalid_argument("event table has too many kinds");
  std::set<uint16_t> kinds;
  for (const KindSpec& spec : table) {
    if (spec.kind == static_cast<uint16_t>(EventKind::kEnd)) {
      throw std::invalid_argument("event kind 0 is the end record");
    }
    if (!kinds.insert(spec.kind).second) {
      throw std::invalid_argument("event kind " + std::to_string(spec.kind) + " described twice");
    }
    if (spec.name.empty()) throw std::invalid_argument("event kind without a name");
    if (spec.fields.size() > UINT8_MAX) throw std::invalid_argument("event kind with > 255 fields");
    const KindSpec* known = find_v1_kind(spec.kind);
    if (known != nullptr && !(*known == spec)) {
      throw std::invalid_argument("event kind " + std::to_string(spec.kind) +
                                  " differs from its v1 description");
    }
  }
}

uint64_t field_max(FieldType type) {
  switch (type) {
    case FieldType::kU8: return UINT8_MAX;
    case FieldType::kU16: return UINT16_MAX;
    case FieldType::kU32: return UINT32_MAX;
    default: return UINT64_MAX;
  }
}

void put_field(std::vector<uint8_t>& out, const FieldValue& f) {
  if (is_integer(f.type) && f.number > field_max(f.type)) {
    throw std::invalid_argument("trace field value does not fit its type");
  }
  switch (f.type) {
    case FieldType::kU8: put_u8(out, static_cast<uint8_t>(f.number)); break;
    case FieldType::kU16: put_u16(out, static_cast<uint16_t>(f.number)); break;
    case FieldType::kU32: put_u32(out, static_cast<uint32_t>(f.number)); break;
    case FieldType::kU64: put_u64(out, f.number); break;
    case FieldType::kBytes:
    case FieldType::kText:
      if (f.bytes.size() > UINT32_MAX) throw std::invalid_argument("trace field longer than 4 GiB");
      put_u32(out, static_cast<uint32_t>(f.bytes.size()));
      out.insert(out.end(), f.bytes.begin(), f.bytes.end());
      break;
  }
}

}  // namespace

TraceWriter::TraceWriter(std::vector<uint8_t>& out, const Provenance& provenance,
                         const std::vector<KindSpec>& table)
    : out_(&out), table_(table) {
  check_table(table_);
  write_header(provenance);
}

TraceWriter::TraceWriter(const std::string& path, const Provenance& provenance,
                         const std::vector<KindSpec>& table)
    : file_(path, std::ios::binary | std::ios::trunc), path_(path), table_(table) {
  if (!file_) throw std::runtime_error("cannot open " + path + " for writing");
  check_table(table_);
  write_header(provenance);
}

TraceWriter::~TraceWriter() {
  // An unfinished trace stays unfinished (readers report the missing end
  // record); only bytes already accepted are written out.
  if (!out_ && file_.is_open()) {
    file_.write(reinterpret_cast<const char*>(pending_.data()),
                static_cast<std::streamsize>(pending_.size()));
  }
}

void TraceWriter::emit(const std::vector<uint8_t>& bytes) {
  hash_.add(bytes);
  if (out_) {
    out_->insert(out_->end(), bytes.begin(), bytes.end());
    return;
  }
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  if (pending_.size() >= kFileChunkBytes) flush_file();
}

void TraceWriter::flush_file() {
  file_.write(reinterpret_cast<const char*>(pending_.data()),
              static_cast<std::streamsize>(pending_.size()));
  pending_.clear();
  if (!file_) throw std::runtime_error("cannot write " + path_);
}

void TraceWriter::write_header(const Provenance& p) {
  std::vector<uint8_t> body;
  put_u64(body, p.root_seed);
  put_string(body, p.scenario, "scenario");
  put_string(body, p.commit, "commit");
  put_string(body, p.config_json, "config");
  if (p.devices.size() > UINT8_MAX + 1u) throw std::invalid_argument("more than 256 devices");
  put_u16(body, static_cast<uint16_t>(p.devices.size()));
  std::set<uint8_t> ids;
  for (const Device& d : p.devices) {
    if (!ids.insert(d.id).second) throw std::invalid_argument("device id used twice");
    if (d.slot > 31 || d.function > 7) throw std::invalid_argument("device BDF out of range");
    put_u8(body, d.id);
    put_string(body, d.type, "device type");
    put_u8(body, d.bus);
    put_u8(body, d.slot);
    put_u8(body, d.function);
  }
  put_u16(body, static_cast<uint16_t>(table_.size()));
  for (const KindSpec& spec : table_) {
    put_u16(body, spec.kind);
    put_string(body, spec.name, "kind name");
    put_u8(body, static_cast<uint8_t>(spec.fields.size()));
    for (const FieldSpec& f : spec.fields) {
      put_string(body, f.name, "field name");
      put_u8(body, static_cast<uint8_t>(f.type));
    }
  }
  if (body.size() > UINT32_MAX) throw std::invalid_argument("trace header longer than 4 GiB");
  std::vector<uint8_t> pre(kMagic.begin(), kMagic.end());
  put_u16(pre, kVersionMajor);
  put_u16(pre, kVersionMinor);
  put_u32(pre, static_cast<uint32_t>(body.size()));
  emit(pre);
  emit(body);
}

void TraceWriter::write(const Event& event) {
  if (finished_) throw std::logic_error("trace already finished");
  const KindSpec* spec = nullptr;
  for (const KindSpec& s : table_) {
    if (s.kind == event.kind) spec = &s;
  }
  if (spec == nullptr) {
    throw std::invalid_argument("event kind " + std::to_string(event.kind) + " not in the table");
  }
  if (!matches(event, *spec)) {
    throw std::invalid_argument("event fields do not match kind " + spec->name);
  }
  if (event.time_cycles < last_time_) throw std::invalid_argument("trace time goes backwards");
  std::vector<uint8_t> payload;
  for (const FieldValue& f : event.fields) put_field(payload, f);
  if (payload.size() > UINT32_MAX) throw std::invalid_argument("record longer than 4 GiB");
  std::vector<uint8_t> record;
  record.reserve(payload.size() + 2 + kVarintMaxBytes + 4);
  put_u16(record, event.kind);
  put_varint(record, event.time_cycles - last_time_);
  put_u32(record, static_cast<uint32_t>(payload.size()));
  record.insert(record.end(), payload.begin(), payload.end());
  emit(record);
  last_time_ = event.time_cycles;
  ++event_count_;
  if (event.event_kind() == EventKind::kStateHash) {
    events_since_state_hash_ = 0;
  } else {
    ++events_since_state_hash_;
  }
}

void TraceWriter::finish() {
  if (finished_) throw std::logic_error("trace already finished");
  // The hash covers every byte before the end record, header included.
  const uint64_t hash = hash_.value();
  std::vector<uint8_t> record;
  put_u16(record, static_cast<uint16_t>(EventKind::kEnd));
  put_varint(record, 0);
  put_u32(record, kEndPayloadBytes);
  put_u64(record, event_count_);
  put_u64(record, hash);
  emit(record);
  finished_ = true;
  if (!out_) {
    flush_file();
    file_.flush();
    if (!file_) throw std::runtime_error("cannot write " + path_);
  }
}

std::vector<uint8_t> write_trace(const Provenance& provenance, const std::vector<Event>& events,
                                 const std::vector<KindSpec>& table) {
  std::vector<uint8_t> out;
  TraceWriter w(out, provenance, table);
  for (const Event& e : events) w.write(e);
  w.finish();
  return out;
}


void put_u8(std::vector<uint8_t>& out, uint8_t v) { out.push_back(v); }

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_varint(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v));
}

VarintStatus get_varint(const uint8_t* p, const uint8_t* end, uint64_t* value, size_t* used) {
  uint64_t v = 0;
  for (size_t i = 0; i < kVarintMaxBytes; ++i) {
    if (p + i >= end) return VarintStatus::kTruncated;
    const uint8_t b = p[i];
    // The 10th group holds bit 63 only.
    if (i == kVarintMaxBytes - 1 && b > 1) return VarintStatus::kBad;
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) return VarintStatus::kBad;  // non-minimal
      *value = v;
      *used = i + 1;
      return VarintStatus::kOk;
    }
  }
  return VarintStatus::kBad;
}

}  // namespace aerov::traces
