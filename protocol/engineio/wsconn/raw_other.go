//go:build !unix

package wsconn

import (
	"net"
	"syscall"
)

// rawConn returns nil: outside Unix a Conn reads and writes through
// net.Conn, holding a read buffer while it waits.
func rawConn(net.Conn) syscall.RawConn { return nil }

func readFD(uintptr, []byte) (int, error)  { return 0, syscall.EINVAL }
func writeFD(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }
func wouldBlock(error) bool                { return false }
