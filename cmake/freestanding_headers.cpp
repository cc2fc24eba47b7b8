// Compiles every header that ships in the Windows drivers under the
// freestanding flags, so a header that pulls in hosted code fails the build
// (and the mingw-w64 check) even before any driver source includes it.
#include "aerov/contract/windows_device_contract.hpp"
#include "drivers/windows7/common/blk_core.hpp"
#include "drivers/windows7/common/input_core.hpp"
#include "drivers/windows7/common/interrupts.hpp"
#include "drivers/windows7/common/little_endian.hpp"
#include "drivers/windows7/common/net_core.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "drivers/windows7/common/snd_core.hpp"
#include "model/devices/blk/blk_wire.hpp"
#include "model/devices/input/input_wire.hpp"
#include "model/devices/net/net_wire.hpp"
#include "model/devices/snd/snd_wire.hpp"
#include "model/pci/config_registers.hpp"
#include "transport/driver/pci_access.hpp"
#include "transport/driver/virtio_pci_caps.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "transport/virtio_pci_regs.hpp"
#include "virtqueue/driver/driver_queue.hpp"
#include "virtqueue/layout.hpp"
#include "virtqueue/ordering.hpp"

namespace aerov {
// Keeps one symbol in the object so the archive is not empty.
unsigned freestanding_headers_probe() { return contract::kMajor; }
}  // namespace aerov
