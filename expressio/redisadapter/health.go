package redisadapter

import (
	"log/slog"
	"sync"
	"time"
)

// malformedLogEvery bounds the warnings about malformed messages: a
// foreign publisher on our channels gets one line per interval, with a
// count, not one per message.
const malformedLogEvery = 10 * time.Second

// health logs Redis outages as windows: one line when publishing or the
// subscription fails, one when it works again, with how long it was down
// and how many messages were lost meanwhile.
type health struct {
	log *slog.Logger

	mu            sync.Mutex
	pubDownSince  time.Time // zero while publishing works
	pubLost       int       // messages lost in the current window
	pubLastErr    error
	subDownSince  time.Time
	subLastErr    error
	malformedN    int
	malformedLast time.Time
}

func (h *health) dropped(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pubDownSince.IsZero() {
		h.pubDownSince = time.Now()
		h.log.Warn("redisadapter: dropping messages", "reason", reason)
	}
	h.pubLost++
}

func (h *health) publishFailed(n int, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pubDownSince.IsZero() {
		h.pubDownSince = time.Now()
		h.log.Error("redisadapter: publish failed; broadcasts to other servers are lost until Redis is back", "err", err)
	}
	h.pubLost += n
	h.pubLastErr = err
}

func (h *health) publishOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pubDownSince.IsZero() {
		return
	}
	h.log.Warn("redisadapter: publishing again",
		"down_for", time.Since(h.pubDownSince).Round(time.Millisecond),
		"lost_from", h.pubDownSince.Format(time.RFC3339Nano),
		"lost_messages", h.pubLost, "last_err", errString(h.pubLastErr))
	h.pubDownSince, h.pubLost, h.pubLastErr = time.Time{}, 0, nil
}

func (h *health) subscriptionLost(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subLastErr = err
	if h.subDownSince.IsZero() {
		h.subDownSince = time.Now()
		h.log.Error("redisadapter: subscription lost; other servers' broadcasts are missed until Redis is back", "err", err)
	}
}

func (h *health) subscriptionOK() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subDownSince.IsZero() {
		return
	}
	h.log.Warn("redisadapter: subscribed again",
		"down_for", time.Since(h.subDownSince).Round(time.Millisecond),
		"missed_from", h.subDownSince.Format(time.RFC3339Nano),
		"last_err", errString(h.subLastErr))
	h.subDownSince, h.subLastErr = time.Time{}, nil
}

func (h *health) malformed(kind, channel string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.malformedN++
	if time.Since(h.malformedLast) < malformedLogEvery {
		return
	}
	h.log.Warn("redisadapter: dropped malformed "+kind, "channel", channel, "err", err, "dropped", h.malformedN)
	h.malformedN, h.malformedLast = 0, time.Now()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
