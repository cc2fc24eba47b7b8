#include "model/backends/net/scripted_peer.hpp"

#include <algorithm>
#include <cstring>

namespace aerov::model::backends {

namespace {

constexpr size_t kEthHeader = 14;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr size_t kArpBody = 28;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIcmpEchoReply = 0;
constexpr uint8_t kIcmpEchoRequest = 8;

uint16_t be16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

void put_be16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}

template <size_t N>
bool equal_at(std::span<const uint8_t> b, size_t at, const std::array<uint8_t, N>& v) {
  return std::equal(v.begin(), v.end(), b.begin() + static_cast<ptrdiff_t>(at));
}

template <typename Range>
void put(std::vector<uint8_t>& b, size_t at, const Range& r) {
  std::copy(r.begin(), r.end(), b.begin() + static_cast<ptrdiff_t>(at));
}

}  // namespace

uint16_t internet_checksum(std::span<const uint8_t> bytes) {
  uint32_t sum = 0;
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += static_cast<uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  if (i < bytes.size()) sum += static_cast<uint32_t>(bytes[i] << 8);
  while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void ScriptedPeer::transmit(std::span<const uint8_t> frame) {
  if (frame.size() < kEthHeader) {
    ++stats_.malformed;
    return;
  }
  switch (be16(frame, 12)) {
    case kEtherTypeArp: answer_arp(frame); break;
    case kEtherTypeIpv4: answer_ipv4(frame); break;
    default: ++stats_.ignored; break;
  }
}

void ScriptedPeer::answer_arp(std::span<const uint8_t> frame) {
  if (frame.size() < kEthHeader + kArpBody) {
    ++stats_.malformed;
    return;
  }
  const auto arp = frame.subspan(kEthHeader, kArpBody);
  // htype Ethernet, ptype IPv4, hlen 6, plen 4, oper request.
  if (be16(arp, 0) != 1 || be16(arp, 2) != kEtherTypeIpv4 || arp[4] != 6 || arp[5] != 4 ||
      be16(arp, 6) != 1 || !equal_at(arp, 24, ip_)) {
    ++stats_.ignored;
    return;
  }
  reply_.assign(kEthHeader + kArpBody, 0);
  put(reply_, 0, arp.subspan(8, 6));  // to the requester's hardware address
  put(reply_, 6, mac_);
  put_be16(reply_, 12, kEtherTypeArp);
  put_be16(reply_, 14, 1);
  put_be16(reply_, 16, kEtherTypeIpv4);
  reply_[18] = 6;
  reply_[19] = 4;
  put_be16(reply_, 20, 2);                         // oper reply
  put(reply_, 22, mac_);                           // sha
  put(reply_, 28, ip_);                            // spa
  put(reply_, 32, arp.subspan(8, 6));              // tha = requester sha
  put(reply_, 38, arp.subspan(14, 4));             // tpa = requester spa
  ++stats_.arp_replies;
  send(reply_);
}

void ScriptedPeer::answer_ipv4(std::span<const uint8_t> frame) {
  const auto ip = frame.subspan(kEthHeader);
  if (ip.size() < 20 || (ip[0] >> 4) != 4) {
    ++stats_.malformed;
    return;
  }
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0F) * 4;
  const size_t total = be16(ip, 2);
  // Ethernet may pad the packet; total length bounds it, never the frame.
  if (ihl < 20 || total < ihl || total > ip.size() ||
      internet_checksum(ip.first(ihl)) != 0) {
    ++stats_.malformed;
    return;
  }
  if (ip[9] != kIpProtoIcmp || !equal_at(ip, 16, ip_)) {
    ++stats_.ignored;
    return;
  }
  if ((be16(ip, 6) & 0x3FFF) != 0) {  // MF set or a fragment offset: no reassembly
    ++stats_.malformed;
    return;
  }
  const auto icmp = ip.subspan(ihl, total - ihl);
  if (icmp.size() < 8) {
    ++stats_.malformed;
    return;
  }
  if (icmp[0] != kIcmpEchoRequest || icmp[1] != 0) {
    ++stats_.ignored;
    return;
  }
  if (internet_checksum(icmp) != 0) {
    ++stats_.malformed;
    return;
  }
  const size_t reply_ip = 20 + icmp.size();
  reply_.assign(kEthHeader + reply_ip, 0);
  put(reply_, 0, frame.subspan(6, 6));
  put(reply_, 6, mac_);
  put_be16(reply_, 12, kEtherTypeIpv4);
  reply_[14] = 0x45;
  put_be16(reply_, 16, static_cast<uint16_t>(reply_ip));
  put_be16(reply_, 18, be16(ip, 4));  // same IP id as the request
  reply_[22] = 64;                    // TTL
  reply_[23] = kIpProtoIcmp;
  put(reply_, 26, ip_);
  put(reply_, 30, ip.subspan(12, 4));
  put_be16(reply_, 24, internet_checksum(std::span(reply_).subspan(kEthHeader, 20)));
  const size_t at = kEthHeader + 20;
  put(reply_, at, icmp);
  reply_[at] = kIcmpEchoReply;
  reply_[at + 2] = 0;
  reply_[at + 3] = 0;
  put_be16(reply_, at + 2, internet_checksum(std::span(reply_).subspan(at)));
  ++stats_.echo_replies;
  send(reply_);
}

void ScriptedPeer::send(const std::vector<uint8_t>& frame) {
  if (port_ != nullptr) port_->receive_frame(frame);
}

}  // namespace aerov::model::backends
