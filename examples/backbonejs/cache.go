package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/expressio-go/expressio/expressio"
)

// model is one Backbone model: a JSON object whose "id" the server
// assigns.
type model = map[string]any

// cache is the in-memory store the original's routes call but never
// define. It is safe for concurrent use: routes of different sockets
// and HTTP requests run at the same time.
type cache struct {
	mu     sync.Mutex
	lastID int
	models map[int]model
}

func newCache() *cache { return &cache{models: make(map[int]model)} }

// all returns every model, in id order.
func (c *cache) all() []model {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]model, 0, len(c.models))
	for _, id := range slices.Sorted(maps.Keys(c.models)) {
		out = append(out, maps.Clone(c.models[id]))
	}
	return out
}

func (c *cache) get(id int) (model, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.models[id]
	return maps.Clone(m), ok
}

// create stores m under a new id and returns it with that id.
func (c *cache) create(m model) model {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastID++
	m = maps.Clone(m)
	m["id"] = c.lastID
	c.models[c.lastID] = m
	return maps.Clone(m)
}

// update replaces the model with the given id, if there is one.
func (c *cache) update(id int, m model) (model, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.models[id]; !ok {
		return nil, false
	}
	m = maps.Clone(m)
	m["id"] = id
	c.models[id] = m
	return maps.Clone(m), true
}

func (c *cache) delete(id int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.models[id]
	delete(c.models, id)
	return ok
}

// modelID is the id a request is about: the URL's for a forwarded REST
// call ("/collection/5"), else the "id" of the data, as a socket sends
// it to "collection:read" (the original's req.data.id).
func modelID(req *expressio.SocketRequest) (int, bool) {
	if req.HTTP != nil {
		if s := req.HTTP.Param("id"); s != "" {
			id, err := strconv.Atoi(s)
			return id, err == nil
		}
		return 0, false
	}
	var data struct {
		ID json.RawMessage `json:"id"`
	}
	if req.Bind(&data) != nil || data.ID == nil {
		return 0, false
	}
	var id int
	if json.Unmarshal(data.ID, &id) == nil {
		return id, true
	}
	var s string
	if json.Unmarshal(data.ID, &s) == nil {
		id, err := strconv.Atoi(s)
		return id, err == nil
	}
	return 0, false
}
