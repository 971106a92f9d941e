package expressio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expressio-go/expressio/protocol/engineio"
)

// Defaults of socket.io 0.9 (lib/manager.js) that have no Node
// counterpart.
const (
	// DefaultCloseTimeout is socket.io 0.9's "close timeout".
	DefaultCloseTimeout = 60 * time.Second
	// DefaultPollingDuration is socket.io 0.9's "polling duration".
	DefaultPollingDuration = 20 * time.Second
	// DefaultBrowserClientExpires is socket.io 0.9's "browser client
	// expires": 315360000 seconds, ten years.
	DefaultBrowserClientExpires = 315360000 * time.Second
)

// Errors of Set. Each is wrapped with the setting's name and the reason;
// callers compare with errors.Is.
var (
	// ErrUnknownSetting is returned for a name that is neither a socket.io
	// 0.9 setting nor a Node socket.io 4 option known to Set.
	ErrUnknownSetting = errors.New("expressio: unknown setting")
	// ErrBadSetting is returned for a value of the wrong type or out of
	// range.
	ErrBadSetting = errors.New("expressio: bad setting value")
	// ErrUnsupportedSetting is returned for a setting, or a value of it,
	// that this server refuses to pretend to support (flashsocket, store,
	// perMessageDeflate, connectionStateRecovery).
	ErrUnsupportedSetting = errors.New("expressio: setting not supported")
	// ErrSettingsFixed is returned by Set once the server has started
	// serving: its options are fixed from then on.
	ErrSettingsFixed = errors.New("expressio: settings are fixed once the server has started")
)

// LegacyOptions configure the socket.io 0.9 server (protocol 1): socket.io
// 0.9's transport settings. The zero value means socket.io 0.9's
// defaults. The 0.9 heartbeat interval and timeout are the engine's
// (Options.Engine.PingInterval and PingTimeout, the settings "heartbeat
// interval" and "heartbeat timeout").
type LegacyOptions struct {
	// Enabled serves socket.io 0.9 clients (express.io's own client, the
	// protocol at <path>1/) beside the Engine.IO clients, on the same
	// path and in the same rooms; setting "legacy" (default: off). With it
	// the browser client served at <path>socket.io.js is 0.9's, as
	// express.io served it.
	Enabled bool
	// Transports lists the transports offered to socket.io 0.9 clients, in
	// order of preference, by their 0.9 names: "websocket", "htmlfile",
	// "xhr-polling", "jsonp-polling" (nil = all four, in that order:
	// socket.io 0.9's "transports" default).
	Transports []string
	// DisableHeartbeats turns socket.io 0.9's heartbeats off ("heartbeats"
	// = false; default: on): the handshake's heartbeat field is empty and
	// the server sends none. Engine.IO clients heartbeat regardless, as
	// their protocol requires.
	DisableHeartbeats bool
	// CloseTimeout is socket.io 0.9's "close timeout" (0 = 60s), sent in
	// the handshake: a session whose transport went away is closed when no
	// transport comes back within it.
	CloseTimeout time.Duration
	// PollingDuration is socket.io 0.9's "polling duration" (0 = 20s): how
	// long a long-poll is held open before it is answered with a noop.
	PollingDuration time.Duration
}

// BrowserClientOptions configure serving the JavaScript client below the
// server's path (/socket.io/socket.io.js): socket.io 0.9's "browser
// client" settings, and Node's serveClient. The zero value means the
// defaults.
type BrowserClientOptions struct {
	// Disabled turns serving the client off: socket.io 0.9's "browser
	// client" = false, Node's serveClient = false (default: served).
	Disabled bool
	// Minify serves the minified build: "browser client minification"
	// (default false).
	Minify bool
	// ETag sends an ETag and answers If-None-Match with 304: "browser
	// client etag" (default false).
	ETag bool
	// Gzip compresses the script for clients that accept gzip: "browser
	// client gzip" (default false).
	Gzip bool
	// NoCache builds the script for every request instead of keeping it in
	// memory: "browser client cache" = false (default: kept).
	NoCache bool
	// Expires is how long clients may cache the versioned script URL:
	// "browser client expires" (0 = 315360000s, ten years).
	Expires time.Duration
	// Handler, when set, serves the client script instead of the built-in
	// one: "browser client handler" (default nil).
	Handler http.Handler
	// Dir is the directory holding the socket.io-client dist files
	// (socket.io.js, socket.io.min.js), installed from npm, never
	// committed. "" looks in client/node_modules/socket.io-client/dist
	// (what scripts/setup installs) and node_modules/socket.io-client/dist
	// under the working directory.
	Dir string
	// LegacyDir is the same for socket.io-client 0.9.16, served when the
	// legacy protocol is on ("" looks in
	// client/node_modules/socket.io-client-legacy/dist, then
	// node_modules/socket.io-client-legacy/dist).
	LegacyDir string
}

