// Package graphstub is a strict stand-in for Meta's Graph API: the Send API
// (POST /{version}/{channel}/messages) and user profiles (GET
// /{version}/{user}). Tests, the sandbox UI and the load generator point the
// Meta adapter's GraphURL at it.
//
// It checks requests the way Meta does — version, method, path, the
// Authorization bearer token of the channel, appsecret_proof, and the Send
// API body and limits — and answers failures with Graph's error JSON, so
// that a send it accepts is, as far as it knows Meta's rules, one Meta would
// accept. It is stricter than Meta on purpose: the access token must travel
// in the Authorization header (an access_token parameter is refused, as
// Frontdesk never puts tokens in URLs), and fields it does not know are
// refused rather than ignored. A message is text, or one attachment sent by
// link (image, video, audio or file with an absolute http(s) payload.url;
// templates and attachment_id are refused as unknown), never both, as Meta
// requires. Meta fetches an attachment's URL; the stub does not.
//
// Accepted sends are recorded for inspection (Sent, SentTo) and fanned out to
// live subscribers (Subscribe, OnSend). Script and ScriptProfile queue
// failures, to test retries and error handling.
package graphstub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Send API limits enforced on accepted sends.
const (
	TextMax            = 2000 // runes of message.text
	QuickRepliesMax    = 13
	QuickReplyTitleMax = 20   // runes
	PayloadMax         = 1000 // runes of a quick reply payload
	MetadataMax        = 1000 // runes of message.metadata
)

// subscriberBuffer is how many sends a subscriber may fall behind before
// sends to it are dropped.
const subscriberBuffer = 1024

// maxBody bounds a request body; a Send API call is a few kilobytes.
const maxBody = 1 << 20

// QuickReply is one quick reply of a recorded send.
type QuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

// SentAttachment is the attachment of a recorded send.
type SentAttachment struct {
	// Type is image, video, audio or file.
	Type string `json:"type"`
	// URL is the payload's url, the link Meta would fetch the file from.
	URL string `json:"url"`
}

// Sent is a send the stub accepted.
type Sent struct {
	ChannelID     string `json:"channel_id"`
	RecipientID   string `json:"recipient_id"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag,omitempty"`
	// Text is empty when the message is an attachment.
	Text string `json:"text"`
	// Attachment is set when the message is an attachment, and nil when it
	// is text.
	Attachment   *SentAttachment `json:"attachment,omitempty"`
	QuickReplies []QuickReply    `json:"quick_replies,omitempty"`
	Metadata     string          `json:"metadata,omitempty"`
	// MessageID is the id the stub answered with: "m_<n>", unique for the
	// life of the Server (Reset does not restart the count).
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
}

// Response is a scripted answer (see Script).
//
// A Response with Status 0 or 200, no Code and no Body lets the request
// through to normal handling. Otherwise the stub answers Body with Status
// (500 if unset) when Body is set, or else
// Graph error JSON with Code, Subcode, Message and Type; missing parts are
// filled in: Status 500 for codes 1 and 2 and 400 for other codes, Code 2
// for a 5xx Status and 100 for other statuses, a Message typical of the
// code and Type "OAuthException". Header is added to the response.
type Response struct {
	Status  int
	Code    int
	Subcode int
	Type    string
	Message string
	Body    string
	Header  http.Header
}

// Server is the stand-in. It is an http.Handler serving the Graph API at
// its root (use http.StripPrefix to mount it elsewhere); Start serves it on
// a loopback port. It is safe for concurrent use.
type Server struct {
	version  string
	tokens   map[string]string // channel id → token
	channels map[string]string // token → a channel id of it, for /me
	proofs   map[string]string // token → its appsecret_proof

	mu             sync.Mutex
	seq            int64
	sent           []*Sent               // pointers: appending copies a word, not a Sent
	batchSizes     []int                 // calls of each batch request served
	byRecipient    map[string][]*Sent    // recipient id → its sends
	scripts        map[string][]Response // recipient id → answers to sends
	profileScripts map[string][]Response // user id → answers to profile fetches
	profiles       map[string]profile
	subs           map[*subscriber]struct{}
	onSend         func(Sent)
	http           *http.Server
}

