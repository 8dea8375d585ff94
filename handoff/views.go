package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/orders"
	"github.com/frontdesk/frontdesk/store"
)

// The views below are what both faces of the console show: the HTML
// templates render them and the JSON API returns them.

// AgentRef names an agent.
type AgentRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func agentRef(id *int64, name string) *AgentRef {
	if id == nil {
		return nil
	}
	return &AgentRef{ID: *id, Name: name}
}

// QueueParams are the queue's filters, as query parameters.
type QueueParams struct {
	Mine       bool   `json:"mine"`
	Unassigned bool   `json:"unassigned"`
	Channel    string `json:"channel,omitempty"`
	Priority   *int   `json:"priority,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Query      string `json:"q,omitempty"`
	// Status: open (queued or assigned, the default), queued, assigned,
	// resolved, bot or all.
	Status string `json:"status"`
}

var queueStatuses = map[string][]string{
	"open":     {"queued", "assigned"},
	"queued":   {"queued"},
	"assigned": {"assigned"},
	"resolved": {"resolved"},
	"bot":      {"bot"},
	"all":      {"bot", "queued", "assigned", "resolved"},
}

// queueParams reads the filters from a query string.
func queueParams(get func(key string) string) (QueueParams, error) {
	p := QueueParams{
		Mine:       truthy(get("mine")),
		Unassigned: truthy(get("unassigned")),
		Channel:    strings.TrimSpace(get("channel")),
		Reason:     strings.TrimSpace(get("reason")),
		Query:      strings.TrimSpace(get("q")),
		Status:     strings.TrimSpace(get("status")),
	}
	if p.Status == "" {
		p.Status = "open"
	}
	if _, ok := queueStatuses[p.Status]; !ok {
		return p, invalid("Unknown status filter %q.", p.Status)
	}
	if v := strings.TrimSpace(get("priority")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return p, invalid("The priority filter must be a number.")
		}
		p.Priority = &n
	}
	if len(p.Query) > 200 {
		return p, invalid("The search is too long.")
	}
	return p, nil
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// Encode writes the filters back as a query string.
func (p QueueParams) Encode() string {
	v := url.Values{}
	if p.Mine {
		v.Set("mine", "1")
	}
	if p.Unassigned {
		v.Set("unassigned", "1")
	}
	if p.Channel != "" {
		v.Set("channel", p.Channel)
	}
	if p.Priority != nil {
		v.Set("priority", strconv.Itoa(*p.Priority))
	}
	if p.Reason != "" {
		v.Set("reason", p.Reason)
	}
	if p.Query != "" {
		v.Set("q", p.Query)
	}
	if p.Status != "" && p.Status != "open" {
		v.Set("status", p.Status)
	}
	return v.Encode()
}

// QueueEntry is one conversation in the queue.
type QueueEntry struct {
	ConversationID int64      `json:"conversation_id"`
	CustomerID     int64      `json:"customer_id"`
	Customer       string     `json:"customer"`
	Channel        string     `json:"channel"`
	Status         string     `json:"status"`
	Reason         string     `json:"reason"`
	Priority       int        `json:"priority"`
	Order          string     `json:"order,omitempty"`
	Intent         string     `json:"intent,omitempty"`
	Assignee       *AgentRef  `json:"assignee,omitempty"`
	HandedOffAt    *time.Time `json:"handed_off_at,omitempty"`
	Waiting        Waiting    `json:"waiting"`
	Preview        string     `json:"preview,omitempty"`
}

// QueueView is the queue with its filters and counts.
type QueueView struct {
	Entries []QueueEntry `json:"entries"`
	Filter  QueueParams  `json:"filter"`
	Counts  QueueCounts  `json:"counts"`
	// Reasons and Channels feed the filter menus.
	Reasons  []string `json:"-"`
	Channels []string `json:"-"`
}

// QueueCounts summarize the listed entries.
type QueueCounts struct {
	Listed     int `json:"listed"`
	Unassigned int `json:"unassigned"`
	Mine       int `json:"mine"`
	Breached   int `json:"breached"`
}

func (s *service) queue(ctx context.Context, a *Actor, p QueueParams) (QueueView, error) {
	f := store.QueueFilter{
		Statuses:   queueStatuses[p.Status],
		Unassigned: p.Unassigned,
		Platform:   p.Channel,
		Priority:   p.Priority,
		Reason:     p.Reason,
		Search:     p.Query,
	}
	if p.Mine {
		f.AssigneeID = a.ID
	}
	items, err := store.Queue(ctx, s.pool, f)
	if err != nil {
		return QueueView{}, err
	}
	reasons, err := store.HandoffReasons(ctx, s.pool)
	if err != nil {
		return QueueView{}, err
	}
	now := s.now()
	v := QueueView{Entries: make([]QueueEntry, 0, len(items)), Filter: p, Reasons: reasons,
		Channels: []string{string(conversation.Messenger), string(conversation.Instagram), string(conversation.WhatsApp)}}
	for _, it := range items {
		e := QueueEntry{
			ConversationID: it.ConversationID,
			CustomerID:     it.CustomerID,
			Customer:       customerName(it.CustomerName, it.CustomerID),
			Channel:        it.Platform,
			Status:         it.Status,
			Reason:         it.HandoffReason,
			Priority:       it.Priority,
			Order:          it.Order,
			Intent:         it.Intent,
			Assignee:       agentRef(it.AssigneeID, it.AssigneeName),
			HandedOffAt:    it.HandedOffAt,
			Waiting:        s.cfg.waiting(it.Platform, it.WaitingSince, now),
			Preview:        preview(it.Preview, 140),
		}
		v.Entries = append(v.Entries, e)
		if e.Status == string(conversation.StatusQueued) && e.Assignee == nil {
			v.Counts.Unassigned++
		}
		if e.Assignee != nil && e.Assignee.ID == a.ID && e.Status == string(conversation.StatusAssigned) {
			v.Counts.Mine++
		}
		if e.Waiting.Breached {
			v.Counts.Breached++
		}
	}
	v.Counts.Listed = len(v.Entries)
	return v, nil
}

func customerName(name string, id int64) string {
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	return fmt.Sprintf("Customer #%d", id)
}

func preview(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// ConversationInfo is a conversation's state, for the top of the thread.
type ConversationInfo struct {
	ID              int64      `json:"id"`
	CustomerID      int64      `json:"customer_id"`
	Channel         string     `json:"channel"`
	Status          string     `json:"status"`
	Reason          string     `json:"reason,omitempty"`
	Priority        int        `json:"priority"`
	Assignee        *AgentRef  `json:"assignee,omitempty"`
	HandedOffAt     *time.Time `json:"handed_off_at,omitempty"`
	LastInboundAt   *time.Time `json:"last_inbound_at,omitempty"`
	FirstResponseAt *time.Time `json:"first_response_at,omitempty"`
	ResolvedAt      *time.Time `json:"resolved_at,omitempty"`
	CSATRequestedAt *time.Time `json:"csat_requested_at,omitempty"`
	CSATScore       *int       `json:"csat_score,omitempty"`
	Waiting         Waiting    `json:"waiting"`
}

// CustomerInfo is the customer behind a thread.
type CustomerInfo struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Identities []IdentityInfo `json:"identities"`
}

// IdentityInfo is one channel the customer writes on.
type IdentityInfo struct {
	ID       int64  `json:"id"`
	Channel  string `json:"channel"`
	Name     string `json:"name,omitempty"`
	External string `json:"external_id"`
}

// AttachmentInfo is an attachment, with a link only when it is a web URL.
type AttachmentInfo struct {
	Type  string `json:"type"`
	URL   string `json:"url,omitempty"`
	Title string `json:"title,omitempty"`
	Image bool   `json:"image"`
}

// TimelineEntry is one line of the thread: a message, an internal note, or
// something an agent did.
type TimelineEntry struct {
	Kind           string    `json:"kind"` // message, note, event
	At             time.Time `json:"at"`
	ConversationID int64     `json:"conversation_id"`
	// FirstOfConversation marks where a conversation starts in the history.
	FirstOfConversation bool   `json:"-"`
	Channel             string `json:"channel,omitempty"`
	Text                string `json:"text"`

	// Messages.
	MessageID     int64                     `json:"message_id,omitempty"`
	Direction     string                    `json:"direction,omitempty"`
	Author        string                    `json:"author,omitempty"`
	MessageKind   string                    `json:"message_kind,omitempty"`
	Attachments   []AttachmentInfo          `json:"attachments,omitempty"`
	QuickReplies  []conversation.QuickReply `json:"quick_replies,omitempty"`
	Status        string                    `json:"status,omitempty"`
	FailureReason string                    `json:"failure_reason,omitempty"`
	// Agent wrote the message, the note, or did the event.
	Agent string `json:"agent,omitempty"`

	// Events.
	Action string `json:"action,omitempty"`
}

// ReturnInfo is a return opened for the customer's order or conversation.
type ReturnInfo struct {
	RMA        string    `json:"rma"`
	Order      string    `json:"order"`
	SKUs       []string  `json:"skus"`
	Reason     string    `json:"reason,omitempty"`
	Resolution string    `json:"resolution,omitempty"`
	Status     string    `json:"status"`
	LabelURL   string    `json:"label_url,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// DamageInfo is a damage case opened for the customer's order or conversation.
type DamageInfo struct {
	ID           int64     `json:"id"`
	Order        string    `json:"order"`
	SKU          string    `json:"sku,omitempty"`
	Description  string    `json:"description,omitempty"`
	EvidenceURLs []string  `json:"evidence_urls,omitempty"`
	Value        int64     `json:"value"`
	Resolution   string    `json:"resolution,omitempty"`
	Status       string    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
}

// Permissions say which actions make sense now for the asking agent; the
// operations check again when asked.
type Permissions struct {
	Claim    bool `json:"claim"`
	Reply    bool `json:"reply"`
	Resolve  bool `json:"resolve"`
	HandBack bool `json:"hand_back"`
	Unassign bool `json:"unassign"`
	Assign   bool `json:"assign"`
	TakeOver bool `json:"take_over"`
}

// LinkCandidate is a customer who may be the same person.
type LinkCandidate struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
}

