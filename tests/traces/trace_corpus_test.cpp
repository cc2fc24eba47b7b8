// Generates the trace_reader fuzz seeds (fuzz/corpus/trace_reader/) and
// checks the committed ones still match, so a format change cannot leave
// stale seeds behind. Regenerate with:
//   AEROV_WRITE_TRACE_CORPUS=1 build/default/tests/traces/traces_test '[trace_corpus]'
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>

#include "tests/traces/sample_trace.hpp"
#include "traces/trace_dump.hpp"
#include "traces/trace_reader.hpp"

using namespace aerov::traces;
using namespace aerov::traces::testing;

namespace {

std::vector<uint8_t> vendor_kind_trace() {
  std::vector<KindSpec> table = v1_event_table();
  table.push_back({200, "vendor_blob", {{"lane", FieldType::kU16}, {"blob", FieldType::kBytes}}});
  Event vendor;
  vendor.kind = 200;
  vendor.time_cycles = 7;
  vendor.fields = {FieldValue{FieldType::kU16, 3, {}}, FieldValue{FieldType::kBytes, 0, {9, 8, 7}}};
  return write_trace(sample_provenance(), {make::doorbell(5, 0, 0), vendor, make::intx(9, 0, 1)},
                     table);
}

std::vector<uint8_t> long_bytes_trace() {
  Provenance p;
  p.root_seed = 1;
  p.scenario = "net-rx";
  p.devices = {{0, "virtio-net", 0, 5, 0}};
  return write_trace(p, {make::host_input(1, 0, 1, pattern(200, 9)),
                         make::dma_write(1u << 20, 0, 0x8000, pattern(200, 9)),
                         make::msi(UINT64_MAX / 2, 0, 0xfee00000, 0x41),
                         make::state_hash(UINT64_MAX / 2, 77)});
}

std::map<std::string, std::vector<uint8_t>> seeds() {
  std::map<std::string, std::vector<uint8_t>> s;
  s["every_kind.trace"] = sample_bytes();
  s["empty.trace"] = write_trace(Provenance{}, {});
  s["vendor_kind.trace"] = vendor_kind_trace();
  s["long_bytes.trace"] = long_bytes_trace();
  std::vector<uint8_t> cut = sample_bytes();
  cut.resize(cut.size() / 2);
  s["cut_in_half.trace"] = cut;
  std::vector<uint8_t> flipped = sample_bytes();
  flipped[flipped.size() - 30] ^= 1;
  s["hash_mismatch.trace"] = flipped;
  return s;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("The trace_reader seed corpus matches its generator", "[trace][trace_corpus]") {
  const std::string dir = AEROV_TRACE_CORPUS_DIR;
  const bool write = std::getenv("AEROV_WRITE_TRACE_CORPUS") != nullptr;
  for (const auto& [name, bytes] : seeds()) {
    INFO(name);
    const std::string path = dir + "/" + name;
    if (write) {
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    CHECK(read_file(path) == bytes);
    const bool valid = name != "cut_in_half.trace" && name != "hash_mismatch.trace";
    CHECK(read_trace(bytes).ok() == valid);
  }
}
