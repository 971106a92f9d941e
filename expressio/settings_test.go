package expressio_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expressio-go/expressio/expressio"
)

// settingsResponse is what settingsDo saw.
type settingsResponse struct {
	status int
	header http.Header
	body   string
}

// settingsDo makes a request with the given headers (nil for none).
func settingsDo(t *testing.T, method, u string, header http.Header) settingsResponse {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return settingsResponse{res.StatusCode, res.Header, string(b)}
}

// settingsOpenPacket decodes the open packet of an EIO=4 polling handshake.
func settingsOpenPacket(t *testing.T, res settingsResponse) map[string]any {
	t.Helper()
	if res.status != http.StatusOK || !strings.HasPrefix(res.body, "0{") {
		t.Fatalf("handshake: %d %q", res.status, res.body)
	}
	var open map[string]any
	if err := json.Unmarshal([]byte(res.body[1:]), &open); err != nil {
		t.Fatalf("open packet %q: %v", res.body, err)
	}
	return open
}

func settingsMustSet(t *testing.T, s *expressio.Server, name string, value any) {
	t.Helper()
	if err := s.Set(name, value); err != nil {
		t.Fatalf("Set(%q, %v): %v", name, value, err)
	}
}

func TestSetGet(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  any
		// noValue: the setting is accepted but holds no value; Get
		// reports false.
		noValue bool
	}{
		// socket.io 0.9
		{name: "log", value: false, want: false},
		{name: "log", value: true, want: true},
		{name: "log level", value: 0, want: 0},
		{name: "log level", value: 3, want: 3},
		{name: "log level", value: 1.0, want: 1},
		{name: "log colors", value: true, noValue: true},
		{name: "transports", value: []string{"websocket", "htmlfile", "xhr-polling", "jsonp-polling"}, want: []string{"websocket", "polling"}},
		{name: "transports", value: []string{"xhr-polling"}, want: []string{"polling"}},
		{name: "transports", value: []any{"websocket"}, want: []string{"websocket"}},
		{name: "heartbeats", value: false, want: false},
		{name: "heartbeat interval", value: 10, want: 10 * time.Second},
		{name: "heartbeat interval", value: 2.5, want: 2500 * time.Millisecond},
		{name: "heartbeat interval", value: 3 * time.Second, want: 3 * time.Second},
		{name: "heartbeat timeout", value: int64(30), want: 30 * time.Second},
		{name: "close timeout", value: 15, want: 15 * time.Second},
		{name: "polling duration", value: 5, want: 5 * time.Second},
		{name: "origins", value: "*:*", want: []string{"*"}},
		{name: "origins", value: "example.com:* *:*", want: []string{"*"}},
		{name: "resource", value: "/rt", want: "/rt"},
		{name: "resource", value: "/rt/", want: "/rt"},
		{name: "authorization", value: func(*expressio.Handshake) error { return nil }, noValue: true},
		{name: "blacklist", value: []string{"secret", "admin"}, want: []string{"secret", "admin"}},
		{name: "blacklist", value: []string{}, want: []string{}},
		{name: "browser client", value: false, want: false},
		{name: "browser client minification", value: true, want: true},
		{name: "browser client etag", value: true, want: true},
		{name: "browser client gzip", value: true, want: true},
		{name: "browser client cache", value: false, want: false},
		{name: "browser client expires", value: 60, want: time.Minute},
		{name: "browser client handler", value: false, want: nil},
		{name: "match origin protocol", value: true, noValue: true},
		{name: "flash policy server", value: false, noValue: true},
		{name: "flash policy port", value: 10843, noValue: true},
		{name: "destroy upgrade", value: false, noValue: true},
		{name: "destroy buffer size", value: 1e8, noValue: true},
		{name: "client store expiration", value: 15, noValue: true},
		// Node socket.io 4
		{name: "path", value: "/io", want: "/io"},
		{name: "pingInterval", value: 2000, want: 2 * time.Second},
		{name: "pingInterval", value: 1500.0, want: 1500 * time.Millisecond},
		{name: "pingTimeout", value: 1000, want: time.Second},
		{name: "upgradeTimeout", value: 5000, want: 5 * time.Second},
		{name: "connectTimeout", value: time.Second, want: time.Second},
		{name: "maxHttpBufferSize", value: 5, want: int64(5)},
		{name: "maxHttpBufferSize", value: 1e6, want: int64(1_000_000)},
		{name: "maxHttpBufferSize", value: int64(7), want: int64(7)},
		{name: "transports", value: []string{"polling"}, want: []string{"polling"}},
		{name: "transports", value: []string{"websocket", "polling"}, want: []string{"websocket", "polling"}},
		{name: "allowUpgrades", value: false, want: false},
		{name: "allowEIO3", value: false, want: false},
		{name: "cookie", value: true, want: "io"},
		{name: "cookie", value: "sticky", want: "sticky"},
		{name: "cookie", value: false, want: ""},
		{name: "cookie", value: map[string]any{"name": "lb", "httpOnly": true}, want: "lb"},
		{name: "cors", value: "https://app.example", want: []string{"https://app.example"}},
		{name: "cors", value: []string{"https://a.example", "http://b.example:8080"}, want: []string{"https://a.example", "http://b.example:8080"}},
		{name: "cors", value: map[string]any{"origin": []any{"https://a.example"}, "credentials": true}, want: []string{"https://a.example"}},
		{name: "cors", value: map[string]any{"methods": []any{"GET", "POST"}}, want: []string{"*"}},
		{name: "cors", value: true, want: []string{"*"}},
		{name: "cors", value: false, want: []string(nil)},
		{name: "serveClient", value: false, want: false},
		{name: "perMessageDeflate", value: false, want: false},
		{name: "httpCompression", value: false, noValue: true},
		{name: "httpCompression", value: map[string]any{"threshold": 2048}, noValue: true},
		{name: "destroyUpgrade", value: false, noValue: true},
		{name: "destroyUpgradeTimeout", value: 1000, noValue: true},
		{name: "cleanupEmptyChildNamespaces", value: true, want: true},
		{name: "connectionStateRecovery", value: false, want: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.name, tt.value), func(t *testing.T) {
			s := expressio.NewServer(nil)
			settingsMustSet(t, s, tt.name, tt.value)
			got, ok := s.Get(tt.name)
			if tt.noValue {
				if ok {
					t.Fatalf("Get(%q) = %v, true; want no value", tt.name, got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get(%q) = %#v, %v; want %#v", tt.name, got, ok, tt.want)
			}
		})
	}
}

