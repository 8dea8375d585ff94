package meta_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels"
	"github.com/frontdesk/frontdesk/channels/meta"
	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
	"github.com/frontdesk/frontdesk/conversation"
)

const (
	testAppSecret = "test-app-secret"
	testVersion   = "v23.0"
	testPageID    = "1001"
	testIGID      = "2002"
	testPageToken = "EAAPageTokenSecret1001"
	testIGToken   = "IGAATokenSecret2002"
	testPSID      = "9000000000000001"
)

// graphRequest is a request as it reached the stub.
type graphRequest struct {
	Method, Path, RawQuery, Authorization, ContentType string
	Form                                               url.Values
}

type testBundle struct {
	stub    *graphstub.Server
	url     string
	cfg     meta.Config
	adapter *meta.Adapter

	mu       sync.Mutex
	requests []graphRequest
}

// setup serves a graphstub behind a recorder of the raw requests, and an
// adapter configured for it.
func setup(t *testing.T) *testBundle {
	t.Helper()
	b := &testBundle{stub: graphstub.New(testAppSecret, map[string]string{
		testPageID: testPageToken,
		testIGID:   testIGToken,
	}, testVersion)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		form, _ := url.ParseQuery(string(body))
		b.mu.Lock()
		b.requests = append(b.requests, graphRequest{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
			Form: form,
		})
		b.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		b.stub.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(b.stub.Close)
	b.url = srv.URL
	b.cfg = meta.Config{
		AppSecret:    testAppSecret,
		GraphURL:     srv.URL,
		GraphVersion: testVersion,
		Tokens:       map[string]string{testPageID: testPageToken, testIGID: testIGToken},
	}
	b.adapter = meta.New(b.cfg)
	return b
}

func (b *testBundle) lastRequest(t *testing.T) graphRequest {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.requests)
	return b.requests[len(b.requests)-1]
}

func messengerOut(recipient, text string) conversation.Outbound {
	return conversation.Outbound{
		MessageID:   42,
		Platform:    conversation.Messenger,
		ChannelID:   testPageID,
		RecipientID: recipient,
		Text:        text,
		Author:      conversation.AuthorBot,
	}
}

func proof(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSend(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out := messengerOut(testPSID, "Your parcel is on its way.")
	out.QuickReplies = []conversation.QuickReply{
		{Title: "Track it", Payload: "TRACK"},
		{Title: "Talk to a person", Payload: "HUMAN"},
	}
	res, err := b.adapter.Send(t.Context(), out)
	require.NoError(t, err)

	sent := b.stub.Sent()
	require.Len(t, sent, 1)
	require.Equal(t, sent[0].MessageID, res.PlatformMessageID)
	require.WithinDuration(t, time.Now(), sent[0].At, time.Minute)
	sent[0].At = time.Time{}
	require.Equal(t, graphstub.Sent{
		ChannelID:     testPageID,
		RecipientID:   testPSID,
		MessagingType: "RESPONSE",
		Text:          "Your parcel is on its way.",
		QuickReplies: []graphstub.QuickReply{
			{ContentType: "text", Title: "Track it", Payload: "TRACK"},
			{ContentType: "text", Title: "Talk to a person", Payload: "HUMAN"},
		},
		Metadata:  "frontdesk:42",
		MessageID: res.PlatformMessageID,
	}, sent[0])

	// The stub refuses anything else, so these hold already; the raw
	// request shows how.
	req := b.lastRequest(t)
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "/"+testVersion+"/"+testPageID+"/messages", req.Path)
	require.Equal(t, "Bearer "+testPageToken, req.Authorization)
	require.Empty(t, req.RawQuery)
	require.NotContains(t, req.Form, "access_token")
	require.Equal(t, proof(testAppSecret, testPageToken), req.Form.Get("appsecret_proof"))
	require.Equal(t, "application/x-www-form-urlencoded", req.ContentType)
	require.JSONEq(t, `{"id":"`+testPSID+`"}`, req.Form.Get("recipient"))
}

