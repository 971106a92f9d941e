// Package engineiotest provides helpers for testing Engine.IO clients and
// servers, in the spirit of net/http/httptest.
package engineiotest

import "github.com/expressio-go/expressio/protocol/engineio"

// Echo is an engineio.Handler that sends every message straight back to
// the session it came from, text as text and binary as binary. Mounted at
// /engine.io/, it is the raw echo server that socket.io's protocol test
// suite expects.
type Echo struct{}

// Open implements engineio.Handler.
func (Echo) Open(s *engineio.Session) engineio.Receiver { return echo{s} }

type echo struct{ s *engineio.Session }

func (e echo) OnMessage(m engineio.Message) { e.s.Send(m) }
func (echo) OnClose(string)                 {}
