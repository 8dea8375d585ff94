package flows_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/damage"
	"github.com/frontdesk/frontdesk/flows/flowtest"
	"github.com/frontdesk/frontdesk/flows/returns"
	"github.com/frontdesk/frontdesk/flows/tracking"
	"github.com/frontdesk/frontdesk/orders"
)

var update = flag.Bool("update", false, "rewrite golden files")

type step = flowtest.Step

var menuPayloads = []string{flows.PayloadTrack, flows.PayloadReturn, flows.PayloadDamage, flows.PayloadPerson}

func TestRouterTranscripts(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tests := []struct {
		name     string
		platform conversation.Platform
		steps    []step
	}{
		{name: "first contact is greeted as automated, with the menu", steps: []step{
			{Say: "hello", Reply: "Hi! I'm the automated assistant of Acme.", State: "menu/menu", Options: menuPayloads},
		}},
		{name: "unknown text shows the menu again, twice is a person", steps: []step{
			{Say: "hello", State: "menu/menu"},
			{Say: "blue", Reply: "Sorry, I didn't catch that.", State: "menu/menu", Options: menuPayloads},
			{Say: "green", Reply: "I'm passing you to a person", State: "menu/handed_off",
				Handoff: "not understood", Priority: conversation.PriorityNormal},
		}},
		{name: "an understood message resets the misunderstanding count", steps: []step{
			{Say: "hello"},
			{Say: "blue", Reply: "Sorry, I didn't catch that."},
			{Say: "thanks", Reply: "You're welcome!"},
			{Say: "green", Reply: "Sorry, I didn't catch that."},
		}},
		{name: "a topic on first contact introduces the bot and starts the flow", steps: []step{
			{Say: "hi, where is my order #1001?", Reply: "I'm the automated assistant of Acme", State: "tracking/looking_up",
				Effect: "lookup_order", Args: map[string]string{"order": "1001"}},
		}},
		{name: "an order number alone is a tracking question", steps: []step{
			{Say: "hello"},
			{Say: "#1001", Reply: "Let me check order #1001…", State: "tracking/looking_up", Effect: "lookup_order"},
		}},
		{name: "menu buttons start their flows", steps: []step{
			{Say: "hello"},
			{Payload: flows.PayloadTrack, Say: "Track my order", Reply: "What's your order number?", State: "tracking/ask_order"},
			{Payload: flows.PayloadReturn, Say: "Return an item", Reply: "I can help with a return", State: "returns/ask_order"},
			{Payload: flows.PayloadDamage, Say: "Damaged item", Reply: "I'm sorry it arrived damaged — let's fix it.", State: "damage/ask_order"},
			{Payload: flows.PayloadPerson, Say: "Talk to a person", Reply: "Okay, I'm passing you to a person", State: "damage/handed_off",
				Handoff: "asked for a person", Priority: conversation.PriorityElevated},
		}},
		{name: "on WhatsApp the menu is numbered and a number picks", platform: conversation.WhatsApp, steps: []step{
			{Say: "hello", Reply: "1. Track my order\n2. Return an item\n3. Damaged item\n4. Talk to a person"},
			{Say: "2", Reply: "I can help with a return", State: "returns/ask_order"},
		}},
		{name: "numbers work on Messenger too", steps: []step{
			{Say: "hello", Check: func(t *testing.T, d conversation.Decision) {
				require.NotContains(t, d.Replies[0].Text, "1. Track my order", "Messenger shows quick replies")
			}},
			{Say: "4", Handoff: "asked for a person", Priority: conversation.PriorityElevated},
		}},
		{name: "spanish is answered in spanish", steps: []step{
			{Say: "hola", Reply: "¡Hola! Soy el asistente automático de Acme.", Options: menuPayloads,
				Check: func(t *testing.T, d conversation.Decision) {
					require.Equal(t, "Seguir mi pedido", d.Replies[0].QuickReplies[0].Title)
					require.Equal(t, "es", d.Next.Data["locale"])
				}},
			{Say: "ok", Reply: "¡De nada!", Check: func(t *testing.T, d conversation.Decision) {
				require.Equal(t, "es", d.Next.Data["locale"], "one ambiguous word does not switch")
			}},
			{Say: "quiero devolver algo", Reply: "Claro, te ayudo con la devolución.", State: "returns/ask_order"},
		}},
		{name: "a thumbs-up is thanks", steps: []step{
			{Say: "hello"},
			{Attach: []conversation.Attachment{{Type: "sticker", StickerID: "369239263222822"}}, Reply: "You're welcome!"},
		}},
		{name: "stale events change nothing", steps: []step{
			{Say: "hello", State: "menu/menu"},
			{Result: flowtest.Found(flowtest.Order()), NoReply: true, NoEffects: true, State: "menu/menu"},
			{Timer: tracking.TimerFollowUp, NoReply: true, State: "menu/menu"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flowtest.Transcript{Bot: bot, Platform: tt.platform}.Run(t, tt.steps)
		})
	}
}

func TestMisunderstoodHandoffCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) { c.Policies.HandoffAfterMisunderstood = 0 })
	steps := []step{{Say: "message 0", Reply: "Hi! I'm the automated assistant"}}
	for range 20 {
		steps = append(steps, step{Say: "message 1", Reply: "Sorry, I didn't catch that", State: "menu/menu"})
	}
	flowtest.Transcript{Bot: bot}.Run(t, steps)
}

