// SndDevice as the transport and the control queue see it: queues and
// features (SND-1), configuration (SND-2), streams (SND-3) and every control
// request in every state (SND-4).
#include <catch2/catch.hpp>

#include "aerov/contract/windows_device_contract.hpp"
#include "model/devices/snd/testing/snd_rig.hpp"
#include "model/devices/snd/testing/snd_scenarios.hpp"
#include "tests/model/devices/scenario_check.hpp"

using namespace aerov::model;
using namespace aerov::model::devices;
using namespace aerov::model::devices::testing;

TEST_CASE("snd.device: four queues of the contract's sizes, VERSION_1 and INDIRECT_DESC", "[snd][SND-1][FEAT-1]") {
  AEROV_CHECK_SCENARIO(check_snd_queues());
}

TEST_CASE("snd.device: configuration jacks 0, streams 2, chmaps 0", "[snd][SND-2]") {
  AEROV_CHECK_SCENARIO(check_snd_config());
}

TEST_CASE("snd.device: config reads at odd offsets and widths", "[snd][SND-2]") {
  SndDevice dev(nullptr, nullptr);
  CHECK(dev.config_read(4, 4) == 2u);
  CHECK(dev.config_read(0, 8) == 0x0000000200000000ull);
  CHECK(dev.config_read(3, 2) == 0x0200u);
  CHECK(dev.config_read(8, 8) == 0u);
  CHECK(dev.config_read(0xFFFFFFF0u, 8) == 0u);
  dev.config_write(4, 4, 9);
  CHECK(dev.config_read(4, 4) == 2u);
}

TEST_CASE("snd.device: identity through PCI config space", "[snd][PCI-2][PCI-4][PCI-7]") {
  SndRig rig;
  const auto& spec = aerov::contract::kSnd;
  CHECK(rig.pci->config_read(0x02, 2) == 0x1059u);
  CHECK(rig.pci->config_read(0x2E, 2) == spec.functions[0].subsystem_id);
  CHECK(rig.pci->config_read(0x0B, 1) == 0x04u);
  CHECK(rig.pci->config_read(0x0A, 1) == 0x01u);
}

TEST_CASE("snd.device: PCM_INFO describes the two fixed streams", "[snd][SND-3][SND-4]") {
  AEROV_CHECK_SCENARIO(check_snd_pcm_info());
}

TEST_CASE("snd.device: SET_PARAMS accepts only the fixed parameters", "[snd][SND-3][SND-4]") {
  AEROV_CHECK_SCENARIO(check_snd_set_params());
}

TEST_CASE("snd.device: every request in every state follows the PCM state machine", "[snd][SND-4]") {
  AEROV_CHECK_SCENARIO(check_snd_state_machine());
}

TEST_CASE("snd.device: malformed and unknown control requests", "[snd][SND-4]") {
  AEROV_CHECK_SCENARIO(check_snd_control_malformed());
}

TEST_CASE("snd.device: control statuses are counted per cause", "[snd][SND-4]") {
  SndRig rig;
  rig.pcm_command(0x0200, 0);                          // NOT_SUPP
  rig.pcm_command(aerov::model::devices::snd::kReqPcmStart, 0);  // BAD_MSG: idle
  rig.set_fixed_params(0);                             // OK
  const SndStats& s = rig.device->stats();
  CHECK(s.ctl_not_supp == 1);
  CHECK(s.ctl_bad_msg == 1);
  CHECK(s.ctl_bad_state == 1);
  CHECK(s.ctl_ok == 1);
}

TEST_CASE("snd.device: reset returns both streams to idle", "[snd][STAT-2][SND-4]") {
  SndRig rig;
  REQUIRE(rig.open_and_start(0));
  REQUIRE(rig.open_and_start(1));
  rig.recover();
  CHECK(rig.device->state(0) == PcmState::kIdle);
  CHECK(rig.device->state(1) == PcmState::kIdle);
  CHECK(rig.pcm_command(aerov::model::devices::snd::kReqPcmStart, 0).status ==
        aerov::model::devices::snd::kStatusBadMsg);
}
