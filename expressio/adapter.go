package expressio

import "sync"

// memoryAdapter keeps one namespace's sockets and rooms in memory
// (socket.io-adapter's in-memory Adapter). Every socket is also in the
// room named after its id, so a socket id can be used as a room.
type memoryAdapter struct {
	mu      sync.RWMutex
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
}

func newMemoryAdapter() *memoryAdapter {
	return &memoryAdapter{sockets: make(map[string]*Socket), rooms: make(map[string]map[*Socket]struct{})}
}

func (a *memoryAdapter) add(s *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sockets[s.id] = s
	a.joinLocked(s, s.id)
}

func (a *memoryAdapter) remove(s *Socket) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sockets[s.id] == s {
		delete(a.sockets, s.id)
	}
	for _, r := range s.roomList() {
		a.leaveLocked(s, r)
	}
	a.leaveLocked(s, s.id)
}

func (a *memoryAdapter) join(s *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.joinLocked(s, room)
}

func (a *memoryAdapter) joinLocked(s *Socket, room string) {
	members := a.rooms[room]
	if members == nil {
		members = make(map[*Socket]struct{})
		a.rooms[room] = members
	}
	members[s] = struct{}{}
}

func (a *memoryAdapter) leave(s *Socket, room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.leaveLocked(s, room)
}

func (a *memoryAdapter) leaveLocked(s *Socket, room string) {
	members := a.rooms[room]
	delete(members, s)
	if len(members) == 0 {
		delete(a.rooms, room)
	}
}

func (a *memoryAdapter) all() []*Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*Socket, 0, len(a.sockets))
	for _, s := range a.sockets {
		out = append(out, s)
	}
	return out
}

func (a *memoryAdapter) socket(id string) *Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.sockets[id]
}

// broadcast sends f to the sockets in any of rooms (every socket when
// rooms is empty) but except. It never waits on a client: sending only
// queues, and a connection whose queue is full is closed by its engine.
func (a *memoryAdapter) broadcast(f *frame, rooms []string, except *Socket) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	switch len(rooms) {
	case 0:
		for _, s := range a.sockets {
			if s != except {
				s.conn.send(f)
			}
		}
	case 1:
		for s := range a.rooms[rooms[0]] {
			if s != except {
				s.conn.send(f)
			}
		}
	default:
		seen := make(map[*Socket]struct{})
		for _, r := range rooms {
			for s := range a.rooms[r] {
				if _, dup := seen[s]; dup || s == except {
					continue
				}
				seen[s] = struct{}{}
				s.conn.send(f)
			}
		}
	}
}

func (a *memoryAdapter) members(room string) []*Socket {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*Socket, 0, len(a.rooms[room]))
	for s := range a.rooms[room] {
		out = append(out, s)
	}
	return out
}

func (a *memoryAdapter) roomNames() []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]string, 0, len(a.rooms))
	for r := range a.rooms {
		if _, isSocket := a.sockets[r]; !isSocket {
			out = append(out, r)
		}
	}
	return out
}
