//go:build linux

package wsconn

import (
	"fmt"
	"net"
	"sync"
	"syscall"
)

// parker watches parked connections with an epoll instance of its own.
// The Go runtime's poller can only wake a goroutine blocked on a
// connection, and a blocked goroutine is a stack: at 10k idle connections
// that stack was most of the memory. A parked connection has no goroutine;
// one goroutine per Upgrader waits for all of them, and only while any is
// parked.
type parker struct {
	mu     sync.Mutex
	loop   *parkLoop // nil while nothing is parked
	nextID uint64
}

// parkLoop is one run of the watching goroutine, with its epoll instance
// and the eventfd that tells it to look whether it still has work.
type parkLoop struct {
	epfd, evfd int
	parked     map[uint64]*Conn // guarded by parker.mu
	ended      bool             // its descriptors are closed; guarded by parker.mu
}

// parkState is a Conn's side of parking, guarded by its parker's mu.
type parkState struct {
	closed   bool
	parkLoop *parkLoop // the loop whose epoll set holds the socket
	parkID   uint64
	wake     func() // set while parked
}

// park arms c's socket in the epoll instance, once: wake runs on the
// watching goroutine when the socket has bytes, an error or a hang-up.
func (p *parker) park(c *Conn, wake func()) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if p.loop == nil {
		l, err := newParkLoop()
		if err != nil {
			return err
		}
		p.loop = l
		go p.watch(l)
	}
	op := syscall.EPOLL_CTL_MOD
	if c.parkLoop != p.loop {
		op = syscall.EPOLL_CTL_ADD
		p.nextID++
		c.parkID = p.nextID
		c.parkLoop = p.loop
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT}
	// The event's data is the id, not the descriptor: a descriptor
	// number is reused by the next connection once this one closes.
	ev.Fd, ev.Pad = int32(uint32(c.parkID)), int32(uint32(c.parkID>>32))
	var err error
	cerr := c.raw.Control(func(fd uintptr) {
		err = syscall.EpollCtl(p.loop.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("wsconn: epoll_ctl: %w", err)
	}
	c.wake = wake
	p.loop.parked[c.parkID] = c
	return nil
}

// unpark forgets c, before its descriptor closes; s.mu is not held.
func (p *parker) unpark(c *Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c.closed = true
	l := c.parkLoop
	if l == nil {
		return
	}
	c.parkLoop, c.wake = nil, nil
	if l.ended {
		return // its epoll instance is gone, and the socket with it
	}
	c.raw.Control(func(fd uintptr) {
		syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	delete(l.parked, c.parkID)
	if len(l.parked) == 0 && p.loop == l {
		l.poke() // the watcher ends
	}
}

func newParkLoop() (*parkLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("wsconn: epoll_create: %w", err)
	}
	r1, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if errno != 0 {
		syscall.Close(epfd)
		return nil, fmt.Errorf("wsconn: eventfd: %w", errno)
	}
	evfd := int(r1)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN} // id 0: the eventfd
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		syscall.Close(evfd)
		syscall.Close(epfd)
		return nil, fmt.Errorf("wsconn: epoll_ctl: %w", err)
	}
	return &parkLoop{epfd: epfd, evfd: evfd, parked: make(map[uint64]*Conn)}, nil
}

func (l *parkLoop) poke() {
	one := [8]byte{1}
	syscall.Write(l.evfd, one[:])
}

// watch waits for parked connections and wakes each that is ready, until
// none is parked.
func (p *parker) watch(l *parkLoop) {
	defer func() {
		syscall.Close(l.evfd)
		syscall.Close(l.epfd)
	}()
	var events [128]syscall.EpollEvent
	var ready []func()
	for {
		n, err := syscall.EpollWait(l.epfd, events[:], -1)
		if err != nil && err != syscall.EINTR {
			p.mu.Lock()
			p.failLocked(l)
			p.mu.Unlock()
			return
		}
		ready = ready[:0]
		p.mu.Lock()
		for _, ev := range events[:max(n, 0)] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 {
				var buf [8]byte
				syscall.Read(l.evfd, buf[:])
				continue
			}
			if c := l.parked[id]; c != nil {
				// One-shot: the socket stays in the set, disarmed, until
				// the next park; the connection is not parked meanwhile.
				delete(l.parked, id)
				ready = append(ready, c.wake)
				c.wake = nil
			}
		}
		if len(l.parked) == 0 && p.loop == l {
			// Nothing left to watch; a later park starts a new loop, and
			// a connection woken just now is added to that one.
			p.loop = nil
		}
		done := p.loop != l
		if done {
			l.ended = true
		}
		p.mu.Unlock()
		for _, wake := range ready {
			wake()
		}
		if done {
			return
		}
	}
}

// failLocked wakes every parked connection after the epoll instance
// failed, so that each falls back to waiting on a goroutine.
func (p *parker) failLocked(l *parkLoop) {
	if p.loop == l {
		p.loop = nil
	}
	l.ended = true
	for id, c := range l.parked {
		delete(l.parked, id)
		c.parkLoop = nil
		if wake := c.wake; wake != nil {
			c.wake = nil
			go wake()
		}
	}
}
