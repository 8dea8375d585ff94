package conversation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/groupcommit"
)

// Service accepts inbound events and records outbound messages. It is safe
// for concurrent use by any number of goroutines and processes.
type Service struct {
	pool   *pgxpool.Pool
	jobs   *river.Client[pgx.Tx]
	bot    Bot
	nowFn  func() time.Time
	ingest *groupcommit.Group[[]Inbound]
	// dispatcher, when set, sends the bot's replies once they commit,
	// under a claim of dispatchClaim (see DispatchReplies).
	dispatcher    Dispatcher
	dispatchClaim time.Duration
	recent        recentConversations
}

// Dispatcher sends replies right after the transaction that wrote them
// commits; it is called in commit order, each conversation's replies in
// their order. Each reply carries a claim (see store.ReleaseSendClaims):
// until the claim lapses, the dispatcher alone sends it or hands it to
// River.
type Dispatcher interface {
	Dispatch(replies []store.OutboundDelivery, claimedUntil time.Time)
}

// DispatchReplies makes the service hand the bot's replies to d when they
// commit, claimed for claim, instead of queueing a River job for them: the
// shopper is answered without waiting for River to fetch a job, and the
// database is spared the job's three writes. Call it before the service
// is used.
func (s *Service) DispatchReplies(d Dispatcher, claim time.Duration) {
	s.dispatcher, s.dispatchClaim = d, claim
}

// Webhooks arriving together are applied in shared transactions of up to
// ingestBatch webhooks, with at most ingestRunning transactions at a time.
const (
	ingestBatch   = 32
	ingestRunning = 2
)

// NewService returns a service storing in pool, asking bot for replies and
// queueing sends on jobs (an insert-only River client is enough).
func NewService(pool *pgxpool.Pool, jobs *river.Client[pgx.Tx], bot Bot) *Service {
	s := &Service{pool: pool, jobs: jobs, bot: bot, nowFn: time.Now}
	s.ingest = groupcommit.New(ingestBatch, ingestRunning, s.commitInbound)
	return s
}

// Receive applies one webhook's events in order. It returns only when every
// event is committed or known to be a duplicate, so the caller may
// acknowledge the webhook once it returns nil. On error nothing of it is
// committed and a redelivery is safe. Webhooks received at the same time
// share a transaction (see commitInbound).
func (s *Service) Receive(ctx context.Context, events []Inbound) error {
	if len(events) == 0 {
		return nil
	}
	clean := make([]Inbound, len(events))
	for i := range events {
		clean[i] = sanitize(events[i])
	}
	return s.ingest.Do(ctx, clean)
}

// deadlockAttempts bounds how often commitInbound applies a batch that
// PostgreSQL aborted to break a deadlock.
const deadlockAttempts = 3

// commitInbound applies the events of several webhooks in one transaction.
// Events are taken in the order of their shopper, and in arrival order for
// each shopper, and the open conversations of a batch are locked up front
// in that order. A conversation that is not open yet is locked later, when
// its message is applied: a first contact, or a message after resolution.
// If another transaction (of another batch or another process) took that
// one first and now waits for one this batch holds, PostgreSQL aborts one
// of the two; a batch aborted so is applied again, and by then the other
// has gone on.
//
// A batch whose conversations are all remembered (recentConversations) is
// first applied without locking them up front; when one has changed
// since, it is applied again, locking.
func (s *Service) commitInbound(ctx context.Context, webhooks [][]Inbound) error {
	var events []Inbound
	for _, w := range webhooks {
		events = append(events, w...)
	}
	slices.SortStableFunc(events, func(a, b Inbound) int {
		return cmp.Or(cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.ChannelID, b.ChannelID),
			cmp.Compare(a.SenderID, b.SenderID))
	})
	for attempt := 1; ; attempt++ {
		err := s.applyEvents(ctx, events, true, attempt == 1)
		if errors.Is(err, store.ErrConversationChanged) {
			s.recent.forget(events)
			err = s.applyEvents(ctx, events, true, false)
		}
		if errors.Is(err, errAppliedOutOfTurn) {
			err = s.applyEvents(ctx, events, false, false)
		}
		if !store.IsDeadlock(err) || attempt == deadlockAttempts {
			return err
		}
		zerolog.Ctx(ctx).Debug().Int("attempt", attempt).Msg("Webhook batch deadlocked with another transaction; applying it again")
	}
}

