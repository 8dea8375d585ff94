package flows

import (
	"strings"
	"unicode"
)

// words lowercases text and splits it into letter-and-digit words.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// personWords ask for a person anywhere in a message, in any state.
var personWords = map[string]bool{
	"agent": true, "agents": true, "human": true, "person": true, "people": true,
	"representative": true, "humano": true, "persona": true, "agente": true,
}

// asksForPerson reports whether text asks for a person.
func asksForPerson(text string) bool {
	for _, w := range words(text) {
		if personWords[w] {
			return true
		}
	}
	return false
}
