// The portable core of the virtio-net NDIS 6.20 miniport (contract sections
// 3-5, 7 and 10: STAT-3, STAT-4, VQ-9, NET-1..NET-7, DRV-1, DRV-2).
//
// RX. The core owns 256 receive buffers of 10 + 1522 bytes (header and the
// largest frame, NET-4/NET-5) in DMA memory and keeps every one of them
// posted on rxq. A completed buffer is checked (used.len covers a header
// and a 14..1522 byte frame), handed up through the receive callback and
// posted again before the core moves on. The frame bytes are valid only
// during the callback: the NDIS glue copies them into its own NET_BUFFER
// (or indicates with NDIS_RECEIVE_FLAGS_RESOURCES), exactly as a miniport
// that must get its ring buffer back at once.
//
// TX. The glue turns a NET_BUFFER into a NetTxFrame (the physical fragments
// of its scatter-gather list and a cookie). The core puts a zeroed 10-byte
// header from its own DMA memory in front (NET-4, NET-6), submits header +
// fragments as one chain (one ring descriptor with INDIRECT_DESC), and
// calls the TX completion callback once per accepted frame when the device
// has used it. A frame the ring cannot take now is refused with kBusy and
// nothing is kept: the glue queues it and retries after a completion.
//
// Link (NET-3, CFG-4). With STATUS negotiated the core reads LINK_UP at init
// and after every config interrupt and reports changes through the link
// callback; without it the link is up. Frames are refused while it is down.
//
// Counters. Every frame that does not make it, on either side, is counted
// under exactly one cause (NetCounters), as NDIS statistics want them.
//
// Concurrency and memory as for BlkCore: the caller serialises every call,
// callbacks run inside interrupt()/poll() and may call transmit(); per-chain
// shadows are fixed arrays in the object, DMA memory is allocated once at
// init and reused across resets.
//
// Recovery (STAT-4, VQ-9). On DEVICE_NEEDS_RESET the core first takes what
// the device completed before it gave up (received frames are handed up).
// Then, as on a broken ring, it resets the device, brings it up in the same memory, posts every receive
// buffer again and reissues every TX frame the device had not completed:
// no accepted frame is lost or completed twice (a frame the device had sent
// before it broke may go out twice, which Ethernet tolerates). Too many
// resets without progress fail the device: outstanding frames complete
// with kAborted.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "drivers/windows7/common/interrupts.hpp"
#include "drivers/windows7/common/os_services.hpp"
#include "model/devices/net/net_wire.hpp"
#include "transport/driver/virtio_pci_driver.hpp"
#include "virtqueue/driver/driver_queue.hpp"

