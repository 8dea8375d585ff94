package handoff

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/store"
)

// Role is what an agent may do.
type Role string

const (
	// RoleAdmin may do everything, including managing agents and API tokens.
	RoleAdmin Role = "admin"
	// RoleAgent works the conversation queue.
	RoleAgent Role = "agent"
	// RoleSocial works the public comment queue, which is not built yet:
	// it sees nothing else.
	RoleSocial Role = "social"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleAdmin, RoleAgent, RoleSocial}

func validRole(r string) bool {
	for _, role := range Roles {
		if string(role) == r {
			return true
		}
	}
	return false
}

// Actor is who asks: a signed-in agent, or the agent an API token acts as.
type Actor struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  Role   `json:"role"`

	sessionDigest []byte // the session's, when signed in with a cookie
	tokenID       int64  // the API token's, when it is one
}

// Event types of store.ConsoleEvent.
const (
	eventMessage    = "message"
	eventHandoff    = "handoff"
	eventAssignment = "assignment"
	eventStatus     = "status"
)

// Limits on what agents write.
const (
	maxReplyLen         = 2000 // runes; Messenger's limit for one message
	maxNoteLen          = 10000
	maxReplyAttachments = 10
	maxAttachmentURLLen = 2000 // bytes
)

// service carries out the console's operations. HTML pages and the JSON
// API both call it, so they enforce the same rules.
type service struct {
	pool *pgxpool.Pool
	jobs *river.Client[pgx.Tx]
	cfg  Config
	now  func() time.Time
}

func (s *service) audit(ctx context.Context, tx pgx.Tx, a *Actor, action string, conversationID, customerID int64, details map[string]any) error {
	e := store.AuditEntry{Action: action, Details: details}
	if a != nil {
		e.AgentID = &a.ID
	}
	if conversationID != 0 {
		e.ConversationID = &conversationID
	}
	if customerID != 0 {
		e.CustomerID = &customerID
	}
	return store.InsertAudit(ctx, tx, e, s.now())
}

// changed records an agent's action on conversation id in the audit log
// and tells the consoles, both inside tx.
func (s *service) changed(ctx context.Context, tx pgx.Tx, a *Actor, action string, id int64, details map[string]any, event string) error {
	if err := s.audit(ctx, tx, a, action, id, 0, details); err != nil {
		return err
	}
	return notify(ctx, tx, event, id)
}

func notify(ctx context.Context, tx pgx.Tx, typ string, conversationID int64) error {
	return store.NotifyConsole(ctx, tx, store.ConsoleEvent{Type: typ, ConversationID: conversationID})
}

func (s *service) lock(ctx context.Context, tx pgx.Tx, id int64) (store.ConsoleConversation, error) {
	conv, err := store.LockConsoleConversation(ctx, tx, id)
	if errors.Is(err, store.ErrNotFound) {
		return conv, notFound("The conversation")
	}
	return conv, err
}

func handedOff(status string) bool {
	return status == string(conversation.StatusQueued) || status == string(conversation.StatusAssigned)
}

func notHandedOff(status string) *Error {
	switch conversation.Status(status) {
	case conversation.StatusBot:
		return newError(http.StatusConflict, CodeNotHandedOff, "The bot is handling this conversation. Take it over first.")
	case conversation.StatusResolved:
		return newError(http.StatusConflict, CodeNotHandedOff, "This conversation is resolved. When the shopper writes again it comes back.")
	}
	return newError(http.StatusConflict, CodeNotHandedOff, "This conversation is not handed off.")
}

// heldByOther refuses to act on a conversation another agent holds: two
// people must not answer one shopper at once. Transferring it is the way.
func heldByOther(a *Actor, conv store.ConsoleConversation) error {
	if conv.Status == string(conversation.StatusAssigned) && conv.AssigneeID != nil && *conv.AssigneeID != a.ID {
		return newError(http.StatusConflict, CodeHeldByOther,
			"%s holds this conversation. Ask them, or assign it to yourself first.", orSomeone(conv.AssigneeName))
	}
	return nil
}

func orSomeone(name string) string {
	if name == "" {
		return "Another agent"
	}
	return name
}