type profile struct{ first, last string }

type subscriber struct {
	ch   chan Sent
	once sync.Once
}

// New returns a stub for an app with appSecret whose channels (Page and
// Instagram account ids) have the given access tokens, serving API version
// version ("v23.0").
func New(appSecret string, tokens map[string]string, version string) *Server {
	s := &Server{
		version:        version,
		tokens:         make(map[string]string, len(tokens)),
		channels:       make(map[string]string, len(tokens)),
		proofs:         make(map[string]string, len(tokens)),
		byRecipient:    make(map[string][]*Sent),
		scripts:        make(map[string][]Response),
		profileScripts: make(map[string][]Response),
		profiles:       make(map[string]profile),
		subs:           make(map[*subscriber]struct{}),
	}
	for ch, tok := range tokens {
		s.tokens[ch] = tok
		s.channels[tok] = ch
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write([]byte(tok))
		s.proofs[tok] = hex.EncodeToString(mac.Sum(nil))
	}
	return s
}

// Start serves the stub on a free port of 127.0.0.1 and returns its base
// URL ("http://127.0.0.1:port"), for the adapter's GraphURL. It panics if
// it cannot listen, as httptest.NewServer does; callers that must handle
// that error serve the Server themselves. Stop it with Close.
func (s *Server) Start() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("graphstub: failed to listen: %v", err))
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.http != nil {
		s.mu.Unlock()
		ln.Close()
		panic("graphstub: Start called twice")
	}
	s.http = srv
	s.mu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // Serve returns ErrServerClosed after Close.
	return "http://" + ln.Addr().String()
}

// Close stops the server Start started, if any, and ends every
// subscription (their channels are closed).
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.http
	subs := s.subs
	s.subs = make(map[*subscriber]struct{})
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	for sub := range subs {
		sub.close()
	}
}

// Sent returns every accepted send since New or Reset, oldest first.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return values(s.sent)
}

// SentTo returns the accepted sends to recipientID, oldest first.
func (s *Server) SentTo(recipientID string) []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return values(s.byRecipient[recipientID])
}

func values(sent []*Sent) []Sent {
	out := make([]Sent, len(sent))
	for i, p := range sent {
		out[i] = *p
	}
	return out
}

// Reset forgets recorded sends, scripts and profiles. Message ids keep
// counting, so ids never repeat within one Server.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = nil
	s.batchSizes = nil
	s.byRecipient = make(map[string][]*Sent)
	s.profiles = make(map[string]profile)
	// Script maps are cleared, not replaced: popScript's callers read the
	// fields without the lock.
	clear(s.scripts)
	clear(s.profileScripts)
}

// BatchSizes returns how many calls each batch request served carried, in
// the order they came.
func (s *Server) BatchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batchSizes)
}

