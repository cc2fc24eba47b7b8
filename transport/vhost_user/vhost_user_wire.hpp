// vhost-user wire format (QEMU docs/interop/vhost-user.rst): the front-end
// (QEMU) and back-end (us) exchange messages over a UNIX socket, each a
// 12-byte header followed by `size` payload bytes, file descriptors riding
// along as SCM_RIGHTS ancillary data. All fields are little-endian; we only
// run on little-endian hosts (static_assert below).
#pragma once

#include <bit>
#include <cstdint>
#include <string_view>

namespace aerov::transport::vhost_user {

static_assert(std::endian::native == std::endian::little, "vhost-user payloads are little-endian");

// Front-end requests we know by number.
enum class Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSendRarp = 19,
  kNetSetMtu = 20,
  kSetBackendReqFd = 21,
  kIotlbMsg = 22,
  kSetVringEndian = 23,
  kGetConfig = 24,
  kSetConfig = 25,
  kGetInflightFd = 31,
  kSetInflightFd = 32,
  kResetDevice = 34,
  kGetMaxMemSlots = 36,
  kSetStatus = 39,
  kGetStatus = 40,
};

std::string_view request_name(uint32_t request);

// Header flags: bits 0-1 version (always 1), bit 2 reply, bit 3 need_reply.
inline constexpr uint32_t kVersion = 0x1;
inline constexpr uint32_t kVersionMask = 0x3;
inline constexpr uint32_t kFlagReply = 1u << 2;
inline constexpr uint32_t kFlagNeedReply = 1u << 3;

inline constexpr uint32_t kHeaderBytes = 12;
// The largest payload we accept: a memory table of kMaxRegions or a config
// window of kMaxConfigBytes fit well below it. Anything larger is a framing
// error and ends the connection.
inline constexpr uint32_t kMaxPayloadBytes = 4096;
inline constexpr uint32_t kMaxRegions = 8;
inline constexpr uint32_t kMaxFdsPerMessage = 8;
inline constexpr uint32_t kMaxConfigBytes = 256;
// Rings a back-end serves at most (virtio-net with one queue pair has 2,
// virtio-input 2, virtio-blk 1).
inline constexpr uint32_t kMaxRings = 8;

// Virtio feature bit the back-end sets in GET_FEATURES to say it speaks the
// protocol-feature extension.
inline constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;
inline constexpr uint64_t kFeatureRingIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureRingEventIdx = 1ull << 29;

// Protocol feature bits.
inline constexpr uint64_t kProtocolMq = 1ull << 0;
inline constexpr uint64_t kProtocolReplyAck = 1ull << 3;
inline constexpr uint64_t kProtocolConfig = 1ull << 9;

// Payload of SET_VRING_KICK / CALL / ERR: ring index in bits 0-7, bit 8
// set when no file descriptor accompanies the message.
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNoFd = 1ull << 8;

#pragma pack(push, 1)
struct MsgHeader {
  uint32_t request;
  uint32_t flags;
  uint32_t size;
};

struct VringState {  // SET_VRING_NUM / BASE, GET_VRING_BASE, SET_VRING_ENABLE
  uint32_t index;
  uint32_t num;
};

struct VringAddr {  // SET_VRING_ADDR; addresses are front-end virtual addresses
  uint32_t index;
  uint32_t flags;
  uint64_t desc_user_addr;
  uint64_t used_user_addr;
  uint64_t avail_user_addr;
  uint64_t log_guest_addr;
};

struct MemRegion {
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t mmap_offset;
};

struct MemTableHeader {
  uint32_t nregions;
  uint32_t padding;
};

struct ConfigHeader {  // GET_CONFIG / SET_CONFIG, followed by `size` bytes
  uint32_t offset;
  uint32_t size;
  uint32_t flags;
};
#pragma pack(pop)

static_assert(sizeof(MsgHeader) == kHeaderBytes);
static_assert(sizeof(VringAddr) == 40);
static_assert(sizeof(MemRegion) == 32);
static_assert(sizeof(ConfigHeader) == 12);

}  // namespace aerov::transport::vhost_user