// claim gives a queued conversation nobody holds to a. Of two agents
// claiming at once, one wins and the other gets CodeAlreadyClaimed.
// Claiming a conversation one already holds changes nothing.
func (s *service) claim(ctx context.Context, a *Actor, id int64) error {
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ok, err := store.ClaimConversation(ctx, tx, id, a.ID, now)
		if err != nil {
			return err
		}
		if !ok {
			conv, err := store.ConsoleConversationByID(ctx, tx, id)
			if errors.Is(err, store.ErrNotFound) {
				return notFound("The conversation")
			}
			if err != nil {
				return err
			}
			switch {
			case conv.Status == string(conversation.StatusAssigned) && conv.AssigneeID != nil && *conv.AssigneeID == a.ID:
				return nil
			case conv.Status == string(conversation.StatusAssigned):
				return newError(http.StatusConflict, CodeAlreadyClaimed, "%s already claimed this conversation.", orSomeone(conv.AssigneeName))
			default:
				return notHandedOff(conv.Status)
			}
		}
		if err := s.audit(ctx, tx, a, "claim", id, 0, nil); err != nil {
			return err
		}
		zerolog.Ctx(ctx).Info().Stringer("conversation_id", conversation.ConversationID(id)).Int64("agent_id", a.ID).Msg("Conversation claimed")
		return notify(ctx, tx, eventAssignment, id)
	})
}

// assign gives a handed-off conversation to another agent (or to a),
// whoever held it: the explicit way to transfer.
func (s *service) assign(ctx context.Context, a *Actor, id, assigneeID int64) error {
	target, err := store.AgentByID(ctx, s.pool, assigneeID)
	if errors.Is(err, store.ErrNotFound) {
		return invalid("Choose an agent to assign the conversation to.")
	}
	if err != nil {
		return err
	}
	if !target.Active {
		return invalid("%s is deactivated.", target.Name)
	}
	if Role(target.Role) == RoleSocial {
		return invalid("%s works on the comment queue and cannot take conversations.", target.Name)
	}
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !handedOff(conv.Status) {
			return notHandedOff(conv.Status)
		}
		if conv.Status == string(conversation.StatusAssigned) && conv.AssigneeID != nil && *conv.AssigneeID == assigneeID {
			return nil
		}
		if err := store.AssignConversation(ctx, tx, id, assigneeID, now); err != nil {
			return err
		}
		action, details := "assign", map[string]any{"to_id": target.ID, "to": target.Name}
		if conv.Status == string(conversation.StatusAssigned) && conv.AssigneeID != nil {
			action = "transfer"
			details["from_id"], details["from"] = *conv.AssigneeID, conv.AssigneeName
		}
		return s.changed(ctx, tx, a, action, id, details, eventAssignment)
	})
}

// unassign puts a conversation back in the queue, held by nobody.
func (s *service) unassign(ctx context.Context, a *Actor, id int64) error {
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch conv.Status {
		case string(conversation.StatusQueued):
			return nil
		case string(conversation.StatusAssigned):
		default:
			return notHandedOff(conv.Status)
		}
		if err := store.UnassignConversation(ctx, tx, id, now); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, "unassign", id, map[string]any{"from": conv.AssigneeName}, eventAssignment)
	})
}

// takeOver moves a conversation from the bot to a, as a hand-off would.
func (s *service) takeOver(ctx context.Context, a *Actor, id int64) error {
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch conversation.Status(conv.Status) {
		case conversation.StatusBot:
		case conversation.StatusQueued, conversation.StatusAssigned:
			return newError(http.StatusConflict, CodeNotHandedOff, "A person already has this conversation: claim or assign it instead.")
		default:
			return notHandedOff(conv.Status)
		}
		if err := store.TakeOverConversation(ctx, tx, id, a.ID, "agent_takeover", now); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, "takeover", id, nil, eventHandoff)
	})
}

// ReplyResult is what sending a reply did.
type ReplyResult struct {
	MessageID int64 `json:"message_id"`
	// Claimed: the conversation was queued and nobody held it; replying
	// claimed it.
	Claimed bool `json:"claimed"`
	// HumanAgentTag: the reply goes out with the HUMAN_AGENT tag.
	HumanAgentTag bool   `json:"human_agent_tag"`
	Window        Window `json:"window"`
}

// cleanText normalizes what an agent typed.
func cleanText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}

// AttachmentInput is a file a reply sends by link: the platform fetches
// URL, which must be a public http(s) URL. Type is image, video, audio or
// file; empty means inferred from the link's file extension.
type AttachmentInput struct {
	Type string `json:"type,omitempty"`
	URL  string `json:"url"`
}

