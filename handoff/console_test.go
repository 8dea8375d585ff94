package handoff_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/handoff"
	"github.com/frontdesk/frontdesk/store"
)

func TestTwoConcurrentClaimsExactlyOneWins(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	b.agent(t, "Bo", handoff.RoleAgent)
	ana, bo := b.signIn(t, "Ana"), b.signIn(t, "Bo")

	for round := range 10 {
		id, _ := b.conversation(t, handedOff{customer: fmt.Sprint("Shopper ", round), messages: []string{"help"}})
		path := fmt.Sprintf("/api/v1/conversations/%d/claim", id)
		var wg sync.WaitGroup
		results := make([]response, 2)
		start := make(chan struct{})
		for i, c := range []*client{ana, bo} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = c.api(http.MethodPost, path, nil)
			}()
		}
		close(start)
		wg.Wait()

		var won, lost []response
		for _, r := range results {
			switch r.status {
			case http.StatusOK:
				won = append(won, r)
			case http.StatusConflict:
				lost = append(lost, r)
			default:
				t.Fatalf("claim answered %d: %s", r.status, r.body)
			}
		}
		require.Len(t, won, 1, "round %d", round)
		require.Len(t, lost, 1, "round %d", round)
		var refusal handoff.Error
		lost[0].json(t, &refusal)
		require.Equal(t, handoff.CodeAlreadyClaimed, refusal.Code)
		require.Contains(t, refusal.Message, "already claimed")
		status, assignee := b.status(t, id)
		require.Equal(t, "assigned", status)
		require.NotNil(t, assignee)
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'claim' AND conversation_id = $1`, id))
	}
}

func TestClaimFromTheQueuePageOpensTheThread(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	b.agent(t, "Bo", handoff.RoleAgent)
	ana, bo := b.signIn(t, "Ana"), b.signIn(t, "Bo")
	id, _ := b.conversation(t, handedOff{customer: "Carla", messages: []string{"where is my parcel"}})

	resp := ana.form(fmt.Sprintf("/console/conversations/%d/claim", id), url.Values{"from": {"queue"}})
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	require.Equal(t, fmt.Sprintf("/console/conversations/%d?done=claimed", id), resp.header.Get("Location"))

	// The second agent stays on the queue, told who was faster.
	resp = bo.form(fmt.Sprintf("/console/conversations/%d/claim", id), url.Values{"from": {"queue"}, "qs": {"mine=1"}})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, "Ana already claimed this conversation.")
	require.Contains(t, resp.body, `id="queue-live"`)
}

func TestRolesAreCheckedOnEveryEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Root", handoff.RoleAdmin)
	b.agent(t, "Ana", handoff.RoleAgent)
	b.agent(t, "Sol", handoff.RoleSocial)
	admin, agent, social, nobody := b.signIn(t, "Root"), b.signIn(t, "Ana"), b.signIn(t, "Sol"), b.anonymous(t)
	id, _ := b.conversation(t, handedOff{customer: "Dee"})
	newAgent := map[string]any{"email": "eve@shop.example", "name": "Eve", "role": "admin", "password": "a long enough password"}

	// An agent cannot manage people or tokens, on pages or through the API.
	require.Equal(t, http.StatusForbidden, agent.get("/console/agents").status)
	require.Equal(t, http.StatusForbidden, agent.get("/console/tokens").status)
	require.Equal(t, http.StatusForbidden, agent.form("/console/agents", url.Values{"email": {"eve@shop.example"},
		"name": {"Eve"}, "role": {"admin"}, "password": {"a long enough password"}}).status)
	require.Equal(t, http.StatusForbidden, agent.api(http.MethodPost, "/api/v1/agents", newAgent).status)
	require.Equal(t, http.StatusForbidden, agent.api(http.MethodGet, "/api/v1/agents", nil).status)
	require.Equal(t, http.StatusForbidden, agent.api(http.MethodPatch, "/api/v1/agents/1", map[string]any{"role": "admin"}).status)
	require.Equal(t, http.StatusForbidden, agent.api(http.MethodPost, "/api/v1/tokens", map[string]any{"name": "x"}).status)
	require.Zero(t, b.count(t, `SELECT count(*) FROM agents WHERE email = 'eve@shop.example'`))
	// … but works the queue.
	require.Equal(t, http.StatusOK, agent.get("/console/queue").status)
	require.Equal(t, http.StatusOK, agent.api(http.MethodGet, "/api/v1/queue", nil).status)

	// Social sees nothing of the conversations yet.
	for _, path := range []string{"/console/queue", fmt.Sprintf("/console/conversations/%d", id)} {
		require.Equal(t, http.StatusForbidden, social.get(path).status, path)
	}
	require.Equal(t, http.StatusForbidden, social.api(http.MethodGet, "/api/v1/queue", nil).status)
	require.Equal(t, http.StatusForbidden, social.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)
	require.Equal(t, http.StatusForbidden, social.api(http.MethodGet, "/api/v1/events", nil).status)
	require.Equal(t, http.StatusOK, social.get("/console/comments").status)
	resp := social.get("/console/")
	require.Equal(t, "/console/comments", resp.header.Get("Location"))
	require.Equal(t, "queued", must(b.status(t, id)))

	// Nobody signed in: pages send to the sign-in page, the API says 401.
	resp = nobody.get("/console/queue?mine=1")
	require.Equal(t, http.StatusSeeOther, resp.status)
	require.Equal(t, "/console/login?next=%2Fconsole%2Fqueue%3Fmine%3D1", resp.header.Get("Location"))
	resp = nobody.api(http.MethodGet, "/api/v1/queue", nil)
	require.Equal(t, http.StatusUnauthorized, resp.status)
	require.Contains(t, resp.body, handoff.CodeUnauthenticated)
	require.Equal(t, http.StatusUnauthorized, nobody.form(fmt.Sprintf("/console/conversations/%d/claim", id), nil).status)

	// The admin does everything.
	require.Equal(t, http.StatusOK, admin.get("/console/agents").status)
	resp = admin.api(http.MethodPost, "/api/v1/agents", newAgent)
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	require.Equal(t, http.StatusOK, admin.get("/console/queue").status)
}

func TestCrossSitePostWithAValidSessionIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Eli"})
	claim := fmt.Sprintf("/console/conversations/%d/claim", id)

	// A form on another site, posting with the agent's cookie.
	resp := ana.form(claim, nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, resp.status)
	// An older browser without Sec-Fetch-Site.
	req, err := http.NewRequest(http.MethodPost, b.url+claim, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, ana.do(req).status)
	// The JSON API too.
	resp = ana.api(http.MethodPost, "/api/v1/conversations/"+fmt.Sprint(id)+"/claim", nil, "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, resp.status)
	require.Contains(t, resp.body, handoff.CodeCrossOrigin)
	status, assignee := b.status(t, id)
	require.Equal(t, "queued", status)
	require.Nil(t, assignee)

	// The console's own page may.
	require.Equal(t, http.StatusSeeOther, ana.form(claim, nil).status)
	require.Equal(t, "assigned", must(b.status(t, id)))
	// So may a sign-out typed into the address bar... but not one from elsewhere.
	require.Equal(t, http.StatusForbidden, ana.form("/console/logout", nil, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site").status)
	require.Equal(t, http.StatusOK, ana.get("/console/queue").status, "still signed in")
}

func TestShopperTextIsEscaped(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: `<img src=x onerror=alert(2)>`, order: `"><script>alert(3)</script>`,
		messages: []string{"hello", "<script>alert(1)</script>"}})

	for _, path := range []string{fmt.Sprintf("/console/conversations/%d", id), "/console/queue", fmt.Sprintf("/console/conversations/%d/live", id)} {
		resp := ana.get(path)
		require.Equal(t, http.StatusOK, resp.status, path)
		require.NotContains(t, resp.body, "<script>alert", path)
		require.NotContains(t, resp.body, "<img src=x", path)
		require.Contains(t, resp.body, "&lt;img src=x onerror=alert(2)&gt;", path)
	}
	resp := ana.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Contains(t, resp.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Equal(t, 1, strings.Count(resp.body, "<script"), "only the console's own script tag")
	require.Contains(t, resp.body, `<script src="/console/static/console.js?v=`)
	csp := resp.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "nosniff", resp.header.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", resp.header.Get("X-Frame-Options"))
}

func TestReplyQueuesAMessageAndItsSendJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Fay", messages: []string{"my mug arrived broken"}})
	live := ana.events("/api/v1/events")

	resp := ana.form(fmt.Sprintf("/console/conversations/%d/reply", id), url.Values{"text": {"  So sorry, Fay! A new one is on its way.\r\n"}})
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	require.Equal(t, fmt.Sprintf("/console/conversations/%d?done=sent", id), resp.header.Get("Location"))

	var msgID int64
	var body, author, status, platform string
	var agentID *int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id, body, author, status, platform, agent_id FROM messages
		WHERE conversation_id = $1 AND direction = 'out'`, id).Scan(&msgID, &body, &author, &status, &platform, &agentID))
	require.Equal(t, "So sorry, Fay! A new one is on its way.", body)
	require.Equal(t, "agent", author)
	require.Equal(t, "queued", status)
	require.Equal(t, "messenger", platform)
	require.Equal(t, anaID, *agentID)

	var args []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT args FROM river_job WHERE kind = 'send_messages'`).Scan(&args))
	var send struct {
		MessageIDs []int64 `json:"message_ids"`
	}
	require.NoError(t, json.Unmarshal(args, &send))
	require.Equal(t, []int64{msgID}, send.MessageIDs)

	// Replying to an unclaimed conversation claimed it, and was its first response.
	status, assignee := b.status(t, id)
	require.Equal(t, "assigned", status)
	require.Equal(t, anaID, *assignee)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM conversations WHERE id = $1 AND first_response_at IS NOT NULL`, id))
	live.next(t, about("assignment", id))
	live.next(t, about("message", id))

	// The thread shows it, queued.
	page := ana.get(fmt.Sprintf("/console/conversations/%d?done=sent", id))
	require.Contains(t, page.body, "So sorry, Fay! A new one is on its way.")
	require.Contains(t, page.body, `class="delivery d-queued"`)
	require.Contains(t, page.body, "Reply queued for sending.")

	// Through the API, as well; empty replies are refused.
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "Tracking: 1Z999"})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	var res handoff.ReplyResult
	resp.json(t, &res)
	require.NotZero(t, res.MessageID)
	require.False(t, res.HumanAgentTag)
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages'`))
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "   "})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
}

