package wsconn

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// Opcode is a WebSocket frame opcode.
type Opcode byte

// The opcodes of RFC 6455, section 5.2.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// Close codes of RFC 6455, section 7.4.1, that this package sends or
// reports.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005 // reported, never sent
	CloseAbnormal        = 1006 // reported, never sent
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
)

// DefaultReadBufferSize is the size of the read buffers an Upgrader lends
// its connections while bytes arrive.
const DefaultReadBufferSize = 4096

// maxHeaderSize is the longest frame header: 2 bytes, an 8-byte length
// and a 4-byte mask.
const maxHeaderSize = 14

// ErrMessageTooBig is returned by ReadMessage for a message longer than
// the read limit; the connection must then be closed with
// CloseMessageTooBig.
var ErrMessageTooBig = errors.New("wsconn: message too big")

// ProtocolError is returned by ReadMessage for a frame that breaks RFC
// 6455; Code is the close code to answer with.
type ProtocolError struct {
	Code   int
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("wsconn: protocol error (%d): %s", e.Code, e.Reason)
}

// CloseError is returned by ReadMessage when the peer sent a close frame.
// Code is CloseNoStatus when the frame had no code.
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("wsconn: closed by peer (%d) %s", e.Code, e.Text)
}

// Upgrader upgrades HTTP requests to Conns. Its zero value is ready to
// use; it must not be copied after first use. Its methods are safe for
// concurrent use.
type Upgrader struct {
	// ReadLimit bounds one message, fragments included (0 = no limit).
	ReadLimit int64
	// ReadBufferSize is the size of the lent read buffers (0 =
	// DefaultReadBufferSize).
	ReadBufferSize int

	once     sync.Once
	upgrader websocket.Upgrader
	buffers  sync.Pool // *[]byte of ReadBufferSize
	parker   parker
}

func (u *Upgrader) init() {
	if u.ReadBufferSize <= 0 {
		u.ReadBufferSize = DefaultReadBufferSize
	}
	size := u.ReadBufferSize
	u.buffers.New = func() any {
		b := make([]byte, size)
		return &b
	}
	u.upgrader = websocket.Upgrader{
		// The caller checks the origin, by the same rule as for its other
		// requests.
		CheckOrigin: func(*http.Request) bool { return true },
		// A pool that is never drawn from keeps gorilla from allocating a
		// write buffer; this package writes on its own. With
		// ReadBufferSize 0 it reuses the server's buffered reader, so the
		// handshake allocates nothing that outlives it.
		WriteBufferPool: unusedPool{},
	}
}

// unusedPool satisfies websocket.BufferPool for a connection that is never
// written through gorilla.
type unusedPool struct{}

func (unusedPool) Get() any { return nil }
func (unusedPool) Put(any)  {}

// Upgrade answers the opening handshake of r with 101 and the extra
// header, and returns the connection. On failure the response has been
// written (400 or 426, as gorilla/websocket answers) and an error is
// returned.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, header http.Header) (*Conn, error) {
	u.once.Do(u.init)
	ws, err := u.upgrader.Upgrade(w, r, header)
	if err != nil {
		return nil, fmt.Errorf("wsconn: upgrade: %w", err)
	}
	return newConn(ws.NetConn(), u), nil
}

// Conn is one server-side WebSocket connection. See the package
// documentation for which methods may run concurrently.
type Conn struct {
	nc  net.Conn
	raw syscall.RawConn // nil when nc is not a plain socket (TLS, pipes)
	u   *Upgrader

	// Reader state, owned by the goroutine in ReadMessage.
	rbuf   *[]byte // lent by u.buffers while bytes are buffered
	r, w   int     // unread bytes are (*rbuf)[r:w]
	fragOp Opcode  // opcode of the fragmented message in progress, or 0
	frag   []byte  // that message so far

	// The callbacks given to raw, made once: a closure per call would be
	// an allocation per read and per write. Their arguments and results
	// travel in these fields, each side's owned by its one goroutine.
	readFn, fillFn, writeFn func(fd uintptr) bool
	rdst                    []byte
	rn                      int
	rerr                    error
	wsrc                    []byte
	wn                      int
	werr                    error

	parkState
}

func newConn(nc net.Conn, u *Upgrader) *Conn {
	c := &Conn{nc: nc, u: u}
	c.raw = rawConn(nc)
	if c.raw != nil {
		c.readFn, c.fillFn, c.writeFn = c.readRaw, c.fillRaw, c.writeRaw
	}
	return c
}

