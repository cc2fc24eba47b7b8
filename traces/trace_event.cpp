#include "traces/trace_event.hpp"

#include <algorithm>
#include <stdexcept>

namespace aerov::traces {

namespace {

FieldValue num(FieldType type, uint64_t value) { return FieldValue{type, value, {}}; }

FieldValue blob(FieldType type, std::span<const uint8_t> bytes) {
  return FieldValue{type, 0, std::vector<uint8_t>(bytes.begin(), bytes.end())};
}

Event event(EventKind kind, uint64_t t, std::vector<FieldValue> fields) {
  Event e;
  e.kind = static_cast<uint16_t>(kind);
  e.time_cycles = t;
  e.fields = std::move(fields);
  return e;
}

constexpr FieldType U8 = FieldType::kU8;
constexpr FieldType U16 = FieldType::kU16;
constexpr FieldType U32 = FieldType::kU32;
constexpr FieldType U64 = FieldType::kU64;
constexpr FieldType Bytes = FieldType::kBytes;
constexpr FieldType Text = FieldType::kText;

std::vector<KindSpec> build_v1_table() {
  const auto k = [](EventKind kind) { return static_cast<uint16_t>(kind); };
  const std::vector<FieldSpec> cfg = {{"device", U8}, {"offset", U16}, {"width", U8}, {"value", U32}};
  const std::vector<FieldSpec> mmio = {
      {"device", U8}, {"bar", U8}, {"offset", U32}, {"width", U8}, {"value", U64}};
  return {
      {k(EventKind::kConfigRead), "config_read", cfg},
      {k(EventKind::kConfigWrite), "config_write", cfg},
      {k(EventKind::kMmioRead), "mmio_read", mmio},
      {k(EventKind::kMmioWrite), "mmio_write", mmio},
      {k(EventKind::kDoorbell), "doorbell", {{"device", U8}, {"queue", U16}}},
      {k(EventKind::kMemWrite), "mem_write", {{"gpa", U64}, {"bytes", Bytes}}},
      {k(EventKind::kDmaRead), "dma_read",
       {{"device", U8}, {"gpa", U64}, {"len", U32}, {"data_hash", U64}}},
      {k(EventKind::kDmaWrite), "dma_write", {{"device", U8}, {"gpa", U64}, {"bytes", Bytes}}},
      {k(EventKind::kIntx), "intx", {{"device", U8}, {"level", U8}}},
      {k(EventKind::kMsi), "msi", {{"device", U8}, {"address", U64}, {"data", U32}}},
      {k(EventKind::kHostInput), "host_input", {{"device", U8}, {"channel", U16}, {"bytes", Bytes}}},
      {k(EventKind::kStateHash), "state_hash", {{"hash", U64}}},
      {k(EventKind::kNote), "note", {{"text", Text}}},
      {k(EventKind::kHostOutput), "host_output", {{"device", U8}, {"channel", U16}, {"bytes", Bytes}}},
  };
}

}  // namespace

bool is_valid_field_type(uint8_t raw) {
  return raw >= static_cast<uint8_t>(FieldType::kU8) && raw <= static_cast<uint8_t>(FieldType::kText);
}

std::string_view field_type_name(FieldType type) {
  switch (type) {
    case FieldType::kU8: return "u8";
    case FieldType::kU16: return "u16";
    case FieldType::kU32: return "u32";
    case FieldType::kU64: return "u64";
    case FieldType::kBytes: return "bytes";
    case FieldType::kText: return "text";
  }
  return "?";
}


const std::vector<KindSpec>& v1_event_table() {
  static const std::vector<KindSpec> table = build_v1_table();
  return table;
}

const KindSpec* find_v1_kind(uint16_t kind) {
  for (const KindSpec& spec : v1_event_table()) {
    if (spec.kind == kind) return &spec;
  }
  return nullptr;
}

uint64_t Event::u(size_t field) const {
  if (field >= fields.size() || !is_integer(fields[field].type)) {
    throw std::out_of_range("trace event field " + std::to_string(field) + " is not an integer");
  }
  return fields[field].number;
}

const std::vector<uint8_t>& Event::data(size_t field) const {
  if (field >= fields.size() || is_integer(fields[field].type)) {
    throw std::out_of_range("trace event field " + std::to_string(field) + " is not bytes");
  }
  return fields[field].bytes;
}

std::string Event::text(size_t field) const {
  const std::vector<uint8_t>& b = data(field);
  return std::string(b.begin(), b.end());
}

namespace {

bool same_fields(const EventView& a, std::span<const FieldValue> b) {
  if (a.fields.size() != b.size()) return false;
  for (size_t i = 0; i < b.size(); ++i) {
    const FieldRef& f = a.fields[i];
    if (f.type != b[i].type) return false;
    if (is_integer(f.type)) {
      if (f.value != b[i].number || !b[i].bytes.empty()) return false;
    } else {
      const std::span<const uint8_t> bytes = a.bytes(i);
      if (b[i].number != 0 || !std::equal(bytes.begin(), bytes.end(), b[i].bytes.begin(), b[i].bytes.end())) {
        return false;
      }
    }
  }
  return true;
}

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

void EventView::not_a(const char* what, size_t field) {
  throw std::out_of_range("trace event field " + std::to_string(field) + " is not " + what);
}

std::string_view EventView::text(size_t field) const {
  const std::span<const uint8_t> b = data(field);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

Event EventView::to_event() const {
  Event e;
  e.kind = kind;
  e.time_cycles = time_cycles;
  e.undescribed = undescribed;
  if (undescribed) {
    const std::span<const uint8_t> r = raw();
    e.raw.assign(r.begin(), r.end());
    return e;
  }
  e.fields.reserve(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    FieldValue v;
    v.type = fields[i].type;
    if (is_integer(v.type)) {
      v.number = fields[i].value;
    } else {
      const std::span<const uint8_t> b = bytes(i);
      v.bytes.assign(b.begin(), b.end());
    }
    e.fields.push_back(std::move(v));
  }
  return e;
}

bool operator==(const EventView& a, const EventView& b) {
  if (a.kind != b.kind || a.time_cycles != b.time_cycles || a.undescribed != b.undescribed ||
      !same_bytes(a.raw(), b.raw()) || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].type != b.fields[i].type) return false;
    if (is_integer(a.fields[i].type) ? a.fields[i].value != b.fields[i].value
                                     : !same_bytes(a.bytes(i), b.bytes(i))) {
      return false;
    }
  }
  return true;
}

bool operator==(const EventView& a, const Event& b) {
  return a.kind == b.kind && a.time_cycles == b.time_cycles && a.undescribed == b.undescribed &&
         same_bytes(a.raw(), b.raw) && same_fields(a, b.fields);
}

EventList::EventList(const std::vector<Event>& events) {
  for (const Event& e : events) push_back(e);
}

void EventList::push_back(const EventView& e) {
  if (e.fields.size() > UINT8_MAX) throw std::invalid_argument("trace event with over 255 fields");
  Record r{e.time_cycles, fields_.size(), e.raw_offset, e.raw_length, e.kind,
           static_cast<uint8_t>(e.fields.size()), e.undescribed};
  if (e.base != nullptr && e.base == arena_.data()) {
    fields_.insert(fields_.end(), e.fields.begin(), e.fields.end());
  } else {
    // Another buffer: copy the bytes this event refers to into the arena.
    const auto copy = [this](std::span<const uint8_t> b) {
      const uint64_t at = arena_.size();
      arena_.insert(arena_.end(), b.begin(), b.end());
      return at;
    };
    r.raw_offset = copy(e.raw());
    for (size_t i = 0; i < e.fields.size(); ++i) {
      FieldRef f = e.fields[i];
      if (!is_integer(f.type)) f.value = copy(e.bytes(i));
      fields_.push_back(f);
    }
  }
  records_.push_back(r);
}

void EventList::push_back(const Event& e) {
  if (e.fields.size() > UINT8_MAX) throw std::invalid_argument("trace event with over 255 fields");
  if (e.raw.size() > UINT32_MAX) throw std::invalid_argument("trace event payload over 4 GiB");
  Record r{e.time_cycles, fields_.size(), arena_.size(), static_cast<uint32_t>(e.raw.size()),
           e.kind, static_cast<uint8_t>(e.fields.size()), e.undescribed};
  arena_.insert(arena_.end(), e.raw.begin(), e.raw.end());
  for (const FieldValue& v : e.fields) {
    FieldRef f;
    f.type = v.type;
    if (is_integer(v.type)) {
      f.value = v.number;
    } else {
      if (v.bytes.size() > UINT32_MAX) throw std::invalid_argument("trace field over 4 GiB");
      f.value = arena_.size();
      f.length = static_cast<uint32_t>(v.bytes.size());
      arena_.insert(arena_.end(), v.bytes.begin(), v.bytes.end());
    }
    fields_.push_back(f);
  }
  records_.push_back(r);
}

void EventList::erase(size_t first, size_t last) {
  // The erased events' fields and bytes stay in the arrays, unreferenced.
  records_.erase(records_.begin() + static_cast<std::ptrdiff_t>(first),
                 records_.begin() + static_cast<std::ptrdiff_t>(last));
}

void EventList::clear() {
  records_.clear();
  fields_.clear();
  arena_.clear();
}

void EventList::adopt_arena(std::vector<uint8_t> bytes) {
  if (!records_.empty()) throw std::logic_error("EventList::adopt_arena on a non-empty list");
  arena_ = std::move(bytes);
  fields_.clear();
}

void EventList::reserve(size_t events, size_t fields) {
  records_.reserve(events);
  fields_.reserve(fields);
}

std::vector<Event> EventList::to_events() const {
  std::vector<Event> out;
  out.reserve(size());
  for (const EventView& e : *this) out.push_back(e.to_event());
  return out;
}

bool operator==(const EventList& a, const EventList& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

bool operator==(const EventList& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t seed) {
  uint64_t h = seed;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

bool matches(const EventView& event, const KindSpec& spec) {
  if (event.kind != spec.kind || event.fields.size() != spec.fields.size()) return false;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (event.fields[i].type != spec.fields[i].type) return false;
  }
  return true;
}

bool matches(const Event& event, const KindSpec& spec) {
  if (event.kind != spec.kind || event.fields.size() != spec.fields.size()) return false;
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (event.fields[i].type != spec.fields[i].type) return false;
  }
  return true;
}

namespace make {

Event config_read(uint64_t t, uint8_t device, uint16_t offset, uint8_t width, uint32_t value) {
  return event(EventKind::kConfigRead, t,
               {num(U8, device), num(U16, offset), num(U8, width), num(U32, value)});
}

Event config_write(uint64_t t, uint8_t device, uint16_t offset, uint8_t width, uint32_t value) {
  return event(EventKind::kConfigWrite, t,
               {num(U8, device), num(U16, offset), num(U8, width), num(U32, value)});
}

Event mmio_read(uint64_t t, uint8_t device, uint8_t bar, uint32_t offset, uint8_t width,
                uint64_t value) {
  return event(EventKind::kMmioRead, t,
               {num(U8, device), num(U8, bar), num(U32, offset), num(U8, width), num(U64, value)});
}

Event mmio_write(uint64_t t, uint8_t device, uint8_t bar, uint32_t offset, uint8_t width,
                 uint64_t value) {
  return event(EventKind::kMmioWrite, t,
               {num(U8, device), num(U8, bar), num(U32, offset), num(U8, width), num(U64, value)});
}

Event doorbell(uint64_t t, uint8_t device, uint16_t queue) {
  return event(EventKind::kDoorbell, t, {num(U8, device), num(U16, queue)});
}

Event mem_write(uint64_t t, uint64_t gpa, std::span<const uint8_t> bytes) {
  return event(EventKind::kMemWrite, t, {num(U64, gpa), blob(Bytes, bytes)});
}

Event dma_read(uint64_t t, uint8_t device, uint64_t gpa, uint32_t len, uint64_t data_hash) {
  return event(EventKind::kDmaRead, t,
               {num(U8, device), num(U64, gpa), num(U32, len), num(U64, data_hash)});
}

Event dma_read_of(uint64_t t, uint8_t device, uint64_t gpa, std::span<const uint8_t> data) {
  if (data.size() > UINT32_MAX) throw std::invalid_argument("dma_read longer than 4 GiB");
  return dma_read(t, device, gpa, static_cast<uint32_t>(data.size()), fnv1a64(data));
}

Event dma_write(uint64_t t, uint8_t device, uint64_t gpa, std::span<const uint8_t> bytes) {
  return event(EventKind::kDmaWrite, t, {num(U8, device), num(U64, gpa), blob(Bytes, bytes)});
}

Event intx(uint64_t t, uint8_t device, uint8_t level) {
  return event(EventKind::kIntx, t, {num(U8, device), num(U8, level)});
}

Event msi(uint64_t t, uint8_t device, uint64_t address, uint32_t data) {
  return event(EventKind::kMsi, t, {num(U8, device), num(U64, address), num(U32, data)});
}

Event host_input(uint64_t t, uint8_t device, uint16_t channel, std::span<const uint8_t> bytes) {
  return event(EventKind::kHostInput, t, {num(U8, device), num(U16, channel), blob(Bytes, bytes)});
}

Event state_hash(uint64_t t, uint64_t hash) {
  return event(EventKind::kStateHash, t, {num(U64, hash)});
}

Event note(uint64_t t, std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  return event(EventKind::kNote, t, {blob(Text, std::span<const uint8_t>(p, text.size()))});
}

Event host_output(uint64_t t, uint8_t device, uint16_t channel, std::span<const uint8_t> bytes) {
  return event(EventKind::kHostOutput, t, {num(U8, device), num(U16, channel), blob(Bytes, bytes)});
}

}  // namespace make

}  // namespace aerov::traces
