package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// figures are the server's own runtime figures, as compat/fixture's soak
// profile serves them.
type figures struct {
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse_bytes"`
	HeapAlloc  uint64 `json:"heap_alloc_bytes"`
	RSS        int64  `json:"rss_bytes"`
	Sockets    int    `json:"sockets"`
}

// server is the fixture process.
type server struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT, the socket.io server
	debug  string // http://127.0.0.1:PORT, the figures
	exited chan error
}

// buildFixture compiles compat/fixture into dir.
func buildFixture(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(dir, "fixture")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./compat/fixture")
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, stderr, stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build compat/fixture: %w", err)
	}
	return bin, nil
}

// startServer runs the fixture's soak profile on loopback ports of its
// own choosing and waits until it serves.
func startServer(ctx context.Context, bin string, stderr io.Writer) (*server, error) {
	cmd := exec.CommandContext(ctx, bin, "-profile", "soak", "-legacy",
		"-addr", "127.0.0.1:0", "-soak-debug", "127.0.0.1:0", "-log", "warn")
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the fixture: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan error, 1)}
	addrs := make(chan [2]string, 1)
	go func() {
		var debug string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "debug on "); ok {
				debug = v
			}
			if v, ok := strings.CutPrefix(line, "listening on "); ok {
				addrs <- [2]string{v, debug}
				break
			}
		}
		io.Copy(io.Discard, out)
		s.exited <- cmd.Wait()
	}()
	select {
	case a := <-addrs:
		for _, addr := range a {
			if err := checkLoopback(addr); err != nil {
				s.kill()
				return nil, err
			}
		}
		s.base, s.debug = "http://"+a[0], "http://"+a[1]
		return s, nil
	case err := <-s.exited:
		return nil, fmt.Errorf("the fixture exited before serving: %v", err)
	case <-time.After(30 * time.Second):
		s.kill()
		return nil, errors.New("the fixture did not serve within 30s")
	}
}

// checkLoopback refuses any address but a loopback one.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("fixture address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("fixture address %q is not loopback", addr)
	}
	return nil
}

// figures reads the server's figures; gc makes it collect first.
func (s *server) figures(ctx context.Context, gc bool) (figures, error) {
	u := s.debug + "/figures"
	if gc {
		u += "?gc=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return figures{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return figures{}, fmt.Errorf("read figures: %w", err)
	}
	defer res.Body.Close()
	var f figures
	if res.StatusCode != http.StatusOK {
		return f, fmt.Errorf("read figures: %s", res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&f); err != nil {
		return f, fmt.Errorf("read figures: %w", err)
	}
	return f, nil
}

// stop asks the server to shut down gracefully and waits for it; it
// returns how long that took and the server's exit error.
func (s *server) stop() (time.Duration, error) {
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		return time.Since(start), err
	case <-time.After(20 * time.Second):
		s.kill()
		return time.Since(start), errors.New("still running 20s after SIGTERM: killed")
	}
}

func (s *server) kill() {
	s.cmd.Process.Signal(os.Kill)
}