// ThreadView is everything an agent needs to take a conversation over.
type ThreadView struct {
	Conversation ConversationInfo             `json:"conversation"`
	Summary      *conversation.HandoffSummary `json:"summary,omitempty"`
	Customer     CustomerInfo                 `json:"customer"`
	Timeline     []TimelineEntry              `json:"timeline"`
	// OlderOmitted: the customer has older messages than the timeline shows.
	OlderOmitted bool             `json:"older_omitted"`
	Returns      []ReturnInfo     `json:"returns"`
	DamageCases  []DamageInfo     `json:"damage_cases"`
	Window       Window           `json:"reply_window"`
	Canned       []CannedResponse `json:"canned_responses"`
	Agents       []AgentRef       `json:"agents"`
	Candidates   []LinkCandidate  `json:"link_candidates"`
	Can          Permissions      `json:"can"`
	// ConversationIDs are all the customer's conversations: a live event
	// about any of them changes this thread.
	ConversationIDs []int64 `json:"conversation_ids"`
}

// historyLimit bounds the messages a thread shows.
const historyLimit = 400

func (s *service) thread(ctx context.Context, a *Actor, id int64) (ThreadView, error) {
	var v ThreadView
	conv, err := store.ConsoleConversationByID(ctx, s.pool, id)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFound("The conversation")
	}
	if err != nil {
		return v, err
	}
	now := s.now()
	v.Conversation = ConversationInfo{
		ID: conv.ID, CustomerID: conv.CustomerID, Channel: conv.Platform, Status: conv.Status,
		Reason: conv.HandoffReason, Priority: conv.Priority, Assignee: agentRef(conv.AssigneeID, conv.AssigneeName),
		HandedOffAt: conv.HandedOffAt, LastInboundAt: conv.LastInboundAt, FirstResponseAt: conv.FirstResponseAt,
		ResolvedAt: conv.ResolvedAt, CSATRequestedAt: conv.CSATRequestedAt, CSATScore: conv.CSATScore,
	}
	if handedOff(conv.Status) {
		items, err := store.Queue(ctx, s.pool, store.QueueFilter{Statuses: []string{conv.Status}, ConversationID: conv.ID})
		if err != nil {
			return v, err
		}
		if len(items) == 1 {
			v.Conversation.Waiting = s.cfg.waiting(conv.Platform, items[0].WaitingSince, now)
		}
	}
	if len(conv.HandoffSummary) > 0 {
		var sum conversation.HandoffSummary
		if err := json.Unmarshal(conv.HandoffSummary, &sum); err == nil {
			v.Summary = &sum
		}
	}

	v.Customer = CustomerInfo{ID: conv.CustomerID, Name: customerName(conv.CustomerName, conv.CustomerID)}
	idents, err := store.CustomerIdentities(ctx, s.pool, conv.CustomerID)
	if err != nil {
		return v, err
	}
	for _, i := range idents {
		v.Customer.Identities = append(v.Customer.Identities, IdentityInfo{ID: i.ID, Channel: i.Platform, Name: i.DisplayName, External: i.ExternalID})
	}
	if v.ConversationIDs, err = store.CustomerConversationIDs(ctx, s.pool, conv.CustomerID); err != nil {
		return v, err
	}
	if v.Timeline, v.OlderOmitted, err = s.timeline(ctx, conv.CustomerID); err != nil {
		return v, err
	}

	var orderNumbers []string
	if v.Summary != nil && v.Summary.Order != "" {
		orderNumbers = append(orderNumbers, strings.TrimLeft(v.Summary.Order, "#"))
	}
	returns, err := orders.ReturnsFor(ctx, s.pool, v.ConversationIDs, orderNumbers)
	if err != nil {
		return v, err
	}
	v.Returns = []ReturnInfo{}
	for _, r := range newestFirst(returns) {
		v.Returns = append(v.Returns, ReturnInfo{RMA: r.RMA, Order: r.OrderNumber, SKUs: r.SKUs, Reason: r.Reason,
			Resolution: r.Resolution, Status: r.Status, LabelURL: webURL(r.LabelURL), CreatedAt: r.CreatedAt})
	}
	damages, err := orders.DamageCasesFor(ctx, s.pool, v.ConversationIDs, orderNumbers)
	if err != nil {
		return v, err
	}
	v.DamageCases = []DamageInfo{}
	for _, d := range newestFirst(damages) {
		var evidence []string
		for _, u := range d.EvidenceURLs {
			if u = webURL(u); u != "" {
				evidence = append(evidence, u)
			}
		}
		v.DamageCases = append(v.DamageCases, DamageInfo{ID: d.ID, Order: d.OrderNumber, SKU: d.SKU, Description: d.Description,
			EvidenceURLs: evidence, Value: int64(d.Value), Resolution: d.Resolution, Status: d.Status, CreatedAt: d.CreatedAt})
	}

	v.Window = replyWindow(conv.Platform, conv.LastInboundAt, now, s.cfg.HumanAgentTag)
	order := ""
	if v.Summary != nil {
		order = v.Summary.Order
	}
	values := map[string]string{"name": firstName(conv.CustomerName), "order": order, "agent": firstName(a.Name)}
	v.Canned = []CannedResponse{}
	for _, c := range s.cfg.CannedResponses {
		v.Canned = append(v.Canned, CannedResponse{Title: c.Title, Text: fillPlaceholders(c.Text, values)})
	}
	agents, err := store.ListAgents(ctx, s.pool)
	if err != nil {
		return v, err
	}
	v.Agents = []AgentRef{}
	for _, ag := range agents {
		if ag.Active && Role(ag.Role) != RoleSocial {
			v.Agents = append(v.Agents, AgentRef{ID: ag.ID, Name: ag.Name})
		}
	}
	matches, err := store.SimilarCustomers(ctx, s.pool, conv.CustomerID, conv.CustomerName, 5)
	if err != nil {
		return v, err
	}
	v.Candidates = []LinkCandidate{}
	for _, m := range matches {
		v.Candidates = append(v.Candidates, LinkCandidate{ID: m.ID, Name: customerName(m.Name, m.ID), Channels: m.Platforms})
	}

	mine := conv.AssigneeID != nil && *conv.AssigneeID == a.ID
	free := conv.AssigneeID == nil || conv.Status == string(conversation.StatusQueued)
	switch conversation.Status(conv.Status) {
	case conversation.StatusQueued:
		v.Can = Permissions{Claim: true, Reply: true, Resolve: true, HandBack: true, Assign: true}
	case conversation.StatusAssigned:
		v.Can = Permissions{Reply: mine, Resolve: mine, HandBack: mine, Unassign: true, Assign: true, Claim: free}
	case conversation.StatusBot:
		v.Can = Permissions{TakeOver: true}
	}
	if v.Window.State == WindowClosed {
		v.Can.Reply = false
	}
	return v, nil
}