func TestReplyToAConversationSomeoneElseHoldsIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	boID := b.agent(t, "Bo", handoff.RoleAgent)
	ana, bo := b.signIn(t, "Ana"), b.signIn(t, "Bo")
	id, _ := b.conversation(t, handedOff{customer: "Gil"})
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)

	resp := bo.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "hi"})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, handoff.CodeHeldByOther)
	require.Contains(t, resp.body, "Ana holds this conversation")

	// A transfer makes it Bo's.
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/assign", id), map[string]any{"agent_id": boID})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'transfer' AND conversation_id = $1
		AND details->>'from' = 'Ana' AND details->>'to' = 'Bo'`, id))
	resp = bo.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "hi"})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)

	// Unassigning puts it back in the queue.
	resp = bo.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/unassign", id), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	status, assignee := b.status(t, id)
	require.Equal(t, "queued", status)
	require.Nil(t, assignee)
	page := ana.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Contains(t, page.body, "Bo put the conversation back in the queue")
	require.Contains(t, page.body, "Ana transferred the conversation from Ana to Bo")
}

func TestRepliesOutsideThePlatformWindowAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	now := time.Now()

	closed, _ := b.conversation(t, handedOff{customer: "Hal", lastInbound: now.Add(-8 * 24 * time.Hour), messages: []string{"hello?"}})
	resp := ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", closed), map[string]string{"text": "Sorry for the wait"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	var refusal handoff.Error
	resp.json(t, &refusal)
	require.Equal(t, handoff.CodeWindowClosed, refusal.Code)
	require.Contains(t, refusal.Message, "Window closed")
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`, closed))
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job`))
	require.Equal(t, "queued", must(b.status(t, closed)), "a refused reply claims nothing")

	// The page keeps the draft and says why; it offers no reply box on load.
	page := ana.form(fmt.Sprintf("/console/conversations/%d/reply", closed), url.Values{"text": {"Sorry for the wait"}})
	require.Equal(t, http.StatusUnprocessableEntity, page.status)
	require.Contains(t, page.body, "Window closed")
	page = ana.get(fmt.Sprintf("/console/conversations/%d", closed))
	require.NotContains(t, page.body, `id="reply-form"`)
	require.Contains(t, page.body, `class="window w-closed"`)

	tagged, _ := b.conversation(t, handedOff{customer: "Ida", platform: "instagram", lastInbound: now.Add(-3 * 24 * time.Hour)})
	page = ana.get(fmt.Sprintf("/console/conversations/%d", tagged))
	require.Contains(t, page.body, "HUMAN_AGENT tag")
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", tagged), map[string]string{"text": "Still here!"})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	var res handoff.ReplyResult
	resp.json(t, &res)
	require.True(t, res.HumanAgentTag)
	require.Equal(t, handoff.WindowHumanAgent, res.Window.State)

	// A store without the HUMAN_AGENT tag cannot reply after 24 hours.
	strict := setup(t, func(d *handoff.Deps) { d.Config.HumanAgentTag = false })
	strict.agent(t, "Ana", handoff.RoleAgent)
	id, _ := strict.conversation(t, handedOff{customer: "Jo", lastInbound: now.Add(-30 * time.Hour)})
	resp = strict.signIn(t, "Ana").api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "hi"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
	require.Contains(t, resp.body, handoff.CodeWindowClosed)
}

func TestResolveQueuesTheSatisfactionQuestion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Kim", messages: []string{"thanks, all good"}})
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)

	resp := ana.form(fmt.Sprintf("/console/conversations/%d/resolve", id), nil)
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	require.Equal(t, fmt.Sprintf("/console/conversations/%d?done=resolved", id), resp.header.Get("Location"))

	var status string
	var resolvedBy *int64
	var resolvedAt, csatAt *time.Time
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, resolved_by, resolved_at, csat_requested_at
		FROM conversations WHERE id = $1`, id).Scan(&status, &resolvedBy, &resolvedAt, &csatAt))
	require.Equal(t, "resolved", status)
	require.Equal(t, anaID, *resolvedBy)
	require.NotNil(t, resolvedAt)
	require.NotNil(t, csatAt)

	var msgID int64
	var author, body string
	var quickReplies []byte
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id, author, body, quick_replies FROM messages
		WHERE conversation_id = $1 AND direction = 'out' AND status = 'queued'`, id).Scan(&msgID, &author, &body, &quickReplies))
	require.Equal(t, "bot", author)
	require.Equal(t, handoff.DefaultCSATQuestion, body)
	var qr []struct{ Title, Payload string }
	require.NoError(t, json.Unmarshal(quickReplies, &qr))
	require.Len(t, qr, 5)
	for i, q := range qr {
		require.Equal(t, fmt.Sprint(i+1), q.Title)
		require.Equal(t, fmt.Sprintf("CSAT_%d", i+1), q.Payload)
	}
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM river_job WHERE kind = 'send_messages' AND args->'message_ids' = $1::jsonb`,
		fmt.Sprintf("[%d]", msgID)))

	page := ana.get(fmt.Sprintf("/console/conversations/%d?done=resolved", id))
	require.Contains(t, page.body, `id="conversation-status">Resolved<`)
	require.Contains(t, page.body, "Ana resolved the conversation and asked for a rating")
	// Resolving twice is refused.
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/resolve", id), nil)
	require.Equal(t, http.StatusConflict, resp.status)

	// After 24 hours the platform takes no bot message: resolved, not asked.
	old, _ := b.conversation(t, handedOff{customer: "Lu", lastInbound: time.Now().Add(-30 * time.Hour)})
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/resolve", old), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	var out struct {
		Conversation handoff.ConversationInfo `json:"conversation"`
		Result       handoff.ResolveResult    `json:"result"`
	}
	resp.json(t, &out)
	require.Equal(t, "resolved", out.Conversation.Status)
	require.False(t, out.Result.CSATQueued)
	require.Equal(t, "window", out.Result.CSATSkipped)
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`, old))
}

func TestHandBackAndTakeOver(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Max"})
	_, err := b.pool.Exec(context.Background(), `UPDATE conversations SET flow = 'menu', flow_state = 'handed_off' WHERE id = $1`, id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)

	resp := ana.form(fmt.Sprintf("/console/conversations/%d/handback", id), nil)
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	var status, flowState string
	var assignee *int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT status, assignee_id, flow_state FROM conversations WHERE id = $1`, id).
		Scan(&status, &assignee, &flowState))
	require.Equal(t, "bot", status)
	require.Nil(t, assignee)
	require.Empty(t, flowState, "the bot starts over")

	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/messages", id), map[string]string{"text": "hi"})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, handoff.CodeNotHandedOff)

	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/takeover", id), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	st, who := b.status(t, id)
	require.Equal(t, "assigned", st)
	require.Equal(t, anaID, *who)
}

