//go:build !linux

package main

import "errors"

// The epoll engine needs Linux; elsewhere no connection is ever raw.

func newEpollEngine(onErr func(*conn, error)) (readEngine, error) {
	return nil, errors.New("the epoll engine needs Linux")
}

func (c *conn) rawWriteLocked(op byte, b []byte) error {
	return errors.New("loadgen: raw connections need Linux")
}

func (c *conn) rawCloseLocked() {}
