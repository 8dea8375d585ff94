package turn_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/turn"
	"github.com/frontdesk/frontdesk/flows/understand"
	"github.com/frontdesk/frontdesk/orders"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // a Wednesday

func env(t *testing.T) *turn.Env {
	t.Helper()
	madrid, err := time.LoadLocation("Europe/Madrid")
	require.NoError(t, err)
	cfg := flows.DefaultConfig()
	hours := turn.Hours{Loc: madrid}
	for d := time.Monday; d <= time.Friday; d++ {
		hours.Days[d] = turn.Span{From: 9 * 60, To: 18 * 60}
	}
	return &turn.Env{Store: "Acme", Hours: hours, Texts: cfg.Texts, DefaultLocale: "en",
		Matcher: understand.NewMatcher(cfg.Intents), Policy: turn.Policy{ReturnWindowDays: 30}}
}

func newTurn(t *testing.T, data map[string]string, ev conversation.BotEvent) *turn.Turn {
	t.Helper()
	if ev.Now.IsZero() {
		ev.Now = now
	}
	tt := turn.New(env(t), conversation.FlowState{Flow: "menu", State: "menu", Data: data}, ev)
	tt.M = flows.NewMenuMachine("menu")
	return tt
}

func TestDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		when   time.Time
		locale string
		want   string
	}{
		{now, "en", "today"},
		{now.Add(24 * time.Hour), "en", "tomorrow"},
		{now.Add(-24 * time.Hour), "en", "yesterday"},
		{now.Add(3 * 24 * time.Hour), "en", "on Saturday"},
		{now.Add(-5 * 24 * time.Hour), "en", "on Friday"},
		{now.Add(10 * 24 * time.Hour), "en", "on 5 December"},
		{now.Add(40 * 24 * time.Hour), "en", "on 4 January 2027"},
		{now.Add(3 * 24 * time.Hour), "es", "el sábado"},
		{now.Add(10 * 24 * time.Hour), "es", "el 5 de diciembre"},
		{now.Add(24 * time.Hour), "es", "mañana"},
		// 23:30 UTC is already tomorrow in Madrid.
		{time.Date(2026, 11, 25, 23, 30, 0, 0, time.UTC), "en", "tomorrow"},
	}
	for _, tt := range tests {
		tr := newTurn(t, map[string]string{"locale": tt.locale}, conversation.BotEvent{})
		require.Equal(t, tt.want, tr.Day(tt.when), "%s %s", tt.when, tt.locale)
	}
	tr := newTurn(t, nil, conversation.BotEvent{})
	require.Equal(t, "tomorrow at 09:00", tr.DayTime(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)))
}

func TestHours(t *testing.T) {
	t.Parallel()
	h := env(t).Hours
	require.True(t, h.Open(now))                                             // 13:00 in Madrid
	require.False(t, h.Open(time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC))) // 18:00 in Madrid
	next, ok := h.NextOpen(time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC))   // Friday night
	require.True(t, ok)
	require.Equal(t, time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC), next.UTC()) // Monday 09:00 CET
	_, ok = turn.Hours{Loc: time.UTC}.NextOpen(now)
	require.False(t, ok, "never open")
	require.True(t, turn.Hours{Loc: time.UTC, Always: true}.Open(now))
}

func TestTextsFillPlaceholdersAndTidyEmptyOnes(t *testing.T) {
	t.Parallel()
	tr := newTurn(t, map[string]string{"order": "1001"}, conversation.BotEvent{})
	require.Equal(t, "Let me check order #1001…", tr.T("checking_order"))
	require.Equal(t, "Hi, welcome back! What can I help you with?", tr.T("welcome_back"), "no name, no stray space")
	tr = newTurn(t, nil, conversation.BotEvent{Shopper: conversation.Shopper{Name: "Ana García"}})
	require.Equal(t, "Hi Ana, welcome back! What can I help you with?", tr.T("welcome_back"))
	require.Equal(t, "no_such_key", tr.T("no_such_key"))
}