// applyEvents applies events in one transaction, holding back the
// statements that apply messages when pipelined (see pipeline), and
// dispatches the replies once it has committed. With recent, it decides on
// the conversations' remembered states when it can, without locking them
// first (see recentConversations).
func (s *Service) applyEvents(ctx context.Context, events []Inbound, pipelined, recent bool) error {
	jobs := s.newJobBatch()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	tx := store.NewLazyTx(conn.Conn())
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after a commit it does nothing
	err = func() error {
		p := &pipeline{LazyTx: tx, on: pipelined}
		var locked map[store.Sender]store.Conversation
		var unlocked map[store.Sender]uint32
		ok := false
		if recent {
			locked, unlocked, ok = s.recent.unlocked(events, s.nowFn())
		}
		if !ok {
			if locked, err = lockSenders(ctx, p, events); err != nil {
				return err
			}
		}
		for _, ev := range events {
			var err error
			switch ev.Kind {
			case KindMessage, KindPostback, KindReaction:
				err = s.receiveMessage(ctx, p, ev, locked, unlocked, &jobs)
			case KindRead, KindDelivery:
				err = s.receiveReceipt(ctx, p, ev)
			case KindEcho:
				err = s.receiveEcho(ctx, p, ev, &jobs)
			case KindDeleted:
				err = s.receiveDeleted(ctx, p, ev, &jobs)
			default: // KindUnused, or a kind this version does not know
				zerolog.Ctx(ctx).Debug().Str("kind", string(ev.Kind)).Str("platform", string(ev.Platform)).
					Bool("standby", ev.Standby).Msg("Skipping an event of a kind Frontdesk does not use")
			}
			if err != nil {
				return fmt.Errorf("apply %s event: %w", ev.Kind, err)
			}
		}
		// Quiet callbacks queue no jobs: with none queued yet, the COMMIT
		// travels with the held-back statements.
		if len(jobs.others) == 0 && p.quiet() {
			if err := p.commit(ctx); err != nil {
				return fmt.Errorf("apply message events: %w", err)
			}
			return nil
		}
		if err := p.flush(ctx); err != nil {
			return fmt.Errorf("apply message events: %w", err)
		}
		if err := s.insertJobs(ctx, p, jobs); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}()
	if err != nil {
		return err
	}
	s.recent.remember(jobs.committed)
	s.dispatch(jobs)
	return nil
}

// lockSenders locks, in one statement, the open conversations of the
// shoppers whose messages events carry. The messages then apply without
// locking each on its own; locked follows each conversation as they leave it.
func lockSenders(ctx context.Context, tx pgx.Tx, events []Inbound) (map[store.Sender]store.Conversation, error) {
	var senders []store.Sender
	for _, ev := range events {
		switch ev.Kind {
		case KindMessage, KindPostback, KindReaction:
			sender := senderOf(ev)
			if len(senders) == 0 || senders[len(senders)-1] != sender { // events are sorted by sender
				senders = append(senders, sender)
			}
		}
	}
	if len(senders) == 0 {
		return nil, nil
	}
	return store.LockOpenConversationsOf(ctx, tx, senders)
}

func senderOf(ev Inbound) store.Sender {
	return store.Sender{Platform: string(ev.Platform), ChannelID: ev.ChannelID, ExternalID: ev.SenderID}
}

