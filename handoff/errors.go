package handoff

import (
	"fmt"
	"net/http"
)

// Error is a refusal the console shows as it is: a message written for
// the agent, a stable Code for API clients, and the HTTP status. Every
// operation returns one for what the person asking can fix or should know
// (a claim that lost, a closed messaging window); other errors are
// failures and show as "something went wrong".
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Message }

// Codes of Error, as the JSON API returns them.
const (
	CodeInvalid         = "invalid"          // 400/422: the request is malformed or a field is wrong
	CodeUnauthenticated = "unauthenticated"  // 401: no valid session or token
	CodeForbidden       = "forbidden"        // 403: the role does not allow it
	CodeCrossOrigin     = "cross_origin"     // 403: a state-changing request from another site
	CodeNotFound        = "not_found"        // 404
	CodeAlreadyClaimed  = "already_claimed"  // 409: someone else claimed it first
	CodeHeldByOther     = "held_by_other"    // 409: another agent holds the conversation
	CodeNotHandedOff    = "not_handed_off"   // 409: the conversation is with the bot or resolved
	CodeWindowClosed    = "window_closed"    // 422: the platform would refuse the reply
	CodeAlreadyMerged   = "already_merged"   // 409: a customer was merged before
	CodeLastAdmin       = "last_admin"       // 409: the change would leave no active admin
	CodeEmailTaken      = "email_taken"      // 409: another agent has this e-mail address
	CodeRateLimited     = "rate_limited"     // 429: too many failed sign-ins
	CodeUnsupportedType = "unsupported_type" // 415: the API wants application/json
)

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *Error {
	return newError(http.StatusUnprocessableEntity, CodeInvalid, format, args...)
}

func notFound(what string) *Error {
	return newError(http.StatusNotFound, CodeNotFound, "%s was not found.", what)
}

var errForbidden = newError(http.StatusForbidden, CodeForbidden, "Your role does not allow this.")