func TestAfterHandBackTheBotStartsAfresh(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tr := flowtest.Transcript{Bot: bot, Shopper: conversation.Shopper{Name: "Ana García"}}
	state := tr.Run(t, []step{
		{Say: "hello"},
		{Say: "agent", State: "menu/handed_off", Handoff: "asked for a person", Priority: conversation.PriorityElevated},
	})
	tr.State = state
	tr.Run(t, []step{{Say: "hello again", Reply: "Hi Ana, welcome back!", State: "menu/menu", Options: menuPayloads,
		Check: func(t *testing.T, d conversation.Decision) {
			require.NotContains(t, d.Replies[0].Text, "automated assistant")
			require.Empty(t, d.Next.Data["handed_off"])
		}}})

	// Handed off in the middle of a flow, and back with a new question.
	tr.State = conversation.FlowState{Flow: returns.Name, State: "handed_off", Data: map[string]string{
		"handed_off": "1", "locale": "en", "items": "VASE-1", "order": "1001"}}
	tr.Run(t, []step{{Say: "where is my order 1002?", Reply: "Let me check order #1002…", State: "tracking/looking_up",
		Check: func(t *testing.T, d conversation.Decision) {
			require.NotContains(t, d.Replies[0].Text, "automated assistant")
			require.Empty(t, d.Next.Data["items"], "the old flow's slots are gone")
		}}})
}

// TestEveryStateHandsOffOnRequest walks every state of every machine: a
// person is always one message away.
func TestEveryStateHandsOffOnRequest(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	snap, err := json.Marshal(flowtest.Order(flowtest.Delivered))
	require.NoError(t, err)
	machines := map[string][]string{
		flows.FlowMenu: flows.MenuStates(),
		tracking.Name:  tracking.States(),
		returns.Name:   returns.States(),
		damage.Name:    damage.States(),
	}
	for flow, states := range machines {
		for _, state := range states {
			for _, words := range []string{"agent", "I want a real person", "humano"} {
				data := map[string]string{"locale": "en", "order": "1001", "snap": string(snap), "verified": "email",
					"items": "VASE-1", "item": "VASE-1"}
				d := bot.Decide(conversation.FlowState{Flow: flow, State: state, Data: data},
					conversation.BotEvent{Kind: conversation.KindMessage, Text: words, Now: flowtest.Now})
				require.NotNil(t, d.Handoff, "%s/%s: %q", flow, state, words)
				require.Equal(t, "asked for a person", d.Handoff.Reason, "%s/%s", flow, state)
				require.Equal(t, conversation.PriorityElevated, d.Handoff.Priority)
				require.Equal(t, "handed_off", d.Next.State, "%s/%s", flow, state)
				require.Len(t, d.Replies, 1)
				require.True(t, strings.HasPrefix(d.Replies[0].Text, "Okay, I'm passing you to a person"), d.Replies[0].Text)
				require.Equal(t, "1001", d.Handoff.Summary.Order)
			}
		}
	}
}

