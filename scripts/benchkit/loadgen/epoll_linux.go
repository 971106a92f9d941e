package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// epollEngine reads every connection from one goroutine: gorilla/websocket
// opens a connection, then the engine takes a duplicate of its socket and
// does the WebSocket framing itself. A connection with data costs one
// read(2), where Go's netpoller costs a second one that fails with EAGAIN
// before parking; that second read is half the syscalls of a broadcast
// receiver.
//
// The epoll descriptor sits in Go's netpoller, so the goroutine parks
// without holding a thread while nothing is ready.
type epollEngine struct {
	file  *os.File
	rc    syscall.RawConn
	epfd  int
	onErr func(*conn, error)

	mu      sync.Mutex
	conns   []*epConn // by fd
	started bool
	done    chan struct{}
}

type epConn struct {
	c      *conn
	h      packetFunc
	buf    []byte // bytes not yet parsed
	frag   []byte // a fragmented message so far
	fragOp byte
	off    bool // no longer read
}

func newEpollEngine(onErr func(*conn, error)) (*epollEngine, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &epollEngine{file: f, rc: rc, epfd: fd, onErr: onErr, done: make(chan struct{})}, nil
}

func (e *epollEngine) keep() bool { return true }

// add may be called concurrently, and after start; the bytes that came
// with the handshake of a connection added after start are handled with
// its next ones.
func (e *epollEngine) add(c *conn, h packetFunc) error {
	left, err := c.takeover()
	if err != nil {
		return fmt.Errorf("take over connection %d: %w", c.id, err)
	}
	bufSize := 2048
	if h == nil {
		bufSize = 256 // idle
	}
	buf := make([]byte, 0, max(bufSize, len(left)))
	e.mu.Lock()
	if c.fd >= len(e.conns) {
		e.conns = slices.Grow(e.conns, c.fd+1-len(e.conns))[:c.fd+1]
	}
	e.conns[c.fd] = &epConn{c: c, h: h, buf: append(buf, left...)}
	e.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}
	if err := syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

func (e *epollEngine) start() {
	e.mu.Lock()
	e.started = true
	e.mu.Unlock()
	go e.loop()
}

// stop closes the epoll descriptor, which ends the loop.
func (e *epollEngine) stop() {
	e.file.Close()
	e.mu.Lock()
	started := e.started
	e.mu.Unlock()
	if started {
		<-e.done
	}
}

func (e *epollEngine) wait() {}

func (e *epollEngine) loop() {
	defer close(e.done)
	e.mu.Lock()
	for _, ec := range e.conns {
		if ec != nil && len(ec.buf) > 0 { // bytes that came with the handshake
			e.parse(ec)
		}
	}
	e.mu.Unlock()
	events := make([]syscall.EpollEvent, 512)
	for {
		var n int
		err := e.rc.Read(func(fd uintptr) bool {
			var werr error
			n, werr = syscall.EpollWait(int(fd), events, 0)
			if werr != nil {
				n = 0
				return werr != syscall.EAGAIN // EINTR: again, at once
			}
			return n > 0
		})
		if err != nil {
			return // closed by stop
		}
		e.mu.Lock() // against add, which packetFuncs never call
		for _, ev := range events[:n] {
			if ec := e.conns[ev.Fd]; ec != nil && !ec.off {
				e.readable(ec)
			}
		}
		e.mu.Unlock()
	}
}

// readable reads what one connection has, once: level-triggered epoll
// reports it again if more is left.
func (e *epollEngine) readable(ec *epConn) {
	if len(ec.buf) == cap(ec.buf) {
		ec.buf = slices.Grow(ec.buf, cap(ec.buf))
	}
	n, err := rawRead(ec.c.fd, ec.buf[len(ec.buf):cap(ec.buf)])
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil:
		e.fail(ec, err)
		return
	case n == 0:
		e.fail(ec, io.EOF)
		return
	}
	ec.buf = ec.buf[:len(ec.buf)+n]
	e.parse(ec)
}

var errWSClose = errors.New("loadgen: the server closed the websocket")