// A setting is one name Set knows: how to write it into the options and
// how to read it back.
type setting struct {
	set func(s *Server, name string, v any) error
	// get reads the value back from the options, defaults filled in; nil
	// for the settings that hold no value (Get reports false).
	get func(s *Server) any
	// live settings may change after the server started; their set
	// function checks on its own whether it can.
	live bool
}

// settings is every name Set knows, socket.io 0.9's and Node socket.io
// 4's; docs/settings.md describes them. It is never modified.
var settings = map[string]setting{
	// socket.io 0.9 (lib/manager.js), as express.io's app.io.set saw them.
	"log":        {set: setLog, get: getLog},
	"log level":  {set: setLogLevel, get: getLogLevel, live: true},
	"log colors": noEffect(asBool),
	"transports": {set: setTransports, get: getTransports},
	"heartbeats": boolOption(true, func(o *Options) *bool { return &o.Legacy.DisableHeartbeats }),
	// Not a 0.9 setting: turns the 0.9 protocol on (LegacyOptions.Enabled).
	"legacy":                      boolOption(false, func(o *Options) *bool { return &o.Legacy.Enabled }),
	"heartbeat interval":          durationOption(time.Second, engineio.DefaultPingInterval, func(o *Options) *time.Duration { return &o.Engine.PingInterval }),
	"heartbeat timeout":           durationOption(time.Second, engineio.DefaultPingTimeout, func(o *Options) *time.Duration { return &o.Engine.PingTimeout }),
	"close timeout":               durationOption(time.Second, DefaultCloseTimeout, func(o *Options) *time.Duration { return &o.Legacy.CloseTimeout }),
	"polling duration":            durationOption(time.Second, DefaultPollingDuration, func(o *Options) *time.Duration { return &o.Legacy.PollingDuration }),
	"origins":                     {set: setOrigins, get: getOrigins},
	"resource":                    {set: setPath, get: getPath},
	"authorization":               {set: setAuthorization},
	"blacklist":                   {set: setBlacklist, get: getBlacklist},
	"store":                       {set: setStore},
	"browser client":              boolOption(true, func(o *Options) *bool { return &o.BrowserClient.Disabled }),
	"browser client minification": boolOption(false, func(o *Options) *bool { return &o.BrowserClient.Minify }),
	"browser client etag":         boolOption(false, func(o *Options) *bool { return &o.BrowserClient.ETag }),
	"browser client gzip":         boolOption(false, func(o *Options) *bool { return &o.BrowserClient.Gzip }),
	"browser client cache":        boolOption(true, func(o *Options) *bool { return &o.BrowserClient.NoCache }),
	"browser client expires":      durationOption(time.Second, DefaultBrowserClientExpires, func(o *Options) *time.Duration { return &o.BrowserClient.Expires }),
	"browser client handler":      {set: setBrowserHandler, get: getBrowserHandler},
	"match origin protocol":       noEffect(asBool),
	"flash policy server":         noEffect(asBool),
	"flash policy port":           noEffect(asPort),
	"destroy upgrade":             noEffect(asBool),
	"destroy buffer size":         noEffect(asSize),
	"client store expiration":     noEffect(asSeconds),

	// Node socket.io 4 and engine.io 6 ("transports" is shared).
	"path":                        {set: setPath, get: getPath},
	"pingInterval":                durationOption(time.Millisecond, engineio.DefaultPingInterval, func(o *Options) *time.Duration { return &o.Engine.PingInterval }),
	"pingTimeout":                 durationOption(time.Millisecond, engineio.DefaultPingTimeout, func(o *Options) *time.Duration { return &o.Engine.PingTimeout }),
	"upgradeTimeout":              durationOption(time.Millisecond, engineio.DefaultUpgradeTimeout, func(o *Options) *time.Duration { return &o.Engine.UpgradeTimeout }),
	"connectTimeout":              durationOption(time.Millisecond, DefaultConnectTimeout, func(o *Options) *time.Duration { return &o.ConnectTimeout }),
	"maxHttpBufferSize":           {set: setMaxHTTPBufferSize, get: getMaxHTTPBufferSize},
	"allowUpgrades":               boolOption(true, func(o *Options) *bool { return &o.Engine.DisallowUpgrades }),
	"allowEIO3":                   boolOption(true, func(o *Options) *bool { return &o.Engine.DisallowEIO3 }),
	"cookie":                      {set: setCookie, get: getCookie},
	"cors":                        {set: setCORS, get: getOrigins},
	"allowRequest":                {set: setAllowRequest, get: getAllowRequest},
	"serveClient":                 boolOption(true, func(o *Options) *bool { return &o.BrowserClient.Disabled }),
	"perMessageDeflate":           {set: setPerMessageDeflate, get: func(*Server) any { return false }},
	"httpCompression":             noEffect(asCompression),
	"destroyUpgrade":              noEffect(asBool),
	"destroyUpgradeTimeout":       noEffect(asMillis),
	"cleanupEmptyChildNamespaces": boolOption(false, func(o *Options) *bool { return &o.CleanupEmptyChildNamespaces }),
	"connectionStateRecovery":     {set: setConnectionStateRecovery, get: func(*Server) any { return false }},

	// expressio's own, in Node's style: Options.Limits (limits.go).
	"maxConnectionsPerAddress": limitOption(func(l *Limits) *int { return &l.MaxConnectionsPerAddress }),
	"maxHandshakesPerSecond":   limitOption(func(l *Limits) *int { return &l.MaxHandshakesPerSecond }),
	"trustProxy":               boolOption(false, func(o *Options) *bool { return &o.Limits.TrustProxy }),
}