namespace aerov::drivers::windows7 {

enum class NetError : uint8_t {
  kNone = 0,
  kInvalidArgument,   // bad config, null frame, zero-length fragment
  kBadLength,         // frame outside 14..1522 bytes (NET-5)
  kTooManyFragments,  // more than kMaxTxFragments: the glue must coalesce
  kBusy,              // no room in txq now; retry after a TX completion
  kLinkDown,          // NET-3: the device reports no link
  kNotReady,          // init has not succeeded, or the device failed
  kTransport,         // see transport_error()
  kQueueSize,         // a queue size the core cannot use
  kNoMemory,          // OsServices::alloc_dma failed
  kQueueInit,         // DriverQueue refused the memory
  kDeviceChanged,     // after a reset the device offers less than before
};

enum class NetTxResult : uint8_t {
  kSent = 0,   // the device used the chain (NET-6: it may still have dropped it)
  kAborted,    // the device failed and the core gave up on it
};

const char* to_string(NetError e);

// One physical fragment of a frame (an SG element of the NET_BUFFER).
struct NetFragment {
  uint64_t addr;
  uint32_t len;
};

struct NetTxFrame {
  const NetFragment* fragments;  // must stay valid until the completion
  uint32_t fragment_count;
  void* cookie;                  // the caller's token (the NET_BUFFER_LIST)
};

using NetTxDoneFn = void (*)(void* context, void* cookie, NetTxResult result);
// `frame` points into the core's receive buffer: valid during the call only.
using NetRxFn = void (*)(void* context, const uint8_t* frame, uint32_t length);
using NetLinkFn = void (*)(void* context, bool up);

// The packet header's size. The contract's is 10 bytes (NET-4); a virtio
// 1.x device outside the contract (conformance/qtest: QEMU's virtio-net-pci)
// always has the 12-byte header with num_buffers once VERSION_1 is
// negotiated (virtio 1.2, 5.1.6).
enum class NetHeaderLayout : uint8_t { kContract = 0, kVirtio1 };

struct NetCoreConfig {
  NetTxDoneFn on_tx_done;
  NetRxFn on_receive;
  NetLinkFn on_link;  // may be null
  void* context;
  // kStrict (the contract, BAR-1/BAR-2/NTF-1) unless the caller drives a
  // device that is not ours (conformance/qtest: QEMU's own virtio-net-pci).
  transport::ValidationMode validation = transport::ValidationMode::kStrict;
  NetHeaderLayout header = NetHeaderLayout::kContract;
};

struct NetCounters {
  uint64_t tx_frames;            // accepted by transmit()
  uint64_t tx_bytes;
  uint64_t tx_completed;         // TX callbacks made (kSent or kAborted)
  uint64_t tx_aborted;
  uint64_t tx_refused_length;    // refused: kBadLength
  uint64_t tx_refused_fragments; // refused: kTooManyFragments
  uint64_t tx_refused_busy;      // refused: kBusy
  uint64_t tx_refused_link_down; // refused: kLinkDown
  uint64_t tx_refused_invalid;   // refused: kInvalidArgument / kNotReady
  uint64_t rx_frames;            // handed up
  uint64_t rx_bytes;
  uint64_t rx_runt;              // used.len < 10 + 14: dropped, buffer reposted
  uint64_t kicks;                // doorbells written (both queues)
  uint64_t interrupts;           // interrupt() calls that found ISR bits
  uint64_t messages;             // message_interrupt() calls that were ours
  uint64_t spurious;             // ISR 0 (shared INTx) or a message covering nothing
  uint64_t vector_fallbacks;     // MSI-X levels given up (see interrupts.hpp)
  uint64_t link_changes;         // link callback calls
  uint64_t config_changes;       // config interrupts without NEEDS_RESET
  uint64_t resets;               // recoveries (STAT-4, VQ-9)
  uint64_t os_resets;            // reset() calls served
  uint64_t reissued;             // TX chains placed again after a reset
};

class NetCore {
 public:
  static constexpr uint16_t kRxQueue = 0;
  static constexpr uint16_t kTxQueue = 1;
  // NET-1: both queues have 256 entries; every per-chain array is this big.
  static constexpr uint16_t kMaxQueueSize = 256;
  static constexpr uint32_t kHeaderBytes = model::devices::net::kHeaderBytes;  // NET-4
  static constexpr uint32_t kMinFrame = model::devices::net::kMinFrameBytes;   // NET-5
  static constexpr uint32_t kMaxFrame = model::devices::net::kMaxFrameBytes;
  static constexpr uint32_t kVirtio1HeaderBytes = 12;  // NetHeaderLayout::kVirtio1
  static constexpr uint32_t kRxBufferBytes = kHeaderBytes + kMaxFrame;
  // Fragments of one TX frame the core chains without coalescing.
  static constexpr uint16_t kMaxTxFragments = 32;
  static constexpr uint32_t kMaxResetsWithoutProgress = 4;

  // DRV-1, STAT-3: attach (strict, revision 1), reset, negotiate, read MAC
  // and status, allocate DMA memory, program rxq and txq, fill rxq,
  // DRIVER_OK.
  NetError init(OsServices& os, const NetCoreConfig& config);

  // Validates and submits one frame; kNone means on_tx_done runs for it
  // exactly once. Refusals are counted per cause.
  NetError transmit(const NetTxFrame& frame);