func TestLiveEventsReachTheStreamAfterANotify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	first := ana.events("/console/events")
	second := ana.events("/api/v1/events")

	// What the conversation service announces, from any process.
	b.notify(t, "handoff", 4242)
	first.next(t, about("handoff", 4242))
	second.next(t, about("handoff", 4242))

	// The console's own actions announce themselves when they commit.
	id, _ := b.conversation(t, handedOff{customer: "Ned"})
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)
	first.next(t, about("assignment", id))
	require.Equal(t, http.StatusCreated, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/notes", id), map[string]string{"text": "VIP"}).status)
	first.next(t, about("message", id))
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/resolve", id), nil).status)
	first.next(t, about("status", id))
}

func TestNotesAreInternal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Oli"})
	resp := ana.form(fmt.Sprintf("/console/conversations/%d/notes", id), url.Values{"text": {"Refund approved by the manager"}})
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM notes WHERE conversation_id = $1`, id))
	require.Zero(t, b.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'out'`, id))
	require.Zero(t, b.count(t, `SELECT count(*) FROM river_job`))
	page := ana.get(fmt.Sprintf("/console/conversations/%d", id))
	require.Contains(t, page.body, "Refund approved by the manager")
	require.Contains(t, page.body, "Note · Ana")
	require.Equal(t, "queued", must(b.status(t, id)), "a note claims nothing")
}