func TestLocaleNeedsTwoWordsToChange(t *testing.T) {
	t.Parallel()
	require.Equal(t, "es", newTurn(t, nil, conversation.BotEvent{Text: "hola"}).Locale())
	require.Equal(t, "es", newTurn(t, map[string]string{"locale": "es"}, conversation.BotEvent{Text: "thanks"}).Locale())
	require.Equal(t, "en", newTurn(t, map[string]string{"locale": "es"}, conversation.BotEvent{Text: "thanks, where is my order"}).Locale())
	require.Equal(t, "en", newTurn(t, nil, conversation.BotEvent{Text: "1001"}).Locale(), "the default")
}

func TestOptionsAndNumberedChoices(t *testing.T) {
	t.Parallel()
	tr := newTurn(t, nil, conversation.BotEvent{Platform: conversation.WhatsApp})
	tr.Reply("Pick one", turn.Option{Title: "A very long item title indeed", Payload: "ITEM:A"}, turn.Option{Title: "B", Payload: "ITEM:B"})
	d := tr.Decision()
	require.Equal(t, "Pick one\n\n1. A very long item title indeed\n2. B", d.Replies[0].Text)
	require.Equal(t, "A very long item ti…", d.Replies[0].QuickReplies[0].Title)
	require.Equal(t, "ITEM:A|ITEM:B", d.Next.Data["choices"])

	tr = newTurn(t, d.Next.Data, conversation.BotEvent{Text: "2"})
	require.Equal(t, "ITEM:B", tr.Payload)
	tr = newTurn(t, d.Next.Data, conversation.BotEvent{Text: "1 and 2"})
	require.Equal(t, []string{"ITEM:A", "ITEM:B"}, tr.Picked())
	tr = newTurn(t, d.Next.Data, conversation.BotEvent{Text: "3"})
	require.Empty(t, tr.Payload, "no third option")
	tr.Say("fallback")
	require.Empty(t, tr.Decision().Next.Data["choices"], "a reply without options forgets them")
}

func TestFailCounts(t *testing.T) {
	t.Parallel()
	tr := newTurn(t, nil, conversation.BotEvent{})
	require.Equal(t, 1, tr.Fail("verify"))
	require.Equal(t, 2, tr.Fail("verify"))
	require.Equal(t, 1, tr.Fail("items"), "another step starts again")
	tr.Passed("items")
	require.Equal(t, 1, tr.Fail("items"))
}

func TestTimers(t *testing.T) {
	t.Parallel()
	tr := newTurn(t, nil, conversation.BotEvent{})
	tr.SetTimer("photo_reminder", 30*time.Minute)
	tr.SetTimer("ignored", 0)
	d := tr.Decision()
	require.Equal(t, []conversation.Effect{{Kind: conversation.EffectTimer, Args: map[string]string{"name": "photo_reminder"},
		Delay: 30 * time.Minute}}, d.Effects)

	fire := func(name string, at time.Time) bool {
		return newTurn(t, d.Next.Data, conversation.BotEvent{Kind: conversation.KindTimer, Timer: name, Now: at}).
			TimerFired(name)
	}
	require.True(t, fire("photo_reminder", now.Add(30*time.Minute)))
	require.False(t, fire("photo_reminder", now.Add(10*time.Minute)), "an earlier timer of the same name")
	require.False(t, fire("other", now.Add(time.Hour)))
}

func TestMoney(t *testing.T) {
	t.Parallel()
	require.Equal(t, "100.50", turn.FormatMoney(10050))
	require.Equal(t, "0.07", turn.FormatMoney(7))
	require.Equal(t, "-1.00", turn.FormatMoney(-100))
	tr := newTurn(t, map[string]string{"locale": "es"}, conversation.BotEvent{})
	require.Equal(t, "49,00 EUR", tr.Money(orders.Money(4900), "EUR"))
}