// boolOption makes a boolean setting stored in field; inverted when the
// field says the opposite (DisallowUpgrades for allowUpgrades), so that
// the zero value keeps meaning the default.
func boolOption(inverted bool, field func(*Options) *bool) setting {
	return setting{
		set: func(s *Server, name string, v any) error {
			on, err := asBool(name, v)
			if err != nil {
				return err
			}
			*field(&s.opts) = on != inverted
			return nil
		},
		get: func(s *Server) any { return *field(&s.opts) != inverted },
	}
}

// durationOption makes a duration setting stored in field: a number of
// units (seconds for socket.io 0.9, milliseconds for Node) or a
// time.Duration; def is the field's zero meaning.
func durationOption(unit, def time.Duration, field func(*Options) *time.Duration) setting {
	return setting{
		set: func(s *Server, name string, v any) error {
			d, err := asDuration(name, v, unit)
			if err != nil {
				return err
			}
			*field(&s.opts) = d
			return nil
		},
		get: func(s *Server) any {
			if d := *field(&s.opts); d > 0 {
				return d
			}
			return def
		},
	}
}

// noEffect makes a setting accepted without effect: the value is still
// checked by read. docs/settings.md says why each has none.
func noEffect[T any](read func(name string, v any) (T, error)) setting {
	return setting{set: func(s *Server, name string, v any) error {
		if _, err := read(name, v); err != nil {
			return err
		}
		s.log.Debug("expressio: setting accepted, it has no effect here (see docs/settings.md)", "setting", name)
		return nil
	}}
}

// Set sets a setting by name: express.io's app.io.set(name, value), which
// is socket.io 0.9's Manager.set. It takes socket.io 0.9's names ("log
// level", "heartbeat interval", "origins", ...) and Node socket.io 4's
// option names ("pingInterval", "cors", "maxHttpBufferSize", ...) alike,
// with the value types those had in JavaScript: numbers as int or
// float64 (seconds for 0.9's durations, milliseconds for Node's; a
// time.Duration is taken as it is), strings, []string, bools, and Go
// functions where JavaScript took callbacks. docs/settings.md lists every
// name with its origin, value type, default and effect.
//
// Every setting writes into the server's Options (Options.Engine for the
// Engine.IO ones, Options.Legacy and Options.BrowserClient for the 0.9
// transport and client ones); the few that have nothing to configure in
// Go are accepted and have no effect, as docs/settings.md explains.
//
// Set returns an error wrapping ErrUnknownSetting for an unknown name,
// ErrBadSetting for a value of the wrong type or out of range,
// ErrUnsupportedSetting for what this server does not do (flashsocket,
// "store", perMessageDeflate, connectionStateRecovery), and
// ErrSettingsFixed once the server has served its first request or shut
// down: settings are for setup. The one exception is "log level", which
// may change at any time once it has been set before the server started,
// since the logger it installs reads its level from a slog.LevelVar.
// Set must not race the server's first request.
func (s *Server) Set(name string, value any) error {
	d, ok := settings[name]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownSetting, name)
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	if !d.live && s.started.Load() {
		return fmt.Errorf("%w: Set(%q)", ErrSettingsFixed, name)
	}
	return d.set(s, name, value)
}