func TestQueueOrderFiltersAndSearch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	now := time.Now()
	oldNormal, _ := b.conversation(t, handedOff{customer: "Old Normal", lastInbound: now.Add(-3 * time.Hour), messages: []string{"hello"}})
	newNormal, _ := b.conversation(t, handedOff{customer: "New Normal", lastInbound: now.Add(-10 * time.Minute), order: "1001",
		messages: []string{"about my order"}})
	high, _ := b.conversation(t, handedOff{customer: "Urgent", priority: 2, reason: "chargeback", lastInbound: now.Add(-time.Minute),
		platform: "instagram", messages: []string{"I will dispute the charge"}})
	chat, _ := b.conversation(t, handedOff{customer: "Chatty", platform: "whatsapp", lastInbound: now.Add(-5 * time.Minute)})
	b.conversation(t, handedOff{customer: "Bot Only", status: "bot"})

	var q handoff.QueueView
	resp := ana.api(http.MethodGet, "/api/v1/queue", nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp.json(t, &q)
	ids := []int64{}
	for _, e := range q.Entries {
		ids = append(ids, e.ConversationID)
	}
	require.Equal(t, []int64{high, oldNormal, newNormal, chat}, ids, "priority first, then the longest wait")
	byID := map[int64]handoff.QueueEntry{}
	for _, e := range q.Entries {
		byID[e.ConversationID] = e
	}
	require.True(t, byID[oldNormal].Waiting.Breached, "3h against messenger's 1h")
	require.False(t, byID[newNormal].Waiting.Breached)
	require.True(t, byID[chat].Waiting.Breached, "5m against the 2m chat target")
	require.Equal(t, "1001", byID[newNormal].Order)
	require.Equal(t, "instagram", byID[high].Channel)
	require.Equal(t, "chargeback", byID[high].Reason)
	require.Equal(t, 4, q.Counts.Unassigned)
	require.Equal(t, 2, q.Counts.Breached)

	query := func(qs string) []int64 {
		var v handoff.QueueView
		r := ana.api(http.MethodGet, "/api/v1/queue?"+qs, nil)
		require.Equal(t, http.StatusOK, r.status, r.body)
		r.json(t, &v)
		out := []int64{}
		for _, e := range v.Entries {
			out = append(out, e.ConversationID)
		}
		return out
	}
	require.Equal(t, []int64{high}, query("channel=instagram"))
	require.Equal(t, []int64{high}, query("priority=2"))
	require.Equal(t, []int64{high}, query("reason=chargeback"))
	require.Equal(t, []int64{newNormal}, query("q=%231001"), "order number, with or without #")
	require.Equal(t, []int64{high}, query("q=DISPUTE"), "message text, any case")
	require.Equal(t, []int64{oldNormal}, query("q=old+norm"), "customer name")
	require.Equal(t, []int64{}, query("q=%25"), "wildcards match themselves")

	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", chat), nil).status)
	require.Equal(t, []int64{chat}, query("mine=1"))
	require.Equal(t, []int64{high, oldNormal, newNormal}, query("unassigned=1"))
	require.Len(t, query("status=all"), 5)
	require.Equal(t, http.StatusUnprocessableEntity, ana.api(http.MethodGet, "/api/v1/queue?status=nope", nil).status)

	// The page shows the same, the breached ones marked.
	page := ana.get("/console/queue")
	require.Contains(t, page.body, fmt.Sprintf(`class="entry p0 s-queued breached" data-id="%d"`, oldNormal))
	require.Contains(t, page.body, fmt.Sprintf(`class="entry p0 s-assigned breached mine" data-id="%d"`, chat))
	_ = anaID
}

func TestThreadShowsTheWholeHistoryAcrossChannels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	ctx := context.Background()
	now := time.Now()
	past, customer := b.conversation(t, handedOff{customer: "Pia", status: "resolved", lastInbound: now.Add(-48 * time.Hour),
		messages: []string{"first contact on messenger"}})
	current, _ := b.conversation(t, handedOff{customerID: customer, customer: "Pia", platform: "instagram", order: "2002",
		messages: []string{"now on instagram"}})
	_, err := b.pool.Exec(ctx, `INSERT INTO messages (conversation_id, direction, author, kind, platform, body, attachments, status, created_at)
		VALUES ($1, 'in', 'customer', 'message', 'instagram', 'see photo', '[{"type":"image","url":"https://cdn.example/p.jpg"},{"type":"file","url":"javascript:alert(1)","title":"bad"}]', 'received', $2),
		       ($1, 'out', 'bot', 'message', 'instagram', 'A person will help you', '[]', 'delivered', $3),
		       ($1, 'out', 'agent', 'message', 'instagram', 'this one failed', '[]', 'failed', $3)`, current, now.Add(-30*time.Second), now.Add(-20*time.Second))
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE messages SET failure_reason = 'the messaging window has closed' WHERE body = 'this one failed'`)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO returns (rma, order_number, conversation_id, skus, reason) VALUES ('RMA-7', '2002', NULL, '{MUG-1}', 'too small')`)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `INSERT INTO damage_cases (order_number, conversation_id, sku, description, evidence_urls, value)
		VALUES ('9999', $1, 'VASE-2', 'cracked', '{https://cdn.example/crack.jpg}', 2599)`, current)
	require.NoError(t, err)

	var v handoff.ThreadView
	resp := ana.api(http.MethodGet, fmt.Sprintf("/api/v1/conversations/%d", current), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp.json(t, &v)
	var texts []string
	for _, e := range v.Timeline {
		if e.Kind == "message" {
			texts = append(texts, e.Channel+": "+e.Text)
		}
	}
	require.Equal(t, []string{"messenger: first contact on messenger", "instagram: now on instagram", "instagram: see photo",
		"instagram: A person will help you", "instagram: this one failed"}, texts)
	require.ElementsMatch(t, []int64{past, current}, v.ConversationIDs)
	require.Equal(t, "2002", v.Summary.Order)
	require.Len(t, v.Returns, 1)
	require.Equal(t, "RMA-7", v.Returns[0].RMA)
	require.Len(t, v.DamageCases, 1)
	require.Equal(t, []string{"https://cdn.example/crack.jpg"}, v.DamageCases[0].EvidenceURLs)
	require.Len(t, v.Customer.Identities, 2)

	page := ana.get(fmt.Sprintf("/console/conversations/%d", current))
	require.Contains(t, page.body, `<img src="https://cdn.example/p.jpg"`)
	require.NotContains(t, page.body, "javascript:alert")
	require.Contains(t, page.body, "Failed: the messaging window has closed")
	require.Contains(t, page.body, "RMA-7")
	require.Contains(t, page.body, "25.99")
	require.Contains(t, page.body, fmt.Sprintf(`href="/console/conversations/%d">Conversation #%d</a> · Messenger`, past, past))
	require.Contains(t, page.body, "Hi Pia, this is Ana from the support team.", "canned responses are filled")
}

