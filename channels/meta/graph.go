package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/huandu/facebook/v2"

	"github.com/frontdesk/frontdesk/channels"
)

// graphTimeout bounds one Graph call, connection to last byte. A Send API
// call takes well under a second; a caller's ctx may cut it shorter.
const graphTimeout = 20 * time.Second

// defaultRetryAfter is how long to wait after a rate-limit error when Meta
// gives no estimate.
const defaultRetryAfter = 60 * time.Second

// graphSessionKey is everything a huandu session is made of, so one session
// serves every adapter with the same configuration.
type graphSessionKey struct {
	baseURL, version, appSecret, token string
}

// graphSessions caches sessions. It is package-level only because Adapter
// (adapter.go) has no field to hold it; since a session is fully determined
// by its key, sharing between adapters is correct. Entries are never
// removed: there is one per (configuration, token) the process has used.
//
// A cached session is never written after it is stored: each call works on
// a copy (Session.WithContext), so concurrent calls do not race.
var graphSessions = struct {
	mu sync.Mutex
	m  map[graphSessionKey]*facebook.Session
}{m: make(map[graphSessionKey]*facebook.Session)}

// session returns the Graph session of channelID. It fails with a
// *channels.PermanentError wrapping ErrReauthorize when the channel has no
// token, and with ErrPermanent for an id unfit for a URL path.
func (a *Adapter) session(channelID string) (*facebook.Session, error) {
	if !ValidPathID(channelID) {
		return nil, &channels.PermanentError{
			Reason: fmt.Sprintf("invalid Meta channel id %q", channelID),
			Err:    channels.ErrPermanent,
		}
	}
	token := a.cfg.Tokens[channelID]
	if token == "" {
		return nil, &channels.PermanentError{
			Reason: fmt.Sprintf("no access token configured for Meta channel %s", channelID),
			Err:    channels.ErrReauthorize,
		}
	}
	key := graphSessionKey{
		baseURL:   strings.TrimRight(a.cfg.GraphURL, "/") + "/",
		version:   a.cfg.GraphVersion,
		appSecret: a.cfg.AppSecret,
		token:     token,
	}

	graphSessions.mu.Lock()
	defer graphSessions.mu.Unlock()
	if s, ok := graphSessions.m[key]; ok {
		return s, nil
	}
	app := facebook.New("", key.appSecret)
	app.EnableAppsecretProof = true
	s := app.Session(token)
	s.BaseURL = key.baseURL // huandu builds BaseURL + Version + "/" + path
	s.Version = key.version
	// The token goes in the Authorization header, never in a URL that a
	// proxy or an error message could log.
	s.UseAuthorizationHeader()
	// Computing the proof now stores it in the cached session; copies made
	// by WithContext then reuse it instead of writing it themselves.
	s.AppsecretProof()
	graphSessions.m[key] = s
	return s, nil
}

// graphCall makes one Graph API call as channelID and returns the result or
// a classified error (see classify).
func (a *Adapter) graphCall(ctx context.Context, channelID string, method facebook.Method, path string, params facebook.Params) (facebook.Result, error) {
	call, rec, err := a.recordedCall(ctx, channelID)
	if err != nil {
		return nil, err
	}
	res, err := call.Api(path, method, params)
	if err := callOutcome(rec.status, rec.header, err); err != nil {
		return nil, err
	}
	return res, nil
}

// recordedCall returns channelID's session for one call under ctx, whose
// HTTP status and headers rec keeps.
func (a *Adapter) recordedCall(ctx context.Context, channelID string) (*facebook.Session, *graphRecorder, error) {
	s, err := a.session(channelID)
	if err != nil {
		return nil, nil, err
	}
	rec := &graphRecorder{}
	call := s.WithContext(ctx)
	call.HttpClient = rec
	return call, rec, nil
}

// callOutcome is the classified error of a Graph call (or of one call of a
// batch) that answered status and header, huandu having read err from its
// body; nil when it succeeded. A status of 300 or more is an error even
// when the body holds no Graph error.
func callOutcome(status int, header http.Header, err error) error {
	if err == nil && status >= 300 {
		err = fmt.Errorf("unexpected HTTP status %d without a Graph error", status)
	}
	if err == nil {
		return nil
	}
	return classify(&graphCallError{status: status, header: header, err: err})
}

// graphCallError is a failed Graph call before classification: the HTTP
// status (0 when no response arrived), the response headers and huandu's
// error, which is a *facebook.Error when Graph answered with error JSON.
type graphCallError struct {
	status int
	header http.Header
	err    error
}

func (e *graphCallError) Error() string {
	if e.status == 0 {
		return "graph API call: " + e.err.Error()
	}
	return fmt.Sprintf("graph API call: HTTP %d: %s", e.status, e.err)
}

func (e *graphCallError) Unwrap() error { return e.err }

// Graph error codes that classify knows. See
// https://developers.facebook.com/docs/graph-api/guides/error-handling and
// https://developers.facebook.com/docs/messenger-platform/error-codes.
const (
	graphCodeUnknown        = 1
	graphCodeService        = 2
	graphCodeAppRateLimit   = 4
	graphCodePermission     = 10
	graphCodeUserRateLimit  = 17
	graphCodePageRateLimit  = 32
	graphCodeParam          = 100
	graphCodeToken          = 190
	graphCodeUnavailable    = 551
	graphCodeSendFailure    = 1200 // Messenger: "Temporary send message failure. Please try again later."
	graphCodeAPIRateLimit   = 613
	graphCodePageBUC        = 80001
	graphCodeInstagramBUC   = 80002
	graphCodeMessengerBUC   = 80006
	graphSubcodeOutOfWindow = 2018278
)

