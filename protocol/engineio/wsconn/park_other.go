//go:build !linux

package wsconn

// parker parks nothing outside Linux: a connection waits for data on a
// goroutine of its owner's.
type parker struct{}

type parkState struct{}

func (*parker) park(*Conn, func()) error { return ErrParkUnsupported }
func (*parker) unpark(*Conn)             {}