// cleanAttachments checks the files of a reply and returns them as they
// are stored and sent. Only absolute http(s) links are taken: anything else
// (javascript:, data:, a relative path) is refused, not rewritten.
func cleanAttachments(in []AttachmentInput) ([]conversation.Attachment, error) {
	if len(in) > maxReplyAttachments {
		return nil, invalid("A reply can have at most %d attachments; this one has %d.", maxReplyAttachments, len(in))
	}
	out := make([]conversation.Attachment, 0, len(in))
	for i, at := range in {
		n := i + 1
		raw := strings.TrimSpace(at.URL)
		if raw == "" {
			return nil, invalid("Attachment %d has no link.", n)
		}
		if len(raw) > maxAttachmentURLLen {
			return nil, invalid("The link of attachment %d is too long: at most %d characters.", n, maxAttachmentURLLen)
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, invalid("Attachment %d must be a web link starting with https:// or http://.", n)
		}
		if u.User != nil {
			return nil, invalid("The link of attachment %d must not contain a user name or password.", n)
		}
		link := u.String()
		if len(link) > maxAttachmentURLLen {
			return nil, invalid("The link of attachment %d is too long: at most %d characters.", n, maxAttachmentURLLen)
		}
		typ := strings.ToLower(strings.TrimSpace(at.Type))
		if typ == "" {
			typ = attachmentTypeOf(u.Path)
		}
		switch typ {
		case conversation.AttachmentImage, conversation.AttachmentVideo, conversation.AttachmentAudio, conversation.AttachmentFile:
		default:
			return nil, invalid("Attachment %d has the unknown type %q: use image, video, audio or file.", n, at.Type)
		}
		out = append(out, conversation.Attachment{Type: typ, URL: link})
	}
	return out, nil
}

// attachmentTypeOf infers an attachment's type from its path's extension.
func attachmentTypeOf(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return conversation.AttachmentImage
	case ".mp4", ".mov":
		return conversation.AttachmentVideo
	case ".mp3", ".m4a", ".ogg":
		return conversation.AttachmentAudio
	}
	return conversation.AttachmentFile
}

// reply queues a's reply to the shopper in the conversation's channel: the
// message row and its send job commit together. A reply is text, files
// sent by link, or both. A queued conversation nobody holds is claimed by
// replying; one another agent holds is refused, as is a reply the platform
// would refuse (CodeWindowClosed).
func (s *service) reply(ctx context.Context, a *Actor, id int64, text string, files []AttachmentInput) (ReplyResult, error) {
	var res ReplyResult
	text = cleanText(text)
	attachments, err := cleanAttachments(files)
	if err != nil {
		return res, err
	}
	if text == "" && len(attachments) == 0 {
		return res, invalid("Write a reply first.")
	}
	if n := utf8.RuneCountInString(text); n > maxReplyLen {
		return res, invalid("A reply can have at most %d characters; this one has %d.", maxReplyLen, n)
	}
	now := s.now()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		switch conversation.Status(conv.Status) {
		case conversation.StatusQueued:
			res.Claimed = true
		case conversation.StatusAssigned:
			if err := heldByOther(a, conv); err != nil {
				return err
			}
		default:
			return notHandedOff(conv.Status)
		}
		res.Window = replyWindow(conv.Platform, conv.LastInboundAt, now, s.cfg.HumanAgentTag)
		if res.Window.State == WindowClosed {
			return &Error{Status: http.StatusUnprocessableEntity, Code: CodeWindowClosed, Message: res.Window.Message}
		}
		res.HumanAgentTag = res.Window.State == WindowHumanAgent
		if res.Claimed {
			if err := store.AssignConversation(ctx, tx, id, a.ID, now); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, "claim", id, 0, map[string]any{"by_reply": true}); err != nil {
				return err
			}
			if err := notify(ctx, tx, eventAssignment, id); err != nil {
				return err
			}
		}
		res.MessageID, err = store.InsertOutbound(ctx, tx, store.OutboundMessage{
			ConversationID: id,
			Author:         string(conversation.AuthorAgent),
			AgentID:        &a.ID,
			Platform:       conv.Platform,
			Body:           text,
			Attachments:    attachments,
		}, now)
		if err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, store.SendArgs{MessageIDs: []int64{res.MessageID}}, nil); err != nil {
			return fmt.Errorf("queue reply: %w", err)
		}
		return notify(ctx, tx, eventMessage, id)
	})
	return res, err
}

// note stores an internal note, never sent to the shopper.
func (s *service) note(ctx context.Context, a *Actor, id int64, text string) (int64, error) {
	text = cleanText(text)
	if text == "" {
		return 0, invalid("Write a note first.")
	}
	if n := utf8.RuneCountInString(text); n > maxNoteLen {
		return 0, invalid("A note can have at most %d characters; this one has %d.", maxNoteLen, n)
	}
	var noteID int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := store.ConsoleConversationByID(ctx, tx, id); errors.Is(err, store.ErrNotFound) {
			return notFound("The conversation")
		} else if err != nil {
			return err
		}
		var err error
		if noteID, err = store.InsertNote(ctx, tx, id, a.ID, text, s.now()); err != nil {
			return err
		}
		return notify(ctx, tx, eventMessage, id)
	})
	return noteID, err
}

