package packet_test

import (
	"strings"
	"testing"

	"github.com/expressio-go/expressio/protocol/engineio/packet"
)

// benchPackets is a typical poll: a few socket.io events, one binary.
func benchPackets() []packet.Packet {
	return []packet.Packet{
		msg(`42["chat message",{"user":"zoë","text":"héllo wörld 😀"}]`),
		msg(`42["news",` + `"` + strings.Repeat("lorem ipsum dolor sit amet ", 20) + `"]`),
		bin(make([]byte, 256)...),
		{Type: packet.Pong},
	}
}

func benchSize(body []byte) int64 { return int64(len(body)) }

func BenchmarkEncodePayload(b *testing.B) {
	pkts := benchPackets()
	for _, bc := range []struct {
		name           string
		rev            int
		supportsBinary bool
	}{{"v3-text", 3, false}, {"v3-binary", 3, true}, {"v4", 4, false}} {
		b.Run(bc.name, func(b *testing.B) {
			body, _ := packet.EncodePayload(bc.rev, pkts, bc.supportsBinary)
			b.SetBytes(benchSize(body))
			b.ReportAllocs()
			for b.Loop() {
				packet.EncodePayload(bc.rev, pkts, bc.supportsBinary)
			}
		})
		b.Run(bc.name+"-append", func(b *testing.B) {
			body, _ := packet.EncodePayload(bc.rev, pkts, bc.supportsBinary)
			b.SetBytes(benchSize(body))
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf, _ = packet.AppendPayload(buf[:0], bc.rev, pkts, bc.supportsBinary)
			}
		})
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	pkts := benchPackets()
	textOnly := pkts[:2]
	for _, bc := range []struct {
		name           string
		rev            int
		supportsBinary bool
		pkts           []packet.Packet
	}{
		{"v3-text", 3, false, textOnly},
		{"v3-text-b64", 3, false, pkts},
		{"v3-binary", 3, true, pkts},
		{"v4", 4, false, textOnly},
		{"v4-b64", 4, false, pkts},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body, ct := packet.EncodePayload(bc.rev, bc.pkts, bc.supportsBinary)
			binary := ct == packet.ContentTypeBinary
			b.SetBytes(benchSize(body))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := packet.DecodePayload(bc.rev, body, binary, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncodeFrame(b *testing.B) {
	p := benchPackets()[0]
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = packet.AppendFrame(buf[:0], 4, p)
	}
}

func BenchmarkDecodeFrame(b *testing.B) {
	data, _ := packet.EncodeFrame(4, benchPackets()[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := packet.DecodeFrame(4, data, false); err != nil {
			b.Fatal(err)
		}
	}
}
