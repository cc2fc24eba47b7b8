// Trace events: the kinds of the format (unchanged since v1), their self-describing field table,
// and a generic event value that the writer, reader and dump share. A kind's
// fields are described once (v1_event_table); the typed constructors below
// build events that match that description, so a recorder cannot write a
// payload its own table does not describe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aerov::traces {

// Kind numbers on the wire (u16). Numbers are never reused; a new kind gets
// the next free number and readers skip kinds they do not know. 0 is the
// end record and is not an event.
enum class EventKind : uint16_t {
  kEnd = 0,
  kConfigRead = 1,
  kConfigWrite = 2,
  kMmioRead = 3,
  kMmioWrite = 4,
  kDoorbell = 5,
  kMemWrite = 6,
  kDmaRead = 7,
  kDmaWrite = 8,
  kIntx = 9,
  kMsi = 10,
  kHostInput = 11,
  kStateHash = 12,
  kNote = 13,
  kHostOutput = 14,
};

// Field types on the wire (u8 in the event table). Integers are fixed-width
// little-endian; bytes and text are a u32 length then that many bytes.
enum class FieldType : uint8_t {
  kU8 = 1,
  kU16 = 2,
  kU32 = 3,
  kU64 = 4,
  kBytes = 5,
  kText = 6,
};

bool is_valid_field_type(uint8_t raw);
std::string_view field_type_name(FieldType type);
inline bool is_integer(FieldType type) { return type != FieldType::kBytes && type != FieldType::kText; }

struct FieldSpec {
  std::string name;
  FieldType type;
  bool operator==(const FieldSpec&) const = default;
};

struct KindSpec {
  uint16_t kind;
  std::string name;
  std::vector<FieldSpec> fields;
  bool operator==(const KindSpec&) const = default;
};

// The kinds this library knows, in kind order.
const std::vector<KindSpec>& v1_event_table();
// The v1 description of a kind, or nullptr for a kind v1 does not know.
const KindSpec* find_v1_kind(uint16_t kind);

// One field's value: `number` for integer types, `bytes` for bytes and text.
struct FieldValue {
  FieldType type = FieldType::kU8;
  uint64_t number = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const FieldValue&) const = default;
};

struct Event {
  uint16_t kind = 0;
  uint64_t time_cycles = 0;  // absolute simulated cycles
  std::vector<FieldValue> fields;
  // Set by the reader for a record whose kind the file's event table does
  // not describe: `raw` holds its payload and `fields` is empty.
  bool undescribed = false;
  std::vector<uint8_t> raw;

  EventKind event_kind() const { return static_cast<EventKind>(kind); }
  uint64_t u(size_t field) const;                        // integer field
  const std::vector<uint8_t>& data(size_t field) const;  // bytes field
  std::string text(size_t field) const;                  // text field
  bool operator==(const Event&) const = default;
};

// The flat form a reader decodes into. An integer field holds its value in
// `value`; a bytes or text field is `length` bytes at offset `value` of the
// buffer its event views (the trace's arena, or the reader's input).
struct FieldRef {
  uint64_t value = 0;
  uint32_t length = 0;
  FieldType type = FieldType::kU8;
};

// A decoded event that owns nothing: its byte fields are spans into the
// buffer `base` (valid while that buffer and `fields` are). Cheap to copy.
struct EventView {
  uint16_t kind = 0;
  bool undescribed = false;  // see Event::undescribed; the payload is raw()
  uint64_t time_cycles = 0;
  const uint8_t* base = nullptr;
  std::span<const FieldRef> fields;
  uint64_t raw_offset = 0;
  uint32_t raw_length = 0;

  EventKind event_kind() const { return static_cast<EventKind>(kind); }
  // Checked accessors: std::out_of_range, as Event's, for a missing field or
  // one of the other sort.
  // Always inline: the replay reads a few fields of every event (and gcc
  // left them out of line in its big event switch).
  [[gnu::always_inline]] uint64_t u(size_t field) const {
    if (field >= fields.size() || !is_integer(fields[field].type)) not_a("an integer", field);
    return fields[field].value;
  }
  [[gnu::always_inline]] std::span<const uint8_t> data(size_t field) const {
    if (field >= fields.size() || is_integer(fields[field].type)) not_a("bytes", field);
    return bytes(field);
  }
  std::string_view text(size_t field) const;
  std::span<const uint8_t> raw() const { return {base + raw_offset, raw_length}; }
  // Unchecked: for a caller that knows the field's type from the table.
  uint64_t number(size_t field) const { return fields[field].value; }
  std::span<const uint8_t> bytes(size_t field) const {
    return {base + fields[field].value, fields[field].length};
  }
  Event to_event() const;  // an owning copy (writers, tests)