// ResolveResult is what resolving did about satisfaction.
type ResolveResult struct {
	CSATQueued bool `json:"csat_queued"`
	// CSATSkipped says why the question was not sent, when it was not:
	// "skipped" (the agent chose not to ask), "nocsat" (the store does not
	// ask), "window" (the platform takes no automated message any more).
	CSATSkipped string `json:"csat_skipped,omitempty"`
	// CSATNote says the same in words.
	CSATNote string `json:"csat_note,omitempty"`
}

// csatQuickReplies are the answers offered under the satisfaction question.
func csatQuickReplies() []conversation.QuickReply {
	qr := make([]conversation.QuickReply, 5)
	for i := range qr {
		n := fmt.Sprint(i + 1)
		qr[i] = conversation.QuickReply{Title: n, Payload: "CSAT_" + n}
	}
	return qr
}

// resolve closes a handed-off conversation and, if askCSAT and the
// platform still takes a bot message, queues the satisfaction question.
func (s *service) resolve(ctx context.Context, a *Actor, id int64, askCSAT bool) (ResolveResult, error) {
	var res ResolveResult
	now := s.now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !handedOff(conv.Status) {
			return notHandedOff(conv.Status)
		}
		if err := heldByOther(a, conv); err != nil {
			return err
		}
		switch {
		case !askCSAT:
			res.CSATSkipped, res.CSATNote = "skipped", "The satisfaction question was skipped."
		case s.cfg.CSATQuestion == "":
			res.CSATSkipped, res.CSATNote = "nocsat", "This store does not ask for satisfaction ratings."
		case !botWindowOpen(conv.Platform, conv.LastInboundAt, now):
			res.CSATSkipped, res.CSATNote = "window", "The satisfaction question was not sent: it is more than 24 hours since the shopper's last "+
				"message, and the platform takes no automated message after that."
		default:
			msgID, err := store.InsertOutbound(ctx, tx, store.OutboundMessage{
				ConversationID: id,
				Author:         string(conversation.AuthorBot),
				Platform:       conv.Platform,
				Body:           s.cfg.CSATQuestion,
				QuickReplies:   csatQuickReplies(),
			}, now)
			if err != nil {
				return err
			}
			if _, err := s.jobs.InsertTx(ctx, tx, store.SendArgs{MessageIDs: []int64{msgID}}, nil); err != nil {
				return fmt.Errorf("queue satisfaction question: %w", err)
			}
			res.CSATQueued = true
		}
		var asked *time.Time
		if res.CSATQueued {
			asked = &now
		}
		if err := store.ResolveConversation(ctx, tx, id, a.ID, asked, now); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, "resolve", id, map[string]any{"csat": res.CSATQueued}, eventStatus)
	})
	return res, err
}

// handBack gives a handed-off conversation back to the bot.
func (s *service) handBack(ctx context.Context, a *Actor, id int64) error {
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if !handedOff(conv.Status) {
			return notHandedOff(conv.Status)
		}
		if err := heldByOther(a, conv); err != nil {
			return err
		}
		if err := store.HandBackConversation(ctx, tx, id, now); err != nil {
			return err
		}
		return s.changed(ctx, tx, a, "handback", id, nil, eventStatus)
	})
}

// LinkResult is what linking two customers moved.
type LinkResult struct {
	CustomerID      int64   `json:"customer_id"`
	MergedID        int64   `json:"merged_customer_id"`
	Identities      int64   `json:"identities_moved"`
	ConversationIDs []int64 `json:"conversations_moved"`
}

// linkCustomers merges customer fromID into intoID: the same person
// writing on two channels. Their identities and conversations move, and
// the merge is audited.
func (s *service) linkCustomers(ctx context.Context, a *Actor, intoID, fromID int64) (LinkResult, error) {
	res := LinkResult{CustomerID: intoID, MergedID: fromID}
	if fromID <= 0 {
		return res, invalid("Enter the number of the customer to link.")
	}
	if intoID == fromID {
		return res, invalid("A customer cannot be linked to themselves.")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		merged, err := store.MergeCustomers(ctx, tx, intoID, fromID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return notFound("The customer")
		case errors.Is(err, store.ErrAlreadyMerged):
			return newError(http.StatusConflict, CodeAlreadyMerged, "One of these customers was already linked to another.")
		case err != nil:
			return err
		}
		res.Identities, res.ConversationIDs = merged.Identities, merged.ConversationIDs
		if res.ConversationIDs == nil {
			res.ConversationIDs = []int64{}
		}
		if err := s.audit(ctx, tx, a, "link_customers", 0, intoID, map[string]any{
			"from_customer_id": fromID, "identities": merged.Identities, "conversations": merged.ConversationIDs,
		}); err != nil {
			return err
		}
		for _, id := range merged.ConversationIDs {
			if err := notify(ctx, tx, eventStatus, id); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}
