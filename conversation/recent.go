package conversation

import (
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/store"
)

// recentConversations remembers, for each shopper, the state in which this
// process's last commit left the shopper's open conversation, and the row
// version it wrote (store.Applied.Xmin).
//
// A batch of webhooks whose shoppers are all remembered is decided on
// those states without locking first: each apply statement takes its
// conversation's lock itself and writes only if the row is still the
// version remembered (store.InboundEvent.Xmin). BEGIN, the applies and
// COMMIT then go to PostgreSQL in one round trip instead of two. If an
// agent, an effect's result or another process changed a conversation in
// between, the transaction fails with store.ErrConversationChanged and the
// batch is applied again the usual way, locking first.
type recentConversations struct {
	mu sync.Mutex
	m  map[store.Sender]recentConversation
}

type recentConversation struct {
	conv store.Conversation
	xmin uint32
	at   time.Time
}

const (
	// recentFor is how long a remembered state is used: a shopper's
	// messages arrive seconds apart while they chat.
	recentFor = time.Minute
	// recentMax bounds the memory: past it, everything is forgotten.
	recentMax = 100_000
)

// unlocked returns the remembered conversations of the senders of events,
// with their row versions, when the batch can be applied on them without
// locking: every event is a shopper's message to a conversation the bot
// owns, no shopper has two, and each was remembered less than recentFor
// ago. The shopper's name must be known too: it is fetched once, after the
// first message, without changing the conversation's row.
func (r *recentConversations) unlocked(events []Inbound, now time.Time) (map[store.Sender]store.Conversation, map[store.Sender]uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	convs := make(map[store.Sender]store.Conversation, len(events))
	xmins := make(map[store.Sender]uint32, len(events))
	for _, ev := range events {
		switch ev.Kind {
		case KindMessage, KindPostback, KindReaction:
		default:
			return nil, nil, false
		}
		sender := senderOf(ev)
		c, ok := r.m[sender]
		if _, twice := convs[sender]; twice || !ok || now.Sub(c.at) >= recentFor ||
			c.conv.Status != string(StatusBot) || c.conv.ShopperName == "" {
			return nil, nil, false
		}
		convs[sender], xmins[sender] = c.conv, c.xmin
	}
	return convs, xmins, true
}

// remember keeps the states a transaction committed.
func (r *recentConversations) remember(committed []recentConversation) {
	if len(committed) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m)+len(committed) > recentMax {
		r.m = make(map[store.Sender]recentConversation)
	}
	for _, c := range committed {
		r.m[c.conv.Sender()] = c
	}
}

// forget drops what is remembered of the senders of events.
func (r *recentConversations) forget(events []Inbound) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range events {
		delete(r.m, senderOf(ev))
	}
}
