package handoff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/handoff/auth"
	"github.com/frontdesk/frontdesk/store"
)

// notices are the confirmations a page shows after an action redirected
// to it (?done=code). Only these fixed texts can appear, so a link cannot
// make the console say something else.
var notices = map[string]string{
	"claimed":          "You have this conversation now.",
	"sent":             "Reply queued for sending.",
	"sent_tagged":      "Reply queued for sending, with the HUMAN_AGENT tag.",
	"noted":            "Note added. Only agents see it.",
	"resolved":         "Resolved. The satisfaction question is on its way.",
	"resolved_skipped": "Resolved, without asking for a rating.",
	"resolved_window": "Resolved. The satisfaction question was not sent: it is more than 24 hours since the " +
		"shopper's last message.",
	"resolved_nocsat":  "Resolved.",
	"handed_back":      "Handed back to the bot. It answers the shopper's next message.",
	"assigned":         "Assignment changed.",
	"unassigned":       "Back in the queue.",
	"taken_over":       "You took the conversation over from the bot.",
	"linked":           "Customers linked: their histories are one now.",
	"agent_created":    "Agent added.",
	"agent_updated":    "Agent updated.",
	"token_revoked":    "Token revoked. It stops working at once.",
	"password_changed": "Password changed. Your other sessions were signed out.",
}

func (h *handler) errorPage(c *fiber.Ctx, a *Actor, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		zerolog.Ctx(c.UserContext()).Error().Err(err).Str("path", c.Path()).Msg("Console page failed")
		e = &Error{Status: http.StatusInternalServerError, Message: "Something went wrong. Try again in a moment."}
	}
	if e.Status == http.StatusUnauthorized {
		return h.renderLogin(c, e.Status, e.Message, "", "")
	}
	return h.render(c, e.Status, "error", pageData{Title: http.StatusText(e.Status), Actor: a, Error: e.Message})
}

// --- Signing in and out -----------------------------------------------------

type loginBody struct {
	Email string
	Next  string
}

func (h *handler) renderLogin(c *fiber.Ctx, status int, errMsg, email, next string) error {
	return h.render(c, status, "login", pageData{Title: "Sign in", Error: errMsg,
		Notice: notices[c.Query("done")], Body: loginBody{Email: email, Next: safeNext(next)}})
}

func (h *handler) loginPage(c *fiber.Ctx) error {
	a, err := h.sessionActor(c)
	if err != nil {
		return h.errorPage(c, nil, err)
	}
	if a != nil {
		return c.Redirect(homeOf(a), fiber.StatusSeeOther)
	}
	return h.renderLogin(c, fiber.StatusOK, "", "", c.Query("next"))
}

func (h *handler) login(c *fiber.Ctx) error {
	email, next := c.FormValue("email"), c.FormValue("next")
	token, agent, err := h.svc.signIn(c.UserContext(), email, c.FormValue("password"), c.IP(), c.Get(fiber.HeaderUserAgent))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return h.renderLogin(c, e.Status, e.Message, email, next)
		}
		zerolog.Ctx(c.UserContext()).Error().Err(err).Msg("Sign-in failed")
		return h.renderLogin(c, http.StatusInternalServerError, "Something went wrong. Try again in a moment.", email, next)
	}
	// A session this browser had before is over: one browser, one session.
	if old := c.Cookies(h.cookieName); strings.HasPrefix(old, auth.SessionPrefix) {
		if err := store.DeleteSession(c.UserContext(), h.svc.pool, auth.Digest(old)); err != nil {
			zerolog.Ctx(c.UserContext()).Warn().Err(err).Msg("Failed to end the previous session")
		}
	}
	h.setSessionCookie(c, token)
	dest := safeNext(next)
	if dest == "" {
		dest = homeOf(actorOf(agent))
	}
	return c.Redirect(dest, fiber.StatusSeeOther)
}

func (h *handler) logout(c *fiber.Ctx) error {
	if token := c.Cookies(h.cookieName); strings.HasPrefix(token, auth.SessionPrefix) {
		if err := store.DeleteSession(c.UserContext(), h.svc.pool, auth.Digest(token)); err != nil {
			return h.errorPage(c, nil, err)
		}
	}
	h.clearSessionCookie(c)
	return c.Redirect("/console/login", fiber.StatusSeeOther)
}

