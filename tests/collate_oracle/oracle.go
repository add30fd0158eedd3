// The Go side of the differential test (make test-collation-go): what
// Vitess's unicode_loose_* computed before it froze its own copy of the
// collator, with Debian's golang.org/x/text 0.7.0.  Reads one hex-encoded
// input per line on stdin and prints, per line, the key of
// collate.New(language.English, collate.Loose) for the input with its
// trailing spaces removed, in hex, or "error: <Vitess's message>" for
// invalid UTF-8.  Build offline: GO111MODULE=off GOPATH=/usr/share/gocode.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"unicode/utf8"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

func main() {
	col := collate.New(language.English, collate.Loose)
	buf := new(collate.Buffer)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		b, err := hex.DecodeString(in.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad hex:", err)
			os.Exit(2)
		}
		if !utf8.Valid(b) {
			fmt.Fprintf(out, "error: %s\n", fmt.Errorf("cannot normalize string containing invalid UTF-8: %q", string(b)))
			continue
		}
		b = bytes.TrimRight(b, " ")
		buf.Reset()
		fmt.Fprintln(out, hex.EncodeToString(col.Key(buf, b)))
	}
}
