package handoff_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/handoff/browsertest"
)

// browser starts a headless Chromium for the test (see browsertest.Start).
func browser(t *testing.T) (ctx context.Context, problems func() []string) {
	t.Helper()
	return browsertest.Start(t, 90*time.Second)
}

// do runs browser steps and fails the test on an error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, steps...))
}

func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return read(t, ctx, browsertest.Text(sel))
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

func TestBrowserAgentTakesAHandOffToResolution(t *testing.T) {
	t.Parallel()
	ctx, problems := browser(t)
	b := setup(t)
	b.agent(t, "Ana Lima", handoff.RoleAgent)

	// Sign in; the queue opens, empty, and goes live.
	do(t, ctx,
		chromedp.Navigate(b.url+"/console/queue"),
		visible(`#email`),
		chromedp.SendKeys(chromedp.CSS(`#email`), "ana.lima@shop.example"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
		visible(`#queue-live .empty`),
		visible(`body[data-live-state="on"]`),
	)

	// The bot hands a shopper off while the page is open.
	id, _ := b.conversation(t, handedOff{customer: "Vera <Shop>", order: "4711", reason: "damaged_item", priority: 1,
		messages: []string{"The vase arrived in pieces", "<script>alert('x')</script> I want a person"}})
	b.notify(t, "handoff", id)
	entry := fmt.Sprintf(`.entry[data-id="%d"]`, id)
	do(t, ctx, visible(entry))
	require.Equal(t, "Vera <Shop>", text(t, ctx, entry+` .who`))
	require.Equal(t, "#4711", text(t, ctx, entry+` .order`))
	require.Equal(t, "(1) Queue · Frontdesk", read(t, ctx, chromedp.Title()))

	// j selects it, c claims it and opens the thread.
	do(t, ctx,
		chromedp.KeyEvent("j"),
		visible(entry+`.selected`),
		chromedp.KeyEvent("c"),
		visible(`#thread-head[data-status="assigned"]`),
		visible(`body[data-live-state="on"]`),
	)
	require.Equal(t, "Assigned", text(t, ctx, `#conversation-status`))
	history := text(t, ctx, `#timeline`)
	require.Contains(t, history, "The vase arrived in pieces")
	require.Contains(t, history, "<script>alert('x')</script> I want a person", "shown as text")
	require.Contains(t, history, "Ana Lima claimed the conversation")

	// The shopper writes again; the thread shows it without a reload.
	_, err := b.pool.Exec(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind, platform, body, status)
		VALUES ($1, 'in', 'customer', 'message', 'messenger', 'Hello? Anyone there?', 'received')`, id)
	require.NoError(t, err)
	b.notify(t, "message", id)
	_ = read(t, ctx, chromedp.Poll[bool](`document.getElementById('timeline').textContent.includes('Hello? Anyone there?')`,
		chromedp.WithPollingTimeout(10*time.Second)))

	// A canned response, then a reply of one's own.
	do(t, ctx, chromedp.Click(chromedp.CSS(`[data-canned]`)))
	require.Equal(t, "Hi Vera, this is Ana from the support team. I'm looking into this for you now.",
		read(t, ctx, chromedp.Value(chromedp.CSS(`#reply-text`))))
	require.True(t, read(t, ctx, chromedp.Evaluate[bool](`(document.getElementById('reply-text').value = '') === ''`)))
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#reply-text`), "So sorry, Vera! A replacement is on its way."),
		chromedp.Click(chromedp.CSS(`#send`)),
		visible(`.flash.notice`),
		visible(`.msg.out.a-agent .delivery.d-queued`),
	)
	require.Equal(t, "So sorry, Vera! A replacement is on its way.", text(t, ctx, `.msg.out.a-agent .bubble`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))

	// An internal note.
	do(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#note-text`), "Replacement approved; no return needed"),
		chromedp.Click(chromedp.CSS(`#add-note`)),
		visible(`.timeline .note`),
	)
	require.Equal(t, "Replacement approved; no return needed", text(t, ctx, `.timeline .note .bubble`))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM notes WHERE conversation_id = $1`, id))

	// Resolve: the thread shows it resolved, the rating question queued.
	do(t, ctx,
		browsertest.Click(`#resolve`),
		visible(`#thread-head[data-status="resolved"]`),
	)
	require.Equal(t, "Resolved", text(t, ctx, `#conversation-status`))
	// The live update may show the resolved thread before the action's own
	// answer replaces the note's notice.
	require.True(t, read(t, ctx, chromedp.Poll[bool](
		`document.querySelector('.flash.notice').textContent.includes('satisfaction question')`,
		chromedp.WithPollingTimeout(10*time.Second))), "the notice says the satisfaction question was sent")
	require.Equal(t, "resolved", must(b.status(t, id)))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND author = 'bot'
		AND quick_replies @> '[{"payload": "CSAT_5"}]'`, id))

	// Back on the queue, nothing is waiting.
	do(t, ctx,
		chromedp.Navigate(b.url+"/console/queue"),
		visible(`#queue-live .empty`),
	)
	require.Empty(t, problems(), "the pages ran without script errors or policy violations")
}

