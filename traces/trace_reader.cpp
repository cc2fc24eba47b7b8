#include "traces/trace_reader.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <set>

namespace aerov::traces {

namespace {

// A field's width is 1, 2, 4 or 8: one load each, little-endian.
uint64_t load_le(const uint8_t* p, size_t n) {
  static_assert(std::endian::native == std::endian::little, "fields are read little-endian");
  switch (n) {
    case 1: return p[0];
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case 8: { uint64_t v; std::memcpy(&v, p, 8); return v; }
    default: break;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

size_t integer_bytes(FieldType type) {
  switch (type) {
    case FieldType::kU8: return 1;
    case FieldType::kU16: return 2;
    case FieldType::kU32: return 4;
    case FieldType::kU64: return 8;
    default: return 0;
  }
}

// A known kind may gain fields in a later minor version, appended at the end;
// its v1 fields must stay as they are.
bool extends(const KindSpec& file, const KindSpec& v1) {
  if (file.name != v1.name || file.fields.size() < v1.fields.size()) return false;
  return std::equal(v1.fields.begin(), v1.fields.end(), file.fields.begin());
}

}  // namespace

std::string_view error_kind_name(TraceErrorKind kind) {
  switch (kind) {
    case TraceErrorKind::kBadMagic: return "bad magic";
    case TraceErrorKind::kUnsupportedVersion: return "unsupported version";
    case TraceErrorKind::kTruncatedHeader: return "truncated header";
    case TraceErrorKind::kBadHeader: return "bad header";
    case TraceErrorKind::kTruncatedRecord: return "truncated record";
    case TraceErrorKind::kRecordOverflow: return "record overflows file";
    case TraceErrorKind::kBadVarint: return "bad varint";
    case TraceErrorKind::kTimeOverflow: return "time overflow";
    case TraceErrorKind::kShortPayload: return "short payload";
    case TraceErrorKind::kLongPayload: return "long payload";
    case TraceErrorKind::kMissingEnd: return "missing end record";
    case TraceErrorKind::kBadEndRecord: return "bad end record";
    case TraceErrorKind::kCountMismatch: return "event count mismatch";
    case TraceErrorKind::kHashMismatch: return "hash mismatch";
    case TraceErrorKind::kTrailingData: return "trailing data";
    case TraceErrorKind::kIo: return "i/o error";
  }
  return "unknown error";
}

bool TraceReader::fail(TraceErrorKind kind, uint64_t offset, const std::string& cause) {
  error_ = TraceError{kind, offset,
                      std::string(error_kind_name(kind)) + " at byte " + std::to_string(offset) +
                          ": " + cause};
  return false;
}

bool TraceReader::short_of(size_t n, uint64_t limit, TraceErrorKind kind, const char* what) {
  return fail(kind, pos_,
              std::string(what) + " needs " + std::to_string(n) + " bytes, " +
                  std::to_string(limit > pos_ ? limit - pos_ : 0) + " left");
}

bool TraceReader::header_u8(uint64_t limit, uint8_t* v, const char* what) {
  if (!need(1, limit, TraceErrorKind::kTruncatedHeader, what)) return false;
  *v = bytes_[pos_];
  pos_ += 1;
  return true;
}

bool TraceReader::header_u16(uint64_t limit, uint16_t* v, const char* what) {
  if (!need(2, limit, TraceErrorKind::kTruncatedHeader, what)) return false;
  *v = static_cast<uint16_t>(load_le(&bytes_[pos_], 2));
  pos_ += 2;
  return true;
}

bool TraceReader::header_u64(uint64_t limit, uint64_t* v, const char* what) {
  if (!need(8, limit, TraceErrorKind::kTruncatedHeader, what)) return false;
  *v = load_le(&bytes_[pos_], 8);
  pos_ += 8;
  return true;
}

bool TraceReader::header_string(uint64_t limit, std::string* s, const char* what) {
  if (!need(4, limit, TraceErrorKind::kTruncatedHeader, what)) return false;
  const uint32_t len = static_cast<uint32_t>(load_le(&bytes_[pos_], 4));
  pos_ += 4;
  // Checked before allocating: a hostile length costs nothing.
  if (!need(len, limit, TraceErrorKind::kTruncatedHeader, what)) return false;
  s->assign(reinterpret_cast<const char*>(&bytes_[pos_]), len);
  pos_ += len;
  return true;
}

bool TraceReader::read_devices(uint64_t limit) {
  uint16_t count = 0;
  if (!header_u16(limit, &count, "device count")) return false;
  if (count > UINT8_MAX + 1u) {
    return fail(TraceErrorKind::kBadHeader, pos_ - 2,
                "device count " + std::to_string(count) + " exceeds 256");
  }
  std::set<uint8_t> ids;
  for (uint16_t i = 0; i < count; ++i) {
    Device d;
    const uint64_t at = pos_;
    if (!header_u8(limit, &d.id, "device id") || !header_string(limit, &d.type, "device type") ||
        !header_u8(limit, &d.bus, "device bus") || !header_u8(limit, &d.slot, "device slot") ||
        !header_u8(limit, &d.function, "device function")) {
      return false;
    }
    if (d.slot > 31) {
      return fail(TraceErrorKind::kBadHeader, pos_ - 2,
                  "device slot " + std::to_string(d.slot) + " out of range 0..31");
    }
    if (d.function > 7) {
      return fail(TraceErrorKind::kBadHeader, pos_ - 1,
                  "device function " + std::to_string(d.function) + " out of range 0..7");
    }
    if (!ids.insert(d.id).second) {
      return fail(TraceErrorKind::kBadHeader, at, "device id " + std::to_string(d.id) + " twice");
    }
    header_.provenance.devices.push_back(std::move(d));
  }
  return true;
}

bool TraceReader::read_table(uint64_t limit) {
  uint16_t count = 0;
  if (!header_u16(limit, &count, "event table size")) return false;
  std::set<uint16_t> kinds;
  for (uint16_t i = 0; i < count; ++i) {
    KindSpec spec;
    const uint64_t at = pos_;
    uint8_t fields = 0;
    if (!header_u16(limit, &spec.kind, "event kind") ||
        !header_string(limit, &spec.name, "event kind name") ||
        !header_u8(limit, &fields, "event field count")) {
      return false;
    }
    for (uint8_t f = 0; f < fields; ++f) {
      FieldSpec field;
      uint8_t type = 0;
      if (!header_string(limit, &field.name, "field name") ||
          !header_u8(limit, &type, "field type")) {
        return false;
      }
      if (!is_valid_field_type(type)) {
        return fail(TraceErrorKind::kBadHeader, pos_ - 1,
                    "field type " + std::to_string(type) + " unknown");
      }
      field.type = static_cast<FieldType>(type);
      spec.fields.push_back(std::move(field));
    }
    if (spec.name.empty()) {
      return fail(TraceErrorKind::kBadHeader, at, "event kind " + std::to_string(spec.kind) +
                                                      " without a name");
    }
    if (spec.kind == static_cast<uint16_t>(EventKind::kEnd)) {
      return fail(TraceErrorKind::kBadHeader, at, "event table describes kind 0 (end record)");
    }
    if (!kinds.insert(spec.kind).second) {
      return fail(TraceErrorKind::kBadHeader, at,
                  "event kind " + std::to_string(spec.kind) + " described twice");
    }
    const KindSpec* v1 = find_v1_kind(spec.kind);
    if (v1 != nullptr && !extends(spec, *v1)) {
      return fail(TraceErrorKind::kBadHeader, at,
                  "event kind " + std::to_string(spec.kind) + " contradicts v1 " + v1->name);
    }
    header_.table.push_back(std::move(spec));
  }
  uint16_t max_kind = 0;
  for (const KindSpec& spec : header_.table) max_kind = std::max(max_kind, spec.kind);
  plan_by_kind_.assign(header_.table.empty() ? 0 : size_t{max_kind} + 1, 0);
  plans_.resize(header_.table.size());
  for (size_t i = 0; i < header_.table.size(); ++i) {
    Plan& plan = plans_[i];
    plan.spec = &header_.table[i];
    for (const FieldSpec& field : plan.spec->fields) {
      const size_t n = integer_bytes(field.type);
      plan.widths.push_back(static_cast<uint8_t>(n));
      plan.all_integer = plan.all_integer && n != 0;
      plan.fixed += static_cast<uint32_t>(n);
    }
    plan_by_kind_[plan.spec->kind] = static_cast<uint32_t>(i + 1);
  }
  return true;
}

bool TraceReader::read_header() {
  if (header_done_) return !error_;
  header_done_ = true;
  const size_t size = bytes_.size();
  const size_t magic = std::min<size_t>(size, kMagic.size());
  if (!std::equal(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(magic),
                  kMagic.begin())) {
    return fail(TraceErrorKind::kBadMagic, 0, "not an AEROVTRC trace");
  }
  if (size < kMagic.size()) {
    return fail(TraceErrorKind::kTruncatedHeader, size, "the file ends inside the magic");
  }
  pos_ = kMagic.size();
  if (!header_u16(size, &header_.version_major, "major version") ||
      !header_u16(size, &header_.version_minor, "minor version")) {
    return false;
  }
  if (header_.version_major < kOldestMajor || header_.version_major > kVersionMajor) {
    return fail(TraceErrorKind::kUnsupportedVersion, 8,
                "major version " + std::to_string(header_.version_major) + ", this reader reads " +
                    std::to_string(kOldestMajor) + " to " + std::to_string(kVersionMajor));
  }
  if (!need(4, size, TraceErrorKind::kTruncatedHeader, "header length")) return false;
  const uint64_t length = load_le(&bytes_[pos_], 4);
  pos_ += 4;
  if (length > size - pos_) {
    return fail(TraceErrorKind::kTruncatedHeader, pos_ - 4,
                "header length " + std::to_string(length) + " runs past the end of the file (" +
                    std::to_string(size - pos_) + " bytes left)");
  }
  const uint64_t limit = pos_ + length;
  Provenance& p = header_.provenance;
  if (!header_u64(limit, &p.root_seed, "root seed") ||
      !header_string(limit, &p.scenario, "scenario") ||
      !header_string(limit, &p.commit, "commit") ||
      !header_string(limit, &p.config_json, "config") || !read_devices(limit) ||
      !read_table(limit)) {
    return false;
  }
  // Header fields a later minor version appends are skipped; a header of
  // this or an older minor version has none, so every byte is accounted for.
  if (pos_ != limit && header_.version_minor <= kVersionMinor) {
    return fail(TraceErrorKind::kBadHeader, pos_,
                std::to_string(limit - pos_) + " header bytes after the v" +
                    std::to_string(header_.version_major) + "." +
                    std::to_string(header_.version_minor) + " fields");
  }
  pos_ = limit;
  return true;
}

// Fails as need() would for field `field` of `plan`'s kind; the field's name
// is only put together here, off the decoding path.
bool TraceReader::short_payload(const Plan& plan, size_t field, size_t n, uint64_t end) {
  const std::string what = plan.spec->name + "." + plan.spec->fields[field].name;
  return need(n, end, TraceErrorKind::kShortPayload, what.c_str());
}

bool TraceReader::decode_payload(const Plan& plan, uint64_t start, uint32_t length) {
  const uint64_t end = start + length;
  const uint8_t* base = bytes_.data();
  const size_t count = plan.widths.size();
  fields_.resize(count);
  pos_ = start;
  if (plan.all_integer && length == plan.fixed) {
    // The common case: every field is in bounds, nothing to check per field.
    for (size_t i = 0; i < count; ++i) {
      const size_t n = plan.widths[i];
      fields_[i] = FieldRef{load_le(base + pos_, n), 0, plan.spec->fields[i].type};
      pos_ += n;
    }
    return true;
  }
  for (size_t i = 0; i < count; ++i) {
    const size_t n = plan.widths[i];
    FieldRef& f = fields_[i];
    f.type = plan.spec->fields[i].type;
    if (n != 0) {
      if (end - pos_ < n) return short_payload(plan, i, n, end);
      f.value = load_le(base + pos_, n);
      f.length = 0;
      pos_ += n;
    } else {
      if (end - pos_ < 4) return short_payload(plan, i, 4, end);
      const uint32_t len = static_cast<uint32_t>(load_le(base + pos_, 4));
      pos_ += 4;
      if (end - pos_ < len) return short_payload(plan, i, len, end);
      f.value = pos_;
      f.length = len;
      pos_ += len;
    }
  }
  if (pos_ != end) {
    return fail(TraceErrorKind::kLongPayload, pos_,
                std::to_string(end - pos_) + " bytes after the fields of " + plan.spec->name);
  }
  return true;
}

TraceReader::Step TraceReader::read_end(uint64_t start, uint32_t length) {
  const uint64_t payload = pos_;
  if (length != kEndPayloadBytes) {
    fail(TraceErrorKind::kBadEndRecord, payload - 4,
         "end record payload is " + std::to_string(length) + " bytes, not 16");
    return Step::kError;
  }
  const uint64_t count = load_le(&bytes_[payload], 8);
  const uint64_t hash = load_le(&bytes_[payload + 8], 8);
  if (count != events_) {
    fail(TraceErrorKind::kCountMismatch, payload,
         "end record counts " + std::to_string(count) + " events, the trace holds " +
             std::to_string(events_));
    return Step::kError;
  }
  // Over every byte before this record: the header and each record.
  if (hash != FileHash::of(header_.version_major, bytes_.first(start))) {
    fail(TraceErrorKind::kHashMismatch, payload + 8,
         "end record hash does not match the bytes before it");
    return Step::kError;
  }
  pos_ = payload + length;
  if (pos_ != bytes_.size()) {
    fail(TraceErrorKind::kTrailingData, pos_,
         std::to_string(bytes_.size() - pos_) + " bytes after the end record");
    return Step::kError;
  }
  header_.record_hash = hash;
  ended_ = true;
  return Step::kEnd;
}

TraceReader::Step TraceReader::next(EventView& out) {
  if (!header_done_ && !read_header()) return Step::kError;
  if (error_) return Step::kError;
  if (ended_) return Step::kEnd;
  const uint64_t size = bytes_.size();
  const uint64_t start = pos_;
  if (pos_ == size) {
    fail(TraceErrorKind::kMissingEnd, pos_, "the file ends without an end record");
    return Step::kError;
  }
  if (!need(2, size, TraceErrorKind::kTruncatedRecord, "record kind")) return Step::kError;
  const uint16_t kind = static_cast<uint16_t>(load_le(&bytes_[pos_], 2));
  pos_ += 2;
  uint64_t delta = 0;
  size_t used = 1;
  const uint8_t* base = bytes_.data();
  // Most deltas fit one byte (always minimal); the rest go the long way.
  const VarintStatus varint = pos_ < size && base[pos_] < 0x80
                                  ? (delta = base[pos_], VarintStatus::kOk)
                                  : get_varint(base + pos_, base + size, &delta, &used);
  switch (varint) {
    case VarintStatus::kOk: break;
    case VarintStatus::kTruncated:
      fail(TraceErrorKind::kTruncatedRecord, pos_, "the file ends inside a time delta");
      return Step::kError;
    case VarintStatus::kBad:
      fail(TraceErrorKind::kBadVarint, pos_, "time delta is not a minimal LEB128 u64");
      return Step::kError;
  }
  const uint64_t delta_at = pos_;
  pos_ += used;
  if (!need(4, size, TraceErrorKind::kTruncatedRecord, "record length")) return Step::kError;
  const uint32_t length = static_cast<uint32_t>(load_le(&bytes_[pos_], 4));
  pos_ += 4;
  if (length > size - pos_) {
    fail(TraceErrorKind::kRecordOverflow, pos_ - 4,
         "payload length " + std::to_string(length) + " runs past the end of the file (" +
             std::to_string(size - pos_) + " bytes left)");
    return Step::kError;
  }
  if (kind == static_cast<uint16_t>(EventKind::kEnd)) {
    if (delta != 0) {
      fail(TraceErrorKind::kBadEndRecord, delta_at, "end record with a time delta");
      return Step::kError;
    }
    return read_end(start, length);
  }
  if (delta > UINT64_MAX - time_) {
    fail(TraceErrorKind::kTimeOverflow, delta_at, "time passes 2^64 - 1 cycles");
    return Step::kError;
  }
  const uint64_t payload = pos_;
  const uint32_t slot = kind < plan_by_kind_.size() ? plan_by_kind_[kind] : 0;
  out = EventView{};
  out.kind = kind;
  out.time_cycles = time_ + delta;
  out.base = bytes_.data();
  if (slot == 0) {
    out.undescribed = true;
    out.raw_offset = payload;
    out.raw_length = length;
    pos_ = payload + length;
  } else if (!decode_payload(plans_[slot - 1], payload, length)) {
    return Step::kError;
  } else {
    out.fields = fields_;
  }
  time_ = out.time_cycles;
  ++events_;
  return Step::kEvent;
}

namespace {

// Parses `bytes`, which become the events' arena: byte fields are not copied.
ReadResult read_owned(std::vector<uint8_t> bytes) {
  ReadResult result;
  EventList& events = result.trace.events;
  events.adopt_arena(std::move(bytes));
  TraceReader reader(events.arena());
  if (!reader.read_header()) {
    result.error = reader.error();
    return result;
  }
  result.trace.version_major = reader.header().version_major;
  result.trace.version_minor = reader.header().version_minor;
  result.trace.provenance = reader.header().provenance;
  result.trace.table = reader.header().table;
  // A guess from the size, so the arrays rarely regrow: a record takes at
  // least 9 bytes, a typical one two or three times that.
  const size_t guess = (events.arena().size() - reader.offset()) / 24;
  events.reserve(guess, guess * 4);
  EventView event;
  for (;;) {
    const TraceReader::Step step = reader.next(event);
    if (step == TraceReader::Step::kEvent) {
      events.push_back(event);
      continue;
    }
    if (step == TraceReader::Step::kError) {
      result.error = reader.error();
      events.clear();
    } else {
      result.trace.record_hash = reader.header().record_hash;
    }
    return result;
  }
}

}  // namespace

ReadResult read_trace(std::span<const uint8_t> bytes) {
  return read_owned(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

ReadResult read_trace_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    ReadResult r;
    r.error = TraceError{TraceErrorKind::kIo, 0, "i/o error at byte 0: cannot open " + path};
    return r;
  }
  // In blocks (a byte-wise istreambuf_iterator copy cost more than
  // parsing the trace); no seeking, so pipes and odd files read as before.
  std::vector<uint8_t> bytes;
  constexpr size_t kChunk = 1 << 20;
  for (;;) {
    const size_t at = bytes.size();
    bytes.resize(at + kChunk);
    f.read(reinterpret_cast<char*>(bytes.data() + at), static_cast<std::streamsize>(kChunk));
    bytes.resize(at + static_cast<size_t>(f.gcount()));
    if (!f) break;
  }
  if (f.bad()) {
    ReadResult r;
    r.error = TraceError{TraceErrorKind::kIo, bytes.size(),
                         "i/o error at byte " + std::to_string(bytes.size()) + ": cannot read " +
                             path};
    return r;
  }
  return read_owned(std::move(bytes));
}

}  // namespace aerov::traces