// timeline merges the customer's messages, notes and audited actions in
// time order.
func (s *service) timeline(ctx context.Context, customerID int64) ([]TimelineEntry, bool, error) {
	msgs, more, err := store.CustomerHistory(ctx, s.pool, customerID, historyLimit)
	if err != nil {
		return nil, false, err
	}
	notes, err := store.CustomerNotes(ctx, s.pool, customerID)
	if err != nil {
		return nil, false, err
	}
	audit, err := store.CustomerAudit(ctx, s.pool, customerID)
	if err != nil {
		return nil, false, err
	}
	var since time.Time
	if more && len(msgs) > 0 {
		since = msgs[0].CreatedAt // older notes and events would float above a cut history
	}
	entries := make([]TimelineEntry, 0, len(msgs)+len(notes)+len(audit))
	for _, m := range msgs {
		entries = append(entries, messageEntry(m))
	}
	for _, n := range notes {
		if n.CreatedAt.Before(since) {
			continue
		}
		entries = append(entries, TimelineEntry{Kind: "note", At: n.CreatedAt, ConversationID: n.ConversationID,
			Text: n.Body, Agent: n.AgentName})
	}
	for _, e := range audit {
		if e.At.Before(since) {
			continue
		}
		entry := TimelineEntry{Kind: "event", At: e.At, Action: e.Action, Agent: e.AgentName, Text: describe(e)}
		if e.ConversationID != nil {
			entry.ConversationID = *e.ConversationID
		}
		entries = append(entries, entry)
	}
	slices.SortStableFunc(entries, func(x, y TimelineEntry) int { return x.At.Compare(y.At) })
	last := int64(0)
	for i := range entries {
		if entries[i].Kind == "message" && entries[i].ConversationID != last {
			entries[i].FirstOfConversation = true
			last = entries[i].ConversationID
		}
	}
	return entries, more, nil
}

