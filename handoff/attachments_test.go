package handoff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/handoff"
)

// storedAttachments reads the attachments of outbound message id.
func (b *testBundle) storedAttachments(t *testing.T, id int64) (body string, atts []conversation.Attachment) {
	t.Helper()
	var raw []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT body, attachments FROM messages WHERE id = $1 AND direction = 'out'`,
		id).Scan(&body, &raw))
	require.NoError(t, json.Unmarshal(raw, &atts))
	return body, atts
}

func TestRepliesCarryFilesByLink(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Kit", messages: []string{"where is my return label?"}})
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id)

	// Text and files; types given or inferred from the extension.
	resp := ana.api(http.MethodPost, path, map[string]any{
		"text": "Here is your label, and how to pack it.",
		"attachments": []map[string]string{
			{"url": "https://shop.example/labels/RMA-7.pdf"},
			{"url": "https://cdn.example/packing.JPG?size=large"},
			{"type": "video", "url": " https://cdn.example/how-to-pack "},
			{"url": "http://cdn.example/voice.m4a"},
		},
	})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	var res handoff.ReplyResult
	resp.json(t, &res)
	body, atts := b.storedAttachments(t, res.MessageID)
	require.Equal(t, "Here is your label, and how to pack it.", body)
	require.Equal(t, []conversation.Attachment{
		{Type: "file", URL: "https://shop.example/labels/RMA-7.pdf"},
		{Type: "image", URL: "https://cdn.example/packing.JPG?size=large"},
		{Type: "video", URL: "https://cdn.example/how-to-pack"},
		{Type: "audio", URL: "http://cdn.example/voice.m4a"},
	}, atts)

	// Files alone are a reply.
	resp = ana.api(http.MethodPost, path, map[string]any{"attachments": []map[string]string{{"url": "https://cdn.example/a.webp"}}})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	resp.json(t, &res)
	body, atts = b.storedAttachments(t, res.MessageID)
	require.Empty(t, body)
	require.Equal(t, []conversation.Attachment{{Type: "image", URL: "https://cdn.example/a.webp"}}, atts)

	// The console's form: one link a line, blank lines skipped, one type for all.
	page := ana.form(fmt.Sprintf("/console/conversations/%d/reply", id), url.Values{
		"text":            {""},
		"attachments":     {"https://cdn.example/unboxing.mp4\r\n\r\n  https://cdn.example/receipt  \r\n"},
		"attachment_type": {""},
	})
	require.Equal(t, http.StatusSeeOther, page.status, page.body)
	var last int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT max(id) FROM messages WHERE direction = 'out'`).Scan(&last))
	_, atts = b.storedAttachments(t, last)
	require.Equal(t, []conversation.Attachment{
		{Type: "video", URL: "https://cdn.example/unboxing.mp4"},
		{Type: "file", URL: "https://cdn.example/receipt"},
	}, atts)
	page = ana.form(fmt.Sprintf("/console/conversations/%d/reply", id), url.Values{
		"text": {"A photo"}, "attachments": {"https://cdn.example/photo"}, "attachment_type": {"image"},
	})
	require.Equal(t, http.StatusSeeOther, page.status, page.body)
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT max(id) FROM messages WHERE direction = 'out'`).Scan(&last))
	_, atts = b.storedAttachments(t, last)
	require.Equal(t, []conversation.Attachment{{Type: "image", URL: "https://cdn.example/photo"}}, atts)
	require.Equal(t, 4, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))

	// The thread shows the agent's files: images as images, the rest as links.
	page = ana.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `<img src="https://cdn.example/packing.JPG?size=large"`)
	require.Contains(t, page.body, `<a class="att" href="https://shop.example/labels/RMA-7.pdf" target="_blank" rel="noopener noreferrer">File</a>`)
	require.Contains(t, page.body, `<a class="att" href="https://cdn.example/how-to-pack" target="_blank" rel="noopener noreferrer">Video</a>`)
	// The form offers to attach by link.
	require.Contains(t, page.body, `<textarea name="attachments" id="reply-attachments"`)
	require.Contains(t, page.body, `<option value="audio">Audio</option>`)
}

func TestReplyAttachmentsAreValidated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Lu", messages: []string{"hello"}})
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id)

	link := func(u string) []map[string]string { return []map[string]string{{"url": u}} }
	eleven := make([]map[string]string, 11)
	for i := range eleven {
		eleven[i] = map[string]string{"url": fmt.Sprintf("https://cdn.example/%d.jpg", i)}
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{name: "javascript URL", body: map[string]any{"text": "hi", "attachments": link("javascript:alert(1)")}, want: "Attachment 1 must be a web link starting with https:// or http://."},
		{name: "javascript URL in capitals", body: map[string]any{"attachments": link("JavaScript:alert(1)//x.jpg")}, want: "must be a web link"},
		{name: "data URL", body: map[string]any{"attachments": link("data:image/png;base64,iVBORw0KGgo=")}, want: "must be a web link"},
		{name: "relative link", body: map[string]any{"attachments": link("/labels/1.pdf")}, want: "must be a web link"},
		{name: "no host", body: map[string]any{"attachments": link("https:///x.pdf")}, want: "must be a web link"},
		{name: "ftp", body: map[string]any{"attachments": link("ftp://files.example/x.pdf")}, want: "must be a web link"},
		{name: "credentials", body: map[string]any{"attachments": link("https://user:secret@files.example/x.pdf")}, want: "must not contain a user name or password"},
		{name: "too long", body: map[string]any{"attachments": link("https://cdn.example/" + strings.Repeat("a", 1990))}, want: "too long: at most 2000 characters"},
		{name: "11 attachments", body: map[string]any{"text": "hi", "attachments": eleven}, want: "A reply can have at most 10 attachments; this one has 11."},
		{name: "unknown type", body: map[string]any{"attachments": []map[string]string{{"type": "sticker", "url": "https://cdn.example/s.png"}}}, want: `unknown type "sticker"`},
		{name: "empty link", body: map[string]any{"text": "hi", "attachments": link("  ")}, want: "Attachment 1 has no link."},
		{name: "neither text nor file", body: map[string]any{"text": " ", "attachments": []map[string]string{}}, want: "Write a reply first."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := ana.api(http.MethodPost, path, tt.body)
			require.Equal(t, http.StatusUnprocessableEntity, resp.status, resp.body)
			var refusal handoff.Error
			resp.json(t, &refusal)
			require.Equal(t, handoff.CodeInvalid, refusal.Code)
			require.Contains(t, refusal.Message, tt.want)
		})
	}
	// Ten are fine; unknown fields are not.
	resp := ana.api(http.MethodPost, path, map[string]any{"attachments": eleven[:10]})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	resp = ana.api(http.MethodPost, path, map[string]any{"attachments": []map[string]string{{"url": "https://cdn.example/a.jpg", "title": "x"}}})
	require.Equal(t, http.StatusBadRequest, resp.status, resp.body)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`, id))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job`))

	// The page says why and keeps the draft, links and type included.
	page := ana.form(fmt.Sprintf("/console/conversations/%d/reply", id), url.Values{
		"text": {"Your label"}, "attachments": {"https://cdn.example/ok.pdf\njavascript:alert(1)"}, "attachment_type": {"file"},
	})
	require.Equal(t, http.StatusUnprocessableEntity, page.status)
	require.Contains(t, page.body, "Attachment 2 must be a web link starting with https:// or http://.")
	require.Contains(t, page.body, `<details class="attach" id="attach" open>`)
	require.Contains(t, page.body, "https://cdn.example/ok.pdf\njavascript:alert(1)</textarea>")
	require.Contains(t, page.body, `<option value="file" selected>File</option>`)
	require.NotContains(t, page.body, `href="javascript:`)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`, id))
}