// The two generations' names for one option write the same field.
func TestSetSharedFields(t *testing.T) {
	tests := []struct {
		set, get string
		value    any
		want     any
	}{
		{"heartbeat interval", "pingInterval", 2, 2 * time.Second},
		{"pingTimeout", "heartbeat timeout", 1500, 1500 * time.Millisecond},
		{"resource", "path", "/rt", "/rt"},
		{"browser client", "serveClient", false, false},
		{"origins", "cors", "*:*", []string{"*"}},
	}
	for _, tt := range tests {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, tt.set, tt.value)
		if got, _ := s.Get(tt.get); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("after Set(%q, %v): Get(%q) = %#v, want %#v", tt.set, tt.value, tt.get, got, tt.want)
		}
	}
	s := expressio.NewServer(nil)
	settingsMustSet(t, s, "resource", "/rt")
	if s.Path() != "/rt/" {
		t.Errorf("Path() = %q after resource /rt, want /rt/", s.Path())
	}
}

func TestGetDefaults(t *testing.T) {
	s := expressio.NewServer(nil)
	want := map[string]any{
		"log":                         true,
		"log level":                   2, // slog.Default: info
		"transports":                  []string{"polling", "websocket"},
		"heartbeats":                  true,
		"heartbeat interval":          25 * time.Second,
		"heartbeat timeout":           20 * time.Second,
		"close timeout":               60 * time.Second,
		"polling duration":            20 * time.Second,
		"origins":                     []string(nil),
		"resource":                    "/socket.io",
		"blacklist":                   []string{"disconnect"},
		"browser client":              true,
		"browser client minification": false,
		"browser client etag":         false,
		"browser client gzip":         false,
		"browser client cache":        true,
		"browser client expires":      315360000 * time.Second,
		"browser client handler":      nil,
		"path":                        "/socket.io",
		"pingInterval":                25 * time.Second,
		"pingTimeout":                 20 * time.Second,
		"upgradeTimeout":              10 * time.Second,
		"connectTimeout":              45 * time.Second,
		"maxHttpBufferSize":           int64(1_000_000),
		"allowUpgrades":               true,
		"allowEIO3":                   true,
		"cookie":                      "",
		"cors":                        []string(nil),
		"serveClient":                 true,
		"perMessageDeflate":           false,
		"cleanupEmptyChildNamespaces": false,
		"connectionStateRecovery":     false,
	}
	for name, w := range want {
		got, ok := s.Get(name)
		if !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("Get(%q) = %#v, %v; want %#v", name, got, ok, w)
		}
	}
	if fn, ok := s.Get("allowRequest"); !ok || fn.(func(*http.Request) error) != nil {
		t.Errorf("Get(allowRequest) = %v, %v; want a nil func", fn, ok)
	}
	for _, name := range []string{"nope", "authorization", "store", "log colors", "httpCompression"} {
		if v, ok := s.Get(name); ok {
			t.Errorf("Get(%q) = %v, true; want no value", name, v)
		}
	}

	// Enabled and Disabled test truth, as socket.io 0.9's did.
	for name, on := range map[string]bool{
		"log": true, "browser client": true, "browser client gzip": false,
		"transports": true, "cookie": false, "heartbeat interval": true,
	} {
		if s.Enabled(name) != on || s.Disabled(name) == on {
			t.Errorf("Enabled(%q) = %v, Disabled = %v; want enabled %v", name, s.Enabled(name), s.Disabled(name), on)
		}
	}
	if s.Enabled("nope") || s.Disabled("nope") || s.Enabled("store") || s.Disabled("store") {
		t.Error("a name without a value is neither enabled nor disabled")
	}
	if err := s.Enable("browser client gzip"); err != nil || !s.Enabled("browser client gzip") {
		t.Errorf("Enable: %v, enabled %v", err, s.Enabled("browser client gzip"))
	}
	if err := s.Disable("allowUpgrades"); err != nil || !s.Disabled("allowUpgrades") {
		t.Errorf("Disable: %v, disabled %v", err, s.Disabled("allowUpgrades"))
	}
	if err := s.Enable("heartbeat interval"); !errors.Is(err, expressio.ErrBadSetting) {
		t.Errorf("Enable on a duration: %v, want ErrBadSetting", err)
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name  string
		value any
		want  error
		text  string // in the message, besides the prefix and the name
	}{
		{"nope", 1, expressio.ErrUnknownSetting, ""},
		{"Heartbeat Interval", 1, expressio.ErrUnknownSetting, ""},
		{"log", "yes", expressio.ErrBadSetting, "bool"},
		{"log", nil, expressio.ErrBadSetting, "<nil>"},
		{"log level", 4, expressio.ErrBadSetting, "debug"},
		{"log level", -1, expressio.ErrBadSetting, ""},
		{"log level", "3", expressio.ErrBadSetting, "string"},
		{"log level", 2.5, expressio.ErrBadSetting, "whole number"},
		{"log colors", "auto", expressio.ErrBadSetting, ""},
		{"heartbeats", 1, expressio.ErrBadSetting, ""},
		{"heartbeat interval", "10", expressio.ErrBadSetting, "seconds"},
		{"heartbeat interval", 0, expressio.ErrBadSetting, "positive"},
		{"heartbeat interval", -5, expressio.ErrBadSetting, "positive"},
		{"heartbeat interval", math.NaN(), expressio.ErrBadSetting, ""},
		{"heartbeat interval", math.Inf(1), expressio.ErrBadSetting, ""},
		{"heartbeat timeout", -time.Second, expressio.ErrBadSetting, ""},
		{"close timeout", true, expressio.ErrBadSetting, ""},
		{"polling duration", "20", expressio.ErrBadSetting, ""},
		{"transports", "websocket", expressio.ErrBadSetting, "[]string"},
		{"transports", []string{}, expressio.ErrBadSetting, "empty"},
		{"transports", []any{1}, expressio.ErrBadSetting, "element 0"},
		{"transports", []string{"websocket", "flashsocket"}, expressio.ErrUnsupportedSetting, "Flash"},
		{"transports", []string{"polling", "xhr-polling"}, expressio.ErrBadSetting, "mixes"},
		{"transports", []string{"carrier-pigeon"}, expressio.ErrBadSetting, "unknown transport"},
		{"transports", []string{"webtransport"}, expressio.ErrUnsupportedSetting, ""},
		{"origins", "example.com", expressio.ErrBadSetting, "host:port"},
		{"origins", "example.com:http", expressio.ErrBadSetting, "port"},
		{"origins", "example.com:70000", expressio.ErrBadSetting, "port"},
		{"origins", "", expressio.ErrBadSetting, ""},
		{"origins", "https://example.com/path", expressio.ErrBadSetting, "scheme://host"},
		{"origins", 42, expressio.ErrBadSetting, ""},
		{"resource", "rt", expressio.ErrBadSetting, "start"},
		{"resource", 1, expressio.ErrBadSetting, ""},
		{"path", "/a?b", expressio.ErrBadSetting, ""},
		{"authorization", "x", expressio.ErrBadSetting, "Middleware"},
		{"authorization", expressio.Middleware(nil), expressio.ErrBadSetting, "nil"},
		{"blacklist", "disconnect", expressio.ErrBadSetting, ""},
		{"store", "redis", expressio.ErrUnsupportedSetting, "redisadapter"},
		{"browser client", "yes", expressio.ErrBadSetting, ""},
		{"browser client expires", "never", expressio.ErrBadSetting, ""},
		{"browser client handler", 1, expressio.ErrBadSetting, "http.Handler"},
		{"browser client handler", true, expressio.ErrBadSetting, ""},
		{"flash policy port", 70000, expressio.ErrBadSetting, "port"},
		{"destroy buffer size", -1, expressio.ErrBadSetting, ""},
		{"client store expiration", "15", expressio.ErrBadSetting, ""},
		{"pingInterval", "25000", expressio.ErrBadSetting, "milliseconds"},
		{"connectTimeout", 0, expressio.ErrBadSetting, ""},
		{"maxHttpBufferSize", 1.5, expressio.ErrBadSetting, "whole number"},
		{"maxHttpBufferSize", "1e6", expressio.ErrBadSetting, ""},
		{"maxHttpBufferSize", 0, expressio.ErrBadSetting, "positive"},
		{"allowUpgrades", "false", expressio.ErrBadSetting, ""},
		{"allowEIO3", 0, expressio.ErrBadSetting, ""},
		{"cookie", 1, expressio.ErrBadSetting, ""},
		{"cookie", "bad name", expressio.ErrBadSetting, ""},
		{"cookie", map[string]any{"name": 1}, expressio.ErrBadSetting, "name"},
		{"cors", 1, expressio.ErrBadSetting, ""},
		{"cors", "example.com", expressio.ErrBadSetting, "scheme://host"},
		{"cors", map[string]any{"orign": "*"}, expressio.ErrBadSetting, "orign"},
		{"cors", (func(string, *http.Request) bool)(nil), expressio.ErrBadSetting, "nil"},
		{"allowRequest", func() {}, expressio.ErrBadSetting, "func(*http.Request) error"},
		{"serveClient", nil, expressio.ErrBadSetting, ""},
		{"perMessageDeflate", true, expressio.ErrUnsupportedSetting, "not supported"},
		{"perMessageDeflate", map[string]any{"threshold": 1024}, expressio.ErrUnsupportedSetting, ""},
		{"perMessageDeflate", "no", expressio.ErrBadSetting, ""},
		{"httpCompression", "gzip", expressio.ErrBadSetting, ""},
		{"destroyUpgrade", "yes", expressio.ErrBadSetting, ""},
		{"destroyUpgradeTimeout", -1, expressio.ErrBadSetting, ""},
		{"cleanupEmptyChildNamespaces", 1, expressio.ErrBadSetting, ""},
		{"connectionStateRecovery", true, expressio.ErrUnsupportedSetting, "not supported"},
		{"connectionStateRecovery", map[string]any{"maxDisconnectionDuration": 120000}, expressio.ErrUnsupportedSetting, ""},
		{"connectionStateRecovery", 1, expressio.ErrBadSetting, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%v", tt.name, tt.value), func(t *testing.T) {
			s := expressio.NewServer(nil)
			before, _ := s.Get(tt.name)
			err := s.Set(tt.name, tt.value)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Set(%q, %#v) = %v, want %v", tt.name, tt.value, err, tt.want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "expressio: ") || !strings.Contains(msg, fmt.Sprintf("%q", tt.name)) || !strings.Contains(msg, tt.text) {
				t.Errorf("error %q: want the prefix, the name and %q", msg, tt.text)
			}
			if after, _ := s.Get(tt.name); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a failed Set changed %q from %v to %v", tt.name, before, after)
			}
		})
	}
}

