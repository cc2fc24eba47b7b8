// virtio-snd wire format as the contract fixes it (SND-2..SND-8) and the
// virtio 1.2 sound device defines it: request and status codes, the control
// message layouts, the fixed stream parameters and the PCM transfer header
// and status. Freestanding: shared by the device model, its tests, the
// fuzzer and the driver core (drivers/windows7/common/snd_core.cpp), so both
// ends use one definition. Every multi-byte field is little-endian; structs
// are described by offsets, never overlaid on guest memory.
#pragma once

#include <stdint.h>

namespace aerov::model::devices::snd {

// Device configuration (SND-2): {le32 jacks, le32 streams, le32 chmaps}.
inline constexpr uint32_t kConfigJacks = 0x00;
inline constexpr uint32_t kConfigStreams = 0x04;
inline constexpr uint32_t kConfigChmaps = 0x08;
inline constexpr uint32_t kConfigBytes = 0x0C;
inline constexpr uint32_t kStreamCount = 2;

// Queue indices (SND-1).
inline constexpr uint16_t kControlQueue = 0;
inline constexpr uint16_t kEventQueue = 1;
inline constexpr uint16_t kTxQueue = 2;
inline constexpr uint16_t kRxQueue = 3;

// Control request codes (virtio_snd_hdr.code).
inline constexpr uint32_t kReqPcmInfo = 0x0100;
inline constexpr uint32_t kReqPcmSetParams = 0x0101;
inline constexpr uint32_t kReqPcmPrepare = 0x0102;
inline constexpr uint32_t kReqPcmRelease = 0x0103;
inline constexpr uint32_t kReqPcmStart = 0x0104;
inline constexpr uint32_t kReqPcmStop = 0x0105;

// Status codes, in control responses and PCM status alike.
inline constexpr uint32_t kStatusOk = 0x8000;
inline constexpr uint32_t kStatusBadMsg = 0x8001;
inline constexpr uint32_t kStatusNotSupp = 0x8002;
inline constexpr uint32_t kStatusIoErr = 0x8003;

// virtio_snd_hdr {le32 code}: the response header too.
inline constexpr uint32_t kHdrBytes = 4;
// virtio_snd_pcm_hdr {hdr, le32 stream_id}: PREPARE, RELEASE, START, STOP.
inline constexpr uint32_t kPcmHdrBytes = 8;
inline constexpr uint32_t kPcmHdrStreamId = 4;
// virtio_snd_query_info {hdr, le32 start_id, le32 count, le32 size}.
inline constexpr uint32_t kQueryInfoBytes = 16;
inline constexpr uint32_t kQueryStartId = 4;
inline constexpr uint32_t kQueryCount = 8;
inline constexpr uint32_t kQuerySize = 12;
// virtio_snd_pcm_info {le32 hda_fn_nid, le32 features, le64 formats,
// le64 rates, u8 direction, u8 channels_min, u8 channels_max, u8 pad[5]}.
inline constexpr uint32_t kPcmInfoBytes = 32;
inline constexpr uint32_t kInfoFeatures = 4;
inline constexpr uint32_t kInfoFormats = 8;
inline constexpr uint32_t kInfoRates = 16;
inline constexpr uint32_t kInfoDirection = 24;
inline constexpr uint32_t kInfoChannelsMin = 25;
inline constexpr uint32_t kInfoChannelsMax = 26;
// virtio_snd_pcm_set_params {pcm_hdr, le32 buffer_bytes, le32 period_bytes,
// le32 features, u8 channels, u8 format, u8 rate, u8 pad}.
inline constexpr uint32_t kSetParamsBytes = 24;
inline constexpr uint32_t kParamsBufferBytes = 8;
inline constexpr uint32_t kParamsPeriodBytes = 12;
inline constexpr uint32_t kParamsFeatures = 16;
inline constexpr uint32_t kParamsChannels = 20;
inline constexpr uint32_t kParamsFormat = 21;
inline constexpr uint32_t kParamsRate = 22;

// Directions, and the format and rate enum indices the contract fixes.
inline constexpr uint8_t kDirectionOutput = 0;
inline constexpr uint8_t kDirectionInput = 1;
inline constexpr uint8_t kFormatS16 = 5;
inline constexpr uint8_t kRate48000 = 7;

// SND-3: both streams S16_LE at 48000 Hz; playback stereo, capture mono.
inline constexpr uint32_t kPlaybackStream = 0;
inline constexpr uint32_t kCaptureStream = 1;
inline constexpr uint32_t kFrameRate = 48000;
inline constexpr uint32_t kSampleBytes = 2;
inline constexpr uint8_t kPlaybackChannels = 2;
inline constexpr uint8_t kCaptureChannels = 1;

constexpr uint8_t stream_channels(uint32_t stream) {
  return stream == kPlaybackStream ? kPlaybackChannels : kCaptureChannels;
}
constexpr uint32_t frame_bytes(uint32_t stream) { return kSampleBytes * stream_channels(stream); }

// PCM transfers (SND-6, SND-7): virtio_snd_pcm_xfer {le32 stream_id} plus
// the contract's le32 reserved, then the payload, then
// virtio_snd_pcm_status {le32 status, le32 latency_bytes}.
inline constexpr uint32_t kXferHdrBytes = 8;
inline constexpr uint32_t kPcmStatusBytes = 8;
// SND-8: the largest PCM payload of one buffer.
inline constexpr uint32_t kMaxPayloadBytes = 262144;

}  // namespace aerov::model::devices::snd