func TestThreadShowsShoppersAttachmentsSafely(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Mo", messages: []string{"my vase arrived broken"}})
	_, err := b.pool.Exec(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind, platform, body, attachments, status)
		VALUES ($1, 'in', 'customer', 'message', 'messenger', '', $2, 'received')`, id, `[
			{"type":"image","url":"https://scontent.example/v/crack.jpg?oh=1&oe=2"},
			{"type":"video","url":"https://video.example/clip.mp4"},
			{"type":"file","url":"http://files.example/receipt.pdf","title":"receipt.pdf"},
			{"type":"image","url":"javascript:alert(1)"},
			{"type":"file","url":"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==","title":"evil"},
			{"type":"image","url":"https://cdn.example/a\"><script>alert(9)</script>.jpg"},
			{"type":"location","title":"Home"}]`)
	require.NoError(t, err)

	page := ana.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `<a class="att img" href="https://scontent.example/v/crack.jpg?oh=1&amp;oe=2" target="_blank" rel="noopener noreferrer">`+
		`<img src="https://scontent.example/v/crack.jpg?oh=1&amp;oe=2" alt="Image" loading="lazy"></a>`)
	require.Contains(t, page.body, `<a class="att" href="https://video.example/clip.mp4" target="_blank" rel="noopener noreferrer">Video</a>`)
	require.Contains(t, page.body, `<a class="att" href="http://files.example/receipt.pdf" target="_blank" rel="noopener noreferrer">receipt.pdf</a>`)
	// What is not a web link is named, not linked.
	require.NotContains(t, page.body, "javascript:")
	require.NotContains(t, page.body, "data:text/html")
	require.Contains(t, page.body, `<span class="att">Image</span>`)
	require.Contains(t, page.body, `<span class="att">File: evil</span>`)
	require.Contains(t, page.body, `<span class="att">Location: Home</span>`)
	require.NotContains(t, page.body, "<script>alert(9)")
	require.Contains(t, page.body, `<img src="https://cdn.example/a%22%3E%3Cscript%3Ealert%289%29%3C/script%3E.jpg"`)
	require.Equal(t, 1, strings.Count(page.body, "<script"), "only the console's own script tag")

	// Images come from the platforms' CDNs; nothing else loosens.
	csp := page.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "img-src 'self' https: data:")
	require.Contains(t, csp, "default-src 'self'")
	require.Contains(t, csp, "object-src 'none'")
	require.NotContains(t, csp, "unsafe-inline")

	// The API passes on web links only.
	var v handoff.ThreadView
	resp := ana.api(http.MethodGet, fmt.Sprintf("/api/v1/conversations/%d", id), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp.json(t, &v)
	var urls []string
	for _, e := range v.Timeline {
		for _, a := range e.Attachments {
			urls = append(urls, a.URL)
		}
	}
	require.Equal(t, []string{"https://scontent.example/v/crack.jpg?oh=1&oe=2", "https://video.example/clip.mp4",
		"http://files.example/receipt.pdf", "", "", "https://cdn.example/a%22%3E%3Cscript%3Ealert%289%29%3C/script%3E.jpg", ""}, urls)
}