// Settings are fixed once the server serves; "log level" set before may
// still change, through its slog.LevelVar.
func TestSetAfterServing(t *testing.T) {
	s := expressio.NewServer(nil)
	settingsMustSet(t, s, "heartbeat interval", 2) // not started yet
	ts := newServer(t, s)
	settingsOpenPacket(t, settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil))

	for name, value := range map[string]any{
		"heartbeat interval": 5, "pingTimeout": 1000, "log": false, "log level": 1,
		"transports": []string{"websocket"}, "nope": 1,
	} {
		err := s.Set(name, value)
		want := expressio.ErrSettingsFixed
		if name == "nope" {
			want = expressio.ErrUnknownSetting
		}
		if !errors.Is(err, want) {
			t.Errorf("Set(%q) after serving = %v, want %v", name, err, want)
		}
	}
	if err := s.Enable("allowUpgrades"); !errors.Is(err, expressio.ErrSettingsFixed) {
		t.Errorf("Enable after serving = %v", err)
	}
	if v, _ := s.Get("heartbeat interval"); v != 2*time.Second {
		t.Errorf("Get after serving = %v, want 2s", v)
	}
	if err := s.Configure("", func(s *expressio.Server) error { return s.Set("close timeout", 1) }); !errors.Is(err, expressio.ErrSettingsFixed) {
		t.Errorf("Configure after serving = %v", err)
	}
}

