package understand

import (
	"math/bits"
	"slices"
	"unicode/utf8"
)

// Intents the bot knows. A configuration lists phrases for each, per locale.
const (
	// Menu topics.
	IntentTrack  = "track"
	IntentReturn = "return"
	IntentDamage = "damage"
	IntentPerson = "person"

	// Escalations.
	IntentRisk          = "risk"       // chargeback, legal, scam wording
	IntentFrustrated    = "frustrated" // anger wording
	IntentCancelOrder   = "cancel_order"
	IntentChangeAddress = "change_address"

	// Small talk.
	IntentGreeting = "greeting"
	IntentThanks   = "thanks"

	// Answers inside flows.
	IntentNeverArrived         = "never_arrived"
	IntentAll                  = "all"
	IntentReasonWrongSize      = "reason_wrong_size"
	IntentReasonChangedMind    = "reason_changed_mind"
	IntentReasonNotAsDescribed = "reason_not_as_described"
	IntentReasonOther          = "reason_other"
	IntentRefund               = "refund"
	IntentExchange             = "exchange"
	IntentStoreCredit          = "store_credit"
	IntentReplacement          = "replacement"
	IntentNoPackaging          = "no_packaging"
)

// AllIntents lists every intent a configuration may name.
var AllIntents = []string{
	IntentTrack, IntentReturn, IntentDamage, IntentPerson,
	IntentRisk, IntentFrustrated, IntentCancelOrder, IntentChangeAddress,
	IntentGreeting, IntentThanks,
	IntentNeverArrived, IntentAll,
	IntentReasonWrongSize, IntentReasonChangedMind, IntentReasonNotAsDescribed, IntentReasonOther,
	IntentRefund, IntentExchange, IntentStoreCredit, IntentReplacement, IntentNoPackaging,
}

// stopwords are frequent words that tell a language apart, beyond the
// words of the configured phrases.
var stopwords = map[string][]string{
	"en": {"hi", "hello", "hey", "thanks", "thank", "you", "want", "need", "have", "has", "my", "order",
		"where", "is", "the", "it", "of", "to", "for", "with", "but", "when", "how", "still", "yet",
		"and", "was", "this", "that", "please", "number", "package", "parcel", "arrived", "would",
		"like", "can", "could", "what", "your", "are", "not", "did", "didnt", "dont", "im", "got"},
	"es": {"hola", "buenas", "buenos", "dias", "gracias", "quiero", "necesito", "tengo", "mi", "mis",
		"pedido", "donde", "esta", "llego", "que", "el", "la", "los", "las", "del", "por", "favor",
		"un", "una", "es", "con", "para", "pero", "porque", "cuando", "como", "ya", "todavia", "aun",
		"ayuda", "numero", "correo", "paquete", "mio", "puedes", "podrias", "hay", "muy", "tu", "su"},
}

// vocabulary are common words that look like a typo of a phrase word but
// are not one: they match only themselves.
var vocabulary = []string{"personal", "personally", "there", "these", "layer", "layers", "agenda",
	"urgent", "managed", "person", "persona", "personas", "humor", "legally", "tracked"}

type phrase struct {
	intent string
	words  []int // ids of phrase words
}

// Matcher finds intents and the language in messages. Build it once from
// the configured phrases; it is safe for concurrent use.
type Matcher struct {
	phrases []phrase
	// byFirst lists the phrases by the id of their first word.
	byFirst map[int][]int
	// words are the phrase words by id; ids the reverse; byLength the ids
	// of the words of each length in runes.
	words    []string
	bags     []bag
	masks    []uint32
	ids      map[string]int
	byLength map[int][]int
	// literal words match only exactly: every word of the phrases, the
	// stop words and the vocabulary. Typo tolerance is for words the bot
	// does not know.
	literal map[string]bool
	// marker maps a word to the one locale it belongs to.
	marker map[string]string
}

