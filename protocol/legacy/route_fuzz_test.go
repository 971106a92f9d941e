package legacy

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// nodeRoute is the regular expression socket.io 0.9's Manager.checkRequest
// reads a path under the resource with: protocol, transport, session id.
var nodeRoute = regexp.MustCompile(`^\/([^\/]+)\/?([^\/]+)?\/?([^\/]+)?\/?$`)

// addURLSeeds adds the paths of testdata/legacy/handshake-urls.txt.
func addURLSeeds(f *testing.F) {
	f.Helper()
	file, err := os.Open("../../testdata/legacy/handshake-urls.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		path, _, _ := strings.Cut(sc.Text(), "?")
		f.Add(path)
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
}

// FuzzParseRoute: parseRoute reads every path as socket.io 0.9's regular
// expression does, and protocolNumber takes what Number() takes.
func FuzzParseRoute(f *testing.F) {
	addURLSeeds(f)
	f.Fuzz(func(t *testing.T, rest string) {
		rt, ok := parseRoute(rest)
		m := nodeRoute.FindStringSubmatch(rest)
		if ok != (m != nil) {
			t.Fatalf("parseRoute(%q) ok = %v; Node's expression matches: %v", rest, ok, m != nil)
		}
		if ok && (rt.protocol != m[1] || rt.transport != m[2] || rt.sid != m[3]) {
			t.Fatalf("parseRoute(%q) = %+v; Node reads %q", rest, rt, m[1:])
		}
		n := protocolNumber(rt.protocol)
		digits := rt.protocol != "" && strings.Trim(rt.protocol, "0123456789") == ""
		if (n >= 0) != (digits && len(rt.protocol) <= 9) {
			t.Fatalf("protocolNumber(%q) = %d", rt.protocol, n)
		}
	})
}