func TestEscalationRules(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	tests := []struct {
		name     string
		say      string
		reason   string
		priority int
		reply    string
		trigger  string
	}{
		{name: "chargeback", say: "I'll file a chargeback with my bank", reason: "chargeback or legal threat",
			priority: conversation.PriorityHigh, reply: "as a priority"},
		{name: "lawyer", say: "my lawyer will hear about this", reason: "chargeback or legal threat", priority: conversation.PriorityHigh},
		{name: "scam", say: "this shop is a scam", reason: "chargeback or legal threat", priority: conversation.PriorityHigh},
		{name: "report you", say: "I will report you", reason: "chargeback or legal threat", priority: conversation.PriorityHigh},
		{name: "refund threat", say: "I want my money back now", reason: "chargeback or legal threat", priority: conversation.PriorityHigh},
		{name: "denuncia", say: "voy a poner una denuncia", reason: "chargeback or legal threat", priority: conversation.PriorityHigh,
			reply: "Paso esto con prioridad"},
		{name: "legal beats a person request", say: "get me a human or I call my lawyer", reason: "chargeback or legal threat",
			priority: conversation.PriorityHigh},
		{name: "person", say: "real person please", reason: "asked for a person", priority: conversation.PriorityElevated,
			reply: "Okay, I'm passing you to a person", trigger: "real person please"},
		{name: "persona", say: "quiero hablar con una persona", reason: "asked for a person", priority: conversation.PriorityElevated,
			reply: "te paso con una persona"},
		{name: "anger wording", say: "this is ridiculous", reason: "frustrated shopper", priority: conversation.PriorityElevated,
			reply: "I'm sorry about this."},
		{name: "shouting", say: "WHERE IS MY PACKAGE", reason: "frustrated shopper", priority: conversation.PriorityElevated,
			trigger: "shouting in capitals: WHERE IS MY PACKAGE"},
		{name: "exclamation marks", say: "where is my order!!!", reason: "frustrated shopper", priority: conversation.PriorityElevated,
			trigger: "repeated exclamation marks: where is my order!!!"},
		{name: "cancel order", say: "please cancel my order", reason: "cancel order", priority: conversation.PriorityNormal,
			reply: "I can't cancel orders myself"},
		{name: "cancelar", say: "quiero cancelar el pedido", reason: "cancel order", priority: conversation.PriorityNormal},
		{name: "change address", say: "I need to change the delivery address", reason: "change address",
			priority: conversation.PriorityNormal, reply: "I can't change delivery addresses myself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The rules hold in a flow as well as in the menu.
			for _, state := range []conversation.FlowState{
				{},
				{Flow: returns.Name, State: returns.StateAskReason, Data: map[string]string{"locale": "en", "order": "1001", "items": "VASE-1"}},
			} {
				d := bot.Decide(state, conversation.BotEvent{Kind: conversation.KindMessage, Text: tt.say, Now: flowtest.Now})
				require.NotNil(t, d.Handoff, tt.say)
				require.Equal(t, tt.reason, d.Handoff.Reason)
				require.Equal(t, tt.priority, d.Handoff.Priority)
				require.Equal(t, "handed_off", d.Next.State)
				require.Equal(t, "1", d.Next.Data["handed_off"])
				require.Len(t, d.Replies, 1)
				require.Contains(t, d.Replies[0].Text, tt.reply)
				require.Equal(t, cmpOr(tt.trigger, tt.say), d.Handoff.Summary.Trigger)
				if state.Flow == returns.Name {
					require.Equal(t, "returns", d.Handoff.Summary.Intent)
					require.Equal(t, "1001", d.Handoff.Summary.Order)
					require.Equal(t, "VASE-1", d.Handoff.Summary.Collected["items"])
					require.Equal(t, "no", d.Handoff.Summary.Collected["verified"])
					require.Equal(t, "returns/ask_reason", d.Handoff.Summary.Collected["step"])
				}
			}
		})
	}
}

func TestNoEscalationForLookalikes(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	for _, say := range []string{"agentic", "my personal account", "I want A Blue vase", "there was a layer of dust", "OK"} {
		d := bot.Decide(conversation.FlowState{Flow: flows.FlowMenu, State: flows.StateMenu},
			conversation.BotEvent{Kind: conversation.KindMessage, Text: say, Now: flowtest.Now})
		require.Nil(t, d.Handoff, say)
	}
}

