package meta

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// SplitText cuts text into parts no longer than max, measured in bytes of
// UTF-8 when byBytes is set (Instagram's limit) and in runes otherwise
// (Messenger's). Text that fits is returned unchanged as the only part.
//
// Longer text is cut at the last whitespace that keeps a part within max;
// the whitespace at a cut is dropped, all other whitespace is kept. A word
// longer than max is cut inside the word, between two characters as a
// reader sees them (grapheme clusters: an emoji joined from several, a
// flag, a letter with its accents stay whole), or, when one such
// character alone is longer than max, between two runes. Parts are
// never empty, so whitespace-only text longer than max yields no parts. A
// part exceeds max only when max is smaller than the rune being placed (max
// below 4 with byBytes): every part holds at least one rune. A max below 1
// returns text unsplit.
func SplitText(text string, max int, byBytes bool) []string {
	size := utf8.RuneCountInString
	if byBytes {
		size = func(s string) int { return len(s) }
	}
	if max < 1 || size(text) <= max {
		return []string{text}
	}

	var parts []string
	rest := text
	for size(rest) > max {
		end := splitPrefixEnd(rest, max, byBytes)
		var part string
		if r, _ := utf8.DecodeRuneInString(rest[end:]); unicode.IsSpace(r) {
			// The prefix ends exactly at a word boundary.
			part = strings.TrimRightFunc(rest[:end], unicode.IsSpace)
			rest = strings.TrimLeftFunc(rest[end:], unicode.IsSpace)
		} else if i := strings.LastIndexFunc(rest[:end], unicode.IsSpace); i >= 0 {
			part = strings.TrimRightFunc(rest[:i], unicode.IsSpace)
			if part == "" {
				// Only whitespace before the word: drop it and look again,
				// so the word is measured from the start of a part.
				rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
				continue
			}
			rest = strings.TrimLeftFunc(rest[i:], unicode.IsSpace)
		} else {
			// One word longer than max: cut it.
			end = graphemeCut(rest, end)
			part, rest = rest[:end], rest[end:]
		}
		if part != "" {
			parts = append(parts, part)
		}
	}
	if rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// splitPrefixEnd returns the byte offset where the longest prefix of s
// within max ends, on a rune boundary and after at least one rune. s is
// longer than max.
func splitPrefixEnd(s string, max int, byBytes bool) int {
	end := 0
	if byBytes {
		end = max
		for end > 0 && !utf8.RuneStart(s[end]) {
			end--
		}
	} else {
		for n := 0; n < max; n++ {
			_, w := utf8.DecodeRuneInString(s[end:])
			end += w
		}
	}
	if end == 0 {
		_, end = utf8.DecodeRuneInString(s)
	}
	return end
}

// graphemeCut moves end, a rune boundary in s, back to the last boundary
// between grapheme clusters at or before it; if the first cluster alone
// ends after end, end stays.
func graphemeCut(s string, end int) int {
	cut, state := 0, -1
	for rest := s; rest != ""; {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if cut+len(cluster) > end {
			break
		}
		cut += len(cluster)
	}
	if cut == 0 {
		return end
	}
	return cut
}