func TestSendHumanAgentTag(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out := messengerOut(testPSID, "Hi, Sam from support here.")
	out.Author = conversation.AuthorAgent
	out.HumanAgentTag = true
	_, err := b.adapter.Send(t.Context(), out)
	require.NoError(t, err)

	sent := b.stub.SentTo(testPSID)
	require.Len(t, sent, 1)
	require.Equal(t, "MESSAGE_TAG", sent[0].MessagingType)
	require.Equal(t, "HUMAN_AGENT", sent[0].Tag)
}

func TestSendQuickReplyLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)

	out := messengerOut(testPSID, "Pick one")
	for i := range 15 {
		out.QuickReplies = append(out.QuickReplies, conversation.QuickReply{Title: fmt.Sprintf("Öption número %d is long", i), Payload: fmt.Sprint(i)})
	}
	_, err := b.adapter.Send(t.Context(), out)
	require.NoError(t, err)

	qrs := b.stub.SentTo(testPSID)[0].QuickReplies
	require.Len(t, qrs, 13)
	require.Equal(t, "Öption número 0 is l", qrs[0].Title)
	require.Equal(t, "12", qrs[12].Payload)
}

func TestSendSplitsLongText(t *testing.T) {
	t.Parallel()

	t.Run("messenger", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		text := strings.Repeat("Ünïcödé words travel far. ", 180) // 4680 runes
		out := messengerOut(testPSID, text)
		out.QuickReplies = []conversation.QuickReply{{Title: "Thanks", Payload: "THANKS"}}
		res, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)

		sent := b.stub.SentTo(testPSID)
		require.Len(t, sent, 3)
		texts := make([]string, len(sent))
		for i, s := range sent {
			texts[i] = s.Text
			require.LessOrEqual(t, utf8.RuneCountInString(s.Text), 2000)
			require.Equal(t, conversation.OutboundMetadata(42, i+1, 3), s.Metadata)
			if i < len(sent)-1 {
				require.Empty(t, s.QuickReplies, "part %d", i)
			}
		}
		require.Equal(t, []graphstub.QuickReply{{ContentType: "text", Title: "Thanks", Payload: "THANKS"}}, sent[2].QuickReplies)
		require.Equal(t, []string{"frontdesk:42/1", "frontdesk:42/2", "frontdesk:42"},
			[]string{sent[0].Metadata, sent[1].Metadata, sent[2].Metadata}, "only the last part's echo confirms the message")
		require.Equal(t, strings.Fields(text), strings.Fields(strings.Join(texts, " ")))
		require.Equal(t, sent[2].MessageID, res.PlatformMessageID)
	})

	t.Run("instagram by bytes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		text := strings.Repeat("日本語 ", 150) // 600 runes, 1500 bytes
		out := messengerOut("igsid-1", text)
		out.Platform = conversation.Instagram
		out.ChannelID = testIGID
		_, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)

		sent := b.stub.SentTo("igsid-1")
		require.Len(t, sent, 2)
		for _, s := range sent {
			require.LessOrEqual(t, len(s.Text), 1000)
			require.Equal(t, testIGID, s.ChannelID)
		}
		require.Equal(t, "Bearer "+testIGToken, b.lastRequest(t).Authorization)
	})

	t.Run("later part fails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		b.stub.Script(testPSID, graphstub.Response{}, graphstub.Response{Code: 551, Subcode: 1545041})
		_, err := b.adapter.Send(t.Context(), messengerOut(testPSID, strings.Repeat("word ", 500)))
		var perm *channels.PermanentError
		require.ErrorAs(t, err, &perm)
		require.Contains(t, perm.Reason, "part 2 of 2 (earlier parts were sent)")
		require.Contains(t, perm.Reason, "recipient unavailable")
		require.Len(t, b.stub.SentTo(testPSID), 1)
		var partly *channels.PartlySentError
		require.ErrorAs(t, err, &partly)
		require.Equal(t, 1, partly.Parts)
	})

	t.Run("a retry sends only what is left", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		b.stub.Script(testPSID, graphstub.Response{}, graphstub.Response{Status: 503})
		out := messengerOut(testPSID, strings.Repeat("Ünïcödé words travel far. ", 180)) // 3 parts
		_, err := b.adapter.Send(t.Context(), out)
		var partly *channels.PartlySentError
		require.ErrorAs(t, err, &partly)
		require.Equal(t, 1, partly.Parts)
		meta.RequireClass(t, err, meta.Transient, "", 0)

		out.FromPart = partly.Parts
		res, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)
		sent := b.stub.SentTo(testPSID)
		require.Len(t, sent, 3, "part 1 once, then parts 2 and 3")
		require.Equal(t, []string{"frontdesk:42/1", "frontdesk:42/2", "frontdesk:42"},
			[]string{sent[0].Metadata, sent[1].Metadata, sent[2].Metadata})
		require.Equal(t, sent[2].MessageID, res.PlatformMessageID)

		// In a batch, a message with one part left goes as one call of it.
		out.FromPart = 2
		results, errs := b.adapter.SendBatch(t.Context(), []conversation.Outbound{out, messengerOut("psid-other", "hi")})
		require.NoError(t, errors.Join(errs...))
		sent = b.stub.SentTo(testPSID)
		require.Len(t, sent, 4)
		require.Equal(t, "frontdesk:42", sent[3].Metadata)
		require.Equal(t, sent[3].MessageID, results[0].PlatformMessageID)
	})
}

