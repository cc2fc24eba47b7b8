# net: bring the interface up, ping the back-end's scripted peer (ARP, then
# ICMP echo) and report the interface counters for the host to compare.
. /tests/lib.sh
ifc=""
for n in /sys/class/net/*; do
  [ "${n##*/}" = lo ] || { ifc=${n##*/}; break; }
done
[ -n "$ifc" ] || fail "no network interface besides lo (ls /sys/class/net: $(ls /sys/class/net))"
run ip link set "$ifc" up
run ip addr add 10.0.2.15/24 dev "$ifc"
run ping -c 5 -W 2 10.0.2.2
ip link set "$ifc" down
echo "AEROV-NET tx_packets=$(cat /sys/class/net/$ifc/statistics/tx_packets) rx_packets=$(cat /sys/class/net/$ifc/statistics/rx_packets) rx_dropped=$(cat /sys/class/net/$ifc/statistics/rx_dropped)"