// safeNext keeps a post-sign-in destination on the console: a path, never
// another site ("//evil.example", "https://…").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/console/login") {
		return ""
	}
	return next
}

func homeOf(a *Actor) string {
	if a.Role == RoleSocial {
		return "/console/comments"
	}
	return "/console/queue"
}

func (h *handler) home(c *fiber.Ctx, a *Actor) error {
	return c.Redirect(homeOf(a), fiber.StatusSeeOther)
}

// --- The queue ---------------------------------------------------------------

type queueBody struct {
	View QueueView
	Me   int64
	// Query is the filters' query string, for links and for forms that
	// come back to this view.
	Query string
}

// loadQueue reads the queue's filters with get and loads the view they select.
func (h *handler) loadQueue(ctx context.Context, a *Actor, get func(string) string) (QueueView, QueueParams, error) {
	p, err := queueParams(get)
	if err != nil {
		return QueueView{}, p, err
	}
	v, err := h.svc.queue(ctx, a, p)
	return v, p, err
}

func (h *handler) queuePage(c *fiber.Ctx, a *Actor) error {
	return h.showQueue(c, a, http.StatusOK, "", c.Query)
}

func (h *handler) showQueue(c *fiber.Ctx, a *Actor, status int, errMsg string, get func(string, ...string) string) error {
	v, p, err := h.loadQueue(c.UserContext(), a, func(k string) string { return get(k) })
	if err != nil {
		return err
	}
	return h.render(c, status, "queue", pageData{Title: "Queue", Actor: a, Nav: "queue", Live: "queue",
		Notice: notices[c.Query("done")], Error: errMsg, Body: queueBody{View: v, Me: a.ID, Query: p.Encode()}})
}

func (h *handler) queueFragment(c *fiber.Ctx, a *Actor) error {
	v, p, err := h.loadQueue(c.UserContext(), a, func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	return h.renderFragment(c, "queue_live", queueBody{View: v, Me: a.ID, Query: p.Encode()})
}

func (h *handler) claimForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = h.svc.claim(c.UserContext(), a, id)
	var e *Error
	if errors.As(err, &e) && c.FormValue("from") == "queue" {
		q, _ := url.ParseQuery(c.FormValue("qs"))
		return h.showQueue(c, a, e.Status, e.Message, func(k string, _ ...string) string { return q.Get(k) })
	}
	return h.afterAction(c, a, id, err, "claimed")
}

// afterAction ends a thread action: back to the thread with a notice, or
// the thread again with the refusal.
func (h *handler) afterAction(c *fiber.Ctx, a *Actor, id int64, err error, notice string) error {
	var e *Error
	if errors.As(err, &e) && e.Status != http.StatusNotFound {
		return h.showThread(c, a, id, e.Status, e.Message, threadDrafts{})
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/console/conversations/%d?done=%s", id, notice), fiber.StatusSeeOther)
}

// --- The thread --------------------------------------------------------------

type threadDrafts struct {
	Reply string
	// Attachments are the reply's links as typed, one per line, and
	// AttachmentType the type chosen for them.
	Attachments    string
	AttachmentType string
	Note           string
}

// attachmentLines reads the reply form's links, one per line (blank lines
// skipped), each of type typ ("" infers it from the link).
func attachmentLines(links, typ string) []AttachmentInput {
	var out []AttachmentInput
	for line := range strings.Lines(links) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, AttachmentInput{Type: typ, URL: line})
		}
	}
	return out
}

type threadBody struct {
	View   ThreadView
	Me     int64
	Drafts threadDrafts
}

func (h *handler) threadPage(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.showThread(c, a, id, http.StatusOK, "", threadDrafts{})
}

func (h *handler) showThread(c *fiber.Ctx, a *Actor, id int64, status int, errMsg string, drafts threadDrafts) error {
	v, err := h.svc.thread(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	notice := ""
	if errMsg == "" {
		notice = notices[c.Query("done")]
	}
	return h.render(c, status, "thread", pageData{Title: v.Customer.Name, Actor: a, Nav: "queue", Live: "thread",
		Notice: notice, Error: errMsg, Body: threadBody{View: v, Me: a.ID, Drafts: drafts}})
}

func (h *handler) threadFragment(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := h.svc.thread(c.UserContext(), a, id)
	if err != nil {
		return err
	}
	return h.renderFragment(c, "thread_live", threadBody{View: v, Me: a.ID})
}

func (h *handler) assignForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	to, perr := strconv.ParseInt(c.FormValue("agent_id"), 10, 64)
	if perr != nil {
		return h.afterAction(c, a, id, invalid("Choose an agent to assign the conversation to."), "")
	}
	return h.afterAction(c, a, id, h.svc.assign(c.UserContext(), a, id, to), "assigned")
}

