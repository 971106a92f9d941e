package expressio

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// ForwardRule maps one kind of REST call to an io route: a request with
// Method on "/<resource>" (or "/<resource>/<id>" when ID says so) goes to
// the route "<resource>:<Action>", with the id as the gin parameter "id".
type ForwardRule struct {
	Method string
	Action string
	ID     IDRule
}

// IDRule says whether a ForwardRule's path has an id segment.
type IDRule int

// The id rules.
const (
	NoID       IDRule = iota // "/<resource>" only
	WithID                   // "/<resource>/<id>" only
	OptionalID               // either
)

// Backbone returns the rules of Backbone.js's REST conventions: POST
// create, GET read (with an optional id), PUT update, DELETE delete.
func Backbone() []ForwardRule {
	return []ForwardRule{
		{http.MethodPost, "create", NoID},
		{http.MethodGet, "read", OptionalID},
		{http.MethodPut, "update", WithID},
		{http.MethodDelete, "delete", WithID},
	}
}

// Angular returns the rules of AngularJS's $resource conventions: GET
// list, GET read (with an id), POST create, PUT update, DELETE delete.
func Angular() []ForwardRule {
	return []ForwardRule{
		{http.MethodGet, "list", NoID},
		{http.MethodGet, "read", WithID},
		{http.MethodPost, "create", NoID},
		{http.MethodPut, "update", WithID},
		{http.MethodDelete, "delete", WithID},
	}
}

// RouteForward returns gin middleware that forwards REST calls to io
// routes by rules: express.io's express.io.routeForward({config}). Unlike
// express.io, paths are matched whole ("/items/5", never a prefix or a
// part of a longer path), AngularJS's read is reachable, and a call that
// matches no rule, or whose route does not exist, goes on to the next
// handler instead of failing.
func RouteForward(rules ...ForwardRule) gin.HandlerFunc {
	rules = append([]ForwardRule(nil), rules...)
	return func(c *gin.Context) {
		io := IO(c)
		if strings.HasPrefix(c.Request.URL.Path, io.srv.Path()) {
			c.Next() // the socket.io endpoint is never a REST resource
			return
		}
		resource, id, ok := splitRESTPath(c.Request.URL.Path)
		if !ok {
			c.Next()
			return
		}
		for _, r := range rules {
			if r.Method != c.Request.Method || (r.ID == NoID && id != "") || (r.ID == WithID && id == "") {
				continue
			}
			name := resource + ":" + r.Action
			if io.srv.root.route(name) == nil {
				continue
			}
			if id != "" {
				c.Params = append(c.Params, gin.Param{Key: "id", Value: id})
			}
			io.Route(name)
			c.Abort()
			return
		}
		c.Next()
	}
}

// splitRESTPath splits "/<resource>" or "/<resource>/<id>" (a trailing
// slash allowed); anything else does not match.
func splitRESTPath(p string) (resource, id string, ok bool) {
	p = strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/")
	resource, id, _ = strings.Cut(p, "/")
	if resource == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	return resource, id, true
}