// Get returns a setting's current value, read back from the options with
// the defaults filled in: socket.io 0.9's Manager.get (express.io's
// app.io.get). Durations come back as time.Duration, whatever unit they
// were set in. ok is false for an unknown name and for the settings that
// hold no value: "authorization" (added as middleware), "store" (refused)
// and those accepted without effect. docs/settings.md gives each
// setting's type.
func (s *Server) Get(name string) (value any, ok bool) {
	d, known := settings[name]
	if !known || d.get == nil {
		return nil, false
	}
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	return d.get(s), true
}

// Enable sets a boolean setting to true: socket.io 0.9's Manager.enable
// (express.io's app.io.enable("log")).
func (s *Server) Enable(name string) error { return s.Set(name, true) }

// Disable sets a boolean setting to false: socket.io 0.9's
// Manager.disable.
func (s *Server) Disable(name string) error { return s.Set(name, false) }

// Enabled reports whether a setting is on: socket.io 0.9's
// Manager.enabled, which tested the value's truth. A bool counts as it
// is; other values count when non-zero and non-empty. Unknown names and
// settings without a value are not enabled.
func (s *Server) Enabled(name string) bool {
	v, ok := s.Get(name)
	return ok && truthy(v)
}

// Disabled reports whether a known setting is off: socket.io 0.9's
// Manager.disabled. Unknown names and settings without a value are not
// disabled either.
func (s *Server) Disabled(name string) bool {
	v, ok := s.Get(name)
	return ok && !truthy(v)
}

// Configure runs fn now when env is "" or names the current environment,
// and returns fn's error: socket.io 0.9's Manager.configure([env], fn)
// (express.io's app.io.configure). The environment is $GO_ENV, else
// $NODE_ENV, else "development". Configure panics when fn is nil.
func (s *Server) Configure(env string, fn func(*Server) error) error {
	if fn == nil {
		panic("expressio: Configure with a nil func")
	}
	if env != "" && env != configureEnv() {
		return nil
	}
	return fn(s)
}

// configureEnv returns the environment Configure matches against.
func configureEnv() string {
	for _, key := range []string{"GO_ENV", "NODE_ENV"} {
		if v := os.Getenv(key); v != "" {
			return v
		}
	}
	return "development"
}

// blacklisted reports whether a client event is dropped before routing:
// socket.io 0.9's blacklist. The options are read without a lock: they
// are fixed once the server serves.
func (s *Server) blacklisted(event string) bool {
	return event == routeDisconnect || slices.Contains(s.opts.Blacklist, event)
}

// truthy is JavaScript's truth, for Enabled.
func truthy(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return false
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return rv.Len() > 0
	}
	return !rv.IsZero()
}

// Errors of the setters: the setting's name, then why.

func errSettingType(name, want string, v any) error {
	return fmt.Errorf("%w: %q wants %s, got %T", ErrBadSetting, name, want, v)
}

func errSettingValue(name, format string, args ...any) error {
	return fmt.Errorf("%w: %q: %s", ErrBadSetting, name, fmt.Sprintf(format, args...))
}

func errSettingUnsupported(name, why string) error {
	return fmt.Errorf("%w: %q: %s", ErrUnsupportedSetting, name, why)
}

// Value readers. Each checks a value's type and range for one kind of
// setting.

func asBool(name string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, errSettingType(name, "a bool", v)
	}
	return b, nil
}

// asNumber returns an int, int64 or float64 as a float64.
func asNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// asInt reads a whole number: an int, an int64, or a float64 without a
// fraction (what JSON and JavaScript call a number).
func asInt(name string, v any) (int64, error) {
	switch v := v.(type) {
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	}
	f, ok := asNumber(v)
	if !ok {
		return 0, errSettingType(name, "a whole number (int, int64 or float64)", v)
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, errSettingValue(name, "%v is not a whole number", f)
	}
	return int64(f), nil
}

