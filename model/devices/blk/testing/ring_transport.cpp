#include "model/devices/blk/testing/ring_transport.hpp"

namespace aerov::model::devices::testing {

virtqueue::RingError RingTransport::configure(const virtqueue::DeviceQueueConfig& config) {
  const virtqueue::RingError e = queue_.configure(memory_, config);
  if (e != virtqueue::RingError::kNone) needs_reset_ = true;
  return e;
}

void RingTransport::notify(transport::VirtioDevice& device) {
  if (needs_reset_ || !queue_.configured()) return;
  device.queue_notify(0, *this);
  if (queue_.ring_error() != virtqueue::RingError::kNone) needs_reset_ = true;
}

void RingTransport::reset(transport::VirtioDevice& device) {
  queue_.reset();
  needs_reset_ = false;
  device.reset();
}

void RingTransport::used_buffers_published(uint16_t) {
  ++publishes_;
  if (queue_.should_interrupt()) ++interrupts_;
}

}  // namespace aerov::model::devices::testing
