package meta_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/channels/meta"
)

func TestSplitText(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		text    string
		max     int
		byBytes bool
		want    []string
	}{
		{name: "fits", text: "hello world", max: 11, want: []string{"hello world"}},
		{name: "fits unchanged with outer spaces", text: " hi \n", max: 10, want: []string{" hi \n"}},
		{name: "empty", text: "", max: 5, want: []string{""}},
		{name: "split at last space", text: "hello big world", max: 10, want: []string{"hello big", "world"}},
		{name: "cut lands on a space", text: "hello world", max: 5, want: []string{"hello", "world"}},
		{name: "whitespace run at cut dropped", text: "one two \n\n three", max: 8, want: []string{"one two", "three"}},
		{name: "inner newlines kept", text: "a\nb c\nd e", max: 5, want: []string{"a\nb c", "d e"}},
		{name: "long word hard split", text: "abcdefghij", max: 4, want: []string{"abcd", "efgh", "ij"}},
		{name: "long word after short one", text: "hi abcdefghij", max: 4, want: []string{"hi", "abcd", "efgh", "ij"}},
		{name: "leading spaces before long word", text: "   abcdefgh", max: 4, want: []string{"abcd", "efgh"}},
		{name: "runes counted not bytes", text: "ééé ééé", max: 3, want: []string{"ééé", "ééé"}},
		{name: "runes fit although bytes do not", text: "héllo wörld", max: 11, want: []string{"héllo wörld"}},
		{name: "bytes: multibyte word split on rune boundary", text: "ééééé", max: 5, byBytes: true, want: []string{"éé", "éé", "é"}},
		{name: "bytes: split at space", text: "héllo wörld", max: 8, byBytes: true, want: []string{"héllo", "wörld"}},
		{name: "bytes: emoji never broken", text: "😀😀😀", max: 5, byBytes: true, want: []string{"😀", "😀", "😀"}},
		{name: "bytes: max below one rune still progresses", text: "😀😀", max: 2, byBytes: true, want: []string{"😀", "😀"}},
		{name: "bytes: CJK without spaces", text: "日本語のテキスト", max: 9, byBytes: true, want: []string{"日本語", "のテキ", "スト"}},
		{name: "unicode space separates", text: "ab\u00a0cd", max: 3, want: []string{"ab", "cd"}},
		// 👨‍👩‍👧‍👦 is 7 runes (4 people, 3 joiners) and 25 bytes; 🇫🇷 2 runes, 8 bytes.
		{name: "joined emoji stay whole", text: strings.Repeat("👨‍👩‍👧‍👦", 3), max: 10,
			want: []string{"👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦", "👨‍👩‍👧‍👦"}},
		{name: "flags stay whole", text: "x🇫🇷🇫🇷", max: 4, want: []string{"x🇫🇷", "🇫🇷"}},
		{name: "bytes: flags stay whole", text: "🇫🇷🇫🇷🇫🇷", max: 20, byBytes: true, want: []string{"🇫🇷🇫🇷", "🇫🇷"}},
		{name: "accent stays on its letter", text: "ne\u0301e\u0301", max: 2, want: []string{"n", "e\u0301", "e\u0301"}},
		{name: "a character longer than max is cut between runes", text: "👨‍👩‍👧‍👦", max: 4,
			want: []string{"👨\u200d👩\u200d", "👧\u200d👦"}},
		{name: "whitespace only and too long", text: "      ", max: 2, want: nil},
		{name: "trailing whitespace beyond max", text: "abc      ", max: 4, want: []string{"abc"}},
		{name: "max below one returns text", text: "abc", max: 0, want: []string{"abc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, meta.SplitText(tt.text, tt.max, tt.byBytes))
		})
	}
}

func TestSplitTextMessengerLimit(t *testing.T) {
	t.Parallel()

	words := strings.Repeat("lorem ipsum dolor sit amet ", 200) // 5400 runes
	parts := meta.SplitText(words, 2000, false)
	require.Len(t, parts, 3)
	for _, p := range parts {
		require.LessOrEqual(t, utf8.RuneCountInString(p), 2000)
	}
	require.Equal(t, strings.Fields(words), strings.Fields(strings.Join(parts, " ")))
}

func FuzzSplitText(f *testing.F) {
	f.Add("hello big world", 10, false)
	f.Add("ééééé ü", 5, true)
	f.Add("😀😀😀 a", 5, true)
	f.Add("   abcdefgh  ", 4, false)
	f.Add("a\nb c\nd e", 5, false)
	f.Fuzz(func(t *testing.T, text string, max int, byBytes bool) {
		if !utf8.ValidString(text) || max < 4 || max > 1<<16 {
			t.Skip()
		}
		size := utf8.RuneCountInString
		if byBytes {
			size = func(s string) int { return len(s) }
		}
		parts := meta.SplitText(text, max, byBytes)
		if size(text) <= max {
			require.Equal(t, []string{text}, parts)
			return
		}
		for _, p := range parts {
			require.NotEmpty(t, p)
			require.LessOrEqual(t, size(p), max)
			require.True(t, utf8.ValidString(p), "part %q is not valid UTF-8", p)
		}
		// Only whitespace is dropped, and only at cuts.
		noSpace := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, s)
		}
		require.Equal(t, noSpace(text), noSpace(strings.Join(parts, "")))
	})
}
