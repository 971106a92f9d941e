package engineio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/expressio-go/expressio/protocol/engineio"
	"github.com/expressio-go/expressio/protocol/engineio/engineiotest"
)

// An Engine.IO server with the raw echo handler, driven over polling.
func ExampleNewServer() {
	srv := engineio.NewServer(engineiotest.Echo{}, nil)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background())

	get := func(u string) string {
		res, err := http.Get(u)
		if err != nil {
			return err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	var open struct {
		SID string `json:"sid"`
	}
	json.Unmarshal([]byte(get(ts.URL + "/?EIO=4&transport=polling")[1:]), &open)
	u := ts.URL + "/?EIO=4&transport=polling&sid=" + open.SID
	if res, err := http.Post(u, "text/plain", strings.NewReader("4hello\x1e4wörld")); err == nil {
		res.Body.Close()
	}
	fmt.Printf("%q\n", get(u))
	// Output: "4hello\x1e4wörld"
}