func asSize(name string, v any) (int64, error) {
	n, err := asInt(name, v)
	if err == nil && n <= 0 {
		err = errSettingValue(name, "%d bytes: must be positive", n)
	}
	return n, err
}

func asPort(name string, v any) (int64, error) {
	n, err := asInt(name, v)
	if err == nil && (n < 1 || n > 65535) {
		err = errSettingValue(name, "port %d out of range 1-65535", n)
	}
	return n, err
}

// asDuration reads a positive duration: a number of units, or a
// time.Duration as it is.
func asDuration(name string, v any, unit time.Duration) (time.Duration, error) {
	if d, ok := v.(time.Duration); ok {
		if d <= 0 {
			return 0, errSettingValue(name, "%v: must be positive", d)
		}
		return d, nil
	}
	f, ok := asNumber(v)
	if !ok {
		what := "seconds"
		if unit == time.Millisecond {
			what = "milliseconds"
		}
		return 0, errSettingType(name, what+" (int, int64 or float64) or a time.Duration", v)
	}
	d := f * float64(unit)
	if math.IsNaN(d) || d <= 0 || d >= math.MaxInt64 {
		return 0, errSettingValue(name, "%v: must be positive and below 292 years", f)
	}
	return time.Duration(d), nil
}

func asSeconds(name string, v any) (time.Duration, error) {
	return asDuration(name, v, time.Second)
}

func asMillis(name string, v any) (time.Duration, error) {
	return asDuration(name, v, time.Millisecond)
}

// asCompression reads Node's httpCompression: a bool or an options
// object.
func asCompression(name string, v any) (any, error) {
	switch v.(type) {
	case bool, map[string]any:
		return v, nil
	}
	return nil, errSettingType(name, "a bool or a map[string]any", v)
}

// asStrings reads a []string, or a []any of strings (decoded JSON).
func asStrings(name string, v any) ([]string, error) {
	switch v := v.(type) {
	case []string:
		return slices.Clone(v), nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			str, ok := e.(string)
			if !ok {
				return nil, errSettingValue(name, "element %d is a %T, not a string", i, e)
			}
			out[i] = str
		}
		return out, nil
	}
	return nil, errSettingType(name, "a []string", v)
}

// Logging: "log", "log level", "log colors".

// useLogger installs a logger for the server and its engine.
func (s *Server) useLogger(l *slog.Logger) {
	s.opts.Logger = l
	s.opts.Engine.Logger = l
	s.log = l
}

// currentLogger is the logger in use, or the one "log" = true brings
// back.
func (s *Server) currentLogger() *slog.Logger {
	if s.logOff != nil {
		return s.logOff
	}
	return s.opts.Logger
}

func setLog(s *Server, name string, v any) error {
	on, err := asBool(name, v)
	if err != nil {
		return err
	}
	switch {
	case !on && s.logOff == nil:
		s.logOff = s.opts.Logger
		s.useLogger(slog.New(slog.DiscardHandler))
	case on && s.logOff != nil:
		l := s.logOff
		s.logOff = nil
		s.useLogger(l)
	}
	return nil
}

func getLog(s *Server) any { return s.logOff == nil }

// slogLevel maps socket.io 0.9's log levels, 0 error, 1 warn, 2 info and
// 3 debug, to slog's.
func slogLevel(n int64) slog.Level {
	switch n {
	case 0:
		return slog.LevelError
	case 1:
		return slog.LevelWarn
	case 2:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

func setLogLevel(s *Server, name string, v any) error {
	n, err := asInt(name, v)
	if err != nil {
		return err
	}
	if n < 0 || n > 3 {
		return errSettingValue(name, "%d: want 0 (error), 1 (warn), 2 (info) or 3 (debug)", n)
	}
	if s.logLevel == nil {
		if s.started.Load() {
			return fmt.Errorf("%w: Set(%q): only a level set before the server started may change", ErrSettingsFixed, name)
		}
		s.logLevel = new(slog.LevelVar)
		l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: s.logLevel}))
		if s.logOff != nil {
			s.logOff = l // installed when "log" is enabled again
		} else {
			s.useLogger(l)
		}
	}
	s.logLevel.Set(slogLevel(n))
	return nil
}

// getLogLevel reads the level back from whatever logger is in use: the
// most verbose of the four levels it has enabled.
func getLogLevel(s *Server) any {
	l := s.currentLogger()
	for n := int64(3); n > 0; n-- {
		if l.Enabled(context.Background(), slogLevel(n)) {
			return int(n)
		}
	}
	return 0
}