  // The INTx service routine (DRV-2); see BlkCore::interrupt().
  bool interrupt();
  // The MSI-X service routine for `message` (IRQ-4), as interrupts.hpp
  // describes: never reads ISR; behaves as interrupt() after a fallback to
  // INTx. With two messages rxq and txq share message 1; with three or more
  // each has its own.
  bool message_interrupt(uint16_t message);
  // Completes whatever the device finished without looking at ISR.
  void poll();
  // The reset the OS asks for (NDIS MiniportResetEx): takes what the device
  // completed (received frames go up), resets it, brings it up again in the
  // same memory, reposts every receive buffer and reissues every frame not
  // yet sent. Counted in os_resets, not resets. Ignored unless running.
  void reset();

  bool ready() const { return state_ == State::kRunning; }
  bool failed() const { return state_ == State::kFailed; }
  bool link_up() const { return link_up_; }
  InterruptMode interrupt_mode() const { return plan_.mode(); }
  const uint8_t* mac() const { return mac_; }
  uint64_t features() const { return features_; }
  uint16_t rx_queue_size() const { return rx_size_; }
  uint16_t tx_queue_size() const { return tx_size_; }
  uint16_t rx_posted() const { return rx_posted_; }
  uint16_t tx_in_flight() const { return tx_in_use_; }
  transport::TransportError transport_error() const { return transport_error_; }
  const NetCounters& counters() const { return counters_; }
  const virtqueue::DriverQueue& rx_queue() const { return rxq_; }
  const virtqueue::DriverQueue& tx_queue() const { return txq_; }

 private:
  enum class State : uint8_t { kUninitialized, kRunning, kFailed };

  struct TxSlot {
    bool busy;
    void* cookie;
    const NetFragment* fragments;
    uint16_t fragment_count;
  };

  NetError bring_up(bool first);
  NetError allocate();
  NetError read_config();
  bool post_rx(uint16_t buffer);
  virtqueue::DriverStatus add_tx_chain(uint16_t slot);
  void kick(virtqueue::DriverQueue& q, uint16_t index);
  void drain();
  void drain_queues(bool rx, bool tx);
  void harvest();
  bool drain_rx();
  bool drain_tx();
  void finish_tx(uint16_t slot, NetTxResult result);
  bool service(const InterruptWork& work, uint64_t* counter);
  void config_changed();
  void recover(const char* why);
  void restart();
  void fail_device();

  OsServices* os_ = nullptr;
  NetCoreConfig config_{};
  uint32_t header_bytes_ = kHeaderBytes;       // from config_.header
  uint32_t rx_buffer_bytes_ = kRxBufferBytes;  // header_bytes_ + kMaxFrame
  State state_ = State::kUninitialized;
  bool attached_ = false;
  transport::VirtioPciDriver driver_{};
  transport::TransportError transport_error_ = transport::TransportError::kNone;
  InterruptPlan plan_{};
  uint8_t config_generation_ = 0;

  uint64_t features_ = 0;
  uint8_t mac_[6] = {};
  bool link_up_ = false;
  uint16_t rx_size_ = 0;
  uint16_t tx_size_ = 0;

  virtqueue::DriverQueue rxq_{};
  virtqueue::DriverQueue txq_{};
  virtqueue::DriverQueueConfig rx_config_{};
  virtqueue::DriverQueueConfig tx_config_{};
  DmaRegion rx_ring_{};
  DmaRegion tx_ring_{};
  DmaRegion rx_buffers_{};   // rx_size_ buffers of rx_buffer_bytes_
  DmaRegion tx_headers_{};   // one zeroed header per TX slot
  DmaRegion tx_indirect_{};

  virtqueue::DescState rx_state_[kMaxQueueSize] = {};
  virtqueue::DescState tx_state_[kMaxQueueSize] = {};
  uint16_t rx_posted_ = 0;
  TxSlot tx_slots_[kMaxQueueSize] = {};
  uint16_t tx_free_[kMaxQueueSize] = {};
  uint16_t tx_free_count_ = 0;
  uint16_t tx_in_use_ = 0;
  virtqueue::Segment chain_[kMaxTxFragments + 1] = {};
  uint32_t resets_without_progress_ = 0;
  bool harvesting_ = false;
  NetCounters counters_{};
};

}  // namespace aerov::drivers::windows7