// sendErrorCases are Graph API failures and the error class each must
// become, for Send and for one call of a batch (SendBatch).
var sendErrorCases = []sendErrorCase{
	{name: "500 service error", resp: graphstub.Response{Status: 500}, want: meta.Transient},
	{name: "502 HTML", resp: graphstub.Response{Status: 502, Body: "<html><body>Bad Gateway</body></html>"}, want: meta.Transient},
	{name: "code 1 unknown", resp: graphstub.Response{Code: 1}, want: meta.Transient},
	{name: "code 4 rate limit", resp: graphstub.Response{Code: 4}, want: meta.RetryAfter, after: time.Minute},
	{name: "code 613 rate limit", resp: graphstub.Response{Code: 613}, want: meta.RetryAfter, after: time.Minute},
	{
		name: "code 80006 with usage header",
		resp: graphstub.Response{Code: 80006, Header: http.Header{"X-Business-Use-Case-Usage": {
			`{"` + testPageID + `":[{"type":"messenger","call_count":100,"estimated_time_to_regain_access":5}]}`,
		}}},
		want: meta.RetryAfter, after: 5 * time.Minute,
	},
	{name: "429 without JSON", resp: graphstub.Response{Status: 429, Body: "slow down"}, want: meta.RetryAfter, after: time.Minute},
	{name: "190 token", resp: graphstub.Response{Code: 190, Subcode: 460}, want: meta.Reauthorize, reason: "190/460: access token expired or invalid"},
	{name: "551 unavailable", resp: graphstub.Response{Code: 551, Subcode: 1545041}, want: meta.Permanent, reason: "551/1545041: recipient unavailable: (#551) This person isn't available right now."},
	{name: "10 outside window", resp: graphstub.Response{Code: 10, Subcode: 2018278}, want: meta.Permanent, reason: "10/2018278: outside the messaging window"},
	{name: "100 parameter", resp: graphstub.Response{Code: 100, Subcode: 2018001, Message: "(#100) No matching user found"}, want: meta.Permanent, reason: "100/2018001: invalid parameter: (#100) No matching user found"},
	{name: "200 permissions", resp: graphstub.Response{Code: 200}, want: meta.Permanent, reason: "permission denied"},
	{name: "200 without message_id", resp: graphstub.Response{Status: 200, Body: `{"recipient_id":"` + testPSID + `"}`}, want: meta.Permanent, reason: "returned no message_id"},
	{name: "404 HTML", resp: graphstub.Response{Status: 404, Body: "<html>Not Found</html>"}, want: meta.Permanent, reason: "HTTP 404"},
}

type sendErrorCase struct {
	name   string
	resp   graphstub.Response
	want   meta.ErrClass
	after  time.Duration
	reason string
}

