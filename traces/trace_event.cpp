#include "traces/trace_event.hpp"

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

bool is_integer(FieldType type) { return type != FieldType::kBytes && type != FieldType::kText; }

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

uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t seed) {
  uint64_t h = seed;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
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
