#!/usr/bin/env bash
# Host-side checks of the net interop run: the guest's interface counters
# agree with the device model's, the scripted peer answered ARP and all five
# echo requests, and the capture holds every frame both ways.
set -uo pipefail
run_dir=$1 console=$2
line=$(grep -a 'AEROV-NET' "$console" | tail -1 | tr -d '\r')
[ -n "$line" ] || { echo "guest printed no counters"; exit 1; }
python3 - "$run_dir/stats.json" "$line" "$run_dir/net.pcap" <<'PY'
import json, struct, sys
stats = json.load(open(sys.argv[1]))["net"]
guest = dict(kv.split("=") for kv in sys.argv[2].split()[1:])
problems = []
if stats["echo_replies"] != 5: problems.append(f"peer sent {stats['echo_replies']} echo replies, want 5")
if stats["arp_replies"] < 1: problems.append("peer answered no ARP request")
if int(guest["tx_packets"]) != stats["tx_frames"]:
    problems.append(f"guest sent {guest['tx_packets']} frames, device took {stats['tx_frames']}")
if int(guest["rx_packets"]) != stats["rx_frames"]:
    problems.append(f"guest received {guest['rx_packets']} frames, device delivered {stats['rx_frames']}")
data = open(sys.argv[3], "rb").read()
records, at = 0, 24
while at + 16 <= len(data):
    incl = struct.unpack_from("<I", data, at + 8)[0]
    at += 16 + incl
    records += 1
if records != stats["tx_frames"] + stats["rx_frames"]:
    problems.append(f"pcap holds {records} frames, device moved {stats['tx_frames'] + stats['rx_frames']}")
for p in problems: print(p)
print(f"interop net: guest tx={guest['tx_packets']} rx={guest['rx_packets']}, device tx={stats['tx_frames']} "
      f"rx={stats['rx_frames']}, peer arp={stats['arp_replies']} echo={stats['echo_replies']}, pcap {records} frames")
sys.exit(1 if problems else 0)
PY