// Subscribe returns a channel receiving every send accepted from now on,
// and a function ending the subscription (it closes the channel; calling it
// again does nothing). Sends never wait for a subscriber: one that falls
// more than 1024 sends behind misses sends.
func (s *Server) Subscribe() (<-chan Sent, func()) {
	sub := &subscriber{ch: make(chan Sent, subscriberBuffer)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub.ch, func() {
		s.mu.Lock()
		_, ok := s.subs[sub]
		delete(s.subs, sub)
		s.mu.Unlock()
		if ok {
			sub.close()
		}
	}
}

func (sub *subscriber) close() { sub.once.Do(func() { close(sub.ch) }) }

// OnSend sets a function called with every accepted send, after it is
// recorded and before the response is written. It runs on the request's
// goroutine, so a slow fn slows the sender down; nil removes it.
func (s *Server) OnSend(fn func(Sent)) {
	s.mu.Lock()
	s.onSend = fn
	s.mu.Unlock()
}

// Script queues answers for the next sends to recipientID, one Response
// per send, used after the request passed authentication. Script("", …)
// queues answers for sends to any recipient that has no script of its own.
// Profile fetches are not affected (see ScriptProfile). For example
//
//	stub.Script("123", graphstub.Response{Status: 500}, graphstub.Response{Status: 500})
//
// fails the next two sends to 123 and lets the third through.
func (s *Server) Script(recipientID string, responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[recipientID] = append(s.scripts[recipientID], responses...)
}

// ScriptProfile queues answers for the next fetches of userID's profile, as
// Script does for sends; "" stands for any user without a script.
func (s *Server) ScriptProfile(userID string, responses ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profileScripts[userID] = append(s.profileScripts[userID], responses...)
}

// SetProfile sets the profile of userID. Users without one are "Demo
// Shopper-<last 4 characters of the id>".
func (s *Server) SetProfile(userID, first, last string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[userID] = profile{first: first, last: last}
}

// ServeHTTP answers one Graph API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if gerr := s.serve(w, r); gerr != nil {
		gerr.write(w)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) *graphError {
	// "/v23.0/123/messages" → ["v23.0", "123", "messages"]; "/v23.0/" → ["v23.0"]
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if segs[0] != s.version {
		return &graphError{Status: http.StatusBadRequest, Code: 2500, Message: fmt.Sprintf("Unknown path components: /%s", segs[0])}
	}
	segs = segs[1:]

	form, gerr := s.parseParams(r)
	if gerr != nil {
		return gerr
	}
	token, gerr := s.authenticate(r.Header.Get("Authorization"), form)
	if gerr != nil {
		return gerr
	}
	if len(segs) == 0 && r.Method == http.MethodPost {
		return s.batch(w, r.Method, token, form)
	}
	return s.route(w, r.Method, segs, token, form)
}

// route answers an authenticated call to the path segs (after the
// version), made with token and carrying form.
func (s *Server) route(w http.ResponseWriter, method string, segs []string, token string, form params) *graphError {
	switch {
	case len(segs) == 2 && segs[1] == "messages" && method == http.MethodPost:
		channelID := segs[0]
		if channelID == "me" {
			channelID = s.channels[token]
		}
		if s.tokens[channelID] != token {
			// A valid token of another channel.
			return unsupported(method, segs[0])
		}
		return s.send(w, channelID, form)
	case len(segs) == 1 && segs[0] != "" && method == http.MethodGet:
		fields, _ := form.get("fields")
		return s.profile(w, segs[0], fields)
	}
	return unsupported(method, strings.Join(segs, "/"))
}

// batchMax is the most calls a Graph API batch request may carry.
const batchMax = 50

// batchCall is one call of a batch request, as Meta documents it.
type batchCall struct {
	Method      string `json:"method"`
	RelativeURL string `json:"relative_url"`
	Body        string `json:"body"`
}

// batchAnswer is one call's answer in a batch response.
type batchAnswer struct {
	Code    int           `json:"code"`
	Headers []batchHeader `json:"headers"`
	Body    string        `json:"body"`
}

type batchHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// batch answers a batch request (POST /{version}/ with batch=[…]): each
// call is served as a request of its own would be, with the batch's token
// and appsecret_proof, and answered in order with its status, headers and
// body.
func (s *Server) batch(w http.ResponseWriter, method, token string, form params) *graphError {
	raw, ok := form.get("batch")
	if !ok {
		return unsupported(method, "")
	}
	var calls []batchCall
	if err := json.Unmarshal([]byte(raw), &calls); err != nil || len(calls) == 0 {
		return invalidParam("(#100) The parameter batch must be a non-empty JSON array of requests")
	}
	if len(calls) > batchMax {
		return invalidParam(fmt.Sprintf("(#100) Too many requests in batch message. Maximum batch size is %d", batchMax))
	}
	s.mu.Lock()
	s.batchSizes = append(s.batchSizes, len(calls))
	s.mu.Unlock()
	answers := make([]batchAnswer, len(calls))
	for i, c := range calls {
		if c.Method != http.MethodPost && c.Method != http.MethodGet || c.RelativeURL == "" {
			return invalidParam(fmt.Sprintf("(#100) Batch request %d needs a method (GET or POST) and a relative_url", i))
		}
		rel, err := url.Parse(strings.TrimPrefix(strings.TrimPrefix(c.RelativeURL, "/"), s.version+"/"))
		if err != nil {
			return invalidParam(fmt.Sprintf("(#100) Batch request %d has an invalid relative_url", i))
		}
		rec := httptest.NewRecorder()
		if gerr := s.serveBatchCall(rec, c, rel, token); gerr != nil {
			gerr.write(rec)
		}
		answers[i] = batchAnswer{Code: rec.Code, Headers: []batchHeader{}, Body: rec.Body.String()}
		for name, values := range rec.Header() {
			for _, v := range values {
				answers[i].Headers = append(answers[i].Headers, batchHeader{Name: name, Value: v})
			}
		}
	}
	writeJSON(w, http.StatusOK, answers)
	return nil
}

