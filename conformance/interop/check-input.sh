#!/usr/bin/env bash
# Host-side check of the input interop run: the guest read from /dev/input
# exactly the events the host injected (inject.txt), each batch ending in
# SYN_REPORT, in order.
set -uo pipefail
run_dir=$1 console=$2
got=$(grep -a '^AEROV-EV ' "$console" | tr -d '\r' | sed 's/^AEROV-EV //')
want=""
while read -r op code value; do
  [ "$op" = key ] || continue
  want+="1 $code $value"$'\n'"0 0 0"$'\n'
done < "$run_dir/inject.txt"
want=${want%$'\n'}
if [ "$got" != "$want" ]; then
  echo "guest read:"; echo "$got" | sed 's/^/  /'
  echo "host injected:"; echo "$want" | sed 's/^/  /'
  exit 1
fi
echo "interop input: guest read the $(echo "$got" | wc -l) injected events in order"
