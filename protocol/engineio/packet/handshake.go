package packet

import (
	"strconv"
	"time"
)

// OpenData returns the Data of the Open packet that starts a session:
//
//	{"sid":"…","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//
// with the keys in that order, as engine.io 6 writes it for both revisions
// (engine.io 3 sends no maxPayload; revision-3 clients ignore it). The
// durations are written in whole milliseconds; a nil upgrades is [].
func OpenData(sid string, upgrades []string, pingInterval, pingTimeout time.Duration, maxPayload int64) []byte {
	size := len(`{"sid":"","upgrades":[],"pingInterval":,"pingTimeout":,"maxPayload":}`) + len(sid) + 3*20
	for _, u := range upgrades {
		size += len(u) + 3
	}
	dst := make([]byte, 0, size)
	dst = append(dst, `{"sid":`...)
	dst = appendJSString(dst, []byte(sid), false)
	dst = append(dst, `,"upgrades":[`...)
	for i, u := range upgrades {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSString(dst, []byte(u), false)
	}
	dst = append(dst, `],"pingInterval":`...)
	dst = strconv.AppendInt(dst, pingInterval.Milliseconds(), 10)
	dst = append(dst, `,"pingTimeout":`...)
	dst = strconv.AppendInt(dst, pingTimeout.Milliseconds(), 10)
	dst = append(dst, `,"maxPayload":`...)
	dst = strconv.AppendInt(dst, maxPayload, 10)
	return append(dst, '}')
}