// Transports.

// setTransports takes a list of socket.io 0.9 transport names or of Node
// ones. Names only 0.9 has (htmlfile, xhr-polling, jsonp-polling) make it
// a 0.9 list, mapped to Engine.IO transports (all three are polling) and
// stored as it is for the 0.9 server; "polling" makes it a Node list,
// which configures Engine.IO only. A list of just "websocket" is both.
func setTransports(s *Server, name string, v any) error {
	list, err := asStrings(name, v)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return errSettingValue(name, "empty list: no client could connect")
	}
	var engine, legacy []string
	var node, old bool
	for _, t := range list {
		eio := "polling"
		switch t {
		case "websocket":
			eio = "websocket"
		case "polling":
			node = true
		case "htmlfile", "xhr-polling", "jsonp-polling":
			old = true
		case "flashsocket":
			return errSettingUnsupported(name, "flashsocket needs Adobe Flash, which browsers removed in 2021; socket.io 0.9 clients use websocket or a polling transport instead")
		case "webtransport":
			return errSettingUnsupported(name, "webtransport is not supported")
		default:
			return errSettingValue(name, "unknown transport %q; want websocket, htmlfile, xhr-polling, jsonp-polling (socket.io 0.9) or polling, websocket (Node)", t)
		}
		if !slices.Contains(engine, eio) {
			engine = append(engine, eio)
		}
		if !slices.Contains(legacy, t) {
			legacy = append(legacy, t)
		}
	}
	if node && old {
		return errSettingValue(name, "%q mixes socket.io 0.9 names (htmlfile, xhr-polling, jsonp-polling) with Node's (polling)", list)
	}
	s.opts.Engine.Transports = engine
	if !node {
		s.opts.Legacy.Transports = legacy
	}
	return nil
}

// getTransports returns the Engine.IO transports, by Node's names; the
// 0.9 list is in Options.Legacy.Transports.
func getTransports(s *Server) any {
	if len(s.opts.Engine.Transports) == 0 {
		return []string{"polling", "websocket"}
	}
	return slices.Clone(s.opts.Engine.Transports)
}

// Origins: socket.io 0.9's "origins" and Node's "cors".

// originRule is one "host:port" entry of socket.io 0.9's origins; "*"
// stands for any host or any port.
type originRule struct{ host, port string }

// originMatcher decides on origins for the "origins" setting, as
// Engine.AllowOrigin.
type originMatcher struct {
	exact []string // full origins, scheme://host[:port]
	rules []originRule
}

// allow reports whether a request from origin may go through: a full
// origin listed as it is, a same-origin request (as the engine's own
// check allows it), or an http or https origin whose host and port match
// a rule. An origin without a port has its scheme's: 80 or 443.
func (m *originMatcher) allow(origin string, r *http.Request) bool {
	for _, e := range m.exact {
		if strings.EqualFold(e, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if strings.EqualFold(u.Host, r.Host) && u.Scheme == scheme {
		return true
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		default:
			return false
		}
	}
	for _, rule := range m.rules {
		if (rule.host == "*" || strings.EqualFold(rule.host, host)) && (rule.port == "*" || rule.port == port) {
			return true
		}
	}
	return false
}

// setOrigins takes socket.io 0.9's origins: a string of "host:port"
// entries separated by spaces or commas, or a []string of them. "*:*"
// allows any origin; "*" as host or port matches any. An entry with a
// scheme ("https://app.example:8443") is matched exactly.
func setOrigins(s *Server, name string, v any) error {
	var entries []string
	switch v := v.(type) {
	case string:
		entries = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
	default:
		list, err := asStrings(name, v)
		if err != nil {
			return errSettingType(name, "a string or a []string of host:port entries", v)
		}
		for _, e := range list {
			entries = append(entries, strings.FieldsFunc(e, func(r rune) bool { return r == ' ' || r == ',' })...)
		}
	}
	if len(entries) == 0 {
		return errSettingValue(name, "no origin given; \"*:*\" allows any")
	}
	m := &originMatcher{}
	for _, e := range entries {
		if e == "*:*" {
			s.opts.Engine.AllowedOrigins = []string{"*"}
			s.opts.Engine.AllowOrigin = nil
			return nil
		}
		if strings.Contains(e, "://") {
			if err := checkOriginSetting(name, e); err != nil {
				return err
			}
			m.exact = append(m.exact, e)
			continue
		}
		i := strings.LastIndexByte(e, ':')
		if i <= 0 || i == len(e)-1 {
			return errSettingValue(name, "entry %q: want host:port, with * for any host or port", e)
		}
		host, port := strings.Trim(e[:i], "[]"), e[i+1:]
		if port != "*" {
			if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
				return errSettingValue(name, "entry %q: port %q is neither a port number nor *", e, port)
			}
		}
		m.rules = append(m.rules, originRule{host: host, port: port})
	}
	s.opts.Engine.AllowedOrigins = nil
	s.opts.Engine.AllowOrigin = m.allow
	return nil
}