// serveBatchCall answers one call of a batch made with token: its
// parameters are relative_url's query and, for a POST, its body, as those
// of a request of its own; a call without an appsecret_proof of its own
// has the batch's, which was checked.
func (s *Server) serveBatchCall(w http.ResponseWriter, c batchCall, rel *url.URL, token string) *graphError {
	form := params{values: rel.Query()}
	if c.Method == http.MethodPost {
		body, err := url.ParseQuery(c.Body)
		if err != nil {
			return invalidParam("graphstub: unreadable form body: " + err.Error())
		}
		// As in http.Request.ParseForm, the body's values come first.
		for k, v := range form.values {
			body[k] = append(body[k], v...)
		}
		form.values = body
	}
	if _, ok := form.get("appsecret_proof"); !ok {
		form.values.Set("appsecret_proof", s.proofs[token])
	}
	if _, gerr := s.authenticate("Bearer "+token, form); gerr != nil {
		return gerr
	}
	return s.route(w, c.Method, strings.Split(strings.Trim(rel.Path, "/"), "/"), token, form)
}

// params are a request's parameters: the query merged with a form body, or
// the query and a JSON body.
type params struct {
	values url.Values
	json   map[string]json.RawMessage
}

// get returns a parameter as a string; a JSON string is unquoted, other
// JSON values are returned as JSON.
func (p params) get(name string) (string, bool) {
	if raw, ok := p.json[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
		return string(raw), true
	}
	if v, ok := p.values[name]; ok && len(v) > 0 {
		return v[0], true
	}
	return "", false
}

func (s *Server) parseParams(r *http.Request) (params, *graphError) {
	p := params{values: r.URL.Query()}
	if r.Method != http.MethodPost {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		// huandu's encoding: each top-level value a field, nested values JSON.
		if err := r.ParseForm(); err != nil {
			return p, invalidParam("graphstub: unreadable form body: " + err.Error())
		}
		p.values = r.Form
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return p, invalidParam("graphstub: unreadable body: " + err.Error())
		}
		if err := json.Unmarshal(body, &p.json); err != nil {
			return p, invalidParam("graphstub: body is not a JSON object: " + err.Error())
		}
	default:
		return p, invalidParam(fmt.Sprintf("graphstub: unsupported Content-Type %q", r.Header.Get("Content-Type")))
	}
	return p, nil
}

// authenticate checks that the bearer token of authorization is one of a
// channel's and that appsecret_proof matches it, and returns the token.
func (s *Server) authenticate(authorization string, p params) (string, *graphError) {
	if _, ok := p.get("access_token"); ok {
		return "", invalidParam("graphstub: access_token must be sent in the Authorization header, not as a parameter")
	}
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	want, known := s.proofs[token]
	if !ok || token == "" || !known {
		return "", &graphError{Status: http.StatusBadRequest, Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}
	}
	proof, ok := p.get("appsecret_proof")
	if !ok || proof == "" {
		return "", &graphError{Status: http.StatusBadRequest, Code: 100, Type: "GraphMethodException", Message: "API calls from the server require an appsecret_proof argument"}
	}
	if !hmac.Equal([]byte(proof), []byte(want)) {
		return "", &graphError{Status: http.StatusBadRequest, Code: 100, Type: "GraphMethodException", Message: "Invalid appsecret_proof provided in the API argument"}
	}
	return token, nil
}

