package pcre

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzTranslate checks that no pattern or option string makes translation or matching
// panic, and that every pattern Translate accepts compiles with Go's regexp.
func FuzzTranslate(f *testing.F) {
	for _, seed := range []string{
		`a$`, `(?x) a # b`, `[\s\S\h\H\v\V\p{Lu}]`, `(?i)[^\p{Lu}x-z]`, `\Q.*\E`, `(?<n>a)\k<n>`,
		`a{2,3}?`, `\x{263A}\o{101}\101\0\cA`, `(?^i:a)(?n)(b)`, `[[:alpha:]-]`, `b$\n`, `(?m)^$`,
		`(?(1)a|b)`, `(*pla:a)b`, `\N{U+41}\R\X`, "[\\Qa]\\E]", `(?xx)[ a ]`, `\p{^Greek}`,
		`(b)$`, `b$()`, `(b$|c)`, `x*$`, `\Z`, `(?:b$)?`, `b$\n?`, `(b$)+`, `[^a]$`,
	} {
		for _, flags := range []string{"", "i", "mx", "s"} {
			f.Add(seed, flags, "a\nb\n")
			f.Add(seed, flags, "b\n")
		}
	}
	f.Fuzz(func(t *testing.T, pattern, flags, subject string) {
		src, err := Translate(pattern, flags)
		if err != nil {
			switch err.(type) {
			case *SyntaxError, *UnsupportedError, *FlagError:
			default:
				t.Fatalf("%q /%s: unexpected error type %T: %v", pattern, flags, err, err)
			}
			return
		}
		if _, err := regexp.Compile(src); err != nil {
			t.Fatalf("%q /%s translated to %q, which Go rejects: %v", pattern, flags, src, err)
		}
		re, err := Compile(pattern, flags)
		if err != nil {
			t.Fatalf("%q /%s: Translate accepted it but Compile failed: %v", pattern, flags, err)
		}
		// Where the NUL mirror applies, it must agree with the variant chosen for the
		// subject: the approaches are independent.
		mirror := re.dollar && !re.lineAnchor && endsWithNewline(subject) && !strings.Contains(subject, "\x00")
		matched := re.MatchString(subject)
		if ok, err := re.Match(subject); err == nil && ok != matched {
			t.Fatalf("%q /%s on %q: MatchString %v but Match %v", pattern, flags, subject, matched, ok)
		}
		for pos := 0; pos <= len(subject); pos++ {
			loc, err := re.FindSubmatchIndex(subject, pos)
			if err != nil {
				continue
			}
			if mirror {
				other, err := re.search(dollarMirror, mirrorSubject(subject), pos)
				if err != nil || !slices.Equal(loc, other) {
					t.Fatalf("%q /%s on %q from %d: %v but the NUL mirror gives %v (%v)", pattern, flags, subject, pos, loc, other, err)
				}
			}
			if loc != nil {
				if len(loc) != 2*(re.NumSubexp()+1) || loc[0] < pos || loc[1] > len(subject) || loc[0] > loc[1] {
					t.Fatalf("%q /%s on %q from %d: bad indexes %v", pattern, flags, subject, pos, loc)
				}
			}
			if pos == 0 && (loc != nil) != matched && !strings.Contains(subject, "\x00") {
				t.Fatalf("%q /%s on %q: MatchString %v but FindSubmatchIndex %v", pattern, flags, subject, matched, loc)
			}
		}
	})
}