func TestSetHeartbeatHandshake(t *testing.T) {
	tests := []struct {
		settings map[string]any
		want     map[string]float64
	}{
		{
			map[string]any{"heartbeat interval": 2, "heartbeat timeout": 1},
			map[string]float64{"pingInterval": 2000, "pingTimeout": 1000, "maxPayload": 1e6},
		},
		{
			map[string]any{"pingInterval": 3000, "pingTimeout": 1500.0, "maxHttpBufferSize": 5000},
			map[string]float64{"pingInterval": 3000, "pingTimeout": 1500, "maxPayload": 5000},
		},
	}
	for _, tt := range tests {
		s := expressio.NewServer(nil)
		for name, v := range tt.settings {
			settingsMustSet(t, s, name, v)
		}
		ts := newServer(t, s)
		open := settingsOpenPacket(t, settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil))
		for k, w := range tt.want {
			if open[k] != w {
				t.Errorf("%v: open packet %s = %v, want %v", tt.settings, k, open[k], w)
			}
		}
	}
}

func TestSetResource(t *testing.T) {
	s := expressio.NewServer(nil)
	settingsMustSet(t, s, "resource", "/rt")
	if s.Path() != "/rt/" {
		t.Fatalf("Path() = %q", s.Path())
	}
	ts := newServer(t, s) // mounts at s.Path()
	settingsOpenPacket(t, settingsDo(t, "GET", ts.URL+"/rt/?EIO=4&transport=polling", nil))
	if res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil); res.status != http.StatusNotFound {
		t.Errorf("old path: %d, want 404", res.status)
	}
}

