package graphstub_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta/graphstub"
)

const (
	secret  = "stub-secret"
	version = "v23.0"
	pageID  = "1001"
	token   = "EAAPageToken"
	igID    = "2002"
	igToken = "IGAAToken"
)

type testBundle struct {
	stub *graphstub.Server
	url  string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	stub := graphstub.New(secret, map[string]string{pageID: token, igID: igToken}, version)
	url := stub.Start()
	t.Cleanup(stub.Close)
	return &testBundle{stub: stub, url: url}
}

func proof(tok string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// graphErr is Graph's error JSON.
type graphErr struct {
	Error struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// do sends a request and decodes the JSON answer into out.
func do(t *testing.T, req *http.Request, out any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json; charset=UTF-8", resp.Header.Get("Content-Type"))
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	return resp.StatusCode
}

// postForm posts values the way huandu does: form fields, nested values as JSON.
func (b *testBundle) postForm(t *testing.T, path, bearer string, values url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+path, strings.NewReader(values.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req
}

// postJSON posts body as JSON with appsecret_proof in the query.
func (b *testBundle) postJSON(t *testing.T, path string, body any) *http.Request {
	t.Helper()
	data, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, b.url+path+"?appsecret_proof="+proof(token), bytes.NewReader(data))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

func validForm() url.Values {
	return url.Values{
		"recipient":       {`{"id":"555"}`},
		"messaging_type":  {"RESPONSE"},
		"message":         {`{"text":"hi","metadata":"frontdesk:1"}`},
		"format":          {"json"},
		"appsecret_proof": {proof(token)},
	}
}

func TestRejectsPostWithoutAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)

	// A bare http.Post: no Authorization header, no appsecret_proof.
	resp, err := http.Post(b.url+"/"+version+"/"+pageID+"/messages", "application/json", strings.NewReader(`{"recipient":{"id":"555"},"messaging_type":"RESPONSE","message":{"text":"hi"}}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var ge graphErr
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ge))
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, 190, ge.Error.Code)
	require.Equal(t, "OAuthException", ge.Error.Type)
	require.NotEmpty(t, ge.Error.FBTraceID)
	require.Empty(t, b.stub.Sent())
}

func TestRejectsBadAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)

	tests := []struct {
		name    string
		bearer  string
		change  func(url.Values)
		path    string
		code    int
		subcode int
		message string
	}{
		{name: "no appsecret_proof", bearer: token, change: func(v url.Values) { v.Del("appsecret_proof") }, code: 100, message: "API calls from the server require an appsecret_proof argument"},
		{name: "wrong appsecret_proof", bearer: token, change: func(v url.Values) { v.Set("appsecret_proof", proof("other")) }, code: 100, message: "Invalid appsecret_proof provided in the API argument"},
		{name: "missing token", code: 190},
		{name: "unknown token", bearer: "EAAUnknown", code: 190},
		{name: "token in a parameter", bearer: token, change: func(v url.Values) { v.Set("access_token", token) }, code: 100, message: "graphstub: access_token must be sent in the Authorization header, not as a parameter"},
		{name: "another channel's token", bearer: igToken, change: func(v url.Values) { v.Set("appsecret_proof", proof(igToken)) }, code: 100, subcode: 33},
		{name: "wrong version", bearer: token, path: "/v2.0/" + pageID + "/messages", code: 2500, message: "Unknown path components: /v2.0"},
		{name: "no version", bearer: token, path: "/" + pageID + "/messages", code: 2500},
		{name: "unknown edge", bearer: token, path: "/" + version + "/" + pageID + "/feed", code: 100, subcode: 33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := validForm()
			if tt.change != nil {
				tt.change(v)
			}
			path := tt.path
			if path == "" {
				path = "/" + version + "/" + pageID + "/messages"
			}
			var ge graphErr
			require.Equal(t, http.StatusBadRequest, do(t, b.postForm(t, path, tt.bearer, v), &ge))
			require.Equal(t, tt.code, ge.Error.Code)
			require.Equal(t, tt.subcode, ge.Error.Subcode)
			if tt.message != "" {
				require.Equal(t, tt.message, ge.Error.Message)
			}
		})
	}
	require.Empty(t, b.stub.Sent())
}

func TestAcceptsHuandusFormAndJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var ok struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	require.Equal(t, http.StatusOK, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ok))
	require.Equal(t, "555", ok.RecipientID)
	require.Equal(t, "m_1", ok.MessageID)

	require.Equal(t, http.StatusOK, do(t, b.postJSON(t, "/"+version+"/me/messages", map[string]any{
		"recipient":      map[string]string{"id": "556"},
		"messaging_type": "MESSAGE_TAG",
		"tag":            "HUMAN_AGENT",
		"message": map[string]any{
			"text":          "hello",
			"quick_replies": []map[string]string{{"content_type": "text", "title": "Yes", "payload": "Y"}},
		},
	}), &ok))
	require.Equal(t, "m_2", ok.MessageID)

	sent := b.stub.Sent()
	require.Len(t, sent, 2)
	require.Equal(t, "frontdesk:1", sent[0].Metadata)
	require.Equal(t, pageID, sent[1].ChannelID, "/me is the token's channel")
	require.Equal(t, "HUMAN_AGENT", sent[1].Tag)
	require.Equal(t, []graphstub.QuickReply{{ContentType: "text", Title: "Yes", Payload: "Y"}}, sent[1].QuickReplies)
	require.Equal(t, sent[1:], b.stub.SentTo("556"))
	require.Empty(t, b.stub.SentTo("nobody"))
}

func TestValidatesSends(t *testing.T) {
	t.Parallel()
	b := setup(t)

	qr := func(title string) map[string]string {
		return map[string]string{"content_type": "text", "title": title, "payload": "P"}
	}
	many := make([]map[string]string, 14)
	for i := range many {
		many[i] = qr(fmt.Sprint(i))
	}
	tests := []struct {
		name    string
		body    map[string]any
		message string
	}{
		{name: "no recipient", body: map[string]any{"messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}, message: "(#100) The parameter recipient is required"},
		{name: "empty recipient id", body: map[string]any{"recipient": map[string]string{"id": ""}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x"}}, message: "recipient[id]"},
		{name: "no messaging_type", body: map[string]any{"recipient": map[string]string{"id": "1"}, "message": map[string]any{"text": "x"}}, message: "messaging_type"},
		{name: "bad messaging_type", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "PUSH", "message": map[string]any{"text": "x"}}, message: "messaging_type must be one of"},
		{name: "tag missing", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "MESSAGE_TAG", "message": map[string]any{"text": "x"}}, message: "tag is required"},
		{name: "tag unknown", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "MESSAGE_TAG", "tag": "SPAM", "message": map[string]any{"text": "x"}}, message: "tag must be one of"},
		{name: "tag without MESSAGE_TAG", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "tag": "HUMAN_AGENT", "message": map[string]any{"text": "x"}}, message: "only allowed with messaging_type MESSAGE_TAG"},
		{name: "no text", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": " "}}, message: "message[text]"},
		{name: "text too long", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": strings.Repeat("é", 2001)}}, message: "(#100) Length of param message[text] must be less than or equal to 2000"},
		{name: "14 quick replies", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x", "quick_replies": many}}, message: "at most 13"},
		{name: "title of 21", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x", "quick_replies": []any{qr(strings.Repeat("ü", 21))}}}, message: "[title] must be less than or equal to 20"},
		{name: "empty title", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x", "quick_replies": []any{qr("")}}}, message: "[title] is required"},
		{name: "unknown message field", body: map[string]any{"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": map[string]any{"text": "x", "attachments": []any{}}}, message: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ge graphErr
			require.Equal(t, http.StatusBadRequest, do(t, b.postJSON(t, "/"+version+"/"+pageID+"/messages", tt.body), &ge))
			require.Equal(t, 100, ge.Error.Code)
			require.Equal(t, "OAuthException", ge.Error.Type)
			require.Contains(t, ge.Error.Message, tt.message)
		})
	}
	require.Empty(t, b.stub.Sent())
}

func TestScript(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.stub.Script("555",
		graphstub.Response{Status: 500},
		graphstub.Response{Code: 190, Subcode: 463},
		graphstub.Response{Status: 503, Body: "upstream down", Header: http.Header{"Retry-After": {"3"}}},
	)
	b.stub.Script("", graphstub.Response{Code: 613})
	send := func() (*http.Response, graphErr) {
		resp, err := http.DefaultClient.Do(b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()))
		require.NoError(t, err)
		defer resp.Body.Close()
		var ge graphErr
		_ = json.NewDecoder(resp.Body).Decode(&ge)
		return resp, ge
	}

	resp, ge := send()
	require.Equal(t, 500, resp.StatusCode)
	require.Equal(t, 2, ge.Error.Code)
	require.Equal(t, "An unexpected error has occurred. Please retry your request later.", ge.Error.Message)

	resp, ge = send()
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, 190, ge.Error.Code)
	require.Equal(t, 463, ge.Error.Subcode)

	resp, _ = send()
	require.Equal(t, 503, resp.StatusCode)
	require.Equal(t, "3", resp.Header.Get("Retry-After"))

	// "555" has no script left: the catch-all one answers.
	resp, ge = send()
	require.Equal(t, 400, resp.StatusCode)
	require.Equal(t, 613, ge.Error.Code)

	resp, _ = send()
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, b.stub.Sent(), 1)
}

func TestScriptNeedsAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.stub.Script("555", graphstub.Response{Status: 500})
	v := validForm()
	v.Del("appsecret_proof")
	var ge graphErr
	require.Equal(t, 400, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, v), &ge))
	require.Equal(t, 100, ge.Error.Code, "authentication is checked before the script")

	require.Equal(t, 500, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ge))
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.SetProfile("777", "Ada", "Lovelace")

	get := func(userID, fields, tok string) (int, map[string]any) {
		q := url.Values{"appsecret_proof": {proof(tok)}}
		if fields != "" {
			q.Set("fields", fields)
		}
		req, err := http.NewRequest(http.MethodGet, b.url+"/"+version+"/"+userID+"?"+q.Encode(), nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		var out map[string]any
		return do(t, req, &out), out
	}

	status, out := get("9000001234", "first_name,last_name", token)
	require.Equal(t, 200, status)
	require.Equal(t, map[string]any{"id": "9000001234", "first_name": "Demo", "last_name": "Shopper-1234"}, out)

	status, out = get("777", "name,username", igToken)
	require.Equal(t, 200, status)
	require.Equal(t, map[string]any{"id": "777", "name": "Ada Lovelace", "username": "ada.lovelace"}, out)

	status, out = get("777", "", token)
	require.Equal(t, 200, status)
	require.Equal(t, map[string]any{"id": "777", "name": "Ada Lovelace"}, out)

	// Sends' scripts leave profiles alone, and the other way round.
	b.stub.Script("777", graphstub.Response{Status: 500})
	status, _ = get("777", "name", token)
	require.Equal(t, 200, status)
	b.stub.ScriptProfile("777", graphstub.Response{Code: 190})
	status, out = get("777", "name", token)
	require.Equal(t, 400, status)
	require.Equal(t, float64(190), out["error"].(map[string]any)["code"])
	status, _ = get("777", "name", token)
	require.Equal(t, 200, status)

	status, out = get("777", "email", token)
	require.Equal(t, 400, status)
	require.Equal(t, "(#100) Tried accessing nonexisting field (email) on node type (User)", out["error"].(map[string]any)["message"])

	// A profile with the wrong method.
	req, err := http.NewRequest(http.MethodGet, b.url+"/"+version+"/"+pageID+"/messages?appsecret_proof="+proof(token), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	var ge graphErr
	require.Equal(t, 400, do(t, req, &ge))
	require.Equal(t, 33, ge.Error.Subcode)
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	b := setup(t)

	live, cancel := b.stub.Subscribe()
	stalled, cancelStalled := b.stub.Subscribe() // never read
	defer cancelStalled()

	var mu sync.Mutex
	var hooked []string
	b.stub.OnSend(func(s graphstub.Sent) {
		mu.Lock()
		hooked = append(hooked, s.MessageID)
		mu.Unlock()
	})

	var ok map[string]string
	require.Equal(t, 200, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ok))
	select {
	case s := <-live:
		require.Equal(t, ok["message_id"], s.MessageID)
		require.Equal(t, "hi", s.Text)
	case <-time.After(5 * time.Second):
		t.Fatal("no send on the subscription")
	}
	mu.Lock()
	require.Equal(t, []string{ok["message_id"]}, hooked)
	mu.Unlock()

	cancel()
	cancel() // twice is fine
	_, open := <-live
	require.False(t, open)

	// The stalled subscriber fills up; sends go on regardless.
	b.stub.OnSend(nil)
	const n = 1100
	for range n {
		resp, err := http.DefaultClient.Do(b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
	}
	require.Len(t, b.stub.Sent(), n+1)
	require.Len(t, stalled, cap(stalled))

	b.stub.Close()
	for range stalled {
	}
}

func TestReset(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var ok map[string]string
	require.Equal(t, 200, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ok))
	require.Equal(t, "m_1", ok["message_id"])
	b.stub.Reset()
	require.Empty(t, b.stub.Sent())
	require.Empty(t, b.stub.SentTo("555"))

	require.Equal(t, 200, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ok))
	require.Equal(t, "m_2", ok["message_id"], "ids never repeat")
	require.Len(t, b.stub.SentTo("555"), 1)
}

func TestAcceptsAttachments(t *testing.T) {
	t.Parallel()
	b := setup(t)

	var ok map[string]string
	for _, typ := range []string{"image", "video", "audio", "file"} {
		require.Equal(t, http.StatusOK, do(t, b.postJSON(t, "/"+version+"/"+pageID+"/messages", map[string]any{
			"recipient":      map[string]string{"id": "557"},
			"messaging_type": "RESPONSE",
			"message": map[string]any{
				"attachment": map[string]any{"type": typ, "payload": map[string]any{"url": "https://cdn.example/f." + typ, "is_reusable": true}},
				"metadata":   "frontdesk:7",
			},
		}), &ok), typ)
	}
	// huandu's form encoding, with quick replies and over plain http.
	v := validForm()
	v.Set("message", `{"attachment":{"type":"image","payload":{"url":"http://cdn.example/p.png"}},"quick_replies":[{"content_type":"text","title":"Yes","payload":"Y"}]}`)
	require.Equal(t, http.StatusOK, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, v), &ok))

	sent := b.stub.Sent()
	require.Len(t, sent, 5)
	require.Equal(t, &graphstub.SentAttachment{Type: "image", URL: "https://cdn.example/f.image"}, sent[0].Attachment)
	require.Equal(t, &graphstub.SentAttachment{Type: "file", URL: "https://cdn.example/f.file"}, sent[3].Attachment)
	require.Empty(t, sent[0].Text)
	require.Equal(t, "frontdesk:7", sent[0].Metadata)
	require.Equal(t, &graphstub.SentAttachment{Type: "image", URL: "http://cdn.example/p.png"}, sent[4].Attachment)
	require.Equal(t, []graphstub.QuickReply{{ContentType: "text", Title: "Yes", Payload: "Y"}}, sent[4].QuickReplies)

	// A text message records no attachment.
	require.Equal(t, http.StatusOK, do(t, b.postForm(t, "/"+version+"/"+pageID+"/messages", token, validForm()), &ok))
	sent = b.stub.Sent()
	require.Len(t, sent, 6)
	require.Equal(t, "hi", sent[5].Text)
	require.Nil(t, sent[5].Attachment)
}

func TestValidatesAttachments(t *testing.T) {
	t.Parallel()
	b := setup(t)

	attachment := func(typ, url string) map[string]any {
		return map[string]any{"type": typ, "payload": map[string]any{"url": url, "is_reusable": true}}
	}
	tests := []struct {
		name    string
		message map[string]any
		subcode int
		want    string
	}{
		{name: "text and attachment", message: map[string]any{"text": "look", "attachment": attachment("image", "https://cdn.example/p.jpg")},
			subcode: 2018018, want: "(#100) Only one of text or attachment can be specified"},
		{name: "empty text and attachment", message: map[string]any{"text": "", "attachment": attachment("image", "https://cdn.example/p.jpg")},
			subcode: 2018018, want: "(#100) Only one of text or attachment can be specified"},
		{name: "javascript URL", message: map[string]any{"attachment": attachment("file", "javascript:alert(1)")}, want: "[payload][url] must be a valid http(s) URL"},
		{name: "relative URL", message: map[string]any{"attachment": attachment("image", "/p.jpg")}, want: "[payload][url] must be a valid http(s) URL"},
		{name: "ftp URL", message: map[string]any{"attachment": attachment("file", "ftp://files.example/a.pdf")}, want: "[payload][url] must be a valid http(s) URL"},
		{name: "no host", message: map[string]any{"attachment": attachment("file", "https:///a.pdf")}, want: "[payload][url] must be a valid http(s) URL"},
		{name: "no URL", message: map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{}}}, want: "[payload][url] is required"},
		{name: "template", message: map[string]any{"attachment": attachment("template", "https://cdn.example/p.jpg")}, want: "[attachment][type] must be one of {image, video, audio, file}"},
		{name: "no type", message: map[string]any{"attachment": attachment("", "https://cdn.example/p.jpg")}, want: "[attachment][type] must be one of"},
		{name: "attachment_id", message: map[string]any{"attachment": map[string]any{"type": "image", "payload": map[string]any{"attachment_id": "123"}}}, want: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ge graphErr
			require.Equal(t, http.StatusBadRequest, do(t, b.postJSON(t, "/"+version+"/"+pageID+"/messages", map[string]any{
				"recipient": map[string]string{"id": "1"}, "messaging_type": "RESPONSE", "message": tt.message,
			}), &ge))
			require.Equal(t, 100, ge.Error.Code)
			require.Equal(t, tt.subcode, ge.Error.Subcode)
			require.Contains(t, ge.Error.Message, tt.want)
		})
	}
	require.Empty(t, b.stub.Sent())
}

// TestBatch: a batch request's calls are served in order with the batch's
// token and proof, each answered with its own status, headers and body;
// the batch itself is checked as a single request is.
func TestBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.stub.Script("psid-2", graphstub.Response{Code: 551, Subcode: 1545041})

	call := func(recipient string) map[string]string {
		body := url.Values{
			"recipient":      {`{"id":"` + recipient + `"}`},
			"messaging_type": {"RESPONSE"},
			"message":        {`{"text":"hi ` + recipient + `"}`},
		}
		return map[string]string{"method": "POST", "relative_url": pageID + "/messages", "body": body.Encode()}
	}
	batchOf := func(calls ...map[string]string) url.Values {
		raw, err := json.Marshal(calls)
		require.NoError(t, err)
		return url.Values{"batch": {string(raw)}, "appsecret_proof": {proof(token)}}
	}

	var answers []struct {
		Code    int                 `json:"code"`
		Headers []map[string]string `json:"headers"`
		Body    string              `json:"body"`
	}
	status := do(t, b.postForm(t, "/"+version+"/", token, batchOf(call("psid-1"), call("psid-2"), call("psid-3"))), &answers)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, answers, 3)
	require.Equal(t, http.StatusOK, answers[0].Code)
	require.Contains(t, answers[0].Headers, map[string]string{"name": "Content-Type", "value": "application/json; charset=UTF-8"})
	require.Contains(t, answers[0].Body, `"message_id":"m_`)
	require.Equal(t, http.StatusBadRequest, answers[1].Code)
	require.Contains(t, answers[1].Body, `"code":551`)
	require.Equal(t, http.StatusOK, answers[2].Code)
	sent := b.stub.Sent()
	require.Len(t, sent, 2)
	require.Equal(t, "hi psid-1", sent[0].Text)
	require.Equal(t, "hi psid-3", sent[1].Text)
	require.Equal(t, []int{3}, b.stub.BatchSizes())

	// A call is checked as a request of its own: its own appsecret_proof
	// or access_token parameter is refused, and only that call fails.
	badProof, withToken := call("psid-5"), call("psid-6")
	badProof["body"] += "&appsecret_proof=" + proof("EAAOther")
	withToken["body"] += "&access_token=" + token
	status = do(t, b.postForm(t, "/"+version+"/", token, batchOf(badProof, withToken, call("psid-7"))), &answers)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, answers, 3)
	require.Equal(t, http.StatusBadRequest, answers[0].Code)
	require.Contains(t, answers[0].Body, "Invalid appsecret_proof")
	require.Equal(t, http.StatusBadRequest, answers[1].Code)
	require.Contains(t, answers[1].Body, "access_token must be sent in the Authorization header")
	require.Equal(t, http.StatusOK, answers[2].Code)
	require.Len(t, b.stub.SentTo("psid-7"), 1)
	require.Empty(t, b.stub.SentTo("psid-5"))
	require.Empty(t, b.stub.SentTo("psid-6"))
	sent = b.stub.Sent()

	// The batch request is refused as a whole, and nothing is sent, when…
	var gerr graphErr
	noProof := batchOf(call("psid-4"))
	noProof.Del("appsecret_proof")
	require.Equal(t, http.StatusBadRequest, do(t, b.postForm(t, "/"+version+"/", token, noProof), &gerr))
	require.Equal(t, 100, gerr.Error.Code, "…it has no appsecret_proof")
	require.Equal(t, http.StatusBadRequest, do(t, b.postForm(t, "/"+version+"/", "EAAUnknown", batchOf(call("psid-4"))), &gerr))
	require.Equal(t, 190, gerr.Error.Code, "…its token is unknown")
	var many []map[string]string
	for range 51 {
		many = append(many, call("psid-4"))
	}
	require.Equal(t, http.StatusBadRequest, do(t, b.postForm(t, "/"+version+"/", token, batchOf(many...)), &gerr))
	require.Contains(t, gerr.Error.Message, "Maximum batch size is 50", "…it has more than 50 calls")
	require.Equal(t, http.StatusBadRequest, do(t, b.postForm(t, "/"+version+"/", token, url.Values{"batch": {"{}"}, "appsecret_proof": {proof(token)}}), &gerr))
	require.Equal(t, 100, gerr.Error.Code, "…batch is not an array")
	require.Equal(t, sent, b.stub.Sent())
}
