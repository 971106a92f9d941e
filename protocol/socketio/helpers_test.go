package socketio

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// goldenDir holds the frames written by Node's parsers (see its README.md).
const goldenDir = "../../testdata/socketio"

// golden is one golden case: a text frame and its attachments.
type golden struct {
	name string // "v5/event_ack"
	rev  Revision
	text []byte
	bins [][]byte
}

// readGoldens loads every case under goldenDir.
func readGoldens(tb testing.TB) []golden {
	tb.Helper()
	var out []golden
	for _, rev := range []Revision{V4, V5} {
		dir := filepath.Join(goldenDir, rev.String())
		names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
		if err != nil || len(names) == 0 {
			tb.Fatalf("no golden frames in %s (%v)", dir, err)
		}
		for _, path := range names {
			base := strings.TrimSuffix(filepath.Base(path), ".txt")
			g := golden{name: rev.String() + "/" + base, rev: rev, text: mustRead(tb, path)}
			bins, _ := filepath.Glob(filepath.Join(dir, base+".*.bin"))
			slices.Sort(bins) // at most 10 attachments per case, so the order is numeric
			for _, b := range bins {
				g.bins = append(g.bins, mustRead(tb, b))
			}
			out = append(out, g)
		}
	}
	return out
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// decodeAll feeds a text frame and its attachments to d and returns the packet.
func decodeAll(d *Decoder, text []byte, bins [][]byte) (*Packet, error) {
	p, err := d.Decode(text, false)
	for _, b := range bins {
		if err != nil || p != nil {
			break
		}
		p, err = d.Decode(b, true)
	}
	return p, err
}

// samePacket reports whether a and b hold the same packet.
func samePacket(a, b *Packet) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Type == b.Type && a.Namespace == b.Namespace && a.Query == b.Query && a.ID == b.ID &&
		bytes.Equal(a.Data, b.Data) &&
		slices.EqualFunc(a.Attachments, b.Attachments, bytes.Equal)
}