func TestSetOrigins(t *testing.T) {
	const same = "same origin" // replaced by the test server's own origin
	tests := []struct {
		setting string
		value   any
		origin  string
		allowed bool
	}{
		{"origins", "example.com:*", "http://example.com:8080", true},
		{"origins", "example.com:*", "https://example.com", true},
		{"origins", "example.com:*", "https://evil.example", false},
		{"origins", "example.com:*", "http://sub.example.com:8080", false},
		{"origins", "example.com:*", same, true},
		{"origins", "example.com:8080, other.example:443", "http://example.com:8080", true},
		{"origins", "example.com:8080, other.example:443", "https://EXAMPLE.com:8080", true},
		{"origins", "example.com:8080, other.example:443", "http://example.com:9090", false},
		{"origins", "example.com:8080, other.example:443", "https://other.example", true},
		{"origins", "example.com:8080, other.example:443", "http://other.example", false},
		{"origins", "example.com:80", "http://example.com", true},
		{"origins", "*:8080", "http://anything.example:8080", true},
		{"origins", "*:8080", "http://anything.example", false},
		{"origins", "[::1]:*", "http://[::1]:3000", true},
		{"origins", []string{"https://app.example", "localhost:*"}, "https://app.example", true},
		{"origins", []string{"https://app.example", "localhost:*"}, "http://app.example", false},
		{"origins", []string{"https://app.example", "localhost:*"}, "http://localhost:5173", true},
		{"origins", "*:*", "https://evil.example", true},
		{"cors", "https://app.example", "https://app.example", true},
		{"cors", "https://app.example", "https://evil.example", false},
		{"cors", "https://app.example", same, true},
		{"cors", map[string]any{"origin": []any{"https://app.example"}}, "https://app.example", true},
		{"cors", true, "https://evil.example", true},
		{"cors", func(o string, _ *http.Request) bool { return strings.HasSuffix(o, ".trusted") }, "https://a.trusted", true},
		{"cors", func(o string, _ *http.Request) bool { return strings.HasSuffix(o, ".trusted") }, "https://evil.example", false},
	}
	for _, tt := range tests {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, tt.setting, tt.value)
		ts := newServer(t, s)
		origin := tt.origin
		if origin == same {
			origin = ts.URL
		}
		res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", http.Header{"Origin": {origin}})
		acao := origin
		if tt.value == "*:*" || tt.value == true {
			acao = "*" // any origin, never with credentials
		}
		switch {
		case tt.allowed && (res.status != http.StatusOK || res.header.Get("Access-Control-Allow-Origin") != acao):
			t.Errorf("%s %v: Origin %s: %d %q, ACAO %q; want allowed", tt.setting, tt.value, origin, res.status, res.body, res.header.Get("Access-Control-Allow-Origin"))
		case !tt.allowed && res.status != http.StatusForbidden:
			t.Errorf("%s %v: Origin %s: %d %q; want 403", tt.setting, tt.value, origin, res.status, res.body)
		}
	}

	// The same rule guards WebSocket handshakes.
	s := expressio.NewServer(nil)
	settingsMustSet(t, s, "origins", "example.com:*")
	ts := newServer(t, s)
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	if _, res, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"https://evil.example"}}); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("websocket from a foreign origin: %v %v", err, res)
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {"http://example.com:3000"}})
	if err != nil {
		t.Fatalf("websocket from an allowed origin: %v", err)
	}
	conn.Close()
}