// popScript returns the next answer scripted in scripts for id, or for ""
// when id has none.
func (s *Server) popScript(scripts map[string][]Response, id string) (Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{id, ""} {
		if q := scripts[key]; len(q) > 0 {
			if len(q) == 1 {
				delete(scripts, key)
			} else {
				scripts[key] = q[1:]
			}
			return q[0], true
		}
	}
	return Response{}, false
}

// scripted answers a scripted failure; it reports false for a pass-through.
func scripted(w http.ResponseWriter, resp Response) (bool, *graphError) {
	if resp.Code == 0 && resp.Body == "" && (resp.Status == 0 || resp.Status == http.StatusOK) {
		return false, nil
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	if resp.Body != "" {
		status := resp.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		io.WriteString(w, resp.Body) //nolint:errcheck // the client went away.
		return true, nil
	}
	g := &graphError{Status: resp.Status, Code: resp.Code, Subcode: resp.Subcode, Type: resp.Type, Message: resp.Message}
	if g.Code == 0 {
		g.Code = 100
		if g.Status >= 500 {
			g.Code = 2
		}
	}
	if g.Status == 0 {
		g.Status = http.StatusBadRequest
		if g.Code == 1 || g.Code == 2 {
			g.Status = http.StatusInternalServerError
		}
	}
	return true, g
}

// sendAnswer is the Send API's answer to an accepted send.
type sendAnswer struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// sendRequest is the Send API body.
type sendRequest struct {
	Recipient struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string `json:"messaging_type"`
	Tag           string `json:"tag"`
	Message       struct {
		// Text is nil when the message has no text field, so that text
		// and attachment together are refused even when text is empty.
		Text       *string `json:"text"`
		Attachment *struct {
			Type    string `json:"type"`
			Payload struct {
				URL        string `json:"url"`
				IsReusable bool   `json:"is_reusable"`
			} `json:"payload"`
		} `json:"attachment"`
		QuickReplies []QuickReply `json:"quick_replies"`
		Metadata     string       `json:"metadata"`
	} `json:"message"`
}

func (s *Server) send(w http.ResponseWriter, channelID string, p params) *graphError {
	var req sendRequest
	for _, f := range []struct {
		name     string
		into     any
		required bool
	}{
		{"recipient", &req.Recipient, true},
		{"message", &req.Message, true},
		{"messaging_type", &req.MessagingType, true},
		{"tag", &req.Tag, false},
	} {
		v, ok := p.get(f.name)
		if !ok {
			if f.required {
				return invalidParam(fmt.Sprintf("(#100) The parameter %s is required", f.name))
			}
			continue
		}
		if str, isStr := f.into.(*string); isStr {
			*str = v
			continue
		}
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(f.into); err != nil {
			return invalidParam(fmt.Sprintf("(#100) Param %s must be a JSON object of known fields: %v", f.name, err))
		}
	}
	if req.Recipient.ID == "" {
		return invalidParam("(#100) The parameter recipient[id] is required")
	}

	if resp, ok := s.popScript(s.scripts, req.Recipient.ID); ok {
		if done, gerr := scripted(w, resp); done || gerr != nil {
			return gerr
		}
	}
	if gerr := validateSend(&req); gerr != nil {
		return gerr
	}

	s.mu.Lock()
	s.seq++
	sent := Sent{
		ChannelID:     channelID,
		RecipientID:   req.Recipient.ID,
		MessagingType: req.MessagingType,
		Tag:           req.Tag,
		QuickReplies:  req.Message.QuickReplies,
		Metadata:      req.Message.Metadata,
		MessageID:     "m_" + strconv.FormatInt(s.seq, 10),
		At:            time.Now(),
	}
	if t := req.Message.Text; t != nil {
		sent.Text = *t
	}
	if a := req.Message.Attachment; a != nil {
		sent.Attachment = &SentAttachment{Type: a.Type, URL: a.Payload.URL}
	}
	s.byRecipient[sent.RecipientID] = append(s.byRecipient[sent.RecipientID], &sent)
	s.sent = append(s.sent, &sent)
	for sub := range s.subs {
		select {
		case sub.ch <- sent:
		default: // a slow subscriber misses it; sends never wait
		}
	}
	onSend := s.onSend
	s.mu.Unlock()
	if onSend != nil {
		onSend(sent)
	}

	writeJSON(w, http.StatusOK, sendAnswer{RecipientID: sent.RecipientID, MessageID: sent.MessageID})
	return nil
}

func validateSend(req *sendRequest) *graphError {
	switch req.MessagingType {
	case "RESPONSE", "UPDATE":
		if req.Tag != "" {
			return invalidParam("(#100) Param tag is only allowed with messaging_type MESSAGE_TAG")
		}
	case "MESSAGE_TAG":
		switch req.Tag {
		case "HUMAN_AGENT", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE":
		case "":
			return invalidParam("(#100) Param tag is required when messaging_type is MESSAGE_TAG")
		default:
			return invalidParam(fmt.Sprintf("(#100) Param tag must be one of {HUMAN_AGENT, CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE, ACCOUNT_UPDATE}, got %q", req.Tag))
		}
	default:
		return invalidParam("(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
	}

	m := &req.Message
	if m.Attachment != nil {
		if m.Text != nil {
			return &graphError{Status: http.StatusBadRequest, Code: 100, Subcode: 2018018,
				Message: "(#100) Only one of text or attachment can be specified"}
		}
		if gerr := validateAttachment(m.Attachment.Type, m.Attachment.Payload.URL); gerr != nil {
			return gerr
		}
	} else {
		text := ""
		if m.Text != nil {
			text = *m.Text
		}
		switch {
		case strings.TrimSpace(text) == "", !utf8.ValidString(text):
			return invalidParam("(#100) Param message[text] must be a non-empty UTF-8 encoded string")
		case utf8.RuneCountInString(text) > TextMax:
			return invalidParam(fmt.Sprintf("(#100) Length of param message[text] must be less than or equal to %d", TextMax))
		}
	}
	switch {
	case utf8.RuneCountInString(m.Metadata) > MetadataMax:
		return invalidParam(fmt.Sprintf("(#100) Length of param message[metadata] must be less than or equal to %d", MetadataMax))
	case len(m.QuickReplies) > QuickRepliesMax:
		return invalidParam(fmt.Sprintf("(#100) Param message[quick_replies] must have at most %d elements", QuickRepliesMax))
	}
	for i, qr := range m.QuickReplies {
		switch {
		case qr.ContentType != "text" && qr.ContentType != "user_phone_number" && qr.ContentType != "user_email":
			return invalidParam(fmt.Sprintf("(#100) Param message[quick_replies][%d][content_type] must be one of {text, user_phone_number, user_email}", i))
		case qr.ContentType == "text" && qr.Title == "":
			return invalidParam(fmt.Sprintf("(#100) Param message[quick_replies][%d][title] is required", i))
		case utf8.RuneCountInString(qr.Title) > QuickReplyTitleMax:
			return invalidParam(fmt.Sprintf("(#100) Length of param message[quick_replies][%d][title] must be less than or equal to %d", i, QuickReplyTitleMax))
		case qr.ContentType == "text" && qr.Payload == "":
			return invalidParam(fmt.Sprintf("(#100) Param message[quick_replies][%d][payload] is required", i))
		case utf8.RuneCountInString(qr.Payload) > PayloadMax:
			return invalidParam(fmt.Sprintf("(#100) Length of param message[quick_replies][%d][payload] must be less than or equal to %d", i, PayloadMax))
		}
	}
	return nil
}

// validateAttachment checks an attachment sent by link: a known type and an
// absolute http(s) URL, which Meta must be able to fetch.
func validateAttachment(typ, rawURL string) *graphError {
	switch typ {
	case "image", "video", "audio", "file":
	default:
		return invalidParam("(#100) Param message[attachment][type] must be one of {image, video, audio, file}")
	}
	if rawURL == "" {
		return invalidParam("(#100) Param message[attachment][payload][url] is required")
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalidParam("(#100) Param message[attachment][payload][url] must be a valid http(s) URL")
	}
	return nil
}

// profileFields are the user fields the stub knows.
var profileFields = map[string]bool{"id": true, "first_name": true, "last_name": true, "name": true, "username": true}

func (s *Server) profile(w http.ResponseWriter, userID, fields string) *graphError {
	if resp, ok := s.popScript(s.profileScripts, userID); ok {
		if done, gerr := scripted(w, resp); done || gerr != nil {
			return gerr
		}
	}

	s.mu.Lock()
	p, ok := s.profiles[userID]
	s.mu.Unlock()
	if !ok {
		tail := userID
		if n := len(tail); n > 4 {
			tail = tail[n-4:]
		}
		p = profile{first: "Demo", last: "Shopper-" + tail}
	}
	all := map[string]string{
		"id":         userID,
		"first_name": p.first,
		"last_name":  p.last,
		"name":       strings.TrimSpace(p.first + " " + p.last),
		"username":   strings.ToLower(strings.Join(strings.Fields(p.first+"."+p.last), "")),
	}

	out := map[string]string{"id": userID}
	if fields == "" {
		out["name"] = all["name"]
	}
	for f := range strings.SplitSeq(fields, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !profileFields[f] {
			return invalidParam(fmt.Sprintf("(#100) Tried accessing nonexisting field (%s) on node type (User)", f))
		}
		out[f] = all[f]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// graphError is Graph's error JSON:
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}.
type graphError struct {
	Status  int
	Code    int
	Subcode int
	Type    string
	Message string
}

func invalidParam(msg string) *graphError {
	return &graphError{Status: http.StatusBadRequest, Code: 100, Message: msg}
}

func unsupported(method, id string) *graphError {
	return &graphError{
		Status:  http.StatusBadRequest,
		Code:    100,
		Subcode: 33,
		Type:    "GraphMethodException",
		Message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", strings.ToLower(method), id),
	}
}

// graphMessages are typical messages of codes, for scripted errors.
var graphMessages = map[int]string{
	1:     "An unknown error has occurred.",
	2:     "An unexpected error has occurred. Please retry your request later.",
	4:     "(#4) Application request limit reached",
	10:    "(#10) This message is sent outside of allowed window.",
	17:    "(#17) User request limit reached",
	32:    "(#32) Page request limit reached",
	100:   "(#100) Invalid parameter",
	190:   "Invalid OAuth access token - Cannot parse access token",
	200:   "(#200) Permissions error",
	230:   "(#230) Requires pages_messaging permission to manage the object",
	551:   "(#551) This person isn't available right now.",
	613:   "(#613) Calls to this api have exceeded the rate limit.",
	80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
	80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
	80006: "(#80006) There have been too many messages sent to this Messenger user. Please wait a while and try again.",
}

func (g *graphError) write(w http.ResponseWriter) {
	typ, msg := g.Type, g.Message
	if typ == "" {
		typ = "OAuthException"
	}
	if msg == "" {
		msg = graphMessages[g.Code]
	}
	body := map[string]any{"message": msg, "type": typ, "code": g.Code, "fbtrace_id": traceID()}
	if g.Subcode != 0 {
		body["error_subcode"] = g.Subcode
	}
	if g.Code == 1 || g.Code == 2 {
		body["is_transient"] = true
	}
	if g.Code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+msg+`"`)
	}
	writeJSON(w, g.Status, map[string]any{"error": body})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away.
}

func traceID() string {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails.
	return base64.RawURLEncoding.EncodeToString(b)
}
