// Package registry keeps a server's open sessions by id and lets its
// Shutdown wait until they have all closed. The Engine.IO and the
// socket.io 0.9 servers share it.
package registry

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
)

// Errors of Add.
var (
	ErrClosing = errors.New("registry: shutting down")
	ErrTaken   = errors.New("registry: id taken")
)

// Registry maps ids to sessions. The zero value is ready to use; its
// methods are safe for concurrent use.
type Registry[S comparable] struct {
	mu      sync.Mutex
	m       map[string]S
	closing bool
	idle    chan struct{} // closed once closing and empty
}

// Add registers s under id, unless the registry is closing or id is
// taken.
func (r *Registry[S]) Add(id string, s S) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return ErrClosing
	}
	if _, taken := r.m[id]; taken {
		return ErrTaken
	}
	if r.m == nil {
		r.m = make(map[string]S)
	}
	r.m[id] = s
	return nil
}

// Get returns the session registered under id.
func (r *Registry[S]) Get(id string) (S, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[id]
	return s, ok
}

// Remove forgets s, if it is still the session registered under id.
func (r *Registry[S]) Remove(id string, s S) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.m[id]; ok && cur == s {
		delete(r.m, id)
	}
	if r.closing && len(r.m) == 0 && r.idle != nil {
		close(r.idle)
		r.idle = nil
	}
}

// Len returns the number of sessions.
func (r *Registry[S]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.m)
}

// Close refuses further Adds and returns the sessions there are now, to
// be closed by the caller, and a channel closed once every one of them
// has been removed. ok is false when Close was called before.
func (r *Registry[S]) Close() (all []S, idle <-chan struct{}, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return nil, nil, false
	}
	r.closing = true
	ch := make(chan struct{})
	if len(r.m) == 0 {
		close(ch)
	} else {
		r.idle = ch
	}
	all = make([]S, 0, len(r.m))
	for _, s := range r.m {
		all = append(all, s)
	}
	return all, ch, true
}

// NewID returns 120 random bits from crypto/rand in 20 characters of
// URL-safe base64: the shape of Node's session ids, unpredictable
// (CVE-2017-16031).
func NewID() string {
	var b [15]byte
	rand.Read(b[:]) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b[:])
}