// readRaw reads into rdst; false asks the poller to wait.
func (c *Conn) readRaw(fd uintptr) bool {
	c.rn, c.rerr = readFD(fd, c.rdst)
	return !wouldBlock(c.rerr)
}

// fillRaw reads into a buffer borrowed for the call and kept only if
// bytes came: the wait in between holds none.
func (c *Conn) fillRaw(fd uintptr) bool {
	buf := c.u.buffers.Get().(*[]byte)
	c.rn, c.rerr = readFD(fd, *buf)
	if wouldBlock(c.rerr) {
		c.u.buffers.Put(buf)
		return false
	}
	c.rbuf = buf
	return true
}

// writeRaw writes wsrc once; it never asks the poller to wait.
func (c *Conn) writeRaw(fd uintptr) bool {
	c.wn, c.werr = writeFD(fd, c.wsrc)
	return true
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Close closes the connection without a close frame; a ReadMessage in
// progress returns an error, and a parked connection is never woken.
func (c *Conn) Close() error {
	if c.raw != nil {
		c.u.parker.unpark(c)
	}
	return c.nc.Close()
}

// ErrParkUnsupported is returned by Park where parking is not available:
// outside Linux, or for a connection that is not a plain socket.
var ErrParkUnsupported = errors.New("wsconn: parking is not supported here")

// Park hands the wait for the next bytes to the Upgrader: wake runs, on
// the Upgrader's goroutine, once bytes, an error or a hang-up arrive, and
// until then no goroutine waits for the connection. wake must not block;
// it typically starts the goroutine that calls ReadMessage. Park is for a
// connection with nothing buffered; Close cancels it. It returns
// ErrParkUnsupported where parking is not available, and the caller then
// waits on a goroutine (Wait).
func (c *Conn) Park(wake func()) error {
	if c.raw == nil {
		return ErrParkUnsupported
	}
	if c.rbuf != nil {
		return errors.New("wsconn: Park with bytes buffered")
	}
	return c.u.parker.park(c, wake)
}

// SetReadDeadline sets the deadline of ReadMessage, as net.Conn's.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// Buffered reports whether bytes are buffered, so that the next
// ReadMessage starts without waiting for the network.
func (c *Conn) Buffered() bool { return c.rbuf != nil }

// Wait returns once bytes are buffered, waiting for the network with no
// buffer held, or with the error that ended the wait. ReadMessage waits
// by itself; a goroutine that calls Wait first parks with a shallow,
// small stack, which is what most of an idle connection's memory is.
func (c *Conn) Wait() error {
	if c.rbuf != nil {
		return nil
	}
	return c.fillEmpty()
}

// Message is one data message, or a ping (Op == OpPing) that the owner
// should answer with a pong.
type Message struct {
	Op   Opcode // OpText, OpBinary or OpPing
	Data []byte // the caller's to keep
}

// ReadMessage returns the next text or binary message, or a ping. Pongs
// are dropped. It returns a *CloseError when the peer closed, a
// *ProtocolError for a broken frame, ErrMessageTooBig over the read limit,
// and the network's error otherwise. Between messages, when no byte is
// buffered, the Conn holds no read buffer.
func (c *Conn) ReadMessage() (Message, error) {
	for {
		if err := c.need(2); err != nil {
			return Message{}, err
		}
		b := (*c.rbuf)[c.r:c.w]
		fin := b[0]&0x80 != 0
		op := Opcode(b[0] & 0x0F)
		masked := b[1]&0x80 != 0
		length := int64(b[1] & 0x7F)
		if b[0]&0x70 != 0 {
			return Message{}, &ProtocolError{CloseProtocolError, "reserved bits set"}
		}
		if !masked {
			return Message{}, &ProtocolError{CloseProtocolError, "unmasked client frame"}
		}
		hlen := 6
		switch length {
		case 126:
			hlen += 2
		case 127:
			hlen += 8
		}
		if err := c.need(hlen); err != nil {
			return Message{}, err
		}
		b = (*c.rbuf)[c.r:c.w]
		switch length {
		case 126:
			length = int64(b[2])<<8 | int64(b[3])
			if length < 126 {
				return Message{}, &ProtocolError{CloseProtocolError, "length not minimally encoded"}
			}
		case 127:
			var n uint64
			for _, x := range b[2:10] {
				n = n<<8 | uint64(x)
			}
			if n>>63 != 0 {
				return Message{}, &ProtocolError{CloseProtocolError, "length with the high bit set"}
			}
			if n < 1<<16 {
				return Message{}, &ProtocolError{CloseProtocolError, "length not minimally encoded"}
			}
			length = int64(n)
		}
		var key [4]byte
		copy(key[:], b[hlen-4:hlen])
		c.r += hlen

		switch op {
		case OpClose, OpPing, OpPong:
			if !fin || length > 125 {
				return Message{}, &ProtocolError{CloseProtocolError, "fragmented or long control frame"}
			}
			payload := make([]byte, length)
			if err := c.readPayload(payload, key); err != nil {
				return Message{}, err
			}
			switch op {
			case OpPing:
				c.release()
				return Message{Op: OpPing, Data: payload}, nil
			case OpClose:
				return Message{}, closeFrameError(payload)
			}
			continue // a pong
		case OpText, OpBinary:
			if c.fragOp != 0 {
				return Message{}, &ProtocolError{CloseProtocolError, "new message inside a fragmented one"}
			}
		case OpContinuation:
			if c.fragOp == 0 {
				return Message{}, &ProtocolError{CloseProtocolError, "continuation without a message"}
			}
		default:
			return Message{}, &ProtocolError{CloseProtocolError, fmt.Sprintf("reserved opcode %d", op)}
		}

		if limit := c.u.ReadLimit; limit > 0 && int64(len(c.frag))+length > limit {
			return Message{}, ErrMessageTooBig
		}
		var payload []byte
		if op == OpContinuation || !fin {
			// Fragments grow one slice, bounded by the read limit above.
			start := len(c.frag)
			c.frag = grow(c.frag, int(length))
			payload = c.frag[start:]
			if op != OpContinuation {
				c.fragOp = op
			}
		} else {
			payload = make([]byte, length)
		}
		if err := c.readPayload(payload, key); err != nil {
			return Message{}, err
		}
		if !fin {
			continue
		}
		if op == OpContinuation {
			op, payload = c.fragOp, c.frag
			c.fragOp, c.frag = 0, nil
		}
		if op == OpText && !utf8.Valid(payload) {
			return Message{}, &ProtocolError{CloseInvalidPayload, "text message is not UTF-8"}
		}
		c.release()
		return Message{Op: op, Data: payload}, nil
	}
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func closeFrameError(payload []byte) error {
	if len(payload) == 0 {
		return &CloseError{Code: CloseNoStatus}
	}
	if len(payload) == 1 {
		return &ProtocolError{CloseProtocolError, "close frame with a 1-byte body"}
	}
	code := int(payload[0])<<8 | int(payload[1])
	if !validCloseCode(code) {
		return &ProtocolError{CloseProtocolError, fmt.Sprintf("invalid close code %d", code)}
	}
	text := payload[2:]
	if !utf8.Valid(text) {
		return &ProtocolError{CloseInvalidPayload, "close reason is not UTF-8"}
	}
	return &CloseError{Code: code, Text: string(text)}
}

// validCloseCode reports whether a peer may send code (RFC 6455 7.4).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// readPayload fills p from the buffer, then from the network, and
// unmasks it.
func (c *Conn) readPayload(p []byte, key [4]byte) error {
	n := 0
	if c.rbuf != nil {
		n = copy(p, (*c.rbuf)[c.r:c.w])
		c.r += n
	}
	if n < len(p) {
		// The buffer is empty: read the rest straight into p.
		c.release()
		if err := c.readFull(p[n:]); err != nil {
			return err
		}
	}
	mask(key, p)
	return nil
}

// need makes at least n (<= maxHeaderSize) unread bytes buffered. With
// none buffered it waits for the network without holding a buffer.
func (c *Conn) need(n int) error {
	for c.rbuf == nil || c.w-c.r < n {
		if c.rbuf == nil {
			if err := c.fillEmpty(); err != nil {
				return err
			}
			continue
		}
		buf := *c.rbuf
		if len(buf)-c.r < maxHeaderSize {
			c.w = copy(buf, buf[c.r:c.w])
			c.r = 0
		}
		m, err := c.read(buf[c.w:])
		if err != nil {
			return err
		}
		c.w += m
	}
	return nil
}

// release gives the read buffer back once everything in it was read.
func (c *Conn) release() {
	if c.rbuf != nil && c.r == c.w {
		c.u.buffers.Put(c.rbuf)
		c.rbuf, c.r, c.w = nil, 0, 0
	}
}

// fillEmpty waits for bytes with no buffer held and reads them into a
// borrowed one.
func (c *Conn) fillEmpty() error {
	if c.raw == nil {
		c.rbuf = c.u.buffers.Get().(*[]byte)
		n, err := c.nc.Read(*c.rbuf)
		c.r, c.w = 0, n
		if n == 0 {
			c.release()
			return readError(err)
		}
		return nil
	}
	c.rn, c.rerr = 0, nil
	err := c.raw.Read(c.fillFn)
	n := c.rn
	if err == nil {
		err = c.rerr
	}
	if c.rbuf != nil && n > 0 {
		c.r, c.w = 0, n
		return nil
	}
	c.r, c.w = 0, 0
	if c.rbuf != nil {
		c.u.buffers.Put(c.rbuf)
		c.rbuf = nil
	}
	return readError(err)
}

// read reads at least one byte into p.
func (c *Conn) read(p []byte) (int, error) {
	if c.raw == nil {
		n, err := c.nc.Read(p)
		if n > 0 {
			return n, nil
		}
		return 0, readError(err)
	}
	c.rdst, c.rn, c.rerr = p, 0, nil
	err := c.raw.Read(c.readFn)
	n := c.rn
	c.rdst = nil
	if err != nil {
		return 0, readError(err)
	}
	if n <= 0 {
		return 0, readError(c.rerr)
	}
	return n, nil
}

func (c *Conn) readFull(p []byte) error {
	for len(p) > 0 {
		n, err := c.read(p)
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// readError turns the end of the stream into io.ErrUnexpectedEOF: a
// WebSocket ends with a close frame, not with EOF.
func readError(err error) error {
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// mask XORs p with the masking key, from the payload's first byte.
func mask(key [4]byte, p []byte) {
	if len(p) >= 8 {
		k := uint64(key[0]) | uint64(key[1])<<8 | uint64(key[2])<<16 | uint64(key[3])<<24
		k |= k << 32
		for len(p) >= 8 {
			v := uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
				uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
			v ^= k
			p[0], p[1], p[2], p[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
			p[4], p[5], p[6], p[7] = byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
			p = p[8:]
		}
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// AppendFrame appends one unfragmented, unmasked server frame of op whose
// payload is the parts, in order. Server frames are the same bytes for
// every connection, so a broadcast builds its frame once.
func AppendFrame(dst []byte, op Opcode, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	dst = append(dst, 0x80|byte(op))
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// FrameSize is the length of the frame AppendFrame makes of a payload of
// n bytes.
func FrameSize(n int) int {
	switch {
	case n < 126:
		return 2 + n
	case n < 1<<16:
		return 4 + n
	}
	return 10 + n
}

// CloseFrame returns a close frame with code and no reason.
func CloseFrame(code int) []byte {
	return AppendFrame(nil, OpClose, []byte{byte(code >> 8), byte(code)})
}

// TryWrite writes as much of b as the socket takes at once, without
// waiting, and returns how much that was. For a connection that is not a
// plain socket it writes nothing and returns 0: the owner then writes
// with Write from a goroutine that may wait.
func (c *Conn) TryWrite(b []byte) (int, error) {
	if c.raw == nil || len(b) == 0 {
		return 0, nil
	}
	c.wsrc = b
	werr := c.raw.Write(c.writeFn)
	n, err := c.wn, c.werr
	c.wsrc = nil
	if werr != nil {
		return 0, fmt.Errorf("wsconn: write: %w", werr)
	}
	if n < 0 {
		n = 0
	}
	if err != nil && !wouldBlock(err) {
		return n, fmt.Errorf("wsconn: write: %w", err)
	}
	return n, nil
}

// Write writes all of b, waiting until deadline at the latest.
func (c *Conn) Write(b []byte, deadline time.Time) error {
	c.nc.SetWriteDeadline(deadline)
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("wsconn: write: %w", err)
	}
	return nil
}

// WriteClose writes a close frame with code, waiting until deadline at
// the latest.
func (c *Conn) WriteClose(code int, deadline time.Time) error {
	return c.Write(CloseFrame(code), deadline)
}