 private:
  [[noreturn]] static void not_a(const char* what, size_t field);
};

bool operator==(const EventView& a, const EventView& b);
bool operator==(const EventView& a, const Event& b);

// A sequence of events in three flat arrays: one record per event, the
// events' fields back to back, and one byte arena their byte fields point
// into. A trace read from bytes adopts those bytes as its arena, so reading
// copies no field. Indexing yields EventViews valid until the list changes.
class EventList {
 public:
  EventList() = default;
  explicit EventList(const std::vector<Event>& events);

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  EventView operator[](size_t i) const;

  class const_iterator {
   public:
    using value_type = EventView;
    using difference_type = std::ptrdiff_t;
    const_iterator() = default;
    const_iterator(const EventList* list, size_t i) : list_(list), i_(i) {}
    EventView operator*() const { return (*list_)[i_]; }
    const_iterator& operator++() { ++i_; return *this; }
    const_iterator operator++(int) { const_iterator t = *this; ++i_; return t; }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }

   private:
    const EventList* list_ = nullptr;
    size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size()}; }

  // Appends a copy. A view into this list's own arena (including one the
  // reader made over adopt_arena's bytes) is appended without copying bytes.
  void push_back(const EventView& event);
  void push_back(const Event& event);
  // Removes events [first, last).
  void erase(size_t first, size_t last);
  void clear();
  // Replaces the arena by `bytes` (the list must be empty); views into
  // arena() can then be push_back'ed without a copy.
  void adopt_arena(std::vector<uint8_t> bytes);
  std::span<const uint8_t> arena() const { return arena_; }
  void reserve(size_t events, size_t fields);

  std::vector<Event> to_events() const;

 private:
  struct Record {
    uint64_t time_cycles;
    uint64_t first_field;
    uint64_t raw_offset;
    uint32_t raw_length;
    uint16_t kind;
    uint8_t field_count;
    bool undescribed;
  };
  std::vector<uint8_t> arena_;
  std::vector<Record> records_;
  std::vector<FieldRef> fields_;
};

inline EventView EventList::operator[](size_t i) const {
  const Record& r = records_[i];
  // One aggregate, built in place: assigning the members one by one first
  // zeroed them all (the replay builds a view per event).
  return EventView{r.kind,
                   r.undescribed,
                   r.time_cycles,
                   arena_.data(),
                   std::span<const FieldRef>(fields_.data() + r.first_field, r.field_count),
                   r.raw_offset,
                   r.raw_length};
}

bool operator==(const EventList& a, const EventList& b);
bool operator==(const EventList& a, const std::vector<Event>& b);

// FNV-1a 64: the trace's one hash (dma_read data hashes, long byte fields in
// the dump, the end record's record hash). Chainable through `seed`.
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
uint64_t fnv1a64(std::span<const uint8_t> bytes, uint64_t seed = kFnvOffset);

// Typed constructors, one per v1 kind; field order as in v1_event_table().
namespace make {
Event config_read(uint64_t t, uint8_t device, uint16_t offset, uint8_t width, uint32_t value);
Event config_write(uint64_t t, uint8_t device, uint16_t offset, uint8_t width, uint32_t value);
Event mmio_read(uint64_t t, uint8_t device, uint8_t bar, uint32_t offset, uint8_t width,
                uint64_t value);
Event mmio_write(uint64_t t, uint8_t device, uint8_t bar, uint32_t offset, uint8_t width,
                 uint64_t value);
Event doorbell(uint64_t t, uint8_t device, uint16_t queue);
Event mem_write(uint64_t t, uint64_t gpa, std::span<const uint8_t> bytes);
Event dma_read(uint64_t t, uint8_t device, uint64_t gpa, uint32_t len, uint64_t data_hash);
// Hashes `data` with fnv1a64, as a recorder that saw the bytes should.
Event dma_read_of(uint64_t t, uint8_t device, uint64_t gpa, std::span<const uint8_t> data);
Event dma_write(uint64_t t, uint8_t device, uint64_t gpa, std::span<const uint8_t> bytes);
Event intx(uint64_t t, uint8_t device, uint8_t level);
Event msi(uint64_t t, uint8_t device, uint64_t address, uint32_t data);
Event host_input(uint64_t t, uint8_t device, uint16_t channel, std::span<const uint8_t> bytes);
Event state_hash(uint64_t t, uint64_t hash);
Event note(uint64_t t, std::string_view text);
Event host_output(uint64_t t, uint8_t device, uint16_t channel, std::span<const uint8_t> bytes);
}  // namespace make

// True when `event`'s field types match `spec` one for one.
bool matches(const Event& event, const KindSpec& spec);
bool matches(const EventView& event, const KindSpec& spec);

}  // namespace aerov::traces