func (h *handler) unassignForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.afterAction(c, a, id, h.svc.unassign(c.UserContext(), a, id), "unassigned")
}

func (h *handler) takeOverForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.afterAction(c, a, id, h.svc.takeOver(c.UserContext(), a, id), "taken_over")
}

func (h *handler) replyForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	text, links, typ := c.FormValue("text"), c.FormValue("attachments"), c.FormValue("attachment_type")
	res, err := h.svc.reply(c.UserContext(), a, id, text, attachmentLines(links, typ))
	var e *Error
	if errors.As(err, &e) && e.Status != http.StatusNotFound {
		return h.showThread(c, a, id, e.Status, e.Message, threadDrafts{Reply: text, Attachments: links, AttachmentType: typ})
	}
	if err != nil {
		return err
	}
	notice := "sent"
	if res.HumanAgentTag {
		notice = "sent_tagged"
	}
	return c.Redirect(fmt.Sprintf("/console/conversations/%d?done=%s", id, notice), fiber.StatusSeeOther)
}

func (h *handler) noteForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	text := c.FormValue("text")
	_, err = h.svc.note(c.UserContext(), a, id, text)
	var e *Error
	if errors.As(err, &e) && e.Status != http.StatusNotFound {
		return h.showThread(c, a, id, e.Status, e.Message, threadDrafts{Note: text})
	}
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/console/conversations/%d?done=noted", id), fiber.StatusSeeOther)
}

func (h *handler) resolveForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	res, err := h.svc.resolve(c.UserContext(), a, id, !truthy(c.FormValue("skip_csat")))
	notice := "resolved"
	if !res.CSATQueued {
		notice = "resolved_" + res.CSATSkipped
	}
	return h.afterAction(c, a, id, err, notice)
}

func (h *handler) handBackForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return h.afterAction(c, a, id, h.svc.handBack(c.UserContext(), a, id), "handed_back")
}

func (h *handler) linkForm(c *fiber.Ctx, a *Actor) error {
	into, err := idParam(c, "id")
	if err != nil {
		return err
	}
	back, err := strconv.ParseInt(c.FormValue("conversation_id"), 10, 64)
	if err != nil {
		return invalid("The form is missing its conversation.")
	}
	from, _ := strconv.ParseInt(strings.TrimLeft(strings.TrimSpace(c.FormValue("from_customer_id")), "#"), 10, 64)
	_, err = h.svc.linkCustomers(c.UserContext(), a, into, from)
	return h.afterAction(c, a, back, err, "linked")
}

// --- Other pages -------------------------------------------------------------

func (h *handler) commentsPage(c *fiber.Ctx, a *Actor) error {
	return h.render(c, http.StatusOK, "comments", pageData{Title: "Comments", Actor: a, Nav: "comments"})
}

func (h *handler) accountPage(c *fiber.Ctx, a *Actor) error {
	return h.render(c, http.StatusOK, "account", pageData{Title: "Your account", Actor: a, Nav: "account",
		Notice: notices[c.Query("done")]})
}