// checkOriginSetting checks an origin is a scheme://host[:port], as browsers
// send it.
func checkOriginSetting(name, origin string) error {
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("%w: %q: origin %q: %w", ErrBadSetting, name, origin, err)
	}
	if u.Scheme == "" || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errSettingValue(name, "origin %q: want scheme://host[:port], as browsers send it", origin)
	}
	return nil
}

// isCORSOption reports whether k is an option of the Node cors package.
// Only origin is honoured: the engine always allows credentials, the
// methods it serves and any request headers.
func isCORSOption(k string) bool {
	switch k {
	case "origin", "methods", "allowedHeaders", "exposedHeaders", "credentials", "maxAge", "preflightContinue", "optionsSuccessStatus":
		return true
	}
	return false
}

// setCORS takes Node's cors option: an origin, a list of origins, true
// (any origin), false (same origin only), a func deciding, or a
// map[string]any of the cors package's options whose "origin" is one of
// those (absent: any origin, as the cors package does).
func setCORS(s *Server, name string, v any) error {
	if m, ok := v.(map[string]any); ok {
		for k := range m {
			if !isCORSOption(k) {
				return errSettingValue(name, "unknown cors option %q", k)
			}
		}
		origin, ok := m["origin"]
		if !ok {
			origin = "*"
		}
		v = origin
	}
	var list []string
	var fn func(string, *http.Request) bool
	switch o := v.(type) {
	case bool:
		if o {
			list = []string{"*"}
		}
	case string:
		list = []string{o}
	case func(string, *http.Request) bool:
		if o == nil {
			return errSettingValue(name, "nil func")
		}
		fn = o
	default:
		l, err := asStrings(name, v)
		if err != nil {
			return errSettingType(name, "an origin string, a []string, a bool, a func(string, *http.Request) bool or a map[string]any", v)
		}
		list = l
	}
	for _, o := range list {
		if o == "*" {
			continue
		}
		if err := checkOriginSetting(name, o); err != nil {
			return err
		}
	}
	s.opts.Engine.AllowedOrigins = list
	s.opts.Engine.AllowOrigin = fn
	return nil
}

// getOrigins returns the engine's AllowOrigin func when set, else its
// AllowedOrigins list (nil: same-origin requests only; ["*"]: any).
func getOrigins(s *Server) any {
	if s.opts.Engine.AllowOrigin != nil {
		return s.opts.Engine.AllowOrigin
	}
	return slices.Clone(s.opts.Engine.AllowedOrigins)
}

// Path: socket.io 0.9's "resource", Node's "path".

func setPath(s *Server, name string, v any) error {
	p, ok := v.(string)
	if !ok {
		return errSettingType(name, "a string", v)
	}
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") {
		return errSettingValue(name, "%q: want a path starting with /, such as /socket.io", p)
	}
	s.opts.Path = strings.TrimSuffix(p, "/") + "/"
	return nil
}

// getPath returns the path without its trailing slash, as both
// generations of socket.io did.
func getPath(s *Server) any {
	if p := strings.TrimSuffix(s.opts.Path, "/"); p != "" {
		return p
	}
	return "/"
}

// Handshake: "authorization", "allowRequest", "cookie".

func setAuthorization(s *Server, name string, v any) error {
	var mw Middleware
	switch f := v.(type) {
	case Middleware:
		mw = f
	case func(*Handshake) error:
		mw = f
	default:
		return errSettingType(name, "a Middleware or a func(*Handshake) error", v)
	}
	if mw == nil {
		return errSettingValue(name, "nil func")
	}
	s.root.Use(mw)
	return nil
}

func setAllowRequest(s *Server, name string, v any) error {
	switch f := v.(type) {
	case nil:
		s.opts.Engine.AllowRequest = nil
	case func(*http.Request) error:
		s.opts.Engine.AllowRequest = f
	default:
		return errSettingType(name, "a func(*http.Request) error", v)
	}
	return nil
}

