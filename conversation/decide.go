package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/store"
)

// summaryMessages is how many recent messages a hand-off summary quotes.
const summaryMessages = 6

// botWork is what a decision leaves to do after its state is written.
type botWork struct {
	replies []store.Reply
	effects []Effect
	handoff *Handoff
}

// decide asks the bot about ev on the locked conversation conv and folds
// the decision into u. A hand-off moves the conversation to the queue with
// a summary an agent can read in ten seconds.
func (s *Service) decide(ctx context.Context, tx pgx.Tx, conv store.Conversation, ev BotEvent, u *store.ConversationUpdate) (botWork, error) {
	ev.Platform = Platform(conv.Platform)
	ev.Shopper = Shopper{Name: conv.ShopperName, ChannelUserID: conv.ExternalID}
	if ev.Platform == WhatsApp {
		ev.Shopper.Phone = "+" + conv.ExternalID
	}
	d := s.bot.Decide(FlowState{Flow: conv.Flow, State: conv.FlowState, Data: conv.FlowData}, ev)
	u.Flow, u.FlowState, u.FlowData = d.Next.Flow, d.Next.State, d.Next.Data
	work := botWork{effects: d.Effects, handoff: d.Handoff}
	for _, r := range d.Replies {
		reply, err := store.NewReply(r.Text, r.QuickReplies)
		if err != nil {
			return work, err
		}
		work.replies = append(work.replies, reply)
	}
	if d.Handoff == nil {
		return work, nil
	}
	summary := d.Handoff.Summary
	summary.Customer, summary.Channel = conv.ShopperName, ev.Platform
	recent, err := store.RecentMessages(ctx, tx, conv.ID, summaryMessages)
	if err != nil {
		return work, err
	}
	for _, m := range slices.Backward(recent) {
		summary.LastMessages = append(summary.LastMessages, SummaryEntry{Author: Author(m.Author), Text: m.Body, At: m.CreatedAt})
	}
	if ev.Kind == KindMessage || ev.Kind == KindPostback {
		// The message that triggered the hand-off is written with it.
		summary.LastMessages = append(summary.LastMessages, SummaryEntry{Author: AuthorCustomer, Text: ev.Text, At: ev.Now})
	}
	now := ev.Now
	u.Status, u.HandoffReason, u.Priority, u.HandedOffAt = string(StatusQueued), d.Handoff.Reason, d.Handoff.Priority, &now
	u.HandoffSummary = summary
	return work, nil
}

// jobBatch collects the jobs of the events one transaction applies; they
// are inserted together, in one statement, before it commits. All their
// replies go out together — in one dispatch after the commit or, without
// a dispatcher, in one send job — which keeps each conversation's replies
// in order and sends different conversations' at the same time: a job per
// event would cost a queue insert, fetch and completion per reply.
type jobBatch struct {
	replies []store.OutboundDelivery
	others  []river.InsertManyParams
	// claimedUntil is when the dispatcher's claim on the replies lapses;
	// nil without a dispatcher.
	claimedUntil *time.Time
	// committed is the state each applied message left its conversation
	// in, remembered once the transaction commits.
	committed []recentConversation
}

// newJobBatch starts the jobs of a transaction beginning now.
func (s *Service) newJobBatch() jobBatch {
	if s.dispatcher == nil {
		return jobBatch{}
	}
	t := s.nowFn().Add(s.dispatchClaim)
	return jobBatch{claimedUntil: &t}
}

// insertJobs inserts the jobs in tx. The replies go out in one send job or,
// with a dispatcher, by dispatch once tx has committed.
func (s *Service) insertJobs(ctx context.Context, tx pgx.Tx, jobs jobBatch) error {
	all := jobs.others
	if len(jobs.replies) > 0 && s.dispatcher == nil {
		ids := make([]int64, len(jobs.replies))
		for i, r := range jobs.replies {
			ids[i] = r.ID
		}
		all = append([]river.InsertManyParams{{Args: store.SendArgs{MessageIDs: ids}}}, all...)
	}
	if len(all) == 0 {
		return nil
	}
	if _, err := s.jobs.InsertManyTx(ctx, tx, all); err != nil {
		return fmt.Errorf("queue replies and effects: %w", err)
	}
	return nil
}

// dispatch hands the replies of a committed batch to the dispatcher.
func (s *Service) dispatch(jobs jobBatch) {
	if s.dispatcher != nil && len(jobs.replies) > 0 {
		s.dispatcher.Dispatch(jobs.replies, *jobs.claimedUntil)
	}
}

// queueWork adds to jobs the replies the bot wrote to conv (as the write
// left it) under replyIDs, and one job per effect (delayed ones scheduled
// for later).
func (s *Service) queueWork(ctx context.Context, tx pgx.Tx, jobs *jobBatch, conv store.Conversation, replyIDs []int64, work botWork, now time.Time) error {
	log := zerolog.Ctx(ctx)
	if work.handoff != nil {
		log.Info().Stringer("conversation_id", ConversationID(conv.ID)).
			Str("reason", work.handoff.Reason).Int("priority", work.handoff.Priority).Msg("Conversation handed off")
		if err := store.NotifyConsole(ctx, tx, store.ConsoleEvent{Type: "handoff", ConversationID: conv.ID}); err != nil {
			return err
		}
	}
	replies, err := store.QueuedDeliveries(conv, string(AuthorBot), work.replies, replyIDs)
	if err != nil {
		return err
	}
	jobs.replies = append(jobs.replies, replies...)
	for _, e := range work.effects {
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode effect: %w", err)
		}
		p := river.InsertManyParams{Args: store.EffectArgs{ConversationID: conv.ID, Effect: raw}}
		if e.Delay > 0 {
			p.InsertOpts = &river.InsertOpts{ScheduledAt: now.Add(e.Delay)}
		}
		jobs.others = append(jobs.others, p)
	}
	return nil
}

// ApplyBotEvent gives the bot an event that is not a platform message — an
// effect's result, a timer — on conversation id, and writes its decision
// like a message's. While a person owns the conversation it changes nothing:
// the result arrived too late to matter.
func (s *Service) ApplyBotEvent(ctx context.Context, id ConversationID, ev BotEvent) error {
	var jobs jobBatch
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		conv, err := store.LockConversation(ctx, tx, int64(id))
		if err != nil {
			return fmt.Errorf("lock conversation: %w", err)
		}
		if conv.Status != string(StatusBot) {
			zerolog.Ctx(ctx).Debug().Stringer("conversation_id", id).Str("kind", string(ev.Kind)).
				Msg("Bot event for a conversation a person owns; ignored")
			return nil
		}
		now := s.nowFn()
		ev.Now = now
		u := store.ConversationUpdate{
			Status:        conv.Status,
			Flow:          conv.Flow,
			FlowState:     conv.FlowState,
			FlowData:      conv.FlowData,
			EventsApplied: conv.EventsApplied + 1,
			HandoffReason: conv.HandoffReason,
			Priority:      conv.Priority,
		}
		work, err := s.decide(ctx, tx, conv, ev, &u)
		if err != nil {
			return err
		}
		jobs = s.newJobBatch()
		replyIDs, err := store.ApplyEvent(ctx, tx, conv.ID, conv.Platform, u, string(AuthorBot), work.replies,
			jobs.claimedUntil, now)
		if err != nil {
			return err
		}
		if err := s.queueWork(ctx, tx, &jobs, conv.Applied(u), replyIDs, work, now); err != nil {
			return err
		}
		return s.insertJobs(ctx, tx, jobs)
	})
	if err != nil {
		return err
	}
	s.dispatch(jobs)
	return nil
}