func (h *handler) passwordForm(c *fiber.Ctx, a *Actor) error {
	next := c.FormValue("new_password")
	err := error(nil)
	if next != c.FormValue("confirm_password") {
		err = invalid("The new passwords do not match.")
	} else {
		err = h.svc.changePassword(c.UserContext(), a, c.FormValue("current_password"), next)
	}
	var e *Error
	if errors.As(err, &e) {
		return h.render(c, e.Status, "account", pageData{Title: "Your account", Actor: a, Nav: "account", Error: e.Message})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/console/account?done=password_changed", fiber.StatusSeeOther)
}

type agentsBody struct {
	Agents []AgentInfo
	Roles  []Role
	Form   AgentInput
}

func (h *handler) agentsPage(c *fiber.Ctx, a *Actor) error {
	return h.showAgents(c, a, http.StatusOK, "", AgentInput{Role: string(RoleAgent)})
}

func (h *handler) showAgents(c *fiber.Ctx, a *Actor, status int, errMsg string, form AgentInput) error {
	agents, err := h.svc.agents(c.UserContext())
	if err != nil {
		return err
	}
	form.Password = ""
	notice := ""
	if errMsg == "" {
		notice = notices[c.Query("done")]
	}
	return h.render(c, status, "agents", pageData{Title: "Agents", Actor: a, Nav: "agents", Notice: notice, Error: errMsg,
		Body: agentsBody{Agents: agents, Roles: Roles, Form: form}})
}

func (h *handler) createAgentForm(c *fiber.Ctx, a *Actor) error {
	in := AgentInput{Email: c.FormValue("email"), Name: c.FormValue("name"), Role: c.FormValue("role"), Password: c.FormValue("password")}
	_, err := h.svc.createAgent(c.UserContext(), a, in)
	var e *Error
	if errors.As(err, &e) {
		return h.showAgents(c, a, e.Status, e.Message, in)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/console/agents?done=agent_created", fiber.StatusSeeOther)
}

func (h *handler) updateAgentForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var ch AgentChange
	if v := c.FormValue("name"); v != "" {
		ch.Name = &v
	}
	if v := c.FormValue("role"); v != "" {
		ch.Role = &v
	}
	switch c.FormValue("status") {
	case "active":
		ch.Active = ptr(true)
	case "deactivated":
		ch.Active = ptr(false)
	}
	if v := c.FormValue("password"); v != "" {
		ch.Password = &v
	}
	_, err = h.svc.updateAgent(c.UserContext(), a, id, ch)
	var e *Error
	if errors.As(err, &e) {
		return h.showAgents(c, a, e.Status, e.Message, AgentInput{Role: string(RoleAgent)})
	}
	if err != nil {
		return err
	}
	return c.Redirect("/console/agents?done=agent_updated", fiber.StatusSeeOther)
}

func ptr[T any](v T) *T { return &v }

type tokensBody struct {
	Tokens   []TokenInfo
	Agents   []AgentInfo
	NewToken string
	Created  *TokenInfo
	Form     TokenInput
}

func (h *handler) tokensPage(c *fiber.Ctx, a *Actor) error {
	return h.showTokens(c, a, http.StatusOK, "", tokensBody{Form: TokenInput{AgentID: a.ID, ExpiresInDays: 90}})
}

func (h *handler) showTokens(c *fiber.Ctx, a *Actor, status int, errMsg string, body tokensBody) error {
	var err error
	if body.Tokens, err = h.svc.tokens(c.UserContext()); err != nil {
		return err
	}
	if body.Agents, err = h.svc.agents(c.UserContext()); err != nil {
		return err
	}
	notice := ""
	if errMsg == "" {
		notice = notices[c.Query("done")]
	}
	return h.render(c, status, "tokens", pageData{Title: "API tokens", Actor: a, Nav: "tokens", Notice: notice, Error: errMsg, Body: body})
}

func (h *handler) createTokenForm(c *fiber.Ctx, a *Actor) error {
	agentID, _ := strconv.ParseInt(c.FormValue("agent_id"), 10, 64)
	days, _ := strconv.Atoi(c.FormValue("expires_in_days"))
	in := TokenInput{Name: c.FormValue("name"), AgentID: agentID, ExpiresInDays: days}
	token, info, err := h.svc.createToken(c.UserContext(), a, in)
	var e *Error
	if errors.As(err, &e) {
		return h.showTokens(c, a, e.Status, e.Message, tokensBody{Form: in})
	}
	if err != nil {
		return err
	}
	// Shown once, on this response; never stored readable.
	return h.showTokens(c, a, http.StatusCreated, "", tokensBody{NewToken: token, Created: &info,
		Form: TokenInput{AgentID: a.ID, ExpiresInDays: 90}})
}

func (h *handler) revokeTokenForm(c *fiber.Ctx, a *Actor) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.svc.revokeToken(c.UserContext(), a, id); err != nil {
		return err
	}
	return c.Redirect("/console/tokens?done=token_revoked", fiber.StatusSeeOther)
}
