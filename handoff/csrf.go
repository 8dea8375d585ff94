package handoff

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// crossOrigin refuses state-changing requests that a browser made on
// behalf of another site: net/http's CrossOriginProtection, applied to
// Fiber requests. Safe methods (GET, HEAD, OPTIONS) pass. A request
// passes when Sec-Fetch-Site says same-origin or none (typed by the
// user); when that header is missing (older browsers, or not a browser), it
// passes only if Origin is missing too or names this Host. Requests
// without either header — API clients with bearer tokens — pass: no
// browser sent them, so no cookie rode along uninvited.
type crossOrigin struct {
	check *http.CrossOriginProtection
}

func newCrossOrigin(trusted []string) (*crossOrigin, error) {
	p := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := p.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("trusted origin %q: %w", o, err)
		}
	}
	return &crossOrigin{check: p}, nil
}

// allowed runs the standard library's check on the parts of the request
// it reads: method, Host and the two headers. The Host is the one the
// client sent, not X-Forwarded-Host, which anybody can set.
func (x *crossOrigin) allowed(c *fiber.Ctx) bool {
	req := &http.Request{
		Method: c.Method(),
		Host:   string(c.Request().Host()),
		URL:    &url.URL{Path: c.Path()},
		Header: http.Header{},
	}
	if v := c.Get("Sec-Fetch-Site"); v != "" {
		req.Header.Set("Sec-Fetch-Site", v)
	}
	if v := c.Get(fiber.HeaderOrigin); v != "" {
		req.Header.Set(fiber.HeaderOrigin, v)
	}
	return x.check.Check(req) == nil
}
