package conformance

import (
	"strings"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/expr"
)

// notCovered are names the engine registers only to refuse them clearly; there is nothing
// to check beyond the error, which the packages' own tests do.
var notCovered = map[string]string{
	"$function":          "no JavaScript",
	"$accumulator":       "no JavaScript",
	"$search":            "Atlas Search (later issue)",
	"$searchMeta":        "Atlas Search (later issue)",
	"$vectorSearch":      "Atlas Vector Search (later issue)",
	"$listSearchIndexes": "Atlas Search (later issue)",
	"$geoNear":           "geospatial (later issue)",
}

// TestEveryOperatorHasACase requires at least one conformance case mentioning every
// registered stage, expression operator and accumulator, so nothing the engine claims to
// support goes untested against MongoDB's documented behaviour.
func TestEveryOperatorHasACase(t *testing.T) {
	var all strings.Builder
	for _, f := range Files() {
		b, err := files.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	text := all.String()
	names := append(append(agg.Stages(), expr.Operators()...), expr.Accumulators()...)
	for _, n := range names {
		if _, skip := notCovered[n]; skip {
			continue
		}
		if !strings.Contains(text, `"`+n+`"`) {
			t.Errorf("no conformance case uses %s", n)
		}
	}
}
