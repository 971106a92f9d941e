package expressio

// LimitsTracked returns what the limits of s keep in memory: the
// addresses holding connections, the connections with an Engine.IO
// handshake in progress, and the handshake-rate buckets.
func LimitsTracked(s *Server) (addrs, pending, buckets int) {
	l := s.limiter()
	if l == nil {
		return 0, 0, 0
	}
	if l.conns != nil {
		addrs, pending = l.conns.len()
	}
	if l.rate != nil {
		buckets = l.rate.len()
	}
	return addrs, pending, buckets
}
