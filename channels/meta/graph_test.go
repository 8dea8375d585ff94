package meta

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/huandu/facebook/v2"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	graph := func(status, code, subcode int) error {
		return &graphCallError{status: status, err: &facebook.Error{
			Message: "graph says no", Type: "OAuthException", Code: code, ErrorSubcode: subcode,
		}}
	}
	withHeader := func(err error, key, value string) error {
		err.(*graphCallError).header = http.Header{key: {value}}
		return err
	}
	netErr := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v23.0/1/messages", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}

	tests := []struct {
		name   string
		err    error
		want   ErrClass
		after  time.Duration // for retryAfter
		reason string        // a part of the permanent reason
	}{
		{name: "code 1 unknown", err: graph(500, 1, 0), want: Transient},
		{name: "code 2 service", err: graph(500, 2, 0), want: Transient},
		{name: "code 2 on HTTP 400", err: graph(400, 2, 2018344), want: Transient},
		{name: "code 1200 temporary send failure on HTTP 400", err: graph(400, 1200, 0), want: Transient},
		{name: "is_transient flag", err: &graphCallError{status: 400, err: &facebook.Error{Code: 9999, IsTransient: true}}, want: Transient},
		{name: "unlisted code on HTTP 500", err: graph(500, 368, 0), want: Transient},
		{name: "missing code on HTTP 503", err: graph(503, facebook.ErrCodeUnknown, 0), want: Transient},
		{name: "code 4 app limit", err: graph(400, 4, 0), want: RetryAfter, after: time.Minute},
		{name: "code 17 user limit", err: graph(400, 17, 0), want: RetryAfter, after: time.Minute},
		{name: "code 32 page limit", err: graph(400, 32, 0), want: RetryAfter, after: time.Minute},
		{name: "code 613 api limit", err: graph(400, 613, 0), want: RetryAfter, after: time.Minute},
		{name: "code 80001 page BUC", err: graph(400, 80001, 0), want: RetryAfter, after: time.Minute},
		{name: "code 80002 instagram BUC", err: graph(400, 80002, 0), want: RetryAfter, after: time.Minute},
		{
			name: "code 80006 with usage estimate",
			err: withHeader(graph(400, 80006, 0), "X-Business-Use-Case-Usage",
				`{"1001":[{"type":"messenger","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":7},{"type":"pages","estimated_time_to_regain_access":2}]}`),
			want: RetryAfter, after: 7 * time.Minute,
		},
		{name: "rate limit with unreadable usage", err: withHeader(graph(400, 4, 0), "X-Business-Use-Case-Usage", "{"), want: RetryAfter, after: time.Minute},
		{name: "code 190 token", err: graph(400, 190, 463), want: Reauthorize, reason: "190/463: access token expired or invalid"},
		{name: "code 10 outside window", err: graph(400, 10, 2018278), want: Permanent, reason: "10/2018278: outside the messaging window"},
		{name: "code 10 other", err: graph(400, 10, 0), want: Permanent, reason: "10/0: permission denied"},
		{name: "code 200 permission", err: graph(403, 200, 0), want: Permanent, reason: "permission denied"},
		{name: "code 230 permission", err: graph(400, 230, 0), want: Permanent, reason: "permission denied"},
		{name: "code 551 unavailable", err: graph(400, 551, 1545041), want: Permanent, reason: "551/1545041: recipient unavailable"},
		{name: "code 100 parameter", err: graph(400, 100, 2018001), want: Permanent, reason: "100/2018001: invalid parameter: "},
		{name: "unlisted code on HTTP 400", err: graph(400, 368, 1390008), want: Permanent, reason: "368/1390008: "},
		{name: "code 2500 unknown path", err: graph(400, 2500, 0), want: Permanent, reason: "2500/0"},
		{name: "graph error without status", err: &facebook.Error{Code: 100}, want: Permanent},
		{name: "HTML 502", err: &graphCallError{status: 502, err: &facebook.UnmarshalError{Message: "facebook: fail to parse facebook response"}}, want: Transient},
		{name: "HTML 404", err: &graphCallError{status: 404, err: &facebook.UnmarshalError{Message: "facebook: fail to parse facebook response"}}, want: Permanent, reason: "HTTP 404"},
		{name: "HTTP 408", err: &graphCallError{status: 408, err: errors.New("timeout")}, want: Transient},
		{name: "HTTP 429", err: &graphCallError{status: 429, err: errors.New("slow down")}, want: RetryAfter, after: time.Minute},
		{name: "HTTP 429 with Retry-After", err: &graphCallError{status: 429, header: http.Header{"Retry-After": {"7"}}, err: errors.New("slow down")}, want: RetryAfter, after: 7 * time.Second},
		{name: "unexpected 200 body", err: &graphCallError{status: 200, err: &facebook.UnmarshalError{Message: "facebook: fail to parse facebook response"}}, want: Transient},
		{name: "network error", err: &graphCallError{err: netErr}, want: Transient},
		{name: "deadline", err: &graphCallError{err: context.DeadlineExceeded}, want: Transient},
		{name: "bare error", err: errors.New("something"), want: Transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tt.err)
			require.Error(t, got)

			RequireClass(t, got, tt.want, tt.reason, tt.after)
			if tt.want == Transient {
				require.ErrorIs(t, got, tt.err, "a transient error keeps its cause")
			}
		})
	}

	require.NoError(t, classify(nil))
}

func TestGraphPathID(t *testing.T) {
	t.Parallel()

	for id, want := range map[string]bool{
		"1234567890":     true,
		"page_1-demo":    true,
		"":               false,
		"1/messages":     false,
		"1?fields=email": false,
		"1%2F2":          false,
		"..":             false,
		"me ":            false,
	} {
		require.Equal(t, want, ValidPathID(id), "id %q", id)
	}
}
