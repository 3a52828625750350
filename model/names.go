package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// snakeCase turns a Go name into modjo's lookup name: ID → id, ISBN13 → isbn13,
// HTTPServer → http_server, PublishedAt → published_at, Field2Name → field2_name.
// An underscore goes before an upper-case letter that follows a lower-case letter or a
// digit, or that starts a word after an acronym (the next letter is lower case, unless it
// is the plural s of the acronym: URLs → urls, IDsByName → ids_by_name).
func snakeCase(s string) string {
	runes := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range runes {
		if unicode.IsUpper(r) {
			if i > 0 {
				prev := runes[i-1]
				nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1]) && !pluralS(runes, i+1)
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
					if prev != '_' {
						b.WriteByte('_')
					}
				}
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pluralS reports an 's' that pluralises the acronym before it (URLs, IDs): a lone
// lower-case s ending the name or followed by an upper-case letter or digit.
func pluralS(runes []rune, i int) bool {
	return runes[i] == 's' && (i+1 == len(runes) || !unicode.IsLower(runes[i+1]))
}

// verboseName turns a lookup name or type name into words: published_at → "published
// at", BookReview → "book review".
func verboseName(s string) string {
	return strings.ReplaceAll(snakeCase(s), "_", " ")
}

// validLookupName reports whether s can be a lookup name: it must not contain "__"
// (the lookup separator) or '.', and must not be "pk".
func validLookupName(s string) bool {
	return s != "" && s != "pk" && !strings.Contains(s, "__") && !strings.Contains(s, ".") && utf8.ValidString(s)
}

// validColumn reports whether s can be a stored key: not empty, no '.', no NUL, not
// starting with '$', valid UTF-8.
func validColumn(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".\x00") && s[0] != '$' && utf8.ValidString(s)
}
