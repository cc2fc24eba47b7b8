// BlkDevice as the transport sees it: queues (BLK-1), features (BLK-2),
// device configuration (BLK-3), reset and Bus Master gating.
#include <catch2/catch.hpp>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/backends/disk/faulty_disk.hpp"
#include "model/devices/blk/testing/blk_rig.hpp"
#include "model/devices/blk/testing/blk_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"
#include "transport/virtio_pci_regs.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;
namespace vq = aerov::virtqueue;
namespace blk = aerov::model::devices::blk;

TEST_CASE("blk.device: one requestq of the contract's size", "[blk][BLK-1]") {
  AEROV_CHECK_SCENARIO(check_queues());
}

TEST_CASE("blk.device: offered features are exactly the contract's", "[blk][BLK-2]") {
  AEROV_CHECK_SCENARIO(check_features());
}

TEST_CASE("blk.device: device configuration layout through the transport", "[blk][BLK-3]") {
  AEROV_CHECK_SCENARIO(check_config_layout());
}

TEST_CASE("blk.device: config reads at odd offsets and widths", "[blk][BLK-3]") {
  backends::RamDisk disk(0x0102030405ull);
  BlkDevice dev(disk, {.seg_max = 0x11});
  CHECK(dev.config_read(blk::kConfigCapacity, 8) == 0x0102030405ull);
  CHECK(dev.config_read(blk::kConfigCapacity + 4, 4) == 0x01);
  CHECK(dev.config_read(blk::kConfigCapacity + 1, 2) == 0x0304);
  CHECK(dev.config_read(blk::kConfigSizeMax, 4) == 0);
  CHECK(dev.config_read(blk::kConfigSizeMax, 8) == 0x11ull << 32);  // size_max, seg_max
  CHECK(dev.config_read(blk::kConfigGeometry, 4) == 0);
  CHECK(dev.config_read(blk::kConfigBlkSize, 4) == 512);
  CHECK(dev.config_read(blk::kConfigBlkSize + 1, 4) == 2);  // straddles the end: zeroes after
  CHECK(dev.config_read(blk::kConfigBlkSize, 8) == 512);
  for (uint32_t off = blk::kConfigBytes; off < 0x100; ++off) {
    CHECK(dev.config_read(off, 1) == 0);
  }
  CHECK(dev.config_read(0xFFFFFFF8u, 8) == 0);
  dev.config_write(blk::kConfigCapacity, 8, 1);
  dev.config_write(blk::kConfigSegMax, 4, 99);
  CHECK(dev.config_read(blk::kConfigCapacity, 8) == 0x0102030405ull);
  CHECK(dev.config_read(blk::kConfigSegMax, 4) == 0x11);
}

TEST_CASE("blk.device: seg_max is clamped to what one chain can carry", "[blk][BLK-3][VQ-7]") {
  backends::RamDisk disk(8);
  const uint32_t n = aerov::contract::kBlk.queues[0].size;
  CHECK(BlkDevice(disk, {.seg_max = 0}).seg_max() == 1);
  CHECK(BlkDevice(disk, {.seg_max = 5}).seg_max() == 5);
  CHECK(BlkDevice(disk, {.seg_max = 100000}).seg_max() == n - 2);
  CHECK(BlkDevice(disk).seg_max() == 126);
}

TEST_CASE("blk.device: identity from the contract", "[blk][PCI-2][BLK-1][BLK-2]") {
  backends::RamDisk disk(8);
  BlkDevice dev(disk);
  CHECK(dev.device_type() == aerov::contract::kBlk.virtio_type);
  CHECK(dev.device_features() == aerov::contract::kBlk.features_offered);
  CHECK(dev.num_queues() == aerov::contract::kBlk.num_queues);
  CHECK(dev.queue_size(0) == aerov::contract::kBlk.queues[0].size);
  CHECK(dev.queue_size(1) == 0);
}

TEST_CASE("blk.device: reset finishes backend transfers before it returns", "[blk][STAT-2]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk slow(ram, {.min_delay = 50, .max_delay = 50});
  BlkRig rig({.backend = &slow});
  const std::vector<uint8_t> data(512, 0x3C);
  rig.set_disk_bytes(7, data);
  rig.fill(BlkRig::kDataGpa, 0xCC, 512);
  const vq::Segment seg{BlkRig::kDataGpa, 512, true};
  rig.submit(0, blk::kTypeIn, 7, {&seg, 1});
  rig.kick();
  REQUIRE(rig.device->in_flight() == 1);
  REQUIRE(slow.in_flight() == 1);
  rig.driver.reset();
  CHECK(slow.in_flight() == 0);  // drained inside the reset
  CHECK(rig.device->in_flight() == 0);
  // The transfer happened (if at all) inside the reset; from here on the
  // driver owns the buffer again and reuses it.
  rig.fill(BlkRig::kDataGpa, 0xCC, 512);
  for (int i = 0; i < 100; ++i) rig.function->process_queue(0);
  CHECK(rig.peek(BlkRig::kDataGpa, 512) == std::vector<uint8_t>(512, 0xCC));
  CHECK(rig.status(0) == BlkRig::kStatusUnwritten);  // never completed to the driver
  // And the device comes back.
  rig.recover();
  CHECK(rig.read(7, BlkRig::kDataGpa, 512) == blk::kStatusOk);
  CHECK(rig.peek(BlkRig::kDataGpa, 512) == data);
}

TEST_CASE("blk.device: with Bus Master off, completions wait and no DMA happens",
          "[blk][BAR-4]") {
  backends::RamDisk ram(64);
  backends::FaultyDisk slow(ram, {.min_delay = 2, .max_delay = 2});
  BlkRig rig({.backend = &slow});
  rig.set_disk_bytes(3, std::vector<uint8_t>(512, 0x77));
  rig.fill(BlkRig::kDataGpa, 0xCC, 512);
  const vq::Segment seg{BlkRig::kDataGpa, 512, true};
  rig.submit(0, blk::kTypeIn, 3, {&seg, 1});
  rig.kick();
  const auto cmd = static_cast<uint16_t>(rig.pci->config_read(aerov::transport::reg::kCommand, 2));
  rig.pci->config_write(aerov::transport::reg::kCommand, 2, cmd & ~uint16_t{4});
  for (int i = 0; i < 20; ++i) rig.function->process_queue(0);
  CHECK(rig.peek(BlkRig::kDataGpa, 512) == std::vector<uint8_t>(512, 0xCC));
  CHECK(rig.reap().empty());
  rig.pci->config_write(aerov::transport::reg::kCommand, 2, cmd);
  rig.settle();
  const auto done = rig.reap();
  REQUIRE(done.size() == 1);
  CHECK(done[0].second.status == blk::kStatusOk);
  CHECK(rig.peek(BlkRig::kDataGpa, 512) == std::vector<uint8_t>(512, 0x77));
}
