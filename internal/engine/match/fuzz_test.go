package match

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzCompile checks that no filter, however malformed, makes Compile or Match panic. The
// input is a BSON filter document; it is matched against a few documents and against itself.
func FuzzCompile(f *testing.F) {
	cases, err := conformance.Load("query.json")
	if err != nil {
		f.Fatal(err)
	}
	var docs []bson.D
	for _, c := range cases {
		if b, err := value.Encode(c.Filter); err == nil {
			f.Add(b)
		}
		docs = append(docs, c.Docs...)
		if len(docs) > 64 {
			docs = docs[:64]
		}
	}
	env := &expr.Env{Vars: map[string]any{"v": int32(1)}}
	f.Fuzz(func(t *testing.T, data []byte) {
		filter, err := value.Decode(data)
		if err != nil {
			return
		}
		if m, err := Compile(filter, &Options{Vars: []string{"v"}}); err == nil {
			for _, d := range docs {
				_, _ = m.Match(d, env)
				_, _, _ = m.MatchPosition(d, env)
			}
			_, _ = m.Match(filter, env)
		}
		for _, e := range filter {
			if em, err := CompileElement(e.Value, nil); err == nil {
				for _, x := range filter {
					_, _ = em.MatchValue(x.Value, env)
				}
			}
		}
	})
}