func TestSetTransports(t *testing.T) {
	tests := []struct {
		transports       []string
		polling, upgrade bool
	}{
		{[]string{"websocket"}, false, true},
		{[]string{"xhr-polling", "jsonp-polling"}, true, false},
		{[]string{"polling"}, true, false},
		{[]string{"websocket", "htmlfile"}, true, true},
	}
	for _, tt := range tests {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, "transports", tt.transports)
		ts := newServer(t, s)
		res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil)
		if (res.status == http.StatusOK) != tt.polling {
			t.Errorf("%v: polling handshake %d %q", tt.transports, res.status, res.body)
		}
		u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
		conn, _, err := websocket.DefaultDialer.Dial(u, nil)
		if (err == nil) != tt.upgrade {
			t.Errorf("%v: websocket: %v", tt.transports, err)
		}
		if conn != nil {
			conn.Close()
		}
	}
}

func TestSetHandshakeOptions(t *testing.T) {
	t.Run("allowEIO3", func(t *testing.T) {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, "allowEIO3", false)
		ts := newServer(t, s)
		if res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=3&transport=polling", nil); res.status != http.StatusBadRequest {
			t.Errorf("EIO=3 handshake: %d %q, want 400", res.status, res.body)
		}
	})
	t.Run("cookie", func(t *testing.T) {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, "cookie", "sticky")
		ts := newServer(t, s)
		res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil)
		sid := settingsOpenPacket(t, res)["sid"]
		if c := res.header.Get("Set-Cookie"); !strings.HasPrefix(c, fmt.Sprintf("sticky=%v;", sid)) {
			t.Errorf("Set-Cookie %q, want sticky=%v", c, sid)
		}
	})
	t.Run("allowRequest", func(t *testing.T) {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, "allowRequest", func(r *http.Request) error {
			if r.URL.Query().Get("token") != "ok" {
				return errors.New("no token")
			}
			return nil
		})
		ts := newServer(t, s)
		if res := settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling", nil); res.status != http.StatusForbidden {
			t.Errorf("refused request: %d %q, want 403", res.status, res.body)
		}
		settingsOpenPacket(t, settingsDo(t, "GET", ts.URL+"/socket.io/?EIO=4&transport=polling&token=ok", nil))
	})
	t.Run("authorization", func(t *testing.T) {
		s := expressio.NewServer(nil)
		settingsMustSet(t, s, "authorization", func(h *expressio.Handshake) error {
			if strings.Contains(string(h.Auth), "bad") {
				return errors.New("handshake unauthorized")
			}
			return nil
		})
		settingsMustSet(t, s, "authorization", expressio.Middleware(func(h *expressio.Handshake) error {
			h.Set("user", "ada")
			return nil
		}))
		s.Route("who", func(req *expressio.SocketRequest) {
			user, _ := req.Handshake.Get("user")
			req.IO.Respond(user)
		})
		ts := newServer(t, s)
		c := dial(t, ts, "4")
		c.send(`40{"token":"bad"}`)
		c.expect(`44{"message":"handshake unauthorized"}`)
		ok := connect(t, ts, "4")
		ok.send(`421["who"]`)
		ok.expect(`431["ada"]`)
	})
}

