// Package understand turns a shopper's message into what the bot reasons
// about: the intents its phrases name (tolerant of case, accents and
// typos), the language it is written in, and the order numbers, e-mail
// addresses, phone numbers and numbered choices it carries. It is pure and
// knows no flow.
package understand

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold maps accented Latin letters to their base letter, so "devolución"
// and "devolucion", "llegó" and "llego" are the same word.
var fold = map[rune]rune{
	'á': 'a', 'à': 'a', 'â': 'a', 'ä': 'a', 'ã': 'a', 'å': 'a',
	'é': 'e', 'è': 'e', 'ê': 'e', 'ë': 'e',
	'í': 'i', 'ì': 'i', 'î': 'i', 'ï': 'i',
	'ó': 'o', 'ò': 'o', 'ô': 'o', 'ö': 'o', 'õ': 'o',
	'ú': 'u', 'ù': 'u', 'û': 'u', 'ü': 'u',
	'ñ': 'n', 'ç': 'c', 'ý': 'y', 'ÿ': 'y',
}

// Normalize lowercases s and folds accents. Apostrophes are dropped, so
// "didn't" and "didnt" are one word.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if f, ok := fold[r]; ok {
			r = f
		}
		switch r {
		case '\'', '’', '`', '´':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Words splits s into normalized words of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Normalize(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// maxTypos is how many edits a word of n letters may have and still match:
// none below five letters, one from five, two from eight.
func maxTypos(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// Similar reports whether a message word matches a phrase word, allowing
// a typo or two in long words; see similar.
func Similar(word, phraseWord string) bool { return similar(word, phraseWord) }

// similar reports whether a message word matches a phrase word, allowing
// maxTypos edits (Damerau-Levenshtein, optimal string alignment). Words
// with digits match only exactly.
func similar(word, phraseWord string) bool {
	if word == phraseWord {
		return true
	}
	n := utf8.RuneCountInString(phraseWord)
	limit := maxTypos(n)
	if limit == 0 || hasDigit(word) {
		return false
	}
	if d := utf8.RuneCountInString(word) - n; d > limit || -d > limit {
		return false
	}
	return distance([]rune(word), []rune(phraseWord)) <= limit
}

func hasDigit(s string) bool {
	for _, r := range s {
		if r >= '0' && r <= '9' {
			return true
		}
	}
	return false
}

// distance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and transpositions of neighbours cost one.
func distance(a, b []rune) int {
	var buf [3][32]int // words are short: no allocation
	prev2, prev, cur := buf[0][:], buf[1][:], buf[2][:]
	if len(b)+1 > len(prev) {
		prev2, prev, cur = make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
