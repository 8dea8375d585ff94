package handoff

import (
	"bufio"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/frontdesk/frontdesk/store"
)

// Live event types that do not come from the database.
const (
	// liveReady: the stream is connected and listening; changes from now
	// on will arrive. After a reconnection of the listener it also means
	// "you may have missed something: refresh".
	liveReady = "ready"
	// liveResync: this stream fell behind and dropped events: refresh.
	liveResync = "resync"
)

// liveEvent is what a console stream sends: a store.ConsoleEvent, or one
// of the types above with no conversation.
type liveEvent = store.ConsoleEvent

// hub fans the console notifications out to the open streams of this
// process. It holds one dedicated connection that LISTENs while any
// stream is open (and for a grace period after the last one closes, so
// that moving between pages does not reconnect), reconnecting with
// backoff when the connection breaks.
type hub struct {
	connConfig *pgx.ConnConfig
	// idle is how long the listener outlives the last stream.
	idle time.Duration

	mu        sync.Mutex
	subs      map[*subscriber]struct{}
	gen       int                // of the running listener; bumped on each start
	stop      context.CancelFunc // the running listener's; nil when none runs
	listening bool
	idleTimer *time.Timer
	closed    bool // the server shut down: listen no more
}

type subscriber struct {
	ch     chan liveEvent
	lagged atomic.Bool
}

func newHub(connConfig *pgx.ConnConfig) *hub {
	return &hub{connConfig: connConfig, idle: 30 * time.Second, subs: map[*subscriber]struct{}{}}
}

// subscribe adds a stream and starts the listener if none runs. log is
// the listener's logger when this starts it.
func (h *hub) subscribe(log zerolog.Logger) *subscriber {
	s := &subscriber{ch: make(chan liveEvent, 64)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[s] = struct{}{}
	if h.idleTimer != nil {
		h.idleTimer.Stop()
		h.idleTimer = nil
	}
	if h.stop == nil && !h.closed {
		ctx, cancel := context.WithCancel(log.WithContext(context.Background()))
		h.gen++
		h.stop = cancel
		h.listening = false
		go h.run(ctx, h.gen)
	}
	if h.listening {
		s.ch <- liveEvent{Type: liveReady}
	}
	return s
}

// unsubscribe removes a stream. When it was the last, the listener stops
// after the grace period, or at once if the server is shutting down.
func (h *hub) unsubscribe(s *subscriber, shuttingDown bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
	if len(h.subs) > 0 || h.stop == nil {
		return
	}
	if shuttingDown {
		h.stopLocked()
		return
	}
	if h.idleTimer == nil {
		h.idleTimer = time.AfterFunc(h.idle, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.subs) == 0 {
				h.stopLocked()
			}
		})
	}
}

// close stops the listener for good; streams still open get no more
// events. The server calls it when it shuts down.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.stopLocked()
}

func (h *hub) stopLocked() {
	if h.idleTimer != nil {
		h.idleTimer.Stop()
		h.idleTimer = nil
	}
	if h.stop != nil {
		h.stop()
		h.stop = nil
	}
	h.listening = false
}

// broadcast hands ev to every stream without blocking: a stream whose
// buffer is full is marked lagged and told to refresh instead.
func (h *hub) broadcast(gen int, ev liveEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen {
		return // a stopped listener's last words
	}
	if ev.Type == liveReady {
		h.listening = true
	}
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			s.lagged.Store(true)
		}
	}
}

func (h *hub) setNotListening(gen int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen == h.gen {
		h.listening = false
	}
}

// run keeps a LISTEN connection until ctx ends.
func (h *hub) run(ctx context.Context, gen int) {
	log := zerolog.Ctx(ctx)
	backoff := 100 * time.Millisecond
	for {
		err := h.listen(ctx, gen)
		h.setNotListening(gen)
		if ctx.Err() != nil {
			return
		}
		log.Warn().Err(err).Dur("retry_in", backoff).Msg("Console listener lost its database connection")
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// listen connects, LISTENs, announces readiness and forwards
// notifications until the connection fails or ctx ends.
func (h *hub) listen(ctx context.Context, gen int) error {
	conn, err := pgx.ConnectConfig(ctx, h.connConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{store.ConsoleChannel}.Sanitize()); err != nil {
		return err
	}
	h.broadcast(gen, liveEvent{Type: liveReady})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var ev liveEvent
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil || ev.Type == "" {
			zerolog.Ctx(ctx).Warn().Msg("Ignoring a malformed console notification")
			continue
		}
		h.broadcast(gen, ev)
	}
}

// heartbeat is how often an idle stream writes a comment line, so that a
// client that went away is noticed and proxies keep the connection.
const heartbeat = 15 * time.Second

// events streams live console events as server-sent events: a "ready"
// event once changes are being listened for, then one event per change,
// each a JSON object {"type": …, "conversation_id": …}. Events name
// conversations only; clients fetch what they show. The stream ends when
// the client goes away or the server shuts down; EventSource reconnects.
func (h *handler) events(c *fiber.Ctx, _ *Actor) error {
	done := c.Context().Done() // closed when the server shuts down
	sub := h.hub.subscribe(*zerolog.Ctx(c.UserContext()))
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-cache, no-store")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		shuttingDown := false
		defer func() { h.hub.unsubscribe(sub, shuttingDown) }()
		w.WriteString("retry: 2000\n\n") //nolint:errcheck // a failure shows at Flush
		if w.Flush() != nil {
			return
		}
		ticker := time.NewTicker(heartbeat)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				shuttingDown = true
				return
			case ev := <-sub.ch:
				writeLiveEvent(w, ev)
				if sub.lagged.Swap(false) {
					writeLiveEvent(w, liveEvent{Type: liveResync})
				}
			case <-ticker.C:
				w.WriteString(": ping\n\n") //nolint:errcheck
			}
			if w.Flush() != nil {
				return
			}
		}
	})
	return nil
}

func writeLiveEvent(w *bufio.Writer, ev liveEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	w.WriteString("data: ") //nolint:errcheck
	w.Write(b)              //nolint:errcheck
	w.WriteString("\n\n")   //nolint:errcheck
}