func TestSetBlacklist(t *testing.T) {
	s := expressio.NewServer(nil)
	settingsMustSet(t, s, "blacklist", []string{"secret"})
	ran := make(chan string, 2)
	for _, name := range []string{"secret", "open"} {
		s.Route(name, func(req *expressio.SocketRequest) {
			ran <- name
			req.IO.Respond(name)
		})
	}
	ts := newServer(t, s)
	c := connect(t, ts, "4")
	// A socket's events run in order: when "open" is answered, the events
	// before it were dropped or they would have answered first.
	c.send(`421["secret"]`)
	c.send(`422["open"]`)
	c.expect(`432["open"]`)
	if got := <-ran; got != "open" {
		t.Fatalf("ran %q before open", got)
	}
	select {
	case got := <-ran:
		t.Fatalf("ran %q", got)
	default:
	}
}

// settingsLogBuffer collects what a logger writes.
type settingsLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *settingsLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *settingsLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer holds s.
func (b *settingsLogBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs:\n%s", s, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// "log level" installs a logger on stderr: the test swaps os.Stderr for a
// pipe while Set makes it, so it must not run in parallel.
func TestSetLogLevel(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	logs := &settingsLogBuffer{}
	copied := make(chan struct{})
	go func() {
		io.Copy(logs, r)
		close(copied)
	}()
	// Registered first, so it runs after the server has shut down.
	t.Cleanup(func() {
		w.Close()
		<-copied
		r.Close()
	})

	s := expressio.NewServer(nil)
	stderr := os.Stderr
	os.Stderr = w
	err = s.Set("log level", 3)
	os.Stderr = stderr
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("log level"); v != 3 {
		t.Fatalf("Get(log level) = %v", v)
	}
	s.Route("ping", func(req *expressio.SocketRequest) { req.IO.Respond("pong") })
	ts := newServer(t, s)
	c := connect(t, ts, "4")
	c.send(`42["nobody1"]`)
	logs.waitFor(t, "nobody1")
	if !strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatalf("no debug line:\n%s", logs)
	}

	// The level may change while serving. The socket's events and their
	// logs come in order, so nobody2 would show before nobody3.
	settingsMustSet(t, s, "log level", 0)
	if v, _ := s.Get("log level"); v != 0 {
		t.Fatalf("Get(log level) = %v after the change", v)
	}
	c.send(`42["nobody2"]`)
	c.send(`421["ping"]`)
	c.expect(`431["pong"]`)
	settingsMustSet(t, s, "log level", 3)
	c.send(`42["nobody3"]`)
	logs.waitFor(t, "nobody3")
	if strings.Contains(logs.String(), "nobody2") {
		t.Errorf("debug line logged at level 0:\n%s", logs)
	}
}

