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

// The client script's directories, in the order they are tried when
// BrowserClientOptions.Dir is empty.
var clientDirs = [...]string{
	"client/node_modules/socket.io-client/dist",
	"node_modules/socket.io-client/dist",
}

const clientInstallHint = `socket.io-client is not installed here.
Install it from npm next to your app:

    npm install socket.io-client@4

or run scripts/setup in the expressio repository, or set
Options.BrowserClient.Dir to the directory holding socket.io.js.
`

// serveClientScript serves the JavaScript client below the server's path
// (express.io served it at /socket.io/socket.io.js); it reports whether
// the request was for it.
func (s *Server) serveClientScript(w http.ResponseWriter, r *http.Request) bool {
	name, ok := strings.CutPrefix(r.URL.Path, s.opts.Path)
	if !ok || (name != "socket.io.js" && name != "socket.io.min.js") || r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	bc := s.opts.BrowserClient
	if bc.Disabled {
		return false
	}
	if bc.Handler != nil {
		bc.Handler.ServeHTTP(w, r)
		return true
	}
	if bc.Minify {
		name = "socket.io.min.js"
	}
	f, err := openClientFile(bc.Dir, name)
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

func openClientFile(dir, name string) (*os.File, error) {
	if dir != "" {
		return os.Open(filepath.Join(dir, name))
	}
	for _, d := range clientDirs {
		f, err := os.Open(filepath.Join(d, name))
		if err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("expressio: client script %s: %w", name, fs.ErrNotExist)
}
