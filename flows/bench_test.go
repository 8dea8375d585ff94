package flows_test

import (
	"testing"

	"github.com/frontdesk/frontdesk/conversation"
	"github.com/frontdesk/frontdesk/flows/flowtest"
)

func BenchmarkDecideMisunderstood(b *testing.B) {
	bot := flowtest.Bot(b, nil)
	state := conversation.FlowState{Flow: "menu", State: "menu", Data: map[string]string{"locale": "en"}}
	ev := conversation.BotEvent{Kind: conversation.KindMessage, Text: "hi there, message 12345 about something completely unrelated", Now: flowtest.Now}
	b.ReportAllocs()
	for b.Loop() {
		bot.Decide(state, ev)
	}
}
