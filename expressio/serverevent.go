package expressio

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// ServerEvent is an event another server of the cluster sent with
// ServerSideEmit: socket.io's serverSideEmit, received with
// Namespace.OnServerEvent.
type ServerEvent struct {
	// Event is the event name.
	Event string
	// Args are its arguments, as JSON.
	Args Payload

	once    sync.Once
	respond func(json.RawMessage)
}

// WantsAck reports whether the sender waits for an answer
// (ServerSideEmitWithAck).
func (e *ServerEvent) WantsAck() bool { return e.respond != nil }

// Respond answers the sender of an event sent with
// ServerSideEmitWithAck, once; it does nothing for other events and
// returns ErrAlreadyResponded the second time.
func (e *ServerEvent) Respond(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("expressio: respond to server event %q: %w", e.Event, err)
	}
	answered := false
	e.once.Do(func() {
		answered = true
		if e.respond != nil {
			e.respond(b)
		}
	})
	if !answered {
		return ErrAlreadyResponded
	}
	return nil
}

// OnServerEvent registers the handler of an event that other servers of
// the cluster send with ServerSideEmit (socket.io's io.on(event) on the
// server side). Each event runs on a goroutine of its own; a panic is
// recovered and logged.
func (n *Namespace) OnServerEvent(event string, fn func(*ServerEvent)) {
	if fn == nil {
		panic(fmt.Sprintf("expressio: OnServerEvent(%q, nil)", event))
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.serverEvents == nil {
		n.serverEvents = make(map[string]func(*ServerEvent))
	}
	n.serverEvents[event] = fn
}

// HandleServerEvent runs the handler of an event another server sent: the
// adapter's way in. data is the event name and its arguments; respond,
// nil when the sender wants no answer, carries the answer back. Events
// without a handler, or malformed, are dropped.
func (n *Namespace) HandleServerEvent(data []json.RawMessage, respond func(json.RawMessage)) {
	if len(data) == 0 {
		return
	}
	var event string
	if err := json.Unmarshal(data[0], &event); err != nil {
		n.srv.log.Debug("expressio: server event without a name", "nsp", n.name)
		return
	}
	n.mu.RLock()
	fn := n.serverEvents[event]
	n.mu.RUnlock()
	if fn == nil {
		return
	}
	e := &ServerEvent{Event: event, Args: Payload{Args: data[1:]}, respond: respond}
	n.srv.workers.Go(func() { runRecovered(n.srv.log, "server event "+event, func() { fn(e) }) })
}

// ServerSideEmit sends an event to the other servers of the cluster,
// whose OnServerEvent handlers get it: socket.io's serverSideEmit.
// Arguments travel as JSON.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	data, err := serverEventData(event, args)
	if err != nil {
		return err
	}
	if err := n.Adapter().ServerSideEmit(ctx, data); err != nil {
		return fmt.Errorf("expressio: server-side emit %q: %w", event, err)
	}
	return nil
}

// ServerSideEmitWithAck sends an event to the other servers of the
// cluster and returns their answers, one per server: socket.io's
// serverSideEmitWithAck. When ctx ends first it returns the answers that
// came and an error wrapping ErrAckTimeout.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	data, err := serverEventData(event, args)
	if err != nil {
		return nil, err
	}
	answers, err := n.Adapter().ServerSideEmitWithAck(ctx, data)
	if err != nil {
		return answers, fmt.Errorf("expressio: server-side emit %q: %w", event, err)
	}
	return answers, nil
}

func serverEventData(event string, args []any) ([]json.RawMessage, error) {
	data := make([]json.RawMessage, 0, 1+len(args))
	name, _ := jsonString(event)
	data = append(data, name)
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("expressio: server-side emit %q: argument %d: %w", event, i, err)
		}
		data = append(data, b)
	}
	return data, nil
}
