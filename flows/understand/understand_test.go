package understand_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/flows"
	"github.com/frontdesk/frontdesk/flows/understand"
)

// matcher understands the phrases Frontdesk ships.
func matcher() *understand.Matcher {
	return understand.NewMatcher(flows.DefaultConfig().Intents)
}

func TestIntents(t *testing.T) {
	t.Parallel()
	m := matcher()
	tests := []struct {
		text string
		want string // the intent named, or "" for none of want/notWant
		not  string // an intent that must not be named
	}{
		// Plain, case and accents.
		{text: "Where is my order?", want: "track"},
		{text: "I want to return something", want: "return"},
		{text: "my vase arrived BROKEN", want: "damage"},
		{text: "DEVOLUCIÓN por favor", want: "return"},
		{text: "devolucion por favor", want: "return"},
		{text: "¿Dónde está mi pedido?", want: "track"},
		{text: "donde esta mi pedido", want: "track"},
		{text: "llegó roto", want: "damage"},
		// Typos: one edit from five letters, two from eight.
		{text: "I want to retrun it", want: "return"},
		{text: "trakc my order", want: "track"},
		{text: "it came damgaed", want: "damage"},
		{text: "can I speak to an agnet", want: "person"},
		{text: "a representitive please", want: "person"},
		{text: "whre is my ordr", want: "track"},
		{text: "my packge was damagged", want: "damage"},
		// Too short for typos, or a different real word.
		{text: "agentic workflows", not: "person"},
		{text: "my personal email", not: "person"},
		{text: "a layer of bubble wrap", not: "risk"},
		{text: "hi there, message 12", not: "track"},
		{text: "retn", not: "return"},
		// Requests for a person, in both languages.
		{text: "real person please", want: "person"},
		{text: "I want a HUMAN", want: "person"},
		{text: "quiero hablar con un humano", want: "person"},
		{text: "una persona por favor", want: "person"},
		{text: "pásame con un agente", want: "person"},
		// Escalation wording.
		{text: "I'll file a chargeback", want: "risk"},
		{text: "you are scammers", want: "risk"},
		{text: "I will report you", want: "risk"},
		{text: "voy a poner una denuncia", want: "risk"},
		{text: "this is ridiculous", want: "frustrated"},
		{text: "please cancel my order", want: "cancel_order"},
		{text: "quiero cancelar", want: "cancel_order"},
		{text: "can I change the delivery address", want: "change_address"},
		{text: "it says delivered but it never arrived", want: "never_arrived"},
		{text: "no me llegó", want: "never_arrived"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			msg := m.Parse(tt.text)
			if tt.want != "" {
				require.True(t, msg.Has(tt.want), "intents: %v", msg.Intents)
			}
			if tt.not != "" {
				require.False(t, msg.Has(tt.not), "intents: %v", msg.Intents)
			}
		})
	}
}

func TestBestPrefersTheLongestPhrase(t *testing.T) {
	t.Parallel()
	msg := matcher().Parse("my order arrived damaged, can I return it?")
	require.Equal(t, "damage", msg.Best("damage", "return", "track"), "a tie goes to the first")
	msg = matcher().Parse("where is my order")
	require.Equal(t, "track", msg.Best("damage", "return", "track"))
	require.Empty(t, matcher().Parse("blue").Best("damage", "return", "track"))
}

func TestLocale(t *testing.T) {
	t.Parallel()
	m := matcher()
	tests := []struct {
		text  string
		want  string
		words int
	}{
		{text: "hola", want: "es", words: 1},
		{text: "Hola, quiero devolver mi pedido", want: "es"},
		{text: "hello, I want to return my order", want: "en"},
		{text: "el jarrón llegó roto", want: "es"},
		{text: "1001", want: ""},
		{text: "ana@example.com", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			msg := m.Parse(tt.text)
			require.Equal(t, tt.want, msg.Locale)
			if tt.words > 0 {
				require.Equal(t, tt.words, msg.LocaleWords)
			}
		})
	}
}