// parse handles the complete frames in ec.buf and keeps the rest.
func (e *epollEngine) parse(ec *epConn) {
	b := ec.buf
	for !ec.off {
		f, ok, err := parseFrame(b)
		if err != nil {
			e.fail(ec, err)
			return
		}
		if !ok {
			break
		}
		payload := b[f.hdr : f.hdr+f.n]
		b = b[f.hdr+f.n:]
		if f.masked {
			maskBytes(payload, f.mask)
		}
		switch f.op {
		case opText, opBinary, opContinuation:
			if f.op != opContinuation {
				ec.fragOp, ec.frag = f.op, ec.frag[:0]
			}
			msg := payload
			if !f.fin || f.op == opContinuation {
				ec.frag = append(ec.frag, payload...)
				if !f.fin {
					continue
				}
				msg = ec.frag
			}
			if ec.fragOp == opText {
				e.deliver(ec, msg)
			}
		case opClose:
			err := errWSClose
			if len(payload) >= 2 {
				err = fmt.Errorf("%w (%d)", errWSClose, int(payload[0])<<8|int(payload[1]))
			}
			e.fail(ec, err)
			return
		case opPing:
			ec.c.wmu.Lock()
			err := ec.c.rawWriteFrameLocked(opPong, payload)
			ec.c.wmu.Unlock()
			if err != nil {
				e.fail(ec, err)
				return
			}
		}
	}
	ec.buf = ec.buf[:copy(ec.buf, b)]
}

func (e *epollEngine) deliver(ec *epConn, msg []byte) {
	p, ok, err := ec.c.onMessage(msg)
	switch {
	case err != nil:
		e.fail(ec, err)
	case ok && ec.h != nil && !ec.h(p):
		e.remove(ec)
	}
}

func (e *epollEngine) remove(ec *epConn) {
	ec.off = true
	syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, ec.c.fd, nil)
}

func (e *epollEngine) fail(ec *epConn, err error) {
	e.remove(ec)
	e.onErr(ec.c, err)
}

// takeover makes the connection raw: it returns the bytes gorilla had
// buffered and not handed over, keeps a duplicate of the socket, and
// closes gorilla's.
func (c *conn) takeover() ([]byte, error) {
	if c.rec == nil {
		return nil, errors.New("no handshake record")
	}
	tcp, ok := c.rec.Conn.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("a %T, not a TCP connection", c.rec.Conn)
	}
	left, err := unread(c.rec.rec, c.msgs)
	if err != nil {
		return nil, err
	}
	left = slices.Clone(left)
	sc, err := tcp.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd := -1
	var derr error
	if err := sc.Control(func(fd uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			derr = errno
			return
		}
		nfd = int(r)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("dup: %w", derr)
	}
	if err := syscall.SetNonblock(nfd, true); err != nil {
		syscall.Close(nfd)
		return nil, err
	}
	c.ws.Close() // the duplicate keeps the socket open
	c.wmu.Lock()
	c.raw, c.fd = true, nfd
	c.wmu.Unlock()
	c.rec = nil
	return left, nil
}

var errClosed = errors.New("loadgen: connection closed")

func (c *conn) rawWriteLocked(op byte, b []byte) error { return c.rawWriteFrameLocked(op, b) }

func (c *conn) rawWriteFrameLocked(op byte, b []byte) error {
	if c.fd < 0 {
		return errClosed
	}
	c.wbuf = appendFrame(c.wbuf[:0], op, b)
	w := c.wbuf
	for len(w) > 0 {
		n, err := rawWrite(c.fd, w)
		switch err {
		case nil:
			w = w[n:]
		case syscall.EINTR:
		case syscall.EAGAIN:
			if err := waitWritable(c.fd, 5*time.Second); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

func (c *conn) rawCloseLocked() {
	if c.fd < 0 {
		return
	}
	c.wbuf = appendFrame(c.wbuf[:0], opClose, []byte{0x03, 0xe8}) // 1000, normal closure
	rawWrite(c.fd, c.wbuf)                                        // best effort
	syscall.Close(c.fd)
	c.fd = -1
}

// rawRead and rawWrite are read(2) and write(2) on non-blocking sockets,
// without the scheduler's syscall bookkeeping.
func rawRead(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

var errWriteStalled = errors.New("loadgen: the server stopped reading")

// waitWritable waits for room in the socket's send buffer (ppoll), at most
// timeout.
func waitWritable(fd int, timeout time.Duration) error {
	pfd := struct {
		fd      int32
		events  int16
		revents int16
	}{fd: int32(fd), events: 0x4} // POLLOUT
	ts := syscall.NsecToTimespec(int64(timeout))
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return errno
		case n == 0:
			return errWriteStalled
		}
		return nil
	}
}