func TestLinkingCustomersMergesTheirHistories(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	b.agent(t, "Sol", handoff.RoleSocial)
	ana := b.signIn(t, "Ana")
	here, into := b.conversation(t, handedOff{customer: "Quinn Ray", messages: []string{"on messenger"}})
	there, from := b.conversation(t, handedOff{customer: "Quinn Ray", platform: "instagram", status: "resolved", messages: []string{"on instagram"}})

	page := ana.get(fmt.Sprintf("/console/conversations/%d", here))
	require.Contains(t, page.body, fmt.Sprintf(`name="from_customer_id" value="%d"`, from), "a customer of the same name is suggested")

	require.Equal(t, http.StatusForbidden, b.signIn(t, "Sol").api(http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/link", into),
		map[string]any{"from_customer_id": from}).status)

	resp := ana.form(fmt.Sprintf("/console/customers/%d/link", into), url.Values{"conversation_id": {fmt.Sprint(here)}, "from_customer_id": {fmt.Sprint(from)}})
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM identities WHERE customer_id = $1`, into))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM conversations WHERE customer_id = $1`, into))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM customers WHERE id = $1 AND merged_into = $2`, from, into))
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM audit_log WHERE action = 'link_customers' AND customer_id = $1
		AND (details->>'from_customer_id')::bigint = $2 AND agent_id IS NOT NULL`, into, from))

	page = ana.get(fmt.Sprintf("/console/conversations/%d", here))
	require.Contains(t, page.body, "on instagram")
	require.Contains(t, page.body, fmt.Sprintf("Ana linked customer #%d to this customer", from))
	_ = there

	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/link", into), map[string]any{"from_customer_id": from})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, handoff.CodeAlreadyMerged)
	resp = ana.api(http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/link", into), map[string]any{"from_customer_id": into})
	require.Equal(t, http.StatusUnprocessableEntity, resp.status)
}

func TestSignInIsRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t, func(d *handoff.Deps) { d.Config.SignInLimit = 3 })
	b.agent(t, "Ana", handoff.RoleAgent)
	c := b.anonymous(t)
	attempt := func(pw string) response {
		return c.form("/console/login", url.Values{"email": {"ANA@shop.example "}, "password": {pw}})
	}
	for range 3 {
		resp := attempt("wrong password!")
		require.Equal(t, http.StatusUnauthorized, resp.status)
		require.Contains(t, resp.body, "The e-mail address or the password is wrong.")
	}
	resp := attempt(password)
	require.Equal(t, http.StatusTooManyRequests, resp.status, "even the right password waits")
	require.Contains(t, resp.body, "Too many failed sign-ins. Try again in 15 minutes.")

	// The window passes.
	b.clock.Set(time.Now().Add(16 * time.Minute))
	resp = attempt(password)
	require.Equal(t, http.StatusSeeOther, resp.status, resp.body)
	b.clock.Set(time.Time{})

	// An unknown address answers like a wrong password.
	resp = c.form("/console/login", url.Values{"email": {"nobody@shop.example"}, "password": {password}})
	require.Equal(t, http.StatusUnauthorized, resp.status)
	require.Contains(t, resp.body, "The e-mail address or the password is wrong.")
}

func TestSessionsAndSignOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	c := b.anonymous(t)
	resp := c.form("/console/login", url.Values{"email": {"ana@shop.example"}, "password": {password},
		"next": {"/console/queue?mine=1"}})
	require.Equal(t, http.StatusSeeOther, resp.status)
	require.Equal(t, "/console/queue?mine=1", resp.header.Get("Location"))
	cookie := resp.header.Get("Set-Cookie")
	require.Contains(t, cookie, "frontdesk_session=fds_")
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	require.NotContains(t, strings.ToLower(cookie), "secure", "plain HTTP in tests")
	require.Equal(t, 1, b.count(t, `SELECT count(*) FROM agent_sessions WHERE length(token_hash) = 32`))
	token := strings.TrimPrefix(strings.Split(cookie, ";")[0], "frontdesk_session=")
	require.Zero(t, b.count(t, `SELECT count(*) FROM agent_sessions WHERE token_hash = $1::bytea`, []byte(token)), "only a digest is stored")

	// A next pointing elsewhere is ignored.
	resp = c.form("/console/login", url.Values{"email": {"ana@shop.example"}, "password": {password}, "next": {"//evil.example/"}})
	require.Equal(t, "/console/queue", resp.header.Get("Location"))

	require.Equal(t, http.StatusOK, c.get("/console/queue").status)
	resp = c.form("/console/logout", nil)
	require.Equal(t, http.StatusSeeOther, resp.status)
	require.Equal(t, http.StatusSeeOther, c.get("/console/queue").status, "signed out")
	require.Zero(t, b.count(t, `SELECT count(*) FROM agent_sessions`), "signing in again ended the first session; signing out the second")

	// Deactivating an agent ends their sessions at once, and what they
	// held goes back to the queue.
	b.agent(t, "Root", handoff.RoleAdmin)
	admin := b.signIn(t, "Root")
	ana := b.signIn(t, "Ana")
	held, _ := b.conversation(t, handedOff{customer: "Uma"})
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", held), nil).status)
	var anaID int64
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM agents WHERE name = 'Ana'`).Scan(&anaID))
	resp = admin.api(http.MethodPatch, fmt.Sprintf("/api/v1/agents/%d", anaID), map[string]any{"active": false})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, http.StatusUnauthorized, ana.api(http.MethodGet, "/api/v1/me", nil).status)
	status, assignee := b.status(t, held)
	require.Equal(t, "queued", status)
	require.Nil(t, assignee)

	secure := setup(t, func(d *handoff.Deps) { d.SecureCookies = true })
	secure.agent(t, "Ana", handoff.RoleAgent)
	resp = secure.anonymous(t).form("/console/login", url.Values{"email": {"ana@shop.example"}, "password": {password}})
	require.Contains(t, resp.header.Get("Set-Cookie"), "__Host-frontdesk_session=")
	require.Contains(t, strings.ToLower(resp.header.Get("Set-Cookie")), "; secure")
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Root", handoff.RoleAdmin)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	admin := b.signIn(t, "Root")
	id, _ := b.conversation(t, handedOff{customer: "Rui"})

	resp := admin.api(http.MethodPost, "/api/v1/tokens", map[string]any{"name": "Helpdesk sync", "agent_id": anaID, "expires_in_days": 30})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	var created struct {
		Token string            `json:"token"`
		Info  handoff.TokenInfo `json:"info"`
	}
	resp.json(t, &created)
	require.True(t, strings.HasPrefix(created.Token, "fda_"))
	require.Equal(t, "Ana", created.Info.Agent.Name)

	bot := b.anonymous(t)
	bearer := []string{"Authorization", "Bearer " + created.Token}
	resp = bot.api(http.MethodGet, "/api/v1/me", nil, bearer...)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Contains(t, resp.body, `"role":"agent"`)
	resp = bot.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil, bearer...)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	_, assignee := b.status(t, id)
	require.Equal(t, anaID, *assignee, "the token acts as its agent")
	require.Equal(t, http.StatusForbidden, bot.api(http.MethodGet, "/api/v1/agents", nil, bearer...).status, "with the agent's role")
	require.Equal(t, http.StatusSeeOther, bot.get("/console/queue").status, "tokens do not open the HTML console")

	resp = admin.api(http.MethodDelete, fmt.Sprintf("/api/v1/tokens/%d", created.Info.ID), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	resp = bot.api(http.MethodGet, "/api/v1/me", nil, bearer...)
	require.Equal(t, http.StatusUnauthorized, resp.status)
	require.Contains(t, resp.body, "revoked")
	require.Equal(t, http.StatusUnauthorized, bot.api(http.MethodGet, "/api/v1/me", nil, "Authorization", "Bearer nonsense").status)

	// The page shows a new token once.
	page := admin.form("/console/tokens", url.Values{"name": {"Reports"}, "agent_id": {fmt.Sprint(anaID)}, "expires_in_days": {"0"}})
	require.Equal(t, http.StatusCreated, page.status, page.body)
	require.Contains(t, page.body, `<code id="new-token">fda_`)
	require.NotContains(t, admin.get("/console/tokens").body, `id="new-token"`)
}

func TestTheLastAdminStays(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rootID := b.agent(t, "Root", handoff.RoleAdmin)
	admin := b.signIn(t, "Root")
	resp := admin.api(http.MethodPatch, fmt.Sprintf("/api/v1/agents/%d", rootID), map[string]any{"role": "agent"})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, handoff.CodeLastAdmin)
	resp = admin.form(fmt.Sprintf("/console/agents/%d", rootID), url.Values{"status": {"deactivated"}})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, "last active admin")

	resp = admin.api(http.MethodPost, "/api/v1/agents", map[string]any{"email": "Two@Shop.example", "name": "Two", "role": "admin", "password": "another long password"})
	require.Equal(t, http.StatusCreated, resp.status, resp.body)
	require.Contains(t, resp.body, `"email":"two@shop.example"`)
	resp = admin.api(http.MethodPost, "/api/v1/agents", map[string]any{"email": "two@shop.example", "name": "Dup", "role": "agent", "password": "another long password"})
	require.Equal(t, http.StatusConflict, resp.status)
	require.Contains(t, resp.body, handoff.CodeEmailTaken)
	resp = admin.api(http.MethodPatch, fmt.Sprintf("/api/v1/agents/%d", rootID), map[string]any{"role": "agent"})
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	require.Equal(t, http.StatusForbidden, admin.get("/console/agents").status, "demoted, at once")
}

func TestAPIRequestsAreStrict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	ana := b.signIn(t, "Ana")
	id, _ := b.conversation(t, handedOff{customer: "Sam"})
	path := fmt.Sprintf("/api/v1/conversations/%d/messages", id)
	require.Equal(t, http.StatusBadRequest, ana.api(http.MethodPost, path, map[string]any{"txt": "typo"}).status)
	req, err := http.NewRequest(http.MethodPost, b.url+path, strings.NewReader("text=hi"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusUnsupportedMediaType, ana.do(req).status)
	require.Equal(t, http.StatusNotFound, ana.api(http.MethodPost, "/api/v1/conversations/999999/claim", nil).status)
	require.Equal(t, http.StatusNotFound, ana.get("/console/conversations/999999").status)
}

func must[T any](v T, _ ...any) T { return v }

func TestAReopenedConversationComesBackUnclaimed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	anaID := b.agent(t, "Ana", handoff.RoleAgent)
	boID := b.agent(t, "Bo", handoff.RoleAgent)
	ana, bo := b.signIn(t, "Ana"), b.signIn(t, "Bo")
	ctx := context.Background()
	id, _ := b.conversation(t, handedOff{customer: "Tess"})
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil).status)
	require.Equal(t, http.StatusOK, ana.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/resolve", id), nil).status)
	var resolvedBy int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT resolved_by FROM conversations WHERE id = $1`, id).Scan(&resolvedBy))
	require.Equal(t, anaID, resolvedBy)

	// The shopper writes again (the conversation service reopens it for
	// the bot), and the bot hands off once more.
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = store.ReopenConversation(ctx, tx, id, time.Now())
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))
	_, err = b.pool.Exec(ctx, `UPDATE conversations SET status = 'queued', handed_off_at = now() WHERE id = $1`, id)
	require.NoError(t, err)

	var q handoff.QueueView
	resp := bo.api(http.MethodGet, "/api/v1/queue?unassigned=1", nil)
	resp.json(t, &q)
	require.Len(t, q.Entries, 1)
	require.Nil(t, q.Entries[0].Assignee)
	resp = bo.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	_, assignee := b.status(t, id)
	require.Equal(t, boID, *assignee)
}