// receiveMessage stores a shopper's message and, while the bot owns the
// conversation, the bot's replies (added to jobs), through p, under the
// conversation's row lock: taken up front when the shopper's conversation
// is in locked, else here; or, when unlocked has its remembered row
// version, by the statement that applies the message.
func (s *Service) receiveMessage(ctx context.Context, p *pipeline, ev Inbound, locked map[store.Sender]store.Conversation, unlocked map[store.Sender]uint32, jobs *jobBatch) error {
	now := s.nowFn()
	sender := senderOf(ev)
	conv, open := locked[sender]
	var csat int
	var err error
	if !open {
		if conv, csat, err = s.lockConversation(ctx, p, ev, jobs); err != nil {
			return err
		}
	}
	log := zerolog.Ctx(ctx).With().
		Stringer("conversation_id", ConversationID(conv.ID)).
		Str("platform", string(ev.Platform)).Logger()
	seq := conv.EventsApplied + 1
	apply := store.InboundEvent{
		Message: store.NewMessage{
			ConversationID:    conv.ID,
			Author:            string(AuthorCustomer),
			Kind:              string(ev.Kind),
			Platform:          string(ev.Platform),
			PlatformMessageID: ev.PlatformMessageID,
			Body:              cmp.Or(ev.Text, ev.Reaction),
			Attachments:       ev.Attachments,
			Payload:           ev.Payload,
			ReplyTo:           ev.ReplyTo,
			Seq:               &seq,
			Status:            string(MessageReceived),
			PlatformTime:      timePtr(ev.Timestamp),
		},
		Update: store.ConversationUpdate{
			Status:        conv.Status,
			Flow:          conv.Flow,
			FlowState:     conv.FlowState,
			FlowData:      conv.FlowData,
			EventsApplied: seq,
			LastInboundAt: lastInbound(ev, now),
			HandoffReason: conv.HandoffReason,
			Priority:      conv.Priority,
		},
		ReplyAuthor: string(AuthorBot),
		RescueAt:    jobs.claimedUntil,
	}
	if xmin, ok := unlocked[sender]; ok {
		apply.Xmin = &xmin
	}
	// Reactions are history, not requests, as is what the shopper wrote
	// while another app owned the thread (standby); people own handed-off
	// threads; a satisfaction score is thanked, not discussed.
	var work botWork
	switch {
	case csat > 0:
		work.replies = []store.Reply{{Body: CSATThanks}}
		apply.Replies = work.replies
	case conv.Status == string(StatusBot) && ev.Kind != KindReaction && !ev.Standby:
		work, err = s.decide(ctx, p, conv, BotEvent{
			Kind: ev.Kind, Platform: ev.Platform, Text: ev.Text, Payload: ev.Payload,
			Attachments: ev.Attachments, Now: now,
		}, &apply.Update)
		if err != nil {
			return err
		}
		apply.Replies = work.replies
	}
	if open {
		locked[sender] = conv.Applied(apply.Update) // assumed until the write says otherwise
	}
	// The callback below sends no statement and queues no job for a bot
	// conversation whose decision needs nothing beyond its replies.
	quiet := conv.Status == string(StatusBot) && csat == 0 && work.handoff == nil &&
		len(work.effects) == 0 && (s.dispatcher != nil || len(work.replies) == 0)
	return p.apply(ctx, apply, now, quiet, func(a store.Applied) error {
		if !a.Inserted {
			if open {
				if locked[sender].EventsApplied != seq {
					return errAppliedOutOfTurn
				}
				locked[sender] = conv
			}
			log.Debug().Msg("Duplicate message ignored")
			return nil
		}
		// Consoles hear of messages in threads people own; bot threads
		// would only add notification traffic to the hot path.
		if conv.Status != string(StatusBot) {
			if err := store.NotifyConsole(ctx, p, store.ConsoleEvent{Type: "message", ConversationID: conv.ID}); err != nil {
				return err
			}
		}
		applied := conv.Applied(apply.Update)
		jobs.committed = append(jobs.committed, recentConversation{conv: applied, xmin: a.Xmin, at: now})
		return s.queueWork(ctx, p, jobs, applied, a.ReplyIDs, work, now)
	})
}

// lockConversation locks the sender's open conversation, creating the
// identity, customer and conversation on first contact. A new identity's
// profile is fetched later by a worker, never in the webhook request.
func (s *Service) lockConversation(ctx context.Context, tx pgx.Tx, ev Inbound, jobs *jobBatch) (conv store.Conversation, csat int, err error) {
	conv, err = store.LockOpenConversationOf(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID)
	if !errors.Is(err, store.ErrNotFound) {
		return conv, 0, err
	}
	ident, created, err := store.EnsureIdentity(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID)
	if err != nil {
		return conv, 0, err
	}
	if created {
		jobs.others = append(jobs.others, river.InsertManyParams{Args: store.FetchProfileArgs{IdentityID: ident.ID}})
	} else {
		// A shopper we know may be answering a resolved conversation.
		conv, csat, ok, err := afterResolution(ctx, tx, ev, s.nowFn())
		if ok || err != nil {
			return conv, csat, err
		}
	}
	conv, err = store.LockOpenConversation(ctx, tx, ident.ID, ident.CustomerID)
	if err != nil {
		return conv, 0, fmt.Errorf("lock conversation: %w", err)
	}
	return conv, 0, nil
}