func TestSetLog(t *testing.T) {
	s := expressio.NewServer(nil)
	if err := s.Disable("log"); err != nil {
		t.Fatal(err)
	}
	if s.Enabled("log") {
		t.Fatal("log still enabled")
	}
	// The level is kept for when logging comes back.
	if v, _ := s.Get("log level"); v != 2 {
		t.Errorf("Get(log level) = %v while off, want 2", v)
	}
	settingsMustSet(t, s, "log level", 1)
	if s.Enabled("log") {
		t.Fatal(`"log level" turned logging back on`)
	}
	if err := s.Enable("log"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get("log level"); !s.Enabled("log") || v != 1 {
		t.Errorf("after Enable: log %v, level %v; want true, 1", s.Enabled("log"), v)
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		goEnv, nodeEnv, env string
		run                 bool
	}{
		{"", "", "", true},
		{"", "", "development", true},
		{"", "", "production", false},
		{"production", "", "production", true},
		{"production", "", "development", false},
		{"production", "staging", "staging", false}, // GO_ENV first
		{"", "staging", "staging", true},
		{"test", "staging", "", true},
	}
	for _, tt := range tests {
		t.Setenv("GO_ENV", tt.goEnv)
		t.Setenv("NODE_ENV", tt.nodeEnv)
		s := expressio.NewServer(nil)
		ran := false
		err := s.Configure(tt.env, func(got *expressio.Server) error {
			ran = got == s
			return got.Set("heartbeat interval", 10)
		})
		if err != nil || ran != tt.run {
			t.Errorf("GO_ENV=%q NODE_ENV=%q Configure(%q): ran %v, err %v; want ran %v", tt.goEnv, tt.nodeEnv, tt.env, ran, err, tt.run)
		}
		if v, _ := s.Get("heartbeat interval"); tt.run != (v == 10*time.Second) {
			t.Errorf("Configure(%q): heartbeat interval %v", tt.env, v)
		}
	}

	t.Setenv("GO_ENV", "")
	t.Setenv("NODE_ENV", "")
	s := expressio.NewServer(nil)
	errStop := errors.New("stop")
	if err := s.Configure("development", func(*expressio.Server) error { return errStop }); err != errStop {
		t.Errorf("Configure returned %v, want fn's error", err)
	}
	if err := s.Configure("", func(s *expressio.Server) error { return s.Set("transports", []string{"flashsocket"}) }); !errors.Is(err, expressio.ErrUnsupportedSetting) {
		t.Errorf("Configure returned %v, want the Set error", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Configure with a nil func did not panic")
		}
	}()
	s.Configure("", nil)
}

// Set and Get may be called from several goroutines.
func TestSetConcurrent(t *testing.T) {
	s := expressio.NewServer(nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if err := s.Set("heartbeat interval", i+j+1); err != nil {
					t.Error(err)
					return
				}
				s.Get("heartbeat interval")
				s.Enabled("log")
			}
		}()
	}
	wg.Wait()
}

// The browser client handler may be an http.Handler or a handler func.
func TestSetBrowserClientHandler(t *testing.T) {
	s := expressio.NewServer(nil)
	h := http.NewServeMux() // comparable, unlike a HandlerFunc
	settingsMustSet(t, s, "browser client handler", h)
	if got, _ := s.Get("browser client handler"); got != h {
		t.Errorf("Get = %v, want the handler", got)
	}
	settingsMustSet(t, s, "browser client handler", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "custom") })
	got, _ := s.Get("browser client handler")
	rec := httptest.NewRecorder()
	got.(http.Handler).ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/socket.io.js", nil))
	if rec.Body.String() != "custom" {
		t.Errorf("handler func served %q", rec.Body.String())
	}
	settingsMustSet(t, s, "browser client handler", nil)
	if got, _ := s.Get("browser client handler"); got != nil {
		t.Errorf("Get after nil = %v", got)
	}
}
