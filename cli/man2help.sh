#!/bin/sh
# man2help.sh MANPAGE > routerctl_help.h
#
# Turn routerctl.1 into the text `routerctl help` prints, as a C header,
# so the manual and the help never drift: routerctl.1 is the only source.
# Reads the subset of man(7) that routerctl.1's opening comment lists and
# fails on anything else, so a macro this script would drop cannot slip
# in unnoticed.  Plain POSIX awk (Debian's mawk does), no groff needed.
#
# The header defines, for routerctl.c alone, each text as an array of
# lines ended by NULL:
#   routerctl_help_main[]   the page with COMMANDS folded to one line each
#   routerctl_help_pages[]  {name, summary, synopsis, text} per command
#                           (text: NAME, SYNOPSIS, DESCRIPTION, OPTIONS,
#                           DOCUMENT OPTIONS, ETCD OPTIONS, EXIT STATUS,
#                           EXAMPLES),
#                           ended by a NULL name
set -eu
man=${1:?usage: man2help.sh MANPAGE}

awk -v W=76 '
function die(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; failed = 1; exit 1 }
function replace(s, from, to,    i, r) {
	r = ""
	while ((i = index(s, from)) > 0) { r = r substr(s, 1, i - 1) to; s = substr(s, i + length(from)) }
	return r s
}
# roff text -> plain text; any escape outside the subset is an error.
function plain(s) {
	s = replace(s, "\\fB", ""); s = replace(s, "\\fI", "")
	s = replace(s, "\\fR", ""); s = replace(s, "\\fP", "")
	s = replace(s, "\\-", "-"); s = replace(s, "\\(em", "-")
	s = replace(s, "\\(aq", "\047"); s = replace(s, "\\(dq", "\"")
	s = replace(s, "\\&", ""); s = replace(s, "\\e", "\001")
	if (index(s, "\\") > 0) die("escape outside the subset: " s)
	return replace(s, "\001", "\\")
}
function spaces(n,    s) { s = ""; while (n-- > 0) s = s " "; return s }
# Append one line to the buffer being written.
function out(line) { if (page == "") main = main line "\n"; else part_text[page, part] = part_text[page, part] line "\n" }
function cur() { return page == "" ? main : part_text[page, part] }
function blank(    b) { b = cur(); if (b != "" && substr(b, length(b) - 1) != "\n\n") out("") }
# Fill the pending paragraph to W columns at the current indent.
function flush(    n, i, w, line) {
	if (para == "") return
	n = split(para, w, " "); line = ""
	for (i = 1; i <= n; i++) {
		if (line != "" && ind + length(line) + 1 + length(w[i]) > W) { out(spaces(ind) line); line = "" }
		line = line == "" ? w[i] : line " " w[i]
	}
	if (line != "") out(spaces(ind) line)
	para = ""
}
function reset() { flush(); base = 2; ind = base; tag = 0 }
function endpage() {
	if (page == "") return
	if (!((page, "synopsis") in part_text)) die("command " page " has no synopsis part")
	if (!((page, "exit") in part_text)) die("command " page " has no exit part")
}
BEGIN { page = ""; part = ""; main = ""; para = ""; nofill = 0; reset() }
/^\.\\"/ {
	if ($0 ~ /^\.\\" help: /) {
		if (page == "") die("help marker outside a command")
		what = substr($0, 11)
		if (what == "document-options") { flush(); docopts[page] = 1; next }
		if (what == "etcd-options") { flush(); etcdopts[page] = 1; nuse_etcd++; next }
		if (what !~ /^(synopsis|description|options|exit|examples)$/) die("unknown help part " what)
		reset(); part = what; part_text[page, part] = part_text[page, part]
	}
	next
}
/^\.TH / { next }
/^\.SH / {
	reset(); endpage(); page = ""
	section = plain($0); sub(/^\.SH +/, "", section); gsub(/"/, "", section)
	# Sections appended to the help of some commands: where each starts and ends.
	if (open_sec != "") { sec_to[open_sec] = length(main) + 1; open_sec = "" }
	if (section == "DOCUMENT OPTIONS" || section == "ETCD OPTIONS") {
		sec_from[section] = length(main) + 1; open_sec = section
	}
	blank(); out(section)
	next
}
/^\.SS / {
	if (section != "COMMANDS") die(".SS outside COMMANDS")
	reset(); endpage()
	title = $0; sub(/^\.SS +/, "", title); gsub(/"/, "", title)
	i = index(title, " \\(em ")
	if (i == 0) die(".SS needs \"NAME \\(em SUMMARY\"")
	page = substr(title, 1, i - 1); summary[page] = plain(substr(title, i + 6))
	order[++npages] = page; part = "description"
	main = main "  " page spaces(12 - length(page)) summary[page] "\n"
	next
}
/^\.(PP|P|LP)$/ { flush(); tag = 0; ind = base; blank(); next }
/^\.TP$/ { flush(); tag = 1; next }
/^\.RS$/ { flush(); base += 4; ind = base; next }
/^\.RE$/ { flush(); base -= 4; ind = base; next }
/^\.(nf|EX)$/ { flush(); nofill = 1; next }
/^\.(fi|EE)$/ { nofill = 0; next }
/^\.br$/ { flush(); next }
/^\./ { die("macro outside the subset: " $0) }
{
	text = plain($0)
	if (nofill) { out(spaces(ind) text); next }
	if (tag == 1) { flush(); out(spaces(base) text); ind = base + 4; tag = 2; next }
	para = para == "" ? text : para " " text
}
# One text as an array of its lines ended by NULL: a single string
# literal would pass the 4095 characters C99 promises (-Woverlength-strings).
function cstring(name, s,    n, i, l, lines) {
	printf "static const char *const %s[] = {\n", name
	n = split(s, lines, "\n")
	if (n > 0 && lines[n] == "") n--
	for (i = 1; i <= n; i++) {
		l = replace(replace(lines[i], "\\", "\\\\"), "\"", "\\\"")
		printf "    \"%s\",\n", l
	}
	print "    0};"
}
function strip(s) { while (substr(s, length(s)) == "\n") s = substr(s, 1, length(s) - 1); return s "\n" }
END {
	if (failed) exit 1
	reset(); endpage()
	if (!sec_from["DOCUMENT OPTIONS"] || !sec_to["DOCUMENT OPTIONS"]) { print "no DOCUMENT OPTIONS section" > "/dev/stderr"; exit 1 }
	if (nuse_etcd && (!sec_from["ETCD OPTIONS"] || !sec_to["ETCD OPTIONS"])) { print "no ETCD OPTIONS section" > "/dev/stderr"; exit 1 }
	# Each section body without its heading line.
	docopt = substr(main, sec_from["DOCUMENT OPTIONS"], sec_to["DOCUMENT OPTIONS"] - sec_from["DOCUMENT OPTIONS"])
	sub(/^\n*DOCUMENT OPTIONS\n/, "", docopt)
	etcdopt = substr(main, sec_from["ETCD OPTIONS"], sec_to["ETCD OPTIONS"] - sec_from["ETCD OPTIONS"])
	sub(/^\n*ETCD OPTIONS\n/, "", etcdopt)
	print "/* Generated from cli/routerctl.1 by cli/man2help.sh: do not edit. */"
	cstring("routerctl_help_main", substr(main, 1 + (substr(main, 1, 1) == "\n")))
	for (k = 1; k <= npages; k++) {
		p = order[k]
		syn = part_text[p, "synopsis"]; gsub(/\n\n+/, "\n", syn); sub(/^\n/, "", syn)
		t = "NAME\n  routerctl " p " - " summary[p] "\n\nSYNOPSIS\n" syn
		if (part_text[p, "description"] != "") t = t "\nDESCRIPTION\n" strip(part_text[p, "description"])
		if (part_text[p, "options"] != "") t = t "\nOPTIONS\n" strip(part_text[p, "options"])
		if (docopts[p]) t = t "\nDOCUMENT OPTIONS\n" strip(docopt)
		if (etcdopts[p]) t = t "\nETCD OPTIONS\n" strip(etcdopt)
		t = t "\nEXIT STATUS\n" strip(part_text[p, "exit"])
		if (part_text[p, "examples"] != "") t = t "\nEXAMPLES\n" strip(part_text[p, "examples"])
		gsub(/\n\n\n+/, "\n\n", t)
		cstring("routerctl_help_page_" k, t)
		s = replace(syn, "  routerctl", "routerctl"); sub(/\n$/, "", s)
		gsub(/\n  /, "\n", s)
		cstring("routerctl_help_synopsis_" k, s)
	}
	print "static const struct routerctl_help_page {"
	print "\tconst char *name, *summary;"
	print "\tconst char *const *synopsis, *const *text; /* lines, NULL-ended */"
	print "} routerctl_help_pages[] = {"
	for (k = 1; k <= npages; k++)
		printf "    {\"%s\", \"%s\", routerctl_help_synopsis_%d, routerctl_help_page_%d},\n", order[k], replace(summary[order[k]], "\"", "\\\""), k, k
	print "    {0, 0, 0, 0}};"
}
' "$man"
