// The generated <aerov/contract/windows_device_contract.hpp> vs the JSON it
// was generated from, plus compile-time checks of the fixed contract values.
#include <aerov/contract/windows_device_contract.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "contract_md_check.hpp"

namespace c = aerov::contract;

namespace {

const nlohmann::json& contract_json() {
  static const nlohmann::json j =
      nlohmann::json::parse(aerov::contract_check::read_file(AEROV_CONTRACT_JSON));
  return j;
}

// "0x1AF4" -> 0x1AF4
uint64_t hex(const nlohmann::json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

uint64_t mask_of(const nlohmann::json& names) {
  uint64_t mask = 0;
  for (const auto& name : names) {
    mask |= uint64_t{1} << contract_json().at("feature_bits").at(name.get<std::string>()).get<int>();
  }
  return mask;
}

constexpr bool offers(const c::DeviceSpec& d, uint32_t bit) {
  return (d.features_offered & c::feature_mask(bit)) != 0;
}
constexpr bool forbids(const c::DeviceSpec& d, uint32_t bit) {
  return (d.features_forbidden & c::feature_mask(bit)) != 0;
}

// FEAT-1 for every device: VERSION_1 and INDIRECT_DESC offered, EVENT_IDX and
// PACKED never offered (and listed as forbidden), nothing both.
constexpr bool feat1_holds(const c::DeviceSpec& d) {
  return offers(d, c::kFeatureVersion1) && offers(d, c::kFeatureRingIndirectDesc) &&
         !offers(d, c::kFeatureRingEventIdx) && !offers(d, c::kFeatureRingPacked) &&
         forbids(d, c::kFeatureRingEventIdx) && forbids(d, c::kFeatureRingPacked) &&
         (d.features_offered & d.features_forbidden) == 0;
}

constexpr bool feat1_holds_for_all() {
  for (const auto& d : c::kDevices) {
    if (!feat1_holds(d)) return false;
  }
  return true;
}

}  // namespace

// Fixed values of the contract, checked at compile time.
static_assert(c::kMajor == 1 && c::kPciRevision == 0x01, "PCI-3");
static_assert(c::kVendorId == 0x1AF4, "PCI-1");
static_assert(c::kNumDevices == 4);
static_assert(c::kNet.device_id == 0x1041 && c::kNet.virtio_type == 1, "PCI-2");
static_assert(c::kBlk.device_id == 0x1042 && c::kBlk.virtio_type == 2, "PCI-2");
static_assert(c::kInput.device_id == 0x1052 && c::kInput.virtio_type == 18, "PCI-2");
static_assert(c::kSnd.device_id == 0x1059 && c::kSnd.virtio_type == 25, "PCI-2");
static_assert(c::kBlk.class_base == 0x01 && c::kBlk.class_sub == 0x00 && c::kBlk.class_prog_if == 0x00,
              "PCI-7: the boot disk's CriticalDeviceDatabase keys depend on this");
static_assert(c::kInput.num_functions == 3 && c::kInput.functions[0].function == 0 &&
                  c::kInput.functions[2].function == 2 && !c::kInput.functions[2].required,
              "PCI-6");
static_assert(c::kBlk.num_queues == 1 && c::kBlk.queues[0].size == 128, "VQ-3 / BLK-1");
static_assert(c::kNet.num_queues == 2 && c::kNet.queues[0].size == 256 && c::kNet.queues[1].size == 256,
              "VQ-3 / NET-1");
static_assert(c::kSnd.num_queues == 4 && c::kSnd.queues[2].size == 256, "VQ-3 / SND-1");
static_assert(c::kFeatureVersion1 == 32 && c::kFeatureRingIndirectDesc == 28 &&
                  c::kFeatureRingEventIdx == 29 && c::kFeatureRingPacked == 34,
              "FEAT-1 bit numbers");
static_assert(feat1_holds_for_all(), "FEAT-1");
static_assert(c::find_rule("VQ-7")->kind == 'P' && c::find_rule("PCI-1")->kind == 'M');
static_assert(c::has_rule("DRV-2") && !c::has_rule("DRV-3") && c::find_rule("DRV-3") == nullptr);
static_assert(c::find_device("blk")->device_id == 0x1042);
static_assert(c::find_feature("NET_MAC") == 5 && c::find_feature("NO_SUCH") == -1);

TEST_CASE("contract header constants match the JSON", "[contract][PCI-1][PCI-3]") {
  const auto& j = contract_json();
  CHECK(std::string(c::kContractName) == j.at("contract").get<std::string>());
  CHECK(c::kMajor == j.at("major").get<uint32_t>());
  CHECK(uint64_t{c::kPciRevision} == j.at("pci_revision").get<uint64_t>());
  CHECK(uint64_t{c::kVendorId} == hex(j.at("vendor_id")));
}

TEST_CASE("contract header feature bits match the JSON", "[contract][FEAT-1][BLK-2][NET-2]") {
  const auto& bits = contract_json().at("feature_bits");
  REQUIRE(c::kNumFeatures == bits.size());
  for (const auto& f : c::kFeatures) {
    INFO(f.name);
    REQUIRE(bits.contains(f.name));
    CHECK(f.bit == bits.at(f.name).get<uint32_t>());
  }
  // The named constants: one per feature_bits entry, CamelCase of its name.
  const std::vector<std::pair<std::string, uint32_t>> named = {
      {"VERSION_1", c::kFeatureVersion1},
      {"RING_INDIRECT_DESC", c::kFeatureRingIndirectDesc},
      {"RING_EVENT_IDX", c::kFeatureRingEventIdx},
      {"RING_PACKED", c::kFeatureRingPacked},
      {"BLK_SEG_MAX", c::kFeatureBlkSegMax},
      {"BLK_RO", c::kFeatureBlkRo},
      {"BLK_BLK_SIZE", c::kFeatureBlkBlkSize},
      {"BLK_FLUSH", c::kFeatureBlkFlush},
      {"BLK_MQ", c::kFeatureBlkMq},
      {"BLK_DISCARD", c::kFeatureBlkDiscard},
      {"BLK_WRITE_ZEROES", c::kFeatureBlkWriteZeroes},
      {"NET_CSUM", c::kFeatureNetCsum},
      {"NET_GUEST_CSUM", c::kFeatureNetGuestCsum},
      {"NET_MAC", c::kFeatureNetMac},
      {"NET_GUEST_TSO4", c::kFeatureNetGuestTso4},
      {"NET_GUEST_TSO6", c::kFeatureNetGuestTso6},
      {"NET_GUEST_ECN", c::kFeatureNetGuestEcn},
      {"NET_GUEST_UFO", c::kFeatureNetGuestUfo},
      {"NET_HOST_TSO4", c::kFeatureNetHostTso4},
      {"NET_HOST_TSO6", c::kFeatureNetHostTso6},
      {"NET_HOST_ECN", c::kFeatureNetHostEcn},
      {"NET_HOST_UFO", c::kFeatureNetHostUfo},
      {"NET_MRG_RXBUF", c::kFeatureNetMrgRxbuf},
      {"NET_STATUS", c::kFeatureNetStatus},
      {"NET_CTRL_VQ", c::kFeatureNetCtrlVq},
      {"NET_MQ", c::kFeatureNetMq},
  };
  CHECK(named.size() == bits.size());
  for (const auto& [name, bit] : named) {
    INFO(name);
    REQUIRE(bits.contains(name));
    CHECK(bit == bits.at(name).get<uint32_t>());
    CHECK(c::find_feature(name.c_str()) == static_cast<int>(bit));
  }
}

TEST_CASE("contract header devices match the JSON",
          "[contract][PCI-1][PCI-2][PCI-4][PCI-6][PCI-7][VQ-3][BLK-1][NET-1][INP-1][SND-1][VER-1]") {
  const auto& devices = contract_json().at("devices");
  REQUIRE(c::kNumDevices == devices.size());
  for (size_t i = 0; i < c::kNumDevices; ++i) {
    const c::DeviceSpec& spec = c::kDevices[i];
    const auto& d = devices.at(i);
    const auto& pci = d.at("pci");
    const auto& windows = d.at("windows");
    INFO("device " << d.at("name").get<std::string>());

    CHECK(std::string(spec.name) == d.at("name").get<std::string>());
    CHECK(spec.virtio_type == d.at("virtio_type").get<uint32_t>());
    CHECK(uint64_t{spec.vendor_id} == hex(pci.at("vendor_id")));
    CHECK(uint64_t{spec.device_id} == hex(pci.at("device_id")));
    CHECK(uint64_t{spec.subsystem_vendor_id} == hex(pci.at("subsystem_vendor_id")));
    CHECK(uint64_t{spec.revision} == hex(pci.at("revision")));
    CHECK(uint64_t{spec.class_base} == hex(pci.at("class").at("base")));
    CHECK(uint64_t{spec.class_sub} == hex(pci.at("class").at("sub")));
    CHECK(uint64_t{spec.class_prog_if} == hex(pci.at("class").at("prog_if")));

    const auto& queues = d.at("queues");
    REQUIRE(size_t{spec.num_queues} == queues.size());
    for (size_t q = 0; q < queues.size(); ++q) {
      INFO("queue " << q);
      CHECK(std::string(spec.queues[q].name) == queues.at(q).at("name").get<std::string>());
      CHECK(spec.queues[q].index == queues.at(q).at("index").get<uint16_t>());
      CHECK(spec.queues[q].size == queues.at(q).at("size").get<uint16_t>());
    }

    const auto& functions = d.at("functions");
    REQUIRE(size_t{spec.num_functions} == functions.size());
    for (size_t f = 0; f < functions.size(); ++f) {
      const auto& jf = functions.at(f);
      INFO("function " << f);
      CHECK(uint64_t{spec.functions[f].function} == jf.at("function").get<uint64_t>());
      CHECK(std::string(spec.functions[f].role) == jf.at("role").get<std::string>());
      CHECK(uint64_t{spec.functions[f].subsystem_id} == hex(jf.at("subsystem_id")));
      CHECK(std::string(spec.functions[f].hardware_id) == jf.at("hardware_id").get<std::string>());
      CHECK(spec.functions[f].required == jf.at("required").get<bool>());
    }

    CHECK(spec.features_offered == mask_of(d.at("features_offered")));
    CHECK(spec.features_forbidden == mask_of(d.at("features_forbidden")));

    CHECK(std::string(spec.inf) == windows.at("inf").get<std::string>());
    CHECK(std::string(spec.service) == windows.at("service").get<std::string>());
    CHECK(std::string(spec.setup_class) == windows.at("setup_class").get<std::string>());
    CHECK(std::string(spec.setup_class_guid) == windows.at("setup_class_guid").get<std::string>());
    CHECK(std::string(spec.start_type) == windows.at("start_type").get<std::string>());
    CHECK(std::string(spec.load_order_group) == windows.value("load_order_group", std::string()));
  }
}

TEST_CASE("contract hardware IDs are built from the PCI IDs and the revision",
          "[contract][PCI-4][PCI-6][VER-1]") {
  for (const auto& d : c::kDevices) {
    for (size_t f = 0; f < d.num_functions; ++f) {
      const c::FunctionSpec& fn = d.functions[f];
      char expected[96];
      if (d.num_functions > 1) {
        // Functions of a multi-function device are told apart by subsystem ID.
        std::snprintf(expected, sizeof expected, "PCI\\VEN_%04X&DEV_%04X&SUBSYS_%04X%04X&REV_%02X",
                      unsigned{d.vendor_id}, unsigned{d.device_id}, unsigned{fn.subsystem_id},
                      unsigned{d.subsystem_vendor_id}, unsigned{d.revision});
      } else {
        std::snprintf(expected, sizeof expected, "PCI\\VEN_%04X&DEV_%04X&REV_%02X",
                      unsigned{d.vendor_id}, unsigned{d.device_id}, unsigned{d.revision});
      }
      INFO(d.name << " function " << f);
      CHECK(std::string(fn.hardware_id) == expected);
      CHECK(d.revision == c::kPciRevision);
      CHECK(d.vendor_id == c::kVendorId);
      CHECK(fn.function == f);
    }
  }
}

TEST_CASE("contract header names kNet, kBlk, kInput and kSnd after their devices", "[contract]") {
  CHECK(std::string(c::kNet.name) == "net");
  CHECK(std::string(c::kBlk.name) == "blk");
  CHECK(std::string(c::kInput.name) == "input");
  CHECK(std::string(c::kSnd.name) == "snd");
  for (const auto& d : c::kDevices) {
    INFO(d.name);
    CHECK(c::find_device(d.name) == &d);
  }
  CHECK(c::find_device("gpu") == nullptr);
}

TEST_CASE("contract header feature sets obey FEAT-1, BLK-2 and NET-2",
          "[contract][FEAT-1][BLK-2][NET-2][INP-1][SND-1]") {
  for (const auto& d : c::kDevices) {
    INFO(d.name);
    CHECK(feat1_holds(d));
    CHECK((d.features_offered & d.features_forbidden) == 0);
  }
  // BLK-2
  CHECK(offers(c::kBlk, c::kFeatureBlkSegMax));
  CHECK(offers(c::kBlk, c::kFeatureBlkBlkSize));
  CHECK(offers(c::kBlk, c::kFeatureBlkFlush));
  for (uint32_t bit : {c::kFeatureBlkRo, c::kFeatureBlkDiscard, c::kFeatureBlkWriteZeroes,
                       c::kFeatureBlkMq}) {
    INFO("blk bit " << bit);
    CHECK(forbids(c::kBlk, bit));
  }
  // NET-2
  CHECK(offers(c::kNet, c::kFeatureNetMac));
  CHECK(offers(c::kNet, c::kFeatureNetStatus));
  for (uint32_t bit :
       {c::kFeatureNetMrgRxbuf, c::kFeatureNetCtrlVq, c::kFeatureNetMq, c::kFeatureNetCsum,
        c::kFeatureNetGuestCsum, c::kFeatureNetGuestTso4, c::kFeatureNetGuestTso6,
        c::kFeatureNetGuestEcn, c::kFeatureNetGuestUfo, c::kFeatureNetHostTso4,
        c::kFeatureNetHostTso6, c::kFeatureNetHostEcn, c::kFeatureNetHostUfo}) {
    INFO("net bit " << bit);
    CHECK(forbids(c::kNet, bit));
  }
  // INP-1 / SND-1: exactly the two ring features.
  const uint64_t ring_only = c::feature_mask(c::kFeatureVersion1) |
                             c::feature_mask(c::kFeatureRingIndirectDesc);
  CHECK(c::kInput.features_offered == ring_only);
  CHECK(c::kSnd.features_offered == ring_only);
}

TEST_CASE("contract header rules match the JSON", "[contract]") {
  const auto& rules = contract_json().at("rules");
  REQUIRE(c::kNumRules == rules.size());
  for (size_t i = 0; i < c::kNumRules; ++i) {
    const auto& r = rules.at(i);
    INFO("rule " << r.at("id").get<std::string>());
    CHECK(std::string(c::kRules[i].id) == r.at("id").get<std::string>());
    CHECK(std::string(1, c::kRules[i].kind) == r.at("kind").get<std::string>());
    CHECK(std::string(c::kRules[i].section) == r.at("section").get<std::string>());
    CHECK(std::string(c::kRules[i].title) == r.at("title").get<std::string>());
    CHECK(c::find_rule(c::kRules[i].id) == &c::kRules[i]);
    CHECK(c::has_rule(c::kRules[i].id));
  }
  CHECK(c::find_rule("NOPE-1") == nullptr);
  CHECK(c::find_rule("PCI-") == nullptr);
  CHECK(c::find_rule("PCI-10") == nullptr);
}
