# input: open our keyboard's event device, tell the host (AEROV-READY), read
# the 8 events it injects (two keys pressed and released, each with
# SYN_REPORT) and print them for the host to compare.
. /tests/lib.sh
ev=""
for e in /sys/class/input/event*; do
  case "$(cat "$e/device/name" 2>/dev/null)" in
    *Aero*) ev=/dev/input/${e##*/}; break ;;
  esac
done
[ -n "$ev" ] || fail "no Aero input device (names: $(cat /sys/class/input/event*/device/name 2>/dev/null | tr '\n' ','))"
echo "AEROV-INFO device=$ev name=$(cat /sys/class/input/${ev##*/}/device/name)"
cat "$ev" > /tmp/events &
reader=$!
sleep 1
echo "AEROV-READY"
want=$((8 * 24))  # struct input_event is 24 bytes on x86_64
i=0
while [ "$(wc -c < /tmp/events)" -lt "$want" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill $reader
got=$(wc -c < /tmp/events)
[ "$got" -ge "$want" ] || fail "cmd=[cat $ev] read $got bytes of events, want $want"
# Words 8..11 of each 12-word event: type, code, value (low, high).
od -An -v -tu2 /tmp/events | tr -s ' ' '\n' | grep -v '^$' |
  awk '{ w[NR % 12] = $1 } NR % 12 == 0 { v = w[10] + w[11] * 65536; if (v >= 2147483648) v -= 4294967296; print "AEROV-EV " w[8], w[9], v }'