func messageEntry(m store.HistoryMessage) TimelineEntry {
	e := TimelineEntry{
		Kind: "message", At: m.CreatedAt, ConversationID: m.ConversationID, Channel: m.Platform,
		MessageID: m.ID, Direction: m.Direction, Author: m.Author, MessageKind: m.Kind, Text: m.Body,
		Status: m.Status, FailureReason: m.FailureReason, Agent: m.AgentName,
	}
	var atts []conversation.Attachment
	if json.Unmarshal(m.Attachments, &atts) == nil {
		for _, a := range atts {
			e.Attachments = append(e.Attachments, AttachmentInfo{Type: a.Type, URL: webURL(a.URL), Title: a.Title,
				Image: a.Type == "image" || a.Type == "sticker"})
		}
	}
	_ = json.Unmarshal(m.QuickReplies, &e.QuickReplies)
	if m.Kind == string(conversation.KindPostback) && e.Text == "" {
		e.Text = m.Payload
	}
	return e
}

// webURL returns u if it is an http(s) URL, else "": a platform's
// attachment URL is shopper-controlled and must not become a javascript:
// link. (html/template would neutralize one too; the API should not pass
// it on either.)
func webURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return ""
	}
	return p.String()
}

func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// describe says what an audited action did, in words.
func describe(e store.AuditEntry) string {
	who := orSomeone(e.AgentName)
	if e.AgentID == nil {
		who = "An administrator"
	}
	str := func(k string) string {
		s, _ := e.Details[k].(string)
		return s
	}
	switch e.Action {
	case "claim":
		if by, _ := e.Details["by_reply"].(bool); by {
			return who + " claimed the conversation by replying"
		}
		return who + " claimed the conversation"
	case "assign":
		return who + " assigned the conversation to " + str("to")
	case "transfer":
		return who + " transferred the conversation from " + str("from") + " to " + str("to")
	case "unassign":
		return who + " put the conversation back in the queue"
	case "takeover":
		return who + " took the conversation over from the bot"
	case "resolve":
		if csat, _ := e.Details["csat"].(bool); csat {
			return who + " resolved the conversation and asked for a rating"
		}
		return who + " resolved the conversation"
	case "handback":
		return who + " handed the conversation back to the bot"
	case "link_customers":
		from, _ := e.Details["from_customer_id"].(float64)
		return fmt.Sprintf("%s linked customer #%d to this customer", who, int64(from))
	}
	return who + ": " + e.Action
}

// newestFirst reverses records listed oldest first and keeps the newest 50,
// enough for one customer's thread.
func newestFirst[T any](records []T) []T {
	slices.Reverse(records)
	return records[:min(len(records), 50)]
}
