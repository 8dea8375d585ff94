package flows

import "strings"

// Texts are the words the bot says. Every one can be overridden in the
// configuration (the store's brand voice); {{store}} is replaced by the
// store's name.
type Texts struct {
	Greeting   string `yaml:"greeting"`
	Fallback   string `yaml:"fallback"`
	HandoffAck string `yaml:"handoff_ack"`
	TopicAck   string `yaml:"topic_ack"`
	MenuTrack  string `yaml:"menu_track"`
	MenuReturn string `yaml:"menu_return"`
	MenuDamage string `yaml:"menu_damage"`
	MenuPerson string `yaml:"menu_person"`
}

// DefaultTexts are used for any text the configuration leaves empty.
var DefaultTexts = Texts{
	Greeting: "Hi! I'm the automated assistant of {{store}}. I can help with your order, a return or " +
		"a damaged item, and a person from our team is one message away. What do you need?",
	Fallback: "Sorry, I didn't catch that. Please pick one of the options below, or write \"agent\" " +
		"to talk to a person.",
	HandoffAck: "Okay, I'm passing you to a person from our team. They will see this whole " +
		"conversation, so you won't need to repeat anything.",
	TopicAck: "Thanks! A person from our team will take it from here and will see this whole " +
		"conversation. You'll get the answer right in this chat.",
	MenuTrack:  "Track my order",
	MenuReturn: "Return an item",
	MenuDamage: "Damaged item",
	MenuPerson: "Talk to a person",
}

// withDefaults fills empty texts from DefaultTexts and the store's name.
func (t Texts) withDefaults(store string) Texts {
	fill := func(s *string, def string) {
		if *s == "" {
			*s = def
		}
		*s = strings.ReplaceAll(*s, "{{store}}", store)
	}
	fill(&t.Greeting, DefaultTexts.Greeting)
	fill(&t.Fallback, DefaultTexts.Fallback)
	fill(&t.HandoffAck, DefaultTexts.HandoffAck)
	fill(&t.TopicAck, DefaultTexts.TopicAck)
	fill(&t.MenuTrack, DefaultTexts.MenuTrack)
	fill(&t.MenuReturn, DefaultTexts.MenuReturn)
	fill(&t.MenuDamage, DefaultTexts.MenuDamage)
	fill(&t.MenuPerson, DefaultTexts.MenuPerson)
	return t
}