// receiveReceipt moves outbound messages forward to delivered or read.
func (s *Service) receiveReceipt(ctx context.Context, tx pgx.Tx, ev Inbound) error {
	now := s.nowFn()
	var changed []int64
	if ev.Kind == KindDelivery && len(ev.DeliveredIDs) > 0 {
		ids, err := store.MarkDelivered(ctx, tx, string(ev.Platform), ev.DeliveredIDs, now)
		if err != nil {
			return err
		}
		changed = ids
	}
	if !ev.Watermark.IsZero() {
		status := "delivered"
		if ev.Kind == KindRead {
			status = "read"
		}
		ids, err := store.MarkUpTo(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID, status, ev.Watermark, now)
		if err != nil {
			return err
		}
		changed = append(changed, ids...)
	}
	return store.NotifyConsoleOf(ctx, tx, slices.Compact(slices.Sorted(slices.Values(changed))))
}

// receiveEcho handles a message the page sent. Echoes of Frontdesk's own
// sends only confirm the platform id; anything else was written by a person
// in Meta's inbox and is stored as an agent message, never answered.
func (s *Service) receiveEcho(ctx context.Context, tx pgx.Tx, ev Inbound, jobs *jobBatch) error {
	now := s.nowFn()
	// Sent at the platform's time, which receipts' watermarks compare with.
	sentAt := cmp.Or(ev.Timestamp, now)
	if id, last, ours := ParseOutboundMetadata(ev.Metadata); ours {
		if !last {
			return nil // an earlier part of a split message: the last one confirms it
		}
		return store.MarkSent(ctx, tx, id, ev.PlatformMessageID, sentAt)
	}
	return s.storeUnanswered(ctx, tx, ev, jobs, store.NewMessage{
		Direction:   string(Out),
		Author:      string(AuthorAgent),
		Body:        ev.Text,
		Attachments: ev.Attachments,
		Status:      string(MessageSent),
		SentAt:      &sentAt,
	}, now)
}

// receiveDeleted removes what a message the shopper unsent said. A message
// not stored yet (its webhook failed and will come again) is stored as
// deleted already, so that it then arrives as a duplicate: its text is not
// kept and the bot does not answer it.
func (s *Service) receiveDeleted(ctx context.Context, tx pgx.Tx, ev Inbound, jobs *jobBatch) error {
	n, err := store.MarkDeleted(ctx, tx, string(ev.Platform), ev.PlatformMessageID)
	if err != nil || n > 0 {
		return err
	}
	return s.storeUnanswered(ctx, tx, ev, jobs, store.NewMessage{
		Direction: string(In),
		Author:    string(AuthorCustomer),
		Status:    string(MessageDeleted),
	}, s.nowFn())
}

// storeUnanswered stores m, the message ev names, in the conversation it
// belongs to (lockUnansweredConversation), without the bot answering it.
func (s *Service) storeUnanswered(ctx context.Context, tx pgx.Tx, ev Inbound, jobs *jobBatch, m store.NewMessage, now time.Time) error {
	conv, err := s.lockUnansweredConversation(ctx, tx, ev, jobs)
	if err != nil {
		return err
	}
	m.ConversationID, m.Kind, m.Platform = conv.ID, string(KindMessage), string(ev.Platform)
	m.PlatformMessageID, m.PlatformTime = ev.PlatformMessageID, timePtr(ev.Timestamp)
	_, _, err = store.InsertMessage(ctx, tx, m, now)
	return err
}

// lockUnansweredConversation finds the conversation of a message the bot
// does not answer (a page's own message, one the shopper unsent): the open
// one, else the last resolved one — such a message does not reopen a
// conversation — else a new one.
func (s *Service) lockUnansweredConversation(ctx context.Context, tx pgx.Tx, ev Inbound, jobs *jobBatch) (store.Conversation, error) {
	conv, err := store.LockOpenConversationOf(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID)
	if !errors.Is(err, store.ErrNotFound) {
		return conv, err
	}
	last, err := store.LockLastResolvedConversation(ctx, tx, string(ev.Platform), ev.ChannelID, ev.SenderID)
	if err == nil {
		return last.Conversation, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return conv, err
	}
	conv, _, err = s.lockConversation(ctx, tx, ev, jobs)
	return conv, err
}

func lastInbound(ev Inbound, now time.Time) *time.Time {
	if !ev.Timestamp.IsZero() && ev.Timestamp.Before(now) {
		return &ev.Timestamp
	}
	return &now
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
