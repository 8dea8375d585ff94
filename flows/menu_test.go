package flows

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/looplab/fsm"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/conversation"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMenuBotTranscript(t *testing.T) {
	t.Parallel()
	bot := NewBot("Acme", Texts{})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name        string
		state       string
		text        string
		payload     string
		wantState   string
		wantReply   string
		wantMenu    bool
		wantHandoff string
		wantPrio    int
	}{
		{name: "first contact is greeted as automated", state: "", text: "hello",
			wantState: StateMenu, wantReply: "Hi! I'm the automated assistant of Acme.", wantMenu: true},
		{name: "unknown text shows the menu again", state: StateMenu, text: "blue",
			wantState: StateMenu, wantReply: "Sorry, I didn't catch that.", wantMenu: true},
		{name: "agent anywhere hands off", state: StateMenu, text: "can I talk to an AGENT please",
			wantState: StateHandedOff, wantReply: "Okay, I'm passing you to a person", wantHandoff: "asked for a person", wantPrio: 1},
		{name: "real person on first contact hands off", state: "", text: "real person",
			wantState: StateHandedOff, wantReply: "Okay, I'm passing you", wantHandoff: "asked for a person", wantPrio: 1},
		{name: "spanish humano hands off", state: StateMenu, text: "quiero un humano",
			wantState: StateHandedOff, wantReply: "Okay, I'm passing you", wantHandoff: "asked for a person", wantPrio: 1},
		{name: "menu button for a person", state: StateMenu, payload: PayloadPerson,
			wantState: StateHandedOff, wantReply: "Okay, I'm passing you", wantHandoff: "asked for a person", wantPrio: 1},
		{name: "tracking button hands off the topic", state: StateMenu, payload: PayloadTrack,
			wantState: StateHandedOff, wantReply: "Thanks! A person from our team", wantHandoff: "order tracking"},
		{name: "free text about a broken item", state: "", text: "my vase arrived broken",
			wantState: StateHandedOff, wantReply: "Thanks!", wantHandoff: "damaged item"},
		{name: "agent word inside another word does not count", state: StateMenu, text: "agentic",
			wantState: StateMenu, wantReply: "Sorry", wantMenu: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := bot.Decide(conversation.FlowState{Flow: FlowMenu, State: tt.state},
				conversation.BotEvent{Kind: conversation.KindMessage, Text: tt.text, Payload: tt.payload, Now: now})
			require.Equal(t, FlowMenu, d.Next.Flow)
			require.Equal(t, tt.wantState, d.Next.State)
			require.Len(t, d.Replies, 1)
			require.Contains(t, d.Replies[0].Text, tt.wantReply)
			if tt.wantMenu {
				require.Len(t, d.Replies[0].QuickReplies, 4)
				require.Equal(t, PayloadPerson, d.Replies[0].QuickReplies[3].Payload)
			} else {
				require.Empty(t, d.Replies[0].QuickReplies)
			}
			if tt.wantHandoff == "" {
				require.Nil(t, d.Handoff)
			} else {
				require.NotNil(t, d.Handoff)
				require.Equal(t, tt.wantHandoff, d.Handoff.Reason)
				require.Equal(t, tt.wantPrio, d.Handoff.Priority)
			}
		})
	}
}

func TestEveryMenuStateAcceptsHandoff(t *testing.T) {
	t.Parallel()
	bot := NewBot("Acme", Texts{})
	for _, state := range []string{StateNew, StateMenu, StateHandedOff} {
		d := bot.Decide(conversation.FlowState{Flow: FlowMenu, State: state},
			conversation.BotEvent{Kind: conversation.KindMessage, Text: "person"})
		require.NotNil(t, d.Handoff, "state %s", state)
		require.Equal(t, StateHandedOff, d.Next.State)
	}
}

func TestConfiguredTextsReplaceDefaults(t *testing.T) {
	t.Parallel()
	bot := NewBot("Acme", Texts{Greeting: "Welcome to {{store}}, I'm a bot."})
	d := bot.Decide(conversation.FlowState{}, conversation.BotEvent{Text: "hi"})
	require.Equal(t, "Welcome to Acme, I'm a bot.", d.Replies[0].Text)
}

// TestMenuMachineDiagram keeps a Mermaid picture of the machine in the repo
// so reviewers see the flow; run with -update after changing the machine.
func TestMenuMachineDiagram(t *testing.T) {
	t.Parallel()
	got, err := fsm.VisualizeWithType(NewMenuMachine(""), fsm.MERMAID)
	require.NoError(t, err)
	path := filepath.Join("testdata", "menu.mmd")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./flows -update to create the golden file")
	require.Equal(t, string(want), got)
}