// runSendErrorCases runs check on each of sendErrorCases, in parallel, each
// with a stand-in that answers the next send to testPSID with the case's
// response.
func runSendErrorCases(t *testing.T, check func(t *testing.T, b *testBundle, tt sendErrorCase)) {
	t.Parallel()
	for _, tt := range sendErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.stub.Script(testPSID, tt.resp)
			check(t, b, tt)
		})
	}
}

func TestSendErrors(t *testing.T) {
	runSendErrorCases(t, func(t *testing.T, b *testBundle, tt sendErrorCase) {
		_, err := b.adapter.Send(t.Context(), messengerOut(testPSID, "hello"))
		require.Error(t, err)
		require.NotContains(t, err.Error(), testPageToken)
		require.Empty(t, b.stub.Sent())

		meta.RequireClass(t, err, tt.want, tt.reason, tt.after)

		// The script is used up: the next send goes through.
		_, err = b.adapter.Send(t.Context(), messengerOut(testPSID, "hello"))
		require.NoError(t, err)
	})
}

func TestSendRetriesUntilAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.stub.Script(testPSID, graphstub.Response{Status: 500}, graphstub.Response{Status: 500})
	for range 2 {
		_, err := b.adapter.Send(t.Context(), messengerOut(testPSID, "hello"))
		require.Error(t, err)
		require.NotErrorIs(t, err, channels.ErrPermanent)
	}
	res, err := b.adapter.Send(t.Context(), messengerOut(testPSID, "hello"))
	require.NoError(t, err)
	require.Len(t, b.stub.SentTo(testPSID), 1)
	require.Equal(t, b.stub.SentTo(testPSID)[0].MessageID, res.PlatformMessageID)
}

func TestSendMisconfigured(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		change func(*meta.Config)
		out    func(*conversation.Outbound)
		reauth bool
		reason string
	}{
		{
			name:   "wrong token",
			change: func(c *meta.Config) { c.Tokens = map[string]string{testPageID: "EAAWrongToken"} },
			reauth: true, reason: "190/0: access token expired or invalid",
		},
		{
			name:   "wrong app secret",
			change: func(c *meta.Config) { c.AppSecret = "not-the-secret" },
			reason: "100/0: invalid parameter: Invalid appsecret_proof provided in the API argument",
		},
		{
			name:   "no token for the channel",
			change: func(c *meta.Config) { c.Tokens = map[string]string{} },
			reauth: true, reason: "no access token configured for Meta channel " + testPageID,
		},
		{
			name:   "another channel's token",
			change: func(c *meta.Config) { c.Tokens = map[string]string{testPageID: testIGToken} },
			reason: "100/33: invalid parameter: Unsupported post request",
		},
		{
			name:   "wrong version",
			change: func(c *meta.Config) { c.GraphVersion = "v2.0" },
			reason: "2500/0: Unknown path components: /v2.0",
		},
		{
			name:   "channel id unfit for a path",
			out:    func(o *conversation.Outbound) { o.ChannelID = testPageID + "?fields=x" },
			reason: "invalid Meta channel id",
		},
		{
			name:   "not a Meta platform",
			out:    func(o *conversation.Outbound) { o.Platform = conversation.WhatsApp },
			reason: `platform "whatsapp" is not sent through the Meta adapter`,
		},
		{
			name:   "no text",
			out:    func(o *conversation.Outbound) { o.Text = " \n" },
			reason: "message has no text",
		},
		{
			name:   "no recipient",
			out:    func(o *conversation.Outbound) { o.RecipientID = "" },
			reason: "100/0: invalid parameter: (#100) The parameter recipient[id] is required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			cfg := b.cfg
			if tt.change != nil {
				tt.change(&cfg)
			}
			out := messengerOut(testPSID, "hello")
			if tt.out != nil {
				tt.out(&out)
			}
			_, err := meta.New(cfg).Send(t.Context(), out)

			var perm *channels.PermanentError
			require.ErrorAs(t, err, &perm)
			require.ErrorIs(t, err, channels.ErrPermanent)
			require.Equal(t, tt.reauth, errors.Is(err, channels.ErrReauthorize))
			require.Contains(t, perm.Reason, tt.reason)
			require.NotContains(t, err.Error(), "EAAWrongToken")
			require.NotContains(t, err.Error(), testIGToken)
			require.Empty(t, b.stub.Sent())
		})
	}
}

func TestSendUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t)

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	cfg := b.cfg
	cfg.GraphURL = dead.URL
	_, err := meta.New(cfg).Send(t.Context(), messengerOut(testPSID, "hello"))
	require.Error(t, err)
	require.NotErrorIs(t, err, channels.ErrPermanent)
	require.NotContains(t, err.Error(), testPageToken)
	require.NotContains(t, err.Error(), "appsecret_proof")
}

func TestSendCanceled(t *testing.T) {
	t.Parallel()
	b := setup(t)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.adapter.Send(ctx, messengerOut(testPSID, "hello"))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, channels.ErrPermanent)
	require.Empty(t, b.stub.Sent())
}

// TestSendDeadline: a Graph API that never answers holds a call only until
// the caller's deadline, and the error is transient.
func TestSendDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)

	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	cfg := b.cfg
	cfg.GraphURL = hung.URL
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := meta.New(cfg).Send(ctx, messengerOut(testPSID, "hello"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, channels.ErrPermanent)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestSendConcurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)

	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			out := messengerOut(fmt.Sprintf("psid-%d", i%4), fmt.Sprintf("message %d", i))
			if i%2 == 1 {
				out.Platform, out.ChannelID = conversation.Instagram, testIGID
			}
			_, err := b.adapter.Send(t.Context(), out)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, b.stub.Sent(), n)
}