func TestLiveEventsCrossProcesses(t *testing.T) {
	t.Parallel()
	one := setup(t)
	two := one.anotherProcess(t)
	one.agent(t, "Ana", handoff.RoleAgent)
	one.agent(t, "Bo", handoff.RoleAgent)
	ana, bo := one.signIn(t, "Ana"), two.signIn(t, "Bo")
	anaLive := ana.events("/console/events")
	boLive := bo.events("/console/events")

	id, _ := one.conversation(t, handedOff{customer: "Vic"})
	resp := bo.api(http.MethodPost, fmt.Sprintf("/api/v1/conversations/%d/claim", id), nil)
	require.Equal(t, http.StatusOK, resp.status, resp.body)
	anaLive.next(t, about("assignment", id))
	boLive.next(t, about("assignment", id))
}

func TestTheListenerReconnects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.agent(t, "Ana", handoff.RoleAgent)
	live := b.signIn(t, "Ana").events("/api/v1/events")

	// The listening connection dies (a failover, an idle-connection killer).
	var killed int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query ILIKE 'LISTEN%'`).Scan(&killed))
	require.Equal(t, 1, killed, "one listening connection per process")

	// It comes back and says so: pages refresh for what they missed.
	live.next(t, func(ev map[string]any) bool { return ev["type"] == "ready" })
	b.notify(t, "message", 77)
	live.next(t, about("message", 77))
}
