package main

import "syscall"

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT (24): a socket
// bound to a source address gets its port at connect, from the whole
// four-tuple space, instead of reserving one at bind.
const ipBindAddressNoPort = 24

// bindNoPort is the net.Dialer Control of dialers with a source address.
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	}); err != nil {
		return err
	}
	if network == "tcp6" {
		return nil // best effort
	}
	return serr
}
