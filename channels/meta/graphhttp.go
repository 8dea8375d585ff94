package meta

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpproxy"
)

// graphHTTP carries every Graph call of the process: one connection pool.
//
// It is fasthttp's client rather than net/http's because a net/http call
// passes through two goroutines of the connection besides the caller's (one
// writes the request, one reads the response), and on small machines those
// hand-offs cost more CPU than the rest of a Send API call; fasthttp writes
// and reads on the calling goroutine. Like net/http's, it retries a POST
// only when the server closed a kept-alive connection before answering.
var graphHTTP = &fasthttp.Client{
	Name:                "frontdesk",
	MaxConnsPerHost:     512,
	MaxIdleConnDuration: 90 * time.Second,
	// Meta's responses carry many headers (x-fb-debug, usage reports); the
	// header block must fit in the read buffer.
	ReadBufferSize: 16 << 10,
	// huandu builds the URL; send it as it is.
	DisablePathNormalizing: true,
	// Through the proxy HTTPS_PROXY names, if any, as net/http would
	// (NO_PROXY applies; loopback is never proxied).
	Dial: fasthttpproxy.FasthttpProxyHTTPDialerTimeout(10 * time.Second),
}

// graphRecorder is the HTTP client of one call, adapting huandu's
// net/http-shaped requests to graphHTTP. It keeps the response status and
// headers, which huandu does not return, and leaves the query (it carries
// appsecret_proof) out of transport errors.
//
// A call ends at the request context's deadline or after graphTimeout,
// whichever comes first; cancelling the context without a deadline does
// not interrupt a call already under way.
type graphRecorder struct {
	status int
	header http.Header
}

func (r *graphRecorder) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, r.urlError(req, err)
	}
	deadline, ctxDeadline := time.Now().Add(graphTimeout), false
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxDeadline = d, true
	}

	freq := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(freq)
	freq.Header.SetMethod(req.Method)
	freq.SetRequestURI(req.URL.String())
	for key, values := range req.Header {
		for _, v := range values {
			freq.Header.Add(key, v)
		}
	}
	if req.Body != nil {
		// Straight into the request's pooled buffer: no copy of its own.
		_, err := io.Copy(freq.BodyWriter(), req.Body)
		req.Body.Close()
		if err != nil {
			return nil, r.urlError(req, err)
		}
	}

	fresp := fasthttp.AcquireResponse()
	if err := graphHTTP.DoDeadline(freq, fresp, deadline); err != nil {
		fasthttp.ReleaseResponse(fresp)
		if errors.Is(err, fasthttp.ErrTimeout) && ctxDeadline {
			err = context.DeadlineExceeded
		}
		return nil, r.urlError(req, err)
	}
	r.status = fresp.StatusCode()
	r.header = make(http.Header)
	fresp.Header.VisitAll(func(key, value []byte) {
		r.header.Add(string(key), string(value))
	})
	body := fresp.Body()
	return &http.Response{
		Status:        http.StatusText(r.status),
		StatusCode:    r.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header,
		ContentLength: int64(len(body)),
		Body:          &graphBody{Reader: bytes.NewReader(body), resp: fresp},
		Request:       req,
	}, nil
}

// urlError wraps err the way net/http's client does, with the URL's query
// left out.
func (r *graphRecorder) urlError(req *http.Request, err error) error {
	u := *req.URL
	u.RawQuery = ""
	return &url.Error{Op: req.Method, URL: u.String(), Err: err}
}

// graphBody reads a response body held by fasthttp, and gives the response
// back to fasthttp when closed (huandu closes it after reading it).
type graphBody struct {
	*bytes.Reader
	resp *fasthttp.Response
}

func (b *graphBody) Close() error {
	if b.resp != nil {
		fasthttp.ReleaseResponse(b.resp)
		b.resp = nil
	}
	return nil
}

// Get and Post complete huandu's HttpClient interface; huandu only calls Do.
func (r *graphRecorder) Get(rawURL string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return r.Do(req)
}

func (r *graphRecorder) Post(rawURL, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, rawURL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return r.Do(req)
}
