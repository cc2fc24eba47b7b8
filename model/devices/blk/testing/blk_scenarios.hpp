// virtio-blk scenarios shared by the Catch2 tests and the conformance suite.
// Each runs on fresh BlkRig machines, through the real transport, and
// returns what went wrong (empty: passed), so a test can print every
// failure and a conformance check can report the first.
#pragma once

#include "transport/testing/scenario_text.hpp"

namespace aerov::model::devices::testing {

using Failures = transport::testing::Failures;

// BLK-1: one queue, requestq (index 0) of the contract's size.
Failures check_queues();
// BLK-2: the offered features are exactly the contract's; negotiation works.
Failures check_features();
// BLK-3: capacity, size_max, seg_max, geometry, blk_size and zeroes after,
// at every width, through the driver's config reads and raw BAR0 reads.
Failures check_config_layout();
// BLK-4, BLK-5: IN, OUT and FLUSH through the real driver ring (direct and
// indirect descriptors, buffers below and above 4 GiB) move the right bytes.
Failures check_driver_round_trip();
// BLK-7: the status byte is written before the used entry is published, and
// used.len is 0.
Failures check_status_before_used();
// VQ-5, BLK-7: with a backend that completes out of order, requests
// complete out of order and each with the right status and data.
Failures check_out_of_order_completion();
// BLK-8: a completed FLUSH makes every earlier OUT durable (it survives a
// crash of a volatile write cache), and a FLUSH waits for OUTs in flight.
Failures check_flush_durability();
// VQ-8, STAT-4: ring corruption stops the device with DEVICE_NEEDS_RESET;
// the driver resets, resubmits what was lost, and everything completes.
Failures check_ring_corruption_recovery();

}  // namespace aerov::model::devices::testing