func getAllowRequest(s *Server) any { return s.opts.Engine.AllowRequest }

// setCookie takes Node's cookie option: true (the cookie "io"), false
// (none), a name, or a map[string]any whose "name" is used (default
// "io"); the cookie's other attributes are the engine's: Path=/,
// HttpOnly, SameSite=Lax.
func setCookie(s *Server, name string, v any) error {
	var cookie string
	switch c := v.(type) {
	case bool:
		if c {
			cookie = "io"
		}
	case string:
		cookie = c
	case map[string]any:
		cookie = "io"
		if n, ok := c["name"]; ok {
			str, isStr := n.(string)
			if !isStr || str == "" {
				return errSettingValue(name, "name must be a non-empty string, got %T", n)
			}
			cookie = str
		}
	default:
		return errSettingType(name, "a bool, a cookie name or a map[string]any", v)
	}
	if cookie != "" {
		if err := (&http.Cookie{Name: cookie, Value: "x"}).Valid(); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrBadSetting, name, err)
		}
	}
	s.opts.Engine.Cookie = cookie
	return nil
}

// getCookie returns the cookie's name, "" for none.
func getCookie(s *Server) any { return s.opts.Engine.Cookie }

// Events: "blacklist".

func setBlacklist(s *Server, name string, v any) error {
	list, err := asStrings(name, v)
	if err != nil {
		return err
	}
	s.opts.Blacklist = append([]string{}, list...) // empty, not nil: nothing but "disconnect"
	return nil
}

func getBlacklist(s *Server) any {
	if s.opts.Blacklist == nil {
		return []string{routeDisconnect}
	}
	return slices.Clone(s.opts.Blacklist)
}

// Refused: "store", "perMessageDeflate", "connectionStateRecovery".

func setStore(_ *Server, name string, _ any) error {
	return errSettingUnsupported(name, "stores shared socket.io 0.9's state between processes; for Redis scale-out use SetAdapter with expressio/redisadapter")
}

func setPerMessageDeflate(_ *Server, name string, v any) error {
	switch v {
	case false:
		return nil
	case true:
		return errSettingUnsupported(name, "WebSocket compression (permessage-deflate) is not supported; messages go uncompressed, Node's default")
	}
	if _, ok := v.(map[string]any); ok {
		return errSettingUnsupported(name, "WebSocket compression (permessage-deflate) is not supported; messages go uncompressed, Node's default")
	}
	return errSettingType(name, "false", v)
}

func setConnectionStateRecovery(_ *Server, name string, v any) error {
	switch v.(type) {
	case nil:
		return nil
	case bool:
		if v == false {
			return nil
		}
	case map[string]any:
	default:
		return errSettingType(name, "false", v)
	}
	return errSettingUnsupported(name, "connection state recovery is not supported: a reconnecting client gets a new session")
}

// Client script: "browser client handler".

// setBrowserHandler takes an http.Handler or a handler func; false or nil
// (socket.io 0.9's default) goes back to the built-in script.
func setBrowserHandler(s *Server, name string, v any) error {
	switch h := v.(type) {
	case nil:
		s.opts.BrowserClient.Handler = nil
	case bool:
		if h {
			return errSettingValue(name, "true: want an http.Handler, or false for the built-in client")
		}
		s.opts.BrowserClient.Handler = nil
	case http.Handler:
		s.opts.BrowserClient.Handler = h
	case func(http.ResponseWriter, *http.Request):
		if h == nil {
			s.opts.BrowserClient.Handler = nil
		} else {
			s.opts.BrowserClient.Handler = http.HandlerFunc(h)
		}
	default:
		return errSettingType(name, "an http.Handler or a func(http.ResponseWriter, *http.Request)", v)
	}
	return nil
}

// getBrowserHandler returns the handler, nil for the built-in client.
func getBrowserHandler(s *Server) any { return s.opts.BrowserClient.Handler }

// The remaining Engine.IO options.

func setMaxHTTPBufferSize(s *Server, name string, v any) error {
	n, err := asSize(name, v)
	if err != nil {
		return err
	}
	s.opts.Engine.MaxPayload = n
	return nil
}

func getMaxHTTPBufferSize(s *Server) any {
	if n := s.opts.Engine.MaxPayload; n > 0 {
		return n
	}
	return int64(engineio.DefaultMaxPayload)
}