func TestTappedTitlesAreNotReadAsWords(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	o := flowtest.Order(flowtest.Delivered, func(o *orders.Order) {
		o.Items[0].Title = "Human Race sneakers"
	})
	snap, err := json.Marshal(o)
	require.NoError(t, err)
	d := bot.Decide(conversation.FlowState{Flow: returns.Name, State: returns.StateChooseItems,
		Data: map[string]string{"locale": "en", "order": "1001", "snap": string(snap), "verified": "email"}},
		conversation.BotEvent{Kind: conversation.KindMessage, Text: "Human Race sneakers", Payload: "ITEM:VASE-1", Now: flowtest.Now})
	require.Nil(t, d.Handoff)
	require.Equal(t, returns.StateAskReason, d.Next.State)
}

func TestOutOfHoursHandoffSaysWhenAPersonAnswers(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) {
		c.BusinessHours = flows.BusinessHours{Timezone: "Europe/Madrid", Days: map[string]string{
			"monday": "09:00-18:00", "tuesday": "09:00-18:00", "wednesday": "09:00-18:00",
			"thursday": "09:00-18:00", "friday": "09:00-14:00"}}
	})
	tests := []struct {
		name string
		now  time.Time
		want string
	}{
		{name: "open", now: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC) /* 12:00 in Madrid */},
		{name: "before opening", now: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC), want: "a person will answer today at 09:00"},
		{name: "evening", now: time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC), want: "a person will answer tomorrow at 09:00"},
		{name: "friday afternoon", now: time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC), want: "a person will answer on Monday at 09:00"},
		{name: "weekend", now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), want: "a person will answer tomorrow at 09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := bot.Decide(conversation.FlowState{}, conversation.BotEvent{Kind: conversation.KindMessage, Text: "agent", Now: tt.now})
			require.NotNil(t, d.Handoff)
			text := d.Replies[0].Text
			require.True(t, strings.HasPrefix(text, "Okay, I'm passing you to a person"))
			if tt.want == "" {
				require.NotContains(t, text, "offline")
			} else {
				require.Contains(t, text, "Our team is offline right now; "+tt.want+".")
			}
		})
	}
}

func TestConfiguredTextsReplaceDefaults(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, func(c *flows.Config) {
		c.Texts["en"]["greeting"] = "Welcome to {{store}}, I'm a bot."
	})
	d := bot.Decide(conversation.FlowState{}, conversation.BotEvent{Text: "hi", Now: flowtest.Now})
	require.Equal(t, "Welcome to Acme, I'm a bot.", d.Replies[0].Text)
	d = bot.Decide(d.Next, conversation.BotEvent{Text: "blue", Now: flowtest.Now})
	require.True(t, strings.HasPrefix(d.Replies[0].Text, "Sorry, I didn't catch that"), "other texts keep their defaults")
}

func TestABrokenStateHandsOff(t *testing.T) {
	t.Parallel()
	bot := flowtest.Bot(t, nil)
	d := bot.Decide(conversation.FlowState{Flow: tracking.Name, State: "no_such_state", Data: map[string]string{"order": "1001"}},
		conversation.BotEvent{Kind: conversation.KindMessage, Text: "agent", Now: flowtest.Now})
	require.NotNil(t, d.Handoff)
	require.Equal(t, "bot error", d.Handoff.Reason)
	require.Contains(t, d.Handoff.Summary.Trigger, "tracking/no_such_state")
	require.Equal(t, "menu/handed_off", d.Next.Flow+"/"+d.Next.State)
	require.Contains(t, d.Replies[0].Text, "something went wrong on my side")
}

// TestMachineDiagrams keeps a Mermaid picture of each machine in the repo
// so reviewers see the flows; run with -update after changing a machine.
func TestMachineDiagrams(t *testing.T) {
	t.Parallel()
	for name, m := range flows.Machines() {
		got, err := fsm.VisualizeWithType(m, fsm.MERMAID)
		require.NoError(t, err)
		path := filepath.Join("testdata", name+".mmd")
		if *update {
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./flows -update to create the golden file")
		require.Equal(t, string(want), got, name)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
