package value

import (
	"strings"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
)

func TestSplitFieldPath(t *testing.T) {
	parts, err := SplitFieldPath("a.b.0.$id")
	if err != nil || strings.Join(parts, "|") != "a|b|0|$id" {
		t.Fatalf("got %v, %v", parts, err)
	}
	for path, code := range map[string]int32{
		"":                              40352,
		"a.":                            40353,
		"a..b":                          15998,
		".a":                            15998,
		"$a":                            16410,
		"a.$":                           16410,
		"a.b\x00":                       16411,
		strings.Repeat("a.", 200) + "a": mongoerr.Overflow,
	} {
		_, err := SplitFieldPath(path)
		if !mongoerr.HasCode(err, code) {
			t.Errorf("%q: want code %d, got %v", path, code, err)
		}
	}
	if _, err := SplitFieldPath(strings.Repeat("a.", 199) + "a"); err != nil {
		t.Errorf("200 components: %v", err)
	}
}