// NewMatcher returns a matcher for phrases: locale → intent → phrases.
func NewMatcher(phrases map[string]map[string][]string) *Matcher {
	m := &Matcher{byFirst: map[int][]int{}, ids: map[string]int{}, byLength: map[int][]int{},
		literal: map[string]bool{}, marker: map[string]string{}}
	locales := map[string][]string{} // word → locales it appears in
	addWord := func(w, locale string) {
		m.literal[w] = true
		if !slices.Contains(locales[w], locale) {
			locales[w] = append(locales[w], locale)
		}
	}
	for _, locale := range sortedKeys(phrases) {
		for _, intent := range sortedKeys(phrases[locale]) {
			for _, p := range phrases[locale][intent] {
				words := Words(p)
				if len(words) == 0 {
					continue
				}
				ids := make([]int, len(words))
				for i, w := range words {
					addWord(w, locale)
					ids[i] = m.id(w)
				}
				m.byFirst[ids[0]] = append(m.byFirst[ids[0]], len(m.phrases))
				m.phrases = append(m.phrases, phrase{intent: intent, words: ids})
			}
		}
		for _, w := range stopwords[locale] {
			addWord(w, locale)
		}
	}
	for _, w := range vocabulary {
		m.literal[w] = true
	}
	for w, ls := range locales {
		if len(ls) == 1 && !hasDigit(w) {
			m.marker[w] = ls[0]
		}
	}
	return m
}

// id returns the id of phrase word w, adding it when new.
func (m *Matcher) id(w string) int {
	if id, ok := m.ids[w]; ok {
		return id
	}
	id := len(m.words)
	m.words = append(m.words, w)
	m.bags = append(m.bags, bagOf(w))
	m.masks = append(m.masks, maskOf(w))
	m.ids[w] = id
	n := utf8.RuneCountInString(w)
	m.byLength[n] = append(m.byLength[n], id)
	return id
}

// matches returns the ids of the phrase words w stands for: itself, or
// the ones it is a typo of when the bot does not know w.
func (m *Matcher) matches(w string) []int {
	if id, ok := m.ids[w]; ok {
		return []int{id}
	}
	if m.literal[w] || hasDigit(w) {
		return nil
	}
	var ids []int
	n := utf8.RuneCountInString(w)
	b, mask := bagOf(w), maskOf(w)
	for l := n - 2; l <= n+2; l++ {
		limit := maxTypos(l)
		if n-l > limit || l-n > limit {
			continue
		}
		for _, id := range m.byLength[l] {
			// An edit changes at most two of the letters a word has, and
			// the letters that differ bound the edits from below: both
			// are much cheaper than the edit distance.
			if bits.OnesCount32(mask^m.masks[id]) <= 2*limit && b.distance(m.bags[id]) <= limit &&
				similar(w, m.words[id]) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// match returns the intents whose phrases occur in words, each with the
// length in words of its longest matching phrase: longer is more specific.
func (m *Matcher) match(words []string) map[string]int {
	at := make([][]int, len(words)) // the phrase words each word stands for
	for i, w := range words {
		at[i] = m.matches(w)
	}
	found := map[string]int{}
	for i, ids := range at {
		for _, id := range ids {
			for _, pi := range m.byFirst[id] {
				p := m.phrases[pi]
				if n := len(p.words); n > found[p.intent] && startsAt(at, i, p.words) {
					found[p.intent] = n
				}
			}
		}
	}
	return found
}

// startsAt reports whether phrase occurs in the message from word i on.
func startsAt(at [][]int, i int, phrase []int) bool {
	if i+len(phrase) > len(at) {
		return false
	}
	for j, id := range phrase {
		if !slices.Contains(at[i+j], id) {
			return false
		}
	}
	return true
}

// locale returns the language most of words belong to and how many do,
// or "" when no language has more marker words than every other.
func (m *Matcher) locale(words []string) (string, int) {
	count := map[string]int{}
	for _, w := range words {
		if l, ok := m.marker[w]; ok {
			count[l]++
		}
	}
	best, bestN, tie := "", 0, false
	for _, l := range sortedKeys(count) {
		switch n := count[l]; {
		case n > bestN:
			best, bestN, tie = l, n, false
		case n == bestN:
			tie = true
		}
	}
	if tie {
		return "", 0
	}
	return best, bestN
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// bag counts a word's letters: a-z, and one slot for anything else.
type bag [27]uint8

func bagOf(w string) bag {
	var b bag
	for _, r := range w {
		i := 26
		if r >= 'a' && r <= 'z' {
			i = int(r - 'a')
		}
		if b[i] < 255 {
			b[i]++
		}
	}
	return b
}

// maskOf has bit i set when the word has letter i (a-z), bit 26 for others.
func maskOf(w string) uint32 {
	var m uint32
	for _, r := range w {
		if r >= 'a' && r <= 'z' {
			m |= 1 << (r - 'a')
		} else {
			m |= 1 << 26
		}
	}
	return m
}

// distance is the bag distance: no edit script is shorter.
func (b bag) distance(o bag) int {
	more, fewer := 0, 0
	for i := range b {
		switch d := int(b[i]) - int(o[i]); {
		case d > 0:
			more += d
		case d < 0:
			fewer -= d
		}
	}
	return max(more, fewer)
}