func TestExtraction(t *testing.T) {
	t.Parallel()
	m := matcher()
	tests := []struct {
		text    string
		order   string
		numbers []string
		email   string
		phone   string
		choices []int
	}{
		{text: "#1001", order: "1001"},
		{text: "where is # 1001?", order: "1001"},
		{text: "order 1001", order: "1001"},
		{text: "Order1001", numbers: nil},
		{text: "my order number is 1001", order: "1001"},
		{text: "order no. 1001 please", order: "1001"},
		{text: "pedido 1001", order: "1001"},
		{text: "número de pedido: 1001", order: "1001"},
		{text: "mi pedido nº 1001", order: "1001"},
		{text: "1001", numbers: []string{"1001"}},
		{text: "it's 1001 I think", numbers: []string{"1001"}},
		{text: "order 1001 and 1002", order: "1001", numbers: []string{"1002"}},
		{text: "my email is ANA@Example.com", email: "ana@example.com"},
		{text: "ana.garcia+shop@mail.example.co.uk order 1001", email: "ana.garcia+shop@mail.example.co.uk", order: "1001"},
		{text: "call me on +34 600 111 222", phone: "34600111222"},
		{text: "600-111-222", phone: "600111222"},
		{text: "ends in 1222", numbers: []string{"1222"}},
		{text: "2", choices: []int{2}},
		{text: "2.", choices: []int{2}},
		{text: "1 and 3", choices: []int{1, 3}},
		{text: "1, 2", choices: []int{1, 2}},
		{text: "1 y 2", choices: []int{1, 2}},
		{text: "message 12"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			msg := m.Parse(tt.text)
			require.Equal(t, tt.order, msg.Order, "order")
			require.Equal(t, tt.numbers, msg.Numbers, "numbers")
			require.Equal(t, tt.email, msg.Email, "email")
			require.Equal(t, tt.phone, msg.Phone, "phone")
			require.Equal(t, tt.choices, msg.Choices, "choices")
		})
	}
}

func TestOrderNumberBare(t *testing.T) {
	t.Parallel()
	msg := matcher().Parse("it's 1001")
	require.Empty(t, msg.OrderNumber(false))
	require.Equal(t, "1001", msg.OrderNumber(true))
}

func TestShoutingAndExclaiming(t *testing.T) {
	t.Parallel()
	m := matcher()
	tests := []struct {
		text      string
		shout     bool
		exclaim   bool
		nameTests string
	}{
		{text: "WHERE IS MY ORDER", shout: true},
		{text: "WHERE IS MY ORDER #1001 ??", shout: true},
		{text: "I want a HUMAN"},
		{text: "OK"},
		{text: "HELP ME"},
		{text: "DHL UPS"},
		{text: "where is my order!!!", exclaim: true},
		{text: "thanks!"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			msg := m.Parse(tt.text)
			require.Equal(t, tt.shout, msg.Shouting, "shouting")
			require.Equal(t, tt.exclaim, msg.Exclaiming, "exclaiming")
		})
	}
}

func TestSimilar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		word, phrase string
		want         bool
	}{
		{"return", "return", true},
		{"retrun", "return", true},  // transposition
		{"returns", "return", true}, // insertion
		{"retur", "return", true},   // deletion
		{"rteurn", "return", true},
		{"rtreun", "return", false}, // two edits in six letters
		{"agnet", "agent", true},
		{"agentic", "agent", false},
		{"trak", "track", true},
		{"trk", "track", false},
		{"the", "thx", false},                     // short words match only exactly
		{"representitve", "representative", true}, // two edits in fourteen
		{"1001", "1002", false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, understand.Similar(tt.word, tt.phrase), "%s ~ %s", tt.word, tt.phrase)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	require.Equal(t, "devolucion del cafe, didnt arrive", understand.Normalize("Devolución del Café, didn't arrive"))
	require.Equal(t, []string{"no", "me", "llego", "el", "pedido", "1001"}, understand.Words("¡No me llegó el pedido #1001!"))
}
