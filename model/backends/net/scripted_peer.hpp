// A scripted host on the guest's link: it owns one MAC and one IPv4 address
// and answers exactly two things, enough for a guest to `ping` it:
//   * ARP requests (Ethernet/IPv4, oper 1) whose target is its address, with
//     an ARP reply (42 bytes, no padding: NET-5 allows frames from 14 bytes);
//   * ICMP echo requests (type 8, code 0) to its address in unfragmented
//     IPv4 packets with a valid header checksum, with an echo reply carrying
//     the same identifier, sequence and payload (IP options are not echoed;
//     the reply has a 20-byte header, TTL 64, the request's IP id).
// Every other frame is ignored and counted, never an error. Replies are
// delivered synchronously, from inside transmit().
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "model/backends/net/net_backend.hpp"

namespace aerov::model::backends {

using MacAddress = std::array<uint8_t, 6>;
using Ipv4Address = std::array<uint8_t, 4>;

struct ScriptedPeerStats {
  uint64_t arp_replies = 0;
  uint64_t echo_replies = 0;
  uint64_t ignored = 0;       // not for us, or not ARP/ICMP echo
  uint64_t malformed = 0;     // truncated, bad IPv4 checksum, fragments
};

class ScriptedPeer final : public NetBackend {
 public:
  ScriptedPeer(MacAddress mac, Ipv4Address ip) : mac_(mac), ip_(ip) {}

  void attach(NetPort* port) override { port_ = port; }
  void transmit(std::span<const uint8_t> frame) override;

  const ScriptedPeerStats& stats() const { return stats_; }
  MacAddress mac() const { return mac_; }
  Ipv4Address ip() const { return ip_; }

 private:
  void answer_arp(std::span<const uint8_t> frame);
  void answer_ipv4(std::span<const uint8_t> frame);
  void send(const std::vector<uint8_t>& frame);

  MacAddress mac_;
  Ipv4Address ip_;
  NetPort* port_ = nullptr;
  ScriptedPeerStats stats_;
  std::vector<uint8_t> reply_;  // reused
};

// The Internet checksum (RFC 1071) of `bytes`: ones' complement of the
// ones' complement sum of big-endian 16-bit words, odd byte padded with 0.
uint16_t internet_checksum(std::span<const uint8_t> bytes);

}  // namespace aerov::model::backends
