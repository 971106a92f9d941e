package expressio

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// The client scripts' directories, tried in order when
// BrowserClientOptions.Dir (4.x) or LegacyDir (0.9) is empty: what
// scripts/setup installs in client/, then an app's own node_modules.
var (
	clientDirs = [...]string{
		"client/node_modules/socket.io-client/dist",
		"node_modules/socket.io-client/dist",
	}
	legacyClientDirs = [...]string{
		"client/node_modules/socket.io-client-legacy/dist",
		"node_modules/socket.io-client-legacy/dist",
	}
)

const clientInstallHint = `socket.io-client is not installed here.
Install it from npm next to your app:

    npm install socket.io-client@4 socket.io-client-legacy@npm:socket.io-client@0.9.16

(the second only for socket.io 0.9 pages), or run scripts/setup in the
expressio repository, or set Options.BrowserClient.Dir (LegacyDir for
0.9) to the directory holding socket.io.js.
`

// serveClientScript serves the JavaScript client below the server's path
// (express.io served it at /socket.io/socket.io.js); it reports whether
// the request was for it.
func (s *Server) serveClientScript(w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, s.opts.Path)
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	// socket.io.js is 0.9's when the legacy protocol is on, as express.io
	// served it, 4.x's otherwise; the versioned names always mean theirs.
	legacy := s.opts.Legacy.Enabled
	switch name {
	case "socket.io.js":
	case "socket.io.min.js":
		name = "socket.io.js"
	case "socket.io.v4.js":
		name, legacy = "socket.io.js", false
	case "socket.io.v0.9.16.js":
		name, legacy = "socket.io.js", true
	default:
		return false
	}
	minify := strings.HasSuffix(r.URL.Path, ".min.js")
	bc := s.opts.BrowserClient
	if bc.Disabled {
		return false
	}
	if bc.Handler != nil {
		bc.Handler.ServeHTTP(w, r)
		return true
	}
	if bc.Minify || minify {
		name = "socket.io.min.js"
	}
	dir, dirs := bc.Dir, clientDirs[:]
	if legacy {
		dir, dirs = bc.LegacyDir, legacyClientDirs[:]
	}
	f, err := openClientFile(dir, dirs, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("expressio: client script", "err", err)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, clientInstallHint)
		return true
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "expressio: client script unreadable", http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
	if bc.NoCache {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
	return true
}

func openClientFile(dir string, dirs []string, name string) (*os.File, error) {
	if dir != "" {
		return os.Open(filepath.Join(dir, name))
	}
	for _, d := range dirs {
		f, err := os.Open(filepath.Join(d, name))
		if err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("expressio: client script %s: %w", name, fs.ErrNotExist)
}
