# Sourced by scripts/bench_show_routes.sh and scripts/bench_show_bindings.sh:
# how long a daemon's loop is held while an operator lists a large table.
# The caller sets CTL, an array: nvectl and the options that reach the daemon.
#
#   measure_listing PREFIX NOUN LOOP HELD NAME WORDS...
#
# runs `nvectl WORDS` (into $W/listing.txt) while a probe asks `show version`
# back to back; the probe's slowest answer is how long the daemon's LOOP
# could not run. Prints a comment line, then RESULT PREFIX_NAME_total_ms and
# RESULT PREFIX_NAME_HELD_ms.
ms() { echo $(( $(date +%s%N) / 1000000 )); }

measure_listing() {
  local prefix=$1 noun=$2 loop=$3 held=$4 name=$5; shift 5
  local t0 t1 max=0 s e
  t0=$(ms)
  "${CTL[@]}" -t 600000 "$@" >"$W/listing.txt" & local lister=$!
  while kill -0 "$lister" 2>/dev/null; do
    s=$(ms); "${CTL[@]}" -t 600000 show version >/dev/null; e=$(ms)
    [ $(( e - s )) -gt "$max" ] && max=$(( e - s ))
  done
  wait "$lister"; local rc=$?
  t1=$(ms)
  # Text pages end in "next: ..." lines (ctl::Reply::page): not rows.
  echo "# $* : exit $rc, $(( $(grep -vc "^next: " "$W/listing.txt") - 1 )) $noun listed in $(( t1 - t0 )) ms; $loop held at most $max ms"
  echo "RESULT ${prefix}_${name}_total_ms $(( t1 - t0 )) ms"
  echo "RESULT ${prefix}_${name}_${held}_ms $max ms"
}
