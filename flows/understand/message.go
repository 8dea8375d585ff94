package understand

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Message is what the bot understood of one message.
type Message struct {
	// Text is the message as written, trimmed.
	Text string
	// Words are its normalized words.
	Words []string
	// Intents maps each intent the message names to the length in words
	// of its longest matching phrase.
	Intents map[string]int
	// Locale is the language the message is written in, or "" when it
	// does not tell (a number, an e-mail address).
	Locale string
	// LocaleWords is how many words told the language.
	LocaleWords int
	// Order is an order number the shopper named as one: "#1001",
	// "order 1001", "pedido 1001", "my order number is 1001".
	Order string
	// Numbers are the other numbers of three or more digits, in order.
	Numbers []string
	// Email is the first e-mail address, lowercased.
	Email string
	// Phone is the digits of a number written as a phone number: with a
	// leading "+" or in groups ("600 111 222").
	Phone string
	// Choices are the small numbers of a message made only of them:
	// "2", "2.", "1 and 3", "1, 2".
	Choices []int
	// Shouting is true for three or more words mostly in capitals.
	Shouting bool
	// Exclaiming is true for "!!!" and longer runs.
	Exclaiming bool
}

// Has reports whether the message names intent.
func (m Message) Has(intent string) bool { return m.Intents[intent] > 0 }

// Best returns the one of intents the message names most specifically
// (longest phrase), earlier ones winning ties, or "".
func (m Message) Best(intents ...string) string {
	best, n := "", 0
	for _, in := range intents {
		if m.Intents[in] > n {
			best, n = in, m.Intents[in]
		}
	}
	return best
}

// OrderNumber returns the order the message names, explicitly or, when
// bare is true, as its first bare number.
func (m Message) OrderNumber(bare bool) string {
	if m.Order != "" || !bare || len(m.Numbers) == 0 {
		return m.Order
	}
	return m.Numbers[0]
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}`)
	// A phone number: "+" and digits, or digits in three or more groups.
	phoneRe  = regexp.MustCompile(`\+\d[\d\s().\-]{5,}\d|\b\d{2,4}(?:[ .\-]\d{2,4}){2,}\b`)
	choiceRe = regexp.MustCompile(`^\d{1,2}[.)]?(?:\s*(?:,|&|\band\b|\by\b|\s)\s*\d{1,2}[.)]?)*$`)
	smallRe  = regexp.MustCompile(`\d{1,2}`)
)

// orderWords introduce an order number; orderFiller may stand between
// them and the number ("order number is 1001", "número de pedido: 1001").
var (
	orderWords  = map[string]bool{"order": true, "orders": true, "orden": true, "pedido": true, "compra": true}
	orderFiller = map[string]bool{"number": true, "no": true, "num": true, "nr": true, "nro": true, "n": true,
		"nº": true, "id": true, "is": true, "es": true, "was": true, "era": true, "de": true, "del": true,
		"mi": true, "my": true, "the": true, "el": true, "numero": true}
)

// Parse reads text.
func (m *Matcher) Parse(text string) Message {
	msg := Message{Text: strings.TrimSpace(text)}
	msg.Words = Words(msg.Text)
	msg.Intents = m.match(msg.Words)
	msg.Locale, msg.LocaleWords = m.locale(msg.Words)
	msg.Choices = choices(msg.Text)
	msg.Shouting = shouting(msg.Text)
	msg.Exclaiming = strings.Contains(msg.Text, "!!!")

	rest := msg.Text
	if e := emailRe.FindString(rest); e != "" {
		msg.Email = strings.ToLower(e)
	}
	rest = emailRe.ReplaceAllString(rest, " ")
	for _, p := range phoneRe.FindAllString(rest, -1) {
		if d := Digits(p); len(d) >= 7 && len(d) <= 15 && (strings.HasPrefix(p, "+") || len(d) >= 9) {
			msg.Phone = d
			rest = strings.Replace(rest, p, " ", 1)
			break
		}
	}
	msg.Order, msg.Numbers = orderNumbers(Normalize(rest))
	return msg
}

// choices reads a message made only of small numbers.
func choices(text string) []int {
	if !choiceRe.MatchString(strings.ToLower(text)) {
		return nil
	}
	var ns []int
	for _, s := range smallRe.FindAllString(text, -1) {
		n, _ := strconv.Atoi(s)
		ns = append(ns, n)
	}
	return ns
}

// orderNumbers finds an order number named as one, and the bare numbers.
func orderNumbers(s string) (order string, bare []string) {
	type token struct {
		text string
		hash bool // written right after "#"
	}
	var tokens []token
	start := -1
	for i, r := range s + " " {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			before := strings.TrimRight(s[:start], " ")
			tokens = append(tokens, token{text: s[start:i], hash: strings.HasSuffix(before, "#")})
			start = -1
		}
	}
	for i, tok := range tokens {
		if !isNumber(tok.text) {
			continue
		}
		explicit := tok.hash
		for j := i - 1; j >= 0 && j >= i-5 && !explicit; j-- {
			if orderWords[tokens[j].text] {
				explicit = true
			} else if !orderFiller[tokens[j].text] {
				break
			}
		}
		switch {
		case explicit && order == "":
			order = tok.text
		case !explicit:
			bare = append(bare, tok.text)
		}
	}
	return order, bare
}

// isNumber reports whether s is 3 to 12 digits.
func isNumber(s string) bool {
	if len(s) < 3 || len(s) > 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Digits returns the digits of s.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// shouting reports whether text has three or more words and most of its
// letters are capitals.
func shouting(text string) bool {
	words, upper, letters := 0, 0, 0
	for _, w := range strings.Fields(text) {
		n := 0
		for _, r := range w {
			if unicode.IsLetter(r) {
				n++
				letters++
				if unicode.IsUpper(r) {
					upper++
				}
			}
		}
		if n > 0 {
			words++
		}
	}
	return words >= 3 && letters >= 8 && upper*10 >= letters*7
}
