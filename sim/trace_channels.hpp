// host_input / host_output channels of recorded simulation traces: what
// the host side did to a device (or got from it), so a replay can do the
// same to a fresh device model. One list for the recorder and the replayer.
#pragma once

#include <cstdint>

namespace aerov::sim::channel {

// host_input
inline constexpr uint16_t kFrame = 0;       // net: a frame from the peer (bytes = frame)
inline constexpr uint16_t kLink = 1;        // net: link state (bytes = {up})
inline constexpr uint16_t kNeedsReset = 2;  // the transport sets DEVICE_NEEDS_RESET (no bytes)
inline constexpr uint16_t kDiskDelay = 3;   // blk: FaultyDisk delay (bytes = le32 min, le32 max)
inline constexpr uint16_t kDiskErrors = 4;  // blk: FaultyDisk error rate (le32 ppm, u8 ops)
inline constexpr uint16_t kInputEvents = 5; // input: one injected batch (8 bytes per event, no SYN)
inline constexpr uint16_t kSndTime = 6;     // snd: stream time passes (le32 frames)
// host_output
inline constexpr uint16_t kSent = 0;        // net: a frame the device sent to the peer
inline constexpr uint16_t kPlayed = 1;      // snd: PCM bytes the device played to its sink

}  // namespace aerov::sim::channel
