# ns per lookup against shard count, one chart per vindex, from the data
# bench --charts DIR writes (make bench: $(BUILD)/bench-charts).
#   gnuplot -e "datadir='build/bench-charts'; outdir='bench/charts'" bench/charts.gp
# Each DIR/lookup-VINDEX.dat row: shards minimal floor handle batch names
# rwlock mutex, ns per lookup, 1 reader, no writer, batch per key: the
# minimal lookup's median, every other column its median paired ratio to
# the minimal lookup times that (absolute medians move with the VM);
# DIR/caption.txt: date, machine, compiler and commit of the run.
# And the fleet's convergence (make fleet-bench): DIR/fleet-convergence.dat
# and DIR/fleet-caption.txt; only='fleet' or only='lookups' draws one part.
if (!exists("datadir")) datadir = "build/bench-charts"
if (!exists("outdir")) outdir = "bench/charts"
caption = system("cat '".datadir."/caption.txt' 2>/dev/null")
set terminal svg size 760,480 dynamic font "sans,12"
set logscale x 2
set logscale y
set xtics (2, 16, 256, 4096)
set xrange [1.6:5200]
set xlabel "shards"
set ylabel "ns per lookup (log): minimal x paired ratio"
set key outside right top
set grid ytics mytics xtics
set format y "%g"
if (!exists("only")) only = "all"
if (only ne "fleet") {
do for [v in "numeric xxhash hash"] {
	set output outdir."/lookup-".v.".svg"
	set title "Lookup cost, ".v." vindex, 1 reader, no writer\n{/*0.8 ".caption."}"
	f = datadir."/lookup-".v.".dat"
	plot f using 1:2 with linespoints lw 2 title "minimal", \
	     f using 1:3 with linespoints title "floor", \
	     f using 1:4 with linespoints lw 2 title "handle", \
	     f using 1:5 with linespoints title "batch (per key)", \
	     f using 1:6 with linespoints title "names", \
	     f using 1:7 with linespoints dt 2 title "rwlock", \
	     f using 1:8 with linespoints dt 2 title "mutex"
}
}

# Fleet convergence (make fleet-bench, tests/fleet/fleet.c -o): the
# fraction of (member, resharding) samples serving the new document
# against the time since the put's answer and since its sending.
fleetdat = datadir."/fleet-convergence.dat"
if (only ne "lookups" && system("test -f '".fleetdat."' && echo 1") eq "1") {
	fcaption = system("cat '".datadir."/fleet-caption.txt'")
	unset logscale
	set xtics auto
	set xrange [*:*]
	set yrange [0:1]
	set format x "%g"
	set xlabel "ms until a member serves the new document (below 0: before the put's answer reached the writer)"
	set ylabel "fraction of members x reshardings"
	set key inside left top
	set output outdir."/fleet-convergence.svg"
	set title "Fleet convergence on one etcd, 10 reshardings\n{/*0.8 ".fcaption."}"
	plot fleetdat using 2:1 with lines lw 2 title "after the put's answer", \
	     fleetdat using 3:1 with lines lw 2 dt 2 title "after the put's sending"
}
