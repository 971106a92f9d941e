package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
)

// The WebSocket framing of the epoll engine, which reads and writes the
// connections gorilla/websocket opened (RFC 6455, no extensions).

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	maxMessage = 16 << 20
)

var errFrame = errors.New("loadgen: bad websocket frame")

type frame struct {
	fin    bool
	op     byte
	masked bool
	mask   [4]byte
	hdr    int // header bytes, mask key included
	n      int // payload bytes
}

// parseFrame reads the header of the frame at the start of b. ok is false
// while b does not hold the whole frame.
func parseFrame(b []byte) (f frame, ok bool, err error) {
	if len(b) < 2 {
		return f, false, nil
	}
	if b[0]&0x70 != 0 {
		return f, false, errFrame // reserved bits: no extension was negotiated
	}
	f.fin, f.op = b[0]&0x80 != 0, b[0]&0x0f
	f.masked = b[1]&0x80 != 0
	n, hdr := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return f, false, nil
		}
		n, hdr = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return f, false, nil
		}
		n, hdr = binary.BigEndian.Uint64(b[2:]), 10
	}
	if n > maxMessage {
		return f, false, errFrame
	}
	if f.masked {
		if len(b) < hdr+4 {
			return f, false, nil
		}
		copy(f.mask[:], b[hdr:])
		hdr += 4
	}
	f.hdr, f.n = hdr, int(n)
	return f, len(b) >= f.hdr+f.n, nil
}

// appendFrame appends a masked client frame.
func appendFrame(dst []byte, op byte, payload []byte) []byte {
	dst = append(dst, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n < 1<<16:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	key := rand.Uint32()
	mask := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(dst[start:], mask)
	return dst
}

func maskBytes(b []byte, mask [4]byte) {
	for i := range b {
		b[i] ^= mask[i&3]
	}
}

// unread returns what the bytes a connection received during its
// handshake hold past the HTTP response and the first msgs data messages:
// what gorilla/websocket buffered but did not hand over.
func unread(rec []byte, msgs int) ([]byte, error) {
	i := bytes.Index(rec, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, errors.New("loadgen: no HTTP response in the handshake bytes")
	}
	b := rec[i+4:]
	for msgs > 0 {
		f, ok, err := parseFrame(b)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("loadgen: handshake bytes end inside a frame")
		}
		if f.fin && f.op < opClose {
			msgs--
		}
		b = b[f.hdr+f.n:]
	}
	return b, nil
}