// classify turns a failed call into the error classes of channels.Sender:
//
//   - a rate limit (codes 4, 17, 32, 613; business-use-case limits 80001,
//     80002, 80006; HTTP 429 without Graph JSON) is a *channels.RetryAfterError,
//     waiting Meta's estimate from X-Business-Use-Case-Usage or 60s;
//   - code 190 (token expired or revoked) is a *channels.PermanentError
//     wrapping channels.ErrReauthorize;
//   - codes 1, 2 and 1200, errors Meta marks is_transient, HTTP 5xx and 408,
//     network errors and anything unrecognised are returned as they are,
//     wrapped: transient;
//   - every other Graph error (10, 100, 200–299, 551, …) and any other
//     HTTP 4xx is a *channels.PermanentError wrapping channels.ErrPermanent,
//     its Reason "<code>/<subcode>: <what it means>: <Graph's message>".
//
// Transient errors keep err in their chain, so errors.As still finds the
// *facebook.Error. classify is pure: it reads only err.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var status int
	var header http.Header
	var call *graphCallError
	if errors.As(err, &call) {
		status, header = call.status, call.header
	}

	var fb *facebook.Error
	if !errors.As(err, &fb) {
		switch {
		case status == http.StatusTooManyRequests:
			return &channels.RetryAfterError{After: retryAfterHeader(header), Reason: fmt.Sprintf("HTTP %d from Graph API", status)}
		case status >= 400 && status < 500 && status != http.StatusRequestTimeout:
			return &channels.PermanentError{Reason: fmt.Sprintf("HTTP %d from Graph API", status), Err: channels.ErrPermanent}
		}
		return fmt.Errorf("transient Graph API error: %w", err)
	}

	reason := func(meaning string) string {
		r := fmt.Sprintf("%d/%d: ", fb.Code, fb.ErrorSubcode)
		if meaning != "" {
			r += meaning + ": "
		}
		return r + fb.Message
	}
	switch {
	case fb.Code == graphCodeToken:
		return &channels.PermanentError{Reason: reason("access token expired or invalid"), Err: channels.ErrReauthorize}
	case graphRateLimited(fb.Code):
		return &channels.RetryAfterError{After: retryAfterUsage(header), Reason: reason("rate limited")}
	case fb.Code == graphCodeUnknown, fb.Code == graphCodeService, fb.Code == graphCodeSendFailure, fb.IsTransient:
		return fmt.Errorf("transient Graph API error: %w", err)
	case fb.Code == graphCodePermission && fb.ErrorSubcode == graphSubcodeOutOfWindow:
		return &channels.PermanentError{Reason: reason("outside the messaging window"), Err: channels.ErrPermanent}
	case fb.Code == graphCodePermission, fb.Code >= 200 && fb.Code <= 299:
		return &channels.PermanentError{Reason: reason("permission denied"), Err: channels.ErrPermanent}
	case fb.Code == graphCodeUnavailable:
		return &channels.PermanentError{Reason: reason("recipient unavailable"), Err: channels.ErrPermanent}
	case fb.Code == graphCodeParam:
		return &channels.PermanentError{Reason: reason("invalid parameter"), Err: channels.ErrPermanent}
	case status >= 500:
		// An unlisted code on a server error: Meta's side, try again.
		return fmt.Errorf("transient Graph API error: %w", err)
	}
	return &channels.PermanentError{Reason: reason(""), Err: channels.ErrPermanent}
}

func graphRateLimited(code int) bool {
	switch code {
	case graphCodeAppRateLimit, graphCodeUserRateLimit, graphCodePageRateLimit, graphCodeAPIRateLimit,
		graphCodePageBUC, graphCodeInstagramBUC, graphCodeMessengerBUC:
		return true
	}
	return false
}

// retryAfterUsage reads X-Business-Use-Case-Usage, a JSON object of
// business id → [{type, call_count, …, estimated_time_to_regain_access}]
// with the estimate in minutes, and returns the longest estimate, or
// defaultRetryAfter when there is none.
func retryAfterUsage(header http.Header) time.Duration {
	var usage facebook.BusinessUseCaseUsage
	if err := json.Unmarshal([]byte(header.Get("X-Business-Use-Case-Usage")), &usage); err != nil {
		return defaultRetryAfter
	}
	minutes := 0
	for _, limits := range usage {
		for _, l := range limits {
			if l != nil && l.EstimatedTimeToRegainAccess > minutes {
				minutes = l.EstimatedTimeToRegainAccess
			}
		}
	}
	if minutes <= 0 {
		return defaultRetryAfter
	}
	return time.Duration(minutes) * time.Minute
}

// retryAfterHeader reads a Retry-After of whole seconds, or returns
// defaultRetryAfter.
func retryAfterHeader(header http.Header) time.Duration {
	if s, err := strconv.Atoi(header.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return defaultRetryAfter
}

// ValidPathID reports whether id can stand in a Graph URL path as it is.
// The sandbox checks shopper ids with it too.
// Page, Instagram and user ids are numeric; letters, '_' and '-' are
// allowed for the sandbox. Anything else ('/', '?', '%', …) would change
// the request: huandu parses a '?' in the path as a query.
func ValidPathID(id string) bool {
	if id == "" {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