func TestSendAttachments(t *testing.T) {
	t.Parallel()

	t.Run("text first, then each attachment; quick replies on the last", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		out := messengerOut(testPSID, "Here is your label and the photo.")
		out.Author = conversation.AuthorAgent
		out.HumanAgentTag = true
		out.Attachments = []conversation.Attachment{
			{Type: "file", URL: "https://cdn.example/label.pdf", Title: "not sent"},
			{Type: "image", URL: "http://cdn.example/photo.jpg"},
		}
		out.QuickReplies = []conversation.QuickReply{{Title: "Thanks", Payload: "THANKS"}}
		res, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)

		sent := b.stub.SentTo(testPSID)
		require.Len(t, sent, 3)
		require.Equal(t, "Here is your label and the photo.", sent[0].Text)
		require.Nil(t, sent[0].Attachment)
		require.Equal(t, &graphstub.SentAttachment{Type: "file", URL: "https://cdn.example/label.pdf"}, sent[1].Attachment)
		require.Equal(t, &graphstub.SentAttachment{Type: "image", URL: "http://cdn.example/photo.jpg"}, sent[2].Attachment)
		for i, s := range sent {
			require.Equal(t, conversation.OutboundMetadata(42, i+1, 3), s.Metadata, "part %d", i)
			require.Equal(t, "MESSAGE_TAG", s.MessagingType, "part %d", i)
			require.Equal(t, "HUMAN_AGENT", s.Tag, "part %d", i)
			if i < len(sent)-1 {
				require.Empty(t, s.QuickReplies, "part %d", i)
			}
		}
		require.Equal(t, []graphstub.QuickReply{{ContentType: "text", Title: "Thanks", Payload: "THANKS"}}, sent[2].QuickReplies)
		require.Empty(t, sent[1].Text)
		require.Equal(t, sent[2].MessageID, res.PlatformMessageID)

		// The wire format: no text field beside the attachment, and a
		// reusable payload.
		require.JSONEq(t, `{"attachment":{"type":"image","payload":{"url":"http://cdn.example/photo.jpg","is_reusable":true}},
			"quick_replies":[{"content_type":"text","title":"Thanks","payload":"THANKS"}],"metadata":"frontdesk:42"}`,
			b.lastRequest(t).Form.Get("message"))
	})

	t.Run("attachments without text", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		out := messengerOut("igsid-2", " \n")
		out.Platform, out.ChannelID = conversation.Instagram, testIGID
		out.Attachments = []conversation.Attachment{{Type: "video", URL: "https://cdn.example/unboxing.mp4"}}
		out.QuickReplies = []conversation.QuickReply{{Title: "Got it", Payload: "OK"}}
		res, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)

		sent := b.stub.SentTo("igsid-2")
		require.Len(t, sent, 1)
		require.Equal(t, &graphstub.SentAttachment{Type: "video", URL: "https://cdn.example/unboxing.mp4"}, sent[0].Attachment)
		require.Equal(t, testIGID, sent[0].ChannelID)
		require.Equal(t, "frontdesk:42", sent[0].Metadata)
		require.Len(t, sent[0].QuickReplies, 1)
		require.Equal(t, sent[0].MessageID, res.PlatformMessageID)
	})

	t.Run("split text, then the attachment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		out := messengerOut(testPSID, strings.Repeat("word ", 500))
		out.Attachments = []conversation.Attachment{{Type: "audio", URL: "https://cdn.example/note.m4a"}}
		_, err := b.adapter.Send(t.Context(), out)
		require.NoError(t, err)

		sent := b.stub.SentTo(testPSID)
		require.Len(t, sent, 3)
		require.NotEmpty(t, sent[0].Text)
		require.NotEmpty(t, sent[1].Text)
		require.Equal(t, "audio", sent[2].Attachment.Type)
	})

	t.Run("an attachment fails after the text went out", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		b.stub.Script(testPSID, graphstub.Response{}, graphstub.Response{Code: 100, Subcode: 2018008, Message: "(#100) Failed to fetch the file from the url"})
		out := messengerOut(testPSID, "See attached")
		out.Attachments = []conversation.Attachment{{Type: "image", URL: "https://cdn.example/gone.jpg"}}
		_, err := b.adapter.Send(t.Context(), out)
		var perm *channels.PermanentError
		require.ErrorAs(t, err, &perm)
		require.Contains(t, perm.Reason, "part 2 of 2 (earlier parts were sent): 100/2018008: invalid parameter")
		require.Len(t, b.stub.SentTo(testPSID), 1)
	})

	t.Run("rate limited on the attachment", func(t *testing.T) {
		t.Parallel()
		b := setup(t)

		b.stub.Script(testPSID, graphstub.Response{Code: 613})
		out := messengerOut(testPSID, "")
		out.Attachments = []conversation.Attachment{{Type: "image", URL: "https://cdn.example/p.jpg"}}
		_, err := b.adapter.Send(t.Context(), out)
		var retry *channels.RetryAfterError
		require.ErrorAs(t, err, &retry)
		require.Equal(t, time.Minute, retry.After)
		require.Empty(t, b.stub.Sent())
	})
}

func TestSendRefusesUnsendableAttachments(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		att    conversation.Attachment
		reason string
	}{
		{name: "javascript URL", att: conversation.Attachment{Type: "file", URL: "javascript:alert(1)"}, reason: "attachment 2 of 2: the link is not an absolute http(s) URL"},
		{name: "relative URL", att: conversation.Attachment{Type: "image", URL: "/p.jpg"}, reason: "not an absolute http(s) URL"},
		{name: "no URL", att: conversation.Attachment{Type: "image"}, reason: "not an absolute http(s) URL"},
		{name: "location", att: conversation.Attachment{Type: "location", URL: "https://maps.example/x"}, reason: `attachment 2 of 2: type "location" cannot be sent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)

			out := messengerOut(testPSID, "hello")
			out.Attachments = []conversation.Attachment{{Type: "image", URL: "https://cdn.example/ok.jpg"}, tt.att}
			_, err := b.adapter.Send(t.Context(), out)
			var perm *channels.PermanentError
			require.ErrorAs(t, err, &perm)
			require.ErrorIs(t, err, channels.ErrPermanent)
			require.Contains(t, perm.Reason, tt.reason)
			require.Empty(t, b.stub.Sent(), "nothing is sent, not even the text")
		})
	}
}