// A live update that changes nothing leaves the region's elements in
// place, so an agent's text selection or open menu there survives it.
func TestBrowserLiveUpdateLeavesAnUnchangedRegionAlone(t *testing.T) {
	t.Parallel()
	ctx, problems := browser(t)
	b := setup(t)
	id := waltAndAna(t, b)
	do(t, ctx, signInAsAna(b)...)
	do(t, ctx,
		visible(`#queue-live`),
		chromedp.Navigate(fmt.Sprintf("%s/console/conversations/%d", b.url, id)),
		visible(`body[data-live-state="on"]`),
	)
	refreshes := func() int {
		return read(t, ctx, chromedp.Evaluate[int](`parseInt(document.body.dataset.refreshes, 10) || 0`))
	}
	waitRefreshes := func(n int) {
		t.Helper()
		_ = read(t, ctx, chromedp.Poll[bool](fmt.Sprintf(`(parseInt(document.body.dataset.refreshes, 10) || 0) >= %d`, n),
			chromedp.WithPollingTimeout(10*time.Second)))
	}
	waitRefreshes(1) // the catch-up after subscribing
	require.True(t, read(t, ctx, chromedp.Evaluate[bool](`(document.getElementById('thread-head').dataset.mark = 'kept') === 'kept'`)))

	n := refreshes()
	b.notify(t, "message", id)
	waitRefreshes(n + 1)
	require.Equal(t, "kept", read(t, ctx, chromedp.Evaluate[string](`document.getElementById('thread-head').dataset.mark || ''`)),
		"nothing changed, so nothing was replaced")

	// A real change is shown, and replaces the region.
	_, err := b.pool.Exec(context.Background(), `INSERT INTO messages (conversation_id, direction, author, kind, platform, body, status)
		VALUES ($1, 'in', 'customer', 'message', 'messenger', 'Still there?', 'received')`, id)
	require.NoError(t, err)
	n = refreshes()
	b.notify(t, "message", id)
	waitRefreshes(n + 1)
	require.Contains(t, text(t, ctx, `#timeline`), "Still there?")
	require.Empty(t, read(t, ctx, chromedp.Evaluate[string](`document.getElementById('thread-head').dataset.mark || ''`)))
	require.Empty(t, problems())
}

func TestBrowserPhoneLayout(t *testing.T) {
	t.Parallel()
	ctx, problems := browser(t)
	b := setup(t)
	id := waltAndAna(t, b)
	do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	do(t, ctx, signInAsAna(b)...)
	do(t, ctx, visible(fmt.Sprintf(`.entry[data-id="%d"]`, id)))
	overflow := `document.documentElement.scrollWidth > window.innerWidth`
	require.False(t, read(t, ctx, chromedp.Evaluate[bool](overflow)), "the queue fits a phone's width")
	do(t, ctx,
		chromedp.Navigate(fmt.Sprintf("%s/console/conversations/%d", b.url, id)),
		visible(`#reply-text`),
	)
	require.False(t, read(t, ctx, chromedp.Evaluate[bool](overflow)), "the thread fits a phone's width")
	require.Empty(t, problems())
}

// waltAndAna gives b an agent, Ana, and a conversation handed off by Walt,
// whose id it returns.
func waltAndAna(t *testing.T, b *testBundle) int64 {
	t.Helper()
	b.agent(t, "Ana", handoff.RoleAgent)
	id, _ := b.conversation(t, handedOff{customer: "Walt", messages: []string{"hi"}})
	return id
}

// signInAsAna signs the agent of waltAndAna in.
func signInAsAna(b *testBundle) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(b.url + "/console/login"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "ana@shop.example"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Click(chromedp.CSS(`#sign-in`)),
	}
}
